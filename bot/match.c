/*
 * match: IDF-weighted overlap matcher with typo and compound handling
 * (see match.h for the model).  Pure.
 */
#include "match.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "strbuf.h"
#include "typo.h"
#include "wordset.h"
#include "xmem.h"

#define TYPO_CACHE_MAX 8192
/* Scale: a term in more phrasings than LONG_POSTINGS only adds to the
 * phrasings rarer query terms already found (checked through the forward
 * index), instead of walking its whole list.  Exact for knowledge bases
 * below that size; at 10,000 answers it keeps a question's cost to its
 * distinctive words.  Terms in more than LONG_INTENTS intents get bitmaps. */
#define LONG_POSTINGS 64
#define LONG_INTENTS 512

const struct match_tuning match_default_tuning = {
    .q_exp = 0.30,
    .bag_weight = 0.45,
    .unknown_frac = 5.5,
    .unknown_common_frac = 0.8,
    .common_weight = 0.5,
    .c_typo1 = 0.85,
    .c_typo2 = 0.7,
    .c_split = 0.9,
    .q_exp_small = 0.8,
    .body_weight = 0.7,
    .stop_weight = 0.3,
    .unknown_exp = 0.3,
    .unknown_other_frac = 0.3,
};

struct term {
	double idf;          /* already scaled down for common English words */
	uint32_t p_off, p_n; /* phrasing postings */
	uint32_t i_off, i_n; /* intent postings */
	int32_t bitmap;      /* intent bitmaps (phrasing, body) or -1 */
	int last_intent;     /* build only */
	int last_phr;
	int last_body;
};

struct phr {
	uint32_t intent;
	double w; /* sum of idf of its terms */
	double log_w;
};

struct syn_var {
	uint32_t off, n;     /* variant stems in syn_stems */
	uint32_t c_off, c_n; /* canonical stems */
	int next;            /* next variant with the same first stem */
};

struct match_index {
	size_t nintent;
	struct hmap term_ids; /* stem -> term id */
	struct term *term;
	size_t nterms, capterms;
	uint32_t *ppost, *ipost;
	float *ipost_weight;     /* weight of each intent posting: 1, or body_weight */
	uint32_t *phr_terms;     /* forward index: each phrasing's term ids */
	uint32_t *phr_terms_off; /* per phrasing, into fwd; nph + 1 entries */
	double avg_phr_terms;    /* terms per phrasing, on average */
	uint64_t *bitmaps;       /* per long term: 2 x words_per_bm */
	size_t words_per_bm;
	struct phr *phr;
	size_t nphr, capphr;
	double unknown_weight;

	struct typo_index surf; /* surface words, with the typo index */
	char (*surf_stem)[TEXT_WORD_MAX];
	size_t capsurf;

	struct hmap syn_first; /* first stem -> first variant */
	struct syn_var *syn_vars;
	size_t nsyn_vars, capsyn_vars;
	char (*syn_stems)[TEXT_WORD_MAX];
	size_t nsyn_stems, capsyn_stems;
	struct hmap known; /* stems the matcher understands */
	struct hmap exact; /* whole phrasing, folded -> intent */
	struct match_tuning tu;
	const struct wordset *dict; /* borrowed English word list, or NULL */
	uint8_t *small_talk;        /* per intent */
};

/* a word of the query as the matcher reads it */
struct qtok {
	char stem[TEXT_WORD_MAX];
	double c;
	uint16_t tok;
};

struct qterm {
	int term;
	double c;
	uint16_t tok;
};

struct match_scratch {
	double *acc;
	uint32_t *touched;
	size_t ntouched, capph;
	double *best, *bag;
	uint32_t *itouched;
	uint8_t *iseen;
	size_t nitouched, capin;
	struct qtok *seq, *seq2;
	size_t nseq, nseq2, capseq, capseq2;
	struct qterm *qt;
	size_t nqt, capqt;
	struct hmap cache; /* query word -> surf id, or -2 */
	uint64_t cache_vocab;
	char (*reading)[48]; /* per query token: how it was read, "" if as typed */
	size_t capreading;
};

/* ---- helpers -------------------------------------------------------------- */

static int
term_id(struct match_index *m, const char *stem, size_t n)
{
	int ins;
	int *v = hmap_put(&m->term_ids, stem, n, (int)m->nterms, &ins);
	if (ins) {
		m->term = xgrow(m->term, &m->capterms, m->nterms + 1, sizeof *m->term);
		memset(&m->term[m->nterms], 0, sizeof *m->term);
		m->term[m->nterms].last_intent = -1;
		m->term[m->nterms].last_phr = -1;
		m->term[m->nterms].last_body = -1;
		m->nterms++;
	}
	return *v;
}

static void
add_surface(struct match_index *m, const struct token *k)
{
	if (k->flags & (TOK_STOP | TOK_NUMBER) || k->surf_len < 2)
		return;
	size_t before = typo_count(&m->surf);
	int id = typo_add(&m->surf, k->surf, k->surf_len);
	if (typo_count(&m->surf) == before)
		return;
	m->surf_stem = xgrow(m->surf_stem, &m->capsurf, (size_t)id + 1, sizeof *m->surf_stem);
	memcpy(m->surf_stem[id], k->stem, (size_t)k->stem_len + 1);
}

