/*
 * knowledge: assembling and cross-checking one knowledge version (see
 * knowledge.h).  Pure.
 */
#include "knowledge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "strbuf.h"
#include "xmem.h"

const char *const knowledge_required_rules[] = {
    "emergency",          "crisis",     "trauma",     "systemic", "nerve-symptoms", "pregnancy",
    "medical-conditions", "medication", "disclaimer", NULL,
};

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

enum kb_file_kind
knowledge_file_kind(const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if (strcmp(rel, "synonyms.txt") == 0)
		return KBF_SYNONYMS;
	if (strcmp(rel, CLINIC_FILE) == 0)
		return KBF_CLINIC;
	if (strcmp(rel, SAFETY_CONCEPTS_FILE) == 0)
		return KBF_CONCEPTS;
	if (strcmp(rel, RULE_WORDS_FILE) == 0)
		return KBF_RULE_WORDS;
	if (strcmp(rel, CLASSIFY_FILE) == 0)
		return KBF_CLASSIFIER;
	/* README.md and SOURCES.md are notes for people, not answers */
	if (!ends_with(rel, ".md") || strcasecmp(base, "README.md") == 0 ||
	    strcasecmp(base, "SOURCES.md") == 0 || base[0] == '.')
		return KBF_IGNORED;
	if (strncmp(rel, "safety/", 7) == 0)
		return KBF_RULE;
	if (strncmp(rel, KNOWLEDGE_MESSAGES_DIR, strlen(KNOWLEDGE_MESSAGES_DIR)) == 0)
		return KBF_MESSAGE;
	return KBF_ANSWER;
}

const char *
knowledge_message(const struct knowledge *k, enum kb_message_id m)
{
	return k->messages[m].body ? k->messages[m].body : "";
}

int
knowledge_find(const struct knowledge *k, const char *id)
{
	for (size_t i = 0; i < k->nentries; i++)
		if (k->entries[i].id.s && strcmp(k->entries[i].id.s, id) == 0)
			return (int)i;
	return -1;
}

int
knowledge_find_rule(const struct knowledge *k, const char *id)
{
	for (size_t i = 0; i < k->nrules; i++)
		if (k->rules[i].id.s && strcmp(k->rules[i].id.s, id) == 0)
			return (int)i;
	return -1;
}

/*
 * Which of two answers that clash (same id, same question) gets the error:
 * the one saved clearly later (the one just edited), else the later one in
 * path order.  "Clearly": files written together (a checkout, a copy of the
 * folder) differ by less than a few seconds and keep the path order.
 */
#define BLAME_SLACK_S 3

static int
blame_first(const struct kb_entry *first, const struct kb_entry *second)
{
	return first->mtime > second->mtime + BLAME_SLACK_S;
}

static void
check_duplicate_rule_ids(const struct knowledge *k, struct problems *pr)
{
	struct hmap seen;
	hmap_init(&seen);
	for (size_t i = 0; i < k->nrules; i++) {
		const struct kb_rule *r = &k->rules[i];
		if (r->id.s == NULL)
			continue;
		int ins;
		int *first = hmap_put(&seen, r->id.s, strlen(r->id.s), (int)i, &ins);
		if (!ins)
			problems_add(pr, r->file, r->id.line, 1,
				     "rule id '%s' is already used in %s:%u", r->id.s,
				     k->rules[*first].file, k->rules[*first].id.line);
	}
	hmap_free(&seen);
}

/* Each rule's `in-doubt` (the line given instead when the rule words'
 * unless model doubts the rule's: distress.h) resolved: a rule of the
 * knowledge, not the disclaimer, not the rule itself, and one that names
 * none of its own (a doubted line is replaced once). */
static void
resolve_in_doubt(struct knowledge *k, struct problems *pr)
{
	for (size_t i = 0; i < k->nrules; i++) {
		struct kb_rule *r = &k->rules[i];
		if (r->in_doubt.s == NULL)
			continue;
		int to = knowledge_find_rule(k, r->in_doubt.s);
		const char *why =
		    to < 0         ? "no rule has that id"
		    : to == (int)i ? "a rule cannot stand in for itself"
		    : to == knowledge_find_rule(k, "disclaimer") ? "the disclaimer is not a warning"
		    : k->rules[to].in_doubt.s ? "that rule names an in-doubt rule of its own"
					      : NULL;
		if (why)
			problems_add(pr, r->file, r->in_doubt.line, 1, "'in-doubt: %s': %s",
				     r->in_doubt.s, why);
		else
			r->in_doubt_ix = to;
	}
}

