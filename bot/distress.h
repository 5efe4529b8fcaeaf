/*
 * distress: the learned safety words, the net under the hand-written rules:
 * weighted word lists read from a plain-text file, one model per rule.
 *
 * The rules name the ways of saying a red flag that the people who wrote
 * them thought of; new wording slips past them.  Each model here is a
 * logistic model learned from the tables of tests/data (bench/distress.c,
 * `make rulewords`): each word (a Snowball stem, as the tokeniser gives it)
 * and each pair of adjacent words carries a weight, in thousandths; a
 * message's score is the model's bias plus the weights of the words and
 * pairs it holds, each once.  safety/rule-words.txt holds one model per
 * rule (crisis and talk-to-someone too, each a model of its own), each in
 * a section that starts with a line `rule ID`.  When rule ID did not fire,
 * a score at its `at` or above adds its line (answer.c).  Every threshold
 * lies above the score of every ordinary message the model was made from.
 * All models share one table of words, so that a message's words are
 * looked up once for all of them.
 *
 * File format (plain text, one entry per line, '#' starts a comment):
 *   rule emergency     the section of rule emergency
 *   bias -3.250        the score of a message with no listed word
 *   at 1.500           the rule's line's threshold
 *   2.104 anymore      a word's weight
 *   1.377 end it       a pair of adjacent words' weight
 * Numbers have at most three decimals.
 *
 * One more section, `unless`, is the doubt model: a model of messages on
 * which the rules' lines were wrong (a film, homework, a joke, someone
 * else, a denial), learned from the safety rows that must not fire a rule
 * the rules fired.  It adds no line: where a line was given, a message of
 * at most `words` words whose score plus the line's rule's `for` weight
 * reaches `at` makes the line doubted (answer.c: the rule's in-doubt line
 * instead, or none).
 *   unless             the doubt model's section
 *   bias -4.100        as above
 *   at 2.000           as above
 *   words 30           longer messages are never doubted
 *   for emergency -0.410   added for a line of rule emergency
 *   1.920 documentary      a word's weight, as above
 * Pure: no I/O, no globals.
 */
#ifndef DISTRESS_H
#define DISTRESS_H

#include <stddef.h>
#include <stdint.h>

#include "problems.h"
#include "text.h"

#define RULE_WORDS_FILE "safety/rule-words.txt" /* relative to the knowledge folder */
#define DISTRESS_FEATURES_MAX 20000             /* weights in one file */
#define DISTRESS_MODELS_MAX 32
#define DISTRESS_FOR_MAX 32 /* `for` lines of the unless model */

/* One model: one rule's words, or the unless model. */
struct distress_model {
	int rule;  /* the rule whose line it adds; DISTRESS_UNLESS: the unless model */
	long bias; /* thousandths, as every number here */
	long at;   /* the threshold of its line (unless: of a doubt) */
	size_t nw; /* words and pairs it weighs */
	/* the unless model only: */
	long words;                     /* the most words of a message it doubts */
	int for_rule[DISTRESS_FOR_MAX]; /* per `for` line: its rule */
	long for_w[DISTRESS_FOR_MAX];   /* and its weight */
	size_t nfor;
};

#define DISTRESS_UNLESS (-1)

struct distress;

/* Which rule a `rule ID` line names (its index), or -1 when the file may
 * not name it. */
typedef int (*distress_rule_fn)(const char *id, void *arg);

/* An empty set of models. */
struct distress *distress_new(void);

/* Reads one file of rule words (file: its name for problems, file:line)
 * into d, its `rule` lines resolved by rule_of.  Problems go to pr; returns
 * -1 when there was any (d may then hold part of the file: free it).  t:
 * with the knowledge's lexicon, as messages are tokenised. */
int distress_read(struct distress *d, struct text_ctx *t, const char *file, const char *text,
		  size_t len, distress_rule_fn rule_of, void *arg, struct problems *pr);

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

/* The unless model's score of q for a line of rule (thousandths): the
 * model's score from s plus the rule's `for` weight. */
long distress_doubt(const struct distress_model *m, const struct distress_scores *s, size_t index,
		    int rule);

/* The unless model (its index in *index), or NULL when the file has none. */
const struct distress_model *distress_unless(const struct distress *d, size_t *index);

/* How many models, and model m. */
size_t distress_nmodels(const struct distress *d);
const struct distress_model *distress_model(const struct distress *d, size_t m);

/* How many words and pairs the models weigh, all together. */
size_t distress_count(const struct distress *d);

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
