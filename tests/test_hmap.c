/* test_hmap: the hash map and the keyed hash, against a hash flood.
 *
 * The flood is the one that made `ask` 20 times slower with the unkeyed
 * FNV-1a hash: 60,800 words whose FNV-1a hashes share their low 20 bits, so
 * every one of them lands in the same slot of any table of up to a million
 * slots and linear probing turns each insert and lookup into a walk along
 * one cluster.  The words are built here by meeting in the middle (4-letter
 * prefixes forward, 4-letter suffixes backward, modulo 2^20).  The test
 * checks that the set really collides under FNV-1a, then that the keyed
 * hash spreads it: the probe lengths in an hmap and a wordset stay those of
 * random keys.  Deterministic: the fixed key of a process that never calls
 * hmap_seed().  Speed is measured in `make bench` (bench/flood.py). */
#include "hmap.h"
#include "testutil.h"
#include "wordset.h"

#define NWORDS 60800
#define BITS 20
#define MASK ((1u << BITS) - 1)
#define FNV_PRIME 1099511628211ULL
#define FNV_BASIS 1469598103934665603ULL

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = FNV_BASIS;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* The inverse of the (odd) FNV prime modulo 2^64, by Newton's iteration. */
static uint64_t
prime_inverse(void)
{
	uint64_t x = FNV_PRIME;
	for (int i = 0; i < 6; i++)
		x *= 2 - FNV_PRIME * x;
	return x;
}

static void
letters(unsigned v, char out[4])
{
	for (int i = 3; i >= 0; i--) {
		out[i] = (char)('a' + v % 26);
		v /= 26;
	}
}

/* NWORDS 8-letter words whose FNV-1a hashes all end in BITS zero bits. */
static char (*flood_words(void))[9]
{
	enum { N4 = 26 * 26 * 26 * 26 };
	unsigned *prefix_of =
	    malloc(((size_t)MASK + 1) * sizeof *prefix_of); /* state -> prefix + 1 */
	assert_non_null(prefix_of);
	memset(prefix_of, 0, ((size_t)MASK + 1) * sizeof *prefix_of);
	char w[9];
	for (unsigned v = 0; v < N4; v++) {
		letters(v, w);
		prefix_of[fnv1a(w, 4) & MASK] = v + 1;
	}
	uint64_t inv = prime_inverse();
	char(*out)[9] = malloc(NWORDS * sizeof *out);
	assert_non_null(out);
	size_t n = 0;
	for (unsigned v = 0; v < N4 && n < NWORDS; v++) {
		letters(v, w + 4);
		/* the state the prefix must leave for the word to end on 0 */
		uint64_t r = 0;
		for (int i = 7; i >= 4; i--)
			r = (r * inv) ^ (unsigned char)w[i];
		unsigned p = prefix_of[r & MASK];
		if (p == 0)
			continue;
		letters(p - 1, w);
		w[8] = '\0';
		memcpy(out[n++], w, 9);
	}
	assert_int_equal(n, NWORDS);
	free(prefix_of);
	return out;
}

/* How far each occupied slot is from where its key's hash put it: the
 * longest and the sum.  home(ctx, slot) is that place. */
static void
probes(const uint32_t *slots, size_t nslots, size_t (*home)(const void *, uint32_t),
       const void *ctx, size_t *max, size_t *sum)
{
	*max = *sum = 0;
	for (size_t j = 0; j < nslots; j++) {
		if (slots[j] == 0)
			continue;
		size_t d = (j - home(ctx, slots[j])) & (nslots - 1);
		*sum += d;
		if (d > *max)
			*max = d;
	}
}

static size_t
hmap_home(const void *ctx, uint32_t slot)
{
	const struct hmap *m = ctx;
	return (size_t)m->ents[slot - 1].hash & (m->nslots - 1);
}

static size_t
wordset_home(const void *ctx, uint32_t slot)
{
	const struct wordset *w = ctx;
	const unsigned char *k = (const unsigned char *)w->arena + slot - 1;
	return (size_t)hmap_hash((const char *)k + 1, k[0]) & (w->nslots - 1);
}

