/* test_kb_parse: knowledge file parsing and cross-file checks, each error
 * class with its file:line. */
#include "testutil.h"

static struct text_ctx *T;

#define GOOD_FM                                                                                    \
	"---\n"                                                                                    \
	"id: deep-tissue-massage\n"                                                                \
	"title: Deep tissue massage\n"                                                             \
	"questions:\n"                                                                             \
	"  - what is deep tissue massage\n"                                                        \
	"  - is deep tissue massage painful\n"                                                     \
	"  - 'deep tissue: worth it'\n"                                                            \
	"tags: [massage-types]\n"                                                                  \
	"source: NCCIH\n"                                                                          \
	"reviewed: 2026-11-01\n"                                                                   \
	"---\n"

static int
parse(const char *text, struct kb_entry *e, struct problems *pr)
{
	return kb_parse_entry("k/x.md", text, strlen(text), e, pr);
}

/* Parse text and expect exactly one problem at line with msg. */
static void
expect_one(const char *text, unsigned line, unsigned col, const char *msg)
{
	struct kb_entry e;
	struct problems pr = {0};
	int rc = parse(text, &e, &pr);
	if (pr.n != 1 || find_problem(&pr, msg) < 0)
		dump_problems(&pr);
	assert_int_equal(rc, -1);
	assert_int_equal(pr.n, 1);
	assert_int_not_equal(find_problem(&pr, msg), -1);
	assert_string_equal(pr.v[0].file, "k/x.md");
	assert_int_equal(pr.v[0].line, line);
	if (col)
		assert_int_equal(pr.v[0].col, col);
	kb_entry_free(&e);
	problems_free(&pr);
}

static void
test_good_file(void **st)
{
	(void)st;
	struct kb_entry e;
	struct problems pr = {0};
	assert_int_equal(parse("\xEF\xBB\xBF" GOOD_FM "\nSlow, firm pressure.\n\n", &e, &pr), 0);
	assert_int_equal(pr.n, 0);
	assert_string_equal(e.id.s, "deep-tissue-massage");
	assert_int_equal(e.id.line, 2);
	assert_int_equal(e.questions.n, 3);
	assert_string_equal(e.questions.v[2].s, "deep tissue: worth it");
	assert_int_equal(e.questions.v[2].line, 7);
	assert_string_equal(e.body, "Slow, firm pressure.");
	assert_false(e.small_talk);
	assert_true(e.disclaimer); /* by default */
	kb_entry_free(&e);
	/* CRLF line endings */
	const char *crlf = "---\r\nid: a\r\ntitle: A\r\nquestions: [one q, two q, three q]\r\n"
			   "source: s\r\nreviewed: 2024-02-29\r\n---\r\nBody\r\n";
	assert_int_equal(parse(crlf, &e, &pr), 0);
	assert_string_equal(e.body, "Body");
	kb_entry_free(&e);
	problems_free(&pr);
}

static void
test_yaml_errors(void **st)
{
	(void)st;
	/* bad indentation, tab, unclosed flow list: libyaml marks, file lines */
	expect_one("---\nid: a\ntitle: A\nquestions:\n  - x\n - y\n---\nB\n", 6, 2,
		   "did not find expected key");
	expect_one("---\nid: a\n\ttitle: A\n---\nB\n", 3, 1, "tab: indent with spaces");
	expect_one("---\nid: a\ntitle: A\nquestions:\n  - a b\n \t- c d\n---\nB\n", 6, 2,
		   "tab: indent with spaces");
	/* brackets nested past the limit never reach libyaml (its time grows
	 * with the square of the nesting) */
	char deep[200] = "---\nid: a\ntitle: ";
	for (int i = 0; i < KB_FLOW_DEPTH_MAX + 1; i++)
		strcat(deep, "[");
	strcat(deep, "\n---\nB\n");
	expect_one(deep, 3, 8 + KB_FLOW_DEPTH_MAX, "nested more than 32 deep");
	expect_one("---\nid: a\ntags: [a, b\ntitle: x\n---\nB\n", 4, 0,
		   "while parsing a flow sequence at line 3");
}

static void
test_structure_errors(void **st)
{
	(void)st;
	expect_one("id: a\n", 1, 1, "first line must be '---'");
	expect_one("---\nid: a\n", 1, 1, "not closed");
	expect_one("---\n- a\n- b\n---\nBody\n", 2, 1, "'key: value'");
	expect_one(GOOD_FM "   \n\n", 12, 1, "empty");
	expect_one("---\nid: a\ntitle: A\nquestions: [a b, c d, e f]\nsource: s\n"
		   "reviewed: 2026-01-01\n---\nok \xff body\n",
		   8, 4, "invalid UTF-8");
}

