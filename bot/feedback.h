/*
 * feedback: the JSON-lines log of the "was this helpful?" thumbs, for
 * staff (`massagebot report` lists the answers with the most thumbs down).
 * One line per thumb: {"time":"YYYY-MM-DD","answer":"deep-tissue-massage",
 * "helpful":false,"platform":"web"}.  It keeps no visitor, chat or message
 * id and no text from the chat; like the unanswered log it is a jlog
 * (jlog.h): the day, not the second, entries deleted after the same number
 * of days, the size capped.
 */
#ifndef FEEDBACK_H
#define FEEDBACK_H

#include <stddef.h>
#include <time.h>

#define FEEDBACK_MAX_BYTES (5L * 1024 * 1024)
#define FEEDBACK_ID_MAX 128 /* bytes of an answer id, NUL included */

struct feedback;

/* Open (and prune) the log; NULL with *cause (caller frees). */
struct feedback *feedback_open(const char *path, int keep_days, time_t now, char **cause);
void feedback_close(struct feedback *f);
/* Log one thumb on answer (an answer id); 1 if written. */
int feedback_note(struct feedback *f, const char *answer, int helpful, const char *platform,
		  time_t now);

/* Pure: the log line for one thumb, newline included (caller frees). */
char *feedback_line(const char *answer, int helpful, const char *platform, time_t now);
/* Pure: read one log line: 0 with the answer id (in answer, n bytes) and
 * *helpful, or -1 if it is not an entry. */
int feedback_parse(const char *line, size_t len, char *answer, size_t n, int *helpful);

#endif
