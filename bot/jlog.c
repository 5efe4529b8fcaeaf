/*
 * jlog: day-stamped, pruned, size-capped JSON-lines logs (see jlog.h).
 */
#include "jlog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "xmem.h"

/* A pruned file bigger than this is left alone (it is not ours). */
#define PRUNE_READ_MAX (64L * 1024 * 1024)

struct jlog {
	char *path;
	const char *what;
	jlog_fix fix;
	int fd;
	long size, max;
	int keep_days;
	char day[11]; /* YYYY-MM-DD of the last pruning */
};

void
jlog_day(time_t t, char out[11])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
valid_day(const char *t)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? t[i] != '-' : !isdigit((unsigned char)t[i]))
			return 0;
	return 1;
}

char *
jlog_prune_line(const char *line, const char *cutoff, jlog_fix fix)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *t = json_string_value(json_object_get(o, "time"));
	char *r = NULL;
	if (t && strlen(t) >= 10 && valid_day(t) && strncmp(t, cutoff, 10) >= 0) {
		char day[11];
		memcpy(day, t, 10);
		day[10] = '\0';
		json_object_set_new(o, "time", json_string(day));
		if (fix(o) == 0)
			r = json_dumps(o,
				       JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	}
	json_decref(o);
	return r;
}

/* Rewrite path without the entries older than cutoff; a file left empty
 * is removed if remove_empty.  Returns the number of entries dropped. */
static size_t
prune_file(const struct jlog *j, const char *path, const char *cutoff, int remove_empty)
{
	size_t dropped = 0, kept = 0, len = 0;
	char *tmp = xasprintf("%s.tmp", path), *buf = NULL;
	FILE *in = fopen(path, "re"), *out = NULL;
	if (in == NULL)
		goto out; /* nothing to prune */
	struct stat st;
	if (fstat(fileno(in), &st) < 0 || st.st_size > PRUNE_READ_MAX) {
		log_warn("%s: %s is too big to prune; left as it is", j->what, path);
		goto out;
	}
	out = fopen(tmp, "we");
	if (out == NULL) {
		log_warn("%s: cannot prune %s: %s", j->what, path, strerror(errno));
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
		char *keep = jlog_prune_line(buf, cutoff, j->fix);
		if (keep == NULL) {
			dropped++;
			continue;
		}
		fprintf(out, "%s\n", keep);
		free(keep);
		kept++;
	}
	if (fflush(out) != 0 || ferror(out) || ferror(in)) {
		log_warn("%s: cannot prune %s: %s", j->what, path, strerror(errno));
		dropped = 0;
		goto out;
	}
	if (kept == 0 && remove_empty) {
		unlink(path);
	} else if (rename(tmp, path) < 0) {
		log_warn("%s: cannot prune %s: %s", j->what, path, strerror(errno));
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
prune(struct jlog *j, time_t now)
{
	char cutoff[11];
	jlog_day(now - (time_t)j->keep_days * 86400, cutoff);
	jlog_day(now, j->day);
	char *old = xasprintf("%s.1", j->path);
	size_t n = prune_file(j, j->path, cutoff, 0) + prune_file(j, old, cutoff, 1);
	free(old);
	if (n)
		log_info("%s: %zu entr%s older than %d days deleted (before %s)", j->what, n,
			 n == 1 ? "y" : "ies", j->keep_days, cutoff);
}

static int
open_log(struct jlog *j, char **cause)
{
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		*cause = xasprintf("cannot open the %s %s: %s", j->what, j->path, strerror(errno));
		return -1;
	}
	struct stat st;
	j->size = fstat(j->fd, &st) == 0 ? (long)st.st_size : 0;
	return 0;
}

struct jlog *
jlog_open(const char *path, const char *what, long max_bytes, int keep_days, jlog_fix fix,
	  time_t now, char **cause)
{
	struct jlog *j = xcalloc(1, sizeof *j);
	j->path = xstrdup(path);
	j->what = what;
	j->fix = fix;
	j->max = max_bytes;
	j->keep_days = keep_days;
	prune(j, now);
	if (open_log(j, cause) < 0) {
		free(j->path);
		free(j);
		return NULL;
	}
	return j;
}

void
jlog_close(struct jlog *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}

/* Open the log again after it was closed to be rewritten or rotated; -1
 * (logged) if it cannot be. */
static int
reopen(struct jlog *j)
{
	char *cause = NULL;
	if (open_log(j, &cause) == 0)
		return 0;
	log_error("%s", cause);
	free(cause);
	return -1;
}

int
jlog_write(struct jlog *j, const char *line, time_t now)
{
	size_t n = strlen(line);
	ssize_t w = -1;
	char today[11];
	jlog_day(now, today);
	if (strcmp(today, j->day) != 0) {
		/* a new day: drop what is now too old (rewritten: reopened) */
		if (j->fd >= 0)
			close(j->fd);
		j->fd = -1;
		prune(j, now);
		if (reopen(j) < 0)
			return 0;
	}
	if (j->size > 0 && j->size + (long)n > j->max) {
		char *old = xasprintf("%s.1", j->path);
		if (j->fd >= 0)
			close(j->fd);
		j->fd = -1;
		if (rename(j->path, old) < 0)
			log_warn("%s: cannot rotate %s: %s", j->what, j->path, strerror(errno));
		free(old);
		if (reopen(j) < 0)
			return 0;
		log_info("%s rotated: %s.1", j->what, j->path);
	}
	w = j->fd >= 0 ? write(j->fd, line, n) : -1;
	if (w != (ssize_t)n)
		log_warn("%s: write to %s failed: %s", j->what, j->path,
			 w < 0 ? strerror(errno) : "short write");
	else
		j->size += (long)n;
	return w == (ssize_t)n;
}
