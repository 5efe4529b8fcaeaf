/*
 * unanswered: size-capped JSON-lines log of unanswered questions (see
 * unanswered.h).
 */
#include "unanswered.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "strbuf.h"
#include "xmem.h"

struct unanswered {
	char *path;
	int fd;
	long size, max;
	int keep_days;
	char day[11]; /* YYYY-MM-DD of the last pruning */
};

/* A pruned file bigger than this is left alone (it is not ours). */
#define PRUNE_READ_MAX (64L * 1024 * 1024)

static void
day_of(time_t t, char out[11])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- scrubbing ------------------------------------------------------------ */

static int
email_local(unsigned char c)
{
	return isalnum(c) || (c && strchr("._%+-", c));
}

static int
email_domain(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-';
}

static int
phone_sep(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

struct span {
	size_t start, end;
	const char *with;
};

/* The e-mail address around the '@' at at, if it is one. */
static int
email_at(const char *s, size_t n, size_t at, struct span *sp)
{
	size_t l = at, r = at + 1;
	while (l > 0 && email_local((unsigned char)s[l - 1]))
		l--;
	while (r < n && email_domain((unsigned char)s[r]))
		r++;
	while (r > at + 1 && (s[r - 1] == '.' || s[r - 1] == '-'))
		r--;
	const char *dot = memchr(s + at + 1, '.', r - at - 1);
	if (l == at || dot == NULL || dot == s + at + 1 || dot + 1 >= s + r)
		return 0;
	*sp = (struct span){l, r, "[email]"};
	return 1;
}

/* A phone number (7 digits or more, grouped by spaces, dashes, dots or
 * brackets, or starting with +, ( or 0) or a run of 5 digits or more,
 * starting at i: filled into *sp.  Otherwise *sp is left alone and the
 * return value is where to look next. */
static size_t
number_at(const char *s, size_t n, size_t i, struct span *sp)
{
	size_t j = i, end = i;
	int digits = 0, run = 0, longest = 0, seps = 0, separated = 0;
	int dialled = s[i] == '+' || s[i] == '(' || s[i] == '0';
	if (s[j] == '+' || s[j] == '(')
		j++;
	while (j < n) {
		if (isdigit((unsigned char)s[j])) {
			separated |= seps > 0;
			digits++;
			if (++run > longest)
				longest = run;
			seps = 0;
			end = ++j;
		} else if (phone_sep(s[j]) && seps < 2 && digits) {
			run = 0;
			seps++;
			j++;
		} else {
			break;
		}
	}
	if (digits >= 7 && (separated || dialled))
		*sp = (struct span){i, end, "[phone]"};
	else if (longest >= 5)
		*sp = (struct span){i, end, "[number]"};
	else
		return end > i ? end : i + 1;
	return 0;
}

char *
unanswered_scrub(const char *s)
{
	size_t n = strlen(s);
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	size_t emitted = 0;
	const char *at = strchr(s, '@');
	for (size_t i = 0; i < n;) {
		struct span sp = {0, 0, NULL};
		unsigned char c = (unsigned char)s[i];
		if (at && at < s + i)
			at = strchr(s + i, '@');
		int word_start = i == 0 || !isalnum((unsigned char)s[i - 1]);
		struct span e;
		if (at && word_start && email_local(c) && email_at(s, n, (size_t)(at - s), &e) &&
		    e.start == i)
			sp = e;
		if (sp.with == NULL && (isdigit(c) || ((c == '+' || c == '(') && i + 1 < n &&
						       isdigit((unsigned char)s[i + 1])))) {
			size_t next = number_at(s, n, i, &sp);
			if (sp.with == NULL) {
				i = next;
				continue;
			}
		} else if (sp.with == NULL) {
			i++;
			continue;
		}
		sb_add(&b, s + emitted, sp.start - emitted);
		sb_adds(&b, sp.with);
		emitted = i = sp.end;
	}
	sb_add(&b, s + emitted, n - emitted);
	return sb_steal(&b);
}

/* ---- the file ------------------------------------------------------------- */

static int
valid_day(const char *t)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? t[i] != '-' : !isdigit((unsigned char)t[i]))
			return 0;
	return 1;
}

char *
unanswered_prune_line(const char *line, const char *cutoff)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *t = json_string_value(json_object_get(o, "time"));
	const char *q = json_string_value(json_object_get(o, "question"));
	char *r = NULL;
	if (t && q && strlen(t) >= 10 && valid_day(t) && strncmp(t, cutoff, 10) >= 0) {
		char day[11];
		memcpy(day, t, 10);
		day[10] = '\0';
		char *clean = unanswered_scrub(q);
		json_object_set_new(o, "time", json_string(day));
		json_object_set_new(o, "question", json_string(clean));
		free(clean);
		r = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	}
	json_decref(o);
	return r;
}

/* Rewrite path without the entries older than cutoff; a file left empty
 * is removed if remove_empty.  Returns the number of entries dropped. */