/*
 * The cross-file checks of answers.  Duplicate questions are found by
 * match_build's hook, with each question as it tokenises it: two questions
 * are the same when their words are (lowercased, accent-folded, without
 * punctuation, contractions expanded: "What's Swedish massage?" == "what is
 * swedish massage").  A copied file is reported once, by its id, with the
 * number of questions it repeats; other files list their first few
 * duplicates and count the rest.
 */
#define DUP_LISTED_MAX 3

struct dup_check {
	const struct knowledge *k;
	struct problems *pr;
	struct hmap seen; /* question key -> index into refs */
	struct {
		size_t e, q;
	} * refs; /* (entry, question) of each first occurrence */
	size_t nrefs, caprefs;
	struct strbuf key;
	int *copy_of;     /* per entry: the answer whose id it repeats, or -1 */
	size_t *listed;   /* per entry: duplicate questions reported */
	size_t *unlisted; /* per entry: duplicate questions counted only */
	unsigned *unlisted_line;
};

static void
check_question(void *ctx, size_t entry, size_t question, const struct tokens *tk)
{
	struct dup_check *d = ctx;
	const struct kb_entry *e = &d->k->entries[entry];
	const struct kb_str *qs = &e->questions.v[question];
	d->key.len = 0;
	for (size_t i = 0; i < tk->n; i++) {
		if (i)
			sb_addc(&d->key, ' ');
		sb_add(&d->key, tk->v[i].surf, tk->v[i].surf_len);
	}
	if (d->key.len == 0) {
		problems_add(d->pr, e->file, qs->line, 1, "question '%s' has no words", qs->s);
		return;
	}
	int ins;
	int *first = hmap_put(&d->seen, d->key.s, d->key.len, (int)d->nrefs, &ins);
	if (ins) {
		d->refs = xgrow(d->refs, &d->caprefs, d->nrefs + 1, sizeof *d->refs);
		d->refs[d->nrefs].e = entry;
		d->refs[d->nrefs].q = question;
		d->nrefs++;
		return;
	}
	size_t fi = d->refs[*first].e;
	const struct kb_entry *fe = &d->k->entries[fi];
	const struct kb_str *fq = &fe->questions.v[d->refs[*first].q];
	/* report at the file to blame, pointing at the other */
	size_t bi = entry;
	const struct kb_entry *be = e, *oe = fe;
	const struct kb_str *bq = qs, *oq = fq;
	if (fi != entry && blame_first(fe, e)) {
		bi = fi;
		be = fe;
		oe = e;
		bq = fq;
		oq = qs;
	}
	if (d->copy_of[bi] >= 0 || d->listed[bi] >= DUP_LISTED_MAX) {
		if (d->unlisted[bi]++ == 0)
			d->unlisted_line[bi] = bq->line;
		return;
	}
	d->listed[bi]++;
	problems_add(d->pr, be->file, bq->line, 1, "question '%s' duplicates '%s' at %s:%u", bq->s,
		     oq->s, oe->file, oq->line);
}

/* Answer ids used twice: which answer is the copy (see blame_first). */
static void
find_copies(const struct knowledge *k, int *copy_of)
{
	struct hmap seen;
	hmap_init(&seen);
	for (size_t i = 0; i < k->nentries; i++) {
		const struct kb_entry *e = &k->entries[i];
		copy_of[i] = -1;
		if (e->id.s == NULL)
			continue;
		int ins;
		int *first = hmap_put(&seen, e->id.s, strlen(e->id.s), (int)i, &ins);
		if (ins)
			continue;
		if (blame_first(&k->entries[*first], e)) {
			copy_of[*first] = (int)i;
			*first = (int)i; /* a third copy is compared with this one */
		} else {
			copy_of[i] = *first;
		}
	}
	hmap_free(&seen);
}

