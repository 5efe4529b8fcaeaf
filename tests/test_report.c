/* test_report: grouping unanswered questions: similar ones together,
 * phrasings written the same way counted once, the most frequent closest
 * answer, groups largest first, and questions with no content words. */
#include "report.h"
#include "testutil.h"

static struct text_ctx *T;

static void
test_groups(void **st)
{
	(void)st;
	const struct report_item items[] = {
	    {"is cupping good for back pain", "complementary", 0.31},
	    {"what about a foam roller", "self-massage", 0.2},
	    {"Is cupping good for back pain?", "complementary", 0.35},
	    {"does cupping help back pain", "stretching", 0.4},
	    {"foam roller for back", "self-massage", 0.25},
	    {"???", NULL, 0},
	    {"!!", NULL, 0},
	    {"cupping for back pain", "stretching", 0.1},
	};
	size_t n = sizeof items / sizeof items[0], nc = 0;
	struct report_cluster *c = report_cluster(T, items, n, &nc);
	assert_int_equal(nc, 3);
	/* cupping: 4 questions, 3 phrasings, the repeated one first */
	assert_int_equal(c[0].count, 4);
	assert_int_equal(c[0].example, 0);
	assert_int_equal(c[0].nphrasings, 3);
	assert_int_equal(c[0].phrasings[0].example, 0);
	assert_int_equal(c[0].phrasings[0].count, 2);
	assert_int_equal(c[0].phrasings[1].example, 3);
	/* two candidates twice each: the first seen wins, with its best score */
	assert_string_equal(c[0].closest, "complementary");
	assert_true(c[0].closest_score == 0.35);
	/* ties in size: first appearance */
	assert_int_equal(c[1].count, 2);
	assert_int_equal(c[1].example, 1);
	assert_string_equal(c[1].closest, "self-massage");
	/* no content words: one group of their own, no candidate */
	assert_int_equal(c[2].count, 2);
	assert_int_equal(c[2].example, 5);
	assert_int_equal(c[2].nphrasings, 1); /* no words: written the same way */
	assert_null(c[2].closest);
	report_free(c, nc);
	c = report_cluster(T, items, 0, &nc);
	assert_int_equal(nc, 0);
	report_free(c, nc);
}

/* Thumbs per answer: the most thumbs down first. */
static void
test_tally(void **st)
{
	(void)st;
	const struct report_vote v[] = {
	    {"deep", 0},  {"swedish", 1}, {"deep", 1},   {"hours", 0}, {"deep", 0},
	    {"hours", 0}, {"booking", 1}, {"prices", 0}, {"hours", 1},
	};
	size_t n;
	struct report_thumbs *t = report_tally(v, sizeof v / sizeof v[0], &n);
	assert_int_equal(n, 5);
	/* two down each: fewer up first */
	assert_string_equal(t[0].answer, "deep");
	assert_int_equal(t[0].down, 2);
	assert_int_equal(t[0].up, 1);
	assert_string_equal(t[1].answer, "hours");
	assert_int_equal(t[1].down, 2);
	assert_int_equal(t[1].up, 1);
	assert_string_equal(t[2].answer, "prices");
	/* only thumbs up: last, by id */
	assert_string_equal(t[3].answer, "booking");
	assert_string_equal(t[4].answer, "swedish");
	assert_int_equal(t[4].down, 0);
	free(t);
	t = report_tally(v, 0, &n);
	assert_int_equal(n, 0);
	free(t);
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_tally),
	};
	int rc = cmocka_run_group_tests_name("report", tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
