/*
 * xmem: allocation helpers that abort on out-of-memory.
 * Every other size in massagebot is bounded and checked by the caller; only
 * a failed malloc is treated as fatal.  No other state.
 */
#ifndef XMEM_H
#define XMEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least want elements; doubles the capacity.
 * The common case (room enough) inline: it is called for every token. */
void *xgrow_slow(void *p, size_t *cap, size_t want, size_t elem);
static inline void *
xgrow(void *p, size_t *cap, size_t want, size_t elem)
{
	return want <= *cap ? p : xgrow_slow(p, cap, want, elem);
}
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
