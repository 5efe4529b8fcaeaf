/*
 * problems: a list of problems found in input files, each with its
 * file:line:col and a one-line message, for validators that report every
 * problem rather than stop at the first (knowledge files, .env).  Pure.
 * The list owns its strings; free with problems_free().
 */
#ifndef PROBLEMS_H
#define PROBLEMS_H

#include <stddef.h>

struct problem {
	char *file;
	unsigned line, col;
	char *msg;
};

struct problems {
	struct problem *v;
	size_t n, cap;
};

void problems_add(struct problems *pr, const char *file, unsigned line, unsigned col,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sort by file, line, column (stable for equal keys). */
void problems_sort(struct problems *pr);
void problems_free(struct problems *pr);

#endif
