/*
 * feedback: the log of thumbs up and down (see feedback.h).
 */
#include "feedback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jlog.h"
#include "xmem.h"

struct feedback {
	struct jlog *log;
};

/* An answer id as the knowledge allows them: [a-z0-9-]+. */
static int
valid_id(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return n > 0 && s[n] == '\0' && n < FEEDBACK_ID_MAX;
}

static int
fix_entry(json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "answer"));
	return id && valid_id(id) && json_is_boolean(json_object_get(o, "helpful")) ? 0 : -1;
}

char *
feedback_line(const char *answer, int helpful, const char *platform, time_t now)
{
	char day[11];
	jlog_day(now, day);
	json_t *o = json_object();
	json_object_set_new(o, "time", json_string(day));
	json_object_set_new(o, "answer", json_string(answer));
	json_object_set_new(o, "helpful", json_boolean(helpful));
	json_object_set_new(o, "platform", json_string(platform));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	char *r = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return r;
}

int
feedback_parse(const char *line, size_t len, char *answer, size_t n, int *helpful)
{
	json_t *o = json_loadb(line, len, 0, NULL);
	int rc = -1;
	if (o && fix_entry(o) == 0) {
		snprintf(answer, n, "%s", json_string_value(json_object_get(o, "answer")));
		*helpful = json_is_true(json_object_get(o, "helpful"));
		rc = 0;
	}
	json_decref(o);
	return rc;
}

struct feedback *
feedback_open(const char *path, int keep_days, time_t now, char **cause)
{
	struct jlog *j =
	    jlog_open(path, "feedback log", FEEDBACK_MAX_BYTES, keep_days, fix_entry, now, cause);
	if (j == NULL)
		return NULL;
	struct feedback *f = xcalloc(1, sizeof *f);
	f->log = j;
	return f;
}

void
feedback_close(struct feedback *f)
{
	if (f == NULL)
		return;
	jlog_close(f->log);
	free(f);
}

int
feedback_note(struct feedback *f, const char *answer, int helpful, const char *platform, time_t now)
{
	if (!valid_id(answer))
		return 0;
	char *line = feedback_line(answer, helpful, platform, now);
	int rc = jlog_write(f->log, line, now);
	free(line);
	return rc;
}
