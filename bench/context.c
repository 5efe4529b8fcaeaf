/*
 * context: fits the context reader's weights (followup.h) and writes them
 * into the classifier's file, whose probabilities it reads.
 *   context [--cv] KNOWLEDGE_DIR CLASSIFIER.txt TABLE.tsv...
 * Every turn of the dialogue tables (message<TAB>expected<TAB>alone|follow)
 * after the first of its dialogue, not after "did you mean" and not one the
 * rules answered twice, is read by the rules (followup_rules) with the
 * memory the bot would have, and becomes an example: the features of each
 * class it weighs (followup_features) and the expected class.  A
 * conditional logistic model over those classes is fitted by stochastic
 * gradient descent (fixed seed).  The margin by which the model must beat
 * the rules' own reading is MARGIN: chosen with --cv, which fits a model
 * without each table in turn and prints how the turns of that table fare
 * (follow-up and alone turns right by the rules, by the reader at several
 * margins, and the turns it makes worse).  The classifier it reads learned
 * every table's follow-up turns (bench/classify.c), so --cv flatters the
 * reader; bench/loto.sh leaves each table out of both models.  Development
 * tool (make classifier).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "classify.h"
#include "convo.h"
#include "followup.h"
#include "kb.h"
#include "strbuf.h"
#include "trainer.h"
#include "xmem.h"

#define EPOCHS 60
#define RATE 0.05
#define L2 1e-3
#define MARGIN "1.000"
#define ALONE_WEIGHT 3.0 /* a stand-alone turn made worse costs more than a follow-up missed */

struct turn {
	int table, follow;
	unsigned line;
	int gold, rules; /* classes: expected, the rules' one answer (or out of scope) */
	int asked;       /* the reader leaves it (followup_reader_leaves): "did you mean"
			    (fitted without: resolving them gave as many wrong answers as
			    right), or a message written as a phrasing */
	size_t n;
	double (*f)[FOLLOWUP_FEATURES];
	unsigned char *cand;
};

struct set {
	struct turn *t;
	size_t n, cap;
};

/* One turn of a dialogue: the rules read it with memory mem. */
static void
read_turn(const struct knowledge *k, struct answer_ctx *ac, struct convo_memory *mem, const char *q,
	  const char *want, int follow, int table, unsigned line, struct set *s)
{
	static const struct match_params mp = {.threshold = MATCH_DEFAULT_THRESHOLD,
					       .margin = MATCH_DEFAULT_MARGIN};
	int gold = strcmp(want, "-") == 0 ? KNOWLEDGE_OOS : knowledge_find(k, want);
	int topic = mem->answer[0] ? knowledge_find(k, mem->answer) : -1;
	int before = mem->before[0] ? knowledge_find(k, mem->before) : -1;
	int choices = mem->nchoices > 0;
	struct followup_alone alone;
	struct answer a;
	enum followup_how how = followup_rules(k, ac, &mp, mem, q, strlen(q), &a, &alone);
	followup_remember(k, &a, mem);
	const struct match_result *m = &a.mr;
	int gc = followup_class_of(k, gold), h = m->nanswers == 1 ? m->intent : -1;
	if (topic >= 0 && gc >= 0 && m->nanswers <= 1 && how != FOLLOWUP_CHOICE && !choices) {
		s->t = xgrow(s->t, &s->cap, s->n + 1, sizeof *s->t);
		struct turn *t = &s->t[s->n++];
		t->table = table;
		t->line = line;
		t->follow = follow;
		t->gold = gc;
		t->rules = followup_class_of(k, h >= 0 ? h : KNOWLEDGE_OOS);
		t->asked = followup_reader_leaves(m);
		t->f = xmalloc(CLASSIFY_CLASSES_MAX * sizeof *t->f);
		t->cand = xmalloc(CLASSIFY_CLASSES_MAX);
		t->n = followup_features(k, ac, &ac->tk, a.question, topic, before, &alone, h, t->f,
					 t->cand);
	}
	answer_free(&a);
}

