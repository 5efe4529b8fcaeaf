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
	/* README.md and SOURCES.md are notes for people, not answers */
	if (!ends_with(rel, ".md") || strcasecmp(base, "README.md") == 0 ||
	    strcasecmp(base, "SOURCES.md") == 0 || base[0] == '.')
		return KBF_IGNORED;
	if (strncmp(rel, "safety/", 7) == 0)
		return KBF_RULE;
	return KBF_ANSWER;
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

static void
check_duplicate_ids(const char *what, char *const *ids, char *const *files, const unsigned *lines,
		    size_t n, struct problems *pr)
{
	struct hmap seen;
	hmap_init(&seen);
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == NULL)
			continue;
		int ins;
		int *first = hmap_put(&seen, ids[i], strlen(ids[i]), (int)i, &ins);
		if (!ins)
			problems_add(pr, files[i], lines[i], 1,
				     "%s id '%s' is already used in %s:%u", what, ids[i],
				     files[*first], lines[*first]);
	}
	hmap_free(&seen);
}

/*
 * The duplicate-question check, fed by match_build with each question as
 * it tokenises it.  Two questions are the same when their words are:
 * lowercased, accent-folded, without punctuation, contractions expanded
 * ("What's Swedish massage?" == "what is swedish massage").
 */
struct dup_check {
	const struct knowledge *k;
	struct problems *pr;
	struct hmap seen; /* key -> index into refs */
	struct {
		size_t e, q;
	} * refs; /* (entry, question) of each first occurrence */
	size_t nrefs, caprefs;
	struct strbuf key;
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
	const struct kb_entry *fe = &d->k->entries[d->refs[*first].e];
	const struct kb_str *fq = &fe->questions.v[d->refs[*first].q];
	problems_add(d->pr, e->file, qs->line, 1, "question '%s' duplicates '%s' at %s:%u", qs->s,
		     fq->s, fe->file, fq->line);
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
	if (first_user && k->clinic.file == NULL)
		problems_add(&k->warnings, first_user->file, first_user->body_line, 1,
			     "this answer quotes the clinic profile, but the knowledge folder has "
			     "no %s: the clinic answers can only tell people to ask at reception",
			     CLINIC_FILE);
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
	size_t answer_files = 0;
	const struct kb_file *concepts = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct kb_file *f = &files[i];
		switch (knowledge_file_kind(f->rel)) {
		case KBF_ANSWER: {
			struct kb_entry e;
			answer_files++;
			if (kb_parse_entry(f->path, f->data, f->len, &e, pr) < 0) {
				kb_entry_free(&e);
				break;
			}
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
		case KBF_CLINIC:
			clinic_free(&k->clinic);
			clinic_parse(f->path, f->data, f->len, &k->clinic, pr, &k->warnings);
			break;
		case KBF_CONCEPTS:
			concepts = f;
			break;
		case KBF_IGNORED:
			break;
		}
	}
	if (answer_files == 0)
		problems_add(pr, n ? files[0].path : "knowledge", 1, 1,
			     "no answers found (expected .md files with front matter)");

	/* ids */
	size_t m = k->nentries > k->nrules ? k->nentries : k->nrules;
	char **ids = xcalloc(m + 1, sizeof *ids), **fl = xcalloc(m + 1, sizeof *fl);
	unsigned *ln = xcalloc(m + 1, sizeof *ln);
	for (size_t i = 0; i < k->nentries; i++) {
		ids[i] = k->entries[i].id.s;
		fl[i] = k->entries[i].file;
		ln[i] = k->entries[i].id.line;
	}
	check_duplicate_ids("answer", ids, fl, ln, k->nentries, pr);
	for (size_t i = 0; i < k->nrules; i++) {
		ids[i] = k->rules[i].id.s;
		fl[i] = k->rules[i].file;
		ln[i] = k->rules[i].id.line;
	}
	check_duplicate_ids("rule", ids, fl, ln, k->nrules, pr);
	free(ids);
	free(fl);
	free(ln);

	for (size_t i = 0; i < k->nentries; i++) {
		const struct kb_entry *e = &k->entries[i];
		for (size_t r = 0; r < e->related.n; r++)
			if (knowledge_find(k, e->related.v[r].s) < 0)
				problems_add(pr, e->file, e->related.v[r].line, 1,
					     "related id '%s' does not exist", e->related.v[r].s);
	}

	struct dup_check dc = {k, pr, {0}, NULL, 0, 0, STRBUF_INIT};
	hmap_init(&dc.seen);
	struct match_question_hook hook = {check_question, &dc};
	k->match = match_build(t, k->entries, k->nentries, &k->syns, dict, NULL, pr, &hook);
	hmap_free(&dc.seen);
	free(dc.refs);
	sb_free(&dc.key);
	fill_bodies(k, pr);
	struct safety_input si = {k->rules,
				  k->nrules,
				  concepts ? concepts->path : NULL,
				  concepts ? concepts->data : NULL,
				  concepts ? concepts->len : 0,
				  dict,
				  &k->warnings};
	k->safety = safety_build(t, &si, pr);
	problems_sort(&k->warnings);
	k->crisis = knowledge_find_rule(k, "crisis");
	k->disclaimer = knowledge_find_rule(k, "disclaimer");
	for (const char *const *r = knowledge_required_rules; *r; r++) {
		if (knowledge_find_rule(k, *r) >= 0)
			continue;
		size_t l = strlen(k->missing);
		snprintf(k->missing + l, sizeof k->missing - l, "%s%s", l ? " " : "", *r);
	}
	return k;
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
	clinic_free(&k->clinic);
	problems_free(&k->warnings);
	match_free(k->match);
	safety_free(k->safety);
	free(k);
}
