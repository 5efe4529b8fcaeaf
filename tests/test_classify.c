/* test_classify: the learned second reader (bot/classify.h): reading its
 * file, each problem with its file:line; the likeliest class and its
 * probability; and what it does to the matcher's result: a confident other
 * answer asks "did you mean", a confident "out of scope" falls back, a
 * confident answer where the matcher had none is given, a very confident
 * one (overrule-at) replaces the matcher's, a file's agree-at is read (its
 * effect: tests/cli.sh, with the shipped knowledge), answers the model
 * does not know and short messages are the matcher's alone. */
#include <math.h>

#include "classify.h"
#include "testutil.h"

static struct text_ctx *T;

/* classes 0 swedish-massage, 1 booking, 2 out of scope; the features are
 * stems ("gentl", "calendar", "weather"); no phrasing says "calendar" */
#define MODEL                                                                                      \
	"# a comment\n"                                                                            \
	"classes swedish-massage booking -\n"                                                      \
	"bias 0:0 1:0 2:0.5\n"                                                                     \
	"take-at 0.7\n"                                                                            \
	"veto-at 0.8\n"                                                                            \
	"gentl\t0:3.000\n"                                                                         \
	"calendar\t1:4.000\n"                                                                      \
	"weather\t2:5.000\n"                                                                       \
	"book appoint\t1:1.000\n"

static struct classifier *
parse(const char *text, struct problems *pr)
{
	return classify_parse("k/classifier.txt", text, strlen(text), pr);
}

static void
expect_problem(const char *text, unsigned line, const char *msg)
{
	struct problems pr = {0};
	struct classifier *c = parse(text, &pr);
	if (find_problem(&pr, msg) < 0)
		dump_problems(&pr);
	assert_null(c);
	int i = find_problem(&pr, msg);
	assert_int_not_equal(i, -1);
	assert_string_equal(pr.v[i].file, "k/classifier.txt");
	assert_int_equal(pr.v[i].line, line);
	problems_free(&pr);
}

static void
test_reads_a_model(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct classifier *c = parse(MODEL, &pr);
	dump_problems(&pr);
	assert_non_null(c);
	assert_int_equal(classify_nclasses(c), 3);
	assert_string_equal(classify_class(c, 2), "-");
	assert_true(classify_take_at(c) > 0.69 && classify_take_at(c) < 0.71);
	assert_true(classify_overrule_at(c) > 1.0); /* not in the file: never */
	struct tokens tk = {0};
	double p;
	text_tokenize(T, "is it gentle? really gentle?", 28, &tk);
	assert_int_equal(classify_top(c, &tk, &p), 0);
	/* z = 3, 0, 0.5 (the word once): p = e^3 / (e^3 + 1 + e^0.5) */
	assert_true(fabs(p - exp(3) / (exp(3) + 1 + exp(0.5))) < 1e-9);
	text_tokenize(T, "nothing known here", 18, &tk);
	assert_int_equal(classify_top(c, &tk, &p), 2);
	tokens_free(&tk);
	classify_free(c);
	c = parse(MODEL "overrule-at 0.950\n", &pr);
	dump_problems(&pr);
	assert_non_null(c);
	assert_true(fabs(classify_overrule_at(c) - 0.95) < 1e-9);
	assert_true(classify_agree_at(c) > 1.0); /* not in the file: never */
	classify_free(c);
	c = parse(MODEL "agree-at 0.600\n", &pr);
	dump_problems(&pr);
	assert_non_null(c);
	assert_true(fabs(classify_agree_at(c) - 0.6) < 1e-9);
	classify_set_agree_at(c, 0.5);
	assert_true(fabs(classify_agree_at(c) - 0.5) < 1e-9);
	classify_free(c);
}

