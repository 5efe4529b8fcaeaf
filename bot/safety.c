/*
 * safety: trigger pattern compiler and matcher (see safety.h).  Pure.
 * Patterns are indexed by the words that can start them, so a message only
 * runs the patterns whose first word it contains.
 */
#include "safety.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmem.h"

#define MAX_ENDS 64
#define PREFIX_MIN 3
#define MAX_NESTING 8   /* levels of '(' in a pattern: bounds the recursion */
#define MAX_COST 100000 /* node_cost() of a pattern: bounds the matching time */

enum pkind { P_WORD, P_PREFIX, P_EXACT, P_SEQ, P_ALT, P_AND };

struct pnode {
	enum pkind kind;
	char w[TEXT_WORD_MAX];
	uint8_t wl;
	int32_t id; /* WORD/EXACT/PREFIX: id in the set's word tables, -1 if none */
	struct pnode **kids;
	uint8_t *gap; /* SEQ: words allowed before kid i */
	size_t nkids;
};

struct pattern {
	struct pnode *root;
};

struct cpat {
	struct pnode *root;
	int rule;
	int is_unless;
};

struct anchor {
	uint32_t pat;
	int32_t pfx; /* a prefix anchor: its id in the set's prefix table */
	int next;
};

struct safety_set {
	struct cpat *pats;
	size_t npats, cappats;
	struct {
		uint32_t *v;
		size_t n, cap;
	} * unless;
	size_t nrules;
	/* Every pattern word has an id: WORD by stem, EXACT by surface,
	 * PREFIX by its text, the prefixes also listed by their first 3 bytes
	 * (p3).  A message token costs three lookups: its stem, its surface
	 * and its first 3 bytes. */
	struct hmap stem_ids, surf_ids, pfx_ids, p3;
	int *stem_head, *surf_head; /* by id: first anchor starting with it, -1 */
	size_t capstem, capsurf;
	struct {
		int anchors; /* first prefix anchor with these 3 bytes, -1 */
		int pfx;     /* first prefix with them, -1 */
	} * p3v;
	size_t np3, capp3;
	struct {
		char p[TEXT_WORD_MAX];
		uint8_t len;
		int next; /* next prefix with the same 3 bytes */
	} * pfx;
	size_t npfx, cappfx;
	/* anchors: first words -> trigger patterns */
	struct anchor *an;
	size_t nan, capan;
};

/* ---- compiler ------------------------------------------------------------ */

struct pc {
	struct text_ctx *t;
	const char *s, *p;
	char *err;
	size_t errlen;
	int failed;
	int depth; /* open '(' */
};

static struct pnode *
node_new(enum pkind k)
{
	struct pnode *n = xcalloc(1, sizeof *n);
	n->kind = k;
	n->id = -1;
	return n;
}

static void
node_free(struct pnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->gap);
	free(n);
}

static void
add_kid(struct pnode *n, struct pnode *k, uint8_t gap)
{
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
	n->gap = xrealloc(n->gap, n->nkids + 1);
	n->kids[n->nkids] = k;
	n->gap[n->nkids] = gap;
	n->nkids++;
}

static void
pc_fail(struct pc *c, const char *msg)
{
	if (!c->failed)
		snprintf(c->err, c->errlen, "%s at column %d", msg, (int)(c->p - c->s) + 1);
	c->failed = 1;
}

