/*
 * safety: concept and trigger compiler, and the matcher (see safety.h).
 * Pure.
 *
 * At build, each part of a rule's pattern (what '&' and '&&' join) becomes
 * a concept of its own, and every word of every concept gets an id in one
 * of three tables (stem, exact surface, prefix).  A concept said by single
 * words is a list on those words; a longer way of saying it is a small
 * pattern, listed (like each trigger) under the rarest word or concept it
 * needs (guessed from how common its words are).  A message then costs
 * one pass over its tokens (one memoised lookup each; the typo index for
 * the rare unknown long word) that records where each word and concept
 * occurs, the few patterns whose rare word came up, in dependency order and
 * only at the positions of their first word, and the few triggers named by
 * the words and concepts present in the sentence (bit sets over ids).
 */
#include "safety.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "problems.h"
#include "typo.h"
#include "wordset.h"
#include "xmem.h"

#define MAX_ENDS 64
#define PREFIX_MIN 3
#define MAX_NESTING 8   /* levels of '(' in a pattern: bounds the recursion */
#define MAX_COST 100000 /* node_cost() of a pattern: bounds the matching time */
#define MAX_PARTS 16    /* parts of one '&' or '&&' */
#define MAX_CONCEPTS 4096
#define TYPO_MIN 6       /* letters of a word the typo index may correct */
#define TYPO_TWO_EDITS 9 /* letters from which two edits are allowed */
#define PREFIX_WORDS 64  /* dictionary words taken per prefix into the typo index */

enum pkind { P_WORD, P_PREFIX, P_EXACT, P_CONCEPT, P_SEQ, P_ALT, P_AND, P_MSG, P_NOT };

/* A rules file holds some 30,000 of these, so each is 40 bytes and its
 * words, from the set's pool (npool): the word (stem, surface, prefix or
 * concept name, "" for the others) and the word as typed live in the node's
 * tail, and a node's kids and their gaps share one array. */
struct pnode {
	uint8_t kind;   /* enum pkind */
	uint8_t wl;     /* bytes of the word in tail */
	uint8_t tflags; /* a word's TOK_* flags: how common it is */
	int32_t id;     /* WORD/EXACT/PREFIX: id in the set's word tables; CONCEPT: index */
	uint32_t req_off, req_n; /* pattern roots and '&&' parts: see possible() */
	uint32_t wb_off, wb_n;   /* ALT: its one-word kids' bits, sorted (firsts) */
	uint32_t nkids;
	struct pnode **kids; /* nkids kids, then a byte each: see kid_gaps() */
	char tail[];         /* the word, NUL, the word as typed, NUL */
};

/* SEQ: words allowed before kid i, kept after the kids in their array. */
static uint8_t *
kid_gaps(const struct pnode *n)
{
	return (uint8_t *)(n->kids + n->nkids);
}

/* The word as typed. */
static const char *
node_typed(const struct pnode *n)
{
	return n->tail + n->wl + 1;
}

/*
 * The nodes of a set (or of one pattern compiled alone) come from one pool
 * and go with it: a set has some 10,000, to which a malloc each would add
 * its 8-byte header and rounding to 16.  Kids' arrays grow with malloc
 * while a pattern is read and move into the pool once it is read
 * (pool_kids).  A one-word leaf is made once per pool and shared by every
 * pattern that says that word (node_leaf): the rules say 24,000 words but
 * only some 4,600 different ones, and a leaf is never changed once made
 * except for its word id, the same for the same word.
 */
#define NPOOL_BLOCK (64u << 10)

struct npool_block {
	struct npool_block *next;
	size_t cap;
	char mem[]; /* 16-byte aligned: after a pointer and a size */
};

struct npool {
	struct npool_block *head;
	size_t used; /* bytes of head->mem given out */
	/* while patterns are read: kind, flags and words -> index in leaf */
	struct hmap leaves;
	struct pnode **leaf;
	size_t nleaf, capleaf;
};

/* n zeroed bytes, 8-byte aligned, owned by the pool. */
static void *
npool_alloc(struct npool *p, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (p->head == NULL || p->head->cap - p->used < n) {
		size_t cap = n > NPOOL_BLOCK ? n : NPOOL_BLOCK;
		struct npool_block *b = xmalloc(sizeof *b + cap);
		b->next = p->head;
		b->cap = cap;
		p->head = b;
		p->used = 0;
	}
	void *r = p->head->mem + p->used;
	p->used += n;
	memset(r, 0, n);
	return r;
}

/* Reading is over: no more leaves to share. */
static void
npool_seal(struct npool *p)
{
	hmap_free(&p->leaves);
	free(p->leaf);
	p->leaf = NULL;
	p->nleaf = p->capleaf = 0;
}

static void
npool_free(struct npool *p)
{
	npool_seal(p);
	while (p->head) {
		struct npool_block *b = p->head;
		p->head = b->next;
		free(b);
	}
	p->used = 0;
}

struct pattern {
	struct pnode *root;
	struct npool pool;
};

/* ---- compiler ------------------------------------------------------------ */

struct pc {
	struct text_ctx *t;
	struct npool *pool; /* where the nodes go */
	const char *s, *p;
	char *err;
	size_t errlen;
	int failed;
	int depth; /* open '(' */
};

/* A node with word w (wl bytes) and the word as typed (tl bytes), from pool. */
static struct pnode *
node_new_word(struct npool *pool, enum pkind k, const char *w, size_t wl, const char *typed,
	      size_t tl)
{
	struct pnode *n = npool_alloc(pool, sizeof *n + wl + 1 + tl + 1);
	n->kind = (uint8_t)k;
	n->id = -1;
	memcpy(n->tail, w, wl);
	memcpy(n->tail + wl + 1, typed, tl);
	n->wl = (uint8_t)wl;
	return n;
}

static struct pnode *
node_new(struct npool *pool, enum pkind k)
{
	return node_new_word(pool, k, "", 0, "", 0);
}

/* The pool's one-word leaf of kind k (WORD, EXACT or PREFIX) with word w,
 * the word as typed and its TOK_* flags: made the first time, shared after. */
static struct pnode *
node_leaf(struct npool *pool, enum pkind k, const char *w, size_t wl, const char *typed, size_t tl,
	  uint8_t tflags)
{
	char key[2 + 2 * TEXT_WORD_MAX + 1];
	if (wl >= TEXT_WORD_MAX || tl >= TEXT_WORD_MAX) { /* not from the tokeniser: alone */
		struct pnode *n = node_new_word(pool, k, w, wl, typed, tl);
		n->tflags = tflags;
		return n;
	}
	key[0] = (char)k;
	key[1] = (char)tflags;
	memcpy(key + 2, w, wl);
	key[2 + wl] = '\0';
	memcpy(key + 3 + wl, typed, tl);
	int ins;
	int *v = hmap_put(&pool->leaves, key, 3 + wl + tl, (int)pool->nleaf, &ins);
	if (!ins)
		return pool->leaf[*v];
	struct pnode *n = node_new_word(pool, k, w, wl, typed, tl);
	n->tflags = tflags;
	pool->leaf = xgrow(pool->leaf, &pool->capleaf, pool->nleaf + 1, sizeof *pool->leaf);
	pool->leaf[pool->nleaf++] = n;
	return n;
}

/* Free what of a tree being read its pool does not hold yet: the kids'
 * arrays, which grow as the pattern is read.  The nodes go with the pool;
 * a tree compile() returned holds nothing else (pool_kids). */
static void
node_free(struct pnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	n->kids = NULL;
	n->nkids = 0;
}

static void
add_kid(struct pnode *n, struct pnode *k, uint8_t gap)
{
	/* the gaps move up by one kid to make room for it */
	n->kids = xrealloc(n->kids, (n->nkids + 1) * (sizeof *n->kids + 1));
	uint8_t *gaps = kid_gaps(n);
	memmove(gaps + sizeof *n->kids, gaps, n->nkids);
	n->kids[n->nkids++] = k;
	kid_gaps(n)[n->nkids - 1] = gap;
}

/* Move the kids' arrays of a finished tree into the pool (each one
 * allocation of its exact size, where growing it one kid at a time left
 * malloc's headers and holes): the tree is then the pool's alone. */
static void
pool_kids(struct npool *pool, struct pnode *n)
{
	if (n->nkids == 0)
		return;
	size_t bytes = n->nkids * (sizeof *n->kids + 1);
	struct pnode **kids = npool_alloc(pool, bytes);
	memcpy(kids, n->kids, bytes);
	free(n->kids);
	n->kids = kids;
	for (size_t i = 0; i < n->nkids; i++)
		pool_kids(pool, n->kids[i]);
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
	return ch && !strchr(" \t()|&*=?+[]{}<>\"!,;:", ch) && ch != '.';
}

static int
name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

static struct pnode *parse_alts(struct pc *c);

/* <name>: a concept reference, resolved when the set is built */
static struct pnode *
parse_concept(struct pc *c)
{
	const char *start = ++c->p;
	while (name_char(*c->p))
		c->p++;
	size_t n = (size_t)(c->p - start);
	if (*c->p != '>' || n == 0 || n >= TEXT_WORD_MAX || start[0] < 'a' || start[0] > 'z') {
		pc_fail(c, "a concept is written <name> (lowercase letters, digits and '-')");
		return NULL;
	}
	c->p++;
	return node_new_word(c->pool, P_CONCEPT, start, n, "", 0);
}

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
		enum pkind k = prefix ? P_PREFIX : exact ? P_EXACT : P_WORD;
		const char *w = k == P_WORD ? tk.v[0].stem : tk.v[0].surf;
		r = node_leaf(c->pool, k, w, strlen(w), tk.v[0].surf, tk.v[0].surf_len,
			      tk.v[0].flags);
	} else { /* "cant" -> can not */
		r = node_new(c->pool, P_SEQ);
		for (size_t i = 0; i < tk.n; i++) {
			add_kid(r,
				node_leaf(c->pool, P_WORD, tk.v[i].stem, tk.v[i].stem_len,
					  tk.v[i].surf, tk.v[i].surf_len, tk.v[i].flags),
				0);
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
	if (*c->p == '<')
		return parse_concept(c);
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
	/* a sequence node only from the second element on: most sequences
	 * are one word, and a node made and dropped stays in the pool */
	struct pnode *seq = NULL, *one = NULL;
	uint8_t gap = 0;
	for (;;) {
		struct pnode *e = parse_elem(c);
		if (e == NULL) {
			node_free(seq ? seq : one);
			return NULL;
		}
		if (seq == NULL && one == NULL) {
			one = e;
		} else {
			if (seq == NULL) {
				seq = node_new(c->pool, P_SEQ);
				add_kid(seq, one, 0);
			}
			add_kid(seq, e, gap);
		}
		skip_ws(c);
		gap = 0;
		if (c->p[0] == '.' && c->p[1] == '.') {
			c->p += 2;
			if (*c->p == '.') {
				pc_fail(c, "use '..' (two dots) for a gap");
				node_free(seq ? seq : one);
				return NULL;
			}
			gap = SAFETY_GAP;
			skip_ws(c);
			continue;
		}
		if (*c->p == '\0' || *c->p == ')' || *c->p == '|' || *c->p == '&')
			break;
	}
	return seq ? seq : one;
}

/* parts joined by `op` ("&" or "&&") into a node of kind k */
static struct pnode *
parse_join(struct pc *c, struct pnode *(*part)(struct pc *), const char *op, enum pkind k)
{
	size_t ol = strlen(op);
	struct pnode *first = part(c);
	if (first == NULL)
		return NULL;
	skip_ws(c);
	if (strncmp(c->p, op, ol) != 0 || (ol == 1 && c->p[1] == '&'))
		return first;
	struct pnode *j = node_new(c->pool, k);
	add_kid(j, first, 0);
	while (strncmp(c->p, op, ol) == 0 && (ol == 2 || c->p[1] != '&')) {
		c->p += ol;
		if (j->nkids == MAX_PARTS) {
			pc_fail(c, "too many parts joined by '&'");
			node_free(j);
			return NULL;
		}
		struct pnode *n = part(c);
		if (n == NULL) {
			node_free(j);
			return NULL;
		}
		add_kid(j, n, 0);
		skip_ws(c);
	}
	return j;
}

/* a part of '&': "!part" when the sentence must not hold it */
static struct pnode *
parse_and_part(struct pc *c)
{
	skip_ws(c);
	if (*c->p != '!')
		return parse_seq(c);
	c->p++;
	struct pnode *k = parse_seq(c);
	if (k == NULL)
		return NULL;
	struct pnode *n = node_new(c->pool, P_NOT);
	add_kid(n, k, 0);
	return n;
}

static struct pnode *
parse_and(struct pc *c)
{
	return parse_join(c, parse_and_part, "&", P_AND);
}

static struct pnode *
parse_msg(struct pc *c)
{
	return parse_join(c, parse_and, "&&", P_MSG);
}

static struct pnode *
parse_alts(struct pc *c)
{
	struct pnode *first = parse_msg(c);
	if (first == NULL)
		return NULL;
	skip_ws(c);
	if (*c->p != '|')
		return first;
	struct pnode *alt = node_new(c->pool, P_ALT);
	add_kid(alt, first, 0);
	while (*c->p == '|') {
		c->p++;
		struct pnode *k = parse_msg(c);
		if (k == NULL) {
			node_free(alt);
			return NULL;
		}
		add_kid(alt, k, 0);
		skip_ws(c);
	}
	return alt;
}

/* '&' and '&&' only join whole parts of a pattern (top level, or the
 * alternatives of a top-level group); '&' may stand inside '&&'. */
static int
join_placement_ok(const struct pnode *n, int top, int in_msg)
{
	if ((n->kind == P_AND && !top && !in_msg) || (n->kind == P_MSG && !top) ||
	    (n->kind == P_NOT && top))
		return 0;
	size_t pos = 0;
	for (size_t i = 0; i < n->nkids; i++) {
		pos += n->kids[i]->kind != P_NOT;
		if (n->kids[i]->kind == P_NOT && n->kind != P_AND)
			return 0;
	}
	if (n->kind == P_AND && pos == 0)
		return 0;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct pnode *k = n->kids[i];
		int ok = n->kind == P_ALT   ? join_placement_ok(k, top, in_msg)
			 : n->kind == P_MSG ? join_placement_ok(k, 0, 1)
					    : join_placement_ok(k, 0, 0);
		if (!ok)
			return 0;
	}
	return 1;
}

