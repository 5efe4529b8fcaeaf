/* test_clinic: the clinic profile (values, errors and warnings with their
 * lines) and placeholder filling (values, lists, an empty value leaving its
 * line out for the contact text, unknown placeholders with file:line:col),
 * and the profile inside a knowledge version. */
#include "clinic.h"
#include "strbuf.h"
#include "testutil.h"

static struct text_ctx *T;

#define PROFILE                                                                                    \
	"# example\n"                                                                              \
	"example: true\n"                                                                          \
	"name: Test Clinic\n"                                                                      \
	"booking_url: https://book.example.org/\n"                                                 \
	"phone: \"020 7946 0000\"\n"                                                               \
	"email: hi@example.org\n"                                                                  \
	"address: 1 Test Street\n"                                                                 \
	"directions: by the station\n"                                                             \
	"parking: \"\"\n"                                                                          \
	"accessibility: step-free\n"                                                               \
	"hours:\n"                                                                                 \
	"  monday: 9 to 5\n"                                                                       \
	"  tuesday: 9 to 5\n"                                                                      \
	"  wednesday: 9 to 5\n"                                                                    \
	"  thursday: 9 to 5\n"                                                                     \
	"  Friday: 9 to 5\n"                                                                       \
	"  saturday: 10 to 1\n"                                                                    \
	"  sunday: closed\n"                                                                       \
	"prices:\n"                                                                                \
	"  Swedish massage:\n"                                                                     \
	"    60 minutes: \"£55\"\n"                                                               \
	"    30 minutes: \"£35\"\n"                                                               \
	"  Assessment: \"£60\"\n"                                                                 \
	"cancellation: 24 hours' notice\n"                                                         \
	"payment: card or cash\n"                                                                  \
	"insurance: receipts on request\n"                                                         \
	"vouchers: at reception\n"                                                                 \
	"languages: English\n"                                                                     \
	"reach_a_person: |\n"                                                                      \
	"  call us,\n"                                                                             \
	"  any time\n"

static void
parse_ok(const char *text, struct clinic *c, struct problems *warn)
{
	struct problems pr = {0};
	int rc = clinic_parse("k/clinic.yaml", text, strlen(text), c, &pr, warn);
	if (pr.n)
		dump_problems(&pr);
	assert_int_equal(rc, 0);
	assert_int_equal(pr.n, 0);
	problems_free(&pr);
}

static void
release(struct clinic *c, struct problems *pr, struct problems *warn)
{
	clinic_free(c);
	problems_free(pr);
	problems_free(warn);
}

/* The problem or warning at line whose message contains needle. */
static void
expect_at(const struct problems *pr, unsigned line, const char *needle)
{
	int i = find_problem(pr, needle);
	if (i < 0)
		dump_problems(pr);
	assert_int_not_equal(i, -1);
	assert_int_equal(pr->v[i].line, line);
}

static void
test_values(void **st)
{
	(void)st;
	struct clinic c;
	struct problems warn = {0};
	parse_ok(PROFILE, &c, &warn);
	assert_true(c.example);
	assert_string_equal(c.v[CV_NAME], "Test Clinic");
	assert_string_equal(c.v[CV_PHONE], "020 7946 0000");
	assert_string_equal(c.v[CV_PARKING], "");
	assert_string_equal(c.v[CV_FRIDAY], "9 to 5");
	assert_string_equal(c.v[CV_REACH_A_PERSON], "call us, any time"); /* one line */
	assert_string_equal(c.v[CV_HOURS],
			    "- Monday: 9 to 5\n- Tuesday: 9 to 5\n"
			    "- Wednesday: 9 to 5\n- Thursday: 9 to 5\n"
			    "- Friday: 9 to 5\n- Saturday: 10 to 1\n- Sunday: closed");
	assert_string_equal(c.v[CV_PRICES], "- Swedish massage: 60 minutes £55, 30 minutes £35\n"
					    "- Assessment: £60");
	assert_string_equal(c.v[CV_LENGTHS], "30 minutes or 60 minutes");
	assert_string_equal(c.v[CV_CONTACT], "You can reach Test Clinic by phone on 020 7946 0000 "
					     "or by email at hi@example.org.");
	/* warnings: the empty parking and the example, nothing else */
	expect_at(&warn, 9, "'parking' is empty");
	expect_at(&warn, 2, "this is the example profile");
	assert_int_equal(warn.n, 2);
	clinic_free(&c);
	problems_free(&warn);
}

