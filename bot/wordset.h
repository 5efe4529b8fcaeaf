/*
 * wordset: a compact, immutable set of words (one arena, sorted offsets,
 * binary search).  Used for the English word lists: about 100,000 words in
 * a little over 1 MB, where a hash map would take five.  Pure.
 */
#ifndef WORDSET_H
#define WORDSET_H

#include <stddef.h>
#include <stdint.h>

struct wordset {
	char *arena;       /* NUL-separated words */
	size_t len, cap;
	uint32_t *off;     /* sorted by word after wordset_seal */
	size_t n, capn;
};

void wordset_add(struct wordset *w, const char *s, size_t n);
/* Sort and drop duplicates; call once after the last add. */
void wordset_seal(struct wordset *w);
int wordset_has(const struct wordset *w, const char *s, size_t n);
void wordset_free(struct wordset *w);

#endif
