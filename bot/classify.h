/*
 * classify: a second reader of which answer a message asks for, learned
 * from examples (knowledge/classifier.txt), beside the matcher.
 *
 * The matcher scores a message against each answer's phrasings; on
 * messages nobody tuned it on it answers some wrongly and misses others.
 * The classifier is a multinomial logistic model over the same features
 * the rule words use (word stems and pairs of adjacent stems,
 * distress_features), one class per answer id and one for "out of scope",
 * made by bench/classify.c (make classifier) from the answers' phrasings
 * and titles and every labelled question in tests/data.  answer.c asks it
 * after the matcher: a confident class the matcher did not answer turns
 * the matcher's answer into "did you mean" (the two, the classifier's
 * first) or, for "out of scope", into the fallback; a confident answer
 * where the matcher had none is given.  Only answers the model knows take
 * part: a new answer file is the matcher's alone until the model is made
 * again.
 *
 * File format (one entry per line, '#' starts a comment):
 *   classes greeting help thanks ... -     the classes, "-": out of scope
 *   bias 0:-1.250 1:0.300 ...              per class (index:weight)
 *   take-at 0.700                          probabilities from which the
 *   veto-at 0.700                          model gives or vetoes an answer
 *   overrule-at 0.950                      optional: from which it replaces
 *                                          the matcher's answer outright
 *   agree-at 0.600                         optional: from which it answers
 *                                          where the matcher asked "did you
 *                                          mean" with the model's answer first
 *   massag 3:1.250 17:-0.500               a stem or "stem stem", then its
 *                                          weights (class index:weight)
 * Weights have at most three decimals.  Pure: no I/O, no globals.
 */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include <stddef.h>

#include "problems.h"
#include "text.h"

#define CLASSIFY_FILE "classifier.txt" /* relative to the knowledge folder */
#define CLASSIFY_CLASSES_MAX 250
#define CLASSIFY_OUT_OF_SCOPE "-"
#define CLASSIFY_CONTEXT_MAX 32 /* the context reader's weights at most */
#define CLASSIFY_NEVER 2.0      /* a threshold no probability reaches */

struct classifier;

/* The model in text; problems (file:line) go to pr; NULL when any. */
struct classifier *classify_parse(const char *file, const char *text, size_t len,
				  struct problems *pr);
void classify_free(struct classifier *c);

size_t classify_nclasses(const struct classifier *c);
const char *classify_class(const struct classifier *c, size_t i); /* id, or "-" */
double classify_take_at(const struct classifier *c);
double classify_veto_at(const struct classifier *c);
double classify_overrule_at(const struct classifier *c);           /* CLASSIFY_NEVER when unset */
double classify_agree_at(const struct classifier *c);              /* CLASSIFY_NEVER when unset */
void classify_set_agree_at(struct classifier *c, double agree_at); /* for the trainers */

/* For the trainers: the three thresholds of a model in memory. */
void classify_set_thresholds(struct classifier *c, double take_at, double veto_at,
			     double overrule_at);

/* The context reader's weights (CLASSIFY_CONTEXT_MAX, unlisted ones 0)
 * and its margin, NULL when the file has none. */
const double *classify_context(const struct classifier *c, double *margin);

/* Every class's probability for q into prob (room for classify_nclasses);
 * returns the likeliest. */
size_t classify_probs(const struct classifier *c, const struct tokens *q, double *prob);

/* The likeliest class of q and its probability (0..1). */
size_t classify_top(const struct classifier *c, const struct tokens *q, double *prob);

#endif
