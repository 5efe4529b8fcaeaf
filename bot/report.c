/*
 * report: greedy Jaccard clustering of unanswered questions (see report.h).
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "xmem.h"

struct set {
	char (*w)[TEXT_WORD_MAX];
	size_t n;
};

static int
has(const struct set *s, const char *w)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->w[i], w) == 0)
			return 1;
	return 0;
}

static struct set
stems_of(struct text_ctx *t, const char *q, struct tokens *tk)
{
	struct set s = {NULL, 0};
	text_tokenize(t, q, strlen(q), tk);
	s.w = xcalloc(tk->n ? tk->n : 1, sizeof *s.w);
	for (size_t i = 0; i < tk->n; i++)
		if (!(tk->v[i].flags & TOK_STOP) && !has(&s, tk->v[i].stem))
			memcpy(s.w[s.n++], tk->v[i].stem, TEXT_WORD_MAX);
	return s;
}

static double
jaccard(const struct set *a, const struct set *b)
{
	if (a->n == 0 && b->n == 0)
		return 1.0;
	size_t inter = 0;
	for (size_t i = 0; i < a->n; i++)
		inter += has(b, a->w[i]);
	return (double)inter / (double)(a->n + b->n - inter);
}

static int
cmp_cluster(const void *x, const void *y)
{
	const struct report_cluster *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->example < b->example ? -1 : a->example > b->example;
}

struct report_cluster *
report_cluster(struct text_ctx *t, const struct report_item *items, size_t n, size_t *nclusters)
{
	struct tokens tk = {0};
	struct set *sets = xcalloc(n ? n : 1, sizeof *sets);
	struct report_cluster *c = xcalloc(n ? n : 1, sizeof *c);
	size_t nc = 0;
	for (size_t i = 0; i < n; i++) {
		sets[i] = stems_of(t, items[i].question, &tk);
		double best = 0;
		size_t bi = nc;
		for (size_t k = 0; k < nc; k++) {
			/* compare with the cluster's first question: stable clusters */
			double s = jaccard(&sets[i], &sets[c[k].example]);
			if (s > best) {
				best = s;
				bi = k;
			}
		}
		if (bi == nc || best < REPORT_SIMILARITY) {
			bi = nc++;
			c[bi].example = i;
			c[bi].members = xcalloc(n, sizeof *c[bi].members);
		}
		c[bi].members[c[bi].count++] = i;
	}
	for (size_t k = 0; k < nc; k++) {
		/* the most frequent best candidate (ties: first seen) */
		size_t best_n = 0;
		for (size_t a = 0; a < c[k].count; a++) {
			const char *ca = items[c[k].members[a]].candidate;
			if (ca == NULL)
				continue;
			size_t cnt = 0;
			double sc = 0;
			for (size_t b = 0; b < c[k].count; b++) {
				const struct report_item *it = &items[c[k].members[b]];
				if (it->candidate && strcmp(it->candidate, ca) == 0) {
					cnt++;
					if (it->score > sc)
						sc = it->score;
				}
			}
			if (cnt > best_n) {
				best_n = cnt;
				c[k].closest = ca;
				c[k].closest_score = sc;
			}
		}
	}
	qsort(c, nc, sizeof *c, cmp_cluster);
	for (size_t i = 0; i < n; i++)
		free(sets[i].w);
	free(sets);
	tokens_free(&tk);
	*nclusters = nc;
	return c;
}

void
report_free(struct report_cluster *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].members);
	free(c);
}