static void
report_duplicates(const struct dup_check *d)
{
	const struct knowledge *k = d->k;
	for (size_t i = 0; i < k->nentries; i++) {
		const struct kb_entry *e = &k->entries[i];
		size_t more = d->unlisted[i];
		if (d->copy_of[i] >= 0) {
			const struct kb_entry *o = &k->entries[d->copy_of[i]];
			if (more)
				problems_add(d->pr, e->file, e->id.line, 1,
					     "answer id '%s' is already used in %s:%u (and %zu of "
					     "this file's questions repeat questions there or "
					     "elsewhere: a copy?)",
					     e->id.s, o->file, o->id.line, more);
			else
				problems_add(d->pr, e->file, e->id.line, 1,
					     "answer id '%s' is already used in %s:%u", e->id.s,
					     o->file, o->id.line);
		} else if (more) {
			problems_add(
			    d->pr, e->file, d->unlisted_line[i], 1,
			    "and %zu more question%s of this file duplicate%s questions of "
			    "other answers (only the first %d are listed)",
			    more, more == 1 ? "" : "s", more == 1 ? "s" : "", DUP_LISTED_MAX);
		}
	}
}

/* The ids of answer files that did not parse, as far as they can be told:
 * the id if it was read, and the file name without .md (files are named
 * after their answers). */
static void
note_broken(struct hmap *broken, const struct kb_file *f, const struct kb_entry *e)
{
	int ins;
	if (e->id.s)
		hmap_put(broken, e->id.s, strlen(e->id.s), 1, &ins);
	const char *base = strrchr(f->rel, '/');
	base = base ? base + 1 : f->rel;
	size_t n = strlen(base);
	if (n > 3)
		hmap_put(broken, base, n - 3, 1, &ins);
}

/* related: ids that no answer has; one in a broken file is left out (that
 * file's own problems say what to fix). */
static void
check_related(const struct knowledge *k, struct hmap *broken, size_t nbroken, struct problems *pr)
{
	for (size_t i = 0; i < k->nentries; i++) {
		const struct kb_entry *e = &k->entries[i];
		for (size_t r = 0; r < e->related.n; r++) {
			const char *id = e->related.v[r].s;
			if (knowledge_find(k, id) >= 0 || hmap_get(broken, id, strlen(id)) >= 0)
				continue;
			problems_add(pr, e->file, e->related.v[r].line, 1,
				     KNOWLEDGE_RELATED_MISSING "'%s' does not exist%s", id,
				     nbroken ? " (if it is in one of the files with problems, fix "
					       "that file first)"
					     : "");
		}
	}
}

/* After the index is built from the bodies as written, so that matching
 * never depends on the clinic's values: the served text. */
static void
fill_bodies(struct knowledge *k, struct problems *pr)
{
	const struct kb_entry *first_user = NULL;
	for (size_t i = 0; i < k->nentries; i++) {
		struct kb_entry *e = &k->entries[i];
		int used = 0;
		char *filled = clinic_fill(&k->clinic, e->file, e->body_line, e->body, &used, pr);
		if (filled == NULL)
			continue;
		free(e->body);
		e->body = filled;
		if (used && first_user == NULL)
			first_user = e;
	}
	for (int m = 0; m < KB_MSG_COUNT; m++) {
		struct kb_message *msg = &k->messages[m];
		int used = 0;
		char *filled = msg->body ? clinic_fill(&k->clinic, msg->file, msg->body_line,
						       msg->body, &used, pr)
					 : NULL;
		if (filled) {
			free(msg->body);
			msg->body = filled;
		}
	}
	if (first_user && k->clinic.file == NULL)
		problems_add(&k->warnings, first_user->file, first_user->body_line, 1,
			     "this answer quotes the clinic profile, but the knowledge folder has "
			     "no %s: the clinic answers can only tell people to ask at reception",
			     CLINIC_FILE);
}

/* The classifier (classify.h) and its classes' answers; the answers it
 * does not know are the matcher's alone, and check says which. */
static void
load_classifier(struct knowledge *k, const struct kb_file *f, struct problems *pr)
{
	k->clf = classify_parse(f->path, f->data, f->len, pr);
	if (k->clf == NULL)
		return;
	size_t nc = classify_nclasses(k->clf);
	k->clf_entry = xmalloc(nc * sizeof *k->clf_entry);
	k->entry_class = xmalloc((k->nentries ? k->nentries : 1) * sizeof *k->entry_class);
	for (size_t e = 0; e < k->nentries; e++)
		k->entry_class[e] = -1;
	for (size_t i = 0; i < nc; i++) {
		const char *id = classify_class(k->clf, i);
		int e =
		    strcmp(id, CLASSIFY_OUT_OF_SCOPE) == 0 ? KNOWLEDGE_OOS : knowledge_find(k, id);
		k->clf_entry[i] = e;
		if (e >= 0)
			k->entry_class[e] = (int)i;
	}
	struct strbuf missing = STRBUF_INIT;
	size_t nmissing = 0;
	for (size_t e = 0; e < k->nentries; e++)
		if (k->entry_class[e] < 0 && nmissing++ < 5)
			sb_addf(&missing, "%s%s", missing.len ? ", " : "", k->entries[e].id.s);
	if (nmissing)
		problems_add(&k->warnings, f->path, 1, 1,
			     "the classifier does not know %zu answer%s (%s%s): the matcher alone "
			     "answers for %s; make it again (make classifier)",
			     nmissing, nmissing > 1 ? "s" : "", missing.s,
			     nmissing > 5 ? ", ..." : "", nmissing > 1 ? "them" : "it");
	sb_free(&missing);
}