/*
 * Upper bound on the m_node calls of one try of n at one position, and in
 * *ends on the end positions it returns.  A gapped sequence retries each
 * part from every end of the previous one, so nested gapped sequences
 * multiply: ((a .. b) .. (c .. d)) .. ... grows exponentially.
 */
static double
node_cost(const struct pnode *n, double *ends)
{
	double c = 1, e = 0, ke;
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
	case P_CONCEPT:
		*ends = n->kind == P_CONCEPT ? 4 : 1;
		return 1;
	case P_ALT:
	case P_AND:
	case P_MSG:
	case P_NOT:
		for (size_t i = 0; i < n->nkids; i++) {
			c += node_cost(n->kids[i], &ke);
			e += ke;
		}
		break;
	case P_SEQ:
		e = 1;
		for (size_t i = 0; i < n->nkids; i++) {
			double tries = e * (kid_gaps(n)[i] + 1);
			c += tries * node_cost(n->kids[i], &ke);
			e = tries * ke < MAX_ENDS ? tries * ke : MAX_ENDS;
		}
		break;
	}
	*ends = e < MAX_ENDS ? e : MAX_ENDS;
	return c;
}

/* One pattern; in_concept: a concept's way of saying it ('&' not allowed). */
static struct pnode *
compile(struct text_ctx *t, struct npool *pool, const char *src, int in_concept, char *err,
	size_t errlen)
{
	struct pc c = {t, pool, src, src, err, errlen, 0, 0};
	if (errlen)
		err[0] = '\0';
	skip_ws(&c);
	struct pnode *root = parse_alts(&c);
	skip_ws(&c);
	if (root && !c.failed && *c.p != '\0')
		pc_fail(&c, *c.p == ')' ? "unmatched ')'" : "unexpected character");
	if (!c.failed && !join_placement_ok(root, 1, 0)) {
		snprintf(err, errlen,
			 "'&' and '&&' may only join whole parts of a pattern, not words "
			 "inside a sequence; '!' marks a part of '&' (\"a & !b\": a "
			 "sentence with a and without b)");
		c.failed = 1;
	}
	if (!c.failed && in_concept && strstr(src, "&&")) {
		snprintf(err, errlen,
			 "'&&' belongs in rules: a concept is said within one sentence "
			 "(use '&')");
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
	pool_kids(pool, root);
	return root;
}

static int
has_concept(const struct pnode *n)
{
	if (n->kind == P_CONCEPT)
		return 1;
	for (size_t i = 0; i < n->nkids; i++)
		if (has_concept(n->kids[i]))
			return 1;
	return 0;
}

struct pattern *
safety_compile(struct text_ctx *t, const char *src, char *err, size_t errlen)
{
	struct pattern *p = xcalloc(1, sizeof *p);
	p->root = compile(t, &p->pool, src, 0, err, errlen);
	npool_seal(&p->pool);
	if (p->root && has_concept(p->root)) {
		snprintf(err, errlen, "a concept (<name>) needs the concept file");
		p->root = NULL;
	}
	if (p->root == NULL) {
		npool_free(&p->pool);
		free(p);
		return NULL;
	}
	return p;
}

void
safety_pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	npool_free(&p->pool);
	free(p);
}

/* ---- the set ---------------------------------------------------------------- */

enum owner { O_CONCEPT, O_TRIGGER, O_UNLESS };

struct cpat {
	struct pnode *root;
	uint32_t req_off, req_n;     /* copies of the root's, next to each other */
	uint32_t first_off, first_n; /* bits its first word may have (firsts) */
	int owner;                   /* concept or rule index */
	uint8_t kind;
};

struct concept {
	char name[TEXT_WORD_MAX];
	unsigned line;
	struct pnode **roots; /* its ways of saying it, as compiled */
	unsigned *lines;
	size_t nroots;
	struct pnode **words; /* the single-word ways (borrowed from roots) */
	size_t nwords;
	int state; /* build: 0 new, 1 on the DFS path, 2 done, 3 in a cycle */
	int used;  /* USED_* */
	int part;  /* 1: a part of a trigger, 2: of an unless pattern (no name) */
};

/* a word's entry: a concept it says on its own */
struct link {
	int32_t concept;
	int next;
};

struct safety_set {
	struct npool pool; /* every pattern node */
	struct cpat *pats; /* concept patterns first, in dependency order */
	size_t npats, cappats, nconcept_pats;
	uint32_t *triggers; /* trigger pattern ids, in rule order */
	size_t ntriggers, captriggers;
	struct {
		uint32_t *v;
		size_t n, cap;
	} * unless;
	uint8_t *rule_emergency; /* per rule: level emergency */
	size_t nrules;
	struct concept *concepts;
	size_t nconcepts, capconcepts;
	struct hmap concept_ids;
	int someone_else, for_someone_else, animal,
	    own_question; /* engine concepts, -1 if absent */
	char *concepts_file;
	/* Every pattern word has an id: WORD by stem, EXACT by surface,
	 * PREFIX by its text, the prefixes also listed by their first 3 bytes
	 * (p3).  A message token costs three lookups: its stem, its surface
	 * and its first 3 bytes. */
	struct hmap stem_ids, surf_ids, pfx_ids, p3;
	int *stem_head, *surf_head, *pfx_head; /* by id: first link, -1 */
	size_t capstem, capsurf, cappfxh;
	struct {
		int pfx; /* first prefix with these 3 bytes, -1 */
	} * p3v;
	size_t np3, capp3;
	struct {
		char p[TEXT_WORD_MAX];
		uint8_t len;
		int next; /* next prefix with the same 3 bytes */
	} * pfx;
	size_t npfx, cappfx;
	struct link *links;
	size_t nlinks, caplinks;
	/* typo index over the rule words as typed, and the dictionary words
	 * their prefixes start; per entry the word ids it stands for */
	struct typo_index typo;
	struct {
		int32_t sid, xid;
		uint32_t pfx_off;
		uint8_t npfx;
	} * tv;
	size_t captv;
	int32_t *tv_pfx;
	size_t ntv_pfx, captv_pfx;
	const struct wordset *dict;
	/* by word id: a word of a concept or trigger (not only of an unless
	 * pattern); a message word that is none of them may be a typo */
	uint8_t *stem_live, *surf_live, *pfx_live;
	/* The presence bit set of a sentence: stem ids, then surface ids,
	 * prefix ids and concepts, from these 64-bit word offsets. */
	size_t nwords_bits, w_surf_off, w_pfx_off, w_con_off;
	/* what a pattern needs in a sentence: clauses of bits (any one of a
	 * clause's bits), all clauses */
	struct {
		uint32_t off, n;
	} * clauses;
	size_t nclauses, capclauses;
	uint32_t *atoms;
	size_t natoms, capatoms;
	struct hmap classes; /* word -> TF_* bits */
	uint32_t *bitw;      /* per bit: how often it is guessed to occur */
	uint32_t *firsts;    /* sorted bit lists: concept patterns' first words,
				alternatives' one-word kids (see first_bits) */
	size_t nfirsts, capfirsts;
	uint32_t *cweight; /* per concept: the same, 0 until computed */
	/* bit -> the triggers that need it (their most selective clause): a
	 * sentence tries only the triggers one of its bits names; the same for
	 * the concepts' longer patterns */
	uint32_t *tix_off, *tix, *cix_off, *cix;
	uint64_t gen; /* tells one set from another (scratch memos) */
};

/* The p3 entry for the first 3 bytes of w, made if new. */
static int
p3_slot(struct safety_set *s, const char *w)
{
	int ins;
	int v = *hmap_put(&s->p3, w, PREFIX_MIN, (int)s->np3, &ins);
	if (ins) {
		s->p3v = xgrow(s->p3v, &s->capp3, s->np3 + 1, sizeof *s->p3v);
		s->p3v[s->np3].pfx = -1;
		s->np3++;
	}
	return v;
}

/* Give the word node n an id in the set's word tables. */
static void
intern_word(struct safety_set *s, struct pnode *n)
{
	int ins;
	if (n->kind == P_WORD || n->kind == P_EXACT) {
		int word = n->kind == P_WORD;
		struct hmap *h = word ? &s->stem_ids : &s->surf_ids;
		n->id = *hmap_put(h, n->tail, n->wl, (int)hmap_count(h), &ins);
		if (ins) {
			int **head = word ? &s->stem_head : &s->surf_head;
			*head = xgrow(*head, word ? &s->capstem : &s->capsurf, (size_t)n->id + 1,
				      sizeof **head);
			(*head)[n->id] = -1;
		}
	} else if (n->kind == P_PREFIX) {
		n->id = *hmap_put(&s->pfx_ids, n->tail, n->wl, (int)s->npfx, &ins);
		if (ins) {
			int slot = p3_slot(s, n->tail);
			s->pfx = xgrow(s->pfx, &s->cappfx, s->npfx + 1, sizeof *s->pfx);
			memcpy(s->pfx[s->npfx].p, n->tail, (size_t)n->wl + 1);
			s->pfx[s->npfx].len = n->wl;
			s->pfx[s->npfx].next = s->p3v[slot].pfx;
			s->p3v[slot].pfx = (int)s->npfx;
			s->pfx_head =
			    xgrow(s->pfx_head, &s->cappfxh, s->npfx + 1, sizeof *s->pfx_head);
			s->pfx_head[s->npfx] = -1;
			s->npfx++;
		}
	}
}

static void
intern_all(struct safety_set *s, struct pnode *n)
{
	intern_word(s, n);
	for (size_t i = 0; i < n->nkids; i++)
		intern_all(s, n->kids[i]);
}

static int *
head_of(struct safety_set *s, const struct pnode *n)
{
	return n->kind == P_WORD    ? &s->stem_head[n->id]
	       : n->kind == P_EXACT ? &s->surf_head[n->id]
				    : &s->pfx_head[n->id];
}

static void
add_link(struct safety_set *s, const struct pnode *word, int32_t concept)
{
	int *head = head_of(s, word);
	for (int l = *head; l >= 0; l = s->links[l].next)
		if (s->links[l].concept == concept)
			return;
	s->links = xgrow(s->links, &s->caplinks, s->nlinks + 1, sizeof *s->links);
	s->links[s->nlinks] = (struct link){concept, *head};
	*head = (int)s->nlinks++;
}

static uint32_t
add_pat(struct safety_set *s, struct pnode *root, int owner, enum owner kind)
{
	s->pats = xgrow(s->pats, &s->cappats, s->npats + 1, sizeof *s->pats);
	s->pats[s->npats] = (struct cpat){root, 0, 0, 0, 0, owner, (uint8_t)kind};
	return (uint32_t)s->npats++;
}

/* ---- the concept file ------------------------------------------------------ */

