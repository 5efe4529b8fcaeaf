/*
 * tune: searches the matcher's model constants and its threshold by
 * coordinate descent (each constant in turn over its listed values, the
 * others held, until a round changes nothing) on the tuning sets, and
 * prints, for every improvement, the figures on the check sets beside
 * them: those are never used to choose.
 *   tune KNOWLEDGE_DIR TUNE.tsv[,TUNE2.tsv...] [CHECK.tsv...]
 * The goal, per tuning set: in-scope accuracy - 3 x wrong answers -
 * 1.5 x out-of-scope answered (a wrong answer is worse than none).
 * Development tool (make tune); eval files as `massagebot eval` reads them.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "kb.h"
#include "trainer.h"
#include "xmem.h"

struct row {
	char *q;
	size_t nwant;
	int want[MATCH_ANSWERS_MAX];
};

struct set {
	const char *file;
	struct row *rows;
	size_t n;
};

struct loading {
	const struct knowledge *k;
	struct set *s;
	size_t cap;
};

static int
set_line(char *line, unsigned n, void *arg)
{
	(void)n;
	struct loading *l = arg;
	struct set *s = l->s;
	char *tab = strchr(line, '\t');
	if (line[0] == '#' || !tab)
		return 0;
	*tab++ = 0;
	s->rows = xgrow(s->rows, &l->cap, s->n + 1, sizeof *s->rows);
	struct row *r = &s->rows[s->n++];
	r->q = xstrdup(line);
	r->nwant = 0;
	char *save = NULL;
	for (char *id = strtok_r(tab, "+", &save);
	     id && strcmp(id, "-") != 0 && r->nwant < MATCH_ANSWERS_MAX;
	     id = strtok_r(NULL, "+", &save))
		if ((r->want[r->nwant++] = knowledge_find(l->k, id)) < 0) {
			fprintf(stderr, "tune: %s: unknown id %s\n", s->file, id);
			return -1;
		}
	return 0;
}

static int
load_set(const struct knowledge *k, const char *file, struct set *s)
{
	struct loading l = {k, s, 0};
	s->file = file;
	return trainer_lines("tune", file, set_line, &l);
}

struct figures {
	double acc, wrong, oos_answered, goal;
};

static struct figures
score_set(const struct knowledge *k, struct answer_ctx *ac, const struct match_params *mp,
	  const struct set *s)
{
	size_t in = 0, right = 0, wrong = 0, oos = 0, answered = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct row *r = &s->rows[i];
		struct answer a;
		answer_question(k, ac, mp, r->q, strlen(r->q), &a);
		const struct match_result *mr = &a.mr;
		if (r->nwant == 0) {
			oos++;
			answered += mr->nanswers > 0;
		} else {
			in++;
			int ok = mr->nanswers == r->nwant, bad = 0;
			for (size_t g = 0; g < mr->nanswers; g++) {
				int found = 0;
				for (size_t w = 0; w < r->nwant; w++)
					found |= mr->answers[g] == r->want[w];
				bad |= !found;
				ok &= g < r->nwant && mr->answers[g] == r->want[g];
			}
			right += ok;
			wrong += bad;
		}
		answer_free(&a);
	}
	struct figures f = {in ? (double)right / (double)in : 1,
			    in ? (double)wrong / (double)in : 0,
			    oos ? (double)answered / (double)oos : 0, 0};
	f.goal = f.acc - 3 * f.wrong - 1.5 * f.oos_answered;
	return f;
}

/* The top candidate's confidence features for every in-scope and
 * out-of-scope row (label: it is the first answer expected). */
struct sample {
	double x[MATCH_CONF_FEATURES];
	int y;
};

static size_t
collect(const struct knowledge *k, struct answer_ctx *ac, const struct set *s, struct sample *out)
{
	struct match_params mp = {2.0, 0}; /* never answer: the ranking alone */
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct answer a;
		answer_question(k, ac, &mp, s->rows[i].q, strlen(s->rows[i].q), &a);
		const struct match_result *mr = &a.mr;
		if (mr->ncand > 0 && mr->cand[0].raw < 1.0) {
			const struct match_cand *c = &mr->cand[0];
			double gap = c->raw - (mr->ncand > 1 ? mr->cand[1].raw : 0);
			struct sample *x = &out[n++];
			match_features(c, gap, x->x);
			x->y = s->rows[i].nwant > 0 && c->intent == s->rows[i].want[0];
		}
		answer_free(&a);
	}
	return n;
}

