/*
 * report: grouping of unanswered questions (see report.h).  Each phrasing
 * (distinct word sequence) is a set of stem ids, sorted by id.  A new
 * phrasing looks for its group through the prefix filter of set-similarity
 * joins: with the stems ordered rarest first, two sets with a Jaccard
 * overlap of at least 1/2 share a stem among the first |s|/2 + 1 of each,
 * so only the groups whose first phrasing has one of the new phrasing's
 * rare stems are compared.
 */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "strbuf.h"
#include "xmem.h"

struct phr {
	size_t first, count, cluster;
	size_t off, len; /* its stem ids in the pool, sorted by id */
};

struct postings {
	size_t *v, n, cap;
};

struct grouping {
	struct hmap stems;   /* stem -> id */
	size_t *df, ndf_cap; /* phrasings per stem id */
	uint32_t *pool;
	size_t npool, cap_pool;
	struct phr *ph;
	size_t nph, cap_ph;
	size_t *item_ph; /* phrasing of each item */
	/* groups: the phrasing that started each one; the index of the rare
	 * stems of those phrasings (stem id -> groups) */
	size_t *cl_ph, ncl, cap_cl;
	struct postings *post;
};

static const uint32_t *
stems_of(const struct grouping *g, const struct phr *p)
{
	return g->pool + p->off;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Pass 1: one phrasing per distinct word sequence, its stem set, and how
 * many phrasings have each stem. */
static void
read_phrasings(struct grouping *g, struct text_ctx *t, const struct report_item *items, size_t n)
{
	struct hmap keys; /* word sequence -> phrasing */
	struct tokens tk = {0};
	struct strbuf key = STRBUF_INIT;
	hmap_init(&keys);
	for (size_t i = 0; i < n; i++) {
		text_tokenize(t, items[i].question, strlen(items[i].question), &tk);
		key.len = 0;
		sb_add(&key, "", 0);
		for (size_t j = 0; j < tk.n; j++) {
			sb_add(&key, tk.v[j].surf, tk.v[j].surf_len);
			sb_addc(&key, ' ');
		}
		int ins;
		int *p = hmap_put(&keys, key.s, key.len, (int)g->nph, &ins);
		if (!ins) {
			g->item_ph[i] = (size_t)*p;
			g->ph[*p].count++;
			continue;
		}
		g->ph = xgrow(g->ph, &g->cap_ph, g->nph + 1, sizeof *g->ph);
		struct phr *ph = &g->ph[g->nph];
		*ph = (struct phr){i, 1, 0, g->npool, 0};
		g->item_ph[i] = g->nph++;
		for (size_t j = 0; j < tk.n; j++) {
			if (tk.v[j].flags & TOK_STOP)
				continue;
			int sins;
			int *sid = hmap_put(&g->stems, tk.v[j].stem, tk.v[j].stem_len,
					    (int)hmap_count(&g->stems), &sins);
			g->pool = xgrow(g->pool, &g->cap_pool, g->npool + 1, sizeof *g->pool);
			g->pool[g->npool++] = (uint32_t)*sid;
		}
		ph->len = g->npool - ph->off;
		qsort(g->pool + ph->off, ph->len, sizeof *g->pool, cmp_u32);
		size_t u = 0; /* unique */
		for (size_t j = 0; j < ph->len; j++)
			if (u == 0 || g->pool[ph->off + u - 1] != g->pool[ph->off + j])
				g->pool[ph->off + u++] = g->pool[ph->off + j];
		ph->len = u;
		g->npool = ph->off + u;
	}
	size_t ns = hmap_count(&g->stems);
	g->df = xcalloc(ns ? ns : 1, sizeof *g->df);
	for (size_t p = 0; p < g->nph; p++)
		for (size_t j = 0; j < g->ph[p].len; j++)
			g->df[stems_of(g, &g->ph[p])[j]]++;
	g->post = xcalloc(ns ? ns : 1, sizeof *g->post);
	tokens_free(&tk);
	sb_free(&key);
	hmap_free(&keys);
}

static int
cmp_rarity(const void *a, const void *b, void *arg)
{
	const size_t *df = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (df[x] != df[y])
		return df[x] < df[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The rarest |s|/2 + 1 stems of a phrasing, into out (room for len). */
static size_t
prefix(const struct grouping *g, const struct phr *p, uint32_t *out)
{
	memcpy(out, stems_of(g, p), p->len * sizeof *out);
	qsort_r(out, p->len, sizeof *out, cmp_rarity, g->df);
	return p->len / 2 + 1 < p->len ? p->len / 2 + 1 : p->len;
}

/* The Jaccard overlap of two phrasings, or 0 as soon as it cannot reach
 * REPORT_SIMILARITY (the sizes alone, or too few shared stems left). */
static double
jaccard(const struct grouping *g, const struct phr *a, const struct phr *b)
{
	if (a->len == 0 && b->len == 0)
		return 1.0;
	/* J >= t needs |a & b| >= t / (1 + t) * (|a| + |b|) */
	double need = REPORT_SIMILARITY / (1 + REPORT_SIMILARITY) * (double)(a->len + b->len);
	if ((double)(a->len < b->len ? a->len : b->len) < need)
		return 0;
	const uint32_t *x = stems_of(g, a), *y = stems_of(g, b);
	size_t i = 0, j = 0, inter = 0;
	while (i < a->len && j < b->len) {
		size_t left = a->len - i < b->len - j ? a->len - i : b->len - j;
		if ((double)(inter + left) < need)
			return 0;
		if (x[i] == y[j]) {
			inter++;
			i++;
			j++;
		} else if (x[i] < y[j]) {
			i++;
		} else {
			j++;
		}
	}
	return (double)inter / (double)(a->len + b->len - inter);
}

/* Pass 2, phrasings in the order they first appear: the group whose first
 * phrasing is the most similar (ties: the older group), or a new one. */
static void
group_phrasings(struct grouping *g)
{
	uint32_t *pre = NULL;
	size_t cap_pre = 0, empty = SIZE_MAX;
	size_t *stamp = xcalloc(g->nph ? g->nph : 1, sizeof *stamp);
	for (size_t p = 0; p < g->nph; p++) {
		struct phr *ph = &g->ph[p];
		size_t best_cl = SIZE_MAX;
		double best = 0;
		if (ph->len == 0) {
			best_cl = empty; /* only empty ones are like it */
			best = 1;
		}
		pre = xgrow(pre, &cap_pre, ph->len + 1, sizeof *pre);
		size_t np = prefix(g, ph, pre), scanned = 0;
		for (size_t k = 0; k < np && scanned < REPORT_SCAN_MAX; k++) {
			for (size_t m = 0; m < g->post[pre[k]].n && scanned < REPORT_SCAN_MAX;
			     m++) {
				size_t cl = g->post[pre[k]].v[m];
				scanned++; /* every look counts: the bound holds */
				if (stamp[cl] == p + 1)
					continue;
				stamp[cl] = p + 1;
				double s = jaccard(g, ph, &g->ph[g->cl_ph[cl]]);
				if (s > best || (s == best && s > 0 && cl < best_cl)) {
					best = s;
					best_cl = cl;
				}
			}
		}
		if (best_cl == SIZE_MAX || best < REPORT_SIMILARITY) {
			best_cl = g->ncl;
			g->cl_ph = xgrow(g->cl_ph, &g->cap_cl, g->ncl + 1, sizeof *g->cl_ph);
			g->cl_ph[g->ncl++] = p;
			if (ph->len == 0)
				empty = best_cl;
			for (size_t k = 0; k < np; k++) {
				struct postings *l = &g->post[pre[k]];
				l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof *l->v);
				l->v[l->n++] = best_cl;
			}
		}
		ph->cluster = best_cl;
	}
	free(stamp);
	free(pre);
}

static int
cmp_phrasing(const void *a, const void *b)
{
	const struct report_phrasing *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->example < y->example ? -1 : x->example > y->example;
}

static int
cmp_cluster(const void *x, const void *y)
{
	const struct report_cluster *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->example < b->example ? -1 : a->example > b->example;
}

/* Items with a candidate, ordered by group, candidate, then position. */
struct by_candidate {
	const struct report_item *items;
	const size_t *cluster_of;
};

static int
cmp_candidate(const void *a, const void *b, void *arg)
{
	const struct by_candidate *bc = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (bc->cluster_of[x] != bc->cluster_of[y])
		return bc->cluster_of[x] < bc->cluster_of[y] ? -1 : 1;
	int c = strcmp(bc->items[x].candidate, bc->items[y].candidate);
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Each group's most frequent best candidate (ties: the one seen first)
 * and its best score in the group. */
static void
find_closest(const struct report_item *items, size_t n, const size_t *cluster_of,
	     struct report_cluster *c)
{
	size_t *idx = xcalloc(n ? n : 1, sizeof *idx), m = 0;
	size_t *best_n = xcalloc(n ? n : 1, sizeof *best_n),
	       *best_first = xcalloc(n ? n : 1, sizeof *best_first);
	for (size_t i = 0; i < n; i++)
		if (items[i].candidate)
			idx[m++] = i;
	struct by_candidate bc = {items, cluster_of};
	qsort_r(idx, m, sizeof *idx, cmp_candidate, &bc);
	for (size_t r = 0; r < m;) {
		size_t cl = cluster_of[idx[r]], e = r, first = idx[r];
		double sc = 0;
		while (e < m && cluster_of[idx[e]] == cl &&
		       strcmp(items[idx[e]].candidate, items[idx[r]].candidate) == 0) {
			if (items[idx[e]].score > sc)
				sc = items[idx[e]].score;
			e++;
		}
		size_t cnt = e - r;
		if (cnt > best_n[cl] || (cnt == best_n[cl] && first < best_first[cl])) {
			best_n[cl] = cnt;
			best_first[cl] = first;
			c[cl].closest = items[first].candidate;
			c[cl].closest_score = sc;
		}
		r = e;
	}
	free(best_first);
	free(best_n);
	free(idx);
}

struct report_cluster *
report_cluster(struct text_ctx *t, const struct report_item *items, size_t n, size_t *nclusters)
{
	struct grouping g;
	memset(&g, 0, sizeof g);
	hmap_init(&g.stems);
	g.item_ph = xcalloc(n ? n : 1, sizeof *g.item_ph);
	read_phrasings(&g, t, items, n);
	group_phrasings(&g);

	struct report_cluster *c = xcalloc(g.ncl ? g.ncl : 1, sizeof *c);
	size_t *cluster_of = xcalloc(n ? n : 1, sizeof *cluster_of);
	for (size_t k = 0; k < g.ncl; k++)
		c[k].example = g.ph[g.cl_ph[k]].first;
	for (size_t p = 0; p < g.nph; p++)
		c[g.ph[p].cluster].nphrasings++;
	for (size_t k = 0; k < g.ncl; k++)
		c[k].phrasings = xcalloc(c[k].nphrasings, sizeof *c[k].phrasings);
	for (size_t k = 0; k < g.ncl; k++)
		c[k].nphrasings = 0;
	for (size_t p = 0; p < g.nph; p++) {
		struct report_cluster *cl = &c[g.ph[p].cluster];
		cl->phrasings[cl->nphrasings++] =
		    (struct report_phrasing){g.ph[p].first, g.ph[p].count};
		cl->count += g.ph[p].count;
	}
	for (size_t i = 0; i < n; i++)
		cluster_of[i] = g.ph[g.item_ph[i]].cluster;
	find_closest(items, n, cluster_of, c);
	for (size_t k = 0; k < g.ncl; k++)
		qsort(c[k].phrasings, c[k].nphrasings, sizeof *c[k].phrasings, cmp_phrasing);
	qsort(c, g.ncl, sizeof *c, cmp_cluster);

	size_t ns = hmap_count(&g.stems);
	for (size_t s = 0; s < ns; s++)
		free(g.post[s].v);
	free(g.post);
	free(cluster_of);
	free(g.cl_ph);
	free(g.item_ph);
	free(g.ph);
	free(g.pool);
	free(g.df);
	hmap_free(&g.stems);
	*nclusters = g.ncl;
	return c;
}

void
report_free(struct report_cluster *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].phrasings);
	free(c);
}

/* ---- thumbs -------------------------------------------------------------- */

static int
cmp_thumbs(const void *x, const void *y)
{
	const struct report_thumbs *a = x, *b = y;
	if (a->down != b->down)
		return a->down > b->down ? -1 : 1;
	if (a->up != b->up)
		return a->up < b->up ? -1 : 1;
	return strcmp(a->answer, b->answer);
}

struct report_thumbs *
report_tally(const struct report_vote *v, size_t n, size_t *nout)
{
	struct hmap ids;
	hmap_init(&ids);
	struct report_thumbs *t = xcalloc(n ? n : 1, sizeof *t);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		int ins;
		int *j = hmap_put(&ids, v[i].answer, strlen(v[i].answer), (int)m, &ins);
		if (ins)
			t[m++].answer = v[i].answer;
		if (v[i].helpful)
			t[*j].up++;
		else
			t[*j].down++;
	}
	hmap_free(&ids);
	qsort(t, m, sizeof *t, cmp_thumbs);
	*nout = m;
	return t;
}
