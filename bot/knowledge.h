/*
 * knowledge: one immutable version of the knowledge base (answers, safety
 * rules, synonyms, matcher index, compiled rules), assembled from file
 * contents already in memory.  Pure: the directory scan lives in kb.c.
 * Cross-file checks (duplicate ids and questions, unknown related ids) are
 * reported here.  Owned by the caller; free with knowledge_free().
 */
#ifndef KNOWLEDGE_H
#define KNOWLEDGE_H

#include <stddef.h>

#include "classify.h"
#include "clinic.h"
#include "distress.h"
#include "kb_parse.h"
#include "match.h"
#include "safety.h"
#include "text.h"

struct kb_file {
	char *path; /* as shown in messages, e.g. knowledge/massage/x.md */
	char *rel;  /* relative to the knowledge folder, e.g. massage/x.md */
	char *data;
	size_t len;
	long long mtime; /* last modified, seconds since 1970; 0 if unknown */
};

struct wordset;

enum kb_file_kind {
	KBF_ANSWER,
	KBF_RULE,
	KBF_SYNONYMS,
	KBF_CLINIC,
	KBF_CONCEPTS,
	KBF_RULE_WORDS,
	KBF_CLASSIFIER,
	KBF_MESSAGE,
	KBF_IGNORED
};

struct knowledge {
	struct kb_entry *entries;
	size_t nentries;
	struct kb_rule *rules;
	size_t nrules;
	struct kb_syns syns;
	struct clinic clinic;                     /* the profile (all empty without clinic.yaml) */
	struct kb_message messages[KB_MSG_COUNT]; /* body NULL if its file is missing */
	struct problems warnings; /* not errors: empty profile values, the example */
	struct match_index *match;
	struct safety_set *safety;
	struct distress *distress; /* the rule words; NULL without safety/rule-words.txt */
	struct classifier *clf;    /* NULL without classifier.txt */
	int *clf_entry;   /* per class: its answer, KNOWLEDGE_OOS, or -1 (no such answer) */
	int *entry_class; /* per answer: its class, or -1 (the model does not know it) */
	const struct wordset *dict; /* borrowed from knowledge_build's caller, or NULL */
	int crisis, disclaimer;     /* rule indices, -1 if absent */
	char missing[256];          /* required rule ids not present, space separated */
};

/* How the problem of a related id that no answer has begins. */
#define KNOWLEDGE_RELATED_MISSING "related id "

/* clf_entry of the classifier's out-of-scope class */
#define KNOWLEDGE_OOS (-2)

/* Where the message files live, relative to the knowledge folder. */
#define KNOWLEDGE_MESSAGES_DIR "messages/"

/* The text of message m (with the clinic profile filled in), or "" in a
 * knowledge without it (kb_load reports a folder without it). */
const char *knowledge_message(const struct knowledge *k, enum kb_message_id m);

/* The nine rule ids the bot needs to start. */
extern const char *const knowledge_required_rules[];

enum kb_file_kind knowledge_file_kind(const char *rel);

/*
 * Parse and cross-check files (sorted by path by the caller).  Always
 * returns a knowledge (possibly partial); problems tell whether it is
 * usable: callers must not serve a knowledge built with problems.
 * Answer bodies are matched as written and served with the clinic
 * profile's values filled in (see clinic.h).
 */
/* dict: optional English word list for the matcher (see match_build). */
struct knowledge *knowledge_build(struct text_ctx *t, const struct kb_file *files, size_t n,
				  const struct wordset *dict, struct problems *pr);
void knowledge_free(struct knowledge *k);

/*
 * What a whole knowledge folder (root, as shown in messages) must have
 * beyond its files each being right: at least one answer, and every
 * message of messages/.  Not checked for one file on its own.
 */
void knowledge_check_folder(const struct knowledge *k, const struct kb_file *files, size_t n,
			    const char *root, struct problems *pr);

int knowledge_find(const struct knowledge *k, const char *id);
int knowledge_find_rule(const struct knowledge *k, const char *id);

#endif
