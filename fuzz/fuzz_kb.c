/*
 * fuzz_kb: libFuzzer harness for the knowledge file parser (kb_parse), the
 * safety pattern compiler (safety) and the knowledge assembler (knowledge).
 * The first input byte picks the mode ('0'-'7', or any byte: (b - '0') % 8);
 * the rest is the file text.  Modes:
 *   0 answer file   1 rule file   2 synonyms file   3 one safety pattern
 *   4 a knowledge folder: pieces split at "%%%%", see build_folder()
 *   5 a clinic.yaml, "%%%%", an answer body to fill from it
 *   6 rule words, "%%%%", a message to score with them
 *   7 a classifier, "%%%%", a message to classify with it
 * Asserts the contracts: problems carry a file and a line >= 1, a file that
 * parsed has its required fields, and everything is freed (leak check).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "classify.h"
#include "clinic.h"
#include "distress.h"
#include "fuzz.h"
#include "kb_parse.h"
#include "knowledge.h"
#include "safety.h"
#include "text.h"
#include "utf8.h"

#define MAX_PIECES 12
#define SEP "%%%%"

static struct text_ctx *T;
static struct answer_ctx A;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	T = text_ctx_new();
	if (T == NULL || answer_ctx_init(&A) < 0) {
		fprintf(stderr, "fuzz_kb: libstemmer has no English stemmer\n");
		abort();
	}
	return 0;
}

static void
check_problems(const struct problems *pr, size_t from)
{
	for (size_t i = from; i < pr->n; i++) {
		CHECK(pr->v[i].file != NULL);
		CHECK(pr->v[i].msg != NULL && pr->v[i].msg[0] != '\0');
		CHECK(pr->v[i].line >= 1);
		CHECK(pr->v[i].col >= 1);
	}
}

static void
check_list(const struct kb_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		CHECK(l->v[i].s != NULL);
		CHECK(l->v[i].line >= 2);
	}
}

static void
fuzz_entry(const char *buf, size_t len)
{
	struct kb_entry e;
	struct problems pr = {0};
	int rc = kb_parse_entry("f.md", buf, len, &e, &pr);
	check_problems(&pr, 0);
	CHECK(rc == 0 ? pr.n == 0 : pr.n > 0);
	if (rc == 0) {
		CHECK(e.id.s && e.title.s && e.source.s && e.reviewed.s && e.body);
		CHECK(e.questions.n >= KB_QUESTIONS_MIN);
		CHECK(utf8_invalid_at(e.body, strlen(e.body)) == strlen(e.body));
		CHECK(utf8_count(e.body, strlen(e.body)) <= KB_BODY_MAX);
		check_list(&e.questions);
		check_list(&e.tags);
		check_list(&e.related);
	}
	kb_entry_free(&e);
	problems_sort(&pr);
	problems_free(&pr);
}

static void
fuzz_rule(const char *buf, size_t len)
{
	struct kb_rule r;
	struct problems pr = {0};
	int rc = kb_parse_rule("safety/f.md", buf, len, &r, &pr);
	check_problems(&pr, 0);
	CHECK(rc == 0 ? pr.n == 0 : pr.n > 0);
	if (rc == 0) {
		CHECK(r.id.s && r.body);
		CHECK(r.level >= LEVEL_EMERGENCY && r.level <= LEVEL_INFO);
		CHECK(kb_level_name(r.level) != NULL);
		check_list(&r.triggers);
		check_list(&r.unless);
		/* compile the patterns as knowledge_build would */
		struct safety_input si = {&r, 1, NULL, NULL, 0, NULL, NULL};
		struct safety_set *s = safety_build(T, &si, &pr);
		check_problems(&pr, 0);
		safety_free(s);
	}
	kb_rule_free(&r);
	problems_free(&pr);
}

static void
fuzz_synonyms(const char *buf, size_t len)
{
	struct kb_syns s;
	struct problems pr = {0};
	int rc = kb_parse_synonyms("synonyms.txt", buf, len, &s, &pr);
	check_problems(&pr, 0);
	CHECK(rc == 0 ? pr.n == 0 : pr.n > 0);
	for (size_t i = 0; i < s.n; i++) {
		CHECK(s.v[i].n >= 2);
		for (size_t j = 0; j < s.v[i].n; j++)
			CHECK(s.v[i].terms[j].s[0] != '\0');
	}
	kb_syns_free(&s);
	problems_free(&pr);
}