/* The rule a `rule ID` line of the rule words names: any rule but the
 * disclaimer. */
static int
words_rule_of(const char *id, void *arg)
{
	const struct knowledge *k = arg;
	int r = knowledge_find_rule(k, id);
	return r == k->disclaimer ? -1 : r;
}

/* The rule words, one model per rule (one look-up of a message's words
 * scores them all); a warning for each rule they have no section for. */
static void
load_words(struct knowledge *k, struct text_ctx *t, const struct kb_file *rule_words,
	   struct problems *pr)
{
	struct distress *d = distress_new();
	if (distress_read(d, t, rule_words->path, rule_words->data, rule_words->len, words_rule_of,
			  k, pr) < 0) {
		distress_free(d);
		return;
	}
	k->distress = d;
	for (size_t r = 0; r < k->nrules; r++) {
		if (words_rule_of(k->rules[r].id.s, k) < 0)
			continue;
		size_t m = 0;
		while (m < distress_nmodels(d) && distress_model(d, m)->rule != (int)r)
			m++;
		if (m == distress_nmodels(d))
			problems_add(&k->warnings, rule_words->path, 1, 1,
				     "no words for rule '%s': only its triggers fire it (make it "
				     "again: make rulewords)",
				     k->rules[r].id.s);
	}
}

struct knowledge *
knowledge_build(struct text_ctx *t, const struct kb_file *files, size_t n,
		const struct wordset *dict, struct problems *pr)
{
	struct knowledge *k = xcalloc(1, sizeof *k);
	k->dict = dict;
	size_t cape = 0, capr = 0;
	int have_syns = 0;

	clinic_init(&k->clinic);
	size_t nbroken = 0;
	struct hmap broken; /* ids of answer files that did not parse */
	hmap_init(&broken);
	const struct kb_file *concepts = NULL, *rule_words = NULL, *clf = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct kb_file *f = &files[i];
		switch (knowledge_file_kind(f->rel)) {
		case KBF_ANSWER: {
			struct kb_entry e;
			if (kb_parse_entry(f->path, f->data, f->len, &e, pr) < 0) {
				note_broken(&broken, f, &e);
				nbroken++;
				kb_entry_free(&e);
				break;
			}
			e.mtime = f->mtime;
			k->entries = xgrow(k->entries, &cape, k->nentries + 1, sizeof *k->entries);
			k->entries[k->nentries++] = e;
			break;
		}
		case KBF_RULE: {
			struct kb_rule r;
			if (kb_parse_rule(f->path, f->data, f->len, &r, pr) < 0) {
				kb_rule_free(&r);
				break;
			}
			k->rules = xgrow(k->rules, &capr, k->nrules + 1, sizeof *k->rules);
			k->rules[k->nrules++] = r;
			break;
		}
		case KBF_SYNONYMS:
			if (have_syns)
				break;
			have_syns = 1;
			/* bad lines are reported; the good groups still load */
			kb_parse_synonyms(f->path, f->data, f->len, &k->syns, pr);
			break;
		case KBF_MESSAGE: {
			struct kb_message m;
			if (kb_parse_message(f->path, f->data, f->len, &m, pr) < 0) {
				kb_message_free(&m);
				break;
			}
			struct kb_message *slot = &k->messages[m.which];
			if (slot->body) {
				problems_add(pr, m.file, m.id.line, 1,
					     "message id '%s' is already used in %s:%u", m.id.s,
					     slot->file, slot->id.line);
				kb_message_free(&m);
				break;
			}
			*slot = m;
			break;
		}
		case KBF_CLINIC:
			clinic_free(&k->clinic);
			clinic_parse(f->path, f->data, f->len, &k->clinic, pr, &k->warnings);
			break;
		case KBF_CONCEPTS:
			concepts = f;
			break;
		case KBF_RULE_WORDS:
			rule_words = f;
			break;
		case KBF_CLASSIFIER:
			clf = f;
			break;
		case KBF_IGNORED:
			break;
		}
	}

	check_duplicate_rule_ids(k, pr);
	resolve_in_doubt(k, pr);
	check_related(k, &broken, nbroken, pr);
	hmap_free(&broken);

	size_t ne = k->nentries ? k->nentries : 1;
	struct dup_check dc = {k,
			       pr,
			       {0},
			       NULL,
			       0,
			       0,
			       STRBUF_INIT,
			       xcalloc(ne, sizeof(int)),
			       xcalloc(ne, sizeof(size_t)),
			       xcalloc(ne, sizeof(size_t)),
			       xcalloc(ne, sizeof(unsigned))};
	hmap_init(&dc.seen);
	find_copies(k, dc.copy_of);
	struct match_question_hook hook = {check_question, &dc};
	k->match = match_build(t, k->entries, k->nentries, &k->syns, dict, NULL, pr, &hook);
	report_duplicates(&dc);
	hmap_free(&dc.seen);
	free(dc.refs);
	sb_free(&dc.key);
	free(dc.copy_of);
	free(dc.listed);
	free(dc.unlisted);
	free(dc.unlisted_line);
	fill_bodies(k, pr);
	struct safety_input si = {k->rules,
				  k->nrules,
				  concepts ? concepts->path : NULL,
				  concepts ? concepts->data : NULL,
				  concepts ? concepts->len : 0,
				  dict,
				  &k->warnings};
	k->safety = safety_build(t, &si, pr);
	k->crisis = knowledge_find_rule(k, "crisis");
	k->disclaimer = knowledge_find_rule(k, "disclaimer");
	if (rule_words)
		load_words(k, t, rule_words, pr);
	if (clf)
		load_classifier(k, clf, pr);
	problems_sort(&k->warnings);
	for (const char *const *r = knowledge_required_rules; *r; r++) {
		if (knowledge_find_rule(k, *r) >= 0)
			continue;
		size_t l = strlen(k->missing);
		snprintf(k->missing + l, sizeof k->missing - l, "%s%s", l ? " " : "", *r);
	}
	return k;
}

