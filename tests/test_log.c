/* test_log: log_clean, the one filter every log line and every excerpt of
 * peer text goes through. */
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static const char *
clean(const char *s, size_t outlen)
{
	static char out[256];
	assert_true(outlen <= sizeof out);
	log_clean(out, outlen, s, strlen(s));
	return out;
}

static void
test_controls(void **st)
{
	(void)st;
	assert_string_equal(clean("plain text", 64), "plain text");
	assert_string_equal(clean("two\nlines\r\tand a tab", 64), "two lines  and a tab");
	/* an ESC sequence, DEL, a C1 CSI (U+009B) and a NUL-free bell */
	assert_string_equal(clean("a\x1b[31mred\x7f\a \xc2\x9b"
				  "2J",
				  64),
			    "a?[31mred?? ?2J");
	/* UTF-8 is kept, invalid bytes are not */
	assert_string_equal(clean("caf\xc3\xa9 \xff\xfe ok \xe2\x82", 64), "caf\xc3\xa9 ?? ok ?");
	/* cut on a character boundary, never in the middle of one */
	assert_string_equal(clean("ab\xc3\xa9", 4), "ab");
	assert_string_equal(clean("abc", 1), "");
}

static void
test_secrets_masked_before_cut(void **st)
{
	(void)st;
	log_add_secret("SECRETTOKEN1234567890");
	assert_string_equal(clean("token SECRETTOKEN1234567890 end", 64), "token ******** end");
	/* a cut that falls inside the token still shows none of it */
	const char *out = clean("xx SECRETTOKEN1234567890", 12);
	assert_null(strstr(out, "SECRET"));
	assert_string_equal(out, "xx ********");
	/* the same through log_msg: a message longer than a log line is masked
	 * whole before it is cut, so a token across the cut leaves nothing */
	char big[2100];
	memset(big, 'a', sizeof big);
	memcpy(big + 2030, "SECRETTOKEN1234567890", 21);
	big[sizeof big - 1] = '\0';
	char path[] = "/tmp/mb-logXXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	log_msg(LOG_ERROR, "%s", big);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char line[4096];
	ssize_t n = pread(fd, line, sizeof line - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 2000);
	line[n] = '\0';
	assert_null(strstr(line, "SECRET"));
	assert_non_null(strstr(line, "a********a"));
}

int
main(void)
{
	log_init(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_secrets_masked_before_cut),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
