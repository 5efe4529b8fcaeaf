/*
 * keysort: runs of a few keys sorted by insertion, then merged bottom-up
 * (see keysort.h).
 */
#include "keysort.h"

#include <string.h>

#define INSERTION_MAX 16

/* Insertion sort of v[0 .. n). */
static void
insertion(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t k = v[i];
		size_t x = i;
		for (; x > 0 && v[x - 1] > k; x--)
			v[x] = v[x - 1];
		v[x] = k;
	}
}

void
keysort(uint64_t *v, uint64_t *tmp, size_t n)
{
	/* runs of INSERTION_MAX sorted in place, then merged bottom-up */
	for (size_t lo = 0; lo < n; lo += INSERTION_MAX)
		insertion(v + lo, n - lo < INSERTION_MAX ? n - lo : INSERTION_MAX);
	uint64_t *a = v, *b = tmp;
	for (size_t w = INSERTION_MAX; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				b[o++] = a[j] < a[i] ? a[j++] : a[i++];
			while (i < mid)
				b[o++] = a[i++];
			while (j < hi)
				b[o++] = a[j++];
		}
		uint64_t *t = a;
		a = b;
		b = t;
	}
	if (a != v)
		memcpy(v, a, n * sizeof *v);
}
