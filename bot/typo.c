/*
 * typo: symmetric-delete spelling correction (see typo.h).  Pure.
 */
#include "typo.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "xmem.h"

void
typo_init(struct typo_index *x)
{
	memset(x, 0, sizeof *x);
	hmap_init(&x->words);
}

void
typo_free(struct typo_index *x)
{
	hmap_free(&x->words);
	free(x->df);
	free(x->dir);
	free(x->del);
	memset(x, 0, sizeof *x);
}

int
typo_add(struct typo_index *x, const char *w, size_t n)
{
	int ins;
	size_t id = hmap_count(&x->words);
	int *v = hmap_put(&x->words, w, n, (int)id, &ins);
	if (!ins) {
		x->df[*v]++;
		return *v;
	}
	x->df = xgrow(x->df, &x->capdf, id + 1, sizeof *x->df);
	x->df[id] = 1;
	return *v;
}

int
typo_find(const struct typo_index *x, const char *w, size_t n)
{
	return hmap_get(&x->words, w, n);
}

const char *
typo_word(const struct typo_index *x, int id, size_t *n)
{
	return hmap_key(&x->words, (size_t)id, n);
}

size_t
typo_count(const struct typo_index *x)
{
	return hmap_count(&x->words);
}

static uint32_t
del_hash(const char *s, size_t n)
{
	uint64_t h = hmap_hash(s, n);
	return (uint32_t)(h ^ h >> 32);
}

/* A delete variant while the index is built. */
struct del {
	uint32_t h;    /* 32-bit hash of the variant */
	uint32_t word; /* id */
};

/* Stable LSD radix sort of v by hash, 16 bits a pass. */
static void
sort_dels(struct del *v, size_t n)
{
	struct del *tmp = xmalloc((n ? n : 1) * sizeof *tmp), *src = v, *dst = tmp;
	size_t *count = xmalloc(65536 * sizeof *count);
	for (unsigned shift = 0; shift < 32; shift += 16) {
		memset(count, 0, 65536 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[src[i].h >> shift & 0xffff]++;
		size_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[src[i].h >> shift & 0xffff]++] = src[i];
		struct del *t = src;
		src = dst;
		dst = t;
	}
	/* two passes: the sorted data is back in v */
	free(count);
	free(tmp);
}

/* The part of hash h kept beside a variant's word id. */
static uint32_t
rest_of(const struct typo_index *x, uint32_t h)
{
	return h >> (32 - x->dir_bits - TYPO_REST_BITS) & ((1u << TYPO_REST_BITS) - 1);
}

void
typo_seal(struct typo_index *x)
{
	char buf[TEXT_WORD_MAX], buf2[TEXT_WORD_MAX];
	size_t total = 0, nw = hmap_count(&x->words);
	if (nw > (size_t)1 << TYPO_ID_BITS)
		nw = (size_t)1 << TYPO_ID_BITS;
	for (size_t id = 0; id < nw; id++) {
		size_t n;
		hmap_key(&x->words, id, &n);
		if (n >= 3 && n < TEXT_WORD_MAX)
			total += n + (n >= 7 ? n * (n - 1) / 2 : 0);
	}
	free(x->dir);
	free(x->del);
	struct del *v = xmalloc((total ? total : 1) * sizeof *v);
	size_t nv = 0;
	x->hash = 0;
	for (size_t id = 0; id < hmap_count(&x->words); id++) {
		size_t n;
		const char *w = hmap_key(&x->words, id, &n);
		x->hash = x->hash * 1099511628211ULL ^ hmap_hash(w, n);
		if (id >= nw || n < 3 || n >= TEXT_WORD_MAX)
			continue;
		for (size_t i = 0; i < n; i++) {
			memcpy(buf, w, i);
			memcpy(buf + i, w + i + 1, n - i - 1);
			v[nv++] = (struct del){del_hash(buf, n - 1), (uint32_t)id};
			if (n < 7)
				continue; /* two edits only for long words (see consider) */
			for (size_t j = i; j < n - 1; j++) {
				memcpy(buf2, buf, j);
				memcpy(buf2 + j, buf + j + 1, n - 2 - j);
				v[nv++] = (struct del){del_hash(buf2, n - 2), (uint32_t)id};
			}
		}
	}
	sort_dels(v, nv);
	/* the sort is stable and words were added in id order: repeats of a
	 * word under one variant ("stretch" minus either 't') are adjacent */
	size_t out = 0;
	for (size_t i = 0; i < nv; i++)
		if (out == 0 || v[out - 1].h != v[i].h || v[out - 1].word != v[i].word)
			v[out++] = v[i];
	/* some 8 variants a bucket of the directory, which costs 1 byte a
	 * variant; the hash bits left beside the id tell the rest apart */
	x->dir_bits = 4;
	while (x->dir_bits < 32 - TYPO_REST_BITS && ((size_t)8 << x->dir_bits) < out)
		x->dir_bits++;
	size_t nb = (size_t)1 << x->dir_bits;
	x->dir = xcalloc(nb + 1, sizeof *x->dir);
	x->del = xmalloc((out ? out : 1) * sizeof *x->del);
	for (size_t i = 0; i < out; i++) {
		x->dir[(v[i].h >> (32 - x->dir_bits)) + 1]++;
		x->del[i] = rest_of(x, v[i].h) << TYPO_ID_BITS | v[i].word;
	}
	for (size_t b = 0; b < nb; b++)
		x->dir[b + 1] += x->dir[b];
	x->ndel = out;
	free(v);
	hmap_shrink(&x->words);
}

