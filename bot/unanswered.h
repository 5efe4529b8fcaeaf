/*
 * unanswered: the JSON-lines log of questions the bot could not answer (or
 * answered with a small lead), for staff to review with `massagebot report`.
 * One line per question: {"time","question","reason","candidates"}.  It
 * keeps what staff need and no more: no user ids, names or channel ids are
 * ever passed in (the question is the copy the platform made for the log,
 * with its syntax that names people removed); phone numbers, e-mail
 * addresses and long runs of digits are replaced before writing.  The file
 * is a jlog (jlog.h): "time" is the day, old entries are deleted, the size
 * is capped.
 */
#ifndef UNANSWERED_H
#define UNANSWERED_H

#include <stddef.h>
#include <time.h>

#include "answer.h"

#define UNANSWERED_MAX_BYTES (5L * 1024 * 1024)

struct unanswered;

/*
 * Open (and prune: see above) the log.  Returns NULL with *cause (caller
 * frees) if the file cannot be opened.
 */
struct unanswered *unanswered_open(const char *path, long max_bytes, int keep_days, time_t now,
				   char **cause);
void unanswered_close(struct unanswered *u);

/*
 * Pure parts, for tests.  unanswered_scrub: the text with phone numbers,
 * e-mail addresses and runs of 5 or more digits replaced by [phone],
 * [email] and [number] (caller frees).  unanswered_prune_line: a log line
 * (without its newline) rewritten as it would be written today (scrubbed,
 * day only), or NULL if it is older than the day `cutoff` (YYYY-MM-DD) or
 * is not a log entry; caller frees.
 */
char *unanswered_scrub(const char *text);
char *unanswered_prune_line(const char *line, const char *cutoff);

/*
 * Log the question (the platform's copy for the log, see above) if its
 * answer a fell back or won by less than low_margin; 1 if logged.
 */
int unanswered_note(struct unanswered *u, const struct knowledge *k, const struct answer *a,
		    const char *question, double low_margin, time_t now);

/* The log line for a (pure; caller frees), or NULL if a is not logged. */
char *unanswered_line(const struct knowledge *k, const struct answer *a, const char *question,
		      double low_margin, time_t now);

#endif
