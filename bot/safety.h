/*
 * safety: compiles the safety rules and the concepts they are written in,
 * and runs them on a tokenised message.
 *
 * A concept (knowledge/safety/concepts.txt) names one idea once: a list of
 * patterns, any of which says it.  A rule's triggers combine concepts and
 * words.  Pattern syntax (documented for staff in README):
 *   word      same Snowball stem        word*   prefix of the folded word
 *   =word     exactly this word         <name>  any way of saying a concept
 *   a b       consecutive words         a .. b  up to 4 words between
 *   (a|b c)   alternatives              a & b   all parts in one sentence,
 *   a && b    all parts in the message            any order (top level;
 *   a & !b    a sentence with a, without b        also in concepts)
 * A part is void when a negator (no, not, never, without, ...) stands
 * within 5 words before it in its clause (unless the part says a negation
 * itself: "can't feel", "hope I don't wake up"), when a gap ('..') would
 * pass over a negator, or when an `unless` pattern of the same rule
 * overlaps it.
 * Below level emergency, a match about someone else ("my friend broke her
 * leg") does not fire when the message also speaks of the writer's own
 * trouble and does not ask about the other person's care (concepts
 * `someone-else` and `for-someone-else`).  Matches never cross a sentence
 * boundary except through '&&'.  A word of 6 letters or more that is no
 * English word and no rule word is read as the closest rule word through
 * the typo index (bot/typo.h).
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
#define SAFETY_CONCEPTS_FILE "safety/concepts.txt" /* relative to the knowledge folder */

struct safety_set;
struct pattern;
struct wordset;

struct safety_hit {
	int rule;          /* index into the rules given to safety_build */
	uint32_t off, len; /* source bytes of the words that fired it */
};

struct safety_input {
	const struct kb_rule *rules; /* borrowed during the call */
	size_t nrules;
	const char *concepts_file; /* name for messages; NULL: no concept file */
	const char *concepts;      /* its text */
	size_t concepts_len;
	const struct wordset *dict; /* English words (never typo-corrected), or NULL */
	struct problems *warnings;  /* for concepts no rule uses; NULL: into pr */
};

/*
 * Compile the concepts and every trigger and unless pattern.  Problems
 * (file:line:1) go to pr: a pattern that does not compile, an unknown
 * concept, a concept that refers to itself; a concept no rule uses goes to
 * the warnings.  The set is still returned (the caller decides whether
 * problems are fatal).
 */
struct safety_set *safety_build(struct text_ctx *t, const struct safety_input *in,
				struct problems *pr);
void safety_free(struct safety_set *s);

/* Per-thread buffers for safety_eval, reused from message to message. */
struct safety_scratch;
struct safety_scratch *safety_scratch_new(void);
void safety_scratch_free(struct safety_scratch *sc);

/*
 * Rules whose triggers fire on q, in rule index order, at most max.
 * Returns the number written.  Rules without triggers never fire.  Writes
 * the set's word ids into q's tokens (sid, xid) as a by-product.  sc:
 * scratch of the calling thread (NULL: a temporary one).
 */
size_t safety_eval(const struct safety_set *s, struct safety_scratch *sc, struct tokens *q,
		   struct safety_hit *out, size_t max);

/* Compile one pattern without concepts (for tests and `check`).  On error
 * returns NULL and writes a message to err. */
struct pattern *safety_compile(struct text_ctx *t, const char *src, char *err, size_t errlen);
void safety_pattern_free(struct pattern *p);
/* Does p fire on q (negation applied, no unless)?  For tests. */
int safety_pattern_fires(const struct pattern *p, const struct tokens *q);

#endif