/* One pattern (up to the first newline), then fire it on the rest. */
static void
fuzz_pattern(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t pl = nl ? (size_t)(nl - buf) : len;
	char *src = malloc(pl + 1);
	memcpy(src, buf, pl);
	src[pl] = '\0';
	char err[200];
	struct pattern *p = safety_compile(T, src, err, sizeof err);
	if (p == NULL) {
		CHECK(err[0] != '\0');
	} else if (nl) {
		struct tokens tk = {0};
		size_t rl;
		char *q = utf8_repair(nl + 1, len - pl - 1, &rl);
		text_tokenize(T, q, rl, &tk);
		(void)safety_pattern_fires(p, &tk);
		tokens_free(&tk);
		free(q);
	}
	safety_pattern_free(p);
	free(src);
}

static const char *const questions[] = {
    "what is deep tissue massage",
    "I have back pain and numbness in my groin, should I get a massage?",
    "hi",
};

/*
 * A knowledge folder: pieces separated by "%%%%"; the first byte of each
 * piece says what it is ('0'-'3', or any byte: (b - '0') % 4): an answer
 * file, a rule file (safety/), synonyms.txt, or a question to ask once the
 * knowledge builds cleanly.
 */
static void
fuzz_folder(const char *buf, size_t len)
{
	struct kb_file f[MAX_PIECES + 2];
	char rel[MAX_PIECES][32];
	const char *ask[MAX_PIECES];
	size_t asklen[MAX_PIECES];
	size_t nf = 0, nask = 0;
	const char *p = buf, *end = buf + len;
	for (int i = 0; p <= end && i < MAX_PIECES; i++) {
		const char *sep = memmem(p, (size_t)(end - p), SEP, 4);
		const char *pe = sep ? sep : end;
		if (pe > p) {
			int kind = (unsigned char)(*p - '0') % 4;
			const char *d = p + 1;
			size_t dl = (size_t)(pe - d);
			if (kind == 3) {
				ask[nask] = d;
				asklen[nask++] = dl;
			} else {
				if (kind == 0)
					snprintf(rel[nf], sizeof rel[nf], "a/f%d.md", i);
				else if (kind == 1)
					snprintf(rel[nf], sizeof rel[nf], "safety/f%d.md", i);
				else
					snprintf(rel[nf], sizeof rel[nf], "synonyms.txt");
				/* an exact-size copy, so reads past the end are caught */
				char *copy = malloc(dl ? dl : 1);
				memcpy(copy, d, dl);
				f[nf].path = rel[nf];
				f[nf].rel = rel[nf];
				f[nf].data = copy;
				f[nf].len = dl;
				f[nf].mtime = i; /* who gets a duplicate: the later piece */
				nf++;
			}
		}
		if (sep == NULL)
			break;
		p = sep + 4;
	}
	/* the bot's own lines, which every folder has */
	static const char *const msgs[][2] = {
	    {"messages/fallback.md", "---\nid: fallback\n---\nNo answer.\n"},
	    {"messages/get-checked-first.md", "---\nid: get-checked-first\n---\nCheck first.\n"},
	};
	for (size_t m = 0; m < 2; m++) {
		size_t dl = strlen(msgs[m][1]);
		f[nf].path = f[nf].rel = (char *)(uintptr_t)msgs[m][0];
		f[nf].data = memcpy(malloc(dl), msgs[m][1], dl);
		f[nf].len = dl;
		f[nf].mtime = 0;
		nf++;
	}
	struct problems pr = {0};
	struct knowledge *k = knowledge_build(T, f, nf, NULL, &pr);
	check_problems(&pr, 0);
	CHECK(k != NULL && k->match != NULL && k->safety != NULL);
	knowledge_check_folder(k, f, nf, "fuzz", &pr); /* as kb_load does */
	if (pr.n == 0) {
		/* a knowledge that built cleanly may be served: ask it things */
		struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
		size_t nq = sizeof questions / sizeof questions[0];
		for (size_t i = 0; i < nq + nask; i++) {
			struct answer a;
			const char *q = i < nq ? questions[i] : ask[i - nq];
			size_t ql = i < nq ? strlen(q) : asklen[i - nq];
			answer_question(k, &A, &mp, q, ql, &a);
			CHECK(a.reply.text != NULL && a.reply.text[0] != '\0');
			char *js = answer_json(k, &a, 1);
			CHECK(js != NULL && strcmp(js, "{}") != 0);
			free(js);
			answer_free(&a);
		}
	}
	knowledge_free(k);
	problems_free(&pr);
	for (size_t i = 0; i < nf; i++)
		free(f[i].data);
}

/* A clinic profile, then (after "%%%%") a body filled from it: the profile
 * stays usable whatever it holds, and a filled text is valid UTF-8 within
 * the limit, or there is a problem. */