/* Logistic regression by gradient descent (a little L2). */
static void
fit_confidence(const struct sample *x, size_t n, double *w)
{
	for (int it = 0; it < 3000; it++) {
		double g[MATCH_CONF_FEATURES] = {0};
		for (size_t i = 0; i < n; i++) {
			double z = 0;
			for (size_t f = 0; f < MATCH_CONF_FEATURES; f++)
				z += w[f] * x[i].x[f];
			double d = 1.0 / (1.0 + exp(-z)) - x[i].y;
			for (size_t f = 0; f < MATCH_CONF_FEATURES; f++)
				g[f] += d * x[i].x[f];
		}
		for (size_t f = 0; f < MATCH_CONF_FEATURES; f++)
			w[f] -= 0.2 * (g[f] / (double)n + 0.001 * w[f]);
	}
}

/* The constants searched: where each lives and the values tried. */
struct knob {
	const char *name;
	int in_params; /* 1: struct match_params, 0: struct match_tuning */
	size_t off;
	double v[8];
};

#define TU(f) 0, offsetof(struct match_tuning, f)
#define MP(f) 1, offsetof(struct match_params, f)
static const struct knob knobs[] = {
    {"margin", MP(margin), {0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0}},
    {"q_exp", TU(q_exp), {0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0}},
    {"bag_weight", TU(bag_weight), {0.3, 0.4, 0.45, 0.5, 0.55, 0.65, 0}},
    {"unknown_frac", TU(unknown_frac), {1.0, 2.0, 3.0, 4.0, 5.5, 7.0, 0}},
    {"unknown_common_frac", TU(unknown_common_frac), {0.2, 0.4, 0.8, 1.2, 2.0, 0}},
    {"unknown_other_frac", TU(unknown_other_frac), {0.1, 0.2, 0.3, 0.5, 0.8, 0}},
    {"unknown_exp", TU(unknown_exp), {0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 0}},
    {"body_weight", TU(body_weight), {0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0}},
    {"stop_weight", TU(stop_weight), {0.1, 0.2, 0.3, 0.4, 0}},
    {"common_weight", TU(common_weight), {0.3, 0.5, 0.7, 1.0, 0}},
    {"context_weight", TU(context_weight), {0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0}},
    {"near_weight", TU(near_weight), {0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0}},
    {"other_weight", TU(other_weight), {0.05, 0.1, 0.15, 0.25, 0.4, 0}},
    {"two_margin", TU(two_margin), {0.02, 0.05, 0.1, 0.15, 0.2, 0}},
    {"evidence_prior", TU(evidence_prior), {0.01, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 0}},
    {"offer_band", TU(offer_band), {0.01, 0.05, 0.1, 0.15, 0}},
    {"domain_weight", TU(domain_weight), {0.01, 0.25, 0.5, 0.75, 1.0, 1.5, 0}},
    {"context_unknown", TU(context_unknown), {0.1, 0.25, 0.5, 0.75, 1.0, 0}},
    {"focus_min", TU(focus_min), {1, 2, 3, 0}},
    {"title_weight", TU(title_weight), {0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 0}},
    {"lead_gap", TU(lead_gap), {0.1, 0.12, 0.15, 0.2, 0.3, 9.0, 0}},
    {"lead_cover", TU(lead_cover), {0.3, 0.35, 0.4, 0.45, 0.5, 0}},
    {"lead_floor", TU(lead_floor), {0.3, 0.4, 0.5, 0.6, 0}},
};

static double *
knob_at(const struct knob *kn, struct match_tuning *tu, struct match_params *mp)
{
	return (double *)(void *)((char *)(kn->in_params ? (void *)mp : (void *)tu) + kn->off);
}

/* Everything one search step needs. */
struct search {
	struct knowledge *k;
	struct answer_ctx *ac;
	const struct wordset *dict;
	struct set *sets;
	size_t ntune, nsets;
	struct sample *samples;
	double best;
};

static void
print_figures(struct search *S, const struct match_params *mp)
{
	for (size_t s = 0; s < S->nsets; s++) {
		struct figures f = score_set(S->k, S->ac, mp, &S->sets[s]);
		const char *base = strrchr(S->sets[s].file, '/');
		printf(" %s%s acc %.3f wrong %.3f oos-answered %.3f",
		       s == S->ntune ? "| check: " : "", base ? base + 1 : S->sets[s].file, f.acc,
		       f.wrong, f.oos_answered);
	}
	putchar('\n');
	fflush(stdout);
}

/* Rank with the constants tu, fit the confidence to that ranking, then
 * choose the threshold: returns 1 (tu, mp updated) when the goal beats
 * S->best. */
