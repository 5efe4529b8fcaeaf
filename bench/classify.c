/*
 * classify: makes knowledge/classifier.txt, the learned second reader of
 * which answer a message asks for (bot/classify.h).
 *   classify [--cv] KNOWLEDGE_DIR OUT.txt TABLE.tsv...
 * The examples: every answer's phrasings and title, and every labelled
 * message of the tables (message<TAB>answer id or "-"; rows with two
 * answers and safety tables are left out, and so are ids the knowledge no
 * longer has).  A dialogue table's follow-up turn after a turn with an
 * answer is an example as the context reader reads it (followup.c): the
 * message, a line break, the previous turn's expected title.  Leaving one
 * dialogue table out of both this model and the context reader's weights
 * and reading it (tests/data of 2026-12-04, four tables, 1,305 follow-ups)
 * took its follow-ups from 945 right (185 wrong) without these examples to
 * 1,013 (145), stand-alone turns 566 -> 567; --cv on single messages
 * moved 0.888 -> 0.891.  Each
 * is read as the bot reads it (the knowledge's tokeniser and lexicon,
 * distress_features); a multinomial logistic model over the words and
 * pairs seen in MIN_DOCS examples or more is fitted by stochastic gradient
 * descent (fixed seed: the same inputs give the same file).  Each
 * feature's weights are centred on their median (softmax does not mind)
 * and only those at least SPARSE away from it are written, in thousandths.
 * MIN_DOCS 3 and SPARSE 0.1 kept the file a third of what 2 and 0.05 did
 * (the Discord bot stays under 20 MB) for 0.4 points of cross-validated
 * accuracy; EPOCHS 40 rather than 20 gained 0.5.  With the examples of
 * 2026-12-04 (16,195) MIN_DOCS 3 took the Discord bot over TLS to 20.0 MB
 * (bench/e2e.py); 4 (7,402 features, not 8,712) kept it at 19.6-19.8 MB
 * for 0.2 points of cross-validated accuracy (SPARSE 0.15 instead, fewer
 * weights but as many features, saved nothing).  So the features are
 * capped: of those seen in MIN_DOCS examples or more, the FEATURES_MAX
 * seen in the most (more examples would otherwise creep over the memory
 * target).
 * take-at, veto-at and overrule-at are TAKE_AT, VETO_AT and OVERRULE_AT,
 * chosen by --cv: it prints, for each set of them, how the whole pipeline
 * (answer_question) answers each fifth of the tables' single messages with
 * a model fitted without that fifth, marks the one with the most right
 * within issue 13's limits (2% wrong, 5% out of scope answered), and
 * writes nothing.  With the tables of 2026-12-04 (train-chat-3 and
 * train-dialogues-4 added): 0.9 / 0.4 / 0.95 scores 0.884 / 2.0% wrong /
 * 4.5% answered, where the earlier 0.8 / 0.5 / never scored 0.882 / 2.1% /
 * 5.4%.  (Those two were chosen on the round-5 held-out set, tuning data
 * by then: bench/RESULTS.md, "The classifier".)  With round 9's held-out
 * sets added and the features capped: 0.890 / 1.9% / 4.1%; 0.9 / 0.5 /
 * 0.95 scores 0.892 / 2.0% / 4.2%, too close to move.
 * Development tool (make classifier).
 */
#include "classify.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "distress.h"
#include "followup.h"
#include "hmap.h"
#include "kb.h"
#include "strbuf.h"
#include "trainer.h"
#include "xmem.h"

#define EPOCHS 40
#define RATE 0.1
#define L2 1e-5
#define MIN_DOCS 3
#define FEATURES_MAX 7500 /* memory: the Discord bot under 20 MB */
#define SPARSE 0.1
#define TAKE_AT "0.900"
#define VETO_AT "0.400"
#define OVERRULE_AT "0.950" /* "2.000": never, no line in the file */
#define AGREE_AT "0.600"    /* "2.000": never, no line in the file */
#define FOLDS 5

struct example {
	int cls;
	int *f;
	size_t nf;
	char *text; /* a table's message (for --cv), NULL for the answers' own */
};

struct model {
	size_t nclasses; /* the knowledge's answers, then out of scope */
	struct hmap ids; /* feature key -> index */
	char **keys;
	size_t *docs;
	size_t nf, capf, capdocs;
	struct example *x;
	size_t nx, capx;
	size_t nknow;        /* the first nknow examples are the answers' own */
	unsigned char *keep; /* per feature: in the model (FEATURES_MAX at most) */
	struct answer_ctx *ac;
	struct tokens tk;
};

