/*
 * distress: makes the learned safety words (bot/distress.h) from the tables
 * of tests/data: knowledge/safety/rule-words.txt, one model per rule.
 *   distress [--cv] KNOWLEDGE_DIR OUT.txt TABLE.tsv...
 * Every rule but the disclaimer has a model.  Rule R's positives are the
 * rows of the safety tables (a file whose name holds "safety") that must
 * fire R (a cell "a|b": each of a and b); its negatives every other message
 * of every table (other safety rows, traps, the matcher's and the
 * dialogues' questions) except those on which the hand-written rules fire
 * R themselves (no evidence against R).  Crisis and talk-to-someone are two
 * models like the others: a row that must fire crisis is not a positive of
 * talk-to-someone (cross-validation: 35 of the 83 talk-to-someone rows
 * reached, against 33 when crisis rows count too, which left as many
 * crisis rows the rules miss without any line: 10 and 11), and the crisis model
 * learns from talk-to-someone rows as negatives, so that low mood without
 * intent seldom gets the crisis line.
 *
 * Each message is read as the bot reads it (the knowledge's tokeniser and
 * lexicon, distress_features): its words' stems and its pairs of adjacent
 * stems.  A logistic model over those seen in two messages or more is
 * fitted by stochastic gradient descent (fixed seed: the same tables give
 * the same file), the KEEP_RULE weights that weigh most (KEEP_CRISIS for
 * crisis) are kept and fitted again alone, and written in thousandths.
 * A rule's threshold `at` lies a margin above the highest score of a
 * negative that is an ordinary message (of a table that is not a safety
 * table) or a safety row that must not fire R, scored through the bot's
 * own reader of the file; the margin is the smallest of MARGINS with which
 * five-fold cross-validation sees at most RULE_FA of those negatives,
 * unseen, reach it, raised rule by rule while more than RULE_FA of the
 * unseen ordinary messages get some rule's line.  The figures go to stdout
 * and the file's header; --cv adds every margin's and the unseen messages
 * that got a line.  Development tool (make rulewords).
 */
#include "distress.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "hmap.h"
#include "kb.h"
#include "strbuf.h"
#include "trainer.h"
#include "xmem.h"

#define MIN_DOCS 2
#define EPOCHS 15
#define RATE 0.2
#define L2 1e-4
#define BIAS0 -3.0
#define KEEP_RULE 600 /* weights kept per rule */
/* weights kept for crisis, said in more ways and languages than any other
 * rule: cross-validation reached 933 of 1,524 crisis rows with 600, 1,072
 * with 1,400 */
#define KEEP_CRISIS 1400
#define RULE_FA 0.005 /* of unseen ordinary messages, at most this many get a rule's line */
#define RULES_MAX 16

enum { WHOLE, LONG_WHOLE, WINDOW };

struct doc {
	char *text;
	int *f; /* feature ids, each once */
	size_t nf;
	int fold;    /* for --cv: which fifth of the messages it is in */
	int part;    /* WHOLE, or a long message: LONG_WHOLE, or one WINDOW of it */
	int safety;  /* of a safety table */
	int table;   /* which table it is from (its place on the command line) */
	size_t ntok; /* its words */
	unsigned must, mustnot, fired; /* bit j for rule j, must fire, must not,
					  fired by the hand-written rules */
	/* for the model being made: */
	int pos;   /* a positive */
	int skip;  /* neither positive nor negative */
	int guard; /* a negative the threshold lies above */
};

struct feat {
	char *key;     /* "stem" or "stem stem" */
	char *written; /* how the file writes it: the words as typed */
	size_t docs;   /* messages that hold it */
	double w;
	int keep;
};

struct model {
	size_t keep;     /* weights kept */
	struct hmap ids; /* key -> index in f */
	struct feat *f;
	size_t nf, capf;
	struct doc *d;
	size_t nd, capd;
	double b;
	/* the rules made, their ids */
	const char *rule[RULES_MAX];
	int rule_ix[RULES_MAX];
	size_t nrules;
};

struct collect {
	struct model *m;
	const struct tokens *tk;
	struct doc *doc;
	size_t cap;
};

static void
collect(const char *key, size_t n, size_t tok, size_t ntok, void *arg)
{
	struct collect *c = arg;
	struct model *m = c->m;
	int ins;
	int *id = hmap_put(&m->ids, key, n, (int)m->nf, &ins);
	if (ins) {
		m->f = xgrow(m->f, &m->capf, m->nf + 1, sizeof *m->f);
		struct feat *f = &m->f[m->nf++];
		memset(f, 0, sizeof *f);
		f->key = xstrndup(key, n);
		struct strbuf w = STRBUF_INIT;
		for (size_t i = tok; i < tok + ntok; i++)
			sb_addf(&w, "%s%s", i > tok ? " " : "", c->tk->v[i].surf);
		f->written = sb_steal(&w);
		sb_free(&w);
	}
	for (size_t i = 0; i < c->doc->nf; i++)
		if (c->doc->f[i] == *id)
			return;
	c->doc->f = xgrow(c->doc->f, &c->cap, c->doc->nf + 1, sizeof *c->doc->f);
	c->doc->f[c->doc->nf++] = *id;
	m->f[*id].docs++;
}