static int
try_constants(struct search *S, struct match_tuning *tu, struct match_params *mp, const char *name,
	      double v)
{
	static const double thresholds[] = {0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8};
	struct problems p2 = {0};
	struct knowledge *k = S->k;
	match_free(k->match);
	k->match =
	    match_build(S->ac->text, k->entries, k->nentries, &k->syns, S->dict, tu, &p2, NULL);
	size_t ns = 0;
	for (size_t s = 0; s < S->ntune; s++)
		ns += collect(k, S->ac, &S->sets[s], S->samples + ns);
	fit_confidence(S->samples, ns, tu->conf);
	match_free(k->match);
	k->match =
	    match_build(S->ac->text, k->entries, k->nentries, &k->syns, S->dict, tu, &p2, NULL);
	problems_free(&p2);
	int better = 0;
	double keep = mp->threshold;
	for (size_t t = 0; t < sizeof thresholds / sizeof thresholds[0]; t++) {
		mp->threshold = thresholds[t];
		double goal = 0;
		for (size_t s = 0; s < S->ntune; s++)
			goal += score_set(k, S->ac, mp, &S->sets[s]).goal;
		if (goal <= S->best + 1e-9)
			continue;
		S->best = goal;
		keep = mp->threshold;
		better = 1;
		printf("%s=%.2f threshold=%.2f goal %.3f |", name, v, mp->threshold, goal);
		print_figures(S, mp);
	}
	mp->threshold = keep;
	return better;
}

int
main(int argc, char **argv)
{
	int fit_only = argc > 1 && strcmp(argv[1], "--fit-only") == 0;
	argc -= fit_only;
	argv += fit_only;
	if (argc < 3) {
		fprintf(stderr, "usage: tune [--fit-only] KNOWLEDGE_DIR TUNE.tsv[,TUNE2.tsv...] "
				"[CHECK.tsv...]\n");
		return 2;
	}
	struct answer_ctx ac;
	struct wordset *dict;
	if (answer_ctx_init(&ac) < 0)
		return 2;
	struct knowledge *k = trainer_load("tune", argv[1], &ac, &dict);
	if (k == NULL)
		return 2;
	struct set sets[16] = {{0}};
	size_t nsets = 0;
	char *list = xstrdup(argv[2]), *save = NULL;
	for (char *f = strtok_r(list, ",", &save); f && nsets < 16; f = strtok_r(NULL, ",", &save))
		if (load_set(k, f, &sets[nsets++]) < 0)
			return 2;
	size_t ntune = nsets;
	for (int i = 3; i < argc && nsets < 16; i++)
		if (load_set(k, argv[i], &sets[nsets++]) < 0)
			return 2;
	struct match_tuning tu = match_default_tuning;
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	size_t nrows = 0;
	for (size_t s = 0; s < ntune; s++)
		nrows += sets[s].n;
	struct search S = {
	    k, &ac, dict, sets, ntune, nsets, xcalloc(nrows + 1, sizeof(struct sample)), -1e9};
	printf("shipped: threshold=%.2f |", mp.threshold);
	print_figures(&S, &mp);
	if (fit_only) { /* the shipped constants, the confidence refitted */
		try_constants(&S, &tu, &mp, "fit", 0);
		printf("fit: threshold=%.2f |", mp.threshold);
		print_figures(&S, &mp);
	}
	for (int round = 0, changed = !fit_only; changed && round < 4; round++) {
		changed = 0;
		for (size_t kn = 0; kn < sizeof knobs / sizeof knobs[0]; kn++) {
			double *v = knob_at(&knobs[kn], &tu, &mp), keep = *v;
			struct match_tuning keep_tu = tu;
			double keep_th = mp.threshold;
			for (size_t x = 0; x < 8 && (x == 0 || knobs[kn].v[x] != 0); x++) {
				*v = knobs[kn].v[x];
				if (!try_constants(&S, &tu, &mp, knobs[kn].name, *v))
					continue;
				keep = *v;
				keep_tu = tu;
				keep_th = mp.threshold;
				changed = 1;
			}
			tu = keep_tu;
			mp.threshold = keep_th;
			*knob_at(&knobs[kn], &tu, &mp) = keep;
		}
	}
	printf("\nbest: threshold=%.2f", mp.threshold);
	for (size_t kn = 0; kn < sizeof knobs / sizeof knobs[0]; kn++)
		printf(" %s=%.2f", knobs[kn].name, *knob_at(&knobs[kn], &tu, &mp));
	printf("\nconf = {");
	for (size_t f = 0; f < MATCH_CONF_FEATURES; f++)
		printf("%s%.2f", f ? ", " : "", tu.conf[f]);
	printf("}\n");
	free(S.samples);
	return 0;
}
