/* test_unanswered: what the unanswered log keeps about people: phone
 * numbers, e-mail addresses and long numbers replaced; the day, not the
 * second; entries past their age deleted from the log and its rotated
 * copy when it is opened. */
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "unanswered.h"

static void
expect_scrub(const char *in, const char *want)
{
	char *got = unanswered_scrub(in);
	if (strcmp(got, want) != 0)
		fail_msg("scrub '%s': got '%s', want '%s'", in, got, want);
	free(got);
}

static void
test_scrub(void **st)
{
	(void)st;
	expect_scrub("call me on 07700 900123 please", "call me on [phone] please");
	expect_scrub("ring +44 (20) 7946-0958.", "ring [phone].");
	expect_scrub("mail jane.doe+back@example.co.uk or j@x.org", "mail [email] or [email]");
	expect_scrub("my member number is 123456", "my member number is [number]");
	expect_scrub("card 4111111111111111 ok", "card [number] ok");
	expect_scrub("07700900123", "[phone]");
	/* what staff need stays */
	expect_scrub("I'm 45, 3 weeks of pain since 2024, 2 sessions",
		     "I'm 45, 3 weeks of pain since 2024, 2 sessions");
	expect_scrub("is 12/10 a good date? 9.30 or 17.00", "is 12/10 a good date? 9.30 or 17.00");
	expect_scrub("an @ sign, a.b@c and x@y.", "an @ sign, a.b@c and x@y.");
	expect_scrub("", "");
}

static void
test_line(void **st)
{
	(void)st;
	/* the day, not the second */
	char *l = unanswered_prune_line(
	    "{\"time\":\"2026-03-04T10:11:12Z\",\"question\":\"text 0123 456 789\",\"reason\":"
	    "\"fallback\",\"candidates\":[{\"intent\":\"a\",\"score\":0.3}]}",
	    "2026-03-01");
	assert_non_null(l);
	assert_string_equal(l, "{\"time\":\"2026-03-04\",\"question\":\"text [phone]\",\"reason\":"
			       "\"fallback\",\"candidates\":[{\"intent\":\"a\",\"score\":0.3}]}");
	free(l);
	/* too old, or not an entry */
	assert_null(
	    unanswered_prune_line("{\"time\":\"2026-02-28\",\"question\":\"q\"}", "2026-03-01"));
	assert_null(unanswered_prune_line("not json", "2026-03-01"));
	assert_null(unanswered_prune_line("{\"time\":\"soon\",\"question\":\"q\"}", "2026-03-01"));
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
read_all(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_retention(void **st)
{
	(void)st;
	char dir[] = "/tmp/mb-unansweredXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], old[140];
	snprintf(path, sizeof path, "%s/u.jsonl", dir);
	snprintf(old, sizeof old, "%s.1", path);
	write_file(path, "{\"time\":\"2026-01-01T08:00:00Z\",\"question\":\"old one\"}\n"
			 "{\"time\":\"2026-03-20T08:00:00Z\",\"question\":\"new one me@x.com\"}\n"
			 "garbage\n");
	write_file(old, "{\"time\":\"2026-01-02\",\"question\":\"older\"}\n");
	chmod(path, 0600);
	/* 2026-04-01 minus 30 days: 2026-03-02 */
	time_t now = 1775001600; /* 2026-04-01T00:00:00Z */
	char *cause = NULL;
	struct unanswered *u = unanswered_open(path, 1 << 20, 30, now, &cause);
	assert_non_null(u);
	assert_string_equal(read_all(path),
			    "{\"time\":\"2026-03-20\",\"question\":\"new one [email]\"}\n");
	assert_null(read_all(old)); /* nothing left in it: removed */
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600); /* the mode is kept */
	unanswered_close(u);
	unlink(path);
	rmdir(dir);
}

/* A bot that runs for weeks: once a day the entries past their age go. */
static void
test_daily_pruning(void **st)
{
	(void)st;
	static const struct tfile files[] = {
	    {"a.md",
	     "---\nid: swedish\ntitle: Swedish\nquestions: [what is swedish massage, "
	     "swedish massage, is swedish gentle]\nsource: s\nreviewed: 2026-01-01\n---\nB\n"},
	    {"messages/fallback.md", "---\nid: fallback\n---\nNo answer.\n"},
	    {"messages/get-checked-first.md", "---\nid: get-checked-first\n---\nCheck.\n"},
	};
	struct text_ctx *t = text_ctx_new();
	struct problems pr = {0};
	struct knowledge *k = build_kb(t, files, 3, &pr);
	assert_int_equal(pr.n, 0);
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	struct answer a;
	answer_question(k, &ac, &mp, "write a poem", 12, &a);
	char dir[] = "/tmp/mb-unansweredXXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/u.jsonl", dir);
	time_t day1 = 1775001600; /* 2026-04-01 */
	char *cause = NULL;
	struct unanswered *u = unanswered_open(path, 1 << 20, 30, day1, &cause);
	assert_non_null(u);
	assert_int_equal(unanswered_note(u, k, &a, "first, call 0161 496 0000", 0.05, day1), 1);
	assert_int_equal(unanswered_note(u, k, &a, "later that day", 0.05, day1 + 3600), 1);
	assert_non_null(
	    strstr(read_all(path), "\"time\":\"2026-04-01\",\"question\":\"first, call [phone]\""));
	/* 31 days on: the first two are past 30 days, the new one stays */
	assert_int_equal(unanswered_note(u, k, &a, "a month later", 0.05, day1 + 31 * 86400), 1);
	const char *now = read_all(path);
	assert_null(strstr(now, "first"));
	assert_null(strstr(now, "later that day"));
	assert_non_null(strstr(now, "\"time\":\"2026-05-02\",\"question\":\"a month later\""));
	unanswered_close(u);
	unlink(path);
	rmdir(dir);
	answer_free(&a);
	answer_ctx_free(&ac);
	knowledge_free(k);
	text_ctx_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scrub),
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_retention),
	    cmocka_unit_test(test_daily_pruning),
	};
	return cmocka_run_group_tests_name("unanswered", tests, NULL, NULL);
}