/* All words of a tokenised text joined by spaces; 0 if it does not fit. */
static size_t
surface_key(const struct tokens *tk, char *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < tk->n; i++) {
		size_t l = tk->v[i].surf_len;
		if (n + l + 2 > cap)
			return 0;
		if (i)
			buf[n++] = ' ';
		memcpy(buf + n, tk->v[i].surf, l);
		n += l;
	}
	return n;
}

/* Stems of the content words of s, appended to seq (as exact readings). */
static void
content_stems(struct text_ctx *t, const char *s, struct tokens *tk, struct qtok **seq, size_t *n,
	      size_t *cap)
{
	text_tokenize(t, s, strlen(s), tk);
	*n = 0;
	for (size_t i = 0; i < tk->n; i++) {
		if (tk->v[i].flags & TOK_STOP)
			continue;
		*seq = xgrow(*seq, cap, *n + 1, sizeof **seq);
		memcpy((*seq)[*n].stem, tk->v[i].stem, (size_t)tk->v[i].stem_len + 1);
		(*seq)[*n].c = 1.0;
		(*seq)[*n].tok = (uint16_t)i;
		(*n)++;
	}
}

static uint32_t
pool_stems(struct match_index *m, const struct qtok *seq, size_t n)
{
	uint32_t off = (uint32_t)m->nsyn_stems;
	m->syn_stems =
	    xgrow(m->syn_stems, &m->capsyn_stems, m->nsyn_stems + n, sizeof *m->syn_stems);
	for (size_t i = 0; i < n; i++)
		memcpy(m->syn_stems[m->nsyn_stems++], seq[i].stem, TEXT_WORD_MAX);
	return off;
}

static void
build_synonyms(struct match_index *m, struct text_ctx *t, const struct kb_syns *syns,
	       struct problems *pr)
{
	struct tokens tk = {0};
	struct qtok *seq = NULL;
	size_t n = 0, cap = 0;
	struct hmap seen; /* joined stems -> group */
	hmap_init(&seen);
	for (size_t g = 0; g < syns->n; g++) {
		const struct kb_syn *grp = &syns->v[g];
		content_stems(t, grp->terms[0].s, &tk, &seq, &n, &cap);
		if (n == 0)
			continue;
		for (size_t i = 0; i < tk.n; i++)
			add_surface(m, &tk.v[i]);
		uint32_t c_off = pool_stems(m, seq, n);
		uint32_t c_n = (uint32_t)n;
		for (uint32_t i = 0; i < c_n; i++)
			*hmap_put(&m->known, m->syn_stems[c_off + i],
				  strlen(m->syn_stems[c_off + i]), 1, NULL) = 1;
		for (size_t k = 0; k < grp->n; k++) {
			content_stems(t, grp->terms[k].s, &tk, &seq, &n, &cap);
			if (n == 0)
				continue;
			struct strbuf key = STRBUF_INIT;
			for (size_t i = 0; i < n; i++)
				sb_addf(&key, "%s ", seq[i].stem);
			int ins;
			int *first = hmap_put(&seen, key.s, key.len, (int)g, &ins);
			if (!ins) {
				if (*first != (int)g)
					problems_add(
					    pr, syns->file ? syns->file : "synonyms.txt",
					    grp->terms[k].line, 1,
					    "'%s' is already in the synonym group at line %u",
					    grp->terms[k].s, syns->v[*first].terms[0].line);
				sb_free(&key);
				continue;
			}
			sb_free(&key);
			for (size_t i = 0; i < tk.n; i++)
				add_surface(m, &tk.v[i]);
			if (k == 0)
				continue;
			m->syn_vars = xgrow(m->syn_vars, &m->capsyn_vars, m->nsyn_vars + 1,
					    sizeof *m->syn_vars);
			struct syn_var *v = &m->syn_vars[m->nsyn_vars];
			v->off = pool_stems(m, seq, n);
			v->n = (uint32_t)n;
			v->c_off = c_off;
			v->c_n = c_n;
			int *head =
			    hmap_put(&m->syn_first, seq[0].stem, strlen(seq[0].stem), -1, NULL);
			v->next = *head;
			*head = (int)m->nsyn_vars++;
			for (size_t i = 0; i < n; i++)
				*hmap_put(&m->known, seq[i].stem, strlen(seq[i].stem), 1, NULL) = 1;
		}
	}
	hmap_free(&seen);
	tokens_free(&tk);
	free(seq);
}

/* Rewrite in -> out replacing the longest synonym variant at each place. */
static void
apply_synonyms(const struct match_index *m, const struct qtok *in, size_t n, struct qtok **out,
	       size_t *on, size_t *cap)
{
	*on = 0;
	for (size_t i = 0; i < n;) {
		int best = -1;
		uint32_t best_n = 0;
		int v = hmap_get(&m->syn_first, in[i].stem, strlen(in[i].stem));
		for (; v >= 0; v = m->syn_vars[v].next) {
			const struct syn_var *sv = &m->syn_vars[v];
			if (sv->n <= best_n || i + sv->n > n)
				continue;
			uint32_t j = 0;
			while (j < sv->n && strcmp(in[i + j].stem, m->syn_stems[sv->off + j]) == 0)
				j++;
			if (j == sv->n) {
				best = v;
				best_n = sv->n;
			}
		}
		if (best < 0) {
			*out = xgrow(*out, cap, *on + 1, sizeof **out);
			(*out)[(*on)++] = in[i++];
			continue;
		}
		const struct syn_var *sv = &m->syn_vars[best];
		double c = 1.0;
		for (uint32_t j = 0; j < sv->n; j++)
			if (in[i + j].c < c)
				c = in[i + j].c;
		for (uint32_t j = 0; j < sv->c_n; j++) {
			*out = xgrow(*out, cap, *on + 1, sizeof **out);
			struct qtok *o = &(*out)[(*on)++];
			memcpy(o->stem, m->syn_stems[sv->c_off + j], TEXT_WORD_MAX);
			o->c = c;
			o->tok = in[i + (j < sv->n ? j : sv->n - 1)].tok;
		}
		i += sv->n;
	}
}

