/*
 * followup: answering a message as part of its conversation, layered on
 * the one pipeline (answer_question) and the matcher's API.  With what the
 * bot remembers of the conversation (convo.h):
 *   - a reply to "did you mean 1. ... 2. ...?" ("2", "the first one",
 *     "deep tissue", the title) gets the answer chosen;
 *   - a message that does not stand alone ("and how often?", "is that the
 *     same as deep tissue?") is read again with the previous answer's
 *     topic (and, fainter, the one before it), and answered that way when
 *     the reading is better; a question of cost or place ("will I be
 *     charged?", "where is it?") by what the clinic facts' texts say; a
 *     reading the topic does not settle offers its best two;
 *   - any other message is answered alone, whatever came before.
 * The safety rules always read the message on its own: context never adds
 * a rule nor takes one away.
 * Pure: no I/O, no globals.
 */
#ifndef FOLLOWUP_H
#define FOLLOWUP_H

#include <stddef.h>

#include "answer.h"
#include "convo.h"

enum followup_how {
	FOLLOWUP_ALONE,  /* answered as it stands */
	FOLLOWUP_CHOICE, /* it picked one of the choices offered */
	FOLLOWUP_TOPIC   /* read with the previous answer's topic */
};

/*
 * Answer text (len bytes) in the conversation that mem (may be NULL:
 * none) remembers; as answer_question() otherwise.  Returns how it was
 * read.  Candidates' terms in out are spans of the message, never of the
 * topic.
 */
enum followup_how followup_answer(const struct knowledge *k, struct answer_ctx *c,
				  const struct match_params *p, const struct convo_memory *mem,
				  const char *text, size_t len, struct answer *out);

/*
 * What to remember after answering a: the answer given (not small talk;
 * the previous one is kept over small talk, a fallback and a reply led by
 * an emergency or crisis rule) with the one before it, and the choices it
 * offered.
 */
void followup_remember(const struct knowledge *k, const struct answer *a, struct convo_memory *mem);

/* "topic", "choice" or "alone". */
const char *followup_how_name(enum followup_how how);

#endif
