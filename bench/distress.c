/*
 * distress: makes knowledge/safety/distress.txt, the weighted word list that
 * reads distress in a whole message (bot/distress.h), from the tables of
 * tests/data.
 *   distress KNOWLEDGE_DIR OUT.txt TABLE.tsv...
 * A message of a safety table (a file named safety*.tsv) whose must-fire
 * column names crisis or talk-to-someone is a message of distress; every
 * other message of every table (safety rows for other rules, traps, the
 * matcher's and the dialogues' questions) is an ordinary one.  Each
 * message is read as the bot reads it (the knowledge's tokeniser and
 * lexicon, distress_features): its words' stems and its pairs of adjacent
 * stems.  A logistic model over those seen in two messages or more is
 * fitted by stochastic gradient descent (fixed seed: the same tables give
 * the same file), the KEEP weights that weigh most are kept and fitted
 * again alone, and written in thousandths.  Then every ordinary message is
 * scored through the bot's own reader of the file (distress_parse,
 * distress_score): talk-at is set TALK_MARGIN above the highest of them and
 * crisis-at CRISIS_MARGIN above it, so that no ordinary message in the
 * tables gets either line.  --cv first prints what five-fold
 * cross-validation expects of each margin on unseen messages, and the
 * ordinary messages that come close to the highest (a mislabelled row shows
 * there).  Development tool (make distress).
 */
#include "distress.h"

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

#define KEEP 2000
#define MIN_DOCS 2
#define EPOCHS 15
#define RATE 0.2
#define L2 1e-4
#define BIAS0 -3.0
/* thousandths above the highest ordinary message, chosen by --cv: unseen
 * ordinary messages with any line under 1%, with the crisis line under 0.5% */
#define TALK_MARGIN 1500
#define CRISIS_MARGIN 3000
#define CLOSE 1000 /* --cv lists the ordinary messages this close to the highest */

struct doc {
	char *text;
	int distress;
	int *f; /* feature ids, each once */
	size_t nf;
	int fold; /* for --cv: which fifth of the messages it is in */
};

struct feat {
	char *key;     /* "stem" or "stem stem" */
	char *written; /* how the file writes it: the words as typed */
	size_t docs;   /* messages that hold it */
	double w;
	int keep;
};

struct model {
	struct hmap ids; /* key -> index in f */
	struct feat *f;
	size_t nf, capf;
	struct doc *d;
	size_t nd, capd;
	double b;
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

static int
load_table(struct model *m, struct answer_ctx *ac, struct tokens *tk, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "distress: cannot read %s\n", path);
		return -1;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int safety = strncmp(base, "safety", 6) == 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *tab = strchr(line, '\t');
		if (tab)
			*tab = '\0';
		int distress = 0;
		if (safety && tab) {
			char *must = tab + 1;
			must[strcspn(must, "\t")] = '\0';
			distress = strstr(must, "crisis") != NULL ||
				   strstr(must, "talk-to-someone") != NULL;
		}
		m->d = xgrow(m->d, &m->capd, m->nd + 1, sizeof *m->d);
		struct doc *d = &m->d[m->nd++];
		memset(d, 0, sizeof *d);
		d->fold = -1;
		d->text = xstrdup(line);
		d->distress = distress;
		text_tokenize(ac->text, d->text, strlen(d->text), tk);
		struct collect c = {m, tk, d, 0};
		distress_features(tk, collect, &c);
	}
	free(line);
	fclose(fp);
	return 0;
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
			if (out >= 0 && d->fold == out)
				continue;
			double z = m->b;
			for (size_t i = 0; i < d->nf; i++)
				if (m->f[d->f[i]].keep)
					z += m->f[d->f[i]].w;
			z = z > 30 ? 30 : z < -30 ? -30 : z;
			double g = 1.0 / (1.0 + exp(-z)) - d->distress;
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
	nk = nk < KEEP ? nk : KEEP;
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
static const double talk_margins[] = {0.5, 1.0, 1.5, 2.0, 3.0};
static const double crisis_margins[] = {1.0, 2.0, 3.0, 4.0};
#define NT (sizeof talk_margins / sizeof *talk_margins)
#define NC (sizeof crisis_margins / sizeof *crisis_margins)