static int
valid_name(const char *p, size_t n)
{
	if (n == 0 || n >= TEXT_WORD_MAX || p[0] < 'a' || p[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char(p[i]))
			return 0;
	return 1;
}

/*
 * The concept file: "name:" at the start of a line opens a concept; each
 * indented line below it is one way of saying it (a pattern); '#' starts a
 * comment line, and a comment after two spaces.  Problems go to pr.
 */
static void
parse_concepts(struct safety_set *s, struct text_ctx *t, const char *file, const char *data,
	       size_t len, struct problems *pr)
{
	char err[200];
	struct concept *cur = NULL;
	unsigned ln = 0;
	char *line;
	for (size_t i = 0; (line = kb_next_line(data, len, &i)) != NULL;) {
		ln++;
		size_t n = strlen(line);
		char *hash = strstr(line, "  #");
		if (hash) {
			*hash = '\0';
			n = (size_t)(hash - line);
			while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
				line[--n] = '\0';
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#') {
			free(line);
			continue;
		}
		if (p == line) { /* a concept name */
			size_t nl = n && line[n - 1] == ':' ? n - 1 : 0;
			int ins = 0;
			if (!valid_name(line, nl)) {
				problems_add(pr, file, ln, 1,
					     "expected a concept name and ':' (lowercase letters, "
					     "digits and '-'), or an indented pattern under one");
				cur = NULL;
			} else if (s->nconcepts >= MAX_CONCEPTS) {
				problems_add(pr, file, ln, 1, "more than %d concepts",
					     MAX_CONCEPTS);
				cur = NULL;
			} else {
				int *v =
				    hmap_put(&s->concept_ids, line, nl, (int)s->nconcepts, &ins);
				if (!ins) {
					problems_add(pr, file, ln, 1,
						     "concept '%.*s' is already defined at line %u",
						     (int)nl, line, s->concepts[*v].line);
					cur = NULL;
				} else {
					s->concepts = xgrow(s->concepts, &s->capconcepts,
							    s->nconcepts + 1, sizeof *s->concepts);
					cur = &s->concepts[s->nconcepts++];
					memset(cur, 0, sizeof *cur);
					memcpy(cur->name, line, nl);
					cur->line = ln;
				}
			}
			free(line);
			continue;
		}
		if (cur == NULL) {
			if (s->nconcepts == 0)
				problems_add(pr, file, ln, 1,
					     "an indented pattern before any concept name");
			free(line);
			continue;
		}
		struct pnode *root = compile(t, &s->pool, p, 1, err, sizeof err);
		if (root == NULL) {
			problems_add(pr, file, ln, (unsigned)(p - line) + 1, "pattern '%s': %s", p,
				     err);
		} else {
			cur->roots = xrealloc(cur->roots, (cur->nroots + 1) * sizeof *cur->roots);
			cur->lines = xrealloc(cur->lines, (cur->nroots + 1) * sizeof *cur->lines);
			cur->roots[cur->nroots] = root;
			cur->lines[cur->nroots++] = ln;
		}
		free(line);
	}
	for (size_t c = 0; c < s->nconcepts; c++)
		if (s->concepts[c].nroots == 0)
			problems_add(pr, file, s->concepts[c].line, 1,
				     "concept '%s' has no patterns (indent them under its name)",
				     s->concepts[c].name);
}

/* Resolve <name> references in n; 0 if one is unknown (reported). */
static int
resolve(struct safety_set *s, struct pnode *n, const char *file, unsigned line, struct problems *pr)
{
	int ok = 1;
	if (n->kind == P_CONCEPT) {
		n->id = hmap_get(&s->concept_ids, n->tail, n->wl);
		if (n->id < 0) {
			const char *best = NULL;
			int bd = 3;
			for (size_t c = 0; c < s->nconcepts; c++) {
				const char *nm = s->concepts[c].name;
				int d = text_distance(n->tail, n->wl, nm, strlen(nm), 2);
				if (d < bd) {
					bd = d;
					best = nm;
				}
			}
			if (best)
				problems_add(pr, file, line, 1,
					     "unknown concept <%s> (did you mean <%s>?)", n->tail,
					     best);
			else
				problems_add(pr, file, line, 1, "unknown concept <%s>%s", n->tail,
					     s->concepts_file ? ""
							      : " (no " SAFETY_CONCEPTS_FILE ")");
			ok = 0;
		}
	}
	for (size_t i = 0; i < n->nkids; i++)
		ok &= resolve(s, n->kids[i], file, line, pr);
	return ok;
}

/* by a trigger (or the engine): its words may be typo-corrected to; by an
 * unless pattern only: they never make a word known */
enum { USED_TRIGGER = 1, USED_UNLESS = 2 };

static void
mark_used(struct safety_set *s, const struct pnode *n, int how)
{
	if (n->kind == P_CONCEPT && n->id >= 0) {
		struct concept *c = &s->concepts[n->id];
		if (c->used & how)
			return;
		c->used |= how;
		for (size_t i = 0; i < c->nroots; i++)
			mark_used(s, c->roots[i], how);
	}
	for (size_t i = 0; i < n->nkids; i++)
		mark_used(s, n->kids[i], how);
}

/* Depth-first over concept references: reports each cycle once, at the
 * line of the reference that closes it; emits the concepts' patterns in
 * dependency order (a concept after those it refers to). */
struct dfs {
	struct safety_set *s;
	struct problems *pr;
	int *path; /* the concepts being visited, outermost first */
	int npath;
};

static void visit(struct dfs *d, int c);

static void
visit_refs(struct dfs *d, const struct pnode *n, int from, unsigned line)
{
	if (n->kind == P_CONCEPT && n->id >= 0) {
		struct concept *to = &d->s->concepts[n->id];
		if (to->state == 1) {
			char chain[512] = "";
			int k = d->npath - 1;
			while (k > 0 && d->path[k] != n->id)
				k--;
			for (int j = k; j < d->npath; j++) {
				size_t l = strlen(chain);
				snprintf(chain + l, sizeof chain - l, "%s -> ",
					 d->s->concepts[d->path[j]].name);
			}
			size_t l = strlen(chain);
			snprintf(chain + l, sizeof chain - l, "%s", to->name);
			problems_add(d->pr, d->s->concepts_file, line, 1,
				     "concept '%s' refers to itself: %s", d->s->concepts[from].name,
				     chain);
			for (int j = k; j < d->npath; j++)
				d->s->concepts[d->path[j]].state = 3;
		} else if (to->state == 0) {
			visit(d, n->id);
		}
	}
	for (size_t i = 0; i < n->nkids; i++)
		visit_refs(d, n->kids[i], from, line);
}

static int
single_word(const struct pnode *n)
{
	return n->kind == P_WORD || n->kind == P_EXACT || n->kind == P_PREFIX;
}

static void
visit(struct dfs *d, int c)
{
	struct concept *k = &d->s->concepts[c];
	k->state = 1;
	d->path[d->npath++] = c;
	for (size_t i = 0; i < k->nroots; i++)
		visit_refs(d, k->roots[i], c, k->lines[i]);
	d->npath--;
	if (k->state == 3)
		return;
	k->state = 2;
	/* single words say the concept directly; anything longer becomes a
	 * pattern, each alternative of a line its own (anchored on its own
	 * first words, and tried only when its own words are there) */
	for (size_t i = 0; i < k->nroots; i++) {
		struct pnode *r = k->roots[i];
		size_t nalt = r->kind == P_ALT ? r->nkids : 1;
		for (size_t j = 0; j < nalt; j++) {
			struct pnode *a = r->kind == P_ALT ? r->kids[j] : r;
			if (single_word(a)) {
				k->words = xrealloc(k->words, (k->nwords + 1) * sizeof *k->words);
				k->words[k->nwords++] = a;
			} else {
				add_pat(d->s, a, c, O_CONCEPT);
			}
		}
	}
}

/* The typo index: rule words as typed, and dictionary words that a prefix
 * of the rules starts (suicid* -> suicidal, suicide), each with the word
 * ids it stands for. */
static void
add_typo_word(struct safety_set *s, struct text_ctx *t, const char *w, size_t n)
{
	if (n < TYPO_MIN - 1 || n >= TEXT_WORD_MAX || typo_find(&s->typo, w, n) >= 0)
		return;
	char stem[TEXT_WORD_MAX];
	size_t sl = text_stem(t, w, n, stem);
	int id = typo_add(&s->typo, w, n);
	s->tv = xgrow(s->tv, &s->captv, (size_t)id + 1, sizeof *s->tv);
	s->tv[id].sid = hmap_get(&s->stem_ids, stem, sl);
	s->tv[id].xid = hmap_get(&s->surf_ids, w, n);
	s->tv[id].pfx_off = (uint32_t)s->ntv_pfx;
	s->tv[id].npfx = 0;
	int p3 = hmap_get(&s->p3, w, PREFIX_MIN);
	for (int i = p3 >= 0 ? s->p3v[p3].pfx : -1; i >= 0 && s->tv[id].npfx < 255;
	     i = s->pfx[i].next)
		if (n >= s->pfx[i].len && memcmp(w, s->pfx[i].p, s->pfx[i].len) == 0) {
			s->tv_pfx =
			    xgrow(s->tv_pfx, &s->captv_pfx, s->ntv_pfx + 1, sizeof *s->tv_pfx);
			s->tv_pfx[s->ntv_pfx++] = i;
			s->tv[id].npfx++;
		}
}

/* The words of concepts and triggers: live, and into the typo index. */
static void
typo_words_of(struct safety_set *s, struct text_ctx *t, const struct pnode *n)
{
	if (n->kind == P_WORD || n->kind == P_EXACT)
		add_typo_word(s, t, node_typed(n), strlen(node_typed(n)));
	if (n->kind == P_WORD)
		s->stem_live[n->id] = 1;
	else if (n->kind == P_EXACT)
		s->surf_live[n->id] = 1;
	else if (n->kind == P_PREFIX)
		s->pfx_live[n->id] = 1;
	for (size_t i = 0; i < n->nkids; i++)
		typo_words_of(s, t, n->kids[i]);
}

static void
build_typo(struct safety_set *s, struct text_ctx *t)
{
	typo_init(&s->typo);
	s->stem_live = xcalloc(hmap_count(&s->stem_ids) + 1, 1);
	s->surf_live = xcalloc(hmap_count(&s->surf_ids) + 1, 1);
	s->pfx_live = xcalloc(s->npfx + 1, 1);
	for (size_t p = 0; p < s->npats; p++)
		if (s->pats[p].kind != O_UNLESS &&
		    (s->pats[p].kind != O_CONCEPT ||
		     (s->concepts[s->pats[p].owner].used & USED_TRIGGER)))
			typo_words_of(s, t, s->pats[p].root);
	for (size_t c = 0; c < s->nconcepts; c++)
		for (size_t i = 0;
		     i < s->concepts[c].nwords && (s->concepts[c].used & USED_TRIGGER); i++)
			typo_words_of(s, t, s->concepts[c].words[i]);
	if (s->dict && s->npfx) {
		size_t *taken = xcalloc(s->npfx, sizeof *taken);
		char w[255];
		size_t n, pos = 0;
		while (wordset_next(s->dict, &pos, w, &n)) {
			int p3 = n >= PREFIX_MIN ? hmap_get(&s->p3, w, PREFIX_MIN) : -1;
			for (int i = p3 >= 0 ? s->p3v[p3].pfx : -1; i >= 0; i = s->pfx[i].next)
				if (s->pfx_live[i] && n > s->pfx[i].len &&
				    memcmp(w, s->pfx[i].p, s->pfx[i].len) == 0 &&
				    taken[i]++ < PREFIX_WORDS) {
					add_typo_word(s, t, w, n);
					break;
				}
		}
		free(taken);
	}
	typo_seal(&s->typo);
}

/* The bit of a word or concept node in the presence bit set. */
static uint32_t
atom_bit(const struct safety_set *s, const struct pnode *n)
{
	size_t w = n->kind == P_WORD     ? 0
		   : n->kind == P_EXACT  ? s->w_surf_off
		   : n->kind == P_PREFIX ? s->w_pfx_off
					 : s->w_con_off;
	return (uint32_t)(w * 64 + (uint32_t)n->id);
}

static void
push_clause(struct safety_set *s, const uint32_t *a, size_t n)
{
	s->clauses = xgrow(s->clauses, &s->capclauses, s->nclauses + 1, sizeof *s->clauses);
	s->atoms = xgrow(s->atoms, &s->capatoms, s->natoms + n + 1, sizeof *s->atoms);
	s->clauses[s->nclauses].off = (uint32_t)s->natoms;
	s->clauses[s->nclauses++].n = (uint32_t)n;
	memcpy(s->atoms + s->natoms, a, n * sizeof *a);
	s->natoms += n;
}

/*
 * What n needs in a sentence, as clauses appended to the set: a word or
 * concept is one clause of one bit; a sequence or '&' needs all its parts'
 * clauses; alternatives need one bit of the rarest clause of any of them (a
 * necessary condition, not a sufficient one); '&&' needs nothing in any
 * one sentence.  *off, *n: the clauses of n.
 */
static uint64_t clause_weight(const struct safety_set *s, uint32_t c);

static void
req_of(struct safety_set *s, const struct pnode *n, uint32_t *off, uint32_t *cnt)
{
	size_t start = s->nclauses;
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
	case P_CONCEPT: {
		uint32_t b = atom_bit(s, n);
		if (n->id >= 0)
			push_clause(s, &b, 1);
		break;
	}
	case P_SEQ:
	case P_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			uint32_t o, c;
			if (n->kids[i]->kind != P_NOT) /* an absent part needs nothing */
				req_of(s, n->kids[i], &o, &c);
		}
		break;
	case P_MSG:
	case P_NOT:
		break;
	case P_ALT: {
		size_t save_a = s->natoms, nu = 0, capu = 0;
		uint32_t *u = NULL;
		int ok = 1;
		for (size_t i = 0; i < n->nkids && ok; i++) {
			uint32_t o, c;
			req_of(s, n->kids[i], &o, &c);
			if (c == 0) {
				ok = 0;
				break;
			}
			for (uint32_t k = o + 1, last = o + c; k < last; k++) /* its rarest need */
				if (clause_weight(s, k) < clause_weight(s, o))
					o = k;
			for (uint32_t j = 0; j < s->clauses[o].n; j++) {
				uint32_t b = s->atoms[s->clauses[o].off + j];
				size_t x = 0;
				while (x < nu && u[x] != b)
					x++;
				if (x == nu) {
					u = xgrow(u, &capu, nu + 1, sizeof *u);
					u[nu++] = b;
				}
			}
			s->nclauses = start; /* the alternative's own clauses are dropped */
			s->natoms = save_a;
		}
		s->nclauses = start;
		s->natoms = save_a;
		if (ok && nu)
			push_clause(s, u, nu);
		free(u);
		break;
	}
	}
	*off = (uint32_t)start;
	*cnt = (uint32_t)(s->nclauses - start);
}