static void
test_problems_name_the_line(void **st)
{
	(void)st;
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\nx\t2:1.0\n", 5,
		       "expected index:weight pairs (a class index");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\nx\t1:1.2345\n", 5,
		       "expected index:weight pairs (a class index");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\nx\t1:1\nx\t0:1\n", 6,
		       "the feature 'x' is listed twice");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 1.5\nveto-at 0.7\n", 3,
		       "'take-at' needs a probability");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\n", 3, "'veto-at' is missing");
	expect_problem("x\t0:1\nclasses a b\n", 1, "the classes line must come first");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\nhello there\n", 5,
		       "expected classes, bias, take-at, veto-at, overrule-at, agree-at, context");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\noverrule-at 2\n", 5,
		       "'overrule-at' needs a probability above 0 and at most 1");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\nagree-at 0\n", 5,
		       "'agree-at' needs a probability above 0 and at most 1");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\nagree-at 0.6\n"
		       "agree-at 0.7\n",
		       6, "'agree-at' is set twice");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\ntake-at 0.8\nveto-at 0.7\n", 4,
		       "'take-at' is set twice");
	/* the context reader's weights: indices below 32, with a margin */
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\ncontext 32:1\n"
		       "context-margin 0.5\n",
		       5, "expected index:weight pairs (a feature index below 32");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\ncontext 0:1\n", 5,
		       "'context' needs 'context-margin'");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\ncontext 0:1\n"
		       "context 1:1\ncontext-margin 0.5\n",
		       6, "'context' is set twice");
	expect_problem("classes a b\nbias 0:0 1:0\ntake-at 0.7\nveto-at 0.7\ncontext 0:1\n"
		       "context-margin -1\n",
		       6, "'context-margin' needs a number");
}

/* The context reader's weights and margin, and every class's probability. */
static void
test_context_and_probabilities(void **st)
{
	(void)st;
	struct problems pr = {0};
	double margin = -1;
	struct classifier *c = parse(MODEL, &pr);
	assert_non_null(c);
	assert_null(classify_context(c, &margin)); /* none in this file */
	classify_free(c);
	c = parse(MODEL "context 0:1.500 3:-0.250\ncontext-margin 0.400\n", &pr);
	dump_problems(&pr);
	assert_non_null(c);
	const double *w = classify_context(c, &margin);
	assert_non_null(w);
	assert_true(fabs(w[0] - 1.5) < 1e-9 && fabs(w[3] + 0.25) < 1e-9 && w[1] == 0 && w[31] == 0);
	assert_true(fabs(margin - 0.4) < 1e-9);
	struct tokens tk = {0};
	double p[3], top;
	text_tokenize(T, "a calendar", 10, &tk);
	assert_int_equal(classify_probs(c, &tk, p), 1);
	assert_true(fabs(p[0] + p[1] + p[2] - 1) < 1e-9);
	assert_int_equal(classify_top(c, &tk, &top), 1);
	assert_true(fabs(top - p[1]) < 1e-12);
	/* z = 0, 4, 0.5 */
	assert_true(fabs(p[1] - exp(4) / (1 + exp(4) + exp(0.5))) < 1e-9);
	tokens_free(&tk);
	classify_free(c);
}

/* ---- beside the matcher -------------------------------------------------- */

static const struct tfile files[] = {
    {"a.md", "---\nid: swedish-massage\ntitle: Swedish massage\nquestions:\n"
	     "  - what is swedish massage\n  - swedish massage feel\n  - is swedish massage "
	     "relaxing\nsource: s\nreviewed: 2026-01-01\n---\nSwedish answer.\n"},
    {"b.md",
     "---\nid: booking\ntitle: Booking\nquestions: [how do i book, book an appointment, "
     "booking]\ndisclaimer: false\nsource: s\nreviewed: 2026-01-01\n---\nBooking answer.\n"},
    {"c.md", "---\nid: prices\ntitle: Prices\nquestions: [how much is it, prices, what does "
	     "a session cost]\ndisclaimer: false\nsource: s\nreviewed: 2026-01-01\n---\nPrices.\n"},
    {"safety/disclaimer.md",
     "---\nid: disclaimer\nlevel: info\npriority: 100\n---\nDisclaimer text.\n"},
    {"messages/fallback.md", "---\nid: fallback\n---\nFallback text.\n"},
    {"messages/did-you-mean.md", "---\nid: did-you-mean\n---\nDid you mean?\n"},
    {"classifier.txt", MODEL},
};