static void
test_field_errors(void **st)
{
	(void)st;
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", GOOD_FM "Body\n");
	/* unknown key with a suggestion */
	expect_one("---\nid: a\ntitel: A\ntitle: A\nquestions: [a b, c d, e f]\nsource: s\n"
		   "reviewed: 2026-01-01\n---\nBody\n",
		   3, 1, "unknown key 'titel' (did you mean 'title'?)");
	/* missing field */
	expect_one(
	    "---\nid: a\nquestions: [a b, c d, e f]\nsource: s\nreviewed: 2026-01-01\n---\nB\n", 2,
	    1, "missing required key 'title'");
	/* wrong types */
	expect_one("---\nid: a\ntitle: [A]\nquestions: [a b, c d, e f]\nsource: s\n"
		   "reviewed: 2026-01-01\n---\nB\n",
		   3, 1, "'title' must be a single text value, not a list");
	expect_one(
	    "---\nid: a\ntitle: A\nquestions: one\nsource: s\nreviewed: 2026-01-01\n---\nB\n", 4, 1,
	    "'questions' must be a list");
	expect_one("---\nid: a\ntitle: A\nquestions:\n  - a b\n  - what is: this\n  - c\n"
		   "source: s\nreviewed: 2026-01-01\n---\nB\n",
		   6, 1, "put it in quotes");
	/* limits and formats */
	expect_one("---\nid: a\ntitle: A\nquestions: [a b, c d]\nsource: s\nreviewed: "
		   "2026-01-01\n---\nB\n",
		   4, 1, "at least 3");
	/* "questions:" with nothing after it is as empty as "questions: []" */
	expect_one("---\nid: a\ntitle: A\nquestions:\nsource: s\nreviewed: 2026-01-01\n---\nB\n", 4,
		   1, "at least 3 phrasings (has 0)");
	expect_one("---\nid: a\ntitle: A\nquestions: []\nsource: s\nreviewed: 2026-01-01\n---\nB\n",
		   4, 1, "at least 3 phrasings (has 0)");
	expect_one("---\nid: a\ntitle: A\nquestions: ''\nsource: s\nreviewed: 2026-01-01\n---\nB\n",
		   4, 1, "'questions' must be a list");
	/* a file over the size limit is refused before parsing */
	char *big = malloc(KB_FILE_MAX + 64);
	size_t fm = strlen(GOOD_FM);
	memcpy(big, GOOD_FM, fm);
	memset(big + fm, 'x', KB_FILE_MAX + 1 - fm);
	big[KB_FILE_MAX + 1] = '\0';
	expect_one(big, 1, 1, "file is too large");
	free(big);
	expect_one("---\nid: Bad_Id\ntitle: A\nquestions: [a b, c d, e f]\nsource: s\n"
		   "reviewed: 2026-01-01\n---\nB\n",
		   2, 1, "lowercase letters");
	expect_one("---\nid: a\ntitle: A\nquestions: [a b, c d, e f]\nsource: s\n"
		   "reviewed: 2026-02-30\n---\nB\n",
		   6, 1, "YYYY-MM-DD");
	expect_one("---\nid: a\nid: b\ntitle: A\nquestions: [a b, c d, e f]\nsource: s\n"
		   "reviewed: 2026-01-01\n---\nB\n",
		   3, 1, "appears twice");
	/* body too long: 1,501 code points (multi-byte counted once) */
	char *long_body = malloc(8000);
	strcpy(long_body, GOOD_FM);
	for (int i = 0; i < 1501; i++)
		strcat(long_body, "\xc3\xa9");
	strcat(long_body, "\n");
	expect_one(long_body, 12, 1, "too long: 1501 characters");
	long_body[strlen(long_body) - 3] = '\0'; /* exactly 1,500 is fine */
	struct kb_entry e;
	struct problems pr = {0};
	assert_int_equal(parse(long_body, &e, &pr), 0);
	kb_entry_free(&e);
	problems_free(&pr);
	free(long_body);
}

static void
test_disclaimer_key(void **st)
{
	(void)st;
	struct kb_entry e;
	struct problems pr = {0};
	static const char *const no[] = {"false", "no", "False"}, *const yes[] = {"true", "yes"};
	char buf[512];
	for (size_t i = 0; i < 5; i++) {
		snprintf(buf, sizeof buf,
			 "---\nid: a\ntitle: A\nquestions: [a b, c d, e f]\ndisclaimer: %s\n"
			 "source: s\nreviewed: 2026-01-01\n---\nB\n",
			 i < 3 ? no[i] : yes[i - 3]);
		assert_int_equal(parse(buf, &e, &pr), 0);
		assert_int_equal(e.disclaimer, i >= 3);
		kb_entry_free(&e);
	}
	problems_free(&pr);
	expect_one("---\nid: a\ntitle: A\nquestions: [a b, c d, e f]\ndisclaimer: maybe\n"
		   "source: s\nreviewed: 2026-01-01\n---\nB\n",
		   5, 1, "'disclaimer' must be true or false");
	expect_one("---\nid: a\ntitle: A\nquestions: [a b, c d, e f]\ndisclaimers: no\n"
		   "source: s\nreviewed: 2026-01-01\n---\nB\n",
		   5, 1, "unknown key 'disclaimers' (did you mean 'disclaimer'?)");
}

