/*
 * log: one line per event on stderr.  With JOURNAL_STREAM set (systemd),
 * lines carry <N> syslog priority prefixes; otherwise a UTC timestamp and
 * the level word.  Every message goes through log_clean(): any registered
 * secret (the platform token) masked, then control characters and invalid
 * UTF-8 made harmless, then cut; so text from outside (a peer's close
 * reason, a response body, a file name) can neither break the line nor
 * send escape sequences to a terminal.  Global state: the level and the
 * secrets list, set once at start.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

int log_parse_level(const char *s, enum log_level *out);
void log_init(enum log_level level);
enum log_level log_get_level(void);
/* Never print this string (copied). */
void log_add_secret(const char *secret);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The text s[0..len) made fit for a log line, in out (outlen bytes, NUL
 * included): every registered secret masked first (so a cut can never
 * leave part of one), then line breaks and tabs as spaces, other control
 * characters (C0, DEL, C1) and invalid UTF-8 as '?', then cut on a
 * character boundary.  For excerpts of peer text; log_msg does this to
 * every message.
 */
void log_clean(char *out, size_t outlen, const char *s, size_t len);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_DEBUG)                                                  \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
