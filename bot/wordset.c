/*
 * wordset: open-addressing word set over one arena (see wordset.h).
 */
#include "wordset.h"

#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmem.h"

/* Each word is stored as a length byte and the word. */
#define WORD_MAX 255

/* The slot holding s, or the empty slot where it would go. */
static size_t
find_slot(const struct wordset *w, const char *s, size_t n)
{
	size_t mask = w->nslots - 1, j = (size_t)hmap_hash(s, n) & mask;
	for (; w->slots[j]; j = (j + 1) & mask) {
		const unsigned char *k = (const unsigned char *)w->arena + w->slots[j] - 1;
		if (k[0] == n && memcmp(k + 1, s, n) == 0)
			return j;
	}
	return j;
}

static void
rehash(struct wordset *w, size_t nslots)
{
	size_t old = w->nslots;
	uint32_t *slots = w->slots;
	w->nslots = nslots;
	w->slots = xcalloc(w->nslots, sizeof *w->slots);
	for (size_t i = 0; i < old; i++) {
		if (slots[i] == 0)
			continue;
		const unsigned char *k = (const unsigned char *)w->arena + slots[i] - 1;
		w->slots[find_slot(w, (const char *)k + 1, k[0])] = slots[i];
	}
	free(slots);
}

void
wordset_add(struct wordset *w, const char *s, size_t n)
{
	if (n > WORD_MAX)
		return; /* longer than any word */
	if ((w->n + 1) * 4 > w->nslots * 3)
		rehash(w, w->nslots ? w->nslots * 2 : 1024);
	size_t j = find_slot(w, s, n);
	if (w->slots[j])
		return; /* already there */
	w->arena = xgrow(w->arena, &w->cap, w->len + n + 1, 1);
	w->arena[w->len] = (char)(unsigned char)n;
	memcpy(w->arena + w->len + 1, s, n);
	w->slots[j] = (uint32_t)w->len + 1;
	w->len += n + 1;
	w->n++;
}

void
wordset_reserve(struct wordset *w, size_t n, size_t bytes)
{
	size_t want = 1024;
	while (want * 3 < n * 4)
		want *= 2;
	if (want > w->nslots)
		rehash(w, want);
	w->arena = xgrow(w->arena, &w->cap, bytes, 1);
}

void
wordset_seal(struct wordset *w)
{
	if (w->len && w->cap > w->len) {
		w->arena = xrealloc(w->arena, w->len);
		w->cap = w->len;
	}
}

int
wordset_has(const struct wordset *w, const char *s, size_t n)
{
	return w->n && n <= WORD_MAX && w->slots[find_slot(w, s, n)] != 0;
}

size_t
wordset_count(const struct wordset *w)
{
	return w->n;
}

void
wordset_free(struct wordset *w)
{
	free(w->arena);
	free(w->slots);
	memset(w, 0, sizeof *w);
}