static void
consider(const struct typo_index *x, const char *w, size_t n, int id, int maxd, int *best,
	 int *best_d)
{
	size_t cl;
	const char *c = hmap_key(&x->words, (size_t)id, &cl);
	if ((maxd > 1 || n <= 4) && c[0] != w[0])
		return; /* short words and double edits must keep the first letter */
	if (n <= 3 && cl > 4)
		return;
	if (maxd > 1 && cl < 7)
		return;
	int d = text_distance(w, n, c, cl, maxd);
	if (d > maxd || d == 0)
		return;
	if (*best < 0 || d < *best_d ||
	    (d == *best_d && (x->df[id] > x->df[*best] ||
			      (x->df[id] == x->df[*best] &&
			       strcmp(c, hmap_key(&x->words, (size_t)*best, NULL)) < 0)))) {
		*best = id;
		*best_d = d;
	}
}

static void
lookup_variant(const struct typo_index *x, const char *w, size_t n, const char *v, size_t vn,
	       int maxd, int *best, int *best_d)
{
	int s = hmap_get(&x->words, v, vn);
	if (s >= 0)
		consider(x, w, n, s, maxd, best, best_d);
	uint32_t h = del_hash(v, vn);
	if (x->dir == NULL)
		return;
	uint32_t rest = rest_of(x, h), b = h >> (32 - x->dir_bits);
	for (uint32_t i = x->dir[b]; i < x->dir[b + 1]; i++)
		if (x->del[i] >> TYPO_ID_BITS == rest)
			consider(x, w, n, (int)(x->del[i] & ((1u << TYPO_ID_BITS) - 1)), maxd, best,
				 best_d);
}

/*
 * Spellings that sound the same but are two or more edits apart ("fysio",
 * "fisiotherapy", "chiropraktor"): swap one spelling unit (f/ph, k/c, z/s)
 * and look the result up as written.  Counts as one edit.
 */
static int
sounds_alike(const struct typo_index *x, const char *w, size_t n, int *dist)
{
	static const struct {
		const char *from, *to;
	} swaps[] = {{"f", "ph"}, {"ph", "f"}, {"k", "c"}, {"c", "k"}, {"z", "s"}, {"s", "z"}};
	char v[TEXT_WORD_MAX + 2];
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof swaps / sizeof swaps[0]; k++) {
			size_t fl = strlen(swaps[k].from), tl = strlen(swaps[k].to);
			if (i + fl > n || memcmp(w + i, swaps[k].from, fl) != 0 ||
			    n - fl + tl >= TEXT_WORD_MAX)
				continue;
			memcpy(v, w, i);
			memcpy(v + i, swaps[k].to, tl);
			memcpy(v + i + tl, w + i + fl, n - i - fl);
			int s = hmap_get(&x->words, v, n - fl + tl);
			if (s >= 0) {
				*dist = 1;
				return s;
			}
		}
	}
	return -1;
}

int
typo_correct(const struct typo_index *x, const char *w, size_t n, int *dist)
{
	int maxd = n >= 8 ? 2 : 1;
	int best = -1, best_d = 99;
	char b1[TEXT_WORD_MAX], b2[TEXT_WORD_MAX];
	*dist = 0;
	if (n == 0 || n >= TEXT_WORD_MAX)
		return -1;
	lookup_variant(x, w, n, w, n, maxd, &best, &best_d);
	for (size_t i = 0; i < n; i++) {
		memcpy(b1, w, i);
		memcpy(b1 + i, w + i + 1, n - i - 1);
		lookup_variant(x, w, n, b1, n - 1, maxd, &best, &best_d);
		if (maxd < 2)
			continue;
		for (size_t j = i; j < n - 1; j++) {
			memcpy(b2, b1, j);
			memcpy(b2 + j, b1 + j + 1, n - 2 - j);
			lookup_variant(x, w, n, b2, n - 2, maxd, &best, &best_d);
		}
	}
	if (best < 0)
		best = sounds_alike(x, w, n, &best_d);
	*dist = best_d;
	return best;
}