static void
test_cross_file_checks(void **st)
{
	(void)st;
	const struct tfile files[] = {
	    {"a.md",
	     "---\nid: one\ntitle: One\nquestions:\n  - what is one\n  - tell me one\n"
	     "  - one please\nrelated: [two, nope]\nsource: s\nreviewed: 2026-01-01\n---\nB\n"},
	    {"b.md", "---\nid: two\ntitle: Two\nquestions:\n  - two things\n  - What is ONE?\n"
		     "  - more two\nsource: s\nreviewed: 2026-01-01\n---\nB\n"},
	    {"c.md", "---\nid: one\ntitle: Again\nquestions: [x y, y z, z w]\nsource: s\n"
		     "reviewed: 2026-01-01\n---\nB\n"},
	    {"synonyms.txt", "# comment\nphysio = physiotherapist = physical therapist\n"
			     "rub = massage\nphysio = pt\nbroken line\n"},
	};
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, files, 4, &pr);
	problems_sort(&pr);
	int i = find_problem(&pr, "answer id 'one' is already used in a.md:2");
	assert_int_not_equal(i, -1);
	assert_string_equal(pr.v[i].file, "c.md");
	assert_int_equal(pr.v[i].line, 2);
	i = find_problem(&pr, "duplicates 'what is one' at a.md:5");
	assert_int_not_equal(i, -1);
	assert_string_equal(pr.v[i].file, "b.md");
	assert_int_equal(pr.v[i].line, 6);
	i = find_problem(&pr, "related id 'nope' does not exist");
	assert_int_not_equal(i, -1);
	assert_int_equal(pr.v[i].line, 8);
	i = find_problem(&pr, "'physio' is already in the synonym group at line 2");
	assert_int_not_equal(i, -1);
	assert_int_equal(pr.v[i].line, 4);
	i = find_problem(&pr, "expected 'term = term'");
	assert_int_not_equal(i, -1);
	assert_int_equal(pr.v[i].line, 5);
	assert_int_equal(pr.n, 5);
	assert_string_equal(k->missing, "emergency crisis trauma systemic nerve-symptoms pregnancy "
					"medical-conditions medication disclaimer");
	knowledge_free(k);
	problems_free(&pr);
}

#define ANSWER(id, rel, qs)                                                                        \
	"---\nid: " id "\ntitle: T\nquestions: [" qs "]\n" rel                                     \
	"source: s\nreviewed: 2026-01-01\n---\nB\n"

/* Build from files with modification times (seconds). */
static struct knowledge *
build_timed(const struct tfile *files, const long long *mtimes, size_t n, struct problems *pr)
{
	struct kb_file f[8];
	for (size_t i = 0; i < n; i++) {
		f[i].rel = f[i].path = (char *)(uintptr_t)files[i].rel;
		f[i].data = (char *)(uintptr_t)files[i].data;
		f[i].len = strlen(files[i].data);
		f[i].mtime = mtimes[i];
	}
	return knowledge_build(T, f, n, NULL, pr);
}

/* One broken file does not make errors elsewhere: a related id naming an
 * answer whose file is broken is left out (the file's own problem says
 * what to fix); a copied file is one problem, not one per question. */
