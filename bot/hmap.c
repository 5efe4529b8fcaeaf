/*
 * hmap: open-addressing (linear probing) string -> int map (see hmap.h).
 */
#include "hmap.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

/* The process key; a fixed one until hmap_seed() (tests, fuzzers). */
static uint64_t key0 = 0xa0761d6478bd642fULL, key1 = 0xe7037ed1a0b428dbULL;

void
hmap_seed(const unsigned char key[16])
{
	memcpy(&key0, key, 8);
	memcpy(&key1, key + 8, 8);
	key1 |= 1; /* never zero */
}

/* The 64x64 -> 128-bit product folded to 64 bits. */
static inline uint64_t
mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
read64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline uint64_t
read32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

/*
 * The multiply-fold construction of wyhash (final version 3): every input
 * byte is mixed with both halves of the key through full 128-bit products,
 * so without the key one cannot tell which inputs collide.  Keys of up to
 * 16 bytes (every word) are read as two overlapping 64-bit values.
 */
uint64_t
hmap_hash(const char *key, size_t len)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t a, b, seed = key0;
	if (len <= 16) {
		if (len >= 4) {
			size_t off = (len >> 3) << 2;
			a = (read32(p) << 32) | read32(p + off);
			b = (read32(p + len - 4) << 32) | read32(p + len - 4 - off);
		} else if (len > 0) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t i = len;
		for (; i > 16; i -= 16, p += 16)
			seed = mix(read64(p) ^ key1, read64(p + 8) ^ seed);
		a = read64(p + i - 16);
		b = read64(p + i - 8);
	}
	return mix(key1 ^ len, mix(a ^ key1, b ^ seed));
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

/* memcmp(a, b, n) == 0 without a call: the keys are words, a few bytes. */
static inline int
same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static long
find(const struct hmap *m, const char *key, size_t len, uint64_t h, size_t *slot)
{
	if (m->nslots == 0)
		return -1;
	size_t j = (size_t)h & (m->nslots - 1);
	while (m->slots[j]) {
		const struct hmap_ent *e = &m->ents[m->slots[j] - 1];
		if (e->hash == (uint32_t)h && e->key_len == len &&
		    same_bytes(m->arena + e->key_off, key, len)) {
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
	return hmap_put_h(m, key, len, hmap_hash(key, len), dflt, inserted);
}

int *
hmap_put_h(struct hmap *m, const char *key, size_t len, uint64_t h, int dflt, int *inserted)
{
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
	if (len >= UINT32_MAX - m->arena_len)
		abort(); /* 4 GB of keys: out of memory long before */
	m->ents = xgrow(m->ents, &m->cap, m->n + 1, sizeof *m->ents);
	m->arena = xgrow(m->arena, &m->arena_cap, m->arena_len + len + 1, 1);
	memcpy(m->arena + m->arena_len, key, len);
	m->arena[m->arena_len + len] = '\0';
	struct hmap_ent *e = &m->ents[m->n];
	e->hash = (uint32_t)h;
	e->key_off = (uint32_t)m->arena_len;
	e->key_len = (uint32_t)len;
	e->val = dflt;
	m->arena_len += len + 1;
	m->slots[slot] = (uint32_t)m->n + 1;
	m->n++;
	if (inserted)
		*inserted = 1;
	return &e->val;
}

void
hmap_shrink(struct hmap *m)
{
	if (m->n == 0)
		return;
	m->ents = xrealloc(m->ents, m->n * sizeof *m->ents);
	m->cap = m->n;
	m->arena = xrealloc(m->arena, m->arena_len);
	m->arena_cap = m->arena_len;
}

int
hmap_get(const struct hmap *m, const char *key, size_t len)
{
	return hmap_get_h(m, key, len, hmap_hash(key, len));
}

int
hmap_get_h(const struct hmap *m, const char *key, size_t len, uint64_t h)
{
	size_t slot;
	long i = find(m, key, len, h, &slot);
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
