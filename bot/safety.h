/*
 * safety: compiles the safety rules' trigger patterns and runs them on a
 * tokenised message.  Pattern syntax (documented for staff in README):
 *   word      same Snowball stem        word*   prefix of the folded word
 *   =word     exactly this word         a b     consecutive words
 *   a .. b    up to 4 words between     (a|b c) alternatives
 *   a & b     all parts in one sentence, any order (top level only)
 * A match is void when a negator (no, not, never, without, ...) stands
 * within 5 words before it in its clause, or when an `unless` pattern of the
 * same rule overlaps it.  Matches never cross a sentence boundary.
 * Pure: no I/O, no globals.  A safety_set is immutable once built.
 */
#ifndef SAFETY_H
#define SAFETY_H

#include <stddef.h>
#include <stdint.h>

#include "kb_parse.h"
#include "text.h"

#define SAFETY_GAP 4
#define SAFETY_NEG_WINDOW 5

struct safety_set;
struct pattern;

struct safety_hit {
	int rule;          /* index into the rules given to safety_build */
	uint32_t off, len; /* source bytes of the words that fired it */
};

/*
 * Compile every trigger and unless pattern; a pattern that does not
 * compile is added to pr as file:line:1 and the set is still returned (the
 * caller decides whether problems are fatal).  rules are borrowed during the
 * call only.
 */
struct safety_set *safety_build(struct text_ctx *t, const struct kb_rule *rules, size_t n,
				struct problems *pr);
void safety_free(struct safety_set *s);

/*
 * Rules whose triggers fire on q, in rule index order, at most max.
 * Returns the number written.  Rules without triggers never fire.  Writes
 * the set's word ids into q's tokens (sid, xid) as a by-product.
 */
size_t safety_eval(const struct safety_set *s, struct tokens *q, struct safety_hit *out,
		   size_t max);

/* Compile one pattern (for tests and `check`).  On error returns NULL and
 * writes a message to err. */
struct pattern *safety_compile(struct text_ctx *t, const char *src, char *err, size_t errlen);
void safety_pattern_free(struct pattern *p);
/* Does p fire on q (negation applied, no unless)?  For tests. */
int safety_pattern_fires(const struct pattern *p, const struct tokens *q);

#endif