static void
skip_ws(struct pc *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static int
word_char(char ch)
{
	return ch && !strchr(" \t()|&*=?+[]{}\"!,;:", ch) && ch != '.';
}

static struct pnode *parse_alts(struct pc *c);

static struct pnode *
parse_word(struct pc *c)
{
	int exact = 0;
	if (*c->p == '=') {
		exact = 1;
		c->p++;
	}
	const char *start = c->p;
	while (word_char(*c->p) || (*c->p == '.' && c->p[1] != '.' && word_char(c->p[1])))
		c->p++;
	size_t n = (size_t)(c->p - start);
	if (n == 0) {
		char msg[80];
		if (*c->p && strchr("?+[]{}\"!,;:", *c->p))
			snprintf(msg, sizeof msg,
				 "'%c' is not pattern syntax (for an optional word use '..' or "
				 "alternatives)",
				 *c->p);
		else
			snprintf(msg, sizeof msg, "%s",
				 *c->p ? "expected a word"
				       : "pattern ends where a word was expected");
		pc_fail(c, msg);
		return NULL;
	}
	int prefix = 0;
	if (*c->p == '*') {
		prefix = 1;
		c->p++;
	}
	if (exact && prefix) {
		pc_fail(c, "'=' and '*' cannot be used on the same word");
		return NULL;
	}
	struct tokens tk = {0};
	text_tokenize(c->t, start, n, &tk);
	struct pnode *r = NULL;
	if (tk.n == 0) {
		pc_fail(c, "a word with no letters");
	} else if (tk.n > 1 && (exact || prefix)) {
		pc_fail(c, "'=' and '*' apply to one plain word");
	} else if (prefix && tk.v[0].surf_len < PREFIX_MIN) {
		pc_fail(c, "a prefix before '*' needs at least 3 letters");
	} else if (tk.n == 1) {
		r = node_new(prefix ? P_PREFIX : exact ? P_EXACT : P_WORD);
		const char *w = r->kind == P_WORD ? tk.v[0].stem : tk.v[0].surf;
		r->wl = (uint8_t)strlen(w);
		memcpy(r->w, w, (size_t)r->wl + 1);
	} else { /* "cant" -> can not */
		r = node_new(P_SEQ);
		for (size_t i = 0; i < tk.n; i++) {
			struct pnode *k = node_new(P_WORD);
			k->wl = tk.v[i].stem_len;
			memcpy(k->w, tk.v[i].stem, (size_t)k->wl + 1);
			add_kid(r, k, 0);
		}
	}
	tokens_free(&tk);
	return r;
}

static struct pnode *
parse_elem(struct pc *c)
{
	skip_ws(c);
	if (*c->p == '(') {
		if (c->depth >= MAX_NESTING) {
			pc_fail(c, "too many '(' inside each other");
			return NULL;
		}
		c->p++;
		c->depth++;
		struct pnode *n = parse_alts(c);
		c->depth--;
		skip_ws(c);
		if (c->failed) {
			node_free(n);
			return NULL;
		}
		if (*c->p != ')') {
			pc_fail(c, "missing ')'");
			node_free(n);
			return NULL;
		}
		c->p++;
		return n;
	}
	if (*c->p == ')' || *c->p == '|' || *c->p == '&' || *c->p == '\0' || *c->p == '.') {
		pc_fail(c, *c->p == '\0'  ? "pattern ends where a word was expected"
			   : *c->p == '.' ? "'..' must stand between two words"
					  : "expected a word or '('");
		return NULL;
	}
	return parse_word(c);
}

static struct pnode *
parse_seq(struct pc *c)
{
	struct pnode *seq = node_new(P_SEQ);
	uint8_t gap = 0;
	for (;;) {
		struct pnode *e = parse_elem(c);
		if (e == NULL) {
			node_free(seq);
			return NULL;
		}
		add_kid(seq, e, gap);
		skip_ws(c);
		gap = 0;
		if (c->p[0] == '.' && c->p[1] == '.') {
			c->p += 2;
			if (*c->p == '.') {
				pc_fail(c, "use '..' (two dots) for a gap");
				node_free(seq);
				return NULL;
			}
			gap = SAFETY_GAP;
			skip_ws(c);
			continue;
		}
		if (*c->p == '\0' || *c->p == ')' || *c->p == '|' || *c->p == '&')
			break;
	}
	if (seq->nkids == 1) {
		struct pnode *k = seq->kids[0];
		seq->nkids = 0;
		node_free(seq);
		return k;
	}
	return seq;
}

static struct pnode *
parse_and(struct pc *c)
{
	struct pnode *first = parse_seq(c);
	if (first == NULL)
		return NULL;
	skip_ws(c);
	if (*c->p != '&')
		return first;
	struct pnode *and = node_new(P_AND);
	add_kid(and, first, 0);
	while (*c->p == '&') {
		c->p++;
		struct pnode *k = parse_seq(c);
		if (k == NULL) {
			node_free(and);
			return NULL;
		}
		add_kid(and, k, 0);
		skip_ws(c);
	}
	return and;
}

static struct pnode *
parse_alts(struct pc *c)
{
	struct pnode *first = parse_and(c);
	if (first == NULL)
		return NULL;
	skip_ws(c);
	if (*c->p != '|')
		return first;
	struct pnode *alt = node_new(P_ALT);
	add_kid(alt, first, 0);
	while (*c->p == '|') {
		c->p++;
		struct pnode *k = parse_and(c);
		if (k == NULL) {
			node_free(alt);
			return NULL;
		}
		add_kid(alt, k, 0);
		skip_ws(c);
	}
	return alt;
}

/* '&' is only meaningful at the top: the whole pattern, or alternatives of
 * a top-level group. */
static int
and_placement_ok(const struct pnode *n, int top)
{
	if (n->kind == P_AND && !top)
		return 0;
	for (size_t i = 0; i < n->nkids; i++)
		if (!and_placement_ok(n->kids[i], n->kind == P_ALT ? top : 0))
			return 0;
	return 1;
}

/*
 * Upper bound on the m_node calls of one try of n at one position, and in
 * *ends on the end positions it returns.  A gapped sequence retries each
 * part from every end of the previous one, so nested gapped sequences
 * multiply: ((a .. b) .. (c .. d)) .. ... grows exponentially.  The shipped
 * rules stay under 40,000.
 */
static double
node_cost(const struct pnode *n, double *ends)
{
	double c = 1, e = 0, ke;
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
		*ends = 1;
		return 1;
	case P_ALT:
	case P_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			c += node_cost(n->kids[i], &ke);
			e += ke;
		}
		break;
	case P_SEQ:
		e = 1;
		for (size_t i = 0; i < n->nkids; i++) {
			double tries = e * (n->gap[i] + 1);
			c += tries * node_cost(n->kids[i], &ke);
			e = tries * ke < MAX_ENDS ? tries * ke : MAX_ENDS;
		}
		break;
	}
	*ends = e < MAX_ENDS ? e : MAX_ENDS;
	return c;
}

