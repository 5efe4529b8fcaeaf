/*
 * distress: reads distress in a whole message from a weighted word list
 * (knowledge/safety/distress.txt), the safety net under the crisis rules.
 *
 * The rules name the ways of saying crisis that people who wrote them
 * thought of; new wording slips past them.  The word list is a logistic
 * model learned from every crisis and ordinary message in tests/data
 * (bench/distress.c, `make distress`): each word (a Snowball stem, as the
 * tokeniser gives it) and each pair of adjacent words carries a weight, in
 * thousandths; a message's score is the bias plus the weights of the words
 * and pairs it holds, each once.  When no crisis or talk-to-someone rule
 * fired, a score at `talk-at` or above adds the talk-to-someone line, at
 * `crisis-at` or above the crisis line (answer.c).  Both are set above the
 * score of every ordinary message the model was made from.
 *
 * File format (plain text, one entry per line, '#' starts a comment):
 *   bias -3.250        the score of a message with no listed word
 *   talk-at 0.412      a score from which the talk-to-someone line is added
 *   crisis-at 1.912    a score from which the crisis line is added
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

#define DISTRESS_FILE "safety/distress.txt" /* relative to the knowledge folder */
#define DISTRESS_FEATURES_MAX 20000

struct distress;

/* The list in text (file: its name for problems, file:line).  Problems go
 * to pr; returns NULL when there was any. t: with the knowledge's lexicon,
 * as messages are tokenised. */
struct distress *distress_parse(struct text_ctx *t, const char *file, const char *text, size_t len,
				struct problems *pr);
void distress_free(struct distress *d);

/* The features of q that keys (feature -> index) lists, each once, sorted
 * by index: index << 32 | the token it starts at << 1 | 1 for a pair (its
 * first place in the message).  buf: room for cap of them; *out is buf,
 * or a larger array to free when more were found.  Returns how many.  The
 * distress words and the classifier read a message through it. */
struct hmap;
size_t distress_found(const struct hmap *keys, const struct tokens *q, uint64_t *buf, size_t cap,
		      uint64_t **out);

/* A message's score in thousandths; off and len (may be NULL): the source
 * bytes of the word or pair that weighs most toward distress (0/0: none). */
long distress_score(const struct distress *d, const struct tokens *q, uint32_t *off, uint32_t *len);

/* How many words and pairs the list weighs. */
size_t distress_count(const struct distress *d);

enum distress_level { DISTRESS_NONE, DISTRESS_TALK, DISTRESS_CRISIS };
enum distress_level distress_level(const struct distress *d, long score);

/* The features of q as the list keys them ("stem" or "stem stem"), in
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

/* Thresholds and bias, in thousandths (for the trainer and tests). */
long distress_talk_at(const struct distress *d);
long distress_crisis_at(const struct distress *d);

#endif
