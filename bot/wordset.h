/*
 * wordset: a compact set of words for the English word lists (about 75,000
 * words).  While words are added: one arena of length-prefixed words and an
 * open-addressing table of their offsets (adding drops repeats as it goes,
 * so the two lists, which share most words, are stored once).  Sealed: the
 * words sorted and front-coded in blocks of 16 (each word as the bytes it
 * shares with the one before and the rest), found by a binary search over
 * the blocks' first words: about 0.3 MB where the table takes 1.2 MB.
 * Most words looked up are no word (the tokeniser tries every pair of
 * words side by side as one), so a sealed set first asks a Bloom filter
 * of its words (10 bits a word, under 2% false positives): a "no" from it
 * is certain, and costs a tenth of the search.  Pure.
 */
#ifndef WORDSET_H
#define WORDSET_H

#include <stddef.h>
#include <stdint.h>

struct wordset {
	char *arena; /* adding: words, each as a length byte and its bytes */
	size_t len, cap;
	uint32_t *slots; /* adding: arena offset + 1, 0 = empty */
	size_t nslots;   /* power of two */
	size_t n;        /* words */
	/* sealed: blocks of words, each a shared-prefix length byte, a rest
	 * length byte and the rest (the first word of a block shares none) */
	unsigned char *fc;
	size_t fc_len;
	uint32_t *blocks; /* offset of each block in fc */
	size_t nblocks;
	/* where to search: pairs[p] is the number of blocks whose first word
	 * starts with a pair of letters (see pair_of) below p; NULL with
	 * 65,535 blocks or more */
	uint16_t *pairs;
	uint64_t *bloom; /* sealed: the words' Bloom filter, nbloom bits */
	size_t nbloom;
};

/* Add a word (until sealed; a word over 255 bytes is ignored). */
void wordset_add(struct wordset *w, const char *s, size_t n);
/* Make room for n words of `bytes` bytes in all (a hint). */
void wordset_reserve(struct wordset *w, size_t n, size_t bytes);
/* Pack the words (read-only from here); call once after the last add
 * (optional: an unsealed set answers too, from its table). */
void wordset_seal(struct wordset *w);
int wordset_has(const struct wordset *w, const char *s, size_t n);
/*
 * The words of a sealed set one by one, in byte order: start with *pos = 0
 * and pass the same buf (255 bytes) each time, which holds the word (n
 * bytes, not NUL-terminated) when it returns 1; 0 after the last.
 */
int wordset_next(const struct wordset *w, size_t *pos, char *buf, size_t *n);
size_t wordset_count(const struct wordset *w);
void wordset_free(struct wordset *w);

#endif