static void
test_warnings(void **st)
{
	(void)st;
	struct clinic c;
	struct problems warn = {0};
	/* a partly filled profile: missing keys, a day left empty, a blank
	 * price; no example flag, so no example warning */
	parse_ok("name: X\nphone: ~\nhours:\n  monday: 9 to 5\n  tuesday:\n"
		 "prices:\n  Swedish:\n    30 minutes: \"\"\n",
		 &c, &warn);
	assert_false(c.example);
	expect_at(&warn, 2, "'phone' is empty");
	expect_at(&warn, 1, "'email' is missing");
	expect_at(&warn, 5, "'hours: tuesday' is empty");
	expect_at(&warn, 3, "'hours: sunday' is empty");
	expect_at(&warn, 8, "the price of 'Swedish, 30 minutes' is empty");
	assert_int_equal(find_problem(&warn, "example profile"), -1);
	/* incomplete hours and prices give no list at all */
	assert_string_equal(c.v[CV_HOURS], "");
	assert_string_equal(c.v[CV_MONDAY], "9 to 5");
	assert_string_equal(c.v[CV_PRICES], "");
	assert_string_equal(c.v[CV_LENGTHS], "");
	clinic_free(&c);
	problems_free(&warn);
	/* an empty file: every value missing, one warning each for hours and prices */
	parse_ok("", &c, &warn);
	expect_at(&warn, 1, "'hours' is missing");
	expect_at(&warn, 1, "'prices' is missing");
	assert_int_equal(warn.n, 14 + 2);
	assert_string_equal(c.v[CV_CONTACT], "Please ask at the clinic's reception.");
	clinic_free(&c);
	problems_free(&warn);
}

static void
test_errors(void **st)
{
	(void)st;
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
	    {"name: X\nfone: 1\n", 2, "unknown key 'fone' (did you mean 'phone'?)"},
	    {"name: X\nname: Y\n", 2, "key 'name' appears twice (first at line 1)"},
	    {"example: maybe\n", 1, "'example' must be true or false"},
	    {"phone: [1, 2]\n", 1, "'phone' must be a single text value, not a list"},
	    {"hours:\n  mondy: 9\n", 2,
	     "unknown day 'mondy' under 'hours' (did you mean 'monday'?)"},
	    {"hours: 9 to 5\n", 1, "'hours' must be 'name: value' lines"},
	    {"prices:\n  A:\n    30: 1\n    30: 2\n", 4, "'30' appears twice under 'A'"},
	    {"- a\n- b\n", 1, "must be 'key: value' lines"},
	    {"name: X\n  phone: 1\n", 2, "YAML: mapping values are not allowed"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct clinic c;
		struct problems pr = {0}, warn = {0};
		int rc = clinic_parse("k/clinic.yaml", cases[i].text, strlen(cases[i].text), &c,
				      &pr, &warn);
		assert_int_equal(rc, -1);
		expect_at(&pr, cases[i].line, cases[i].msg);
		assert_string_equal(pr.v[0].file, "k/clinic.yaml");
		/* still usable: every value a string, the contact never empty */
		for (int v = 0; v < CV_N; v++)
			assert_non_null(c.v[v]);
		assert_true(c.v[CV_CONTACT][0] != '\0');
		clinic_free(&c);
		problems_free(&pr);
		problems_free(&warn);
	}
	/* a value over the limit */
	char *big = malloc(CLINIC_VALUE_MAX + 32);
	strcpy(big, "name: ");
	memset(big + 6, 'a', CLINIC_VALUE_MAX + 1);
	strcpy(big + 6 + CLINIC_VALUE_MAX + 1, "\n");
	struct clinic c;
	struct problems pr = {0}, warn = {0};
	assert_int_equal(clinic_parse("k/clinic.yaml", big, strlen(big), &c, &pr, &warn), -1);
	expect_at(&pr, 1, "'name' is too long");
	release(&c, &pr, &warn);
	free(big);
	/* price lists over the limits */
	struct strbuf t = STRBUF_INIT;
	sb_adds(&t, "prices:\n");
	for (int i = 0; i <= CLINIC_TREATMENTS_MAX; i++)
		sb_addf(&t, "  T%d: \"1\"\n", i);
	assert_int_equal(clinic_parse("k/clinic.yaml", t.s, t.len, &c, &pr, &warn), -1);
	expect_at(&pr, 2, "'prices' has too many entries (41, limit 40)");
	release(&c, &pr, &warn);
	sb_reset(&t);
	sb_adds(&t, "prices:\n  Swedish:\n");
	for (int i = 0; i <= CLINIC_LENGTHS_MAX; i++)
		sb_addf(&t, "    %d minutes: \"1\"\n", i + 1);
	assert_int_equal(clinic_parse("k/clinic.yaml", t.s, t.len, &c, &pr, &warn), -1);
	expect_at(&pr, 3, "'Swedish' has too many entries (11, limit 10)");
	assert_string_equal(c.v[CV_PRICES], "");
	release(&c, &pr, &warn);
	sb_free(&t);
}