/* The rules of a must-fire or must-not-fire cell, as bits of m->rule. */
static unsigned
rule_bits(const struct model *m, const char *cell)
{
	unsigned bits = 0;
	const char *p = cell;
	while (*p) {
		size_t n = strcspn(p, ",|\t ");
		for (size_t j = 0; j < m->nrules; j++)
			if (n == strlen(m->rule[j]) && strncmp(p, m->rule[j], n) == 0)
				bits |= 1u << j;
		p += n;
		p += *p != '\0';
	}
	return bits;
}

/* A message (text, n bytes) as one document; part: see struct doc.
 * Returns its index. */
static size_t
add_doc(struct model *m, struct answer_ctx *ac, const struct knowledge *k, struct tokens *tk,
	const char *text, size_t n, const struct doc *labels, int part)
{
	m->d = xgrow(m->d, &m->capd, m->nd + 1, sizeof *m->d);
	struct doc *d = &m->d[m->nd];
	*d = *labels;
	d->fold = -1;
	d->part = part;
	d->text = xstrndup(text, n);
	text_tokenize(ac->text, d->text, n, tk);
	d->ntok = tk->n;
	struct safety_hit h[REPLY_MAX_RULES];
	size_t nh = m->nrules ? safety_eval(k->safety, ac->ss, tk, h, REPLY_MAX_RULES) : 0;
	for (size_t i = 0; i < nh; i++)
		for (size_t j = 0; j < m->nrules; j++)
			if (h[i].rule == m->rule_ix[j])
				d->fired |= 1u << j;
	struct collect c = {m, tk, d, 0};
	distress_features(tk, collect, &c);
	return m->nd++;
}

struct table {
	struct model *m;
	struct answer_ctx *ac;
	const struct knowledge *k;
	struct tokens *tk;
	int safety; /* a safety table (message, must fire, must not fire) */
	int index;  /* its place among the tables */
};

static int
table_line(char *line, unsigned n, void *arg)
{
	(void)n;
	struct table *t = arg;
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	char *must = strchr(line, '\t'), *mustnot = NULL;
	if (must) {
		*must++ = '\0';
		mustnot = strchr(must, '\t');
		if (mustnot)
			*mustnot++ = '\0';
	}
	struct doc labels = {0};
	labels.safety = t->safety && must;
	labels.table = t->index;
	if (labels.safety) {
		labels.must = rule_bits(t->m, must);
		labels.mustnot = mustnot ? rule_bits(t->m, mustnot) : 0;
	}
	size_t len = strlen(line);
	if (len <= ANSWER_INPUT_MAX) {
		add_doc(t->m, t->ac, t->k, t->tk, line, len, &labels, WHOLE);
		return 0;
	}
	/* a long message: whole for a positive, window by window for a
	 * negative, as the bot reads it (answer_window) */
	size_t whole = add_doc(t->m, t->ac, t->k, t->tk, line, len, &labels, LONG_WHOLE);
	t->m->d[whole].fired = 0;
	for (size_t start = 0, next; start < len; start = next) {
		size_t end = answer_window(line, len, start, &next);
		size_t w =
		    add_doc(t->m, t->ac, t->k, t->tk, line + start, end - start, &labels, WINDOW);
		t->m->d[whole].fired |= t->m->d[w].fired;
	}
	return 0;
}

static int
load_table(struct model *m, struct answer_ctx *ac, const struct knowledge *k, struct tokens *tk,
	   const char *path, int index)
{
	struct table t = {m, ac, k, tk, trainer_safety_table(path), index};
	return trainer_lines("distress", path, table_line, &t);
}

/* Does doc d, for a model where it is a positive (pos) or not, count?  A
 * long message counts whole as a positive, window by window as a negative. */
static int
counts(const struct doc *d, int pos)
{
	return d->part == WHOLE || (d->part == LONG_WHOLE) == pos;
}

/* Every model's score of text (scores[m]) as the bot reads it: the
 * highest of the windows a long message is read in (answer_window). */
static void
scores_as_read(struct answer_ctx *ac, const struct distress *ds, const char *text,
	       struct tokens *tk, long *scores)
{
	size_t n = distress_nmodels(ds), len = strlen(text);
	for (size_t m = 0; m < n; m++)
		scores[m] = LONG_MIN;
	for (size_t start = 0, next; start < len; start = next) {
		size_t end = answer_window(text, len, start, &next);
		text_tokenize(ac->text, text + start, end - start, tk);
		struct distress_scores s;
		distress_score_all(ds, tk, &s);
		for (size_t m = 0; m < n; m++)
			scores[m] = s.score[m] > scores[m] ? s.score[m] : scores[m];
	}
}

