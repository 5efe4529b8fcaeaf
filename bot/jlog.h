/*
 * jlog: a JSON-lines log that keeps what staff need for a limited time:
 * every entry carries "time" as the day (YYYY-MM-DD), never the second;
 * entries older than keep_days are deleted when the log is opened and
 * every day after (from the log and its rotated copy); past max_bytes the
 * file is renamed to FILE.1 (replacing the previous one) and a new file
 * is started.  A kind of log (the unanswered questions, the feedback)
 * says how an old entry is checked and cleaned when it is rewritten.
 * Edge module: file I/O, logs its own failures.
 */
#ifndef JLOG_H
#define JLOG_H

#include <time.h>

#include <jansson.h>

/* Check and clean one entry being kept (its "time" already the day):
 * 0 to keep it, -1 if it is not an entry of this log. */
typedef int (*jlog_fix)(json_t *entry);

struct jlog;

/*
 * Open (and prune) the log at path; what names it in messages ("unanswered
 * log").  Returns NULL with *cause (caller frees) if it cannot be opened.
 */
struct jlog *jlog_open(const char *path, const char *what, long max_bytes, int keep_days,
		       jlog_fix fix, time_t now, char **cause);
void jlog_close(struct jlog *j);
/* Append one line (with its newline); 1 if written (failures are logged). */
int jlog_write(struct jlog *j, const char *line, time_t now);

/* The day of t, YYYY-MM-DD (UTC). */
void jlog_day(time_t t, char out[11]);
/*
 * Pure: a line (without its newline) as it would be kept today: "time"
 * cut to the day and fix applied; NULL if it is older than the day cutoff
 * (YYYY-MM-DD), not JSON, or not an entry.  Caller frees.
 */
char *jlog_prune_line(const char *line, const char *cutoff, jlog_fix fix);

#endif