/*
 * --cv: each fifth of the messages scored by a model made without it, its
 * thresholds set above the other four fifths' ordinary messages: how many
 * unseen ordinary messages would get a line, and how many unseen messages
 * of distress would, for each margin.
 */
static void
cross_validate(struct model *m, const int *usable, struct feat **byw)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	for (size_t i = 0; i < m->nd; i++)
		m->d[i].fold = (int)(trainer_rand(&seed) % FOLDS);
	size_t pos = 0, neg = 0, tp[NT] = {0}, fp[NT] = {0}, cp[NC] = {0}, cf[NC] = {0};
	for (int f = 0; f < FOLDS; f++) {
		fit_kept(m, usable, byw, f);
		double top = -1e9;
		for (size_t i = 0; i < m->nd; i++)
			if (m->d[i].fold != f && !m->d[i].distress) {
				double z = doc_score(m, &m->d[i]);
				top = z > top ? z : top;
			}
		for (size_t i = 0; i < m->nd; i++) {
			if (m->d[i].fold != f)
				continue;
			double z = doc_score(m, &m->d[i]);
			int d = m->d[i].distress;
			pos += (size_t)d;
			neg += (size_t)!d;
			for (size_t t = 0; t < NT; t++)
				if (z >= top + talk_margins[t])
					*(d ? &tp[t] : &fp[t]) += 1;
			for (size_t c = 0; c < NC; c++)
				if (z >= top + crisis_margins[c])
					*(d ? &cp[c] : &cf[c]) += 1;
		}
	}
	for (size_t i = 0; i < m->nd; i++)
		m->d[i].fold = -1;
	printf("cv (%d folds): %zu messages of distress, %zu ordinary, none seen by its model\n",
	       FOLDS, pos, neg);
	for (size_t t = 0; t < NT; t++)
		printf("cv: any line from %.1f above the highest ordinary: distress %zu (%.3f), "
		       "ordinary %zu (%.4f)\n",
		       talk_margins[t], tp[t], (double)tp[t] / (double)pos, fp[t],
		       (double)fp[t] / (double)neg);
	for (size_t c = 0; c < NC; c++)
		printf("cv: the crisis line from %.1f above: distress %zu (%.3f), ordinary %zu "
		       "(%.4f)\n",
		       crisis_margins[c], cp[c], (double)cp[c] / (double)pos, cf[c],
		       (double)cf[c] / (double)neg);
}

static void
milli(struct strbuf *b, long v)
{
	sb_addf(b, "%s%ld.%03ld", v < 0 ? "-" : "", labs(v) / 1000, labs(v) % 1000);
}

