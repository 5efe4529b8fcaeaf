/*
 * distress: the weighted word list that reads distress in a whole message
 * (see distress.h).
 */
#include "distress.h"

#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "kb_parse.h"
#include "xmem.h"

#define KEY_MAX (2 * TEXT_WORD_MAX + 1)
#define SCORE_STACK 256 /* features of a message scored without malloc */

struct distress {
	struct hmap keys; /* "stem" or "stem stem" -> index in w */
	int32_t *w;       /* thousandths */
	size_t nw, capw;
	long bias, talk_at, crisis_at;
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

/* ---- reading the list ------------------------------------------------------ */

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

/* The settings of a list, and where each goes. */
enum { NSETTINGS = 3 };
static const char *const settings[NSETTINGS] = {"bias", "talk-at", "crisis-at"};

static long *
setting_of(struct distress *d, size_t k)
{
	long *const to[NSETTINGS] = {&d->bias, &d->talk_at, &d->crisis_at};
	return to[k];
}

struct reading {
	struct distress *d;
	struct text_ctx *t;
	const char *file;
	struct problems *pr;
	struct tokens tk;
	int have[NSETTINGS]; /* settings[k] was set */
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
	if (r->have[k]) {
		problems_add(r->pr, r->file, line, 1, "'%s' is set twice", name);
		r->failed++;
	}
	r->have[k] = 1;
	*setting_of(r->d, k) = v;
}

static void
weight_line(struct reading *r, unsigned line, const char *s)
{
	long v;
	const char *end;
	if (distress_milli(s, &end, &v) < 0 || (*end != ' ' && *end != '\t')) {
		problems_add(r->pr, r->file, line, 1,
			     "expected a weight and one or two words (for example: 1.250 "
			     "hopeless), or bias, talk-at or crisis-at and a number");
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
	char key[KEY_MAX];
	size_t kl = r->tk.v[0].stem_len;
	memcpy(key, r->tk.v[0].stem, kl);
	if (r->tk.n == 2) {
		key[kl++] = ' ';
		memcpy(key + kl, r->tk.v[1].stem, r->tk.v[1].stem_len);
		kl += r->tk.v[1].stem_len;
	}
	struct distress *d = r->d;
	if (d->nw == DISTRESS_FEATURES_MAX) {
		problems_add(r->pr, r->file, line, 1, "more than %d weights",
			     DISTRESS_FEATURES_MAX);
		r->failed++;
		return;
	}
	int ins;
	int *slot = hmap_put(&d->keys, key, kl, (int)d->nw, &ins);
	if (!ins) {
		problems_add(r->pr, r->file, line, 1,
			     "'%s' has a weight already (a word and its other forms share one)",
			     end);
		r->failed++;
		return;
	}
	d->w = xgrow(d->w, &d->capw, d->nw + 1, sizeof *d->w);
	d->w[*slot] = (int32_t)v;
	d->nw++;
}

struct distress *
distress_parse(struct text_ctx *t, const char *file, const char *text, size_t len,
	       struct problems *pr)
{
	struct distress *d = xcalloc(1, sizeof *d);
	struct reading r = {.d = d, .t = t, .file = file, .pr = pr};
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
		if (*s) {
			size_t w = strcspn(s, " \t");
			const char *rest = s + w + strspn(s + w, " \t");
			size_t k = 0;
			while (k < NSETTINGS &&
			       !(w == strlen(settings[k]) && strncmp(s, settings[k], w) == 0))
				k++;
			if (k < NSETTINGS)
				setting(&r, line, k, rest);
			else
				weight_line(&r, line, s);
		}
		free(l);
	}
	for (size_t k = 0; k < NSETTINGS; k++)
		if (!r.have[k]) {
			problems_add(pr, file, line ? line : 1, 1,
				     "'%s' is missing (a line: %s and a number)", settings[k],
				     settings[k]);
			r.failed++;
		}
	if (!r.failed && d->talk_at > d->crisis_at) {
		problems_add(pr, file, 1, 1, "talk-at (%ld.%03ld) is above crisis-at",
			     d->talk_at / 1000, labs(d->talk_at % 1000));
		r.failed++;
	}
	tokens_free(&r.tk);
	if (r.failed) {
		distress_free(d);
		return NULL;
	}
	hmap_shrink(&d->keys);
	return d;
}

void
distress_free(struct distress *d)
{
	if (d == NULL)
		return;
	hmap_free(&d->keys);
	free(d->w);
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

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

size_t
distress_found(const struct hmap *keys, const struct tokens *q, uint64_t *buf, size_t cap,
	       uint64_t **out)
{
	struct hits h = {keys, buf, 0, cap, buf};
	distress_features(q, found, &h);
	qsort(h.v, h.n, sizeof *h.v, cmp_u64);
	size_t n = 0;
	for (size_t i = 0; i < h.n; i++) /* each feature once: its first place */
		if (n == 0 || h.v[i] >> 32 != h.v[n - 1] >> 32)
			h.v[n++] = h.v[i];
	*out = h.v;
	return n;
}

long
distress_score(const struct distress *d, const struct tokens *q, uint32_t *off, uint32_t *len)
{
	uint64_t stack[SCORE_STACK], *v;
	size_t n = distress_found(&d->keys, q, stack, SCORE_STACK, &v);
	long score = d->bias;
	int32_t best = 0;
	uint64_t best_at = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t w = d->w[v[i] >> 32];
		score += w;
		if (w > best) {
			best = w;
			best_at = v[i];
		}
	}
	if (off && len) {
		*off = *len = 0;
		if (best > 0) {
			size_t t = (size_t)(best_at & 0xffffffffu) >> 1;
			const struct token *a = &q->v[t], *b = &q->v[t + (best_at & 1)];
			*off = a->off;
			*len = b->off + b->len - a->off;
		}
	}
	if (v != stack)
		free(v);
	return score;
}

enum distress_level
distress_level(const struct distress *d, long score)
{
	return score >= d->crisis_at ? DISTRESS_CRISIS
	       : score >= d->talk_at ? DISTRESS_TALK
				     : DISTRESS_NONE;
}

size_t
distress_count(const struct distress *d)
{
	return d->nw;
}

long
distress_talk_at(const struct distress *d)
{
	return d->talk_at;
}

long
distress_crisis_at(const struct distress *d)
{
	return d->crisis_at;
}