struct pattern *
safety_compile(struct text_ctx *t, const char *src, char *err, size_t errlen)
{
	struct pc c = {t, src, src, err, errlen, 0, 0};
	if (errlen)
		err[0] = '\0';
	skip_ws(&c);
	struct pnode *root = parse_alts(&c);
	skip_ws(&c);
	if (root && !c.failed && *c.p != '\0')
		pc_fail(&c, *c.p == ')' ? "unmatched ')'" : "unexpected character");
	if (!c.failed && !and_placement_ok(root, 1)) {
		snprintf(err, errlen,
			 "'&' may only join whole parts of a pattern, "
			 "not words inside a sequence");
		c.failed = 1;
	}
	double ends;
	if (!c.failed && node_cost(root, &ends) > MAX_COST) {
		snprintf(err, errlen,
			 "too complex (groups with '..' inside groups with '..'); "
			 "split it into several triggers");
		c.failed = 1;
	}
	if (c.failed) {
		node_free(root);
		return NULL;
	}
	struct pattern *p = xcalloc(1, sizeof *p);
	p->root = root;
	return p;
}

void
safety_pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	node_free(p->root);
	free(p);
}

/* ---- matcher --------------------------------------------------------------- */

static int
tok_match(const struct pnode *n, const struct token *k)
{
	if (n->id >= 0 && n->kind != P_PREFIX) /* interned: compare ids, not strings */
		return (n->kind == P_WORD ? k->sid : k->xid) == n->id;
	switch (n->kind) {
	case P_WORD:
		return k->stem_len == n->wl && memcmp(k->stem, n->w, n->wl) == 0;
	case P_EXACT:
		return k->surf_len == n->wl && memcmp(k->surf, n->w, n->wl) == 0;
	case P_PREFIX:
		return k->surf_len >= n->wl && memcmp(k->surf, n->w, n->wl) == 0;
	default:
		return 0;
	}
}

static size_t
add_end(uint16_t *ends, size_t n, size_t e)
{
	for (size_t i = 0; i < n; i++)
		if (ends[i] == e)
			return n;
	if (n < MAX_ENDS)
		ends[n++] = (uint16_t)e;
	return n;
}

