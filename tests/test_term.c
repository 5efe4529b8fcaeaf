/* test_term: text for a terminal: control characters escaped; Markdown
 * wrapped at word boundaries, bold and emphasis as attributes or plain,
 * lists kept with a hanging indent, links with their address. */
#include "term.h"
#include "testutil.h"

static char *
render(const char *md, size_t width, enum term_style st)
{
	static struct strbuf b;
	sb_free(&b);
	sb_add(&b, "", 0);
	term_render(&b, md, width, st);
	return b.s;
}

static void
test_escape(void **st)
{
	(void)st;
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	const char in[] = "a\x1b[31mred\x07 \t\n\xc2\x9b"
			  "b \xe2\x80\xae"
			  "evil \xff ok é";
	term_escape(&b, in, sizeof in - 1);
	assert_string_equal(b.s, "a\\x1b[31mred\\x07 \\t\\n\\u{009b}b \\u{202e}evil \\xff ok é");
	sb_free(&b);
}

/* Every line at most width columns, and no word cut. */
static void
assert_wrapped(const char *out, const char *md, size_t width)
{
	size_t col = 0;
	for (const char *p = out; *p; p++) {
		if (*p == '\n') {
			col = 0;
		} else if (((unsigned char)*p & 0xC0) != 0x80) {
			col++;
			assert_true(col <= width);
		}
	}
	char words[2048];
	snprintf(words, sizeof words, "%s", md);
	for (char *w = strtok(words, " \n"); w; w = strtok(NULL, " \n"))
		if (strpbrk(w, "*_[") == NULL && strstr(out, w) == NULL)
			fail_msg("word '%s' was cut", w);
}

static void
test_wrap(void **st)
{
	(void)st;
	const char *md = "Swedish massage is the classic, gentler style. The therapist uses long "
			 "gliding strokes, kneading and circular movements.\n\nIt shouldn't hurt.";
	char *out = render(md, 30, TERM_PLAIN);
	assert_wrapped(out, md, 30);
	assert_non_null(strstr(out, "style. The\ntherapist"));
	assert_non_null(strstr(out, "movements.\n\nIt shouldn't hurt."));
	/* width 0: one line per paragraph */
	out = render(md, 0, TERM_PLAIN);
	assert_non_null(strstr(out, "The therapist uses long gliding strokes"));
	assert_int_equal(strchr(out, '\n') - out, strstr(md, "\n") - md);
	/* a word longer than the width stands alone, whole */
	out = render("a https://example.org/a/very/long/address/indeed b", 10, TERM_PLAIN);
	assert_string_equal(out, "a\nhttps://example.org/a/very/long/address/indeed\nb");
}

static void
test_markup(void **st)
{
	(void)st;
	const char *md = "**Stop** and _see a doctor_ now; snake_case stays, 2 * 3 too.";
	assert_string_equal(render(md, 0, TERM_PLAIN),
			    "Stop and see a doctor now; snake_case stays, 2 * 3 too.");
	assert_string_equal(
	    render(md, 0, TERM_ATTRS),
	    "\033[1mStop\033[22;23m and \033[3msee a doctor\033[22;23m now; snake_case "
	    "stays, 2 * 3 too.");
	/* attributes close at the end of each wrapped line */
	char *out = render("**one two three four**", 10, TERM_ATTRS);
	assert_string_equal(out, "\033[1mone two\033[22;23m\n\033[1mthree four\033[22;23m");
	/* links keep their address; an unclosed marker is text */
	assert_string_equal(
	    render("See [the NHS page](https://www.nhs.uk/) or **this", 0, TERM_PLAIN),
	    "See the NHS page (https://www.nhs.uk/) or **this");
	/* markup in a control-character payload is still escaped */
	assert_string_equal(render("**\x1b[2Jx**", 0, TERM_PLAIN), "\\x1b[2Jx");
}

static void
test_lists(void **st)
{
	(void)st;
	const char *md = "You can ask about:\n- whether massage helps back pain, and how it works\n"
			 "- types of massage\n1. first step\n\nJust ask.";
	char *out = render(md, 30, TERM_PLAIN);
	assert_string_equal(out, "You can ask about:\n\n"
				 "- whether massage helps back\n"
				 "  pain, and how it works\n"
				 "- types of massage\n"
				 "1. first step\n\n"
				 "Just ask.");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_markup),
	    cmocka_unit_test(test_lists),
	};
	return cmocka_run_group_tests_name("term", tests, NULL, NULL);
}
