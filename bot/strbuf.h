/*
 * strbuf: a growable, always NUL-terminated byte buffer (sb_ prefix).
 * Pure: no I/O.  The caller owns the buffer and frees it with sb_free();
 * sb_steal() hands the bytes over as a plain malloc'd string.
 */
#ifndef STRBUF_H
#define STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *s;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void sb_add(struct strbuf *b, const void *p, size_t n);
void sb_adds(struct strbuf *b, const char *s);
void sb_addc(struct strbuf *b, char c);
void sb_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void sb_reset(struct strbuf *b);
/* Returns the string (never NULL); the buffer is left empty. */
char *sb_steal(struct strbuf *b);
void sb_free(struct strbuf *b);

#endif