static void build_classes(struct safety_set *s);

/*
 * How often a word or concept is guessed to occur in a message, in rough
 * units: a function word 64, a common word 16, a prefix 4, any other word
 * 1; a concept the sum of its ways of saying it, a sequence its rarest
 * part, alternatives their sum.  Only used to choose the word a pattern
 * is listed under and the need checked first: "back in (the | school)" is
 * tried when "in" occurs, not at every "back" of a back-pain chat.
 */
#define WEIGHT_MAX 100000

static uint32_t concept_weight(struct safety_set *s, int c);

static uint32_t
node_weight(struct safety_set *s, const struct pnode *n)
{
	uint64_t w = 0;
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
		return (n->tflags & TOK_STOP) ? 64 : (n->tflags & TOK_COMMON) ? 16 : 1;
	case P_PREFIX:
		return 4;
	case P_CONCEPT:
		return n->id >= 0 ? concept_weight(s, n->id) : 1;
	case P_SEQ:
	case P_AND:
		w = WEIGHT_MAX;
		for (size_t i = 0; i < n->nkids; i++)
			if (n->kids[i]->kind != P_NOT) {
				uint32_t k = node_weight(s, n->kids[i]);
				w = k < w ? k : w;
			}
		break;
	case P_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			w += node_weight(s, n->kids[i]);
		break;
	case P_MSG:
	case P_NOT:
		return 1;
	}
	return w < WEIGHT_MAX ? (uint32_t)w : WEIGHT_MAX;
}

static uint32_t
concept_weight(struct safety_set *s, int c)
{
	if (s->cweight[c])
		return s->cweight[c];
	s->cweight[c] = WEIGHT_MAX; /* a concept in a cycle: never the key */
	uint64_t w = 0;
	for (size_t i = 0; i < s->concepts[c].nroots; i++)
		w += node_weight(s, s->concepts[c].roots[i]);
	s->cweight[c] = w < 1 ? 1 : w < WEIGHT_MAX ? (uint32_t)w : WEIGHT_MAX;
	return s->cweight[c];
}

/* The guessed weight of each word and concept bit (see node_weight). */
static void
weigh_bits(struct safety_set *s, const struct pnode *n)
{
	if (n->kind <= P_CONCEPT && n->id >= 0)
		s->bitw[atom_bit(s, n)] = node_weight(s, n);
	for (size_t i = 0; i < n->nkids; i++)
		weigh_bits(s, n->kids[i]);
}

static uint64_t
clause_weight(const struct safety_set *s, uint32_t c)
{
	uint64_t w = 0;
	for (uint32_t j = 0; j < s->clauses[c].n; j++)
		w += s->bitw[s->atoms[s->clauses[c].off + j]];
	return w;
}

/* n's clauses, the rarest first: the rarest need fails soonest. */
static void
sort_clauses(struct safety_set *s, const struct pnode *n)
{
	for (uint32_t i = n->req_off + 1; i < n->req_off + n->req_n; i++)
		for (uint32_t j = i;
		     j > n->req_off && clause_weight(s, j - 1) > clause_weight(s, j); j--) {
			__typeof__(*s->clauses) t = s->clauses[j];
			s->clauses[j] = s->clauses[j - 1];
			s->clauses[j - 1] = t;
		}
}

/* The bits a word where n starts may have (a concept at that word counts
 * as its bit), appended to s->firsts; 0 when n has no first word. */
static int
add_firsts(struct safety_set *s, const struct pnode *n)
{
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
	case P_CONCEPT:
		if (n->id < 0)
			return 0;
		s->firsts = xgrow(s->firsts, &s->capfirsts, s->nfirsts + 1, sizeof *s->firsts);
		s->firsts[s->nfirsts++] = atom_bit(s, n);
		return 1;
	case P_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			if (!add_firsts(s, n->kids[i]))
				return 0;
		return 1;
	case P_SEQ:
		return add_firsts(s, n->kids[0]);
	default:
		return 0;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Sort and dedupe s->firsts[off..]; returns the count. */
static uint32_t
seal_bits(struct safety_set *s, size_t off)
{
	qsort(s->firsts + off, s->nfirsts - off, sizeof *s->firsts, cmp_u32);
	size_t w = off;
	for (size_t i = off; i < s->nfirsts; i++)
		if (w == off || s->firsts[w - 1] != s->firsts[i])
			s->firsts[w++] = s->firsts[i];
	s->nfirsts = w;
	return (uint32_t)(w - off);
}

/* Alternatives' one-word kids as one sorted bit list each: a token is
 * then checked against all of them at once. */
static void
alt_bits(struct safety_set *s, struct pnode *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		alt_bits(s, n->kids[i]);
	if (n->kind != P_ALT || n->wb_n)
		return;
	size_t off = s->nfirsts;
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i]->kind <= P_EXACT && n->kids[i]->id >= 0)
			add_firsts(s, n->kids[i]);
	n->wb_off = (uint32_t)off;
	n->wb_n = off < s->nfirsts ? seal_bits(s, off) : 0;
}

/* A concept pattern's first bits, sorted and unique (none: try it at
 * every word). */
static void
first_bits(struct safety_set *s, struct cpat *cp)
{
	size_t off = s->nfirsts;
	if (!add_firsts(s, cp->root)) {
		s->nfirsts = off;
		cp->first_off = cp->first_n = 0;
		return;
	}
	cp->first_n = seal_bits(s, off);
	cp->first_off = (uint32_t)off;
}

/* The rarest clause of n, or -1 when n needs none. */
static int64_t
key_clause(const struct safety_set *s, const struct pnode *n)
{
	int64_t best = -1;
	for (uint32_t c = n->req_off; c < n->req_off + n->req_n; c++)
		if (best < 0 || clause_weight(s, (uint32_t)c) < clause_weight(s, (uint32_t)best))
			best = c;
	return best;
}

/* Lists from bits to items (CSR): each item (each part of it) listed
 * under the bits of its key clause. */
struct keyed {
	size_t n;
	size_t (*nparts)(const struct safety_set *s, size_t i);
	const struct pnode *(*part)(const struct safety_set *s, size_t i, size_t k);
};

static void
index_keys(const struct safety_set *s, const struct keyed *kd, uint32_t **off_out,
	   uint32_t **ix_out)
{
	size_t nb = s->nwords_bits * 64;
	uint32_t *off = xcalloc(nb + 2, sizeof *off), *ix = NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t t = 0; t < kd->n; t++) {
			for (size_t k = 0; k < kd->nparts(s, t); k++) {
				int64_t c = key_clause(s, kd->part(s, t, k));
				for (uint32_t j = 0; c >= 0 && j < s->clauses[c].n; j++) {
					uint32_t b = s->atoms[s->clauses[c].off + j];
					if (pass == 0)
						off[b + 2]++;
					else
						ix[off[b + 1]++] = (uint32_t)t;
				}
			}
		}
		if (pass == 0) {
			for (size_t b = 2; b < nb + 2; b++)
				off[b] += off[b - 1];
			ix = xmalloc((off[nb + 1] + 1) * sizeof *ix);
		}
	}
	*off_out = off;
	*ix_out = ix;
}

static size_t
trigger_parts(const struct safety_set *s, size_t t)
{
	const struct pnode *r = s->pats[s->triggers[t]].root;
	return r->kind == P_MSG ? r->nkids : 1;
}

static const struct pnode *
trigger_part(const struct safety_set *s, size_t t, size_t k)
{
	const struct pnode *r = s->pats[s->triggers[t]].root;
	return r->kind == P_MSG ? r->kids[k] : r;
}

static size_t
one_part(const struct safety_set *s, size_t t)
{
	(void)s;
	(void)t;
	return 1;
}

static const struct pnode *
concept_pat(const struct safety_set *s, size_t p, size_t k)
{
	(void)k;
	return s->pats[p].root;
}

/* Each trigger (each part of an '&&' one) and each longer way of saying a
 * concept, under the bits of its key clause: a sentence tries only those
 * one of its words or concepts names.  Every pattern needs some word. */
static void
index_triggers(struct safety_set *s)
{
	struct keyed t = {s->ntriggers, trigger_parts, trigger_part};
	struct keyed c = {s->nconcept_pats, one_part, concept_pat};
	index_keys(s, &t, &s->tix_off, &s->tix);
	index_keys(s, &c, &s->cix_off, &s->cix);
}

/* A new concept with no name that says n (owned by it); returns a node
 * that refers to it. */
static struct pnode *
part_concept(struct safety_set *s, struct pnode *n, int part, unsigned line)
{
	s->concepts = xgrow(s->concepts, &s->capconcepts, s->nconcepts + 1, sizeof *s->concepts);
	struct concept *c = &s->concepts[s->nconcepts];
	memset(c, 0, sizeof *c);
	c->line = line;
	c->part = part;
	c->roots = xmalloc(sizeof *c->roots);
	c->lines = xmalloc(sizeof *c->lines);
	c->roots[0] = n;
	c->lines[0] = line;
	c->nroots = 1;
	struct pnode *ref = node_new(&s->pool, P_CONCEPT);
	ref->id = (int32_t)s->nconcepts++;
	return ref;
}

/* Replace the parts of a rule's pattern (the whole of it, or what '&',
 * '&&' and top-level alternatives join) by concepts. */
static struct pnode *
as_parts(struct safety_set *s, struct pnode *n, int part, unsigned line)
{
	if (n->kind == P_CONCEPT)
		return n;
	if (n->kind == P_NOT) {
		n->kids[0] = as_parts(s, n->kids[0], part, line);
		return n;
	}
	int joins = n->kind == P_AND || n->kind == P_MSG;
	for (size_t i = 0; n->kind == P_ALT && i < n->nkids; i++)
		joins |= n->kids[i]->kind == P_AND || n->kids[i]->kind == P_MSG;
	if (!joins)
		return part_concept(s, n, part, line);
	for (size_t i = 0; i < n->nkids; i++)
		n->kids[i] = as_parts(s, n->kids[i], part, line);
	return n;
}