struct collect {
	struct model *m;
	struct example *x;
	size_t cap;
};

static void
collect(const char *key, size_t n, size_t tok, size_t ntok, void *arg)
{
	(void)tok;
	(void)ntok;
	struct collect *c = arg;
	struct model *m = c->m;
	int ins;
	int id = *hmap_put(&m->ids, key, n, (int)m->nf, &ins);
	if (ins) {
		m->keys = xgrow(m->keys, &m->capf, m->nf + 1, sizeof *m->keys);
		m->docs = xgrow(m->docs, &m->capdocs, m->nf + 1, sizeof *m->docs);
		m->keys[m->nf] = xstrndup(key, n);
		m->docs[m->nf++] = 0;
	}
	for (size_t i = 0; i < c->x->nf; i++)
		if (c->x->f[i] == id)
			return;
	c->x->f = xgrow(c->x->f, &c->cap, c->x->nf + 1, sizeof *c->x->f);
	c->x->f[c->x->nf++] = id;
	m->docs[id]++;
}

static void
add_example(struct model *m, const char *text, int cls)
{
	m->x = xgrow(m->x, &m->capx, m->nx + 1, sizeof *m->x);
	struct example *x = &m->x[m->nx++];
	memset(x, 0, sizeof *x);
	x->cls = cls;
	text_tokenize(m->ac->text, text, strlen(text), &m->tk);
	struct collect c = {m, x, 0};
	distress_features(&m->tk, collect, &c);
}

struct table {
	struct model *m;
	const struct knowledge *k;
	int prev; /* a dialogue's turn before: its expected answer, -1 none */
};

static int
table_line(char *line, unsigned n, void *arg)
{
	(void)n;
	struct table *t = arg;
	char *c2 = strchr(line, '\t');
	if (line[0] == '#' || c2 == NULL) {
		t->prev = -1; /* a dialogue's end or start */
		return 0;
	}
	*c2++ = '\0';
	char *c3 = strchr(c2, '\t');
	if (c3)
		*c3++ = '\0';
	int cls = strcmp(c2, "-") == 0 ? (int)t->k->nentries : knowledge_find(t->k, c2);
	int prev = t->prev;
	t->prev = cls;
	if (cls < 0)
		return 0;
	if (c3 && strcmp(c3, "alone") != 0) {
		/* a follow-up means what it means after the turn before: an
		 * example as the context reader reads it, the message and the
		 * topic's title (followup.c), never scored as one alone */
		if (prev >= 0 && prev < (int)t->k->nentries) {
			struct strbuf b = STRBUF_INIT;
			followup_with_title(t->k, line, prev, &b);
			add_example(t->m, b.s, cls);
			sb_free(&b);
		}
		return 0;
	}
	add_example(t->m, line, cls);
	t->m->x[t->m->nx - 1].text = xstrdup(line);
	return 0;
}

static int
load_table(struct model *m, const struct knowledge *k, const char *path)
{
	struct table t = {m, k, -1};
	return trainer_safety_table(path) ? 0 : trainer_lines("classify", path, table_line, &t);
}

/* Fit w and b on every example but the tables' ones of fold skip (-1:
 * all of them). */
