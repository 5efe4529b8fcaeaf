/*
 * fuzz_answer: libFuzzer harness for the question -> answer + safety
 * pipeline (answer_question, answer_json) on the shipped knowledge, loaded
 * once with the system word lists as in production.  The input is the raw
 * question bytes.  Asserts: the reply is never empty and is valid UTF-8;
 * the question kept is valid UTF-8 without NUL, at most ANSWER_INPUT_MAX
 * bytes, cut only when the input was longer; the JSON (with and without
 * explain) parses back and carries the same question and reply.  The same
 * question is also answered in a conversation (followup_answer, with a
 * previous answer and two choices picked from the input's length): the same
 * safety rules fire, and the answer keeps every promise above.
 * The knowledge folder is $MB_KNOWLEDGE_DIR, else ../../knowledge next to
 * the binary (build/fuzz/), else ./knowledge.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "answer.h"
#include "followup.h"
#include "fuzz.h"
#include "kb.h"
#include "utf8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct knowledge *K;
static struct wordset *Dict; /* never freed: lives as long as K */
static struct answer_ctx A;

static char *
knowledge_dir(const char *argv0)
{
	const char *env = getenv("MB_KNOWLEDGE_DIR");
	if (env && *env)
		return strdup(env);
	const char *slash = strrchr(argv0, '/');
	if (slash) {
		size_t n = (size_t)(slash - argv0);
		char *d = malloc(n + sizeof "/../../knowledge");
		memcpy(d, argv0, n);
		strcpy(d + n, "/../../knowledge");
		struct stat st;
		if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
			return d;
		free(d);
	}
	return strdup("knowledge");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	if (answer_ctx_init(&A) < 0) {
		fprintf(stderr, "fuzz_answer: libstemmer has no English stemmer\n");
		abort();
	}
	char *dir = knowledge_dir((*argv)[0]);
	Dict = kb_load_dictionary(A.text);
	struct problems pr = {0};
	char *cause = NULL;
	K = kb_load(A.text, dir, Dict, &pr, &cause);
	if (K == NULL || pr.n > 0) {
		fprintf(stderr, "fuzz_answer: cannot load the knowledge from %s: %s\n", dir,
			cause ? cause : "");
		for (size_t i = 0; i < pr.n; i++)
			fprintf(stderr, "  %s:%u: %s\n", pr.v[i].file, pr.v[i].line, pr.v[i].msg);
		abort();
	}
	problems_free(&pr);
	free(dir);
	return 0;
}