/* Labels for rule j (see the top). */
static void
label_rule(struct model *m, size_t j)
{
	unsigned bit = 1u << j;
	for (size_t i = 0; i < m->nd; i++) {
		struct doc *d = &m->d[i];
		d->pos = (d->must & bit) != 0;
		d->skip = !counts(d, d->pos) || (!d->pos && (d->fired & bit));
		d->guard = !d->pos && !d->skip && (!d->safety || (d->mustnot & bit));
	}
}

/* Fits the weights of the features marked keep (the others stay 0) on the
 * messages not in fold `out` (-1: on all). */
static void
fit(struct model *m, int out)
{
	for (size_t i = 0; i < m->nf; i++)
		m->f[i].w = 0;
	m->b = BIAS0;
	size_t *order = xmalloc(m->nd * sizeof *order);
	for (size_t i = 0; i < m->nd; i++)
		order[i] = i;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (int e = 0; e < EPOCHS; e++) {
		for (size_t i = m->nd; i > 1; i--) {
			size_t j = (size_t)(trainer_rand(&seed) % i);
			size_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t k = 0; k < m->nd; k++) {
			const struct doc *d = &m->d[order[k]];
			if ((out >= 0 && d->fold == out) || d->skip)
				continue;
			double z = m->b;
			for (size_t i = 0; i < d->nf; i++)
				if (m->f[d->f[i]].keep)
					z += m->f[d->f[i]].w;
			z = z > 30 ? 30 : z < -30 ? -30 : z;
			double g = 1.0 / (1.0 + exp(-z)) - d->pos;
			m->b -= RATE * g;
			for (size_t i = 0; i < d->nf; i++) {
				struct feat *f = &m->f[d->f[i]];
				if (f->keep)
					f->w -= RATE * (g + L2 * f->w);
			}
		}
	}
	free(order);
}