/* All end positions (exclusive) of n matched starting exactly at pos. */
static size_t
m_node(const struct pnode *n, const struct tokens *q, size_t pos, size_t end, uint16_t *out)
{
	size_t no = 0;
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
		if (pos < end && tok_match(n, &q->v[pos]))
			out[no++] = (uint16_t)(pos + 1);
		return no;
	case P_ALT:
		for (size_t i = 0; i < n->nkids; i++) {
			const struct pnode *k = n->kids[i];
			if (k->kind <= P_EXACT) { /* a single word: no recursion */
				if (pos < end && tok_match(k, &q->v[pos]))
					no = add_end(out, no, pos + 1);
				continue;
			}
			uint16_t tmp[MAX_ENDS];
			size_t nt = m_node(k, q, pos, end, tmp);
			for (size_t j = 0; j < nt; j++)
				no = add_end(out, no, tmp[j]);
		}
		return no;
	case P_SEQ: {
		uint16_t cur[MAX_ENDS], next[MAX_ENDS], tmp[MAX_ENDS];
		size_t nc = 1, nn;
		cur[0] = (uint16_t)pos;
		for (size_t i = 0; i < n->nkids; i++) {
			nn = 0;
			for (size_t c = 0; c < nc; c++)
				for (size_t g = 0; g <= n->gap[i] && cur[c] + g < end; g++) {
					size_t nt = m_node(n->kids[i], q, cur[c] + g, end, tmp);
					for (size_t j = 0; j < nt; j++)
						nn = add_end(next, nn, tmp[j]);
				}
			if (nn == 0)
				return 0;
			memcpy(cur, next, nn * sizeof *cur);
			nc = nn;
		}
		memcpy(out, cur, nc * sizeof *cur);
		return nc;
	}
	case P_AND:
		return 0; /* only at top level, handled by find_top */
	}
	return 0;
}

static int
in_list(const char *const *l, const struct token *k)
{
	for (; *l; l++)
		if (strcmp(*l, k->surf) == 0)
			return 1;
	return 0;
}

struct span {
	size_t a, b;
};

static int
inside(const struct span *sp, size_t nsp, size_t j)
{
	for (size_t i = 0; i < nsp; i++)
		if (j >= sp[i].a && j < sp[i].b)
			return 1;
	return 0;
}

/* Is the part starting at `start` negated?  sent0: first token of the
 * sentence; sp: the match's own spans (negators inside them don't count). */
static int
negated(const struct tokens *q, size_t sent0, size_t start, const struct span *sp, size_t nsp)
{
	static const char *const breakers[] = {"but",    "however", "although", "though",
					       "except", "yet",     "because",  "since",
					       "now",    "still",   NULL};
	/* words that open a new clause after "and" or a comma */
	static const char *const new_clause[] = {
	    "i",    "my",    "it",   "the", "now", "also", "we", "he",   "she",   "they",
	    "this", "there", "have", "has", "had", "got",  "am", "feel", "feels", NULL};
	static const char *const hedges[] = {"sure", "idea", "certain", "know",
					     "just", "only", NULL};
	size_t lo = start > sent0 + SAFETY_NEG_WINDOW ? start - SAFETY_NEG_WINDOW : sent0;
	for (size_t j = start; j-- > lo;) {
		const struct token *k = &q->v[j];
		if (inside(sp, nsp, j))
			continue;
		if (in_list(breakers, k))
			return 0;
		if (j + 1 < q->n && in_list(new_clause, &q->v[j + 1]) &&
		    (strcmp(k->surf, "and") == 0 || (k->flags & TOK_PUNCT_AFTER)))
			return 0; /* "..., I fell" / "and have a fever": a new clause */
		int neg =
		    (k->flags & TOK_NEGATOR) || (strcmp(k->surf, "free") == 0 && j + 1 < q->n &&
						 strcmp(q->v[j + 1].surf, "of") == 0);
		if (!neg)
			continue;
		if (k->flags & TOK_PUNCT_AFTER)
			continue; /* "No, my groin is numb" */
		if (j + 1 < q->n && in_list(hedges, &q->v[j + 1]))
			continue;
		return 1;
	}
	return 0;
}