static struct knowledge *K;
static struct answer_ctx AC;

static const struct match_result *
ask(const char *q, struct answer *a)
{
	struct match_params p = {0.3, 0.0};
	answer_question(K, &AC, &p, q, strlen(q), a);
	return &a->mr;
}

static void
test_beside_the_matcher(void **st)
{
	(void)st;
	struct answer a;
	/* the matcher and the model agree */
	const struct match_result *mr = ask("is swedish massage relaxing and gentle", &a);
	assert_int_equal(mr->nanswers, 1);
	assert_string_equal(K->entries[mr->intent].id.s, "swedish-massage");
	answer_free(&a);
	/* the matcher says swedish massage, the model is sure of booking: ask */
	mr = ask("is swedish massage relaxing, let me check my calendar", &a);
	assert_int_equal(mr->nanswers, 0);
	assert_true(mr->ambiguous);
	assert_int_equal(mr->nchoices, 2);
	assert_string_equal(K->entries[mr->choices[0]].id.s, "booking");
	assert_string_equal(K->entries[mr->choices[1]].id.s, "swedish-massage");
	answer_free(&a);
	/* the same, with overrule-at at or below the model's certainty: answered */
	classify_set_thresholds(K->clf, 0.7, 0.8, 0.9);
	mr = ask("is swedish massage relaxing, let me check my calendar", &a);
	assert_int_equal(mr->nanswers, 1);
	assert_string_equal(K->entries[mr->intent].id.s, "booking");
	answer_free(&a);
	classify_set_thresholds(K->clf, 0.7, 0.8, 0.999); /* above it: still asked */
	mr = ask("is swedish massage relaxing, let me check my calendar", &a);
	assert_int_equal(mr->nanswers, 0);
	assert_true(mr->ambiguous);
	answer_free(&a);
	classify_set_thresholds(K->clf, 0.7, 0.8, CLASSIFY_NEVER);
	/* sure it is out of scope: the fallback */
	mr = ask("swedish massage feel the weather today", &a);
	assert_int_equal(mr->nanswers, 0);
	assert_false(mr->ambiguous);
	answer_free(&a);
	/* the matcher has nothing, the model is sure: given */
	mr = ask("need to check my calendar next week please", &a);
	assert_int_equal(mr->nanswers, 1);
	assert_string_equal(K->entries[mr->intent].id.s, "booking");
	answer_free(&a);
	/* prices is not a class: the matcher's alone, even against a sure model */
	mr = ask("how much is it, let me check my calendar", &a);
	assert_int_equal(mr->nanswers, 1);
	assert_string_equal(K->entries[mr->intent].id.s, "prices");
	answer_free(&a);
	/* a short message is the matcher's and the conversation's */
	mr = ask("calendar?", &a);
	assert_int_equal(mr->nanswers, 0);
	answer_free(&a);
	/* check says which answers the model does not know */
	int i = find_problem(&K->warnings, "the classifier does not know 1 answer (prices)");
	if (i < 0)
		dump_problems(&K->warnings);
	assert_int_not_equal(i, -1);
}

int
main(void)
{
	T = text_ctx_new();
	struct problems pr = {0};
	K = build_kb(T, files, sizeof files / sizeof *files, &pr);
	dump_problems(&pr);
	if (pr.n || answer_ctx_init(&AC) < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_a_model),
	    cmocka_unit_test(test_problems_name_the_line),
	    cmocka_unit_test(test_context_and_probabilities),
	    cmocka_unit_test(test_beside_the_matcher),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	answer_ctx_free(&AC);
	knowledge_free(K);
	problems_free(&pr);
	text_ctx_free(T);
	return rc;
}
