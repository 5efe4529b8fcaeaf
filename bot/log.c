/*
 * log: journald-friendly single-line logging to stderr (see log.h).
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"
#include "xmem.h"

static enum log_level level = LOG_INFO;
static int journal = -1;
static char *secrets[4];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int
log_parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_init(enum log_level l)
{
	level = l;
	journal = getenv("JOURNAL_STREAM") != NULL;
}

enum log_level
log_get_level(void)
{
	return level;
}

void
log_add_secret(const char *secret)
{
	if (secret == NULL || strlen(secret) < 4)
		return;
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		if (secrets[i] == NULL) {
			secrets[i] = xstrdup(secret);
			return;
		}
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const words[] = {"error", "warn", "info", "debug"};
	static const int prio[] = {3, 4, 6, 7};
	if (lvl > level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0] && secrets[i]; i++) {
		char *hit;
		size_t sl = strlen(secrets[i]);
		while ((hit = strstr(msg, secrets[i])) != NULL) {
			memset(hit, '*', sl < 8 ? sl : 8);
			memmove(hit + (sl < 8 ? sl : 8), hit + sl, strlen(hit + sl) + 1);
		}
	}
	struct strbuf b = STRBUF_INIT;
	if (journal) {
		sb_addf(&b, "<%d>%s\n", prio[lvl], msg);
	} else {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		sb_addf(&b, "%s massagebot %s: %s\n", ts, words[lvl], msg);
	}
	pthread_mutex_lock(&lock);
	fputs(b.s, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&lock);
	sb_free(&b);
}
