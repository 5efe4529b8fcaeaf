/*
 * wordset: open-addressing word set over one arena, front-coded once
 * sealed (see wordset.h).
 */
#include "wordset.h"

#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmem.h"

/* Each word is stored as a length byte and the word. */
#define WORD_MAX 255
#define BLOCK 16 /* words per front-coded block */
#define PAIR_CLASSES 28
#define BLOOM_BITS 10 /* per word */
#define BLOOM_PROBES 3

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
	if (n > WORD_MAX || w->fc)
		return; /* longer than any word, or sealed */
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

/* Byte order, then the shorter first: the order of the sealed words. */
static int
word_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

/* A byte's place among the pair classes: the end of the word and the bytes
 * before 'a' first, then 'a' to 'z', then the rest (in byte order). */
static size_t
pair_class(const unsigned char *s, size_t n, size_t i)
{
	if (i >= n || s[i] < 'a')
		return 0;
	return s[i] <= 'z' ? (size_t)(s[i] - 'a') + 1 : PAIR_CLASSES - 1;
}

/* The pair class of a word's first two bytes (the second only after a
 * letter, whose class holds no other byte): word order never decreases it. */
static size_t
pair_of(const unsigned char *s, size_t n)
{
	size_t c = pair_class(s, n, 0);
	return c * PAIR_CLASSES + (c > 0 && c < PAIR_CLASSES - 1 ? pair_class(s, n, 1) : 0);
}

/* The Bloom filter's bits of s: double hashing over FNV-1a (unkeyed: a
 * word made to be a false positive costs only the search it always cost). */
static void
bloom_bits(const struct wordset *w, const unsigned char *s, size_t n, size_t bit[BLOOM_PROBES])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	uint32_t a = (uint32_t)h, b = (uint32_t)(h >> 32) | 1;
	for (size_t k = 0; k < BLOOM_PROBES; k++)
		bit[k] = (size_t)(((uint64_t)(a + (uint32_t)k * b) * w->nbloom) >> 32);
}

static int
by_word(const void *pa, const void *pb, void *arena)
{
	const unsigned char *a = (const unsigned char *)arena + *(const uint32_t *)pa;
	const unsigned char *b = (const unsigned char *)arena + *(const uint32_t *)pb;
	return word_cmp(a + 1, a[0], b + 1, b[0]);
}

void
wordset_seal(struct wordset *w)
{
	if (w->fc || w->n == 0)
		return;
	uint32_t *order = xmalloc(w->n * sizeof *order);
	size_t k = 0;
	for (size_t i = 0; i < w->nslots; i++)
		if (w->slots[i])
			order[k++] = w->slots[i] - 1;
	qsort_r(order, k, sizeof *order, by_word, w->arena);
	w->nblocks = (k + BLOCK - 1) / BLOCK;
	w->blocks = xmalloc(w->nblocks * sizeof *w->blocks);
	/* at most two bytes more per word than the arena's one */
	unsigned char *fc = xmalloc(w->len + k * 2);
	size_t o = 0;
	const unsigned char *prev = NULL;
	for (size_t i = 0; i < k; i++) {
		const unsigned char *word = (const unsigned char *)w->arena + order[i];
		size_t shared = 0;
		if (i % BLOCK == 0) {
			w->blocks[i / BLOCK] = (uint32_t)o;
		} else {
			while (shared < word[0] && shared < prev[0] &&
			       word[1 + shared] == prev[1 + shared])
				shared++;
		}
		fc[o++] = (unsigned char)shared;
		fc[o++] = (unsigned char)(word[0] - shared);
		memcpy(fc + o, word + 1 + shared, word[0] - shared);
		o += word[0] - shared;
		prev = word;
	}
	w->nbloom = (k * BLOOM_BITS + 63) / 64 * 64;
	w->bloom = xcalloc(w->nbloom / 64, sizeof *w->bloom);
	for (size_t i = 0; i < k; i++) {
		const unsigned char *word = (const unsigned char *)w->arena + order[i];
		size_t bit[BLOOM_PROBES];
		bloom_bits(w, word + 1, word[0], bit);
		for (size_t j = 0; j < BLOOM_PROBES; j++)
			w->bloom[bit[j] / 64] |= 1ULL << (bit[j] % 64);
	}
	w->pairs = NULL;
	if (w->nblocks < UINT16_MAX) { /* pairs[p]: blocks whose first word's pair is below p */
		size_t np = PAIR_CLASSES * PAIR_CLASSES;
		w->pairs = xcalloc(np + 1, sizeof *w->pairs);
		size_t b = 0;
		for (size_t p = 0; p <= np; p++) {
			while (b < w->nblocks) {
				const unsigned char *first = fc + w->blocks[b];
				if (pair_of(first + 2, first[1]) >= p)
					break;
				b++;
			}
			w->pairs[p] = (uint16_t)b;
		}
	}
	free(order);
	free(w->arena);
	free(w->slots);
	w->arena = NULL;
	w->slots = NULL;
	w->len = w->cap = w->nslots = 0;
	w->fc = xrealloc(fc, o);
	w->fc_len = o;
}