static int
overlaps(const struct span *a, const struct span *u, size_t nu)
{
	for (size_t i = 0; i < nu; i++)
		if (a->a < u[i].b && u[i].a < a->b)
			return 1;
	return 0;
}

/* Longest occurrence spans of a SEQ-like node in [s0, s1). */
static size_t
all_spans(const struct pnode *n, const struct tokens *q, size_t s0, size_t s1, struct span *out,
	  size_t max)
{
	size_t no = 0;
	uint16_t ends[MAX_ENDS];
	for (size_t i = s0; i < s1 && no < max; i++) {
		size_t ne = m_node(n, q, i, s1, ends);
		if (ne == 0)
			continue;
		size_t e = ends[0];
		for (size_t j = 1; j < ne; j++)
			if (ends[j] > e)
				e = ends[j];
		out[no].a = i;
		out[no].b = e;
		no++;
	}
	return no;
}

#define MAX_UNLESS_SPANS 64

/* The unless spans of one rule in one sentence, computed on first need. */
struct unless_ctx {
	const struct safety_set *set; /* NULL: no unless patterns */
	int rule;
	int ready;
	struct span v[MAX_UNLESS_SPANS];
	size_t n;
};

static int cancelled(struct unless_ctx *u, const struct tokens *q, size_t s0, size_t s1,
		     const struct span *sp);

/*
 * Find the first valid occurrence of a top-level node in sentence [s0,s1),
 * trying start positions from `from` on (the first token that can begin
 * the pattern).
 */
#define MAX_STARTS 8

/* Where a pattern may start: the tokens its first word matched, or (when
 * there were more than MAX_STARTS) every token from the first one on. */
struct starts {
	uint16_t pos[MAX_STARTS];
	uint8_t n, all;
};

static int
find_top(const struct pnode *n, const struct tokens *q, size_t s0, size_t s1,
	 const struct starts *st, struct unless_ctx *u, struct span *hit)
{
	if (n->kind == P_ALT) {
		for (size_t i = 0; i < n->nkids; i++)
			if (find_top(n->kids[i], q, s0, s1, st, u, hit))
				return 1;
		return 0;
	}
	if (n->kind != P_AND) {
		uint16_t ends[MAX_ENDS];
		size_t count = st->all ? s1 - st->pos[0] : st->n;
		for (size_t x = 0; x < count; x++) {
			size_t i = st->all ? st->pos[0] + x : st->pos[x];
			size_t ne = m_node(n, q, i, s1, ends);
			for (size_t j = 0; j < ne; j++) {
				struct span sp = {i, ends[j]};
				if (negated(q, s0, i, &sp, 1) || cancelled(u, q, s0, s1, &sp))
					continue;
				*hit = sp;
				return 1;
			}
		}
		return 0;
	}
	/* AND: every part somewhere in the sentence; pick per part the first
	 * occurrence that is not cancelled */
	struct span parts[16] = {{0, 0}};
	size_t np = n->nkids < 16 ? n->nkids : 16;
	struct span occ[MAX_UNLESS_SPANS];
	for (size_t k = 0; k < np; k++) {
		size_t no = all_spans(n->kids[k], q, s0, s1, occ, MAX_UNLESS_SPANS);
		int ok = 0;
		for (size_t j = 0; j < no && !ok; j++) {
			if (cancelled(u, q, s0, s1, &occ[j]))
				continue;
			parts[k] = occ[j];
			ok = 1;
		}
		if (!ok)
			return 0;
	}
	for (size_t k = 0; k < np; k++)
		if (negated(q, s0, parts[k].a, parts, np))
			return 0;
	hit->a = parts[0].a;
	hit->b = parts[0].b;
	for (size_t k = 1; k < np; k++) {
		if (parts[k].a < hit->a)
			hit->a = parts[k].a;
		if (parts[k].b > hit->b)
			hit->b = parts[k].b;
	}
	return 1;
}

