/*
 * hmap: open-addressing hash map from byte strings to int values, and the
 * keyed hash every table in the bot uses (hmap_hash).  Keys are copied into
 * the map's own arena; values are ints (often indices into a caller's
 * array).  Not thread-safe; read-only use after building is safe to share.
 *
 * Keys come from chat, so the hash is keyed: wyhash's multiply-fold
 * construction under a 128-bit key drawn at random per process, so that
 * without the key nobody can make words that collide (a flood of them
 * turned linear probing quadratic).  SipHash-1-3, a keyed PRF and the
 * stronger guarantee, was measured too: 6% more CPU per answered question,
 * so it was not chosen; hmap_hash is the one function to swap should
 * attackers ever be expected to learn collisions by timing the bot.
 * The key is the one piece of global state here: set once per process at
 * start with hmap_seed(), before any thread, and only read afterwards; it
 * decides where entries sit, never what any lookup returns.  Without a
 * hmap_seed() call (unit tests, fuzzers) a fixed key is used.  Otherwise
 * pure.
 */
#ifndef HMAP_H
#define HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap {
	uint32_t *slots;          /* entry index + 1, 0 = empty */
	size_t nslots;            /* power of two */
	struct hmap_ent {         /* 16 bytes: a knowledge holds some 20,000 */
		uint32_t hash;    /* the low half of the key's hash: where it sits,
				     and a quick test before comparing keys */
		uint32_t key_off; /* in arena, which stays under 4 GB */
		uint32_t key_len;
		int val;
	} * ents;
	size_t n, cap;
	char *arena;
	size_t arena_len, arena_cap;
};

void hmap_init(struct hmap *m);
void hmap_free(struct hmap *m);
void hmap_clear(struct hmap *m);
/* Returns a pointer to the value slot; inserts with *val = dflt if absent. */
int *hmap_put(struct hmap *m, const char *key, size_t len, int dflt, int *inserted);
/* Give back the room kept for more keys (a map built once and then only
 * read): the entries and the keys' bytes at their exact size. */
void hmap_shrink(struct hmap *m);
/* Returns the value, or -1 if absent. */
int hmap_get(const struct hmap *m, const char *key, size_t len);
/* The same two with the key's hmap_hash() already known (a token carries
 * its word's). */
int *hmap_put_h(struct hmap *m, const char *key, size_t len, uint64_t h, int dflt, int *inserted);
int hmap_get_h(const struct hmap *m, const char *key, size_t len, uint64_t h);
size_t hmap_count(const struct hmap *m);
/* The key of entry i (0 <= i < count), in insertion order. */
const char *hmap_key(const struct hmap *m, size_t i, size_t *len);
/* The keyed hash of the bytes under the process key. */
uint64_t hmap_hash(const char *key, size_t len);
/* Set the process key (16 bytes): once, at start, before any thread. */
void hmap_seed(const unsigned char key[16]);

#endif
