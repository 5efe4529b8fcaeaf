/*
 * problems: the list of file:line:col problems (see problems.h).
 */
#include "problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

void
problems_add(struct problems *pr, const char *file, unsigned line, unsigned col, const char *fmt,
	     ...)
{
	pr->v = xgrow(pr->v, &pr->cap, pr->n + 1, sizeof *pr->v);
	struct problem *p = &pr->v[pr->n++];
	p->file = xstrdup(file);
	p->line = line;
	p->col = col;
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	p->msg = xstrdup(tmp);
}

static int
problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return strcmp(x->msg, y->msg);
}

void
problems_sort(struct problems *pr)
{
	if (pr->n > 1)
		qsort(pr->v, pr->n, sizeof *pr->v, problem_cmp);
}

void
problems_free(struct problems *pr)
{
	for (size_t i = 0; i < pr->n; i++) {
		free(pr->v[i].file);
		free(pr->v[i].msg);
	}
	free(pr->v);
	memset(pr, 0, sizeof *pr);
}
