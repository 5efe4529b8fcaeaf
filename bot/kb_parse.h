/*
 * kb_parse: one knowledge file (Markdown with YAML front matter) or the
 * synonyms file, as bytes in memory, into records.  Pure: no I/O; every
 * problem is reported as file:line:col with a message, never printed.
 * Records and problems are owned by the caller (free with the _free calls).
 */
#ifndef KB_PARSE_H
#define KB_PARSE_H

#include <stddef.h>

#include <yaml.h>

#include "problems.h"

#define KB_BODY_MAX 1500 /* Unicode code points per answer body */
#define KB_QUESTIONS_MIN 3
/* One answer or rule file, and how deep brackets may nest in its front
 * matter: libyaml's time grows with the square of the nesting, so these
 * keep a reload of a hostile file well under a second. */
#define KB_FILE_MAX (64 * 1024)
/* safety/concepts.txt: plain lines, no YAML, read in one pass */
#define KB_CONCEPTS_MAX (256 * 1024)
/* classifier.txt: made by make classifier, one line per word */
#define KB_MODEL_MAX (1024 * 1024)
#define KB_FLOW_DEPTH_MAX 32
/* A safety rule's priority: lower comes first within its level. */
#define KB_PRIORITY_MIN 0
#define KB_PRIORITY_MAX 999

/* A string with the file line it came from. */
struct kb_str {
	char *s;
	unsigned line;
};

struct kb_list {
	struct kb_str *v;
	size_t n;
	int bad; /* some items were rejected */
};

struct kb_entry {
	char *file;
	struct kb_str id, title, source, reviewed;
	struct kb_list questions, tags, related;
	char *body; /* trimmed Markdown */
	unsigned body_line;
	int small_talk;  /* tagged small-talk: no disclaimer */
	int disclaimer;  /* 1 unless 'disclaimer: false' (clinic facts, not health advice) */
	long long mtime; /* the file's, set by knowledge_build: who to blame for a duplicate */
};

enum rule_level { LEVEL_EMERGENCY, LEVEL_URGENT, LEVEL_CAUTION, LEVEL_INFO };

struct kb_rule {
	char *file;
	struct kb_str id;
	enum rule_level level;
	int priority;
	int has_triggers;
	struct kb_list triggers, unless;
	struct kb_str in_doubt; /* the rule whose line comes when this one's is doubted */
	int in_doubt_ix;        /* its index among the knowledge's rules; -1: none */
	char *body;
	unsigned body_line;
};

/* The bot's own lines that are not answers, in knowledge/messages/ (one
 * file each, named after its id): staff edit them like answers. */
enum kb_message_id {
	KB_MSG_FALLBACK,
	KB_MSG_CHECKED_FIRST,
	KB_MSG_HELLO,
	KB_MSG_DID_YOU_MEAN,
	KB_MSG_COUNT
};

struct kb_message {
	char *file;
	struct kb_str id;
	int which; /* enum kb_message_id, -1 if the id is not one of them */
	char *body;
	unsigned body_line;
};

/* The ids of enum kb_message_id, in order: "fallback", "get-checked-first",
 * "hello", "did-you-mean". */
extern const char *const kb_message_ids[KB_MSG_COUNT];

/* A synonym group: terms[0] is the canonical term. */
struct kb_syn {
	struct kb_str *terms;
	size_t n;
};

struct kb_syns {
	char *file;
	struct kb_syn *v;
	size_t n;
};

/* Parse an answer file.  Returns 0, or -1 after adding problems. */
int kb_parse_entry(const char *file, const char *buf, size_t len, struct kb_entry *out,
		   struct problems *pr);
/* Parse a safety rule file.  Returns 0, or -1 after adding problems. */
int kb_parse_rule(const char *file, const char *buf, size_t len, struct kb_rule *out,
		  struct problems *pr);
/* Parse a message file (front matter: id; the body is the text).  Returns
 * 0, or -1 after adding problems. */
int kb_parse_message(const char *file, const char *buf, size_t len, struct kb_message *out,
		     struct problems *pr);
void kb_message_free(struct kb_message *m);
/* Parse synonyms text ("a = b = c" lines, # comments).  Returns 0 or -1. */
int kb_parse_synonyms(const char *file, const char *buf, size_t len, struct kb_syns *out,
		      struct problems *pr);

/*
 * Load YAML text into doc (libyaml's document API), the text's first line
 * being line first_line of file.  Returns 0, or -1 after adding the syntax
 * problem (nothing to delete then).  On 0 the caller calls
 * yaml_document_delete(doc).
 */
int kb_yaml_load(const char *file, const char *yaml, size_t len, unsigned first_line,
		 yaml_document_t *doc, struct problems *pr);
/* The file line of a node of a document loaded with kb_yaml_load. */
unsigned kb_yaml_line(const yaml_node_t *n, unsigned first_line);
/* The plain-text files' lines (safety/concepts.txt, the rule words, the
 * classifier): a copy of the line of data that starts at *pos, trailing
 * spaces, tabs and '\r' cut (free it), *pos moved past its newline; NULL
 * once all of data is read. */
char *kb_next_line(const char *data, size_t len, size_t *pos);
/* The closest of names[0..n) to word, at most two edits away, or NULL: for
 * "did you mean" hints. */
const char *kb_closest(const char *word, const char *const *names, size_t n);

void kb_entry_free(struct kb_entry *e);
void kb_rule_free(struct kb_rule *r);
void kb_syns_free(struct kb_syns *s);
const char *kb_level_name(enum rule_level l);

#endif