static void
fit(const struct model *m, int skip, double *w, double *b)
{
	size_t K = m->nclasses;
	size_t *order = xmalloc(m->nx * sizeof *order), nx = 0;
	for (size_t i = 0; i < m->nx; i++)
		if (i < m->nknow || (int)(i % FOLDS) != skip)
			order[nx++] = i;
	double *z = xmalloc(K * sizeof *z);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (int e = 0; e < EPOCHS; e++) {
		for (size_t i = nx; i > 1; i--) {
			size_t j = (size_t)(trainer_rand(&seed) % i);
			size_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t n = 0; n < nx; n++) {
			const struct example *x = &m->x[order[n]];
			memcpy(z, b, K * sizeof *z);
			for (size_t i = 0; i < x->nf; i++)
				if (m->keep[x->f[i]])
					for (size_t c = 0; c < K; c++)
						z[c] += w[(size_t)x->f[i] * K + c];
			double top = z[0], sum = 0;
			for (size_t c = 1; c < K; c++)
				top = z[c] > top ? z[c] : top;
			for (size_t c = 0; c < K; c++)
				sum += (z[c] = exp(z[c] - top));
			for (size_t c = 0; c < K; c++) {
				double g = z[c] / sum - (c == (size_t)x->cls);
				b[c] -= RATE * g;
				for (size_t i = 0; i < x->nf; i++)
					if (m->keep[x->f[i]]) {
						double *wi = &w[(size_t)x->f[i] * K + c];
						*wi -= RATE * (g + L2 * *wi);
					}
			}
		}
	}
	free(z);
	free(order);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int
cmp_key(const void *a, const void *b, void *keys)
{
	char **k = keys;
	return strcmp(k[*(const size_t *)a], k[*(const size_t *)b]);
}

/* Which features the model keeps: those seen in MIN_DOCS examples or
 * more, and of them the FEATURES_MAX seen in the most (ties: by key). */
static int
cmp_docs(const void *a, const void *b, void *model)
{
	const struct model *m = model;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (m->docs[x] != m->docs[y])
		return m->docs[x] < m->docs[y] ? 1 : -1;
	return strcmp(m->keys[x], m->keys[y]);
}

static void
keep_features(struct model *m)
{
	size_t *order = xmalloc((m->nf ? m->nf : 1) * sizeof *order), n = 0;
	m->keep = xcalloc(m->nf ? m->nf : 1, 1);
	for (size_t f = 0; f < m->nf; f++)
		if (m->docs[f] >= MIN_DOCS)
			order[n++] = f;
	qsort_r(order, n, sizeof *order, cmp_docs, m);
	for (size_t i = 0; i < n && i < FEATURES_MAX; i++)
		m->keep[order[i]] = 1;
	free(order);
}

static void
milli(struct strbuf *b, double v)
{
	long x = lround(v * 1000);
	x = x > 32767 ? 32767 : x < -32767 ? -32767 : x;
	sb_addf(b, "%s%ld.%03ld", x < 0 ? "-" : "", labs(x) / 1000, labs(x) % 1000);
}

/* The model's file: its header, the classes, the bias, the thresholds and
 * each feature's weights; *kept and *written: features and weights. */
static void
model_text(struct strbuf *out, const struct model *m, const struct knowledge *k, const double *w,
	   const double *b, const char *take_at, const char *veto_at, const char *overrule_at,
	   const char *agree_at, size_t *kept, size_t *written)
{
	size_t K = m->nclasses;
	sb_addf(out,
		"# The classifier: a second reader of which answer a message asks for,\n"
		"# beside the matcher (README, \"How the matcher works\"; bot/classify.h).\n"
		"# Made by `make classifier` (bench/classify.c) from %zu examples: the\n"
		"# answers' phrasings and titles (%zu) and the labelled questions of\n"
		"# tests/data (a follow-up turn with the title of the answer before).\n"
		"# Do not edit: after answers or tests/data change, make it\n"
		"# again.  Each line below the settings: a word stem or two, a tab, and\n"
		"# class:weight pairs (classes numbered from 0 in the classes line).\n\n"
		"classes",
		m->nx, m->nknow);
	for (size_t e = 0; e < k->nentries; e++)
		sb_addf(out, " %s", k->entries[e].id.s);
	sb_adds(out, " " CLASSIFY_OUT_OF_SCOPE "\nbias");
	for (size_t c = 0; c < K; c++) {
		sb_addf(out, " %zu:", c);
		milli(out, b[c]);
	}
	sb_addf(out, "\ntake-at %s\nveto-at %s\n", take_at, veto_at);
	if (atof(overrule_at) <= 1.0) /* else never: no line */
		sb_addf(out, "overrule-at %s\n", overrule_at);
	if (atof(agree_at) <= 1.0)
		sb_addf(out, "agree-at %s\n", agree_at);
	sb_addc(out, '\n');
	size_t *order = xmalloc((m->nf ? m->nf : 1) * sizeof *order), nkept = 0, nw = 0;
	for (size_t f = 0; f < m->nf; f++)
		if (m->keep[f])
			order[nkept++] = f;
	qsort_r(order, nkept, sizeof *order, cmp_key, m->keys);
	double *sorted = xmalloc(K * sizeof *sorted);
	for (size_t i = 0; i < nkept; i++) {
		const double *wf = &w[order[i] * K];
		memcpy(sorted, wf, K * sizeof *sorted);
		qsort(sorted, K, sizeof *sorted, cmp_double);
		double med = sorted[K / 2];
		size_t mark = out->len;
		sb_addf(out, "%s\t", m->keys[order[i]]);
		size_t before = nw;
		for (size_t c = 0; c < K; c++)
			if (fabs(wf[c] - med) >= SPARSE) {
				sb_addf(out, "%s%zu:", nw > before ? " " : "", c);
				milli(out, wf[c] - med);
				nw++;
			}
		if (nw == before)
			out->len = mark; /* nothing to say: no line */
		else
			sb_addc(out, '\n');
	}
	out->s[out->len] = '\0'; /* after a feature line taken back */
	*kept = nkept;
	*written = nw;
	free(sorted);
	free(order);
}

/* How the pipeline answers the tables' examples of one fold with a model
 * fitted without them, at each set of thresholds. */
struct tally {
	size_t in, right, wrong, oos, oos_answered;
};

static const char *const takes[] = {"0.700", "0.800", "0.900"};
static const char *const vetoes[] = {"0.400", "0.500", "0.600", "0.700"};
static const char *const overrules[] = {"2.000", "0.900", "0.950", "0.980"}; /* 2: never */
static const char *const agrees[] = {"2.000", "0.500", "0.600", "0.700", "0.800"};
#define NTAKE (sizeof takes / sizeof takes[0])
#define NVETO (sizeof vetoes / sizeof vetoes[0])
#define NOVER (sizeof overrules / sizeof overrules[0])
#define NAGREE (sizeof agrees / sizeof agrees[0])
#define CV_WRONG_MAX 0.02    /* issue 13's goals: wrong answers at most 2 %, */
#define CV_ANSWERED_MAX 0.05 /* out of scope answered at most 5 % */

static void
score_fold(struct model *m, struct knowledge *k, int fold, const double *w, const double *b,
	   struct tally (*t)[NVETO][NOVER][NAGREE])
{
	static const struct match_params mp = {.threshold = MATCH_DEFAULT_THRESHOLD,
					       .margin = MATCH_DEFAULT_MARGIN};
	struct classifier *shipped = k->clf;
	struct strbuf text = STRBUF_INIT;
	size_t kept, nw;
	struct problems pr = {0};
	model_text(&text, m, k, w, b, TAKE_AT, VETO_AT, OVERRULE_AT, AGREE_AT, &kept, &nw);
	k->clf = classify_parse("fold", text.s, text.len, &pr);
	problems_free(&pr);
	sb_free(&text);
	for (size_t a = 0; k->clf && a < NTAKE; a++)
		for (size_t v = 0; v < NVETO; v++)
			for (size_t o = 0; o < NOVER; o++)
				for (size_t g = 0; g < NAGREE; g++) {
					classify_set_thresholds(k->clf, atof(takes[a]),
								atof(vetoes[v]),
								atof(overrules[o]));
					classify_set_agree_at(k->clf, atof(agrees[g]));
					for (size_t i = m->nknow; i < m->nx; i++) {
						const struct example *x = &m->x[i];
						if ((int)(i % FOLDS) != fold || x->text == NULL)
							continue;
						struct answer ans;
						answer_question(k, m->ac, &mp, x->text,
								strlen(x->text), &ans);
						struct tally *y = &t[a][v][o][g];
						int given =
						    ans.mr.nanswers == 1 ? ans.mr.intent : -1;
						if (x->cls == (int)k->nentries) {
							y->oos++;
							y->oos_answered += ans.mr.nanswers > 0;
						} else {
							y->in++;
							y->right += given == x->cls;
							y->wrong +=
							    ans.mr.nanswers > 0 && given != x->cls;
						}
						answer_free(&ans);
					}
				}
	classify_free(k->clf);
	k->clf = shipped;
}

static void
cross_validate(struct model *m, struct knowledge *k)
{
	size_t K = m->nclasses;
	static struct tally t[NTAKE][NVETO][NOVER][NAGREE];
	double *w = xmalloc(m->nf * K * sizeof *w), *b = xmalloc(K * sizeof *b);
	for (int f = 0; f < FOLDS; f++) {
		memset(w, 0, m->nf * K * sizeof *w);
		memset(b, 0, K * sizeof *b);
		fit(m, f, w, b);
		score_fold(m, k, f, w, b, t);
		fprintf(stderr, "classify: fold %d of %d\n", f + 1, FOLDS);
	}
	printf("%d-fold cross-validation over the tables' messages (the answers' own always in "
	       "the model):\n take-at veto-at overrule-at agree-at (2: never)  in scope right / "
	       "wrong, out of scope answered; * the most right within %.0f%% wrong and %.0f%% "
	       "answered\n",
	       FOLDS, CV_WRONG_MAX * 100, CV_ANSWERED_MAX * 100);
	double best = -1;
	const struct tally *pick = NULL;
	for (int pass = 0; pass < 2; pass++)
		for (size_t a = 0; a < NTAKE; a++)
			for (size_t v = 0; v < NVETO; v++)
				for (size_t o = 0; o < NOVER; o++)
					for (size_t g = 0; g < NAGREE; g++) {
						const struct tally *y = &t[a][v][o][g];
						double r =
						    y->in ? (double)y->right / (double)y->in : 0;
						double wr =
						    y->in ? (double)y->wrong / (double)y->in : 0;
						double oa = y->oos ? (double)y->oos_answered /
									 (double)y->oos
								   : 0;
						int ok =
						    wr <= CV_WRONG_MAX && oa <= CV_ANSWERED_MAX;
						if (pass == 0 && ok && r > best) {
							best = r;
							pick = y;
						}
						if (pass == 1)
							printf("  %s   %s   %s       %s   %.3f / "
							       "%.3f, %.3f%s\n",
							       takes[a], vetoes[v], overrules[o],
							       agrees[g], r, wr, oa,
							       y == pick ? " *" : "");
					}
	free(w);
	free(b);
}

int
main(int argc, char **argv)
{
	int cv = argc > 1 && strcmp(argv[1], "--cv") == 0;
	argv += cv;
	argc -= cv;
	if (argc < 4) {
		fprintf(stderr, "usage: classify [--cv] KNOWLEDGE_DIR OUT.txt TABLE.tsv...\n");
		return 2;
	}
	struct answer_ctx ac;
	struct wordset *dict;
	if (answer_ctx_init(&ac) < 0)
		return 2;
	struct knowledge *k = trainer_load("classify", argv[1], &ac, &dict);
	if (k == NULL)
		return 2;
	struct model m = {.nclasses = k->nentries + 1, .ac = &ac};
	for (size_t e = 0; e < k->nentries; e++) {
		add_example(&m, k->entries[e].title.s, (int)e);
		for (size_t q = 0; q < k->entries[e].questions.n; q++)
			add_example(&m, k->entries[e].questions.v[q].s, (int)e);
	}
	m.nknow = m.nx;
	for (int i = 3; i < argc; i++)
		if (load_table(&m, k, argv[i]) < 0)
			return 2;
	keep_features(&m);
	size_t K = m.nclasses;
	double *w = xcalloc(m.nf * K, sizeof *w), *b = xcalloc(K, sizeof *b);
	if (cv)
		cross_validate(&m, k); /* and write nothing */
	else
		fit(&m, -1, w, b);

	struct strbuf out = STRBUF_INIT;
	size_t nkept = 0, nw = 0;
	if (!cv)
		model_text(&out, &m, k, w, b, TAKE_AT, VETO_AT, OVERRULE_AT, AGREE_AT, &nkept, &nw);
	FILE *fp = cv ? NULL : fopen(argv[2], "w");
	if (!cv && (fp == NULL || fputs(out.s, fp) == EOF || fclose(fp) != 0)) {
		fprintf(stderr, "classify: cannot write %s\n", argv[2]);
		return 1;
	}
	if (!cv)
		printf("classify: %zu examples (%zu from the answers), %zu classes, %zu features, "
		       "%zu weights written\n",
		       m.nx, m.nknow, K, nkept, nw);
	sb_free(&out);
	free(w);
	free(b);
	for (size_t f = 0; f < m.nf; f++)
		free(m.keys[f]);
	free(m.keys);
	free(m.docs);
	free(m.keep);
	for (size_t i = 0; i < m.nx; i++) {
		free(m.x[i].f);
		free(m.x[i].text);
	}
	free(m.x);
	hmap_free(&m.ids);
	tokens_free(&m.tk);
	knowledge_free(k);
	wordset_free(dict);
	answer_ctx_free(&ac);
	return 0;
}