static size_t
prune_file(const char *path, const char *cutoff, int remove_empty)
{
	size_t dropped = 0, kept = 0, len = 0;
	char *tmp = xasprintf("%s.tmp", path), *buf = NULL;
	FILE *in = fopen(path, "re"), *out = NULL;
	if (in == NULL)
		goto out; /* nothing to prune */
	struct stat st;
	if (fstat(fileno(in), &st) < 0 || st.st_size > PRUNE_READ_MAX) {
		log_warn("unanswered log: %s is too big to prune; left as it is", path);
		goto out;
	}
	out = fopen(tmp, "we");
	if (out == NULL) {
		log_warn("unanswered log: cannot prune %s: %s", path, strerror(errno));
		goto out;
	}
	fchmod(fileno(out), st.st_mode & 0777);
	size_t cap = 0;
	ssize_t got;
	while ((got = getline(&buf, &cap, in)) >= 0) {
		len = (size_t)got;
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len == 0)
			continue;
		char *keep = unanswered_prune_line(buf, cutoff);
		if (keep == NULL) {
			dropped++;
			continue;
		}
		fprintf(out, "%s\n", keep);
		free(keep);
		kept++;
	}
	if (fflush(out) != 0 || ferror(out) || ferror(in)) {
		log_warn("unanswered log: cannot prune %s: %s", path, strerror(errno));
		dropped = 0;
		goto out;
	}
	if (kept == 0 && remove_empty) {
		unlink(path);
	} else if (rename(tmp, path) < 0) {
		log_warn("unanswered log: cannot prune %s: %s", path, strerror(errno));
		dropped = 0;
	}
out:
	if (out) {
		fclose(out);
		unlink(tmp); /* gone already if renamed */
	}
	if (in)
		fclose(in);
	free(buf);
	free(tmp);
	return dropped;
}

static void
prune(struct unanswered *u, time_t now)
{
	char cutoff[11];
	day_of(now - (time_t)u->keep_days * 86400, cutoff);
	day_of(now, u->day);
	char *old = xasprintf("%s.1", u->path);
	size_t n = prune_file(u->path, cutoff, 0) + prune_file(old, cutoff, 1);
	free(old);
	if (n)
		log_info("unanswered log: %zu entr%s older than %d days deleted (before %s)", n,
			 n == 1 ? "y" : "ies", u->keep_days, cutoff);
}

static int
open_log(struct unanswered *u, char **cause)
{
	u->fd = open(u->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (u->fd < 0) {
		*cause = xasprintf("cannot open UNANSWERED_LOG %s: %s", u->path, strerror(errno));
		return -1;
	}
	struct stat st;
	u->size = fstat(u->fd, &st) == 0 ? (long)st.st_size : 0;
	return 0;
}

struct unanswered *
unanswered_open(const char *path, long max_bytes, int keep_days, time_t now, char **cause)
{
	struct unanswered *u = xcalloc(1, sizeof *u);
	u->path = xstrdup(path);
	u->max = max_bytes;
	u->keep_days = keep_days;
	prune(u, now);
	if (open_log(u, cause) < 0) {
		free(u->path);
		free(u);
		return NULL;
	}
	return u;
}

void
unanswered_close(struct unanswered *u)
{
	if (u == NULL)
		return;
	if (u->fd >= 0)
		close(u->fd);
	free(u->path);
	free(u);
}

char *
unanswered_line(const struct knowledge *k, const struct answer *a, const char *question,
		double low_margin, time_t now)
{
	const char *reason = NULL;
	if (k->crisis >= 0)
		for (size_t i = 0; i < a->reply.nshown; i++)
			if (a->reply.shown[i] == k->crisis)
				return NULL; /* never keep a crisis message */
	if (a->mr.intent < 0) {
		reason = a->mr.ambiguous ? "low-margin" : "fallback";
	} else if (a->mr.ncand > 1 && a->mr.cand[0].score - a->mr.cand[1].score < low_margin &&
		   a->mr.score < 1.0) {
		reason = "low-margin";
	}
	if (reason == NULL)
		return NULL;
	char day[11];
	day_of(now, day);
	char *clean = unanswered_scrub(question);
	json_t *o = json_object();
	json_object_set_new(o, "time", json_string(day));
	json_object_set_new(o, "question", json_string(clean));
	free(clean);
	json_object_set_new(o, "reason", json_string(reason));
	json_t *c = json_array();
	for (size_t i = 0; i < a->mr.ncand; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "intent",
				    json_string(k->entries[a->mr.cand[i].intent].id.s));
		json_object_set_new(e, "score",
				    json_real(round(a->mr.cand[i].score * 1000) / 1000));
		json_array_append_new(c, e);
	}
	json_object_set_new(o, "candidates", c);
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(o);
	char *r = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return r;
}

/* Open the log again after it was closed to be rewritten or rotated; -1
 * (logged) if it cannot be. */
static int
reopen(struct unanswered *u)
{
	char *cause = NULL;
	if (open_log(u, &cause) == 0)
		return 0;
	log_error("%s", cause);
	free(cause);
	return -1;
}

int
unanswered_note(struct unanswered *u, const struct knowledge *k, const struct answer *a,
		const char *question, double low_margin, time_t now)
{
	char *line = unanswered_line(k, a, question, low_margin, now);
	if (line == NULL)
		return 0;
	size_t n = strlen(line);
	ssize_t w = -1;
	char today[11];
	day_of(now, today);
	if (strcmp(today, u->day) != 0) {
		/* a new day: drop what is now too old (rewritten: reopened) */
		if (u->fd >= 0)
			close(u->fd);
		u->fd = -1;
		prune(u, now);
		if (reopen(u) < 0)
			goto out;
	}
	if (u->size > 0 && u->size + (long)n > u->max) {
		char *old = xasprintf("%s.1", u->path);
		if (u->fd >= 0)
			close(u->fd);
		u->fd = -1;
		if (rename(u->path, old) < 0)
			log_warn("unanswered log: cannot rotate %s: %s", u->path, strerror(errno));
		free(old);
		if (reopen(u) < 0)
			goto out;
		log_info("unanswered log rotated: %s.1", u->path);
	}
	w = u->fd >= 0 ? write(u->fd, line, n) : -1;
	if (w != (ssize_t)n)
		log_warn("unanswered log: write to %s failed: %s", u->path,
			 w < 0 ? strerror(errno) : "short write");
	else
		u->size += (long)n;
out:
	free(line);
	return w == (ssize_t)n;
}