int
safety_pattern_fires(const struct pattern *p, const struct tokens *q)
{
	size_t s0 = 0;
	while (s0 < q->n) {
		size_t s1 = s0;
		while (s1 < q->n && q->v[s1].sent == q->v[s0].sent)
			s1++;
		struct span hit;
		struct unless_ctx u = {NULL, 0, 1, {{0, 0}}, 0};
		struct starts st = {{(uint16_t)s0}, 1, 1};
		if (find_top(p->root, q, s0, s1, &st, &u, &hit))
			return 1;
		s0 = s1;
	}
	return 0;
}

/* ---- rule set ------------------------------------------------------------- */

/* The p3 entry for the first 3 bytes of w, made if new. */
static int
p3_slot(struct safety_set *s, const char *w)
{
	int ins;
	int v = *hmap_put(&s->p3, w, PREFIX_MIN, (int)s->np3, &ins);
	if (ins) {
		s->p3v = xgrow(s->p3v, &s->capp3, s->np3 + 1, sizeof *s->p3v);
		s->p3v[s->np3].anchors = -1;
		s->p3v[s->np3].pfx = -1;
		s->np3++;
	}
	return v;
}

/* Register the words that can start node n as anchors of pattern pid. */
static void
add_anchors(struct safety_set *s, const struct pnode *n, uint32_t pid)
{
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX: { /* interned already: n->id is set */
		int *head;
		if (n->kind == P_WORD)
			head = &s->stem_head[n->id];
		else if (n->kind == P_EXACT)
			head = &s->surf_head[n->id];
		else
			head = &s->p3v[p3_slot(s, n->w)].anchors;
		s->an = xgrow(s->an, &s->capan, s->nan + 1, sizeof *s->an);
		s->an[s->nan].pat = pid;
		s->an[s->nan].pfx = n->kind == P_PREFIX ? n->id : -1;
		s->an[s->nan].next = *head;
		*head = (int)s->nan++;
		return;
	}
	case P_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			add_anchors(s, n->kids[i], pid);
		return;
	case P_SEQ:
	case P_AND:
		add_anchors(s, n->kids[0], pid);
		return;
	}
}

/* Give every word node of n an id in the set's word tables. */
static void
intern(struct safety_set *s, struct pnode *n)
{
	int ins;
	if (n->kind == P_WORD || n->kind == P_EXACT) {
		int word = n->kind == P_WORD;
		struct hmap *h = word ? &s->stem_ids : &s->surf_ids;
		n->id = *hmap_put(h, n->w, n->wl, (int)hmap_count(h), &ins);
		if (ins) {
			int **head = word ? &s->stem_head : &s->surf_head;
			*head = xgrow(*head, word ? &s->capstem : &s->capsurf, (size_t)n->id + 1,
				      sizeof **head);
			(*head)[n->id] = -1;
		}
	} else if (n->kind == P_PREFIX) {
		n->id = *hmap_put(&s->pfx_ids, n->w, n->wl, (int)s->npfx, &ins);
		if (ins) {
			int slot = p3_slot(s, n->w);
			s->pfx = xgrow(s->pfx, &s->cappfx, s->npfx + 1, sizeof *s->pfx);
			memcpy(s->pfx[s->npfx].p, n->w, (size_t)n->wl + 1);
			s->pfx[s->npfx].len = n->wl;
			s->pfx[s->npfx].next = s->p3v[slot].pfx;
			s->p3v[slot].pfx = (int)s->npfx++;
		}
	}
	for (size_t i = 0; i < n->nkids; i++)
		intern(s, n->kids[i]);
}