static void
check_json(const struct answer *a, int explain)
{
	char *js = answer_json(K, a, explain);
	CHECK(js != NULL);
	CHECK(utf8_invalid_at(js, strlen(js)) == strlen(js));
	json_error_t err;
	json_t *o = json_loads(js, 0, &err);
	CHECK(o != NULL);
	json_t *q = json_object_get(o, "question");
	json_t *r = json_object_get(o, "reply");
	CHECK(json_is_string(q) && strcmp(json_string_value(q), a->question) == 0);
	CHECK(json_is_string(r) && strcmp(json_string_value(r), a->reply.text) == 0);
	CHECK(json_is_array(json_object_get(o, "safety")));
	CHECK(json_array_size(json_object_get(o, "safety")) == a->reply.nshown);
	CHECK((json_object_get(o, "error") != NULL) == (a->truncated != 0));
	if (a->intent_id)
		CHECK(json_is_string(json_object_get(o, "intent")));
	if (explain) {
		json_t *c = json_object_get(o, "candidates");
		CHECK(json_is_array(c) && json_array_size(c) == a->mr.ncand);
		for (size_t i = 0; i < a->mr.ncand; i++) {
			json_t *t = json_object_get(json_array_get(c, i), "terms");
			CHECK(json_is_array(t) && json_array_size(t) == a->mr.cand[i].nterms);
		}
		json_t *tr = json_object_get(o, "triggers");
		CHECK(json_is_object(tr));
		for (size_t i = 0; i < a->nhits; i++)
			CHECK(json_is_string(json_object_get(tr, K->rules[a->hits[i].rule].id.s)));
	}
	json_decref(o);
	free(js);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: answer_question takes (text, len), no NUL */
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	struct answer a;
	answer_question(K, &A, &mp, buf, size, &a);

	size_t ql = strlen(a.question), rl;
	char *rep = utf8_repair(buf, size, &rl);
	CHECK(ql <= ANSWER_INPUT_MAX);
	CHECK(a.truncated == (rl > ANSWER_INPUT_MAX));
	CHECK(a.truncated ? memcmp(a.question, rep, ql) == 0 && ql + 4 > ANSWER_INPUT_MAX
			  : ql == rl && memcmp(a.question, rep, rl) == 0);
	free(rep);
	CHECK(utf8_invalid_at(a.question, ql) == ql);
	CHECK(a.reply.text != NULL && a.reply.text[0] != '\0');
	CHECK(utf8_invalid_at(a.reply.text, strlen(a.reply.text)) == strlen(a.reply.text));
	CHECK(a.nhits <= REPLY_MAX_RULES && a.reply.nshown <= REPLY_MAX_RULES);
	CHECK(a.mr.ncand <= MATCH_TOP);
	CHECK(a.mr.score >= 0.0 && a.mr.score <= 1.0 + 1e-9);
	CHECK(a.mr.intent < 0 || (size_t)a.mr.intent < K->nentries);
	/* safety reads the whole message: its spans are of the repaired whole
	 * when the question was cut */
	CHECK((a.full != NULL) == a.truncated);
	size_t hl = a.full ? rl : ql;
	for (size_t i = 0; i < a.nhits; i++) {
		CHECK(a.hits[i].rule >= 0 && (size_t)a.hits[i].rule < K->nrules);
		CHECK((size_t)a.hits[i].off + a.hits[i].len <= hl);
	}
	for (size_t i = 0; i < a.mr.ncand; i++)
		for (size_t t = 0; t < a.mr.cand[i].nterms; t++)
			CHECK((size_t)a.term_off[i][t] + a.term_len[i][t] <= ql);
	check_json(&a, 0);
	check_json(&a, 1);

	/* in a conversation: the same rules, the same promises */
	struct convo_memory m;
	memset(&m, 0, sizeof m);
	snprintf(m.answer, sizeof m.answer, "%s", K->entries[size % K->nentries].id.s);
	snprintf(m.before, sizeof m.before, "%s", K->entries[(size / 7) % K->nentries].id.s);
	if (size % 3 == 0) {
		snprintf(m.choices[0], CONVO_ID_MAX, "%s",
			 K->entries[(size / 3) % K->nentries].id.s);
		snprintf(m.choices[1], CONVO_ID_MAX, "%s",
			 K->entries[(size / 5) % K->nentries].id.s);
		m.nchoices = 2;
	}
	struct answer c;
	followup_answer(K, &A, &mp, &m, buf, size, &c);
	CHECK(strcmp(c.question, a.question) == 0);
	CHECK(c.nhits == a.nhits);
	for (size_t i = 0; i < c.nhits; i++)
		CHECK(c.hits[i].rule == a.hits[i].rule);
	CHECK(c.reply.text != NULL && c.reply.text[0] != '\0');
	CHECK(utf8_invalid_at(c.reply.text, strlen(c.reply.text)) == strlen(c.reply.text));
	CHECK(c.mr.intent < 0 || (size_t)c.mr.intent < K->nentries);
	for (size_t i = 0; i < c.mr.ncand; i++)
		for (size_t t = 0; t < c.mr.cand[i].nterms; t++)
			CHECK((size_t)c.term_off[i][t] + c.term_len[i][t] <= ql);
	check_json(&c, 1);
	followup_remember(K, &c, &m);
	CHECK(m.nchoices <= CONVO_CHOICES);
	answer_free(&c);
	answer_free(&a);
	free(buf);
	return 0;
}
