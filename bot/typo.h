/*
 * typo: the spelling corrector shared by the matcher and the safety rules.
 * A word list with a symmetric-delete index: a misspelt word is read as the
 * closest listed word within one edit (two for words of 8 letters or more;
 * short words and double edits keep their first letter), or as a listed
 * word that sounds the same (f/ph, k/c, z/s swapped once).  Ties go to the
 * word added more often, then the alphabetically first.
 * Pure: no I/O, no globals.  Read-only once sealed (shareable by threads).
 */
#ifndef TYPO_H
#define TYPO_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

#define TYPO_ID_BITS 20 /* word ids a variant holds: words past 2^20 get no typo help */
#define TYPO_REST_BITS (32 - TYPO_ID_BITS)

struct typo_index {
	struct hmap words; /* word -> id, ids in order of first addition */
	uint32_t *df;      /* per id: how many times the word was added */
	size_t capdf;
	/* The delete variants, by their 32-bit hash: the variants whose top
	 * dir_bits of hash are b are del[dir[b]] .. del[dir[b + 1] - 1], each
	 * the next TYPO_REST_BITS bits of its hash and a word id (a hash that
	 * collides only adds a candidate the edit distance then rejects).
	 * 4 bytes a variant, where a (hash, id) pair took 8. */
	uint32_t *dir;
	unsigned dir_bits;
	uint32_t *del;
	size_t ndel;
	uint64_t hash; /* of the word list, for callers' caches of corrections */
};

void typo_init(struct typo_index *x);
void typo_free(struct typo_index *x);
/* Add a word (or count it once more); returns its id. */
int typo_add(struct typo_index *x, const char *w, size_t n);
/* Build the delete index after the last typo_add. */
void typo_seal(struct typo_index *x);
/* Id of exactly this word, or -1. */
int typo_find(const struct typo_index *x, const char *w, size_t n);
/* Closest listed word other than w itself, or -1; *dist: its edits. */
int typo_correct(const struct typo_index *x, const char *w, size_t n, int *dist);
/* The word with this id (borrowed from the index). */
const char *typo_word(const struct typo_index *x, int id, size_t *n);
size_t typo_count(const struct typo_index *x);

#endif