/* Fill body with the PROFILE; expect the text (NULL: a problem). */
static char *
fill(const struct clinic *c, const char *body, struct problems *pr)
{
	int used = 0;
	return clinic_fill(c, "k/a.md", 10, body, &used, pr);
}

static void
test_fill(void **st)
{
	(void)st;
	struct clinic c;
	struct problems warn = {0}, pr = {0};
	parse_ok(PROFILE, &c, &warn);
	char *s =
	    fill(&c, "Call {{clinic.phone}} or {{ clinic.email }}.\n\nNo placeholder here.", &pr);
	assert_string_equal(s, "Call 020 7946 0000 or hi@example.org.\n\nNo placeholder here.");
	free(s);
	/* a list starts on a line of its own */
	s = fill(&c, "Our hours: {{clinic.hours.sunday}}; all: {{clinic.hours}}", &pr);
	assert_string_equal(s, "Our hours: closed; all:\n- Monday: 9 to 5\n- Tuesday: 9 to 5\n"
			       "- Wednesday: 9 to 5\n- Thursday: 9 to 5\n- Friday: 9 to 5\n"
			       "- Saturday: 10 to 1\n- Sunday: closed");
	free(s);
	/* no placeholders: the body as it is, and *used says so */
	int used = 1;
	s = clinic_fill(&c, "k/a.md", 10, "Plain text.\n\n- a list", &used, &pr);
	assert_string_equal(s, "Plain text.\n\n- a list");
	assert_false(used);
	free(s);
	assert_int_equal(pr.n, 0);
	clinic_free(&c);
	problems_free(&warn);
}

static void
test_empty_value_gives_contact(void **st)
{
	(void)st;
	struct clinic c;
	struct problems warn = {0}, pr = {0};
	parse_ok(PROFILE, &c, &warn);
	/* parking is empty: its line goes, the contact sentence comes instead */
	char *s = fill(&c,
		       "Where we are: {{clinic.address}}.\n\nParking: {{clinic.parking}}\n\n"
		       "See you soon.",
		       &pr);
	assert_string_equal(s, "Where we are: 1 Test Street.\n\nSee you soon.\n\n"
			       "I don't have those details here. You can reach Test Clinic by "
			       "phone on 020 7946 0000 or by email at hi@example.org.");
	free(s);
	/* the answer already says how to reach the clinic: not twice */
	s = fill(&c, "Parking: {{clinic.parking}}\n\n{{clinic.contact}}", &pr);
	assert_string_equal(s, "You can reach Test Clinic by phone on 020 7946 0000 or by "
			       "email at hi@example.org.");
	free(s);
	/* every line left out: only the contact sentence */
	s = fill(&c, "Parking: {{clinic.parking}}", &pr);
	assert_string_equal(s, "I don't have those details here. You can reach Test Clinic by "
			       "phone on 020 7946 0000 or by email at hi@example.org.");
	free(s);
	clinic_free(&c);
	problems_free(&warn);
	/* no profile at all: nothing invented, reception */
	clinic_init(&c);
	s = fill(&c, "Call us on {{clinic.phone}}.\n\n{{clinic.prices}}", &pr);
	assert_string_equal(s, "I don't have those details here. Please ask at the clinic's "
			       "reception.");
	free(s);
	clinic_free(&c);
	/* only an email, or only the booking page */
	parse_ok("email: a@example.org\n", &c, &warn);
	assert_string_equal(c.v[CV_CONTACT], "You can reach the clinic by email at a@example.org.");
	clinic_free(&c);
	parse_ok("booking_url: https://b.example.org\n", &c, &warn);
	assert_string_equal(c.v[CV_CONTACT], "You can contact the clinic through its booking page: "
					     "https://b.example.org");
	clinic_free(&c);
	assert_int_equal(pr.n, 0);
	problems_free(&warn);
}

