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
 * Then the context reader, learned from the dialogue tables (bench/context.c;
 * its weights are lines of the classifier's file), has the last word on a
 * message after an answer: the rules' reading stands unless it picks
 * another answer (or none) by a clear margin; a "did you mean" the rules
 * offer stays.
 * The safety rules always read the message on its own: context never adds
 * a rule nor takes one away.
 * Pure: no I/O, no globals.
 */
#ifndef FOLLOWUP_H
#define FOLLOWUP_H

#include <stddef.h>

#include "answer.h"
#include "convo.h"
#include "strbuf.h"

enum followup_how {
	FOLLOWUP_ALONE,  /* answered as it stands */
	FOLLOWUP_CHOICE, /* it picked one of the choices offered */
	FOLLOWUP_TOPIC,  /* read with the previous answer's topic */
	FOLLOWUP_CONTEXT /* the context reader overruled the rules' reading */
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

/* The message read alone: its one answer (-1: none), and the weight of its
 * words that no answer knows (match_cand.unknown). */
struct followup_alone {
	int answer;
	double unknown;
};

/*
 * The rules' reading alone (followup_answer without the context reader);
 * *read_alone: the message read alone.
 */
enum followup_how followup_rules(const struct knowledge *k, struct answer_ctx *c,
				 const struct match_params *p, const struct convo_memory *mem,
				 const char *text, size_t len, struct answer *out,
				 struct followup_alone *read_alone);

/*
 * The context reader's view of a message q (its text: question) in a
 * conversation whose last answer was topic (and before it, before; -1:
 * none): per class of the classifier, FOLLOWUP_FEATURES numbers, and in
 * cand whether the reader weighs that class at all (out of scope, the
 * answers the features name, the likeliest few).  rules: the rules' one
 * answer with memory (-1: none).  f and cand: room for classify_nclasses
 * rows.  Returns the number of rows (0: no classifier).
 */
enum followup_feature {
	FX_P_ALONE,          /* the classifier's log-probability of the message alone */
	FX_P_WITH_TOPIC,     /* ... of the message with the topic's title after it */
	FX_FIRST_WITH_TOPIC, /* the likeliest class with the topic */
	FX_TOPIC,            /* the class is the topic */
	FX_BEFORE,           /* ... the answer before it */
	FX_RELATED,          /* ... one of the topic's related: answers */
	FX_RULES,            /* ... the rules' answer with memory (out of scope: none) */
	FX_READ_ALONE,       /* ... the message's answer read alone */
	FX_ALONE_SURE,       /* ... that, times the log-probability of the likeliest class */
	FX_TOPIC_BACK,       /* the topic, and the message points back ("does it hurt?") */
	FX_TOPIC_SHORT,      /* ... is five words or fewer */
	FX_TOPIC_OPENER,     /* ... opens as a continuation ("and ...", "what about ...") */
	FX_TOPIC_BARE,       /* ... asks of an aspect and names no subject ("how much?") */
	FX_TOPIC_NO_OWN,     /* ... has no content word of its own ("why?") */
	FX_TOPIC_COMPARE,    /* ... compares ("better than", "the same as") */
	FX_TOPIC_ALONE_SURE, /* ... times the log-probability of the likeliest class alone */
	FX_TOPIC_UNKNOWN,    /* ... times the weight of its words no answer knows */
	FX_TOPIC_FOREIGN,    /* ... has words of its own and alone the topic is unlikely */
	FX_TOPIC_P_OOS,      /* ... times its probability alone of being out of scope */
	FX_OOS,              /* the class is out of scope */
	FX_OOS_UNKNOWN,      /* ... times the weight of the words no answer knows */
	FX_OOS_P,            /* ... times its probability alone */
	FOLLOWUP_FEATURES
};
size_t followup_features(const struct knowledge *k, struct answer_ctx *c, const struct tokens *q,
			 const char *question, int topic, int before,
			 const struct followup_alone *alone, int rules,
			 double (*f)[FOLLOWUP_FEATURES], unsigned char *cand);

/* The message as the context reader gives it to the classifier: question,
 * a line break, the title of answer topic (appended to b).  The classifier
 * learns follow-up turns in this form (bench/classify.c). */
void followup_with_title(const struct knowledge *k, const char *question, int topic,
			 struct strbuf *b);

/* The context reader's score of one class: weights w times its features x. */
double followup_weigh(const double *w, const double *x);

/* The classifier's class of answer e (KNOWLEDGE_OOS: out of scope), -1 if
 * the model has none. */
int followup_class_of(const struct knowledge *k, int e);

/*
 * The answer the context reader with weights w picks from the features
 * (cand: the classes it weighs): the rules' one answer heur (-1: none,
 * KNOWLEDGE_OOS is returned for it) unless another class scores at least
 * margin more; KNOWLEDGE_OOS for out of scope.
 */
int followup_context_pick(const struct knowledge *k, const double *w, double margin,
			  double (*f)[FOLLOWUP_FEATURES], const unsigned char *cand, size_t n,
			  int heur);

/* Does the context reader leave this reading of the rules alone?  A "did
 * you mean" (guessing one was as often wrong as right) and a message that
 * is word for word one of its answer's phrasings ("help", "thanks"). */
int followup_reader_leaves(const struct match_result *mr);

/* "topic", "choice", "context" or "alone". */
const char *followup_how_name(enum followup_how how);

#endif