static void
fuzz_clinic(const char *buf, size_t len)
{
	const char *sep = memmem(buf, len, SEP, 4);
	size_t pl = sep ? (size_t)(sep - buf) : len;
	struct clinic c;
	struct problems pr = {0}, warn = {0};
	int rc = clinic_parse("clinic.yaml", buf, pl, &c, &pr, &warn);
	check_problems(&pr, 0);
	check_problems(&warn, 0);
	CHECK(rc == 0 ? pr.n == 0 : pr.n > 0);
	for (int i = 0; i < CV_N; i++)
		CHECK(c.v[i] != NULL && utf8_invalid_at(c.v[i], strlen(c.v[i])) == strlen(c.v[i]));
	CHECK(c.v[CV_CONTACT][0] != '\0');
	if (sep) {
		char *body = utf8_repair(sep + 4, len - pl - 4, NULL);
		size_t before = pr.n;
		char *out = clinic_fill(&c, "a.md", 9, body, NULL, &pr);
		check_problems(&pr, before);
		CHECK(out ? pr.n == before : pr.n > before);
		if (out) {
			CHECK(utf8_invalid_at(out, strlen(out)) == strlen(out));
			CHECK(utf8_count(out, strlen(out)) <= CLINIC_FILLED_MAX);
		}
		free(out);
		free(body);
	}
	clinic_free(&c);
	problems_free(&pr);
	problems_free(&warn);
}

/* The rules rule words may name (the shipped ones but the disclaimer):
 * their index here. */
static const char *const rule_ids[] = {
    "blood-clot", "crisis",       "emergency", "medical-conditions", "medication", "nerve-symptoms",
    "pregnancy",  "see-a-doctor", "systemic",  "talk-to-someone",    "trauma"};
#define NRULE_IDS (sizeof rule_ids / sizeof *rule_ids)

static int
fuzz_rule_of(const char *id, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < NRULE_IDS; i++)
		if (strcmp(id, rule_ids[i]) == 0)
			return (int)i;
	return -1;
}

/* Rule words, then (after "%%%%") a message: the file reads or says why by
 * file:line, and one that reads scores the message with every model, the
 * strongest word of each inside it, and the unless model's doubt of each
 * rule's line. */
static void
fuzz_rule_words(const char *buf, size_t len)
{
	const char *sep = memmem(buf, len, SEP, 4);
	size_t ll = sep ? (size_t)(sep - buf) : len;
	struct problems pr = {0};
	struct distress *d = distress_new();
	int rc = distress_read(d, T, "rule-words.txt", buf, ll, fuzz_rule_of, NULL, &pr);
	check_problems(&pr, 0);
	CHECK((rc < 0) == (pr.n > 0));
	if (rc == 0 && sep) {
		struct tokens tk = {0};
		const char *m = sep + 4;
		size_t ml = len - ll - 4;
		text_tokenize(T, m, ml, &tk);
		struct distress_scores s;
		distress_score_all(d, &tk, &s);
		size_t nw = 0;
		for (size_t i = 0; i < distress_nmodels(d); i++) {
			const struct distress_model *dm = distress_model(d, i);
			CHECK((dm->rule >= 0 && dm->rule < (int)NRULE_IDS) ||
			      dm->rule == DISTRESS_UNLESS);
			CHECK(s.off[i] <= ml && s.len[i] <= ml - s.off[i]);
			nw += dm->nw;
		}
		size_t ui = 0; /* the unless model: one at most, with its words */
		const struct distress_model *u = distress_unless(d, &ui);
		if (u) {
			CHECK(u->words > 0 && u->nfor <= DISTRESS_FOR_MAX);
			for (size_t r = 0; r < NRULE_IDS; r++)
				(void)distress_doubt(u, &s, ui, (int)r);
		}
		CHECK(nw == distress_count(d));
		tokens_free(&tk);
	}
	distress_free(d);
	problems_free(&pr);
}

/* A classifier, then (after "%%%%") a message: the model reads or says why
 * by file:line, and a model that reads gives a class and a probability. */
static void
fuzz_classifier(const char *buf, size_t len)
{
	const char *sep = memmem(buf, len, SEP, 4);
	size_t ml = sep ? (size_t)(sep - buf) : len;
	struct problems pr = {0};
	struct classifier *c = classify_parse("classifier.txt", buf, ml, &pr);
	check_problems(&pr, 0);
	CHECK((c == NULL) == (pr.n > 0));
	if (c && sep) {
		struct tokens tk = {0};
		text_tokenize(T, sep + 4, len - ml - 4, &tk);
		double p;
		size_t k = classify_top(c, &tk, &p);
		CHECK(k < classify_nclasses(c) && p > 0 && p <= 1.0 + 1e-9);
		tokens_free(&tk);
	}
	classify_free(c);
	problems_free(&pr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_mode modes[] = {fuzz_entry,      fuzz_rule,      fuzz_synonyms,
					  fuzz_pattern,    fuzz_folder,    fuzz_clinic,
					  fuzz_rule_words, fuzz_classifier};
	fuzz_dispatch(data, size, modes, sizeof modes / sizeof modes[0]);
	return 0;
}
