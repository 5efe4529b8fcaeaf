/* test_config: the .env syntax, validators, precedence, and that
 * .env.example documents every variable of the table. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "config.h"
#include "testutil.h"

static struct env_list
parse_env(const char *text, struct problems *pr)
{
	struct env_list l = {0};
	cfg_parse_dotenv(".env", text, strlen(text), &l, pr);
	return l;
}

static void
test_dotenv_syntax(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct env_list l = parse_env("# comment\n\nA=plain value  # trailing\n"
				      "export B = 'single # not a comment'\n"
				      "C=\"double \\\"q\\\" \\\\ back\"\r\n"
				      "D=\n  E = spaced\n",
				      &pr);
	assert_int_equal(pr.n, 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.v[0].key, "A");
	assert_string_equal(l.v[0].value, "plain value");
	assert_int_equal(l.v[0].line, 3);
	assert_string_equal(l.v[1].value, "single # not a comment");
	assert_string_equal(l.v[2].value, "double \"q\" \\ back");
	assert_string_equal(l.v[3].value, "");
	assert_string_equal(l.v[4].key, "E");
	env_list_free(&l);
	l = parse_env("GOOD=1\nno equals here\nX='unclosed\nY=\"ok\" junk\n1BAD=2\n", &pr);
	assert_int_equal(l.n, 1);
	assert_int_equal(pr.n, 4);
	assert_int_equal(pr.v[0].line, 2);
	assert_int_not_equal(find_problem(&pr, "missing closing ' quote"), -1);
	assert_int_not_equal(find_problem(&pr, "unexpected text after the quoted value"), -1);
	env_list_free(&l);
	problems_free(&pr);
}

static void
test_validators(void **st)
{
	(void)st;
	char err[200];
	struct {
		enum cfg_id id;
		const char *v;
		int ok;
	} cases[] = {
	    {CFG_BOT_PLATFORM, "discord", 1},
	    {CFG_BOT_PLATFORM, "discord, web", 1},
	    {CFG_BOT_PLATFORM, "discord,,web", 0},
	    {CFG_BOT_PLATFORM, "Discord!", 0},
	    {CFG_LOG_LEVEL, "debug", 1},
	    {CFG_LOG_LEVEL, "loud", 0},
	    {CFG_MATCH_THRESHOLD, "0.4", 1},
	    {CFG_MATCH_THRESHOLD, "1.5", 0},
	    {CFG_MATCH_MARGIN, "abc", 0},
	    {CFG_DISCORD_CHANNELS, "123,456", 1},
	    {CFG_DISCORD_CHANNELS, "123, 456", 1},
	    {CFG_DISCORD_CHANNELS, "12a", 0},
	    {CFG_DISCORD_CHANNELS, "1,,2", 0},
	    {CFG_DISCORD_API_BASE, "http://127.0.0.1:9/api", 1},
	    {CFG_DISCORD_API_BASE, "ftp://x", 0},
	    {CFG_DISCORD_REST_RATE, "50", 1},
	    {CFG_DISCORD_REST_RATE, "0", 0},
	    {CFG_DISCORD_REST_RATE, "12.5", 0},
	    {CFG_DISCORD_REST_RATE, "100000", 0},
	    {CFG_SSL_CERT_FILE, "/etc/ssl/certs/ca-certificates.crt", 1},
	    {CFG_DISCORD_TOKEN, "Bot abcdefghijklmnopqrstuvwxyz", 0},
	    {CFG_DISCORD_TOKEN, "abc def ghijklmnopqrstuvwxyz", 0},
	    {CFG_DISCORD_TOKEN, "MTIzNDU2Nzg5MDEyMzQ1Njc4.AbCdEf.ghijklmnopqrstuvwxyz0123", 1},
	    {CFG_WEB_LISTEN, "127.0.0.1:8080", 1},
	    {CFG_WEB_LISTEN, "[::]:8080", 1},
	    {CFG_WEB_LISTEN, "8080", 0},
	    {CFG_WEB_LISTEN, "bot.example:443", 0},
	    {CFG_WEB_ALLOWED_ORIGINS, "self, https://www.clinic.example", 1},
	    {CFG_WEB_ALLOWED_ORIGINS, "www.clinic.example", 0},
	    {CFG_WEB_TRUSTED_PROXY, "127.0.0.1,::1", 1},
	    {CFG_WEB_TRUSTED_PROXY, "localhost", 0},
	    {CFG_WEB_MAX_CONNECTIONS, "1000", 1},
	    {CFG_WEB_MAX_CONNECTIONS, "0", 0},
	    {CFG_WEB_MAX_PER_ADDRESS, "-3", 0},
	    {CFG_WEB_MESSAGES_PER_10S, "10", 1},
	    {CFG_WEB_ADDRESS_MESSAGES_PER_10S, "ten", 0},
	    {CFG_WEB_MAX_FRAME, "4096", 1},
	    {CFG_WEB_MAX_FRAME, "100", 0},
	    {CFG_WEB_MAX_FRAME, "1000000", 0},
	    {CFG_WEB_IDLE_TIMEOUT, "600", 1},
	    {CFG_WEB_IDLE_TIMEOUT, "1", 0},
	    {CFG_WEB_HANDSHAKE_TIMEOUT, "10s", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = cfg_vars[cases[i].id].check(cases[i].v, err, sizeof err);
		if ((r == 0) != cases[i].ok)
			fail_msg("%s=%s: expected %s", cfg_vars[cases[i].id].name, cases[i].v,
				 cases[i].ok ? "ok" : "error");
	}
}

static void
test_precedence_and_errors(void **st)
{
	(void)st;
	char path[] = "/tmp/mb-envXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "LOG_LEVEL=debug\nKNOWLEDGE_DIR=from-file\nNOT_OURS=1\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	for (int i = 0; i < CFG_COUNT; i++)
		unsetenv(cfg_vars[i].name);
	setenv("KNOWLEDGE_DIR", "from-env", 1);
	setenv("DISCORD_CHANNELS", "", 1); /* set but empty counts as unset */
	struct config c;
	char *cause = NULL;
	assert_int_equal(config_load(&c, path, CMD_RUN, &cause), 0);
	assert_string_equal(cfg_get(&c, CFG_KNOWLEDGE_DIR), "from-env");
	assert_string_equal(cfg_get(&c, CFG_LOG_LEVEL), "debug");
	assert_null(cfg_get(&c, CFG_DISCORD_CHANNELS));
	assert_null(cfg_get(&c, CFG_BOT_PLATFORM)); /* the platforms' default: below */
	assert_true(strtod(cfg_get(&c, CFG_MATCH_THRESHOLD), NULL) == MATCH_DEFAULT_THRESHOLD);
	config_free(&c);
	/* a bad value names the variable and where it came from */
	setenv("LOG_LEVEL", "loud", 1);
	assert_int_equal(config_load(&c, path, CMD_RUN, &cause), -1);
	assert_non_null(strstr(cause, "LOG_LEVEL (from environment) must be"));
	free(cause);
	config_free(&c);
	unsetenv("LOG_LEVEL");
	unsetenv("KNOWLEDGE_DIR");
	unlink(path);
}

