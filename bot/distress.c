/*
 * distress: the learned safety words, weighted word lists that read a
 * whole message for the rules' red flags (see distress.h).
 */
#include "distress.h"

#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "kb_parse.h"
#include "keysort.h"
#include "xmem.h"

#define KEY_MAX (2 * TEXT_WORD_MAX + 1)
#define SCORE_STACK 256 /* features of a message scored without malloc */

/* One weight: of feature feat, in model model. */
struct cell {
	uint32_t feat;
	uint16_t model;
	int32_t w; /* thousandths */
};

struct distress {
	struct hmap keys;   /* "stem" or "stem stem" -> feature index */
	uint32_t *start;    /* per feature: its first cell, and one past the last */
	struct cell *cells; /* sorted by feature, then model */
	size_t ncells, capcells;
	struct distress_model m[DISTRESS_MODELS_MAX];
	size_t nm;
};

void
distress_features(const struct tokens *q,
		  void (*fn)(const char *key, size_t n, size_t tok, size_t ntok, void *arg),
		  void *arg)
{
	char key[KEY_MAX];
	for (size_t i = 0; i < q->n; i++) {
		const struct token *a = &q->v[i];
		fn(a->stem, a->stem_len, i, 1, arg);
		if (i + 1 == q->n || q->v[i + 1].sent != a->sent)
			continue;
		const struct token *b = &q->v[i + 1];
		memcpy(key, a->stem, a->stem_len);
		key[a->stem_len] = ' ';
		memcpy(key + a->stem_len + 1, b->stem, b->stem_len);
		fn(key, (size_t)a->stem_len + 1 + b->stem_len, i, 2, arg);
	}
}

/* ---- reading the files ----------------------------------------------------- */

int
distress_milli(const char *s, const char **end, long *out)
{
	const char *p = s;
	int neg = *p == '-';
	p += neg || *p == '+';
	long v = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		v = v * 10 + (*p - '0');
	if (digits == 0 || (*p >= '0' && *p <= '9'))
		return -1;
	long frac = 0;
	int fd = 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fd++) {
			if (fd == 3)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
	}
	for (int i = fd; i < 3; i++)
		frac *= 10;
	*out = (neg ? -1 : 1) * (v * 1000 + frac);
	*end = p;
	return 0;
}

/* The settings of a model: every one is needed. */
static const char *const settings[] = {"bias", "at", "words"};
enum { NSETTINGS = sizeof settings / sizeof *settings };

static long *
setting_of(struct distress_model *m, size_t k)
{
	long *const to[NSETTINGS] = {&m->bias, &m->at, &m->words};
	return to[k];
}

#define SKIPPED (-2)
#define WORDS_SETTING 2u /* settings[2]: the unless model's only */
#define RULE_NEEDS ((1u << NSETTINGS) - 1u - (1u << WORDS_SETTING))
#define UNLESS_NEEDS ((1u << NSETTINGS) - 1u)

struct reading {
	struct distress *d;
	struct text_ctx *t;
	const char *file;
	struct problems *pr;
	distress_rule_fn rule_of;
	void *arg;
	size_t first; /* the file's first model */
	int cur;      /* the model being read; -1: none yet; SKIPPED: a section not read */
	unsigned have[DISTRESS_MODELS_MAX];    /* per model: bit k, settings[k] was set */
	unsigned line_of[DISTRESS_MODELS_MAX]; /* per model: its `rule` line */
	uint16_t *last; /* per feature: 1 + the model of its last weight read here */
	size_t caplast;
	struct tokens tk;
	size_t nweights;
	unsigned failed;
};

static void
setting(struct reading *r, unsigned line, size_t k, const char *rest)
{
	const char *name = settings[k];
	long v;
	const char *end;
	if (distress_milli(rest, &end, &v) < 0 || *end != '\0') {
		problems_add(r->pr, r->file, line, 1,
			     "'%s' needs one number with at most three decimals (for example "
			     "%s 1.250)",
			     name, name);
		r->failed++;
		return;
	}
	if (r->have[r->cur] & 1u << k) {
		problems_add(r->pr, r->file, line, 1, "'%s' is set twice", name);
		r->failed++;
	}
	if (k == WORDS_SETTING && (r->d->m[r->cur].rule != DISTRESS_UNLESS || v <= 0 || v % 1000)) {
		problems_add(r->pr, r->file, line, 1,
			     r->d->m[r->cur].rule != DISTRESS_UNLESS
				 ? "'words' belongs to the unless section"
				 : "'words' needs a whole number of words above 0 (for example: "
				   "words 30)");
		r->failed++;
		return;
	}
	r->have[r->cur] |= 1u << k;
	*setting_of(&r->d->m[r->cur], k) = k == WORDS_SETTING ? v / 1000 : v;
}