/* Is there a file dir/id.md among files (even one that does not parse:
 * then its own problems say what is wrong)? */
static int
has_file(const struct kb_file *files, size_t n, const char *dir, const char *id)
{
	size_t dl = strlen(dir), il = strlen(id);
	for (size_t i = 0; i < n; i++)
		if (strncmp(files[i].rel, dir, dl) == 0 &&
		    strncmp(files[i].rel + dl, id, il) == 0 &&
		    strcmp(files[i].rel + dl + il, ".md") == 0)
			return 1;
	return 0;
}

void
knowledge_check_folder(const struct knowledge *k, const struct kb_file *files, size_t n,
		       const char *root, struct problems *pr)
{
	size_t answers = 0;
	for (size_t i = 0; i < n; i++)
		answers += knowledge_file_kind(files[i].rel) == KBF_ANSWER;
	if (answers == 0)
		problems_add(pr, root, 1, 1,
			     "no answers found (expected .md files with front matter)");
	for (int m = 0; m < KB_MSG_COUNT; m++)
		if (k->messages[m].body == NULL &&
		    !has_file(files, n, KNOWLEDGE_MESSAGES_DIR, kb_message_ids[m]))
			problems_add(
			    pr, root, 1, 1,
			    "required message '%s' is missing: add %s/" KNOWLEDGE_MESSAGES_DIR
			    "%s.md",
			    kb_message_ids[m], root, kb_message_ids[m]);
}

void
knowledge_free(struct knowledge *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->nentries; i++)
		kb_entry_free(&k->entries[i]);
	for (size_t i = 0; i < k->nrules; i++)
		kb_rule_free(&k->rules[i]);
	free(k->entries);
	free(k->rules);
	kb_syns_free(&k->syns);
	for (int m = 0; m < KB_MSG_COUNT; m++)
		kb_message_free(&k->messages[m]);
	clinic_free(&k->clinic);
	problems_free(&k->warnings);
	match_free(k->match);
	safety_free(k->safety);
	distress_free(k->distress);
	classify_free(k->clf);
	free(k->clf_entry);
	free(k->entry_class);
	free(k);
}