/* ---- build ------------------------------------------------------------- */

/* Build-time state shared by the steps of match_build. */
struct builder {
	struct text_ctx *t;
	struct tokens tk;
	struct qtok *seq, *seq2;
	size_t nseq, capseq, nseq2, capseq2;
	uint32_t *pterms; /* per phrasing: term ids, UINT32_MAX after each */
	size_t npt, cappt;
	uint32_t *bpairs; /* (term, intent) found only in answer text */
	size_t nbp, capbp;
	struct hmap common; /* stems of common English words seen */
	struct hmap stops;  /* stems of stop words seen */
};

/* Append the function words of b->tk to b->seq2 as weak terms ("who
 * should not", "how"). */
static void
add_stop_terms(const struct match_index *m, struct builder *b)
{
	for (size_t k = 0; m->tu.stop_weight > 0 && k < b->tk.n; k++) {
		const struct token *w = &b->tk.v[k];
		if (!(w->flags & TOK_STOP))
			continue;
		hmap_put(&b->stops, w->stem, w->stem_len, 1, NULL);
		b->seq2 = xgrow(b->seq2, &b->capseq2, b->nseq2 + 1, sizeof *b->seq2);
		memcpy(b->seq2[b->nseq2].stem, w->stem, (size_t)w->stem_len + 1);
		b->seq2[b->nseq2].c = 1.0;
		b->seq2[b->nseq2].tok = (uint16_t)k;
		b->nseq2++;
	}
}

/* One phrasing (a question or the title) of intent i: its terms counted
 * (postings filled later), the whole text kept for exact matches. */
static void
index_phrasing(struct match_index *m, struct builder *b, uint32_t i, const char *text,
	       const struct match_question_hook *hook, size_t question)
{
	content_stems(b->t, text, &b->tk, &b->seq, &b->nseq, &b->capseq);
	if (hook)
		hook->fn(hook->ctx, i, question, &b->tk);
	for (size_t k = 0; k < b->tk.n; k++) {
		add_surface(m, &b->tk.v[k]);
		if (b->tk.v[k].flags & TOK_COMMON)
			hmap_put(&b->common, b->tk.v[k].stem, b->tk.v[k].stem_len, 1, NULL);
	}
	char key[512];
	size_t kl = surface_key(&b->tk, key, sizeof key);
	if (kl)
		hmap_put(&m->exact, key, kl, (int)i, NULL);
	apply_synonyms(m, b->seq, b->nseq, &b->seq2, &b->nseq2, &b->capseq2);
	add_stop_terms(m, b);
	if (b->nseq2 == 0)
		return;
	int pid = (int)m->nphr;
	m->phr = xgrow(m->phr, &m->capphr, m->nphr + 1, sizeof *m->phr);
	m->phr[m->nphr].intent = i;
	m->phr[m->nphr].w = 0;
	m->nphr++;
	for (size_t k = 0; k < b->nseq2; k++) {
		const char *stem = b->seq2[k].stem;
		int id = term_id(m, stem, strlen(stem));
		*hmap_put(&m->known, stem, strlen(stem), 1, NULL) = 1;
		struct term *tm = &m->term[id];
		if (tm->last_phr == pid)
			continue;
		tm->last_phr = pid;
		tm->p_n++;
		if (tm->last_intent != (int)i) {
			tm->last_intent = (int)i;
			tm->i_n++;
		}
		b->pterms = xgrow(b->pterms, &b->cappt, b->npt + 1, sizeof *b->pterms);
		b->pterms[b->npt++] = (uint32_t)id;
	}
	b->pterms = xgrow(b->pterms, &b->cappt, b->npt + 1, sizeof *b->pterms);
	b->pterms[b->npt++] = UINT32_MAX;
}

/* The answer text of intent i: weaker evidence for it, and words a person
 * may use that the phrasings do not. */
static void
index_body(struct match_index *m, struct builder *b, uint32_t i, const char *body)
{
	content_stems(b->t, body, &b->tk, &b->seq, &b->nseq, &b->capseq);
	for (size_t k = 0; k < b->tk.n; k++)
		add_surface(m, &b->tk.v[k]);
	apply_synonyms(m, b->seq, b->nseq, &b->seq2, &b->nseq2, &b->capseq2);
	for (size_t k = 0; k < b->nseq2; k++) {
		const char *stem = b->seq2[k].stem;
		int id = term_id(m, stem, strlen(stem));
		*hmap_put(&m->known, stem, strlen(stem), 1, NULL) = 1;
		struct term *tm = &m->term[id];
		if (tm->last_intent == (int)i || tm->last_body == (int)i)
			continue;
		tm->last_body = (int)i;
		tm->i_n++;
		b->bpairs = xgrow(b->bpairs, &b->capbp, b->nbp + 2, sizeof *b->bpairs);
		b->bpairs[b->nbp++] = (uint32_t)id;
		b->bpairs[b->nbp++] = i;
	}
}