/* BOT_PLATFORM: the registry's names, its default, and each platform's
 * own variables. */
static void
test_platforms(void **st)
{
	(void)st;
	for (int i = 0; i < CFG_COUNT; i++)
		unsetenv(cfg_vars[i].name);
	struct config c;
	char *cause = NULL;
	const struct adapter_ops *ads[ADAPTER_MAX];
	size_t n;
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_int_equal(adapter_select(&c, NULL, "default", ads, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ads[0]->name, "console");
	static const struct {
		const char *spec, *error;
	} bad[] = {
	    {"slack", "BOT_PLATFORM (from .env:2) 'slack' is not a platform this bot has "
		      "(console, discord, web)"},
	    {"web,console", "console runs alone"},
	    {"console, discord", "console runs alone"},
	    {"discord,discord", "names discord twice"},
	    {"discord", "DISCORD_TOKEN is not set"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(adapter_select(&c, bad[i].spec, ".env:2", ads, &n, &cause), -1);
		if (strstr(cause, bad[i].error) == NULL)
			fail_msg("'%s': %s", bad[i].spec, cause);
		free(cause);
	}
	config_free(&c);
	/* a token makes discord the default; then it is all the platform needs */
	setenv("DISCORD_TOKEN", "MTIzNDU2Nzg5MDEyMzQ1Njc4.AbCdEf.ghijklmnopqrstuvwxyz0123", 1);
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_int_equal(adapter_select(&c, NULL, "default", ads, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(ads[0], &adapter_discord);
	assert_int_equal(adapter_select(&c, " discord ", "environment", ads, &n, &cause), 0);
	assert_ptr_equal(ads[0], &adapter_discord);
	/* the web chat beside it, or alone; never by default */
	assert_int_equal(adapter_select(&c, "discord,web", "environment", ads, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(ads[1], &adapter_web);
	assert_int_equal(adapter_select(&c, "web", "environment", ads, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(ads[0], &adapter_web);
	config_free(&c);
	unsetenv("DISCORD_TOKEN");
}

/* A command validates only the variables it uses: a malformed platform
 * variable stops `run`, never ask, check, eval or report. */
static void
test_only_used_variables(void **st)
{
	(void)st;
	char path[] = "/tmp/mb-envXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* a broken line of a platform variable */
	const char *text = "DISCORD_CHANNELS=\"12,34\nLOG_LEVEL=warn\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	for (int i = 0; i < CFG_COUNT; i++)
		unsetenv(cfg_vars[i].name);
	setenv("DISCORD_TOKEN", "Bot short", 1);
	setenv("BOT_PLATFORM", "discord;web", 1);
	setenv("DISCORD_API_BASE", "ftp://x", 1);
	for (int i = 0; i < CFG_COUNT; i++) /* every web chat variable, broken */
		if (strncmp(cfg_vars[i].name, "WEB_", 4) == 0)
			setenv(cfg_vars[i].name, "nonsense value", 1);
	static const unsigned others[] = {CMD_ASK, CMD_CHECK, CMD_EVAL, CMD_REPORT};
	struct config c;
	char *cause = NULL;
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		assert_int_equal(config_load(&c, path, others[i], &cause), 0);
		assert_null(cfg_get(&c, CFG_DISCORD_TOKEN));
		assert_null(cfg_get(&c, CFG_BOT_PLATFORM));
		assert_string_equal(cfg_get(&c, CFG_LOG_LEVEL), "warn");
		config_free(&c);
	}
	/* report does not match questions; ask does */
	assert_int_equal(config_load(&c, path, CMD_REPORT, &cause), 0);
	assert_null(cfg_get(&c, CFG_MATCH_THRESHOLD));
	assert_null(cfg_get(&c, CFG_KNOWLEDGE_DIR));
	config_free(&c);
	assert_int_equal(config_load(&c, path, CMD_ASK, &cause), 0);
	assert_non_null(cfg_get(&c, CFG_MATCH_THRESHOLD));
	config_free(&c);
	/* run uses them all: the first bad one is named */
	assert_int_equal(config_load(&c, path, CMD_RUN, &cause), -1);
	assert_non_null(strstr(cause, "missing closing \" quote"));
	free(cause);
	config_free(&c);
	unlink(path);
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), -1);
	assert_non_null(strstr(cause, "BOT_PLATFORM (from environment)"));
	free(cause);
	config_free(&c);
	unsetenv("BOT_PLATFORM");
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), -1);
	assert_non_null(strstr(cause, "DISCORD_TOKEN (from environment)"));
	free(cause);
	config_free(&c);
	unsetenv("DISCORD_TOKEN");
	unsetenv("DISCORD_API_BASE");
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), -1);
	assert_non_null(strstr(cause, "WEB_LISTEN (from environment) must be ADDRESS:PORT"));
	free(cause);
	config_free(&c);
	for (int i = 0; i < CFG_COUNT; i++)
		if (strncmp(cfg_vars[i].name, "WEB_", 4) == 0)
			unsetenv(cfg_vars[i].name);
	/* a bad value of a variable the command uses still stops it */
	setenv("LOG_LEVEL", "loud", 1);
	assert_int_equal(config_load(&c, NULL, CMD_REPORT, &cause), -1);
	assert_non_null(strstr(cause, "LOG_LEVEL"));
	free(cause);
	config_free(&c);
	unsetenv("LOG_LEVEL");
}

/* Under systemd both logs default into the state directory; the report
 * reads both, ask neither. */
static void
test_state_directory_logs(void **st)
{
	(void)st;
	for (int i = 0; i < CFG_COUNT; i++)
		unsetenv(cfg_vars[i].name);
	setenv("STATE_DIRECTORY", "/var/lib/massagebot:/other", 1);
	struct config c;
	char *cause = NULL;
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_string_equal(cfg_get(&c, CFG_UNANSWERED_LOG),
			    "/var/lib/massagebot/unanswered.jsonl");
	assert_string_equal(cfg_get(&c, CFG_FEEDBACK_LOG), "/var/lib/massagebot/feedback.jsonl");
	config_free(&c);
	assert_int_equal(config_load(&c, NULL, CMD_REPORT, &cause), 0);
	assert_string_equal(cfg_get(&c, CFG_FEEDBACK_LOG), "/var/lib/massagebot/feedback.jsonl");
	config_free(&c);
	assert_int_equal(config_load(&c, NULL, CMD_ASK, &cause), 0);
	assert_null(cfg_get(&c, CFG_FEEDBACK_LOG));
	config_free(&c);
	unsetenv("STATE_DIRECTORY");
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_null(cfg_get(&c, CFG_FEEDBACK_LOG)); /* off outside systemd unless set */
	config_free(&c);
}

/* The token from a systemd credential: out of the environment, read only
 * by the commands that use it; the environment still wins. */
static void
test_credential(void **st)
{
	(void)st;
	char dir[] = "/tmp/mb-credXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/" CONFIG_TOKEN_CREDENTIAL, dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("MTIzNDU2Nzg5MDEyMzQ1Njc4.from-credential.abcdefghijk\n", f);
	fclose(f);
	for (int i = 0; i < CFG_COUNT; i++)
		unsetenv(cfg_vars[i].name);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	struct config c;
	char *cause = NULL;
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_string_equal(cfg_get(&c, CFG_DISCORD_TOKEN),
			    "MTIzNDU2Nzg5MDEyMzQ1Njc4.from-credential.abcdefghijk");
	assert_string_equal(c.origin[CFG_DISCORD_TOKEN], "credential discord-token");
	config_free(&c);
	assert_int_equal(config_load(&c, NULL, CMD_ASK, &cause), 0);
	assert_null(cfg_get(&c, CFG_DISCORD_TOKEN));
	config_free(&c);
	setenv("DISCORD_TOKEN", "MTIzNDU2Nzg5MDEyMzQ1Njc4.from-environment.abcd", 1);
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_string_equal(c.origin[CFG_DISCORD_TOKEN], "environment");
	config_free(&c);
	unsetenv("DISCORD_TOKEN");
	/* an empty credential (the unit's fallback) counts as unset */
	f = fopen(path, "w");
	fputs(" \n", f);
	fclose(f);
	assert_int_equal(config_load(&c, NULL, CMD_RUN, &cause), 0);
	assert_null(cfg_get(&c, CFG_DISCORD_TOKEN));
	config_free(&c);
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(path);
	rmdir(dir);
}

/* A file that holds the token and that others can read is reported. */
static void
test_exposed_token(void **st)
{
	(void)st;
	char path[] = "/tmp/mb-envXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "LOG_LEVEL=info\nDISCORD_TOKEN=abc\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, 0600);
	assert_false(config_file_exposes_token(path, 1));
	chmod(path, 0644);
	assert_true(config_file_exposes_token(path, 1));
	chmod(path, 0640);
	assert_true(config_file_exposes_token(path, 1));
	/* a settings file without a token is no secret */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "DISCORD_TOKEN=\n", 15), 15);
	close(fd);
	assert_false(config_file_exposes_token(path, 1));
	/* a credential file is the token itself */
	assert_true(config_file_exposes_token(path, 0));
	assert_false(config_file_exposes_token("/nonexistent/file", 0));
	unlink(path);
}

