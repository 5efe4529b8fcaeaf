/*
 * match: the intent matcher.  Built once per knowledge version from the
 * answers' questions and titles (plus synonyms); answers a tokenised
 * question with ranked intents and an answer/fallback decision.
 *
 * Model: IDF-weighted term overlap.  Each phrasing p of an intent is scored
 * against the query q by how much of the query's weight it explains (query
 * coverage) and how much of its own weight the query covers (phrasing
 * coverage), combined as a weighted geometric mean; an intent-level bag of
 * all its terms (its answer text's too, weaker) adds recall for long,
 * rambling questions.  Unknown query words count against coverage by kind
 * (real words and names most, chat words little), so off-topic questions
 * score low.  Typos are resolved through a symmetric-delete index over the
 * vocabulary and compounds ("backpain") are split, both only for words the
 * index does not know.  Postings lists keep the cost proportional to the
 * query, not the knowledge size.
 *
 * A message is read as clauses (questions, statements, small talk): as a
 * whole and with its statements as context (at two weights; each answer
 * keeps its best ranking score and its surest confidence), each question
 * alone when there are several (two answers for two questions).  A candidate's score is the
 * confidence that it is right: a logistic function of its fit, the share
 * and weight explained, the unknown words and its lead (see match_cand).
 *
 * Pure: no I/O, no globals.  The index is immutable after match_build and
 * may be shared; a match_scratch holds per-caller buffers (one per thread).
 */
#ifndef MATCH_H
#define MATCH_H

#include <stddef.h>

#include "kb_parse.h"
#include "text.h"

#define MATCH_TOP 3
#define MATCH_TERMS_MAX 12

struct match_index;
struct match_scratch;

/* Model constants; match_default_tuning holds the values chosen with
 * `massagebot eval` (bench/tune.c searches them). */
struct match_tuning {
	double q_exp;                     /* weight of query coverage vs phrasing coverage */
	double q_exp_small;               /* the same for small-talk intents */
	double bag_weight;                /* share of the intent-level bag score */
	double unknown_frac;              /* an unknown word weighs this much of the mean idf */
	double unknown_common_frac;       /* the same for an unknown common English word */
	double common_weight;             /* idf factor for common English words */
	double c_typo1, c_typo2, c_split; /* credit for words read through fixes */
	double body_weight;               /* bag credit for words found only in the answer text */
	double stop_weight;               /* idf factor for function words (how, who, not, ...) */
	double unknown_exp;               /* n unknown words weigh n^unknown_exp */
	double unknown_other_frac;        /* unknown words not in the dictionary (slang) */
	double context_weight;            /* statements around a question weigh this much */
	double near_weight;               /* ... and this much in a second such reading */
	double other_weight;    /* the rest of the message, reading one of two questions */
	double two_margin;      /* each of two answers scores this much over threshold */
	double evidence_prior;  /* mass (in mean idfs) added to every question */
	double offer_band;      /* below threshold by less: offer the closest answers */
	double domain_weight;   /* added to every known word's idf */
	double context_unknown; /* unknown words of statements around a question, as a share
				   of context_weight */
	double focus_min;       /* known words a question needs to be read with its statements as
				   context */
	double title_weight;    /* share of the ranking score for saying the answer's title */
	/* a clear lead below the threshold is answered: ranked first by
	   lead_gap over the next, explaining lead_cover of the message, its
	   confidence at least lead_floor, and lead_terms words matched or
	   two with less than lead_unknown of words no answer knows */
	double lead_gap, lead_cover, lead_floor, lead_terms, lead_unknown;
	/* confidence = logistic(conf . match_features()) */
#define MATCH_CONF_FEATURES 9
	double conf[MATCH_CONF_FEATURES];
};

extern const struct match_tuning match_default_tuning;

struct match_params {
	double threshold; /* below: fallback */
	double margin;    /* confidence of the best minus the next below this: ask which */
};

#define MATCH_DEFAULT_THRESHOLD 0.75
#define MATCH_DEFAULT_MARGIN 0.02