struct safety_set *
safety_build(struct text_ctx *t, const struct safety_input *in, struct problems *pr)
{
	struct safety_set *s = xcalloc(1, sizeof *s);
	char err[200];
	hmap_init(&s->stem_ids);
	hmap_init(&s->surf_ids);
	hmap_init(&s->pfx_ids);
	hmap_init(&s->p3);
	hmap_init(&s->concept_ids);
	s->dict = in->dict;
	s->nrules = in->nrules;
	s->unless = xcalloc(in->nrules ? in->nrules : 1, sizeof *s->unless);
	s->rule_emergency = xcalloc(in->nrules ? in->nrules : 1, 1);
	s->someone_else = s->for_someone_else = s->animal = s->own_question = -1;
	if (in->concepts_file) {
		s->concepts_file = xstrdup(in->concepts_file);
		parse_concepts(s, t, s->concepts_file, in->concepts, in->concepts_len, pr);
	}
	/* concept references in the concepts themselves */
	for (size_t c = 0; c < s->nconcepts; c++) {
		struct concept *k = &s->concepts[c];
		size_t w = 0;
		for (size_t i = 0; i < k->nroots; i++) {
			if (resolve(s, k->roots[i], s->concepts_file, k->lines[i], pr)) {
				k->lines[w] = k->lines[i];
				k->roots[w++] = k->roots[i];
			} /* else dropped: its nodes go with the pool */
		}
		k->nroots = w;
	}
	/* the rules' patterns, resolved; kept aside until the concepts are
	 * numbered in dependency order */
	struct rp {
		struct pnode *root;
		int rule, unless;
		unsigned line;
	} *rps = NULL;
	size_t nrps = 0, caprps = 0;
	for (size_t r = 0; r < in->nrules; r++) {
		const struct kb_rule *rule = &in->rules[r];
		s->rule_emergency[r] = rule->level == LEVEL_EMERGENCY;
		for (int u = 0; u < 2; u++) {
			const struct kb_list *l = u ? &rule->unless : &rule->triggers;
			for (size_t i = 0; i < l->n; i++) {
				struct pnode *root =
				    compile(t, &s->pool, l->v[i].s, 0, err, sizeof err);
				if (root == NULL) {
					problems_add(pr, rule->file, l->v[i].line, 1,
						     "pattern '%s': %s", l->v[i].s, err);
					continue;
				}
				if (!resolve(s, root, rule->file, l->v[i].line, pr))
					continue; /* its nodes go with the pool */
				rps = xgrow(rps, &caprps, nrps + 1, sizeof *rps);
				rps[nrps++] = (struct rp){root, (int)r, u, l->v[i].line};
			}
		}
	}
	/* each part of a rule's pattern becomes a concept of its own, so a
	 * message finds it in the one pass over its tokens */
	for (size_t i = 0; i < nrps; i++)
		rps[i].root = as_parts(s, rps[i].root, rps[i].unless ? 2 : 1, rps[i].line);
	/* cycles, dependency order */
	struct dfs *d = xcalloc(1, sizeof *d);
	d->s = s;
	d->pr = pr;
	d->path = xcalloc(s->nconcepts + 1, sizeof *d->path);
	for (size_t c = 0; c < s->nconcepts; c++)
		if (s->concepts[c].state == 0)
			visit(d, (int)c);
	free(d->path);
	free(d);
	s->nconcept_pats = s->npats;
	/* engine concepts, then unused ones */
	s->someone_else = hmap_get(&s->concept_ids, "someone-else", 12);
	s->for_someone_else = hmap_get(&s->concept_ids, "for-someone-else", 16);
	s->animal = hmap_get(&s->concept_ids, "animal", 6);
	s->own_question = hmap_get(&s->concept_ids, "own-question", 12);
	for (size_t i = 0; i < nrps; i++)
		mark_used(s, rps[i].root, rps[i].unless ? USED_UNLESS : USED_TRIGGER);
	const int engine[] = {s->someone_else, s->for_someone_else, s->animal, s->own_question};
	for (size_t e = 0; e < sizeof engine / sizeof engine[0]; e++) {
		int c = engine[e];
		if (c >= 0 && !s->concepts[c].used) {
			struct pnode ref = {.kind = P_CONCEPT, .id = c};
			mark_used(s, &ref, USED_TRIGGER);
		}
	}
	for (size_t c = 0; c < s->nconcepts; c++)
		if (!s->concepts[c].used && !s->concepts[c].part)
			problems_add(in->warnings ? in->warnings : pr, s->concepts_file,
				     s->concepts[c].line, 1, "concept '%s' is not used by any rule",
				     s->concepts[c].name);
	for (size_t i = 0; i < nrps; i++) {
		uint32_t pid =
		    add_pat(s, rps[i].root, rps[i].rule, rps[i].unless ? O_UNLESS : O_TRIGGER);
		if (rps[i].unless) {
			struct safety_set *ss = s;
			int r = rps[i].rule;
			ss->unless[r].v = xgrow(ss->unless[r].v, &ss->unless[r].cap,
						ss->unless[r].n + 1, sizeof(uint32_t));
			ss->unless[r].v[ss->unless[r].n++] = pid;
		} else {
			s->triggers = xgrow(s->triggers, &s->captriggers, s->ntriggers + 1,
					    sizeof *s->triggers);
			s->triggers[s->ntriggers++] = pid;
		}
	}
	free(rps);
	/* word ids, then the words' links: concepts said by one word, and
	 * the anchors of the concepts' longer patterns */
	for (size_t p = 0; p < s->npats; p++)
		intern_all(s, s->pats[p].root);
	for (size_t c = 0; c < s->nconcepts; c++) {
		struct concept *k = &s->concepts[c];
		if (k->state == 3)
			continue;
		for (size_t i = 0; i < k->nwords; i++) {
			intern_word(s, k->words[i]);
			add_link(s, k->words[i], (int32_t)c);
		}
	}
	s->w_surf_off = hmap_count(&s->stem_ids) / 64 + 1;
	s->w_pfx_off = s->w_surf_off + hmap_count(&s->surf_ids) / 64 + 1;
	s->w_con_off = s->w_pfx_off + s->npfx / 64 + 1;
	s->nwords_bits = s->w_con_off + s->nconcepts / 64 + 1;
	build_typo(s, t);
	s->bitw = xcalloc(s->nwords_bits * 64, sizeof *s->bitw);
	s->cweight = xcalloc(s->nconcepts + 1, sizeof *s->cweight);
	for (size_t p = 0; p < s->npats; p++)
		weigh_bits(s, s->pats[p].root);
	for (size_t c = 0; c < s->nconcepts; c++) {
		for (size_t i = 0; i < s->concepts[c].nwords; i++)
			weigh_bits(s, s->concepts[c].words[i]);
		s->bitw[s->w_con_off * 64 + c] = concept_weight(s, (int)c);
	}
	for (size_t p = 0; p < s->npats; p++) {
		struct pnode *r = s->pats[p].root;
		req_of(s, r, &r->req_off, &r->req_n);
		sort_clauses(s, r);
		s->pats[p].req_off = r->req_off;
		s->pats[p].req_n = r->req_n;
		for (size_t k = 0; r->kind == P_MSG && k < r->nkids; k++) {
			req_of(s, r->kids[k], &r->kids[k]->req_off, &r->kids[k]->req_n);
			sort_clauses(s, r->kids[k]);
		}
	}
	for (size_t p = 0; p < s->nconcept_pats; p++) {
		first_bits(s, &s->pats[p]);
		alt_bits(s, s->pats[p].root);
	}
	build_classes(s);
	index_triggers(s);
	npool_seal(&s->pool);
	hmap_shrink(&s->stem_ids);
	hmap_shrink(&s->surf_ids);
	hmap_shrink(&s->pfx_ids);
	hmap_shrink(&s->p3);
	hmap_shrink(&s->concept_ids);
	hmap_shrink(&s->classes);
	/* a set's identity for scratch memos: its words and its size (a new
	 * set at a freed one's address must not reuse its memo) */
	s->gen = s->typo.hash ^ (uint64_t)(uintptr_t)s ^ (uint64_t)s->npats << 20 ^
		 (uint64_t)s->nconcepts << 40 ^ (uint64_t)s->natoms << 50 ^
		 hmap_count(&s->stem_ids) ^ (uint64_t)hmap_count(&s->surf_ids) << 32;
	return s;
}

void
safety_free(struct safety_set *s)
{
	if (s == NULL)
		return;
	for (size_t c = 0; c < s->nconcepts; c++) {
		free(s->concepts[c].roots);
		free(s->concepts[c].lines);
		free(s->concepts[c].words);
	}
	npool_free(&s->pool);
	free(s->concepts);
	for (size_t r = 0; r < s->nrules; r++)
		free(s->unless[r].v);
	free(s->unless);
	free(s->rule_emergency);
	free(s->pats);
	free(s->triggers);
	free(s->links);
	free(s->concepts_file);
	hmap_free(&s->stem_ids);
	hmap_free(&s->surf_ids);
	hmap_free(&s->pfx_ids);
	hmap_free(&s->p3);
	hmap_free(&s->concept_ids);
	hmap_free(&s->classes);
	free(s->bitw);
	free(s->firsts);
	free(s->cweight);
	free(s->tix_off);
	free(s->tix);
	free(s->cix_off);
	free(s->cix);
	free(s->clauses);
	free(s->atoms);
	free(s->stem_head);
	free(s->surf_head);
	free(s->pfx_head);
	free(s->p3v);
	free(s->pfx);
	typo_free(&s->typo);
	free(s->stem_live);
	free(s->surf_live);
	free(s->pfx_live);
	free(s->tv);
	free(s->tv_pfx);
	free(s);
}

/* ---- matcher --------------------------------------------------------------- */

struct occ {
	uint16_t a, b; /* token span */
	int32_t concept;
	int next;   /* next occurrence starting at the same token */
	int next_c; /* next occurrence of the same concept (earlier ones) */
	int judged; /* found by '&': each part's negation already judged */
};

struct span {
	size_t a, b;
	int judged; /* its negation is judged already (a concept's '&') */
};

/* per token, computed once: what the scopes of negation and of a subject
 * need to know */
enum {
	TF_BREAKER = 1,      /* but, however, because, ...: ends a scope */
	TF_NEW_CLAUSE = 2,   /* i, my, it, ...: opens a clause after "and" or a comma */
	TF_HEDGE = 4,        /* sure, idea, know, ...: "not sure" is no negation */
	TF_FIRST = 8,        /* i, me, my, ...: the writer */
	TF_AND = 16,         /* "and" */
	TF_OTHER_END = 32,   /* an occurrence of someone-else ends here */
	TF_OTHER_START = 64, /* ... starts here */
	TF_ANIMAL_END = 128  /* an occurrence of animal ends here */
};

/* per rule, over the message */
struct rstate {
	int self, other; /* found a match about the writer / someone else */
	struct span hit, other_hit;
};

/* per '&&' trigger, over the message */
struct mstate {
	uint32_t found;  /* parts found */
	int other;       /* one of them only about someone else */
	struct span hit; /* of the first part */
};

struct safety_scratch {
	struct hmap memo; /* surface -> index in memov: how the set reads it */
	struct tinfo *memov;
	size_t nmemo, capmemo;
	uint64_t memo_gen; /* the set the memo is for */
	int *chead;        /* per concept: its latest occurrence, -1 */
	size_t capchead, captcand;
	uint32_t *present; /* bits newly set in this sentence */
	size_t npresent, cappresent;
	uint64_t *tcand; /* bit set over triggers to try in this sentence */
	int *at;         /* per token: first occurrence starting there, -1 */
	int *mi;         /* per token: its memo entry */
	uint8_t *tf;     /* per token: TF_* */
	size_t captok;
	struct occ *occ;
	size_t nocc, capocc;
	uint64_t *bits; /* per sentence: words and concepts present */
	size_t capbits;
	int *bhead; /* per bit: its latest position in this sentence, -1 */
	size_t capbhead;
	struct bpos {
		uint16_t pos;
		int next; /* the bit's earlier position, -1 */
	} * bpos;
	size_t nbpos, capbpos;
	uint32_t *stamp; /* per token: the pattern try that looked at it */
	uint32_t stamp_gen;
	uint64_t *pcand; /* bit set over concept patterns to try in this sentence */
	size_t capcand;
	struct rstate *rs;
	size_t caprs;
	struct mstate *ms;
	size_t capms;
	uint32_t *mtouched; /* the '&&' triggers whose state this message set */
	size_t nmtouched, capmt;
	uint64_t prep_gen; /* the set prepare() last sized the scratch for */
};

/* per message */
struct ev {
	const struct safety_set *s; /* NULL: a lone pattern (tests) */
	const struct tokens *q;
	struct safety_scratch *sc;
	int for_other;    /* an occurrence of for-someone-else */
	int own_question; /* an occurrence of own-question */
};

struct safety_scratch *
safety_scratch_new(void)
{
	struct safety_scratch *sc = xcalloc(1, sizeof *sc);
	hmap_init(&sc->memo);
	return sc;
}

void
safety_scratch_free(struct safety_scratch *sc)
{
	if (sc == NULL)
		return;
	hmap_free(&sc->memo);
	free(sc->memov);
	free(sc->chead);
	free(sc->present);
	free(sc->tcand);
	free(sc->at);
	free(sc->mi);
	free(sc->tf);
	free(sc->occ);
	free(sc->bits);
	free(sc->bhead);
	free(sc->bpos);
	free(sc->stamp);
	free(sc->pcand);
	free(sc->rs);
	free(sc->ms);
	free(sc->mtouched);
	free(sc);
}

/* Mark bit i of the presence bit set at token pos (listed by bit: the
 * concept patterns starting with it are tried there); when it is new,
 * remember it (for the triggers) and list the concept patterns keyed on
 * it. */