/* Each term's idf over intents (function and common words weigh less), its
 * postings' offsets (counting sort), and the weight of an unknown word. */
static void
weigh_terms(struct match_index *m, const struct builder *b)
{
	double sum_idf = 0, n = (double)m->nintent;
	uint32_t poff = 0, ioff = 0;
	for (size_t k = 0; k < m->nterms; k++) {
		struct term *tm = &m->term[k];
		double df = tm->i_n;
		size_t sl;
		const char *stem = hmap_key(&m->term_ids, k, &sl);
		tm->idf = log(1.0 + (n - df + 0.5) / (df + 0.5));
		if (hmap_get(&b->stops, stem, sl) >= 0)
			tm->idf *= m->tu.stop_weight;
		else if (hmap_get(&b->common, stem, sl) >= 0)
			tm->idf *= m->tu.common_weight;
		sum_idf += tm->idf;
		tm->p_off = poff;
		tm->i_off = ioff;
		poff += tm->p_n;
		ioff += tm->i_n;
		tm->p_n = tm->i_n = 0;
		tm->last_intent = -1;
	}
	m->unknown_weight = m->tu.unknown_frac * (m->nterms ? sum_idf / (double)m->nterms : 1.0);
	m->ppost = xcalloc(poff ? poff : 1, sizeof *m->ppost);
	m->ipost = xcalloc(ioff ? ioff : 1, sizeof *m->ipost);
	m->ipost_weight = xcalloc(ioff ? ioff : 1, sizeof *m->ipost_weight);
}

/* Phrasing and intent postings, each phrasing's weight, the forward index
 * (each phrasing's terms), then the body-only intent postings. */
static void
fill_postings(struct match_index *m, const struct builder *b)
{
	uint32_t pid = 0;
	for (size_t k = 0; k < b->npt; k++) {
		if (b->pterms[k] == UINT32_MAX) {
			pid++;
			continue;
		}
		struct term *tm = &m->term[b->pterms[k]];
		uint32_t intent = m->phr[pid].intent;
		m->ppost[tm->p_off + tm->p_n++] = pid;
		m->phr[pid].w += tm->idf;
		if (tm->last_intent != (int)intent) {
			tm->last_intent = (int)intent;
			m->ipost_weight[tm->i_off + tm->i_n] = 1.0f;
			m->ipost[tm->i_off + tm->i_n++] = intent;
		}
	}
	for (size_t k = 0; k < m->nphr; k++)
		m->phr[k].log_w = log(m->phr[k].w > 0 ? m->phr[k].w : 1e-9);
	m->phr_terms = xcalloc(b->npt ? b->npt : 1, sizeof *m->phr_terms);
	m->phr_terms_off = xcalloc(m->nphr + 1, sizeof *m->phr_terms_off);
	size_t nf = 0, pi = 0;
	for (size_t k = 0; k < b->npt; k++) {
		if (b->pterms[k] == UINT32_MAX)
			m->phr_terms_off[++pi] = (uint32_t)nf;
		else
			m->phr_terms[nf++] = b->pterms[k];
	}
	m->avg_phr_terms = m->nphr ? (double)nf / (double)m->nphr : 0;
	for (size_t k = 0; k < b->nbp; k += 2) {
		struct term *tm = &m->term[b->bpairs[k]];
		m->ipost_weight[tm->i_off + tm->i_n] = (float)m->tu.body_weight;
		m->ipost[tm->i_off + tm->i_n++] = b->bpairs[k + 1];
	}
}

/* Membership bitmaps (phrasing, body) for terms found in very many
 * intents. */
static void
build_bitmaps(struct match_index *m)
{
	m->words_per_bm = (m->nintent + 63) / 64;
	size_t nbm = 0;
	for (size_t k = 0; k < m->nterms; k++)
		m->term[k].bitmap = m->term[k].i_n > LONG_INTENTS ? (int32_t)nbm++ : -1;
	m->bitmaps = xcalloc(nbm * 2 * m->words_per_bm + 1, sizeof *m->bitmaps);
	for (size_t k = 0; k < m->nterms; k++) {
		const struct term *tm = &m->term[k];
		if (tm->bitmap < 0)
			continue;
		uint64_t *bits = m->bitmaps + (size_t)tm->bitmap * 2 * m->words_per_bm;
		for (uint32_t x = 0; x < tm->i_n; x++) {
			uint32_t in = m->ipost[tm->i_off + x];
			uint64_t *w =
			    bits + (m->ipost_weight[tm->i_off + x] >= 1.0f ? 0 : m->words_per_bm);
			w[in / 64] |= 1ULL << (in % 64);
		}
	}
}

