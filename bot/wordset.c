/*
 * wordset: sorted-array word set (see wordset.h).
 */
#include "wordset.h"

#include <stdlib.h>
#include <string.h>

#include "xmem.h"

void
wordset_add(struct wordset *w, const char *s, size_t n)
{
	w->arena = xgrow(w->arena, &w->cap, w->len + n + 1, 1);
	w->off = xgrow(w->off, &w->capn, w->n + 1, sizeof *w->off);
	memcpy(w->arena + w->len, s, n);
	w->arena[w->len + n] = '\0';
	w->off[w->n++] = (uint32_t)w->len;
	w->len += n + 1;
}

static int
cmp_off(const void *a, const void *b, void *arena)
{
	const char *ar = arena;
	return strcmp(ar + *(const uint32_t *)a, ar + *(const uint32_t *)b);
}

void
wordset_seal(struct wordset *w)
{
	if (w->n > 1)
		qsort_r(w->off, w->n, sizeof *w->off, cmp_off, w->arena);
	size_t j = 0;
	for (size_t i = 0; i < w->n; i++)
		if (j == 0 || strcmp(w->arena + w->off[j - 1], w->arena + w->off[i]) != 0)
			w->off[j++] = w->off[i];
	w->n = j;
}

int
wordset_has(const struct wordset *w, const char *s, size_t n)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = w->arena + w->off[mid];
		int c = strncmp(m, s, n);
		if (c == 0)
			c = m[n] == '\0' ? 0 : 1;
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
wordset_free(struct wordset *w)
{
	free(w->arena);
	free(w->off);
	memset(w, 0, sizeof *w);
}