/* The file's text: header, settings and the kept weights, largest first. */
static char *
write_list(const struct model *m, struct feat **kept, size_t nk, long talk, long crisis,
	   size_t ndocs, size_t npos)
{
	struct strbuf b = STRBUF_INIT;
	sb_addf(&b,
		"# Distress words: the safety net under the crisis rules (README, \"Safety\n"
		"# rules\"; bot/distress.h).  A message's score is the bias plus the weight\n"
		"# of each word and each pair of adjacent words below that it holds (each\n"
		"# once; words match in all their forms, as the rules' words do).  When no\n"
		"# crisis or talk-to-someone rule fired, a score at talk-at or above adds\n"
		"# the talk-to-someone line, at crisis-at or above the crisis line.\n"
		"#\n"
		"# Made by `make distress` (bench/distress.c) from the tables in tests/data:\n"
		"# %zu messages, %zu of them of distress.  Both thresholds lie above the\n"
		"# score of every ordinary message there.  Edit the rules, not this file;\n"
		"# after tests/data changes, run `make distress` again.  To stop a word\n"
		"# counting, delete its line.\n\n",
		ndocs, npos);
	sb_adds(&b, "bias ");
	milli(&b, lround(m->b * 1000));
	sb_adds(&b, "\ntalk-at ");
	milli(&b, talk);
	sb_adds(&b, "\ncrisis-at ");
	milli(&b, crisis);
	sb_adds(&b, "\n\n");
	for (size_t i = 0; i < nk; i++) {
		long v = lround(kept[i]->w * 1000);
		if (v == 0)
			continue;
		milli(&b, v);
		sb_addf(&b, " %s\n", kept[i]->written);
	}
	return sb_steal(&b);
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
	struct tokens tk = {0};
	for (int i = 3; i < argc; i++)
		if (load_table(&m, &ac, &tk, argv[i]) < 0)
			return 2;
	size_t npos = 0;
	for (size_t i = 0; i < m.nd; i++)
		npos += (size_t)m.d[i].distress;

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
	if (cv)
		cross_validate(&m, usable, byw);
	size_t nk = fit_kept(&m, usable, byw, -1);
	qsort(byw, nk, sizeof *byw, by_value);

	/* the thresholds, through the bot's own reader of the list */
	long big = 1000000000L;
	char *text = write_list(&m, byw, nk, big, big, m.nd, npos);
	struct problems pp = {0};
	struct distress *ds = distress_parse(ac.text, argv[2], text, strlen(text), &pp);
	if (ds == NULL) {
		fprintf(stderr, "distress: the list made does not read back (%zu problems)\n",
			pp.n);
		return 1;
	}
	long top = -big;
	for (size_t i = 0; i < m.nd; i++) {
		if (m.d[i].distress)
			continue;
		text_tokenize(ac.text, m.d[i].text, strlen(m.d[i].text), &tk);
		long s = distress_score(ds, &tk, NULL, NULL);
		top = s > top ? s : top;
	}
	long talk = top + TALK_MARGIN, crisis = top + CRISIS_MARGIN;
	if (cv) /* the ordinary messages that set the thresholds: mislabelled rows show here */
		for (size_t i = 0; i < m.nd; i++) {
			if (m.d[i].distress)
				continue;
			text_tokenize(ac.text, m.d[i].text, strlen(m.d[i].text), &tk);
			long s = distress_score(ds, &tk, NULL, NULL);
			if (s >= top - CLOSE)
				printf("close: %ld %s\n", s, m.d[i].text);
		}
	size_t at_talk = 0, at_crisis = 0;
	for (size_t i = 0; i < m.nd; i++) {
		if (!m.d[i].distress)
			continue;
		text_tokenize(ac.text, m.d[i].text, strlen(m.d[i].text), &tk);
		long s = distress_score(ds, &tk, NULL, NULL);
		at_talk += s >= talk && s < crisis;
		at_crisis += s >= crisis;
	}
	distress_free(ds);
	free(text);
	text = write_list(&m, byw, nk, talk, crisis, m.nd, npos);
	FILE *out = fopen(argv[2], "w");
	if (out == NULL || fputs(text, out) == EOF || fclose(out) != 0) {
		fprintf(stderr, "distress: cannot write %s\n", argv[2]);
		return 1;
	}
	printf("distress: %zu messages (%zu of distress), %zu words and pairs, %zu kept\n", m.nd,
	       npos, m.nf, nk);
	printf("distress: highest ordinary score %ld; of the distress messages (the words "
	       "alone, without the rules) %zu reach crisis-at, %zu talk-at only, %zu neither\n",
	       top, at_crisis, at_talk, npos - at_crisis - at_talk);
	free(text);
	free(byw);
	tokens_free(&tk);
	tokens_free(&back);
	for (size_t i = 0; i < m.nf; i++) {
		free(m.f[i].key);
		free(m.f[i].written);
	}
	for (size_t i = 0; i < m.nd; i++) {
		free(m.d[i].text);
		free(m.d[i].f);
	}
	free(m.f);
	free(m.d);
	hmap_free(&m.ids);
	knowledge_free(k);
	problems_free(&pp);
	wordset_free(dict);
	answer_ctx_free(&ac);
	return 0;
}
