/*
 * report: groups similar unanswered questions so staff can see which
 * `questions:` to add.  Pure: takes questions and their logged best
 * candidate, returns clusters; the CLI reads the log and prints.
 * Similarity is the Jaccard overlap of content-word stems (stop words
 * dropped, Snowball stems); a question joins the most similar cluster at or
 * above REPORT_SIMILARITY, else starts its own.  Deterministic.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

#include "text.h"

#define REPORT_SIMILARITY 0.5

struct report_item {
	const char *question;  /* borrowed */
	const char *candidate; /* best logged answer id, or NULL; borrowed */
	double score;
};

struct report_cluster {
	size_t count;
	size_t example;       /* index of the first question in the cluster */
	size_t *members;      /* item indices, in input order */
	const char *closest;  /* most frequent best candidate, or NULL */
	double closest_score; /* its best score in the cluster */
};

/* Clusters sorted by count (desc), then first appearance.  Caller frees
 * with report_free. */
struct report_cluster *report_cluster(struct text_ctx *t, const struct report_item *items, size_t n,
				      size_t *nclusters);
void report_free(struct report_cluster *c, size_t n);

#endif