struct match_cand {
	int intent;      /* index into the entries passed to match_build */
	double score;    /* confidence that it is the right answer, 0..1 */
	double raw;      /* the ranking score, 0..1 (1: written exactly as a phrasing) */
	double fit;      /* how well its best phrasing fits the question, 0..1 */
	double cover;    /* the share of the question's weight its words explain */
	double evidence; /* the weight they explain, in mean word weights */
	double unknown;  /* the question's words no answer knows, the same */
	double missing;  /* its weightiest word this answer does not know, the same */
	double title;    /* the share of its title (or id) the question says, 0..1 */
	size_t nterms;
	unsigned short terms[MATCH_TERMS_MAX]; /* query token indices */
};

#define MATCH_ANSWERS_MAX 2 /* answers given to one message (two questions) */
#define MATCH_CHOICES 2     /* answers offered by "did you mean ...?" */

struct match_result {
	int intent; /* the (first) answer given, -1: none */
	size_t nanswers;
	int answers[MATCH_ANSWERS_MAX]; /* every answer given, in the message's order */
	int ambiguous;                  /* no answer, but the closest are offered: */
	size_t nchoices;
	int choices[MATCH_CHOICES]; /* "did you mean 1. ... 2. ...?", in this order */
	int greeting;               /* small talk the message opens with before a question, or -1 */
	double score;               /* the first answer's (else the top candidate's) score, 0..1 */
	size_t ncand;
	struct match_cand cand[MATCH_TOP];
};

struct wordset;

/* Sees each question of each entry (not titles or bodies), in order,
 * tokenised as the index reads it. */
struct match_question_hook {
	void (*fn)(void *ctx, size_t entry, size_t question, const struct tokens *tk);
	void *ctx;
};

/*
 * Build the index.  entries are borrowed only during the call.  Synonym
 * problems (a term in two groups) are added to pr.  Returns a new index;
 * free with match_free.
 * dict (may be NULL): English words; an unknown word found there is a real
 * word the knowledge does not use, never a typo to correct.  Borrowed: it
 * must outlive the index.
 * hook (may be NULL): the knowledge's duplicate-question check uses it
 * instead of tokenising every question a second time.
 */
struct match_index *match_build(struct text_ctx *t, const struct kb_entry *entries, size_t n,
				const struct kb_syns *syns, const struct wordset *dict,
				const struct match_tuning *tu, struct problems *pr,
				const struct match_question_hook *hook);
void match_free(struct match_index *m);

struct match_scratch *match_scratch_new(void);
void match_scratch_free(struct match_scratch *s);

/*
 * Answer a tokenised message: its clauses found (text: the string q was
 * made from, for its punctuation; may be NULL), the intents ranked for
 * the message with its questions first, and the decision: one answer, two
 * for two questions, the closest offered ("did you mean"), or none.
 */
void match_query(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
		 const char *text, size_t len, const struct match_params *p,
		 struct match_result *out);

/* What a reader after the matcher (the classifier, the conversation) makes
 * of a result: the one answer entry with confidence score, none (the
 * fallback), or "did you mean" a or b (no answer). */
void match_result_answer(struct match_result *mr, int entry, double score);
void match_result_none(struct match_result *mr);
void match_result_ask(struct match_result *mr, int a, int b, double score);

/*
 * The same for a message that may lean on earlier answers: each topic
 * t[i] (an answer's title) is the tokens of q from t[i].from up to the
 * next topic's from (the last: to the end), in increasing order after the
 * message's own words; each is read beside the message as context of its
 * weight (0..1): never a question, never small talk, never written
 * exactly as a phrasing.
 */
struct match_topic {
	size_t from;
	double weight;
};
void match_query_topic(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
		       const char *text, size_t len, const struct match_topic *t, size_t nt,
		       const struct match_params *p, struct match_result *out);

/* What a candidate's confidence is made of: 1, raw, fit, cover,
 * log(evidence + 0.1), log(1 + unknown), gap (its raw score minus the next
 * best's; for the others, minus the best's), missing, title. */
void match_features(const struct match_cand *c, double gap, double x[MATCH_CONF_FEATURES]);

/*
 * If the query token at index i was understood through a typo fix or a
 * split, write the word(s) it was read as into buf and return 1.
 */
int match_token_reading(const struct match_index *m, struct match_scratch *s, size_t i, char *buf,
			size_t len);

#endif
