/*
 * distress: the learned safety words, the net under the hand-written rules:
 * weighted word lists read from plain-text files, one model each.
 *
 * The rules name the ways of saying a red flag that the people who wrote
 * them thought of; new wording slips past them.  Each model here is a
 * logistic model learned from the tables of tests/data (bench/distress.c,
 * `make distress`): each word (a Snowball stem, as the tokeniser gives it)
 * and each pair of adjacent words carries a weight, in thousandths; a
 * message's score is the model's bias plus the weights of the words and
 * pairs it holds, each once.  Two files hold the models:
 *
 *   safety/distress.txt, the distress words: one model for crisis and
 *   talk-to-someone.  When neither rule fired, a score at `talk-at` or
 *   above adds the talk-to-someone line, at `crisis-at` or above the crisis
 *   line.
 *   safety/rule-words.txt, the rule words: one model per other rule, each
 *   in a section that starts with a line `rule ID`.  When rule ID did not
 *   fire, a score at its `at` or above adds its line.
 *
 * Every threshold lies above the score of every ordinary message the model
 * was made from (answer.c adds the lines).  All models share one table of
 * words, so that a message's words are looked up once for all of them.
 *
 * File format (plain text, one entry per line, '#' starts a comment):
 *   rule emergency     (rule words only) the section of rule emergency
 *   bias -3.250        the score of a message with no listed word
 *   talk-at 0.412      (distress words) the talk-to-someone line's threshold
 *   crisis-at 1.912    (distress words) the crisis line's threshold
 *   at 1.500           (rule words) the rule's line's threshold
 *   2.104 anymore      a word's weight
 *   1.377 end it       a pair of adjacent words' weight
 * Numbers have at most three decimals.  Pure: no I/O, no globals.
 */
#ifndef DISTRESS_H
#define DISTRESS_H

#include <stddef.h>
#include <stdint.h>

#include "problems.h"
#include "text.h"

#define DISTRESS_FILE "safety/distress.txt"     /* relative to the knowledge folder */
#define RULE_WORDS_FILE "safety/rule-words.txt" /* relative to the knowledge folder */
#define DISTRESS_FEATURES_MAX 20000             /* weights in one file */
#define DISTRESS_MODELS_MAX 32

/* One model: the distress words (rule -1) or one rule's words. */
struct distress_model {
	int rule;       /* the rule whose line it adds; -1: the distress words */
	long bias;      /* thousandths, as every number here */
	long at;        /* talk-at of the distress words; at of a rule's */
	long crisis_at; /* the distress words' crisis-at */
	size_t nw;      /* words and pairs it weighs */
};

struct distress;

/* Which rule a `rule ID` line names (its index), or -1 when the file may
 * not name it. */
typedef int (*distress_rule_fn)(const char *id, void *arg);

/* An empty set of models. */
struct distress *distress_new(void);

/* Reads one file (file: its name for problems, file:line) into d: the
 * distress words when rule_of is NULL, else rule words whose `rule` lines
 * rule_of resolves.  Problems go to pr; returns -1 when there was any (d
 * may then hold part of the file: free it).  t: with the knowledge's
 * lexicon, as messages are tokenised. */
int distress_read(struct distress *d, struct text_ctx *t, const char *file, const char *text,
		  size_t len, distress_rule_fn rule_of, void *arg, struct problems *pr);

/* The distress words alone (new and read): NULL when there were problems. */
struct distress *distress_parse(struct text_ctx *t, const char *file, const char *text, size_t len,
				struct problems *pr);
void distress_free(struct distress *d);

/* The features of q that keys (feature -> index) lists, each once, sorted
 * by index: index << 32 | the token it starts at << 1 | 1 for a pair (its
 * first place in the message).  buf: room for cap of them; *out is buf,
 * or a larger array to free when more were found.  Returns how many.  The
 * safety words and the classifier read a message through it. */
struct hmap;
size_t distress_found(const struct hmap *keys, const struct tokens *q, uint64_t *buf, size_t cap,
		      uint64_t **out);

/* Every model's score of q, from one look-up of its words: score[m] in
 * thousandths, off[m] and len[m] the source bytes of the word or pair that
 * weighs most toward model m (0/0: none). */
struct distress_scores {
	long score[DISTRESS_MODELS_MAX];
	uint32_t off[DISTRESS_MODELS_MAX], len[DISTRESS_MODELS_MAX];
};
void distress_score_all(const struct distress *d, const struct tokens *q,
			struct distress_scores *out);

/* The first model's score (see distress_score_all; off, len may be NULL). */
long distress_score(const struct distress *d, const struct tokens *q, uint32_t *off, uint32_t *len);

/* How many models, and model m. */
size_t distress_nmodels(const struct distress *d);
const struct distress_model *distress_model(const struct distress *d, size_t m);

/* How many words and pairs the models weigh, all together. */
size_t distress_count(const struct distress *d);

enum distress_level { DISTRESS_NONE, DISTRESS_TALK, DISTRESS_CRISIS };
/* The level of the distress words m at score. */
enum distress_level distress_level(const struct distress_model *m, long score);

/* The features of q as the files key them ("stem" or "stem stem"), in
 * order, a feature said twice given twice: fn(key, key length, first
 * token, tokens, arg).  The scorer and the trainer both read a message
 * through it, so they cannot differ. */
void distress_features(const struct tokens *q,
		       void (*fn)(const char *key, size_t n, size_t tok, size_t ntok, void *arg),
		       void *arg);

/* A number with at most three decimals at s, in thousandths, the end of it
 * in *end; -1 when s does not start with one.  (The classifier's file
 * writes its weights the same way.) */
int distress_milli(const char *s, const char **end, long *out);

#endif
