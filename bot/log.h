/*
 * log: one line per event on stderr.  With JOURNAL_STREAM set (systemd),
 * lines carry <N> syslog priority prefixes; otherwise a UTC timestamp and
 * the level word.  Newlines in messages are flattened and any registered
 * secret (the platform token) is redacted.  Global state: the level and the
 * secrets list, set once at start.
 */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

int log_parse_level(const char *s, enum log_level *out);
void log_init(enum log_level level);
enum log_level log_get_level(void);
/* Never print this string (copied). */
void log_add_secret(const char *secret);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_DEBUG)                                                  \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
