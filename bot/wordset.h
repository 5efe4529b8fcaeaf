/*
 * wordset: a compact set of words for the English word lists (about
 * 100,000 words): one arena of length-prefixed words and an open-addressing
 * table of their offsets, about 2 MB where an hmap would take five.  Adding
 * drops repeats as it goes, so the two lists, which share most words, are
 * stored once.  Pure.
 */
#ifndef WORDSET_H
#define WORDSET_H

#include <stddef.h>
#include <stdint.h>

struct wordset {
	char *arena; /* words, each as a length byte and its bytes */
	size_t len, cap;
	uint32_t *slots; /* arena offset + 1, 0 = empty */
	size_t nslots;   /* power of two */
	size_t n;        /* words */
};

void wordset_add(struct wordset *w, const char *s, size_t n);
/* Make room for n words of `bytes` bytes in all (a hint). */
void wordset_reserve(struct wordset *w, size_t n, size_t bytes);
/* Give back the spare room; call once after the last add (optional). */
void wordset_seal(struct wordset *w);
int wordset_has(const struct wordset *w, const char *s, size_t n);
size_t wordset_count(const struct wordset *w);
void wordset_free(struct wordset *w);

#endif
