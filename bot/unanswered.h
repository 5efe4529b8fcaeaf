/*
 * unanswered: the JSON-lines log of questions the bot could not answer (or
 * answered with a small lead), for staff to review with `massagebot report`.
 * One line per question: {"time","question","reason","candidates"}.  No user
 * ids, names or channel ids are ever passed in: the question is the copy the
 * platform made for the log, with its own syntax that names people (Discord
 * mentions) removed.  The file is size-capped: past the cap it is renamed to
 * FILE.1 (replacing the previous one) and a new file is started.
 */
#ifndef UNANSWERED_H
#define UNANSWERED_H

#include <stddef.h>
#include <time.h>

#include "answer.h"

#define UNANSWERED_MAX_BYTES (5L * 1024 * 1024)

struct unanswered;

/* Returns NULL with *cause (caller frees) if the file cannot be opened. */
struct unanswered *unanswered_open(const char *path, long max_bytes, char **cause);
void unanswered_close(struct unanswered *u);

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
