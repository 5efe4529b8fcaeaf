/*
 * answer: the one pipeline from a raw question to a reply, used by every
 * front end (ask, chat, eval, the chat platforms): repair UTF-8, cut at
 * 4 KB for matching, tokenise, match, run the safety rules over the whole
 * message, build the reply.  Also the `ask --json` encoding.  Pure: no I/O, no globals.  An
 * answer_ctx holds per-thread scratch (stemmer, buffers); a knowledge is shared read-only.
 */
#ifndef ANSWER_H
#define ANSWER_H

#include <stddef.h>

#include "knowledge.h"
#include "match.h"
#include "reply.h"
#include "safety.h"
#include "text.h"

#define ANSWER_INPUT_MAX 4096 /* bytes; longer input is cut */

struct answer_ctx {
	struct text_ctx *text;
	struct match_scratch *ms;
	struct tokens tk;
	struct tokens stk; /* safety's windows of an over-long message */
	struct safety_scratch *ss;
};

/* A line the unless model doubted (distress.h): rule's line, given to
 * rule `to` instead (-1: to none), at the model's score (thousandths). */
struct answer_doubt {
	int rule, to;
	long score;
};

struct answer {
	char *question; /* repaired, cut; owned */
	char *full;     /* repaired whole message when it was cut, else NULL; owned */
	int truncated;
	struct match_result mr;
	const char *intent_id;                   /* borrowed from the knowledge, NULL on fallback */
	struct safety_hit hits[REPLY_MAX_RULES]; /* spans of full (or question) */
	size_t nhits;
	struct answer_doubt doubts[REPLY_MAX_RULES]; /* lines taken off or made milder */
	size_t ndoubts;
	struct reply reply; /* reply.text owned */
	/* candidates' matched words, as spans of question */
	uint32_t term_off[MATCH_TOP][MATCH_TERMS_MAX], term_len[MATCH_TOP][MATCH_TERMS_MAX];
	/* how words were read (typo fixes), for --explain: "tisue->tissue" */
	char *readings;
};

/* Returns -1 if libstemmer lacks English. */
int answer_ctx_init(struct answer_ctx *c);
void answer_ctx_free(struct answer_ctx *c);

void answer_question(const struct knowledge *k, struct answer_ctx *c, const struct match_params *p,
		     const char *text, size_t len, struct answer *out);
void answer_free(struct answer *a);

/* The safety checks' reading of a long message (s, len bytes, valid
 * UTF-8): the window that starts at byte start ends at the returned byte,
 * the next one starts at *next (len: none).  A message of at most
 * ANSWER_INPUT_MAX bytes is one window; a longer one is read in windows of
 * at most that many bytes that end at a sentence end where one is near,
 * else overlap, so a red flag at the end of a long story still fires.  The
 * trainers of the learned safety words score messages through it too. */
size_t answer_window(const char *s, size_t len, size_t start, size_t *next);

/* One-line JSON as specified for `ask --json`; caller frees. */
char *answer_json(const struct knowledge *k, const struct answer *a, int explain);

/*
 * A reply as a chat platform shows it: the text and what goes with it,
 * copied out of the knowledge so that it outlives the version it came
 * from.  Owned; free with chat_reply_free().
 */
#define CHAT_RELATED_MAX 4

struct chat_item {
	char *id, *title;
};

struct chat_reply {
	char *text;
	char *intent;                  /* the (first) answer given, or NULL */
	int small_talk;                /* ... and it is greeting, thanks or help */
	char *safety[REPLY_MAX_RULES]; /* ids of the rules in the text, in its order */
	size_t nsafety;
	/* the most serious of them: "crisis", "emergency", "urgent", "caution",
	 * or NULL (none, or only info rules such as the disclaimer); static */
	const char *level;
	/* the related answers of the answers given, in order, without those
	 * given; none under a crisis or emergency reply */
	struct chat_item related[CHAT_RELATED_MAX];
	size_t nrelated;
	struct chat_item choices[MATCH_CHOICES]; /* "did you mean", numbered from 1 */
	size_t nchoices;
};

/* a's reply for a chat platform; takes a->reply.text over. */
void answer_chat(const struct knowledge *k, struct answer *a, struct chat_reply *out);
void chat_reply_free(struct chat_reply *r);

#endif