struct match_index *
match_build(struct text_ctx *t, const struct kb_entry *entries, size_t n,
	    const struct kb_syns *syns, const struct wordset *dict, const struct match_tuning *tu,
	    struct problems *pr, const struct match_question_hook *hook)
{
	struct match_index *m = xcalloc(1, sizeof *m);
	struct builder b = {.t = t};
	hmap_init(&b.common);
	hmap_init(&b.stops);
	m->tu = tu ? *tu : match_default_tuning;
	m->dict = dict;
	m->small_talk = xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++)
		m->small_talk[i] = (uint8_t)entries[i].small_talk;
	hmap_init(&m->term_ids);
	typo_init(&m->surf);
	hmap_init(&m->syn_first);
	hmap_init(&m->known);
	hmap_init(&m->exact);
	m->nintent = n;
	if (syns)
		build_synonyms(m, t, syns, pr);
	for (size_t i = 0; i < n; i++) {
		const struct kb_entry *e = &entries[i];
		if (e->title.s)
			index_phrasing(m, &b, (uint32_t)i, e->title.s, NULL, 0);
		for (size_t q = 0; q < e->questions.n; q++)
			if (e->questions.v[q].s)
				index_phrasing(m, &b, (uint32_t)i, e->questions.v[q].s, hook, q);
		if (e->body && m->tu.body_weight > 0)
			index_body(m, &b, (uint32_t)i, e->body);
	}
	weigh_terms(m, &b);
	fill_postings(m, &b);
	build_bitmaps(m);
	typo_seal(&m->surf);
	hmap_free(&b.common);
	hmap_free(&b.stops);
	free(b.pterms);
	free(b.bpairs);
	free(b.seq);
	free(b.seq2);
	tokens_free(&b.tk);
	return m;
}

void
match_free(struct match_index *m)
{
	if (m == NULL)
		return;
	hmap_free(&m->term_ids);
	typo_free(&m->surf);
	hmap_free(&m->syn_first);
	hmap_free(&m->known);
	hmap_free(&m->exact);
	free(m->small_talk);
	free(m->term);
	free(m->ppost);
	free(m->ipost);
	free(m->ipost_weight);
	free(m->phr_terms);
	free(m->phr_terms_off);
	free(m->bitmaps);
	free(m->phr);
	free(m->surf_stem);
	free(m->syn_vars);
	free(m->syn_stems);
	free(m);
}

struct match_scratch *
match_scratch_new(void)
{
	struct match_scratch *s = xcalloc(1, sizeof *s);
	hmap_init(&s->cache);
	return s;
}

void
match_scratch_free(struct match_scratch *s)
{
	if (s == NULL)
		return;
	free(s->acc);
	free(s->touched);
	free(s->best);
	free(s->bag);
	free(s->itouched);
	free(s->iseen);
	free(s->seq);
	free(s->seq2);
	free(s->qt);
	free(s->reading);
	hmap_free(&s->cache);
	free(s);
}

/* ---- query ------------------------------------------------------------- */

static void
push_seq(struct match_scratch *s, const char *stem, double c, size_t tok)
{
	s->seq = xgrow(s->seq, &s->capseq, s->nseq + 1, sizeof *s->seq);
	struct qtok *q = &s->seq[s->nseq++];
	size_t l = strlen(stem);
	memcpy(q->stem, stem, l + 1);
	q->c = c;
	q->tok = (uint16_t)tok;
}

/* Read one unknown word: a compound split or a typo fix. */
static void
read_unknown(const struct match_index *m, struct match_scratch *s, const struct token *k, size_t i)
{
	size_t n = k->surf_len;
	int real_word = m->dict && wordset_has(m->dict, k->surf, n);
	if (n >= 6 && !real_word) {
		size_t best_split = 0, best_min = 0;
		for (size_t cut = 3; cut + 3 <= n; cut++) {
			if (typo_find(&m->surf, k->surf, cut) < 0 ||
			    typo_find(&m->surf, k->surf + cut, n - cut) < 0)
				continue;
			size_t mn = cut < n - cut ? cut : n - cut;
			if (mn > best_min) {
				best_min = mn;
				best_split = cut;
			}
		}
		if (best_split) {
			int a = typo_find(&m->surf, k->surf, best_split);
			int b = typo_find(&m->surf, k->surf + best_split, n - best_split);
			push_seq(s, m->surf_stem[a], m->tu.c_split, i);
			push_seq(s, m->surf_stem[b], m->tu.c_split, i);
			snprintf(s->reading[i], sizeof s->reading[i], "%.*s %.*s", (int)best_split,
				 k->surf, (int)(n - best_split), k->surf + best_split);
			return;
		}
	}
	if (n < 3 || (k->flags & TOK_COMMON))
		return;
	if (real_word)
		return; /* a real word, just not one the knowledge uses */
	if (s->cache_vocab != m->surf.hash || hmap_count(&s->cache) >= TYPO_CACHE_MAX) {
		hmap_clear(&s->cache);
		s->cache_vocab = m->surf.hash;
	}
	int ins;
	int *slot = hmap_put(&s->cache, k->surf, n, -2, &ins);
	if (ins) {
		int d = 0, f = typo_correct(&m->surf, k->surf, n, &d);
		*slot = f < 0 ? -2 : f * 4 + d;
	}
	if (*slot < 0)
		return;
	int fix = *slot / 4, dist = *slot % 4;
	push_seq(s, m->surf_stem[fix], dist == 1 ? m->tu.c_typo1 : m->tu.c_typo2, i);
	snprintf(s->reading[i], sizeof s->reading[i], "%s", typo_word(&m->surf, fix, NULL));
}

