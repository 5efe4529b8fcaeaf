/*
 * hmap: open-addressing (linear probing) string -> int map (see hmap.h).
 */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

#include "xmem.h"

uint64_t
hmap_hash(const char *key, size_t len)
{
	/* FNV-1a, 64 bit: small keys, deterministic across runs. */
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void
hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof *m);
}

void
hmap_free(struct hmap *m)
{
	free(m->slots);
	free(m->ents);
	free(m->arena);
	memset(m, 0, sizeof *m);
}

void
hmap_clear(struct hmap *m)
{
	if (m->slots)
		memset(m->slots, 0, m->nslots * sizeof *m->slots);
	m->n = 0;
	m->arena_len = 0;
}

static void
rehash(struct hmap *m, size_t nslots)
{
	free(m->slots);
	m->slots = xcalloc(nslots, sizeof *m->slots);
	m->nslots = nslots;
	for (size_t i = 0; i < m->n; i++) {
		size_t j = (size_t)m->ents[i].hash & (nslots - 1);
		while (m->slots[j])
			j = (j + 1) & (nslots - 1);
		m->slots[j] = (uint32_t)i + 1;
	}
}

static long
find(const struct hmap *m, const char *key, size_t len, uint64_t h, size_t *slot)
{
	if (m->nslots == 0)
		return -1;
	size_t j = (size_t)h & (m->nslots - 1);
	while (m->slots[j]) {
		const struct hmap_ent *e = &m->ents[m->slots[j] - 1];
		if (e->hash == h && e->key_len == len &&
		    memcmp(m->arena + e->key_off, key, len) == 0) {
			*slot = j;
			return (long)(m->slots[j] - 1);
		}
		j = (j + 1) & (m->nslots - 1);
	}
	*slot = j;
	return -1;
}

int *
hmap_put(struct hmap *m, const char *key, size_t len, int dflt, int *inserted)
{
	uint64_t h = hmap_hash(key, len);
	size_t slot = 0;
	long i = find(m, key, len, h, &slot);
	if (i >= 0) {
		if (inserted)
			*inserted = 0;
		return &m->ents[i].val;
	}
	if ((m->n + 1) * 4 > m->nslots * 3) {
		rehash(m, m->nslots ? m->nslots * 2 : 16);
		find(m, key, len, h, &slot);
	}
	m->ents = xgrow(m->ents, &m->cap, m->n + 1, sizeof *m->ents);
	m->arena = xgrow(m->arena, &m->arena_cap, m->arena_len + len + 1, 1);
	memcpy(m->arena + m->arena_len, key, len);
	m->arena[m->arena_len + len] = '\0';
	struct hmap_ent *e = &m->ents[m->n];
	e->hash = h;
	e->key_off = m->arena_len;
	e->key_len = (uint32_t)len;
	e->val = dflt;
	m->arena_len += len + 1;
	m->slots[slot] = (uint32_t)m->n + 1;
	m->n++;
	if (inserted)
		*inserted = 1;
	return &e->val;
}

int
hmap_get(const struct hmap *m, const char *key, size_t len)
{
	size_t slot;
	long i = find(m, key, len, hmap_hash(key, len), &slot);
	return i < 0 ? -1 : m->ents[i].val;
}

size_t
hmap_count(const struct hmap *m)
{
	return m->n;
}

const char *
hmap_key(const struct hmap *m, size_t i, size_t *len)
{
	if (len)
		*len = m->ents[i].key_len;
	return m->arena + m->ents[i].key_off;
}