struct table {
	const struct knowledge *k;
	struct answer_ctx *ac;
	int index;
	struct set *s;
	struct convo_memory mem; /* of the dialogue being read */
};

static int
table_line(char *line, unsigned n, void *arg)
{
	struct table *t = arg;
	if (line[0] == '\0' || strncmp(line, "# dialogue", 10) == 0) {
		memset(&t->mem, 0, sizeof t->mem);
		return 0;
	}
	char *c2 = strchr(line, '\t'), *c3 = c2 ? strchr(c2 + 1, '\t') : NULL;
	if (line[0] == '#' || c3 == NULL)
		return 0;
	*c2++ = '\0';
	*c3++ = '\0';
	if (strcmp(c3, "alone") == 0 || strcmp(c3, "follow") == 0)
		read_turn(t->k, t->ac, &t->mem, line, c2, strcmp(c3, "follow") == 0, t->index, n,
			  t->s);
	return 0;
}

static int
read_table(const struct knowledge *k, struct answer_ctx *ac, const char *path, int index,
	   struct set *s)
{
	struct table t = {.k = k, .ac = ac, .index = index, .s = s};
	return trainer_lines("context", path, table_line, &t);
}

/* Fit w on the turns not of table skip (-1: all). */
static void
fit(const struct set *s, int skip, double *w)
{
	memset(w, 0, FOLLOWUP_FEATURES * sizeof *w);
	w[FX_RULES] = 1.0; /* start from trusting the rules' answer */
	size_t *order = xmalloc((s->n ? s->n : 1) * sizeof *order), n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].table != skip && !s->t[i].asked && s->t[i].cand[s->t[i].gold])
			order[n++] = i;
	double z[CLASSIFY_CLASSES_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (int e = 0; e < EPOCHS; e++) {
		double rate = RATE / (1.0 + e / 5.0); /* settles: the last epochs move little */
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(trainer_rand(&seed) % i), x = order[i - 1];
			order[i - 1] = order[j];
			order[j] = x;
		}
		for (size_t i = 0; i < n; i++) {
			const struct turn *t = &s->t[order[i]];
			double top = -HUGE_VAL, sum = 0;
			for (size_t j = 0; j < t->n; j++)
				if (t->cand[j]) {
					z[j] = followup_weigh(w, t->f[j]);
					top = z[j] > top ? z[j] : top;
				}
			for (size_t j = 0; j < t->n; j++)
				if (t->cand[j])
					sum += (z[j] = exp(z[j] - top));
			for (size_t j = 0; j < t->n; j++) {
				if (!t->cand[j])
					continue;
				double g = (z[j] / sum - ((int)j == t->gold)) *
					   (t->follow ? 1.0 : ALONE_WEIGHT);
				for (size_t x = 0; x < FOLLOWUP_FEATURES; x++)
					w[x] -= rate * g * t->f[j][x];
			}
			for (size_t x = 0; x < FOLLOWUP_FEATURES; x++)
				w[x] -= rate * L2 * w[x];
		}
	}
	free(order);
}

static int
pick(const struct knowledge *k, const double *w, double margin, const struct turn *t)
{
	if (t->asked)
		return t->rules;
	int h = k->clf_entry[t->rules];
	int e =
	    followup_context_pick(k, w, margin, t->f, t->cand, t->n, h == KNOWLEDGE_OOS ? -1 : h);
	return followup_class_of(k, e);
}

