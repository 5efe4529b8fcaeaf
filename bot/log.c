/*
 * log: journald-friendly single-line logging to stderr (see log.h).
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"
#include "utf8.h"
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

/* s with every registered secret masked: a new string, *n its length. */
static char *
mask_secrets(const char *s, size_t len, size_t *n)
{
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, s, len);
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0] && secrets[i]; i++) {
		size_t sl = strlen(secrets[i]), keep = sl < 8 ? sl : 8;
		char *hit;
		while ((hit = memmem(b.s, b.len, secrets[i], sl)) != NULL) {
			memset(hit, '*', keep);
			memmove(hit + keep, hit + sl, b.len - (size_t)(hit - b.s) - sl + 1);
			b.len -= sl - keep;
		}
	}
	*n = b.len;
	return sb_steal(&b);
}

void
log_clean(char *out, size_t outlen, const char *s, size_t len)
{
	if (outlen == 0)
		return;
	size_t n;
	char *m = mask_secrets(s, len, &n);
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int bad = 0;
		size_t step = utf8_decode(m + i, n - i, &cp, &bad);
		const char *put = m + i;
		size_t plen = step;
		if (bad || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			put = !bad && (cp == '\n' || cp == '\r' || cp == '\t') ? " " : "?";
			plen = 1;
		}
		if (k + plen >= outlen)
			break;
		memcpy(out + k, put, plen);
		k += plen;
		i += step;
	}
	out[k] = '\0';
	free(m);
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
	/* whole first: a message cut before the secrets are masked could keep
	 * part of one */
	struct strbuf raw = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&raw, fmt, ap);
	va_end(ap);
	char msg[2048];
	log_clean(msg, sizeof msg, raw.s ? raw.s : "", raw.len);
	sb_free(&raw);
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