static int
by_weight(const void *a, const void *b)
{
	const struct feat *x = *(struct feat *const *)a, *y = *(struct feat *const *)b;
	if (fabs(x->w) != fabs(y->w))
		return fabs(x->w) < fabs(y->w) ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int
by_value(const void *a, const void *b)
{
	const struct feat *x = *(struct feat *const *)a, *y = *(struct feat *const *)b;
	long p = lround(x->w * 1000), q = lround(y->w * 1000);
	if (p != q)
		return p < q ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* Both fits: all usable features, then the KEEP that weigh most, alone.
 * byw: room for every feature; returns how many were kept (byw[0..]). */
static size_t
fit_kept(struct model *m, const int *usable, struct feat **byw, int out)
{
	for (size_t i = 0; i < m->nf; i++)
		m->f[i].keep = usable[i];
	fit(m, out);
	size_t nk = 0;
	for (size_t i = 0; i < m->nf; i++)
		if (m->f[i].keep)
			byw[nk++] = &m->f[i];
	qsort(byw, nk, sizeof *byw, by_weight);
	for (size_t i = 0; i < m->nf; i++)
		m->f[i].keep = 0;
	nk = nk < m->keep ? nk : m->keep;
	for (size_t i = 0; i < nk; i++)
		byw[i]->keep = 1;
	fit(m, out);
	return nk;
}

static double
doc_score(const struct model *m, const struct doc *d)
{
	double z = m->b;
	for (size_t i = 0; i < d->nf; i++)
		if (m->f[d->f[i]].keep)
			z += m->f[d->f[i]].w;
	return z;
}

#define FOLDS 5

/*
 * Five-fold cross-validation: each fifth of the messages scored by a model
 * made without it, less the highest score of the other four fifths'
 * negatives under the thresholds (guard): per message, how far above (or
 * below) the lowest threshold its model could have it is.  Owned array.
 */
static double *
cv_rel(struct model *m, const int *usable, struct feat **byw)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	for (size_t i = 0; i < m->nd; i++)
		m->d[i].fold = (int)(trainer_rand(&seed) % FOLDS);
	double *rel = xcalloc(m->nd, sizeof *rel);
	for (int f = 0; f < FOLDS; f++) {
		fit_kept(m, usable, byw, f);
		double top = -1e9;
		for (size_t i = 0; i < m->nd; i++)
			if (m->d[i].fold != f && m->d[i].guard) {
				double z = doc_score(m, &m->d[i]);
				top = z > top ? z : top;
			}
		for (size_t i = 0; i < m->nd; i++)
			if (m->d[i].fold == f)
				rel[i] = doc_score(m, &m->d[i]) - top;
	}
	for (size_t i = 0; i < m->nd; i++)
		m->d[i].fold = -1;
	return rel;
}

static void
milli(struct strbuf *b, long v)
{
	sb_addf(b, "%s%ld.%03ld", v < 0 ? "-" : "", labs(v) / 1000, labs(v) % 1000);
}

static const double margins[] = {0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
#define NM (sizeof margins / sizeof *margins)

/* One rule's model as made: its weights (feature, thousandths, largest
 * first), bias, margin and what cross-validation saw. */
struct made {
	size_t *feat;
	long *w;
	size_t nk;
	long bias, at;
	size_t margin;                        /* index in margins */
	size_t pos, missed, guards, ordinary; /* held out: positives, of them the rules miss */
	size_t tp[NM], rescued[NM], fa[NM], fa_ord[NM];
	double *rel; /* per message: its held-out score less its fold's highest guard */
};

/* Five-fold cross-validation of rule j's model (its labels set): for each
 * margin, how many unseen positives and negatives under the threshold
 * would reach it; the margin chosen is the smallest with at most RULE_FA
 * of the unseen negatives. */
static void
cv_rule(struct model *m, const int *usable, struct feat **byw, struct made *r)
{
	r->rel = cv_rel(m, usable, byw);
	for (size_t i = 0; i < m->nd; i++) {
		const struct doc *d = &m->d[i];
		if (d->skip || (!d->pos && !d->guard))
			continue;
		r->pos += (size_t)d->pos;
		r->guards += (size_t)d->guard;
		r->ordinary += (size_t)(d->guard && !d->safety);
		for (size_t t = 0; t < NM; t++) {
			if (r->rel[i] <= margins[t])
				continue;
			r->tp[t] += (size_t)d->pos;
			r->fa[t] += (size_t)d->guard;
			r->fa_ord[t] += (size_t)(d->guard && !d->safety);
		}
	}
	r->margin = NM - 1;
	for (size_t t = NM; t-- > 0;)
		if ((double)r->fa[t] <= RULE_FA * (double)r->guards)
			r->margin = t;
}

/* The rule called id (its index in m->rule), or m->nrules. */
static size_t
rule_named(const struct model *m, const char *id)
{
	size_t j = 0;
	while (j < m->nrules && strcmp(m->rule[j], id) != 0)
		j++;
	return j;
}

/* How many rows that must fire talk-to-someone and not crisis (low mood
 * without intent) got the crisis line in cross-validation; *of: how many
 * there are. */
static size_t
talk_given_crisis(const struct model *m, const struct made *r, size_t *of)
{
	size_t c = rule_named(m, "crisis"), t = rule_named(m, "talk-to-someone"), n = 0;
	*of = 0;
	if (c == m->nrules || t == m->nrules)
		return 0;
	for (size_t i = 0; i < m->nd; i++) {
		const struct doc *d = &m->d[i];
		if (!(d->must & 1u << t) || (d->must & 1u << c) || d->part == WINDOW)
			continue;
		++*of;
		n += (size_t)(r[c].rel[i] > margins[r[c].margin]);
	}
	return n;
}

/* ---- the unless model ------------------------------------------------------ */

#define UNLESS_WORDS 30    /* the longest message it may doubt, in words */
#define UNLESS_KEEP 4000   /* weights kept */
#define UNLESS_RIGHT 0.001 /* of the right lines, at most this many doubted unseen */
static const double unless_at[] = {0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25,
				   2.5, 2.75, 3.0, 3.5,  4.0, 5.0,  6.0};
#define NU (sizeof unless_at / sizeof *unless_at)

/* The unless model as made, and what leaving each table out saw. */
struct unless_made {
	size_t *feat;
	long *w;
	size_t nk;
	long bias, at;
	long for_w[RULES_MAX];
	size_t right, wrong;       /* the lines it learned from */
	size_t cv_right, cv_wrong; /* of them, doubted by a model made without their table */
	size_t cv_wrong_rule[RULES_MAX], cv_right_rule[RULES_MAX];
};

/*
 * The unless model: one model for every rule's lines (a feature per rule
 * adds the rule's own lean, its `for` weight).  Its examples are the lines
 * the hand-written rules give to the safety rows of at most UNLESS_WORDS
 * words: a wrong line where the row must not fire it or must fire
 * nothing, a right one where it must.  `at` is the lowest of unless_at at
 * which at most UNLESS_RIGHT of the right lines are doubted, each line
 * scored by a model made without its table (writers differ more between
 * tables than within one).
 */
static void
make_unless(struct model *m, const int *usable, struct unless_made *u)
{
	struct model v = {0};
	v.nf = m->nf + m->nrules;
	v.f = xcalloc(v.nf, sizeof *v.f);
	memcpy(v.f, m->f, m->nf * sizeof *v.f);
	int *use = xcalloc(v.nf, sizeof *use);
	memcpy(use, usable, m->nf * sizeof *use);
	for (size_t j = 0; j < m->nrules; j++) {
		v.f[m->nf + j].key = xstrdup(m->rule[j]);
		use[m->nf + j] = 1;
	}
	size_t *rule_of_ex = NULL, capr = 0;
	int nfold = 0;
	for (size_t i = 0; i < m->nd; i++) {
		const struct doc *d = &m->d[i];
		if (!d->safety || d->part != WHOLE || d->ntok > UNLESS_WORDS)
			continue;
		for (size_t j = 0; j < m->nrules; j++) {
			unsigned bit = 1u << j;
			int trap = d->must == 0; /* a row with nothing to fire */
			if (!(d->fired & bit) || (!((d->must | d->mustnot) & bit) && !trap))
				continue;
			v.d = xgrow(v.d, &v.capd, v.nd + 1, sizeof *v.d);
			rule_of_ex = xgrow(rule_of_ex, &capr, v.nd + 1, sizeof *rule_of_ex);
			struct doc *x = &v.d[v.nd];
			memset(x, 0, sizeof *x);
			x->nf = d->nf + 1;
			x->f = xmalloc(x->nf * sizeof *x->f);
			memcpy(x->f, d->f, d->nf * sizeof *x->f);
			x->f[d->nf] = (int)(m->nf + j);
			x->pos = (d->mustnot & bit) != 0 || trap;
			x->fold = d->table;
			nfold = d->table + 1 > nfold ? d->table + 1 : nfold;
			rule_of_ex[v.nd++] = j;
			u->wrong += (size_t)x->pos;
			u->right += (size_t)!x->pos;
		}
	}
	v.keep = UNLESS_KEEP;
	struct feat **byw = xmalloc(v.nf * sizeof *byw);
	double *held = xcalloc(v.nd ? v.nd : 1, sizeof *held);
	for (int f = 0; f < nfold; f++) {
		size_t in = 0;
		for (size_t i = 0; i < v.nd; i++)
			in += (size_t)(v.d[i].fold == f);
		if (in == 0)
			continue;
		fit_kept(&v, use, byw, f);
		for (size_t i = 0; i < v.nd; i++)
			if (v.d[i].fold == f)
				held[i] = doc_score(&v, &v.d[i]);
	}
	size_t t = 0;
	for (;; t++) {
		size_t right = 0;
		for (size_t i = 0; i < v.nd; i++)
			right += (size_t)(!v.d[i].pos && held[i] >= unless_at[t]);
		if ((double)right <= UNLESS_RIGHT * (double)u->right || t + 1 == NU)
			break;
	}
	u->at = lround(unless_at[t] * 1000);
	for (size_t i = 0; i < v.nd; i++) {
		if (held[i] < unless_at[t])
			continue;
		size_t j = rule_of_ex[i];
		if (v.d[i].pos) {
			u->cv_wrong++;
			u->cv_wrong_rule[j]++;
		} else {
			u->cv_right++;
			u->cv_right_rule[j]++;
		}
	}
	for (size_t i = 0; i < v.nd; i++)
		v.d[i].fold = -1;
	size_t nk = fit_kept(&v, use, byw, -1);
	qsort(byw, nk, sizeof *byw, by_value);
	u->feat = xmalloc((nk ? nk : 1) * sizeof *u->feat);
	u->w = xmalloc((nk ? nk : 1) * sizeof *u->w);
	for (size_t i = 0; i < nk; i++) {
		long w = lround(byw[i]->w * 1000);
		size_t f = (size_t)(byw[i] - v.f);
		if (w == 0)
			continue;
		if (f >= m->nf) {
			u->for_w[f - m->nf] = w;
			continue;
		}
		u->feat[u->nk] = f;
		u->w[u->nk++] = w;
	}
	u->bias = lround(v.b * 1000);
	for (size_t i = 0; i < v.nd; i++)
		free(v.d[i].f);
	for (size_t j = 0; j < m->nrules; j++)
		free(v.f[m->nf + j].key);
	free(v.d);
	free(v.f);
	free(use);
	free(byw);
	free(held);
	free(rule_of_ex);
}

/* The rules' file: header, then each rule's section. */
static char *
write_rules(const struct model *m, const struct made *r, const struct unless_made *u, size_t ndocs,
	    size_t ord_any, size_t ord)
{
	struct strbuf b = STRBUF_INIT;
	sb_addf(&b,
		"# Rule words: the safety net under the hand-written rules (README, \"Safety\n"
		"# rules\"; bot/distress.h).  Each section `rule ID` is a model of its\n"
		"# own: a message's score is its bias plus the weight of each word and\n"
		"# each pair of adjacent words below that the message holds (each once;\n"
		"# words match in all their forms, as the rules' words do).  When rule ID\n"
		"# did not fire, a score at its `at` or above adds its line.  No model\n"
		"# removes a line; the crisis line comes only where no crisis rule fired.\n"
		"#\n"
		"# Made by `make rulewords` (bench/distress.c) from the %zu messages\n"
		"# of the tables in tests/data.  A rule's positives: the safety rows that\n"
		"# must fire it; its negatives: every other message but those the rules\n"
		"# fire it on (a row that must fire crisis is no positive of\n"
		"# talk-to-someone).  `at` lies a margin above the score of every\n"
		"# ordinary message and of every safety row that must not fire the rule;\n"
		"# the margin is the smallest with which five-fold cross-validation saw\n"
		"# at most %.1f%% of those, unseen, reach it, raised rule by rule while\n"
		"# more than %.1f%% of the unseen ordinary messages got some rule's line\n"
		"# (now %zu of %zu).\n"
		"# Cross-validation (unseen messages):\n"
		"#   rule: margin; positives reached (of them the rules miss); negatives\n"
		"#   reached (of them ordinary messages)\n",
		ndocs, RULE_FA * 100, RULE_FA * 100, ord_any, ord);
	for (size_t j = 0; j < m->nrules; j++) {
		const struct made *x = &r[j];
		size_t t = x->margin;
		sb_addf(&b, "#   %s: %.2f; %zu/%zu (%zu/%zu); %zu/%zu (%zu/%zu)\n", m->rule[j],
			margins[t], x->tp[t], x->pos, x->rescued[t], x->missed, x->fa[t], x->guards,
			x->fa_ord[t], x->ordinary);
	}
	size_t nt, tc = talk_given_crisis(m, r, &nt);
	sb_addf(&b, "#   talk-to-someone rows (not crisis) given the crisis line: %zu/%zu\n", tc,
		nt);
	sb_addf(&b,
		"#\n"
		"# The section `unless` is no rule's: it adds no line.  A message of at\n"
		"# most `words` words whose score plus the `for` weight of a line's\n"
		"# rule reaches `at` makes that line doubted: the rule's in-doubt line\n"
		"# comes instead (in-doubt: in its front matter), or none.  Learned from\n"
		"# the lines the rules give to safety rows of at most %d words: %zu\n"
		"# wrong (the row must not fire it, or nothing), %zu right.  `at`\n"
		"# is the lowest at which at most %.1f%% of the right lines were doubted,\n"
		"# each line scored by a model made without its table: %zu of the wrong\n"
		"# lines, %zu of the right ones (per rule, wrong/right:",
		UNLESS_WORDS, u->wrong, u->right, UNLESS_RIGHT * 100, u->cv_wrong, u->cv_right);
	for (size_t j = 0; j < m->nrules; j++)
		if (u->cv_wrong_rule[j] || u->cv_right_rule[j])
			sb_addf(&b, "\n#   %s %zu/%zu", m->rule[j], u->cv_wrong_rule[j],
				u->cv_right_rule[j]);
	sb_adds(&b, ").\n");
	sb_adds(&b, "# Edit the rules, not this file; after tests/data changes, run\n"
		    "# `make rulewords` again.  To stop a word counting, delete its line.\n");
	for (size_t j = 0; j < m->nrules; j++) {
		sb_addf(&b, "\nrule %s\nbias ", m->rule[j]);
		milli(&b, r[j].bias);
		sb_adds(&b, "\nat ");
		milli(&b, r[j].at);
		sb_addc(&b, '\n');
		for (size_t i = 0; i < r[j].nk; i++) {
			milli(&b, r[j].w[i]);
			sb_addf(&b, " %s\n", m->f[r[j].feat[i]].written);
		}
	}
	sb_addf(&b, "\nunless\nbias ");
	milli(&b, u->bias);
	sb_adds(&b, "\nat ");
	milli(&b, u->at);
	sb_addf(&b, "\nwords %d\n", UNLESS_WORDS);
	for (size_t j = 0; j < m->nrules; j++)
		if (u->for_w[j]) {
			sb_addf(&b, "for %s ", m->rule[j]);
			milli(&b, u->for_w[j]);
			sb_addc(&b, '\n');
		}
	for (size_t i = 0; i < u->nk; i++) {
		milli(&b, u->w[i]);
		sb_addf(&b, " %s\n", m->f[u->feat[i]].written);
	}
	return sb_steal(&b);
}

static int
rule_of(const char *id, void *arg)
{
	const struct model *m = arg;
	for (size_t j = 0; j < m->nrules; j++)
		if (strcmp(m->rule[j], id) == 0)
			return m->rule_ix[j];
	return -1;
}

/* How many unseen ordinary messages (of tables that are not safety
 * tables) got some rule's line in cross-validation at the margins r[j].margin;
 * *of: how many could (some rule left to fire). */
static size_t
union_warned(const struct model *m, const struct made *r, size_t *of)
{
	size_t any = 0;
	*of = 0;
	for (size_t i = 0; i < m->nd; i++) {
		if (m->d[i].safety || m->d[i].part == LONG_WHOLE)
			continue;
		int counted = 0, hit = 0;
		for (size_t j = 0; j < m->nrules; j++) {
			if (m->d[i].fired & 1u << j)
				continue;
			counted = 1;
			hit |= r[j].rel[i] > margins[r[j].margin];
		}
		*of += (size_t)counted;
		any += (size_t)hit;
	}
	return any;
}

/* While more than RULE_FA of the unseen ordinary messages get some rule's
 * line, the margin of the rule that takes most of them off for the fewest
 * positives goes up, to the next margin that takes any off. */
static void
choose_margins(const struct model *m, struct made *r)
{
	for (;;) {
		size_t of, now = union_warned(m, r, &of), best = m->nrules, best_to = 0;
		double best_gain = 0;
		if ((double)now <= RULE_FA * (double)of)
			return;
		for (size_t j = 0; j < m->nrules; j++) {
			size_t t = r[j].margin, after = now;
			while (after == now && r[j].margin + 1 < NM) {
				r[j].margin++;
				after = union_warned(m, r, &of);
			}
			size_t to = r[j].margin;
			r[j].margin = t;
			double gain =
			    (double)(now - after) / (double)(r[j].tp[t] - r[j].tp[to] + 1);
			if (gain > best_gain) {
				best_gain = gain;
				best = j;
				best_to = to;
			}
		}
		if (best == m->nrules)
			return;
		r[best].margin = best_to;
	}
}

static int
make_rules(struct model *m, struct answer_ctx *ac, const int *usable, struct feat **byw,
	   const char *out_path, int cv)
{
	struct made r[RULES_MAX];
	memset(r, 0, sizeof r);
	for (size_t j = 0; j < m->nrules; j++) {
		label_rule(m, j);
		struct made *x = &r[j];
		m->keep = strcmp(m->rule[j], "crisis") == 0 ? KEEP_CRISIS : KEEP_RULE;
		cv_rule(m, usable, byw, x);
		for (size_t i = 0; i < m->nd; i++) /* the rescued: positives the rules miss */
			if (m->d[i].pos && !m->d[i].skip && !(m->d[i].fired & 1u << j)) {
				x->missed++;
				for (size_t t = 0; t < NM; t++)
					x->rescued[t] += x->rel[i] > margins[t];
			}
		size_t nk = fit_kept(m, usable, byw, -1);
		qsort(byw, nk, sizeof *byw, by_value);
		x->feat = xmalloc((nk ? nk : 1) * sizeof *x->feat);
		x->w = xmalloc((nk ? nk : 1) * sizeof *x->w);
		for (size_t i = 0; i < nk; i++) {
			long v = lround(byw[i]->w * 1000);
			if (v == 0)
				continue;
			x->feat[x->nk] = (size_t)(byw[i] - m->f);
			x->w[x->nk++] = v;
		}
		x->bias = lround(m->b * 1000);
		x->at = 1000000000L;
	}
	choose_margins(m, r);
	size_t ord, ord_any = union_warned(m, r, &ord);

	/* the thresholds, through the bot's own reader of the file */
	size_t nrows = 0;
	for (size_t i = 0; i < m->nd; i++)
		nrows += (size_t)(m->d[i].part != WINDOW);
	struct unless_made u = {0};
	make_unless(m, usable, &u);
	char *text = write_rules(m, r, &u, nrows, ord_any, ord);
	struct problems pp = {0};
	struct distress *ds = distress_new();
	int rc = 1;
	if (distress_read(ds, ac->text, out_path, text, strlen(text), rule_of, m, &pp) < 0) {
		fprintf(stderr, "distress: the rule words made do not read back (%zu problems)\n",
			pp.n);
		for (size_t i = 0; i < pp.n; i++)
			fprintf(stderr, "  %u: %s\n", pp.v[i].line, pp.v[i].msg);
		goto cleanup;
	}
	long top[RULES_MAX];
	size_t reach[RULES_MAX] = {0}, rescue[RULES_MAX] = {0}, npos[RULES_MAX] = {0},
	       nmiss[RULES_MAX] = {0};
	for (size_t j = 0; j < m->nrules; j++)
		top[j] = -1000000000L;
	struct tokens tk = {0};
	long *sc = xmalloc(m->nd * m->nrules * sizeof *sc);
	for (size_t i = 0; i < m->nd; i++)
		scores_as_read(ac, ds, m->d[i].text, &tk, sc + i * m->nrules);
	for (size_t j = 0; j < m->nrules; j++) {
		label_rule(m, j);
		for (size_t i = 0; i < m->nd; i++)
			if (m->d[i].guard && sc[i * m->nrules + j] > top[j])
				top[j] = sc[i * m->nrules + j];
		r[j].at = top[j] + 1 + lround(margins[r[j].margin] * 1000); /* above: by 0.001 */
		for (size_t i = 0; i < m->nd; i++) {
			const struct doc *d = &m->d[i];
			if (!d->pos || d->skip)
				continue;
			int hit = sc[i * m->nrules + j] >= r[j].at;
			npos[j]++;
			reach[j] += (size_t)hit;
			if (!(d->fired & 1u << j)) {
				nmiss[j]++;
				rescue[j] += (size_t)hit;
			}
		}
	}
	free(sc);
	tokens_free(&tk);
	free(text);
	text = write_rules(m, r, &u, nrows, ord_any, ord);
	FILE *out = fopen(out_path, "w");
	if (out == NULL || fputs(text, out) == EOF || fclose(out) != 0) {
		fprintf(stderr, "distress: cannot write %s\n", out_path);
		goto cleanup;
	}
	printf("rule words: %zu messages, %zu words and pairs\n", nrows, m->nf);
	printf("%-20s %6s %7s %14s %14s %16s %16s\n", "rule", "margin", "at", "cv positives",
	       "cv rescued", "cv negatives", "cv ordinary");
	for (size_t j = 0; j < m->nrules; j++) {
		const struct made *x = &r[j];
		size_t t = x->margin;
		printf("%-20s %6.2f %7.3f %6zu/%-7zu %6zu/%-7zu %7zu/%-8zu %7zu/%-8zu\n",
		       m->rule[j], margins[t], (double)x->at / 1000, x->tp[t], x->pos,
		       x->rescued[t], x->missed, x->fa[t], x->guards, x->fa_ord[t], x->ordinary);
	}
	printf("unless: %zu wrong and %zu right lines; at %.2f, each table left out: %zu wrong "
	       "and %zu right ones doubted\n",
	       u.wrong, u.right, (double)u.at / 1000, u.cv_wrong, u.cv_right);
	printf("cv: %zu of %zu unseen ordinary messages (%.4f) would get some rule's line\n",
	       ord_any, ord, ord ? (double)ord_any / (double)ord : 0.0);
	size_t nt, tc = talk_given_crisis(m, r, &nt);
	printf("cv: %zu of %zu talk-to-someone rows (not crisis) would get the crisis line\n", tc,
	       nt);
	for (size_t j = 0; j < m->nrules; j++)
		printf("made: %-20s %zu weights; of its %zu positives %zu reach at; of the %zu the "
		       "rules miss, %zu\n",
		       m->rule[j], r[j].nk, npos[j], reach[j], nmiss[j], rescue[j]);
	if (cv) /* every margin, and the unseen ordinary messages that got a line */
		for (size_t j = 0; j < m->nrules; j++)
			for (size_t t = 0; t < NM; t++)
				printf("margin %-20s %.2f: positives %zu/%zu rescued %zu/%zu "
				       "negatives %zu/%zu ordinary %zu/%zu\n",
				       m->rule[j], margins[t], r[j].tp[t], r[j].pos,
				       r[j].rescued[t], r[j].missed, r[j].fa[t], r[j].guards,
				       r[j].fa_ord[t], r[j].ordinary);
	for (size_t i = 0; cv && i < m->nd; i++)
		for (size_t j = 0; j < m->nrules; j++) {
			label_rule(m, j);
			if (m->d[i].guard && r[j].rel[i] > margins[r[j].margin])
				printf("cv warned: %-18s %s %s\n", m->rule[j],
				       m->d[i].safety ? "trap" : "ordinary", m->d[i].text);
		}
	rc = 0;
cleanup:
	free(u.feat);
	free(u.w);
	distress_free(ds);
	problems_free(&pp);
	free(text);
	for (size_t j = 0; j < m->nrules; j++) {
		free(r[j].feat);
		free(r[j].w);
		free(r[j].rel);
	}
	return rc;
}

static void
free_model(struct model *m)
{
	for (size_t i = 0; i < m->nf; i++) {
		free(m->f[i].key);
		free(m->f[i].written);
	}
	for (size_t i = 0; i < m->nd; i++) {
		free(m->d[i].text);
		free(m->d[i].f);
	}
	free(m->f);
	free(m->d);
	hmap_free(&m->ids);
}

int
main(int argc, char **argv)
{
	int cv = argc > 1 && strcmp(argv[1], "--cv") == 0;
	argc -= cv;
	argv += cv;
	if (argc < 4) {
		fprintf(stderr, "usage: distress [--cv] KNOWLEDGE_DIR OUT.txt TABLE.tsv...\n");
		return 2;
	}
	struct answer_ctx ac;
	struct wordset *dict;
	if (answer_ctx_init(&ac) < 0)
		return 2;
	struct knowledge *k = trainer_load("distress", argv[1], &ac, &dict);
	if (k == NULL)
		return 2;
	struct model m = {0};
	for (size_t r = 0; r < k->nrules; r++)
		if ((int)r != k->disclaimer && m.nrules < RULES_MAX) {
			m.rule[m.nrules] = k->rules[r].id.s;
			m.rule_ix[m.nrules++] = (int)r;
		}
	struct tokens tk = {0};
	for (int i = 3; i < argc; i++)
		if (load_table(&m, &ac, k, &tk, argv[i], i) < 0)
			return 2;

	/* a word or pair as the file writes it must read back as itself */
	struct tokens back = {0};
	for (size_t i = 0; i < m.nf; i++) {
		struct feat *f = &m.f[i];
		text_tokenize(ac.text, f->written, strlen(f->written), &back);
		struct strbuf key = STRBUF_INIT;
		for (size_t t = 0; t < back.n; t++)
			sb_addf(&key, "%s%s", t ? " " : "", back.v[t].stem);
		f->keep = f->docs >= MIN_DOCS && key.len && strcmp(key.s, f->key) == 0;
		sb_free(&key);
	}
	int *usable = xmalloc(m.nf * sizeof *usable);
	for (size_t i = 0; i < m.nf; i++)
		usable[i] = m.f[i].keep;
	struct feat **byw = xmalloc(m.nf * sizeof *byw);
	int rc = make_rules(&m, &ac, usable, byw, argv[2], cv);
	free(byw);
	free(usable);
	tokens_free(&tk);
	tokens_free(&back);
	free_model(&m);
	knowledge_free(k);
	wordset_free(dict);
	answer_ctx_free(&ac);
	return rc;
}