/* KNOWLEDGE_DIR unset: ./knowledge, else the installed folder. */
static void
test_default_knowledge(void **st)
{
	(void)st;
	char here[4096], dir[] = "/tmp/mb-kbXXXXXX";
	assert_non_null(getcwd(here, sizeof here));
	assert_non_null(mkdtemp(dir));
	char installed[64];
	snprintf(installed, sizeof installed, "%s/installed", dir);
	assert_string_equal(config_default_knowledge(installed), "knowledge"); /* the repo's */
	assert_int_equal(chdir(dir), 0);
	assert_string_equal(config_default_knowledge(installed), "knowledge"); /* none anywhere */
	assert_int_equal(mkdir(installed, 0755), 0);
	assert_string_equal(config_default_knowledge(installed), installed);
	assert_int_equal(mkdir("knowledge", 0755), 0);
	assert_string_equal(config_default_knowledge(installed), "knowledge");
	rmdir("knowledge");
	rmdir(installed);
	assert_int_equal(chdir(here), 0);
	rmdir(dir);
}

static void
test_suggest(void **st)
{
	(void)st;
	assert_string_equal(cfg_suggest("DISCORD_TOKN"), "DISCORD_TOKEN");
	assert_string_equal(cfg_suggest("KNOWLEDGE_DIRS"), "KNOWLEDGE_DIR");
	assert_null(cfg_suggest("PATH"));
	const char *const keys[] = {"id", "title", "questions"};
	assert_string_equal(kb_closest("titel", keys, 3), "title");
	assert_null(kb_closest("answer", keys, 3));
}

static void
test_env_example_lists_every_variable(void **st)
{
	(void)st;
	FILE *f = fopen(".env.example", "r");
	assert_non_null(f);
	char buf[16384];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	for (int i = 0; i < CFG_COUNT; i++) {
		char needle[64];
		snprintf(needle, sizeof needle, "%s=", cfg_vars[i].name);
		if (strstr(buf, needle) == NULL)
			fail_msg(".env.example does not document %s", cfg_vars[i].name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dotenv_syntax),
	    cmocka_unit_test(test_validators),
	    cmocka_unit_test(test_precedence_and_errors),
	    cmocka_unit_test(test_platforms),
	    cmocka_unit_test(test_only_used_variables),
	    cmocka_unit_test(test_state_directory_logs),
	    cmocka_unit_test(test_suggest),
	    cmocka_unit_test(test_credential),
	    cmocka_unit_test(test_exposed_token),
	    cmocka_unit_test(test_default_knowledge),
	    cmocka_unit_test(test_env_example_lists_every_variable),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
