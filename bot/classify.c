/*
 * classify: the learned second reader of which answer a message asks for
 * (see classify.h).
 */
#include "classify.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distress.h"
#include "hmap.h"
#include "kb_parse.h"
#include "xmem.h"

#define WEIGHT_MAX 32767 /* thousandths: a weight is an int16_t */
#define SEEN_STACK 256

struct cweight {
	uint8_t cls;
	int16_t w; /* thousandths */
};

struct classifier {
	char **classes;
	size_t nclasses;
	double *bias;                         /* per class */
	double take_at, veto_at, overrule_at; /* overrule_at: 2 (never) unless set */
	double agree_at;                      /* 2 (never) unless set */
	double context[CLASSIFY_CONTEXT_MAX]; /* the context reader's weights */
	double context_margin;
	int has_context;
	struct hmap keys; /* feature -> index in off */
	uint32_t *off;    /* feature i's weights: w[off[i] .. off[i + 1]) */
	size_t noff, capoff;
	struct cweight *w;
	size_t nw, capw;
};

/* ---- reading --------------------------------------------------------------- */

struct reading {
	struct classifier *c;
	const char *file;
	struct problems *pr;
	unsigned line;
	int have_take, have_veto, have_overrule, have_agree, have_bias, have_margin;
	unsigned failed;
};

static void bad(struct reading *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bad(struct reading *r, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	problems_add(r->pr, r->file, r->line, 1, "%s", msg);
	r->failed++;
}

/* "index:weight" pairs in s (index below bound: what it indexes), for
 * each fn(index, thousandths). */
static int
indexed(struct reading *r, const char *s, size_t bound, const char *what,
	void (*fn)(struct reading *, size_t, long))
{
	while (*s) {
		char *end;
		unsigned long cls = strtoul(s, &end, 10);
		const char *e;
		long v;
		if (end == s || *end != ':' || cls >= bound ||
		    distress_milli(end + 1, &e, &v) < 0 || (*e && *e != ' ') ||
		    labs(v) > WEIGHT_MAX) {
			bad(r,
			    "expected index:weight pairs (%s, a weight between -32.767 and 32.767 "
			    "with at most three decimals) near '%.20s'",
			    what, s);
			return -1;
		}
		fn(r, cls, v);
		s = e + strspn(e, " ");
	}
	return 0;
}

static int
weights(struct reading *r, const char *s, void (*fn)(struct reading *, size_t, long))
{
	return indexed(r, s, r->c->nclasses, "a class index of the classes line", fn);
}

static void
add_context(struct reading *r, size_t i, long v)
{
	r->c->context[i] = (double)v / 1000.0;
}

static void
add_bias(struct reading *r, size_t cls, long v)
{
	r->c->bias[cls] = (double)v / 1000.0;
}

static void
add_weight(struct reading *r, size_t cls, long v)
{
	struct classifier *c = r->c;
	c->w = xgrow(c->w, &c->capw, c->nw + 1, sizeof *c->w);
	c->w[c->nw].cls = (uint8_t)cls;
	c->w[c->nw++].w = (int16_t)v;
}

static void
classes_line(struct reading *r, char *s)
{
	struct classifier *c = r->c;
	if (c->nclasses) {
		bad(r, "'%s' is set twice", "classes");
		return;
	}
	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (c->nclasses == CLASSIFY_CLASSES_MAX) {
			bad(r, "more classes than %s", "250");
			return;
		}
		c->classes = xrealloc(c->classes, (c->nclasses + 1) * sizeof *c->classes);
		c->classes[c->nclasses++] = xstrdup(t);
	}
	c->bias = xcalloc(c->nclasses ? c->nclasses : 1, sizeof *c->bias);
}

static void
probability(struct reading *r, const char *name, const char *s, double *to, int *have)
{
	const char *e;
	long v;
	if (*have) {
		bad(r, "'%s' is set twice", name);
		return;
	}
	if (distress_milli(s, &e, &v) < 0 || *e || v <= 0 || v > 1000) {
		bad(r, "'%s' needs a probability above 0 and at most 1 (for example 0.700)", name);
		return;
	}
	*to = (double)v / 1000.0;
	*have = 1;
}

static void
feature_line(struct reading *r, const char *key, size_t kl, const char *rest)
{
	struct classifier *c = r->c;
	int ins;
	hmap_put(&c->keys, key, kl, (int)c->noff, &ins);
	if (!ins) {
		bad(r, "the feature '%s' is listed twice", key);
		return;
	}
	c->off = xgrow(c->off, &c->capoff, c->noff + 2, sizeof *c->off);
	c->off[c->noff++] = (uint32_t)c->nw;
	if (weights(r, rest, add_weight) < 0)
		c->nw = c->off[c->noff - 1];
	c->off[c->noff] = (uint32_t)c->nw;
}