struct safety_set *
safety_build(struct text_ctx *t, const struct kb_rule *rules, size_t n, struct problems *pr)
{
	struct safety_set *s = xcalloc(1, sizeof *s);
	hmap_init(&s->stem_ids);
	hmap_init(&s->surf_ids);
	hmap_init(&s->pfx_ids);
	hmap_init(&s->p3);
	s->nrules = n;
	s->unless = xcalloc(n ? n : 1, sizeof *s->unless);
	char err[200];
	for (size_t r = 0; r < n; r++) {
		for (int u = 0; u < 2; u++) {
			const struct kb_list *l = u ? &rules[r].unless : &rules[r].triggers;
			for (size_t i = 0; i < l->n; i++) {
				struct pattern *p = safety_compile(t, l->v[i].s, err, sizeof err);
				if (p == NULL) {
					problems_add(pr, rules[r].file, l->v[i].line, 1,
						     "pattern '%s': %s", l->v[i].s, err);
					continue;
				}
				s->pats =
				    xgrow(s->pats, &s->cappats, s->npats + 1, sizeof *s->pats);
				uint32_t pid = (uint32_t)s->npats++;
				s->pats[pid].root = p->root;
				s->pats[pid].rule = (int)r;
				s->pats[pid].is_unless = u;
				intern(s, s->pats[pid].root);
				free(p);
				if (u) {
					s->unless[r].v =
					    xgrow(s->unless[r].v, &s->unless[r].cap,
						  s->unless[r].n + 1, sizeof(uint32_t));
					s->unless[r].v[s->unless[r].n++] = pid;
				} else {
					add_anchors(s, s->pats[pid].root, pid);
				}
			}
		}
	}
	return s;
}

void
safety_free(struct safety_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->npats; i++)
		node_free(s->pats[i].root);
	for (size_t r = 0; r < s->nrules; r++)
		free(s->unless[r].v);
	free(s->unless);
	free(s->pats);
	free(s->an);
	hmap_free(&s->stem_ids);
	hmap_free(&s->surf_ids);
	hmap_free(&s->pfx_ids);
	hmap_free(&s->p3);
	free(s->stem_head);
	free(s->surf_head);
	free(s->p3v);
	free(s->pfx);
	free(s);
}

static int
cancelled(struct unless_ctx *u, const struct tokens *q, size_t s0, size_t s1, const struct span *sp)
{
	if (u->set == NULL)
		return 0;
	if (!u->ready) {
		u->ready = 1;
		u->n = 0;
		const struct safety_set *s = u->set;
		for (size_t k = 0; k < s->unless[u->rule].n; k++)
			u->n += all_spans(s->pats[s->unless[u->rule].v[k]].root, q, s0, s1,
					  u->v + u->n, MAX_UNLESS_SPANS - u->n);
	}
	return overlaps(sp, u->v, u->n);
}

/* The pattern words present in one sentence, as bit sets over their ids. */
struct present {
	uint64_t *stem, *surf, *pfx;
};

static int
bit(const uint64_t *b, int32_t i)
{
	return i >= 0 && (b[(uint32_t)i / 64] >> ((uint32_t)i % 64) & 1);
}

static void
set_bit(uint64_t *b, int32_t i)
{
	if (i >= 0)
		b[(uint32_t)i / 64] |= (uint64_t)1 << ((uint32_t)i % 64);
}

/*
 * Could n match in a sentence with these words, ignoring order and
 * adjacency?  A necessary condition, cheap next to m_node: a pattern
 * anchored on a common word ("pain") is only tried when its other parts
 * are in the sentence too.
 */
static int
possible(const struct pnode *n, const struct present *pr)
{
	switch (n->kind) {
	case P_WORD:
		return bit(pr->stem, n->id);
	case P_EXACT:
		return bit(pr->surf, n->id);
	case P_PREFIX:
		return bit(pr->pfx, n->id);
	case P_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			if (possible(n->kids[i], pr))
				return 1;
		return 0;
	case P_SEQ:
	case P_AND: /* last part first: the first is usually the anchor, present */
		for (size_t i = n->nkids; i-- > 0;)
			if (!possible(n->kids[i], pr))
				return 0;
		return 1;
	}
	return 0;
}

/* Mark the pattern words token k matches; p3: its p3 entry or -1. */
static void
mark_present(const struct safety_set *s, const struct token *k, int p3, struct present *pr)
{
	set_bit(pr->stem, k->sid);
	set_bit(pr->surf, k->xid);
	for (int i = p3 >= 0 ? s->p3v[p3].pfx : -1; i >= 0; i = s->pfx[i].next)
		if (k->surf_len >= s->pfx[i].len &&
		    memcmp(k->surf, s->pfx[i].p, s->pfx[i].len) == 0)
			set_bit(pr->pfx, i);
}

