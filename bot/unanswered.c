/*
 * unanswered: size-capped JSON-lines log of unanswered questions (see
 * unanswered.h).
 */
#include "unanswered.h"

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
#include "xmem.h"

struct unanswered {
	char *path;
	int fd;
	long size, max;
};

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
unanswered_open(const char *path, long max_bytes, char **cause)
{
	struct unanswered *u = xcalloc(1, sizeof *u);
	u->path = xstrdup(path);
	u->max = max_bytes;
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
	char ts[32];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *o = json_object();
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "question", json_string(question));
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

int
unanswered_note(struct unanswered *u, const struct knowledge *k, const struct answer *a,
		const char *question, double low_margin, time_t now)
{
	char *line = unanswered_line(k, a, question, low_margin, now);
	if (line == NULL)
		return 0;
	size_t n = strlen(line);
	if (u->size > 0 && u->size + (long)n > u->max) {
		char *old = xasprintf("%s.1", u->path);
		close(u->fd);
		u->fd = -1;
		if (rename(u->path, old) < 0)
			log_warn("unanswered log: cannot rotate %s: %s", u->path, strerror(errno));
		free(old);
		char *cause = NULL;
		if (open_log(u, &cause) < 0) {
			log_error("%s", cause);
			free(cause);
			free(line);
			return 0;
		}
		log_info("unanswered log rotated: %s.1", u->path);
	}
	ssize_t w = u->fd >= 0 ? write(u->fd, line, n) : -1;
	if (w != (ssize_t)n)
		log_warn("unanswered log: write to %s failed: %s", u->path,
			 w < 0 ? strerror(errno) : "short write");
	else
		u->size += (long)n;
	free(line);
	return w == (ssize_t)n;
}