static void
ensure_scratch(const struct match_index *m, struct match_scratch *s, size_t ntok)
{
	if (s->capph < m->nphr) {
		s->capph = m->nphr;
		free(s->acc);
		free(s->touched);
		s->acc = xcalloc(m->nphr, sizeof *s->acc);
		s->touched = xcalloc(m->nphr, sizeof *s->touched);
	}
	if (s->capin < m->nintent) {
		s->capin = m->nintent;
		free(s->best);
		free(s->bag);
		free(s->itouched);
		free(s->iseen);
		s->best = xcalloc(m->nintent, sizeof *s->best);
		s->bag = xcalloc(m->nintent, sizeof *s->bag);
		s->itouched = xcalloc(m->nintent, sizeof *s->itouched);
		s->iseen = xcalloc(m->nintent, 1);
	}
	if (s->capreading < ntok + 1) {
		free(s->reading);
		s->capreading = ntok + 1;
		s->reading = xcalloc(s->capreading, sizeof *s->reading);
	}
}

/* A very common term: credit only the phrasings and intents already found. */
static void
add_late_term(const struct match_index *m, struct match_scratch *s, uint32_t term, double w)
{
	const struct term *tm = &m->term[term];
	/* walk whichever is shorter: the term's postings (acc != 0 marks a
	 * phrasing found already), or the found phrasings' own terms */
	if ((double)tm->p_n <= (double)s->ntouched * m->avg_phr_terms) {
		for (uint32_t k = 0; k < tm->p_n; k++) {
			uint32_t ph = m->ppost[tm->p_off + k];
			if (s->acc[ph] != 0)
				s->acc[ph] += w;
		}
	} else {
		for (size_t k = 0; k < s->ntouched; k++) {
			uint32_t ph = s->touched[k];
			for (uint32_t x = m->phr_terms_off[ph]; x < m->phr_terms_off[ph + 1]; x++)
				if (m->phr_terms[x] == term) {
					s->acc[ph] += w;
					break;
				}
		}
	}
	if (tm->bitmap < 0) {
		for (uint32_t k = 0; k < tm->i_n; k++) {
			uint32_t in = m->ipost[tm->i_off + k];
			if (s->iseen[in])
				s->bag[in] += w * m->ipost_weight[tm->i_off + k];
		}
		return;
	}
	const uint64_t *b = m->bitmaps + (size_t)tm->bitmap * 2 * m->words_per_bm;
	for (size_t k = 0; k < s->nitouched; k++) {
		uint32_t in = s->itouched[k];
		if (b[in / 64] >> (in % 64) & 1)
			s->bag[in] += w;
		else if (b[m->words_per_bm + in / 64] >> (in % 64) & 1)
			s->bag[in] += w * m->tu.body_weight;
	}
}

static void
touch_intent(struct match_scratch *s, uint32_t in)
{
	if (!s->iseen[in]) {
		s->iseen[in] = 1;
		s->best[in] = 0;
		s->bag[in] = 0;
		s->itouched[s->nitouched++] = in;
	}
}

static void
add_terms(const struct match_index *m, const struct match_scratch *s, const struct tokens *q,
	  struct match_cand *c)
{
	c->nterms = 0;
	for (size_t j = 0; j < s->nqt && c->nterms < MATCH_TERMS_MAX; j++) {
		if (s->qt[j].term < 0 || (q->v[s->qt[j].tok].flags & TOK_STOP))
			continue; /* explanations list the content words */
		const struct term *tm = &m->term[s->qt[j].term];
		for (uint32_t k = 0; k < tm->i_n; k++) {
			if (m->ipost[tm->i_off + k] == (uint32_t)c->intent) {
				int dup = 0;
				for (size_t x = 0; x < c->nterms; x++)
					dup |= c->terms[x] == s->qt[j].tok;
				if (!dup)
					c->terms[c->nterms++] = s->qt[j].tok;
				break;
			}
		}
	}
}

/* The intent whose phrasing the question is written as exactly (also
 * after a leading greeting: "hi, what can you do"), or -1. */
static int
exact_intent(const struct match_index *m, const struct tokens *q)
{
	static const char *const lead[] = {"hi ",
					   "hello ",
					   "hey ",
					   "hiya ",
					   "yo ",
					   "thanks ",
					   "ok ",
					   "okay ",
					   "so ",
					   "good morning ",
					   "good afternoon ",
					   "good evening ",
					   NULL};
	char key[512];
	size_t kl = surface_key(q, key, sizeof key);
	if (kl == 0)
		return -1;
	int ex = hmap_get(&m->exact, key, kl);
	for (const char *const *l = lead; *l && ex < 0; l++) {
		size_t ll = strlen(*l);
		if (kl > ll && memcmp(key, *l, ll) == 0)
			ex = hmap_get(&m->exact, key + ll, kl - ll);
	}
	return ex;
}

/* 1. Each content word as typed, split or typo-fixed, into s->seq. */
static void
read_words(const struct match_index *m, struct match_scratch *s, const struct tokens *q)
{
	s->nseq = 0;
	for (size_t i = 0; i < q->n; i++) {
		const struct token *k = &q->v[i];
		s->reading[i][0] = '\0';
		if (k->flags & TOK_STOP)
			continue; /* weak terms, added after synonyms */
		if (hmap_get(&m->known, k->stem, k->stem_len) >= 0 || (k->flags & TOK_NUMBER)) {
			push_seq(s, k->stem, 1.0, i);
			continue;
		}
		size_t before = s->nseq;
		read_unknown(m, s, k, i);
		if (s->nseq == before)
			push_seq(s, k->stem, 1.0, i); /* stays unknown */
	}
}

