/*
 * report: groups similar unanswered questions so staff can see which
 * `questions:` to add.  Pure: takes questions and their logged best
 * candidate, returns groups; the CLI reads the log and prints.
 * Similarity is the Jaccard overlap of content-word stems (stop words
 * dropped, Snowball stems); a question joins the group whose first question
 * is the most similar, at or above REPORT_SIMILARITY, else starts its own.
 * Within a group, questions written the same way (the same words, whatever
 * the case and punctuation) are one phrasing, counted.  Deterministic.
 * Cost: near-linear in the number of questions (groups are found through
 * an index of their rarest words, and a new phrasing looks at no more than
 * REPORT_SCAN_MAX entries of that index, rarest words first), so the
 * largest log is grouped in well under a second.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

#include "text.h"

#define REPORT_SIMILARITY 0.5
#define REPORT_SCAN_MAX 500

struct report_item {
	const char *question;  /* borrowed */
	const char *candidate; /* best logged answer id, or NULL; borrowed */
	double score;
};

struct report_phrasing {
	size_t example; /* index of its first question */
	size_t count;
};

struct report_cluster {
	size_t count;                      /* questions */
	size_t example;                    /* index of the first question */
	struct report_phrasing *phrasings; /* most frequent first, then first seen */
	size_t nphrasings;
	const char *closest;  /* most frequent best candidate, or NULL */
	double closest_score; /* its best score in the cluster */
};

/* Clusters sorted by count (desc), then first appearance.  Caller frees
 * with report_free. */
struct report_cluster *report_cluster(struct text_ctx *t, const struct report_item *items, size_t n,
				      size_t *nclusters);
void report_free(struct report_cluster *c, size_t n);

/* One thumb from the feedback log. */
struct report_vote {
	const char *answer; /* borrowed */
	int helpful;
};

struct report_thumbs {
	const char *answer; /* borrowed from the votes */
	size_t down, up;
};

/* The thumbs per answer, most thumbs down first (then fewest up, then by
 * id); answers with only thumbs up come last.  Caller frees the array. */
struct report_thumbs *report_tally(const struct report_vote *v, size_t n, size_t *nout);

#endif