/* Record token i as a possible start of the patterns anchored there. */
static void
collect(const struct safety_set *s, int head, const struct token *k, int prefix,
	struct starts *cand, size_t i)
{
	for (int a = head; a >= 0; a = s->an[a].next) {
		if (prefix) {
			uint8_t pl = s->pfx[s->an[a].pfx].len;
			if (k->surf_len < pl || memcmp(k->surf, s->pfx[s->an[a].pfx].p, pl) != 0)
				continue;
		}
		struct starts *c = &cand[s->an[a].pat];
		if (c->all || (c->n && c->pos[c->n - 1] == i))
			continue;
		if (c->n == MAX_STARTS)
			c->all = 1; /* scan from the first start on */
		else
			c->pos[c->n++] = (uint16_t)i;
	}
}

size_t
safety_eval(const struct safety_set *s, struct tokens *q, struct safety_hit *out, size_t max)
{
	size_t nout = 0;
	if (s->npats == 0 || q->n == 0)
		return 0;
	struct starts stack_cand[512];
	uint8_t stack_fired[64];
	struct starts *cand = s->npats <= 512 ? stack_cand : xmalloc(s->npats * sizeof *cand);
	uint8_t *fired = s->nrules <= sizeof stack_fired ? stack_fired : xmalloc(s->nrules);
	struct safety_hit *hits = xcalloc(s->nrules ? s->nrules : 1, sizeof *hits);
	memset(fired, 0, s->nrules);
	size_t w_stem = hmap_count(&s->stem_ids) / 64 + 1,
	       w_surf = hmap_count(&s->surf_ids) / 64 + 1, w_pfx = s->npfx / 64 + 1,
	       nw = w_stem + w_surf + w_pfx;
	uint64_t stack_bits[128];
	uint64_t *bits = nw <= 128 ? stack_bits : xmalloc(nw * sizeof *bits);
	struct present pres = {bits, bits + w_stem, bits + w_stem + w_surf};

	size_t s0 = 0;
	while (s0 < q->n) {
		size_t s1 = s0;
		while (s1 < q->n && q->v[s1].sent == q->v[s0].sent)
			s1++;
		memset(cand, 0, s->npats * sizeof *cand);
		memset(bits, 0, nw * sizeof *bits);
		int any = 0;
		for (size_t i = s0; i < s1; i++) {
			struct token *k = &q->v[i];
			k->sid = hmap_get(&s->stem_ids, k->stem, k->stem_len);
			k->xid = hmap_get(&s->surf_ids, k->surf, k->surf_len);
			int p3 =
			    k->surf_len >= PREFIX_MIN ? hmap_get(&s->p3, k->surf, PREFIX_MIN) : -1;
			mark_present(s, k, p3, &pres);
			int heads[3] = {k->sid >= 0 ? s->stem_head[k->sid] : -1,
					k->xid >= 0 ? s->surf_head[k->xid] : -1,
					p3 >= 0 ? s->p3v[p3].anchors : -1};
			for (int h = 0; h < 3; h++)
				if (heads[h] >= 0)
					collect(s, heads[h], k, h == 2, cand, i), any = 1;
		}
		struct unless_ctx u = {NULL, 0, 0, {{0, 0}}, 0};
		int last_rule = -1;
		for (size_t pid = 0; any && pid < s->npats; pid++) {
			if (cand[pid].n == 0)
				continue;
			int r = s->pats[pid].rule;
			if (fired[r] || !possible(s->pats[pid].root, &pres))
				continue;
			if (r != last_rule) {
				last_rule = r;
				u.set = s;
				u.rule = r;
				u.ready = 0;
			}
			struct span hit;
			if (!find_top(s->pats[pid].root, q, s0, s1, &cand[pid], &u, &hit))
				continue;
			fired[r] = 1;
			hits[r].rule = r;
			hits[r].off = q->v[hit.a].off;
			hits[r].len = q->v[hit.b - 1].off + q->v[hit.b - 1].len - q->v[hit.a].off;
		}
		s0 = s1;
	}
	for (size_t r = 0; r < s->nrules && nout < max; r++)
		if (fired[r])
			out[nout++] = hits[r];
	if (cand != stack_cand)
		free(cand);
	if (fired != stack_fired)
		free(fired);
	if (bits != stack_bits)
		free(bits);
	free(hits);
	return nout;
}