/*
 * 2. Synonyms, then function words the knowledge uses, into s->seq2;
 * 3. each distinct term once into s->qt.  Returns the question's weight:
 * its known terms' idf plus the penalty of its unknown words.
 */
static double
read_terms(const struct match_index *m, struct match_scratch *s, const struct tokens *q)
{
	apply_synonyms(m, s->seq, s->nseq, &s->seq2, &s->nseq2, &s->capseq2);
	for (size_t i = 0; m->tu.stop_weight > 0 && i < q->n; i++) {
		const struct token *k = &q->v[i];
		if (!(k->flags & TOK_STOP) || hmap_get(&m->term_ids, k->stem, k->stem_len) < 0)
			continue;
		s->seq2 = xgrow(s->seq2, &s->capseq2, s->nseq2 + 1, sizeof *s->seq2);
		memcpy(s->seq2[s->nseq2].stem, k->stem, (size_t)k->stem_len + 1);
		s->seq2[s->nseq2].c = 1.0;
		s->seq2[s->nseq2].tok = (uint16_t)i;
		s->nseq2++;
	}
	s->nqt = 0;
	double qden = 0;
	size_t n_unk = 0, n_unk_common = 0, n_unk_other = 0;
	for (size_t i = 0; i < s->nseq2; i++) {
		const struct qtok *t = &s->seq2[i];
		int id = hmap_get(&m->term_ids, t->stem, strlen(t->stem));
		int known = id >= 0 || hmap_get(&m->known, t->stem, strlen(t->stem)) >= 0;
		size_t j;
		for (j = 0; j < s->nqt; j++)
			if ((id >= 0 && s->qt[j].term == id) ||
			    (id < 0 && s->qt[j].term < 0 &&
			     strcmp(s->seq2[s->qt[j].tok].stem, t->stem) == 0))
				break;
		if (j < s->nqt) {
			if (id >= 0 && t->c > s->qt[j].c)
				s->qt[j].c = t->c;
			continue;
		}
		s->qt = xgrow(s->qt, &s->capqt, s->nqt + 1, sizeof *s->qt);
		s->qt[s->nqt].term = id;
		s->qt[s->nqt].c = t->c;
		s->qt[s->nqt].tok = (uint16_t)i; /* index into seq2 for now */
		s->nqt++;
		if (id >= 0)
			qden += m->term[id].idf;
		else if (!known) {
			const struct token *k = &q->v[t->tok];
			if (k->flags & TOK_COMMON)
				n_unk_common++;
			else if (!m->dict || wordset_has(m->dict, k->surf, k->surf_len))
				n_unk++; /* a real word from another topic */
			else
				n_unk_other++; /* slang, names, typos we could not fix */
		}
	}
	for (size_t j = 0; j < s->nqt; j++)
		s->qt[j].tok = s->seq2[s->qt[j].tok].tok; /* now a query token index */
	/* unknown words count against the question, each one less than the
	 * last: one strange noun sinks a short question, a long ramble keeps
	 * its chance */
	return qden + m->unknown_weight * (pow((double)n_unk, m->tu.unknown_exp) +
					   m->tu.unknown_common_frac / m->tu.unknown_frac *
					       pow((double)n_unk_common, m->tu.unknown_exp) +
					   m->tu.unknown_other_frac / m->tu.unknown_frac *
					       pow((double)n_unk_other, m->tu.unknown_exp));
}

/* 4. Add each known term's weight to the phrasings (s->acc) and intents
 * (s->bag) that hold it, rarest terms first: they find the candidates. */
static void
accumulate(const struct match_index *m, struct match_scratch *s)
{
	s->ntouched = 0;
	s->nitouched = 0;
	size_t order[256], nord = 0;
	for (size_t j = 0; j < s->nqt && nord < 256; j++) {
		if (s->qt[j].term < 0)
			continue;
		uint32_t pn = m->term[s->qt[j].term].p_n;
		size_t x = nord++;
		while (x > 0 && m->term[s->qt[order[x - 1]].term].p_n > pn) {
			order[x] = order[x - 1];
			x--;
		}
		order[x] = j;
	}
	int found = 0;
	for (size_t o = 0; o < nord; o++) {
		size_t j = order[o];
		const struct term *tm = &m->term[s->qt[j].term];
		double w = tm->idf * s->qt[j].c;
		if (found && tm->p_n > LONG_POSTINGS) {
			add_late_term(m, s, (uint32_t)s->qt[j].term, w);
			continue;
		}
		found |= tm->p_n > 0;
		for (uint32_t k = 0; k < tm->p_n; k++) {
			uint32_t ph = m->ppost[tm->p_off + k];
			if (s->acc[ph] == 0)
				s->touched[s->ntouched++] = ph;
			s->acc[ph] += w;
		}
		for (uint32_t k = 0; k < tm->i_n; k++) {
			uint32_t in = m->ipost[tm->i_off + k];
			touch_intent(s, in);
			s->bag[in] += w * m->ipost_weight[tm->i_off + k];
		}
	}
}

/* Each touched intent's best phrasing: qc^e * pc^(1-e) in logs (one log
 * per phrasing, one exp per intent), into s->best; clears s->acc. */