/* A new model (rule: its rule) at line; SKIPPED when there is no room. */
static int
new_model(struct reading *r, unsigned line, int rule)
{
	struct distress *d = r->d;
	if (d->nm == DISTRESS_MODELS_MAX) {
		problems_add(r->pr, r->file, line, 1, "more than %d models", DISTRESS_MODELS_MAX);
		r->failed++;
		return SKIPPED;
	}
	memset(&d->m[d->nm], 0, sizeof d->m[d->nm]);
	d->m[d->nm].rule = rule;
	r->have[d->nm] = 0;
	r->line_of[d->nm] = line;
	return (int)d->nm++;
}

/* The rule called id, or -1, said with its line, when the file may not
 * name it. */
static int
known_rule(struct reading *r, unsigned line, const char *id)
{
	int rule = r->rule_of(id, r->arg);
	if (rule < 0) {
		problems_add(r->pr, r->file, line, 1,
			     "unknown rule id '%s' (a rule of safety/ other than the "
			     "disclaimer)",
			     id);
		r->failed++;
	}
	return rule;
}

/* `rule ID`: the section of rule ID starts. */
static void
section(struct reading *r, unsigned line, const char *id)
{
	if (*id == '\0' || id[strcspn(id, " \t")] != '\0') {
		problems_add(r->pr, r->file, line, 1,
			     "'rule' needs one rule id (for example: "
			     "rule emergency)");
		r->failed++;
		r->cur = SKIPPED; /* its lines are not read */
		return;
	}
	int rule = known_rule(r, line, id);
	for (size_t m = r->first; rule >= 0 && m < r->d->nm; m++)
		if (r->d->m[m].rule == rule) {
			problems_add(r->pr, r->file, line, 1,
				     "rule '%s' has a section already (line %u)", id,
				     r->line_of[m]);
			r->failed++;
		}
	r->cur = new_model(r, line, rule);
}

/* `unless`: the doubt model's section starts (one per file). */
static void
unless_section(struct reading *r, unsigned line, const char *rest)
{
	if (*rest) {
		problems_add(r->pr, r->file, line, 1, "'unless' takes nothing after it");
		r->failed++;
	}
	for (size_t m = r->first; m < r->d->nm; m++)
		if (r->d->m[m].rule == DISTRESS_UNLESS) {
			problems_add(r->pr, r->file, line, 1,
				     "a second 'unless' section (the first: line %u)",
				     r->line_of[m]);
			r->failed++;
			r->cur = SKIPPED;
			return;
		}
	r->cur = new_model(r, line, DISTRESS_UNLESS);
}