static void
cross_validate(const struct knowledge *k, const struct set *s, char **tables, int ntables)
{
	static const double margins[] = {0, 0.25, 0.5, 1.0, 1.5};
	enum { NM = sizeof margins / sizeof margins[0] };
	size_t n[2] = {0}, rules[2] = {0}, right[NM][2] = {{0}}, worse[NM][2] = {{0}};
	size_t rules_wrong = 0, wrong[NM] = {0};
	for (int tb = 0; tb < ntables; tb++) {
		double w[FOLLOWUP_FEATURES];
		fit(s, tb, w);
		for (size_t i = 0; i < s->n; i++) {
			const struct turn *t = &s->t[i];
			if (t->table != tb)
				continue;
			n[t->follow]++;
			rules[t->follow] += t->rules == t->gold;
			rules_wrong += t->follow && !t->asked && t->rules != t->gold &&
				       k->clf_entry[t->rules] != KNOWLEDGE_OOS;
			for (size_t m = 0; m < NM; m++) {
				int y = pick(k, w, margins[m], t);
				right[m][t->follow] += y == t->gold;
				wrong[m] += t->follow && y != t->gold && y >= 0 &&
					    k->clf_entry[y] != KNOWLEDGE_OOS;
				worse[m][t->follow] += t->rules == t->gold && y != t->gold;
			}
		}
		fprintf(stderr, "context: fitted without %s\n", tables[tb]);
	}
	printf("leave-one-table-out: %zu follow-up turns, %zu alone turns (after a first "
	       "answer)\n  the rules alone: follow-up %zu right (%zu wrong answers), alone %zu "
	       "right\n",
	       n[1], n[0], rules[1], rules_wrong, rules[0]);
	for (size_t m = 0; m < NM; m++)
		printf(
		    "  margin %.2f: follow-up %zu right (%zu made worse, %zu wrong answers), alone "
		    "%zu right (%zu made worse)\n",
		    margins[m], right[m][1], worse[m][1], wrong[m], right[m][0], worse[m][0]);
}

static int
write_weights(const char *path, const double *w)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "context: cannot read %s\n", path);
		return -1;
	}
	struct strbuf out = STRBUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, fp)) > 0) {
		if (strncmp(line, "context ", 8) == 0 || strncmp(line, "context-margin ", 15) == 0)
			continue;
		sb_add(&out, line, (size_t)got);
		if (strncmp(line, "veto-at ", 8) == 0) {
			sb_adds(&out, "context");
			for (size_t x = 0; x < FOLLOWUP_FEATURES; x++) {
				long v = lround(w[x] * 1000);
				sb_addf(&out, " %zu:%s%ld.%03ld", x, v < 0 ? "-" : "",
					labs(v) / 1000, labs(v) % 1000);
			}
			sb_adds(&out, "\ncontext-margin " MARGIN "\n");
		}
	}
	free(line);
	fclose(fp);
	fp = fopen(path, "w");
	int rc = fp && out.len && fputs(out.s, fp) != EOF ? 0 : -1;
	if (fp && fclose(fp) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "context: cannot write %s\n", path);
	sb_free(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	int cv = argc > 1 && strcmp(argv[1], "--cv") == 0;
	if (argc < 4 + cv) {
		fprintf(stderr,
			"usage: context [--cv] KNOWLEDGE_DIR CLASSIFIER.txt TABLE.tsv...\n");
		return 2;
	}
	argv += cv;
	argc -= cv;
	struct answer_ctx ac;
	struct wordset *dict;
	if (answer_ctx_init(&ac) < 0)
		return 2;
	struct knowledge *k = trainer_load("context", argv[1], &ac, &dict);
	if (k == NULL || k->clf == NULL) {
		fprintf(stderr, "context: the knowledge has no classifier\n");
		return 2;
	}
	struct set s = {0};
	for (int i = 3; i < argc; i++)
		if (read_table(k, &ac, argv[i], i - 3, &s) < 0)
			return 2;
	int rc = 0;
	if (cv) {
		cross_validate(k, &s, argv + 3, argc - 3);
	} else {
		double w[FOLLOWUP_FEATURES];
		fit(&s, -1, w);
		rc = write_weights(argv[2], w) < 0;
		if (rc == 0)
			printf("context: %zu turns, %d weights written to %s\n", s.n,
			       FOLLOWUP_FEATURES, argv[2]);
	}
	for (size_t i = 0; i < s.n; i++) {
		free(s.t[i].f);
		free(s.t[i].cand);
	}
	free(s.t);
	knowledge_free(k);
	wordset_free(dict);
	answer_ctx_free(&ac);
	return rc;
}