/* word_cmp without a call, for the short words of a lookup. */
static int
short_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return (al > bl) - (al < bl);
}

/*
 * Is s one of the words of block b of a sealed set?  Read front-coded,
 * without rebuilding the words: m is how many first bytes the word before
 * shares with s (it sorts before s).  A word that shares more with that
 * one than m also sorts before s; one that shares less sorts after it (as
 * do all that follow); one that shares m is compared from there.
 */
static int
in_block(const struct wordset *w, size_t b, const unsigned char *s, size_t n)
{
	const unsigned char *p = w->fc + w->blocks[b];
	size_t m = 0;
	for (size_t i = 0; i < BLOCK && b * BLOCK + i < w->n; i++) {
		size_t shared = p[0], rest = p[1];
		const unsigned char *r = p + 2; /* byte x of the word is r[x - shared] */
		p += 2 + rest;
		if (shared > m)
			continue;
		if (shared < m)
			return 0;
		size_t wl = shared + rest, x = m;
		while (x < wl && x < n && r[x - shared] == s[x])
			x++;
		if (x == n)
			return x == wl; /* s itself, or a word s begins */
		if (x < wl && r[x - shared] > s[x])
			return 0;
		m = x;
	}
	return 0;
}

/* Is s in a sealed set: the last block whose first word is not after s. */
static int
sealed_has(const struct wordset *w, const char *s, size_t n)
{
	const unsigned char *key = (const unsigned char *)s;
	size_t bit[BLOOM_PROBES];
	bloom_bits(w, key, n, bit);
	for (size_t j = 0; j < BLOOM_PROBES; j++)
		if (!(w->bloom[bit[j] / 64] >> (bit[j] % 64) & 1))
			return 0;
	size_t lo = 0, hi = w->nblocks; /* the block is in [lo, hi) */
	if (w->pairs) { /* the blocks that start with s's first two letters, and the one before */
		size_t p = pair_of(key, n);
		lo = w->pairs[p] ? w->pairs[p] - 1u : 0;
		hi = w->pairs[p + 1] > lo ? w->pairs[p + 1] : lo + 1;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *first = w->fc + w->blocks[mid];
		if (short_cmp(first + 2, first[1], key, n) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return in_block(w, lo, key, n);
}

int
wordset_next(const struct wordset *w, size_t *pos, char *buf, size_t *n)
{
	/* *pos: where the next word starts in fc; buf still holds the word
	 * before it, whose first bytes it shares */
	if (w->fc == NULL || *pos >= w->fc_len)
		return 0;
	const unsigned char *p = w->fc + *pos;
	memcpy(buf + p[0], p + 2, p[1]);
	*n = (size_t)p[0] + p[1];
	*pos += 2 + (size_t)p[1];
	return 1;
}

int
wordset_has(const struct wordset *w, const char *s, size_t n)
{
	if (w->n == 0 || n > WORD_MAX)
		return 0;
	return w->fc ? sealed_has(w, s, n) : w->slots[find_slot(w, s, n)] != 0;
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
	free(w->fc);
	free(w->blocks);
	free(w->pairs);
	free(w->bloom);
	memset(w, 0, sizeof *w);
}