/* `for ID WEIGHT` in the unless section: added for a line of rule ID. */
static void
for_line(struct reading *r, unsigned line, const char *rest)
{
	struct distress_model *m = &r->d->m[r->cur];
	size_t n = strcspn(rest, " \t");
	char id[128];
	const char *num = rest + n + strspn(rest + n, " \t"), *end;
	long v;
	if (m->rule != DISTRESS_UNLESS || n == 0 || n >= sizeof id ||
	    distress_milli(num, &end, &v) < 0 || *end != '\0') {
		problems_add(r->pr, r->file, line, 1,
			     m->rule != DISTRESS_UNLESS
				 ? "'for' belongs to the unless section"
				 : "'for' needs a rule id and a number (for example: for "
				   "emergency -0.250)");
		r->failed++;
		return;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	int rule = known_rule(r, line, id);
	if (rule < 0)
		return;
	for (size_t i = 0; i < m->nfor; i++)
		if (m->for_rule[i] == rule) {
			problems_add(r->pr, r->file, line, 1, "'for %s' is given twice", id);
			r->failed++;
			return;
		}
	if (m->nfor == DISTRESS_FOR_MAX) {
		problems_add(r->pr, r->file, line, 1, "more than %d 'for' lines", DISTRESS_FOR_MAX);
		r->failed++;
		return;
	}
	m->for_rule[m->nfor] = rule;
	m->for_w[m->nfor++] = v;
}

static void
weight_line(struct reading *r, unsigned line, const char *s)
{
	long v;
	const char *end;
	if (distress_milli(s, &end, &v) < 0 || (*end != ' ' && *end != '\t')) {
		problems_add(r->pr, r->file, line, 1,
			     "expected a weight and one or two words (for example: 1.250 "
			     "hopeless), rule and an id, or bias or at and a number");
		r->failed++;
		return;
	}
	while (*end == ' ' || *end == '\t')
		end++;
	text_tokenize(r->t, end, strlen(end), &r->tk);
	if (r->tk.n == 0 || r->tk.n > 2 || (r->tk.n == 2 && r->tk.v[0].sent != r->tk.v[1].sent)) {
		problems_add(r->pr, r->file, line, 1,
			     "'%s' reads as %zu words; a weight is for one word or two words "
			     "side by side",
			     end, r->tk.n);
		r->failed++;
		return;
	}
	if (r->nweights == DISTRESS_FEATURES_MAX) {
		problems_add(r->pr, r->file, line, 1, "more than %d weights",
			     DISTRESS_FEATURES_MAX);
		r->failed++;
		return;
	}
	char key[KEY_MAX];
	size_t kl = r->tk.v[0].stem_len;
	memcpy(key, r->tk.v[0].stem, kl);
	if (r->tk.n == 2) {
		key[kl++] = ' ';
		memcpy(key + kl, r->tk.v[1].stem, r->tk.v[1].stem_len);
		kl += r->tk.v[1].stem_len;
	}
	struct distress *d = r->d;
	int ins, *feat = hmap_put(&d->keys, key, kl, (int)hmap_count(&d->keys), &ins);
	if ((size_t)*feat >= r->caplast) { /* room for it: none read yet */
		size_t old = r->caplast;
		r->last = xgrow(r->last, &r->caplast, (size_t)*feat + 1, sizeof *r->last);
		memset(r->last + old, 0, (r->caplast - old) * sizeof *r->last);
	}
	if (r->last[*feat] == r->cur + 1) { /* sections are read one after another */
		problems_add(r->pr, r->file, line, 1,
			     "'%s' has a weight already (a word and its other forms share one)",
			     end);
		r->failed++;
		return;
	}
	r->last[*feat] = (uint16_t)(r->cur + 1);
	d->cells = xgrow(d->cells, &d->capcells, d->ncells + 1, sizeof *d->cells);
	d->cells[d->ncells++] = (struct cell){(uint32_t)*feat, (uint16_t)r->cur, (int32_t)v};
	d->m[r->cur].nw++;
	r->nweights++;
}

static void
read_line(struct reading *r, unsigned line, char *s)
{
	size_t w = strcspn(s, " \t");
	const char *rest = s + w + strspn(s + w, " \t");
	if (w == 4 && strncmp(s, "rule", 4) == 0) {
		section(r, line, rest);
		return;
	}
	if (w == 6 && strncmp(s, "unless", 6) == 0) {
		unless_section(r, line, rest);
		return;
	}
	if (r->cur == SKIPPED)
		return;
	if (r->cur < 0) {
		problems_add(r->pr, r->file, line, 1,
			     "before the first section: a line 'rule ID' starts the words of "
			     "rule ID, a line 'unless' the unless model's");
		r->failed++;
		return;
	}
	size_t k = 0;
	while (k < NSETTINGS && !(w == strlen(settings[k]) && strncmp(s, settings[k], w) == 0))
		k++;
	if (k < NSETTINGS)
		setting(r, line, k, rest);
	else if (w == 3 && strncmp(s, "for", 3) == 0)
		for_line(r, line, rest);
	else
		weight_line(r, line, s);
}

static int
by_feature(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	if (x->feat != y->feat)
		return x->feat < y->feat ? -1 : 1;
	return (x->model > y->model) - (x->model < y->model);
}

/* The cells sorted by feature, and where each feature's start. */
static void
index_cells(struct distress *d)
{
	if (d->ncells) {
		qsort(d->cells, d->ncells, sizeof *d->cells, by_feature);
		d->cells = xrealloc(d->cells, d->ncells * sizeof *d->cells);
		d->capcells = d->ncells;
	}
	size_t nf = hmap_count(&d->keys);
	free(d->start);
	d->start = xcalloc(nf + 1, sizeof *d->start);
	for (size_t i = 0; i < d->ncells; i++)
		d->start[d->cells[i].feat + 1]++;
	for (size_t f = 0; f < nf; f++)
		d->start[f + 1] += d->start[f];
	hmap_shrink(&d->keys);
}

struct distress *
distress_new(void)
{
	return xcalloc(1, sizeof(struct distress));
}

int
distress_read(struct distress *d, struct text_ctx *t, const char *file, const char *text,
	      size_t len, distress_rule_fn rule_of, void *arg, struct problems *pr)
{
	struct reading r = {.d = d,
			    .t = t,
			    .file = file,
			    .pr = pr,
			    .rule_of = rule_of,
			    .arg = arg,
			    .first = d->nm,
			    .cur = -1};
	unsigned line = 0;
	char *l;
	for (size_t i = 0; (l = kb_next_line(text, len, &i)) != NULL;) {
		line++;
		char *hash = strchr(l, '#');
		if (hash)
			*hash = '\0';
		size_t n = strlen(l); /* what the comment left */
		while (n && (l[n - 1] == ' ' || l[n - 1] == '\t'))
			l[--n] = '\0';
		char *s = l;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s)
			read_line(&r, line, s);
		free(l);
	}
	for (size_t m = r.first; m < d->nm; m++)
		for (size_t k = 0; k < NSETTINGS; k++)
			if (!(r.have[m] & 1u << k) &&
			    ((d->m[m].rule == DISTRESS_UNLESS ? UNLESS_NEEDS : RULE_NEEDS) &
			     1u << k)) {
				problems_add(pr, file, r.line_of[m], 1,
					     "'%s' is missing (a line: %s and a number)",
					     settings[k], settings[k]);
				r.failed++;
			}
	tokens_free(&r.tk);
	free(r.last);
	if (r.failed)
		return -1;
	index_cells(d);
	return 0;
}