static void
test_no_cascades(void **st)
{
	(void)st;
	const struct tfile files[] = {
	    {"a.md", ANSWER("one", "related: [two, three, nope]\n", "a b, c d, e f")},
	    {"b/two.md", "---\nid: two\ntitel: Two\n---\nB\n"},
	    {"c/three.md", "---\n[broken\n---\nB\n"},
	};
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, files, 3, &pr);
	problems_sort(&pr);
	if (pr.n != 7)
		dump_problems(&pr);
	/* a.md: only 'nope', which is in no file */
	int i = find_problem(&pr, "related id 'nope' does not exist (if it is in one of the files");
	assert_int_not_equal(i, -1);
	assert_int_equal(find_problem(&pr, "related id 'two'"), -1);
	assert_int_equal(find_problem(&pr, "related id 'three'"), -1);
	assert_int_equal(pr.n, 7); /* a: nope; b: 4 missing + titel; c: YAML */
	knowledge_free(k);
	problems_free(&pr);

	/* a copy (same id, same questions): one problem, at the copy */
	const struct tfile copy[] = {
	    {"a.md", ANSWER("one", "", "q one, q two, q three, q four, q five")},
	    {"b.md", ANSWER("one", "", "q one, q two, q three, q four, q five")},
	};
	const long long old_new[] = {1000, 5000}, new_old[] = {5000, 1000};
	k = build_timed(copy, old_new, 2, &pr);
	if (pr.n != 1)
		dump_problems(&pr);
	assert_int_equal(pr.n, 1);
	assert_string_equal(pr.v[0].file, "b.md");
	assert_non_null(strstr(pr.v[0].msg, "answer id 'one' is already used in a.md:2 (and 5 of"));
	knowledge_free(k);
	problems_free(&pr);
	/* the copy is the file saved later, wherever it sorts */
	k = build_timed(copy, new_old, 2, &pr);
	assert_int_equal(pr.n, 1);
	assert_string_equal(pr.v[0].file, "a.md");
	assert_non_null(strstr(pr.v[0].msg, "already used in b.md:2"));
	knowledge_free(k);
	problems_free(&pr);

	/* duplicate questions: at the file just edited, at most 3 listed */
	const struct tfile dups[] = {
	    {"a.md", ANSWER("one", "", "q one, q two, q three, q four, q five")},
	    {"b.md", ANSWER("two", "", "q one, q two, q three, q four, q five, q six")},
	};
	k = build_timed(dups, new_old, 2, &pr);
	problems_sort(&pr);
	if (pr.n != 4)
		dump_problems(&pr);
	assert_int_equal(pr.n, 4);
	for (size_t j = 0; j < 4; j++)
		assert_string_equal(pr.v[j].file, "a.md");
	assert_int_not_equal(find_problem(&pr, "question 'q one' duplicates 'q one' at b.md:4"),
			     -1);
	assert_int_not_equal(find_problem(&pr, "and 2 more questions of this file duplicate"), -1);
	knowledge_free(k);
	problems_free(&pr);
	/* saved together (a checkout): the later path gets them */
	const long long same[] = {5000, 5001};
	k = build_timed(dups, same, 2, &pr);
	assert_int_equal(pr.n, 4);
	assert_string_equal(pr.v[0].file, "b.md");
	knowledge_free(k);
	problems_free(&pr);
}

static void
test_rule_files(void **st)
{
	(void)st;
	const struct tfile files[] = {
	    {"a.md", "---\nid: one\ntitle: One\nquestions: [a b, c d, e f]\nsource: s\n"
		     "reviewed: 2026-01-01\n---\nB\n"},
	    {"safety/bad.md",
	     "---\nid: bad\nlevel: caution\npriority: 5\ntriggers:\n"
	     "  - fine words\n  - '(unclosed group'\n  - 'a .. .. b'\n---\nText\n"},
	    {"safety/disclaimer.md", "---\nid: disclaimer\nlevel: info\npriority: 100\n"
				     "triggers: [x]\n---\nText\n"},
	    {"safety/lvl.md",
	     "---\nid: lvl\nlevel: severe\npriority: high\ntriggers: [x]\n---\nT\n"},
	    {"safety/none.md", "---\nid: none\nlevel: info\npriority: 1\n---\nT\n"},
	    {"safety/low.md",
	     "---\nid: low\nlevel: caution\npriority: -999999\ntriggers: [x]\n---\nT\n"},
	};
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, files, 6, &pr);
	int lo = find_problem(&pr, "not '-999999'");
	assert_int_not_equal(lo, -1);
	assert_string_equal(pr.v[lo].file, "safety/low.md");
	assert_int_equal(pr.v[lo].line, 4);
	int i = find_problem(&pr, "pattern '(unclosed group': missing ')'");
	assert_int_not_equal(i, -1);
	assert_string_equal(pr.v[i].file, "safety/bad.md");
	assert_int_equal(pr.v[i].line, 7);
	i = find_problem(&pr, "pattern 'a .. .. b'");
	assert_int_not_equal(i, -1);
	assert_int_equal(pr.v[i].line, 8);
	assert_int_not_equal(find_problem(&pr, "'disclaimer' takes no triggers"), -1);
	assert_int_not_equal(find_problem(&pr, "must be emergency, urgent, caution or info"), -1);
	assert_int_not_equal(find_problem(&pr, "'priority' must be a whole number from 0 to 999"),
			     -1);
	assert_int_not_equal(find_problem(&pr, "rule 'none' needs a 'triggers' list"), -1);
	knowledge_free(k);
	problems_free(&pr);
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),        cmocka_unit_test(test_yaml_errors),
	    cmocka_unit_test(test_structure_errors), cmocka_unit_test(test_field_errors),
	    cmocka_unit_test(test_disclaimer_key),   cmocka_unit_test(test_cross_file_checks),
	    cmocka_unit_test(test_rule_files),       cmocka_unit_test(test_no_cascades),
	};
	int rc = cmocka_run_group_tests_name("kb_parse", tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
