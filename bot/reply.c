/*
 * reply: ordering and assembling the reply text (see reply.h).  Pure.
 */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

const char reply_in_doubt_rule[] = "see-a-doctor";

static void
para(struct strbuf *b, const char *text)
{
	if (b->len)
		sb_adds(b, "\n\n");
	sb_adds(b, text);
}

/* The answers: after a short hello when the message opened with a
 * greeting; two answers each under its title. */
static void
add_answers(struct strbuf *b, const struct knowledge *k, const struct match_result *mr, int kept)
{
	if (kept && mr->greeting >= 0 && strcmp(k->entries[mr->greeting].id.s, "greeting") == 0)
		para(b, knowledge_message(k, KB_MSG_HELLO));
	for (size_t a = 0; a < mr->nanswers; a++) {
		const struct kb_entry *e = &k->entries[mr->answers[a]];
		if (mr->nanswers > 1) {
			para(b, "**");
			sb_adds(b, e->title.s);
			sb_adds(b, "**");
		}
		para(b, e->body);
	}
}

/* "Did you mean ...?" with the closest answers' titles, numbered. */
static void
add_choices(struct strbuf *b, const struct knowledge *k, const struct match_result *mr,
	    struct reply *out)
{
	para(b, knowledge_message(k, KB_MSG_DID_YOU_MEAN));
	sb_adds(b, "\n");
	for (size_t c = 0; c < mr->nchoices; c++) {
		sb_addf(b, "\n%zu. %s", c + 1, k->entries[mr->choices[c]].title.s);
		out->offered[out->noffered++] = mr->choices[c];
	}
}

/* Does rule a go before rule b?  Emergency first, then urgent, caution,
 * info, whatever the priorities; within a level by priority, then by file
 * order. */
static int
rule_before(const struct knowledge *k, int a, int b)
{
	const struct kb_rule *x = &k->rules[a], *y = &k->rules[b];
	if (x->level != y->level)
		return x->level < y->level;
	if (x->priority != y->priority)
		return x->priority < y->priority;
	return a < b;
}

void
reply_build(const struct knowledge *k, const struct match_result *mr, const struct safety_hit *hits,
	    size_t nhits, struct reply *out)
{
	struct strbuf b = STRBUF_INIT;
	int order[REPLY_MAX_RULES];
	size_t n = 0;

	int crisis = 0, emergency_fired = 0;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < nhits; i++)
		emergency_fired |= k->rules[hits[i].rule].level == LEVEL_EMERGENCY;
	for (size_t i = 0; i < nhits && n < REPLY_MAX_RULES; i++) {
		if (hits[i].rule == k->disclaimer)
			continue;
		/* the in-doubt line says less than an emergency text already does */
		if (emergency_fired &&
		    strcmp(k->rules[hits[i].rule].id.s, reply_in_doubt_rule) == 0)
			continue;
		if (hits[i].rule == k->crisis)
			crisis = 1;
		else
			order[n++] = hits[i].rule;
	}
	/* insertion sort by (level, priority, index): stable and tiny */
	for (size_t i = 1; i < n; i++) {
		int v = order[i];
		size_t j = i;
		while (j > 0 && rule_before(k, v, order[j - 1])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	size_t i = 0;
	int emergency = 0;
	if (crisis) {
		para(&b, k->rules[k->crisis].body);
		out->shown[out->nshown++] = k->crisis;
	}
	for (; i < n && k->rules[order[i]].level == LEVEL_EMERGENCY; i++) {
		para(&b, k->rules[order[i]].body);
		out->shown[out->nshown++] = order[i];
		emergency = 1;
	}
	if (crisis) { /* both kinds of help, and nothing else */
		out->text = sb_steal(&b);
		return;
	}
	/* an answer (not small talk) is kept when rules fire; only a health
	 * answer brings the disclaimer by itself (not 'disclaimer: false') */
	int kept = 0, health = 0;
	for (size_t a = 0; a < mr->nanswers; a++) {
		const struct kb_entry *e = &k->entries[mr->answers[a]];
		kept |= !e->small_talk;
		health |= !e->small_talk && e->disclaimer;
	}
	if (emergency) {
		if (kept)
			para(&b, knowledge_message(k, KB_MSG_CHECKED_FIRST));
	} else if (mr->nanswers && (kept || n == 0)) {
		add_answers(&b, k, mr, kept);
	} else if (n == 0 && mr->nchoices) {
		add_choices(&b, k, mr, out);
	} else if (n == 0) {
		para(&b, knowledge_message(k, KB_MSG_FALLBACK));
	}
	for (; i < n; i++) {
		para(&b, k->rules[order[i]].body);
		out->shown[out->nshown++] = order[i];
	}
	if ((health || n > 0) && k->disclaimer >= 0 && out->nshown < REPLY_MAX_RULES) {
		para(&b, k->rules[k->disclaimer].body);
		out->shown[out->nshown++] = k->disclaimer;
	}
	out->text = sb_steal(&b);
}