static void
score_phrasings(const struct match_index *m, struct match_scratch *s, double qden)
{
	double log_qden = qden > 0 ? log(qden) : 0;
	for (size_t k = 0; k < s->nitouched; k++)
		s->best[s->itouched[k]] = -HUGE_VAL;
	for (size_t k = 0; k < s->ntouched; k++) {
		uint32_t ph = s->touched[k];
		double ls = log(s->acc[ph]);
		s->acc[ph] = 0;
		double lq = ls - log_qden, lp = ls - m->phr[ph].log_w;
		if (lq > 0)
			lq = 0;
		if (lp > 0)
			lp = 0;
		uint32_t in = m->phr[ph].intent;
		double qe = m->small_talk[in] ? m->tu.q_exp_small : m->tu.q_exp;
		double v = qe * lq + (1.0 - qe) * lp;
		if (v > s->best[in])
			s->best[in] = v;
	}
	for (size_t k = 0; k < s->nitouched; k++) {
		uint32_t in = s->itouched[k];
		s->best[in] = s->best[in] == -HUGE_VAL ? 0 : exp(s->best[in]);
	}
}

/* Insert c into the top MATCH_TOP of out (score descending, then intent
 * ascending). */
static void
insert_cand(struct match_result *out, const struct match_cand *c)
{
	size_t pos = out->ncand;
	while (pos > 0 &&
	       (out->cand[pos - 1].score < c->score ||
		(out->cand[pos - 1].score == c->score && out->cand[pos - 1].intent > c->intent)))
		pos--;
	if (pos >= MATCH_TOP)
		return;
	size_t last = out->ncand < MATCH_TOP ? out->ncand : MATCH_TOP - 1;
	for (size_t x = last; x > pos; x--)
		out->cand[x] = out->cand[x - 1];
	out->cand[pos] = *c;
	if (out->ncand < MATCH_TOP)
		out->ncand++;
}

/* 5. Rank: each intent's best phrasing blended with its bag of words. */
static void
rank(const struct match_index *m, struct match_scratch *s, double qden, struct match_result *out)
{
	for (size_t k = 0; k < s->nitouched; k++) {
		uint32_t in = s->itouched[k];
		s->iseen[in] = 0;
		double bag = s->bag[in] / qden;
		if (bag > 1)
			bag = 1;
		double bw = m->small_talk[in] ? 0 : m->tu.bag_weight;
		struct match_cand c = {(int)in, (1.0 - bw) * s->best[in] + bw * bag, 0, {0}};
		insert_cand(out, &c);
	}
}

/* Written exactly as a phrasing of ex: that intent first, full confidence. */
static void
put_exact(struct match_result *out, int ex)
{
	size_t at = out->ncand < MATCH_TOP ? out->ncand : MATCH_TOP - 1;
	for (size_t k = 0; k < out->ncand; k++)
		if (out->cand[k].intent == ex)
			at = k;
	if (at == out->ncand)
		out->ncand++;
	for (size_t k = at; k > 0; k--)
		out->cand[k] = out->cand[k - 1];
	out->cand[0].intent = ex;
	out->cand[0].score = 1.0;
}

/* Answer, ask which was meant, or fall back, from the ranked candidates. */
static void
decide(const struct match_index *m, const struct match_params *p, struct match_result *out)
{
	/* a greeting in front of a question does not hide the question */
	if (m->small_talk[out->cand[0].intent]) {
		for (size_t k = 1; k < out->ncand; k++) {
			if (m->small_talk[out->cand[k].intent] || out->cand[k].score < p->threshold)
				continue;
			struct match_cand c = out->cand[k];
			for (size_t x = k; x > 0; x--)
				out->cand[x] = out->cand[x - 1];
			out->cand[0] = c;
			break;
		}
	}
	out->score = out->cand[0].score;
	double second = 0;
	for (size_t k = 1; k < out->ncand; k++)
		if (out->cand[k].score > second &&
		    (m->small_talk[out->cand[0].intent] || !m->small_talk[out->cand[k].intent]))
			second = out->cand[k].score;
	if (out->score < p->threshold)
		return;
	if (out->score - second < p->margin) {
		out->ambiguous = 1;
		return;
	}
	out->intent = out->cand[0].intent;
}

void
match_query(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
	    const struct match_params *p, struct match_result *out)
{
	memset(out, 0, sizeof *out);
	out->intent = -1;
	ensure_scratch(m, s, q->n);
	int ex = exact_intent(m, q);
	read_words(m, s, q);
	double qden = read_terms(m, s, q);
	if (qden > 0)
		accumulate(m, s);
	else
		s->ntouched = s->nitouched = 0;
	score_phrasings(m, s, qden);
	rank(m, s, qden, out);
	if (ex >= 0)
		put_exact(out, ex);
	for (size_t k = 0; k < out->ncand; k++)
		add_terms(m, s, q, &out->cand[k]);
	if (out->ncand == 0)
		return;
	if (ex >= 0) {
		out->score = 1.0;
		out->intent = ex;
		return;
	}
	decide(m, p, out);
}

int
match_token_reading(const struct match_index *m, struct match_scratch *s, size_t i, char *buf,
		    size_t len)
{
	(void)m;
	if (i >= s->capreading || s->reading[i][0] == '\0')
		return 0;
	snprintf(buf, len, "%s", s->reading[i]);
	return 1;
}