static void
test_fill_errors(void **st)
{
	(void)st;
	struct clinic c;
	struct problems warn = {0}, pr = {0};
	parse_ok(PROFILE, &c, &warn);
	/* body line 10 is the first: the third line is file line 12; columns in
	 * characters */
	assert_null(fill(&c, "Fine.\n\né {{clinic.fone}} x", &pr));
	expect_at(&pr, 12,
		  "unknown placeholder '{{clinic.fone}}' (did you mean "
		  "'{{clinic.phone}}'?)");
	assert_string_equal(pr.v[0].file, "k/a.md");
	assert_int_equal(pr.v[0].col, 3);
	problems_free(&pr);
	assert_null(fill(&c, "{{phone}}", &pr));
	expect_at(&pr, 10, "unknown placeholder '{{phone}}'");
	problems_free(&pr);
	assert_null(fill(&c, "a\n{{clinic.phone", &pr));
	expect_at(&pr, 11, "'{{' without '}}' on the same line");
	problems_free(&pr);
	/* too long once filled in */
	struct strbuf b = STRBUF_INIT;
	for (int i = 0; i < 20; i++)
		sb_adds(&b, "{{clinic.hours}} {{clinic.prices}} {{clinic.reach_a_person}}\n");
	assert_null(fill(&c, b.s, &pr));
	expect_at(&pr, 10, "with the clinic profile filled in, the text is");
	sb_free(&b);
	problems_free(&pr);
	clinic_free(&c);
	problems_free(&warn);
}

static void
test_in_knowledge(void **st)
{
	(void)st;
	const struct tfile files[] = {
	    {"SOURCES.md", "# Sources\n\nNot an answer: no front matter.\n"},
	    {"clinic.yaml", "name: Test Clinic\nphone: \"020 7946 0000\"\n"},
	    {"clinic/phone.md",
	     "---\nid: phone\ntitle: Phone\nquestions: [phone number, how to call, "
	     "ring you]\ndisclaimer: false\nsource: s\nreviewed: 2026-01-01\n---\n"
	     "Call {{clinic.phone}}.\n"},
	    {"clinic/where.md", "---\nid: where\ntitle: Where\nquestions: [where are you, address, "
				"location]\nsource: s\nreviewed: 2026-01-01\n---\n"
				"We are at {{clinic.address}}.\n"},
	    {"massage/bad.md", "---\nid: bad\ntitle: Bad\nquestions: [aa bb, cc dd, ee ff]\n"
			       "source: s\nreviewed: 2026-01-01\n---\nA\n{{clinic.nope}}\n"},
	};
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, files, 5, &pr);
	/* the unknown placeholder is the one problem; SOURCES.md is no answer */
	expect_at(&pr, 9, "unknown placeholder '{{clinic.nope}}'");
	assert_string_equal(pr.v[0].file, "massage/bad.md");
	assert_int_equal(pr.n, 1);
	assert_int_equal(knowledge_file_kind("SOURCES.md"), KBF_IGNORED);
	assert_int_equal(knowledge_file_kind("about/sources.md"), KBF_IGNORED);
	assert_int_equal(knowledge_file_kind("clinic.yaml"), KBF_CLINIC);
	assert_int_equal(knowledge_file_kind("clinic/clinic.yaml"), KBF_IGNORED);
	assert_int_equal(k->nentries, 3);
	assert_string_equal(k->entries[knowledge_find(k, "phone")].body, "Call 020 7946 0000.");
	assert_false(k->entries[knowledge_find(k, "phone")].disclaimer);
	assert_string_equal(k->entries[knowledge_find(k, "where")].body,
			    "I don't have those details here. You can reach Test Clinic by phone "
			    "on 020 7946 0000.");
	/* the profile's empty values are warnings, not problems */
	expect_at(&k->warnings, 1, "'address' is missing");
	assert_string_equal(k->warnings.v[0].file, "clinic.yaml");
	knowledge_free(k);
	problems_free(&pr);
	/* placeholders without a profile: a warning at the answer */
	const struct tfile nofile[] = {files[2]};
	k = build_kb(T, nofile, 1, &pr);
	assert_int_equal(pr.n, 0);
	expect_at(&k->warnings, 9, "no clinic.yaml");
	assert_string_equal(
	    k->entries[0].body,
	    "I don't have those details here. Please ask at the clinic's reception.");
	knowledge_free(k);
	problems_free(&pr);
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_fill),
	    cmocka_unit_test(test_empty_value_gives_contact),
	    cmocka_unit_test(test_fill_errors),
	    cmocka_unit_test(test_in_knowledge),
	};
	int rc = cmocka_run_group_tests_name("clinic", tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