static void
test_flood_is_spread(void **st)
{
	(void)st;
	char(*words)[9] = flood_words();
	/* the set is a real attack on the old hash */
	for (size_t i = 0; i < NWORDS; i++)
		assert_int_equal(fnv1a(words[i], 8) & MASK, 0);
	struct hmap m;
	hmap_init(&m);
	struct wordset ws = {0};
	for (size_t i = 0; i < NWORDS; i++) {
		int ins;
		*hmap_put(&m, words[i], 8, (int)i, &ins) = (int)i;
		assert_true(ins);
		wordset_add(&ws, words[i], 8);
	}
	assert_int_equal(hmap_count(&m), NWORDS);
	assert_int_equal(wordset_count(&ws), NWORDS);
	/* random keys at this load (0.46) give an average displacement under
	 * one slot and a longest one of a few dozen; the flood under FNV-1a
	 * gives NWORDS / 2 and NWORDS - 1 */
	size_t max, sum;
	probes(m.slots, m.nslots, hmap_home, &m, &max, &sum);
	print_message("hmap: %zu slots, longest probe %zu, average %.2f\n", m.nslots, max,
		      (double)sum / NWORDS);
	assert_true(max <= 64);
	assert_true(sum <= NWORDS);
	probes(ws.slots, ws.nslots, wordset_home, &ws, &max, &sum);
	print_message("wordset: %zu slots, longest probe %zu, average %.2f\n", ws.nslots, max,
		      (double)sum / NWORDS);
	assert_true(max <= 64);
	assert_true(sum <= NWORDS);
	for (size_t i = 0; i < NWORDS; i += 97) {
		assert_int_equal(hmap_get(&m, words[i], 8), (int)i);
		assert_true(wordset_has(&ws, words[i], 8));
	}
	hmap_free(&m);
	wordset_free(&ws);
	free(words);
}

static void
test_key_decides(void **st)
{
	(void)st;
	/* the same words, another key: other hashes (where they sit is the
	 * key's secret), the same answers */
	static const char *const w[] = {"back", "pain", "massage",
					"a",    "",     "a long key of many bytes!"};
	uint64_t before[6];
	for (size_t i = 0; i < 6; i++)
		before[i] = hmap_hash(w[i], strlen(w[i]));
	unsigned char key[16];
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)(i * 37 + 11);
	hmap_seed(key);
	size_t same = 0;
	for (size_t i = 0; i < 6; i++) {
		same += hmap_hash(w[i], strlen(w[i])) == before[i];
		assert_int_equal(hmap_hash(w[i], strlen(w[i])), hmap_hash(w[i], strlen(w[i])));
	}
	assert_int_equal(same, 0);
	/* every byte counts: neighbours and lengths differ */
	assert_true(hmap_hash("ab", 2) != hmap_hash("ba", 2));
	assert_true(hmap_hash("a", 1) != hmap_hash("a\0", 2));
	assert_true(hmap_hash("abcdefghijklmnopq", 17) != hmap_hash("abcdefghijklmnopr", 17));
	struct hmap m;
	hmap_init(&m);
	for (size_t i = 0; i < 6; i++)
		*hmap_put(&m, w[i], strlen(w[i]), (int)i, NULL) = (int)i;
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(hmap_get(&m, w[i], strlen(w[i])), (int)i);
	assert_int_equal(hmap_get(&m, "nope", 4), -1);
	hmap_free(&m);
}

/* With the key's hash given (a token carries its word's): the same entries
 * as without; a wrong hash finds nothing, so the hash must be the key's. */
static void
test_hash_given(void **st)
{
	(void)st;
	static const char *const w[] = {"back", "pain", "massage", "a", ""};
	struct hmap m;
	hmap_init(&m);
	for (size_t i = 0; i < 5; i++) {
		int ins;
		size_t n = strlen(w[i]);
		*hmap_put_h(&m, w[i], n, hmap_hash(w[i], n), 0, &ins) = (int)i;
		assert_true(ins);
		hmap_put(&m, w[i], n, 0, &ins);
		assert_false(ins); /* the same entry, found without the hash */
	}
	for (size_t i = 0; i < 5; i++) {
		size_t n = strlen(w[i]);
		assert_int_equal(hmap_get_h(&m, w[i], n, hmap_hash(w[i], n)), (int)i);
		assert_int_equal(hmap_get(&m, w[i], n), (int)i);
	}
	assert_int_equal(hmap_get_h(&m, "back", 4, hmap_hash("pain", 4)), -1);
	assert_int_equal(hmap_get_h(&m, "nope", 4, hmap_hash("nope", 4)), -1);
	hmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flood_is_spread),
	    cmocka_unit_test(test_key_decides),
	    cmocka_unit_test(test_hash_given),
	};
	return cmocka_run_group_tests_name("hmap", tests, NULL, NULL);
}
