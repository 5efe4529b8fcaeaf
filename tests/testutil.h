/*
 * testutil: helpers shared by the cmocka tests: build a knowledge version
 * from inline file contents, answer a question, find a problem message.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "answer.h"
#include "knowledge.h"

struct tfile {
	const char *rel;
	const char *data;
};

static inline struct knowledge *
build_kb(struct text_ctx *t, const struct tfile *files, size_t n, struct problems *pr)
{
	struct kb_file *f = calloc(n ? n : 1, sizeof *f);
	for (size_t i = 0; i < n; i++) {
		f[i].rel = (char *)(uintptr_t)files[i].rel;
		f[i].path = (char *)(uintptr_t)files[i].rel;
		f[i].data = (char *)(uintptr_t)files[i].data;
		f[i].len = strlen(files[i].data);
	}
	struct knowledge *k = knowledge_build(t, f, n, NULL, pr);
	free(f);
	return k;
}

/* Index of the first problem whose message contains needle, or -1. */
static inline int
find_problem(const struct problems *pr, const char *needle)
{
	for (size_t i = 0; i < pr->n; i++)
		if (strstr(pr->v[i].msg, needle))
			return (int)i;
	return -1;
}

static inline void
dump_problems(const struct problems *pr)
{
	for (size_t i = 0; i < pr->n; i++)
		fprintf(stderr, "  problem: %s:%u:%u: %s\n", pr->v[i].file, pr->v[i].line,
			pr->v[i].col, pr->v[i].msg);
}

#endif