struct classifier *
classify_parse(const char *file, const char *text, size_t len, struct problems *pr)
{
	struct classifier *c = xcalloc(1, sizeof *c);
	struct reading r = {.c = c, .file = file, .pr = pr};
	char *l;
	c->overrule_at = c->agree_at = CLASSIFY_NEVER;
	for (size_t i = 0; (l = kb_next_line(text, len, &i)) != NULL;) {
		r.line++;
		char *tab = strchr(l, '\t');
		if (l[0] == '#' || l[0] == '\0') {
			/* a comment or a blank line */
		} else if (tab) { /* a feature: its key, a tab, its weights */
			*tab = '\0';
			if (c->nclasses == 0)
				bad(&r, "%s: the classes line must come first", "a feature");
			else
				feature_line(&r, l, strlen(l), tab + 1);
		} else if (strncmp(l, "classes ", 8) == 0) {
			classes_line(&r, l + 8);
		} else if (strncmp(l, "bias ", 5) == 0 && c->nclasses) {
			r.have_bias = 1;
			weights(&r, l + 5, add_bias);
		} else if (strncmp(l, "context ", 8) == 0) {
			if (c->has_context)
				bad(&r, "'%s' is set twice", "context");
			c->has_context = 1;
			indexed(&r, l + 8, CLASSIFY_CONTEXT_MAX, "a feature index below 32",
				add_context);
		} else if (strncmp(l, "context-margin ", 15) == 0) {
			const char *e;
			long v;
			if (distress_milli(l + 15, &e, &v) < 0 || *e || v < 0 || v > WEIGHT_MAX)
				bad(&r,
				    "'%s' needs a number of at least 0 with at most three "
				    "decimals (for example 0.500)",
				    "context-margin");
			c->context_margin = (double)v / 1000.0;
			r.have_margin = 1;
		} else if (strncmp(l, "take-at ", 8) == 0) {
			probability(&r, "take-at", l + 8, &c->take_at, &r.have_take);
		} else if (strncmp(l, "veto-at ", 8) == 0) {
			probability(&r, "veto-at", l + 8, &c->veto_at, &r.have_veto);
		} else if (strncmp(l, "overrule-at ", 12) == 0) {
			probability(&r, "overrule-at", l + 12, &c->overrule_at, &r.have_overrule);
		} else if (strncmp(l, "agree-at ", 9) == 0) {
			probability(&r, "agree-at", l + 9, &c->agree_at, &r.have_agree);
		} else {
			bad(&r,
			    "expected classes, bias, take-at, veto-at, overrule-at, agree-at, "
			    "context, "
			    "context-margin or a feature (a word, a tab, its weights), not '%.30s'",
			    l);
		}
		free(l);
	}
	r.line = r.line ? r.line : 1;
	if (c->nclasses < 2)
		bad(&r, "'%s' needs a line of two classes or more", "classes");
	if (!r.have_bias)
		bad(&r, "'%s' is missing", "bias");
	if (!r.have_take)
		bad(&r, "'%s' is missing", "take-at");
	if (!r.have_veto)
		bad(&r, "'%s' is missing", "veto-at");
	if (c->has_context != r.have_margin)
		bad(&r, "'%s' needs '%s'", c->has_context ? "context" : "context-margin",
		    c->has_context ? "context-margin" : "context");
	if (r.failed) {
		classify_free(c);
		return NULL;
	}
	hmap_shrink(&c->keys);
	return c;
}

void
classify_free(struct classifier *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nclasses; i++)
		free(c->classes[i]);
	free(c->classes);
	free(c->bias);
	hmap_free(&c->keys);
	free(c->off);
	free(c->w);
	free(c);
}

size_t
classify_nclasses(const struct classifier *c)
{
	return c->nclasses;
}

const char *
classify_class(const struct classifier *c, size_t i)
{
	return c->classes[i];
}

double
classify_take_at(const struct classifier *c)
{
	return c->take_at;
}

double
classify_veto_at(const struct classifier *c)
{
	return c->veto_at;
}

double
classify_overrule_at(const struct classifier *c)
{
	return c->overrule_at;
}

double
classify_agree_at(const struct classifier *c)
{
	return c->agree_at;
}

void
classify_set_agree_at(struct classifier *c, double agree_at)
{
	c->agree_at = agree_at;
}

void
classify_set_thresholds(struct classifier *c, double take_at, double veto_at, double overrule_at)
{
	c->take_at = take_at;
	c->veto_at = veto_at;
	c->overrule_at = overrule_at;
}

const double *
classify_context(const struct classifier *c, double *margin)
{
	*margin = c->context_margin;
	return c->has_context ? c->context : NULL;
}

/* ---- scoring --------------------------------------------------------------- */

size_t
classify_probs(const struct classifier *c, const struct tokens *q, double *prob)
{
	uint64_t stack[SEEN_STACK], *v;
	size_t n = distress_found(&c->keys, q, stack, SEEN_STACK, &v);
	double *z = prob;
	memcpy(z, c->bias, c->nclasses * sizeof *z);
	for (size_t i = 0; i < n; i++) {
		size_t f = (size_t)(v[i] >> 32);
		for (uint32_t j = c->off[f]; j < c->off[f + 1]; j++)
			z[c->w[j].cls] += c->w[j].w / 1000.0;
	}
	if (v != stack)
		free(v);
	size_t top = 0;
	for (size_t k = 1; k < c->nclasses; k++)
		if (z[k] > z[top])
			top = k;
	double sum = 0, zt = z[top];
	for (size_t k = 0; k < c->nclasses; k++)
		sum += (z[k] = exp(z[k] - zt));
	for (size_t k = 0; k < c->nclasses; k++)
		z[k] /= sum;
	return top;
}

size_t
classify_top(const struct classifier *c, const struct tokens *q, double *prob)
{
	double p[CLASSIFY_CLASSES_MAX];
	size_t top = classify_probs(c, q, p);
	*prob = p[top];
	return top;
}
