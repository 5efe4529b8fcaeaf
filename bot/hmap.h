/*
 * hmap: open-addressing hash map from byte strings to int values.
 * Pure.  Keys are copied into the map's own arena; values are ints (often
 * indices into a caller's array).  Not thread-safe; read-only use after
 * building is safe to share.
 */
#ifndef HMAP_H
#define HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap {
	uint32_t *slots; /* entry index + 1, 0 = empty */
	size_t nslots;   /* power of two */
	struct hmap_ent {
		uint64_t hash;
		size_t key_off;
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
/* Returns the value, or -1 if absent. */
int hmap_get(const struct hmap *m, const char *key, size_t len);
size_t hmap_count(const struct hmap *m);
/* The key of entry i (0 <= i < count), in insertion order. */
const char *hmap_key(const struct hmap *m, size_t i, size_t *len);
uint64_t hmap_hash(const char *key, size_t len);

#endif
