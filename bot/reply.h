/*
 * reply: builds the reply text from the match decision and the fired
 * safety rules, in the fixed order: crisis first, followed only by the
 * emergency-level rules that also fired; else emergency-level rules, the
 * answer (or a "get checked first" line under emergency), urgent then
 * caution then other rules by priority, then the disclaimer.  The answer
 * part: a short hello first when the message opened with a greeting, two
 * answers each under its title, or "did you mean" with the closest
 * answers' titles numbered (kept in offered), or the fallback.
 * Pure.  The returned text is owned by the caller.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

#include "knowledge.h"
#include "match.h"
#include "safety.h"

#define REPLY_MAX_RULES 32

struct reply {
	char *text;
	int shown[REPLY_MAX_RULES]; /* rule indices in the order they appear */
	size_t nshown;
	int offered[MATCH_CHOICES]; /* answers offered as "did you mean", numbered from 1 */
	size_t noffered;
};

void reply_build(const struct knowledge *k, const struct match_result *mr,
		 const struct safety_hit *hits, size_t nhits, struct reply *out);

/* The rule that asks to see a doctor when a message holds both halves of a
 * red flag but no rule could be sure: left out when a rule of level
 * emergency fired (its text already asks for more). */
extern const char reply_in_doubt_rule[];

#endif
