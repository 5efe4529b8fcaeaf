/*
 * linein: bounded line reader (see linein.h).
 */
#include "linein.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmem.h"

char *
linein_next(struct linein *r, size_t *n)
{
	if (r->buf == NULL) {
		r->cap = 65536;
		r->buf = xmalloc(r->cap);
	}
	for (;;) {
		char *line = r->buf + r->start;
		size_t avail = r->len - r->start;
		char *nl = avail ? memchr(line, '\n', avail) : NULL;
		if (r->skipping) { /* the rest of an over-long line */
			if (nl) {
				r->start = (size_t)(nl - r->buf) + 1;
				r->skipping = 0;
				continue;
			}
			r->start = r->len;
		} else if (nl || (r->eof && avail)) {
			size_t l = nl ? (size_t)(nl - line) : avail;
			r->start += nl ? l + 1 : l;
			if (l && line[l - 1] == '\r')
				l--;
			line[l] = '\0'; /* room: cap > len */
			*n = l;
			return line;
		} else if (avail >= LINEIN_MAX) {
			r->start += LINEIN_MAX;
			r->skipping = 1;
			line[LINEIN_MAX] = '\0'; /* a byte of the part dropped */
			*n = LINEIN_MAX;
			return line;
		}
		if (r->eof) {
			errno = 0;
			return NULL;
		}
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
		if (r->len + 1 >= r->cap) {
			r->cap *= 2;
			r->buf = xrealloc(r->buf, r->cap);
		}
		fflush(stdout); /* everything asked so far is answered */
		ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
		if (got < 0 && errno == EINTR)
			return NULL; /* errno stays EINTR */
		if (got < 0)
			r->err = errno;
		if (got <= 0)
			r->eof = 1;
		else
			r->len += (size_t)got;
	}
}

void
linein_free(struct linein *r)
{
	free(r->buf);
	r->buf = NULL;
	r->start = r->len = r->cap = 0;
}