static void
mark(const struct safety_set *s, struct safety_scratch *sc, uint32_t i, size_t pos)
{
	uint64_t m = (uint64_t)1 << (i % 64);
	sc->bpos = xgrow(sc->bpos, &sc->capbpos, sc->nbpos + 1, sizeof *sc->bpos);
	sc->bpos[sc->nbpos] = (struct bpos){(uint16_t)pos, sc->bhead[i]};
	sc->bhead[i] = (int)sc->nbpos++;
	if (sc->bits[i / 64] & m)
		return;
	sc->bits[i / 64] |= m;
	sc->present = xgrow(sc->present, &sc->cappresent, sc->npresent + 1, sizeof *sc->present);
	sc->present[sc->npresent++] = i;
	for (uint32_t x = s->cix_off[i]; x < s->cix_off[i + 1]; x++)
		sc->pcand[s->cix[x] / 64] |= (uint64_t)1 << (s->cix[x] % 64);
}

static int typo_prefix(const struct ev *e, const struct token *k, int32_t pfx);
static int token_has(const struct ev *e, size_t pos, const uint32_t *f, uint32_t n, int concepts);

static int
tok_match(const struct ev *e, const struct pnode *n, const struct token *k)
{
	switch (n->kind) {
	case P_WORD:
		if (n->id >= 0 && e->s)
			return k->sid == n->id;
		return k->stem_len == n->wl && memcmp(k->stem, n->tail, n->wl) == 0;
	case P_EXACT:
		if (n->id >= 0 && e->s)
			return k->xid == n->id;
		return k->surf_len == n->wl && memcmp(k->surf, n->tail, n->wl) == 0;
	case P_PREFIX:
		return (k->surf_len >= n->wl && memcmp(k->surf, n->tail, n->wl) == 0) ||
		       (e->s && typo_prefix(e, k, n->id));
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

/* Can n start at pos?  A quick look at its first word only. */
static int
may_start(const struct ev *e, const struct pnode *n, size_t pos)
{
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
		return tok_match(e, n, &e->q->v[pos]);
	case P_CONCEPT:
		if (e->sc == NULL)
			return 1;
		for (int o = e->sc->at[pos]; o >= 0; o = e->sc->occ[o].next)
			if (e->sc->occ[o].concept == n->id)
				return 1;
		return 0;
	case P_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			if (may_start(e, n->kids[i], pos))
				return 1;
		return 0;
	case P_SEQ:
		return may_start(e, n->kids[0], pos);
	default:
		return 1;
	}
}

/* All end positions (exclusive) of n matched starting exactly at pos. */
static size_t
m_node(const struct ev *e, const struct pnode *n, size_t pos, size_t end, uint16_t *out)
{
	size_t no = 0;
	const struct tokens *q = e->q;
	switch (n->kind) {
	case P_WORD:
	case P_EXACT:
	case P_PREFIX:
		if (pos < end && tok_match(e, n, &q->v[pos]))
			out[no++] = (uint16_t)(pos + 1);
		return no;
	case P_CONCEPT:
		if (e->sc == NULL || pos >= end)
			return 0;
		for (int o = e->sc->at[pos]; o >= 0; o = e->sc->occ[o].next)
			if (e->sc->occ[o].concept == n->id && e->sc->occ[o].b <= end)
				no = add_end(out, no, e->sc->occ[o].b);
		return no;
	case P_ALT: {
		/* the one-word kids all at once through their bits, when the set
		 * has read the message; one by one otherwise */
		int bits = n->wb_n && e->sc;
		if (bits && pos < end && token_has(e, pos, e->s->firsts + n->wb_off, n->wb_n, 0))
			out[no++] = (uint16_t)(pos + 1);
		for (size_t i = 0; i < n->nkids; i++) {
			const struct pnode *k = n->kids[i];
			if (k->kind <= P_EXACT) { /* a single word: no recursion */
				if (!(bits && k->id >= 0) && pos < end &&
				    tok_match(e, k, &q->v[pos]))
					no = add_end(out, no, pos + 1);
				continue;
			}
			uint16_t tmp[MAX_ENDS];
			size_t nt = m_node(e, k, pos, end, tmp);
			for (size_t j = 0; j < nt; j++)
				no = add_end(out, no, tmp[j]);
		}
		return no;
	}
	case P_SEQ: {
		uint16_t cur[MAX_ENDS], next[MAX_ENDS], tmp[MAX_ENDS];
		size_t nc = 1, nn;
		cur[0] = (uint16_t)pos;
		for (size_t i = 0; i < n->nkids; i++) {
			nn = 0;
			for (size_t c = 0; c < nc; c++)
				for (size_t g = 0; g <= kid_gaps(n)[i] && cur[c] + g < end; g++) {
					/* a gap never passes over a negation ("legs are
					 * not numb" is no "legs .. numb") */
					if (g > 0 && (q->v[cur[c] + g - 1].flags & TOK_NEGATOR))
						break;
					size_t nt = m_node(e, n->kids[i], cur[c] + g, end, tmp);
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
	case P_MSG:
	case P_NOT:
		return 0; /* only at top level, handled by find_top */
	}
	return 0;
}

static int
inside(const struct span *sp, size_t nsp, size_t j)
{
	for (size_t i = 0; i < nsp; i++)
		if (j >= sp[i].a && j < sp[i].b)
			return 1;
	return 0;
}

/* word classes for the scopes (see TF_*) */
static const char *const breakers[] = {"but",  "however", "although", "though", "except",
				       "yet",  "because", "since",    "now",    "still",
				       "then", "whereas", "while",    NULL};
static const char *const new_clause[] = {
    "i",     "my",     "it",    "the",   "now",   "also",  "we",  "he",   "she",   "they",
    "this",  "there",  "have",  "has",   "had",   "got",   "am",  "feel", "feels", "can",
    "could", "should", "would", "will",  "may",   "might", "do",  "does", "did",   "what",
    "how",   "why",    "when",  "where", "which", "who",   "let", NULL};
static const char *const hedges[] = {"sure", "idea", "certain", "know", "just", "only", NULL};
static const char *const first_person[] = {"i",  "me", "my",  "myself", "mine",
					   "we", "us", "our", NULL};

static uint8_t
word_class(const char *w)
{
	static const struct {
		const char *const *l;
		uint8_t f;
	} lists[] = {{breakers, TF_BREAKER},
		     {new_clause, TF_NEW_CLAUSE},
		     {hedges, TF_HEDGE},
		     {first_person, TF_FIRST}};
	uint8_t f = strcmp(w, "and") == 0 ? TF_AND : 0;
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (const char *const *l = lists[i].l; *l; l++)
			if (strcmp(*l, w) == 0)
				f |= lists[i].f;
	return f;
}

/* The class of token k (through the set's table, or directly for a lone
 * pattern). */
static uint8_t
tok_class(const struct ev *e, size_t j)
{
	if (e->sc)
		return e->sc->tf[j];
	return word_class(e->q->v[j].surf);
}

/* Is the part starting at `start` negated?  sent0: first token of the
 * sentence; sp: the match's own spans (negators inside them don't count). */
static int
negated(const struct ev *e, size_t sent0, size_t start, const struct span *sp, size_t nsp)
{
	const struct tokens *q = e->q;
	size_t lo = start > sent0 + SAFETY_NEG_WINDOW ? start - SAFETY_NEG_WINDOW : sent0;
	for (size_t j = start; j-- > lo;) {
		const struct token *k = &q->v[j];
		if (inside(sp, nsp, j))
			continue;
		uint8_t c = tok_class(e, j);
		if (c & TF_BREAKER)
			return 0;
		if (j + 1 < q->n && (tok_class(e, j + 1) & TF_NEW_CLAUSE) &&
		    ((c & TF_AND) || (k->flags & TOK_PUNCT_AFTER)))
			return 0; /* "..., I fell" / "and have a fever": a new clause */
		int neg =
		    (k->flags & TOK_NEGATOR) || (strcmp(k->surf, "free") == 0 && j + 1 < q->n &&
						 strcmp(q->v[j + 1].surf, "of") == 0);
		if (!neg)
			continue;
		if (k->flags & TOK_PUNCT_AFTER)
			continue; /* "No, my groin is numb" */
		if (j + 1 < start && (q->v[j + 1].flags & TOK_PUNCT_AFTER) &&
		    (strcmp(q->v[j + 1].surf, "there") == 0 ||
		     strcmp(q->v[j + 1].surf, "here") == 0))
			continue; /* "a cushion that isn't there, all numb" */
		if (j + 1 < q->n && (tok_class(e, j + 1) & TF_HEDGE))
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

/* Occurrences of concept c in [s0, s1), by start (longest only, when
 * asked), at most max. */
static size_t
concept_spans(const struct ev *e, int c, size_t s0, size_t s1, int longest, struct span *out,
	      size_t max)
{
	size_t no = 0;
	const struct occ *v = e->sc->occ;
	for (int o = e->sc->chead[c]; o >= 0; o = v[o].next_c) {
		if (v[o].a < s0 || v[o].a >= s1 || v[o].b > s1)
			continue;
		size_t j = 0;
		while (longest && j < no && out[j].a != v[o].a)
			j++;
		if (longest && j < no) {
			if (v[o].b > out[j].b) {
				out[j].b = v[o].b;
				out[j].judged = v[o].judged;
			}
			continue;
		}
		if (no == max)
			break;
		/* keep them in token order: insertion sort */
		for (j = no++; j > 0 && (out[j - 1].a > v[o].a ||
					 (out[j - 1].a == v[o].a && out[j - 1].b > v[o].b));
		     j--)
			out[j] = out[j - 1];
		out[j].a = v[o].a;
		out[j].b = v[o].b;
		out[j].judged = v[o].judged;
	}
	return no;
}

/* Longest occurrence spans of a SEQ-like node in [s0, s1). */
static size_t
all_spans(const struct ev *e, const struct pnode *n, size_t s0, size_t s1, struct span *out,
	  size_t max)
{
	if (n->kind == P_CONCEPT && e->sc)
		return concept_spans(e, n->id, s0, s1, 1, out, max);
	size_t no = 0;
	uint16_t ends[MAX_ENDS];
	for (size_t i = s0; i < s1 && no < max; i++) {
		size_t ne = m_node(e, n, i, s1, ends);
		if (ne == 0)
			continue;
		size_t b = ends[0];
		for (size_t j = 1; j < ne; j++)
			if (ends[j] > b)
				b = ends[j];
		out[no].a = i;
		out[no].b = b;
		out[no].judged = 0;
		no++;
	}
	return no;
}

#define MAX_SPANS 64

/* Spans of a whole pattern in [s0, s1): an '&' gives one span from its
 * first part to its last, when all parts are there. */
static size_t
top_spans(const struct ev *e, const struct pnode *n, size_t s0, size_t s1, struct span *out,
	  size_t max)
{
	if (n->kind == P_ALT) {
		size_t no = 0;
		for (size_t i = 0; i < n->nkids && no < max; i++)
			no += top_spans(e, n->kids[i], s0, s1, out + no, max - no);
		return no;
	}
	if (n->kind != P_AND)
		return all_spans(e, n, s0, s1, out, max);
	if (max == 0)
		return 0;
	struct span all = {s1, s0, 0}, part[MAX_SPANS];
	for (size_t k = 0; k < n->nkids; k++) {
		int absent = n->kids[k]->kind == P_NOT;
		size_t np = all_spans(e, absent ? n->kids[k]->kids[0] : n->kids[k], s0, s1, part,
				      MAX_SPANS);
		if (absent && np > 0)
			return 0;
		if (np == 0 && !absent)
			return 0;
		for (size_t j = 0; j < np; j++) {
			if (part[j].a < all.a)
				all.a = part[j].a;
			if (part[j].b > all.b)
				all.b = part[j].b;
		}
	}
	out[0] = all;
	return 1;
}

/* The unless spans of one rule in one sentence, computed on first need. */
struct unless_ctx {
	int rule; /* -1: no unless patterns */
	int ready;
	struct span v[MAX_SPANS];
	size_t n;
};

static int
cancelled(const struct ev *e, struct unless_ctx *u, size_t s0, size_t s1, const struct span *sp)
{
	if (u->rule < 0 || e->s == NULL)
		return 0;
	if (!u->ready) {
		u->ready = 1;
		u->n = 0;
		const struct safety_set *s = e->s;
		for (size_t k = 0; k < s->unless[u->rule].n; k++)
			u->n += top_spans(e, s->pats[s->unless[u->rule].v[k]].root, s0, s1,
					  u->v + u->n, MAX_SPANS - u->n);
	}
	return overlaps(sp, u->v, u->n);
}

enum { V_NONE, V_OTHER, V_SELF };

/* Who the part at sp is about: the writer when it names them ("a kid ran
 * into me"), else the nearest person named before it in its clause ("my
 * friend broke her leg": someone else).  When that is an animal ("the
 * neighbour's dog had a tumour removed") the part is about no one. */
static int
subject(const struct ev *e, size_t s0, const struct span *sp)
{
	for (size_t j = sp->a; j < sp->b; j++)
		if ((tok_class(e, j) & TF_FIRST) &&
		    !(j + 1 < e->q->n && (tok_class(e, j + 1) & TF_OTHER_START)))
			return V_SELF;
	for (size_t j = sp->a; j-- > s0;) {
		uint8_t c = tok_class(e, j);
		if (c & TF_OTHER_END)
			return (c & TF_ANIMAL_END) ? V_NONE : V_OTHER;
		if (c & TF_BREAKER)
			return V_SELF;
		if ((c & TF_FIRST) && !(j + 1 < e->q->n && (tok_class(e, j + 1) & TF_OTHER_START)))
			return V_SELF;
	}
	return V_SELF;
}

/* a rule being tried in one sentence */
struct trial {
	struct ev *e;
	size_t s0, s1;
	struct unless_ctx u;
	int about; /* check who a part is about (below level emergency) */
};

/* A part that says a negation itself ("can't feel", "don't want to live",
 * "hope I don't wake up") is not negated again by one before it ("don't
 * care anymore, hoping I don't wake up"; "I don't have no feeling"). */
static int
says_negation(const struct ev *e, const struct span *sp)
{
	if (sp->judged)
		return 1;
	for (size_t j = sp->a; j < sp->b; j++)
		if (e->q->v[j].flags & TOK_NEGATOR)
			return 1;
	return 0;
}

static int
part_valid(struct trial *tr, const struct span *sp, const struct span *own, size_t nown)
{
	if ((!says_negation(tr->e, sp) && negated(tr->e, tr->s0, sp->a, own, nown)) ||
	    cancelled(tr->e, &tr->u, tr->s0, tr->s1, sp))
		return V_NONE;
	return tr->about ? subject(tr->e, tr->s0, sp) : V_SELF;
}

/* Does the sentence hold a part that must be absent ('!')?  Negated
 * occurrences do not count ("breathless, but not from the stairs"). */
static int
present(struct trial *tr, const struct pnode *n)
{
	struct span sp[MAX_SPANS];
	size_t ns = all_spans(tr->e, n, tr->s0, tr->s1, sp, MAX_SPANS);
	for (size_t j = 0; j < ns; j++)
		if (says_negation(tr->e, &sp[j]) || !negated(tr->e, tr->s0, sp[j].a, &sp[j], 1))
			return 1;
	return 0;
}

/*
 * The best occurrence of a top-level node in the trial's sentence: V_SELF
 * for a valid one about the writer, V_OTHER if the valid ones are all about
 * someone else, else V_NONE.
 */
static int
find_top(struct trial *tr, const struct pnode *n, struct span *hit)
{
	const struct ev *e = tr->e;
	int best = V_NONE;
	if (n->kind == P_ALT) {
		for (size_t i = 0; i < n->nkids && best < V_SELF; i++) {
			struct span h;
			int v = find_top(tr, n->kids[i], &h);
			if (v > best) {
				best = v;
				*hit = h;
			}
		}
		return best;
	}
	if (n->kind == P_CONCEPT && e->sc) {
		struct span sp[MAX_SPANS];
		size_t ns = concept_spans(e, n->id, tr->s0, tr->s1, 0, sp, MAX_SPANS);
		for (size_t j = 0; j < ns && best < V_SELF; j++) {
			int v = part_valid(tr, &sp[j], &sp[j], 1);
			if (v > best) {
				best = v;
				*hit = sp[j];
			}
		}
		return best;
	}
	if (n->kind != P_AND) {
		uint16_t ends[MAX_ENDS];
		for (size_t i = tr->s0; i < tr->s1 && best < V_SELF; i++) {
			size_t ne = m_node(e, n, i, tr->s1, ends);
			for (size_t j = 0; j < ne && best < V_SELF; j++) {
				struct span sp = {i, ends[j], 0};
				int v = part_valid(tr, &sp, &sp, 1);
				if (v > best) {
					best = v;
					*hit = sp;
				}
			}
		}
		return best;
	}
	/* AND: every part somewhere in the sentence.  The words of any part
	 * belong to the pattern: a negator among them is no negation ("can
	 * not feel" & legs). */
	struct span occ[MAX_PARTS][MAX_SPANS / 4], all[MAX_SPANS];
	size_t nocc[MAX_PARTS], nall = 0;
	size_t np = n->nkids < MAX_PARTS ? n->nkids : MAX_PARTS;
	for (size_t k = 0; k < np; k++) {
		if (n->kids[k]->kind == P_NOT) {
			if (present(tr, n->kids[k]->kids[0]))
				return V_NONE;
			nocc[k] = 0;
			continue;
		}
		nocc[k] = all_spans(e, n->kids[k], tr->s0, tr->s1, occ[k], MAX_SPANS / 4);
		if (nocc[k] == 0)
			return V_NONE;
		for (size_t j = 0; j < nocc[k] && nall < MAX_SPANS; j++)
			all[nall++] = occ[k][j];
	}
	int worst = V_SELF;
	struct span h = {tr->s1, tr->s0, 0};
	for (size_t k = 0; k < np; k++) {
		if (n->kids[k]->kind == P_NOT)
			continue;
		int pbest = V_NONE;
		struct span pick = {0, 0, 0};
		for (size_t j = 0; j < nocc[k] && pbest < V_SELF; j++) {
			int v = part_valid(tr, &occ[k][j], all, nall);
			if (v > pbest) {
				pbest = v;
				pick = occ[k][j];
			}
		}
		if (pbest < worst)
			worst = pbest;
		if (worst == V_NONE)
			return V_NONE;
		if (pick.a < h.a)
			h.a = pick.a;
		if (pick.b > h.b)
			h.b = pick.b;
	}
	*hit = h;
	return worst;
}

int
safety_pattern_fires(const struct pattern *p, const struct tokens *q)
{
	struct ev e = {NULL, q, NULL, 0, 0};
	const struct pnode *r = p->root;
	size_t nparts = r->kind == P_MSG ? r->nkids : 1;
	uint32_t found = 0;
	for (size_t s0 = 0; s0 < q->n;) {
		size_t s1 = s0;
		while (s1 < q->n && q->v[s1].sent == q->v[s0].sent)
			s1++;
		struct span hit;
		struct trial tr = {&e, s0, s1, {-1, 1, {{0, 0, 0}}, 0}, 0};
		for (size_t k = 0; k < nparts; k++)
			if (find_top(&tr, r->kind == P_MSG ? r->kids[k] : r, &hit) != V_NONE)
				found |= (uint32_t)1 << k;
		s0 = s1;
	}
	return found == (1u << nparts) - 1;
}

/* ---- evaluation of a rule set --------------------------------------------- */

static void
build_classes(struct safety_set *s)
{
	static const char *const *const lists[] = {breakers, new_clause, hedges, first_person};
	hmap_init(&s->classes);
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (const char *const *l = lists[i]; *l; l++)
			*hmap_put(&s->classes, *l, strlen(*l), 0, NULL) = word_class(*l);
	*hmap_put(&s->classes, "and", 3, 0, NULL) = word_class("and");
}

static void
add_occ(struct ev *e, int c, size_t a, size_t b, int judged)
{
	struct safety_scratch *sc = e->sc;
	for (int o = sc->at[a]; o >= 0; o = sc->occ[o].next)
		if (sc->occ[o].concept == c && sc->occ[o].b == b)
			return;
	sc->occ = xgrow(sc->occ, &sc->capocc, sc->nocc + 1, sizeof *sc->occ);
	sc->occ[sc->nocc] =
	    (struct occ){(uint16_t)a, (uint16_t)b, c, sc->at[a], sc->chead[c], judged};
	sc->at[a] = sc->chead[c] = (int)sc->nocc++;
	mark(e->s, sc, (uint32_t)(e->s->w_con_off * 64 + (size_t)c), a);
	if (c == e->s->someone_else) {
		sc->tf[a] |= TF_OTHER_START;
		sc->tf[b - 1] |= TF_OTHER_END;
	}
	if (c == e->s->for_someone_else)
		e->for_other = 1;
	if (c == e->s->animal)
		sc->tf[b - 1] |= TF_ANIMAL_END;
	if (c == e->s->own_question)
		e->own_question = 1;
}

static int
typo_prefix(const struct ev *e, const struct token *k, int32_t pfx)
{
	if (k->xid > -2)
		return 0;
	int v = -2 - k->xid;
	const struct safety_set *s = e->s;
	for (uint8_t i = 0; i < s->tv[v].npfx; i++)
		if (s->tv_pfx[s->tv[v].pfx_off + i] == pfx)
			return 1;
	return 0;
}

/*
 * Could n match in a sentence with these words and concepts, ignoring
 * order and adjacency?  A necessary condition, cheap next to m_node: every
 * clause of n's requirement (compiled at build) has a word or concept
 * present.
 */
static int
possible_req(const struct ev *e, uint32_t off, uint32_t n)
{
	const struct safety_set *s = e->s;
	const uint64_t *b = e->sc->bits;
	for (uint32_t c = off; c < off + n; c++) {
		const uint32_t *a = s->atoms + s->clauses[c].off;
		uint32_t na = s->clauses[c].n, i = 0;
		while (i < na && !(b[a[i] / 64] >> (a[i] % 64) & 1))
			i++;
		if (i == na)
			return 0;
	}
	return 1;
}

static int
possible(const struct ev *e, const struct pnode *n)
{
	return possible_req(e, n->req_off, n->req_n);
}

/* Follow the links of one word id: the concepts it says on its own. */
static void
follow(struct ev *e, int head, size_t i)
{
	for (int l = head; l >= 0; l = e->s->links[l].next)
		add_occ(e, e->s->links[l].concept, i, i + 1, 0);
}

#define MEMO_PFX 6     /* prefixes one memoised word may match */
#define MEMO_MAX 16384 /* memoised words per scratch before it starts over */

/* How the set reads one word: its ids, class and prefixes (memoised per
 * scratch, keyed by the surface: the stem is a function of it). */
struct tinfo {
	int32_t sid, xid; /* xid < -1: a typo fix, -2 - typo index entry */
	uint8_t tf, npfx;
	int32_t pfx[MEMO_PFX];
};

static void
word_info(const struct safety_set *s, const struct token *k, struct tinfo *ti)
{
	ti->sid = hmap_get(&s->stem_ids, k->stem, k->stem_len);
	ti->xid = hmap_get_h(&s->surf_ids, k->surf, k->surf_len, k->surf_hash);
	int wc = hmap_get_h(&s->classes, k->surf, k->surf_len, k->surf_hash);
	ti->tf = wc > 0 ? (uint8_t)wc : 0;
	ti->npfx = 0;
	int p3 = k->surf_len >= PREFIX_MIN ? hmap_get(&s->p3, k->surf, PREFIX_MIN) : -1;
	int any =
	    (ti->sid >= 0 && s->stem_live[ti->sid]) || (ti->xid >= 0 && s->surf_live[ti->xid]);
	for (int p = p3 >= 0 ? s->p3v[p3].pfx : -1; p >= 0; p = s->pfx[p].next)
		if (k->surf_len >= s->pfx[p].len &&
		    memcmp(k->surf, s->pfx[p].p, s->pfx[p].len) == 0 && ti->npfx < MEMO_PFX) {
			ti->pfx[ti->npfx++] = p;
			any |= s->pfx_live[p];
		}
	if (any || k->surf_len < TYPO_MIN || (k->flags & (TOK_COMMON | TOK_NUMBER)) ||
	    s->dict == NULL || wordset_has(s->dict, k->surf, k->surf_len))
		return;
	int d, v = typo_correct(&s->typo, k->surf, k->surf_len, &d);
	if (v < 0 || !(d == 1 || (d == 2 && k->surf_len >= TYPO_TWO_EDITS)))
		return;
	ti->sid = s->tv[v].sid;
	ti->xid = s->tv[v].xid >= 0 ? s->tv[v].xid : -2 - v;
	for (uint8_t j = 0; j < s->tv[v].npfx && ti->npfx < MEMO_PFX; j++)
		ti->pfx[ti->npfx++] = s->tv_pfx[s->tv[v].pfx_off + j];
}

/* Read token i: its word ids (through the typo index when it is an unknown
 * long word), class, presence bits, concepts and anchors. */
static void
read_token(struct ev *e, struct token *k, size_t i)
{
	const struct safety_set *s = e->s;
	struct safety_scratch *sc = e->sc;
	if (sc->memo_gen != s->gen || hmap_count(&sc->memo) >= MEMO_MAX) {
		hmap_clear(&sc->memo);
		sc->nmemo = 0;
		sc->memo_gen = s->gen;
	}
	int ins;
	int *m = hmap_put_h(&sc->memo, k->surf, k->surf_len, k->surf_hash, (int)sc->nmemo, &ins);
	if (ins) {
		sc->memov = xgrow(sc->memov, &sc->capmemo, sc->nmemo + 1, sizeof *sc->memov);
		word_info(s, k, &sc->memov[sc->nmemo++]);
	}
	const struct tinfo *ti = &sc->memov[*m];
	sc->mi[i] = *m;
	k->sid = ti->sid;
	k->xid = ti->xid;
	sc->tf[i] = ti->tf;
	for (uint8_t j = 0; j < ti->npfx; j++) {
		mark(s, sc, (uint32_t)(s->w_pfx_off * 64 + (size_t)ti->pfx[j]), i);
		follow(e, s->pfx_head[ti->pfx[j]], i);
	}
	if (k->sid >= 0) {
		mark(s, sc, (uint32_t)k->sid, i);
		follow(e, s->stem_head[k->sid], i);
	}
	if (k->xid >= 0) {
		mark(s, sc, (uint32_t)(s->w_surf_off * 64 + (size_t)k->xid), i);
		follow(e, s->surf_head[k->xid], i);
	}
}

static int
has_bit(const uint32_t *v, uint32_t n, uint32_t b)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (v[mid] < b)
			lo = mid + 1;
		else if (v[mid] > b)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* Has token pos one of these bits: its words, prefixes, or (concepts) a
 * concept found starting there? */
static int
token_has(const struct ev *e, size_t pos, const uint32_t *f, uint32_t n, int concepts)
{
	const struct safety_set *s = e->s;
	const struct safety_scratch *sc = e->sc;
	const struct token *k = &e->q->v[pos];
	if ((k->sid >= 0 && has_bit(f, n, (uint32_t)k->sid)) ||
	    (k->xid >= 0 && has_bit(f, n, (uint32_t)(s->w_surf_off * 64) + (uint32_t)k->xid)))
		return 1;
	const struct tinfo *ti = &sc->memov[sc->mi[pos]];
	for (uint8_t j = 0; j < ti->npfx; j++)
		if (has_bit(f, n, (uint32_t)(s->w_pfx_off * 64) + (uint32_t)ti->pfx[j]))
			return 1;
	for (int o = concepts ? sc->at[pos] : -1; o >= 0; o = sc->occ[o].next)
		if (has_bit(f, n, (uint32_t)(s->w_con_off * 64) + (uint32_t)sc->occ[o].concept))
			return 1;
	return 0;
}

/* The concepts' longer patterns whose key word is in this sentence, in
 * dependency order (pattern ids are; an occurrence found here can only
 * list patterns further on), each occurrence recorded. */
static void
run_concepts(struct ev *e, size_t s0, size_t s1)
{
	const struct safety_set *s = e->s;
	struct safety_scratch *sc = e->sc;
	size_t nw = s->nconcept_pats / 64 + 1;
	for (size_t w = 0; w < nw; w++) {
		while (sc->pcand[w]) {
			uint32_t pid = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(sc->pcand[w]));
			sc->pcand[w] &= sc->pcand[w] - 1;
			const struct cpat *cp = &s->pats[pid];
			if (!possible_req(e, cp->req_off, cp->req_n))
				continue;
			if (cp->root->kind == P_AND) { /* parts anywhere in the sentence */
				struct trial tr = {e, s0, s1, {-1, 0, {{0, 0, 0}}, 0}, 0};
				struct span hit;
				if (find_top(&tr, cp->root, &hit) == V_SELF)
					add_occ(e, cp->owner, hit.a, hit.b, 1);
				continue;
			}
			uint16_t ends[MAX_ENDS];
			if (cp->first_n == 0) { /* at every word */
				for (size_t i = s0; i < s1; i++) {
					if (!may_start(e, cp->root, i))
						continue;
					size_t ne = m_node(e, cp->root, i, s1, ends);
					for (size_t j = 0; j < ne; j++)
						add_occ(e, cp->owner, i, ends[j], 0);
				}
				continue;
			}
			/* where one of its first words or concepts is */
			sc->stamp_gen++;
			const uint32_t *f = s->firsts + cp->first_off;
			for (uint32_t x = 0; x < cp->first_n; x++)
				for (int b = sc->bhead[f[x]]; b >= 0; b = sc->bpos[b].next) {
					size_t i = sc->bpos[b].pos;
					if (sc->stamp[i] == sc->stamp_gen)
						continue;
					sc->stamp[i] = sc->stamp_gen;
					size_t ne = m_node(e, cp->root, i, s1, ends);
					for (size_t j = 0; j < ne; j++)
						add_occ(e, cp->owner, i, ends[j], 0);
				}
		}
	}
}

/* Size the scratch for this set and message; reset what a message uses. */
static void
prepare(const struct safety_set *s, struct safety_scratch *sc, size_t ntok)
{
	if (sc->captok < ntok) {
		sc->captok = ntok;
		sc->at = xrealloc(sc->at, ntok * sizeof *sc->at);
		sc->mi = xrealloc(sc->mi, ntok * sizeof *sc->mi);
		sc->stamp = xrealloc(sc->stamp, ntok * sizeof *sc->stamp);
		sc->tf = xrealloc(sc->tf, ntok);
	}
	memset(sc->at, 0xff, ntok * sizeof *sc->at);
	memset(sc->stamp, 0, ntok * sizeof *sc->stamp);
	sc->stamp_gen = 0;
	/* what the last message set is undone item by item; a new set, or
	 * more room, starts from scratch */
	int fresh = sc->prep_gen != s->gen || sc->capchead < s->nconcepts + 1 ||
		    sc->capms < s->ntriggers + 1 || sc->capbits < s->nwords_bits;
	sc->prep_gen = s->gen;
	if (!fresh) {
		for (size_t i = 0; i < sc->nocc; i++)
			sc->chead[sc->occ[i].concept] = -1;
		for (size_t i = 0; i < sc->nmtouched; i++)
			memset(&sc->ms[sc->mtouched[i]], 0, sizeof *sc->ms);
	}
	sc->nocc = 0;
	sc->nmtouched = 0;
	if (sc->captcand < s->ntriggers / 64 + 1) { /* all zero between sentences */
		free(sc->tcand);
		sc->captcand = s->ntriggers / 64 + 1;
		sc->tcand = xcalloc(sc->captcand, sizeof *sc->tcand);
	}
	if (fresh) {
		sc->chead = xgrow(sc->chead, &sc->capchead, s->nconcepts + 1, sizeof *sc->chead);
		memset(sc->chead, 0xff, (s->nconcepts + 1) * sizeof *sc->chead);
		sc->ms = xgrow(sc->ms, &sc->capms, s->ntriggers + 1, sizeof *sc->ms);
		memset(sc->ms, 0, (s->ntriggers + 1) * sizeof *sc->ms);
		sc->bits = xgrow(sc->bits, &sc->capbits, s->nwords_bits, sizeof *sc->bits);
		memset(sc->bits, 0, s->nwords_bits * sizeof *sc->bits); /* then by present */
	}
	if (sc->capbhead < s->nwords_bits * 64) { /* else all -1 between sentences */
		free(sc->bhead);
		sc->capbhead = s->nwords_bits * 64;
		sc->bhead = xmalloc(sc->capbhead * sizeof *sc->bhead);
		memset(sc->bhead, 0xff, sc->capbhead * sizeof *sc->bhead);
	}
	size_t np = s->nconcept_pats / 64 + 1;
	if (sc->capcand < np) { /* all zero between sentences otherwise */
		free(sc->pcand);
		sc->capcand = np;
		sc->pcand = xcalloc(np, sizeof *sc->pcand);
	}
	sc->rs = xgrow(sc->rs, &sc->caprs, s->nrules + 1, sizeof *sc->rs);
	memset(sc->rs, 0, (s->nrules + 1) * sizeof *sc->rs);
}

size_t
safety_eval(const struct safety_set *s, struct safety_scratch *scratch, struct tokens *q,
	    struct safety_hit *out, size_t max)
{
	if (q->n == 0 || s->ntriggers == 0)
		return 0;
	struct safety_scratch *sc = scratch ? scratch : safety_scratch_new();
	prepare(s, sc, q->n);
	struct ev e = {s, q, sc, 0, 0};
	struct rstate *rs = sc->rs;
	struct mstate *ms = sc->ms;

	for (size_t s0 = 0; s0 < q->n;) {
		size_t s1 = s0;
		while (s1 < q->n && q->v[s1].sent == q->v[s0].sent)
			s1++;
		sc->npresent = 0; /* sc->bits all zero between sentences */
		sc->nbpos = 0;
		for (size_t i = s0; i < s1; i++)
			read_token(&e, &q->v[i], i);
		run_concepts(&e, s0, s1);
		for (size_t i = 0; i < sc->npresent; i++)
			for (uint32_t x = s->tix_off[sc->present[i]];
			     x < s->tix_off[sc->present[i] + 1]; x++)
				sc->tcand[s->tix[x] / 64] |= (uint64_t)1 << (s->tix[x] % 64);
		int last_rule = -1;
		struct trial tr = {&e, s0, s1, {-1, 0, {{0, 0, 0}}, 0}, 0};
		for (size_t w = 0; w < s->ntriggers / 64 + 1; w++)
			while (sc->tcand[w]) {
				size_t t = w * 64 + (size_t)__builtin_ctzll(sc->tcand[w]);
				sc->tcand[w] &= sc->tcand[w] - 1;
				const struct cpat *cp = &s->pats[s->triggers[t]];
				int r = cp->owner;
				if (rs[r].self)
					continue;
				const struct pnode *root = cp->root;
				size_t np =
				    root->kind == P_MSG ? root->nkids : 1; /* at most MAX_PARTS */
				for (size_t k = 0; k < np; k++) {
					const struct pnode *part =
					    root->kind == P_MSG ? root->kids[k] : root;
					if ((ms[t].found >> k & 1) || !possible(&e, part))
						continue;
					if (r != last_rule) {
						last_rule = r;
						tr.u.rule = s->unless[r].n ? r : -1;
						tr.u.ready = 0;
						tr.about = !s->rule_emergency[r];
					}
					struct span hit;
					int v = find_top(&tr, part, &hit);
					if (v == V_NONE)
						continue;
					if (root->kind != P_MSG) {
						if (v == V_SELF) {
							rs[r].self = 1;
							rs[r].hit = hit;
						} else if (!rs[r].other) {
							rs[r].other = 1;
							rs[r].other_hit = hit;
						}
						continue;
					}
					if (ms[t].found == 0) {
						sc->mtouched =
						    xgrow(sc->mtouched, &sc->capmt,
							  sc->nmtouched + 1, sizeof *sc->mtouched);
						sc->mtouched[sc->nmtouched++] = (uint32_t)t;
					}
					ms[t].found |= (uint32_t)1 << k;
					ms[t].other |= v == V_OTHER;
					if (k == 0)
						ms[t].hit = hit;
				}
				if (root->kind == P_MSG && ms[t].found == (1u << np) - 1 &&
				    !rs[r].self) {
					if (!ms[t].other) {
						rs[r].self = 1;
						rs[r].hit = ms[t].hit;
					} else if (!rs[r].other) {
						rs[r].other = 1;
						rs[r].other_hit = ms[t].hit;
					}
				}
			}
		for (size_t i = 0; i < sc->npresent; i++) {
			sc->bhead[sc->present[i]] = -1;
			sc->bits[sc->present[i] / 64] = 0;
		}
		s0 = s1;
	}
	/* a match about someone else still fires when the message is all
	 * about them, or asks about their care; a question the writer asks
	 * for themselves ("does flying make back pain worse?") is theirs */
	int mine = e.own_question;
	for (size_t j = 0; j < q->n && !mine; j++)
		mine =
		    (sc->tf[j] & TF_FIRST) && !(j + 1 < q->n && (sc->tf[j + 1] & TF_OTHER_START));
	size_t nout = 0;
	for (size_t r = 0; r < s->nrules && nout < max; r++) {
		const struct span *h = NULL;
		if (rs[r].self)
			h = &rs[r].hit;
		else if (rs[r].other && (e.for_other || !mine))
			h = &rs[r].other_hit;
		if (h == NULL)
			continue;
		out[nout].rule = (int)r;
		out[nout].off = q->v[h->a].off;
		out[nout].len = q->v[h->b - 1].off + q->v[h->b - 1].len - q->v[h->a].off;
		nout++;
	}
	if (scratch == NULL)
		safety_scratch_free(sc);
	return nout;
}