void
distress_free(struct distress *d)
{
	if (d == NULL)
		return;
	hmap_free(&d->keys);
	free(d->start);
	free(d->cells);
	free(d);
}

/* ---- scoring --------------------------------------------------------------- */

struct hits {
	const struct hmap *keys;
	uint64_t *v;
	size_t n, cap;
	uint64_t *buf; /* the caller's room: v until it is too small */
};

static void
found(const char *key, size_t n, size_t tok, size_t ntok, void *arg)
{
	struct hits *h = arg;
	int i = hmap_get(h->keys, key, n);
	if (i < 0)
		return;
	if (h->n == h->cap) {
		uint64_t *v = xmalloc(h->cap * 2 * sizeof *v);
		memcpy(v, h->v, h->n * sizeof *v);
		if (h->v != h->buf)
			free(h->v);
		h->v = v;
		h->cap *= 2;
	}
	h->v[h->n++] = (uint64_t)i << 32 | (uint64_t)tok << 1 | (ntok == 2);
}

size_t
distress_found(const struct hmap *keys, const struct tokens *q, uint64_t *buf, size_t cap,
	       uint64_t **out)
{
	struct hits h = {keys, buf, 0, cap, buf};
	distress_features(q, found, &h);
	uint64_t stack[SCORE_STACK];
	uint64_t *tmp = h.n <= SCORE_STACK ? stack : xmalloc(h.n * sizeof *tmp);
	keysort(h.v, tmp, h.n);
	if (tmp != stack)
		free(tmp);
	size_t n = 0;
	for (size_t i = 0; i < h.n; i++) /* each feature once: its first place */
		if (n == 0 || h.v[i] >> 32 != h.v[n - 1] >> 32)
			h.v[n++] = h.v[i];
	*out = h.v;
	return n;
}

void
distress_score_all(const struct distress *d, const struct tokens *q, struct distress_scores *out)
{
	uint64_t stack[SCORE_STACK], *v;
	size_t n = d->start ? distress_found(&d->keys, q, stack, SCORE_STACK, &v) : 0;
	int32_t best[DISTRESS_MODELS_MAX] = {0};
	uint64_t best_at[DISTRESS_MODELS_MAX] = {0};
	for (size_t m = 0; m < d->nm; m++)
		out->score[m] = d->m[m].bias;
	for (size_t i = 0; i < n; i++) {
		uint32_t f = (uint32_t)(v[i] >> 32);
		for (uint32_t c = d->start[f]; c < d->start[f + 1]; c++) {
			const struct cell *x = &d->cells[c];
			out->score[x->model] += x->w;
			if (x->w > best[x->model]) {
				best[x->model] = x->w;
				best_at[x->model] = v[i];
			}
		}
	}
	for (size_t m = 0; m < d->nm; m++) {
		out->off[m] = out->len[m] = 0;
		if (best[m] > 0) {
			size_t t = (size_t)(best_at[m] & 0xffffffffu) >> 1;
			const struct token *a = &q->v[t], *b = &q->v[t + (best_at[m] & 1)];
			out->off[m] = a->off;
			out->len[m] = b->off + b->len - a->off;
		}
	}
	if (n && v != stack)
		free(v);
}

size_t
distress_count(const struct distress *d)
{
	return d->ncells;
}

size_t
distress_nmodels(const struct distress *d)
{
	return d->nm;
}

const struct distress_model *
distress_model(const struct distress *d, size_t m)
{
	return &d->m[m];
}

const struct distress_model *
distress_unless(const struct distress *d, size_t *index)
{
	for (size_t m = 0; m < d->nm; m++)
		if (d->m[m].rule == DISTRESS_UNLESS) {
			*index = m;
			return &d->m[m];
		}
	return NULL;
}

long
distress_doubt(const struct distress_model *m, const struct distress_scores *s, size_t index,
	       int rule)
{
	long v = s->score[index];
	for (size_t i = 0; i < m->nfor; i++)
		if (m->for_rule[i] == rule)
			v += m->for_w[i];
	return v;
}
