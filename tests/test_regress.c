/* test_regress: one case per bug the fuzzers (fuzz/) found, so each stays
 * fixed.  Each test names the harness and the module it was in. */
#include "kb.h"
#include "safety.h"
#include "strbuf.h"
#include "testutil.h"
#include "utf8.h"

static struct text_ctx *T;

/* fuzz_answer, text.c: a word followed by a typographic apostrophe
 * ("swedish’ massage") got a source span ending inside the 3-byte U+2019,
 * so --explain silently dropped the word from "terms" and "triggers". */
static void
test_span_before_trailing_apostrophe(void **st)
{
	(void)st;
	static const struct {
		const char *text;
		size_t len0; /* bytes of the first word's span */
	} cases[] = {
	    {"swedish\xE2\x80\x99 massage", 7},
	    {"swedish\xE2\x80\x99\xE2\x80\x99 massage", 7},
	    {"swedish' massage", 7},
	    {"swedish\xE2\x80\x99", 7},
	    {"dogs\xE2\x80\x99 legs", 4},
	    {"can\xE2\x80\x99t feel", 7}, /* an inner apostrophe stays in the span */
	};
	struct tokens tk = {0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].text;
		size_t n = strlen(s);
		text_tokenize(T, s, n, &tk);
		assert_true(tk.n >= 1);
		assert_int_equal(tk.v[0].off, 0);
		assert_int_equal(tk.v[0].len, cases[i].len0);
		for (size_t k = 0; k < tk.n; k++) {
			assert_true(tk.v[k].off + tk.v[k].len <= n);
			assert_int_equal(utf8_invalid_at(s + tk.v[k].off, tk.v[k].len),
					 tk.v[k].len);
		}
	}
	tokens_free(&tk);
}

/* The same through the pipeline: every matched word is listed. */
static void
test_explain_keeps_word_before_apostrophe(void **st)
{
	(void)st;
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	struct problems pr = {0};
	char *cause = NULL;
	struct knowledge *k = kb_load(ac.text, "knowledge", NULL, &pr, &cause);
	assert_non_null(k);
	assert_int_equal(pr.n, 0);
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	struct answer a;
	const char *q = "swedish\xE2\x80\x99 massage";
	answer_question(k, &ac, &mp, q, strlen(q), &a);
	assert_string_equal(a.intent_id, "swedish-massage");
	char *js = answer_json(k, &a, 1);
	assert_non_null(strstr(js, "\"terms\":[\"swedish\",\"massage\"]"));
	free(js);
	answer_free(&a);
	knowledge_free(k);
	problems_free(&pr);
	answer_ctx_free(&ac);
}

/* fuzz_kb, safety.c: '(' nested thousands deep overflowed the stack in the
 * recursive-descent compiler (a rule file could crash a reload). */
static void
test_pattern_nesting_is_bounded(void **st)
{
	(void)st;
	char err[200];
	for (size_t depth = 1; depth <= 100000; depth *= 10) {
		struct strbuf b = STRBUF_INIT;
		for (size_t i = 0; i < depth; i++)
			sb_addc(&b, '(');
		sb_adds(&b, "numb");
		for (size_t i = 0; i < depth; i++)
			sb_addc(&b, ')');
		struct pattern *p = safety_compile(T, b.s, err, sizeof err);
		if (depth <= 8) {
			assert_non_null(p);
		} else {
			assert_null(p);
			assert_non_null(strstr(err, "too many '('"));
		}
		safety_pattern_free(p);
		sb_free(&b);
	}
	/* eight levels still compile and fire */
	struct pattern *p = safety_compile(T, "((((((((numb))))))))", err, sizeof err);
	assert_non_null(p);
	struct tokens tk = {0};
	text_tokenize(T, "my leg is numb", 14, &tk);
	assert_true(safety_pattern_fires(p, &tk));
	tokens_free(&tk);
	safety_pattern_free(p);
}

/* fuzz_kb, safety.c: groups with '..' nested in groups with '..' made the
 * matcher exponential: a 218-byte pattern took minutes on a 300-word
 * message.  Such patterns are now a compile error; the shipped ones (at
 * most two levels) still compile. */
static const char *
nested_gaps(int depth, struct strbuf *b)
{
	if (depth == 0) {
		sb_adds(b, "numb");
	} else {
		sb_addc(b, '(');
		nested_gaps(depth - 1, b);
		sb_adds(b, " .. ");
		nested_gaps(depth - 1, b);
		sb_addc(b, ')');
	}
	return b->s;
}

static void
test_pattern_complexity_is_bounded(void **st)
{
	(void)st;
	char err[200];
	for (int depth = 1; depth <= 6; depth++) {
		struct strbuf b = STRBUF_INIT;
		struct pattern *p = safety_compile(T, nested_gaps(depth, &b), err, sizeof err);
		if (depth <= 3) {
			assert_non_null(p);
		} else {
			assert_null(p);
			assert_non_null(strstr(err, "too complex"));
		}
		safety_pattern_free(p);
		sb_free(&b);
	}
	/* the shipped rules all compile (no problems) and still fire */
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	struct problems pr = {0};
	char *cause = NULL;
	struct knowledge *k = kb_load(ac.text, "knowledge", NULL, &pr, &cause);
	assert_non_null(k);
	if (pr.n)
		dump_problems(&pr);
	assert_int_equal(pr.n, 0);
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	struct answer a;
	const char *q = "my groin is numb and I can't control my bladder";
	answer_question(k, &ac, &mp, q, strlen(q), &a);
	assert_true(a.nhits >= 1);
	assert_string_equal(k->rules[a.hits[0].rule].id.s, "emergency");
	answer_free(&a);
	knowledge_free(k);
	problems_free(&pr);
	answer_ctx_free(&ac);
}

/* fuzz_kb, knowledge.c: duplicate questions were found through a key
 * packing (entry * 4096 + question), so an answer with more than 4096
 * phrasings made the duplicate report read another (or no) entry. */
static void
test_duplicate_question_past_4096(void **st)
{
	(void)st;
	struct strbuf b = STRBUF_INIT;
	sb_adds(&b, "---\nid: big\ntitle: Big\nquestions:\n");
	for (int i = 0; i < 4100; i++) /* short: the file stays under KB_FILE_MAX */
		sb_addf(&b, "- w%d\n", i);
	sb_adds(&b, "- w4097\n"); /* line 4105 duplicates line 4102 */
	sb_adds(&b, "source: me\nreviewed: 2024-01-01\n---\nBody text.\n");
	struct tfile f[] = {{"a/big.md", b.s}};
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, f, 1, &pr);
	int i = find_problem(&pr, "duplicates");
	if (i < 0)
		dump_problems(&pr);
	assert_int_not_equal(i, -1);
	assert_int_equal(pr.v[i].line, 4105);
	assert_non_null(strstr(pr.v[i].msg, "duplicates 'w4097' at a/big.md:4102"));
	knowledge_free(k);
	problems_free(&pr);
	sb_free(&b);
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_span_before_trailing_apostrophe),
	    cmocka_unit_test(test_explain_keeps_word_before_apostrophe),
	    cmocka_unit_test(test_pattern_nesting_is_bounded),
	    cmocka_unit_test(test_pattern_complexity_is_bounded),
	    cmocka_unit_test(test_duplicate_question_past_4096),
	};
	int rc = cmocka_run_group_tests_name("regress", tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
