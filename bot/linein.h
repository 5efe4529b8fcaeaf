/*
 * linein: lines from a file descriptor (standard input for `ask` and the
 * console bot) with bounded memory.  read(2) underneath, so the caller
 * knows when the next line is not there yet: standard output is flushed
 * just before a read that may wait, so every answer to the questions read
 * so far is out (a pipe of questions is still written in blocks).
 */
#ifndef LINEIN_H
#define LINEIN_H

#include <stddef.h>

/* Longest line kept; the rest of a longer one is dropped (a question is
 * cut to 4096 bytes anyway), so input with no newline cannot exhaust
 * memory. */
#define LINEIN_MAX (1024 * 1024)

struct linein {
	int fd;
	char *buf;
	size_t start, len, cap;
	int eof, err; /* err: errno of a failed read (which also ends input) */
	int skipping; /* the rest of an over-long line is being dropped */
};

#define LINEIN_INIT(fd_)                                                                           \
	{                                                                                          \
		(fd_), NULL, 0, 0, 0, 0, 0, 0                                                      \
	}

/*
 * The next line, its end (\n or \r\n) replaced by NUL, length in *n; a
 * line longer than LINEIN_MAX comes back cut to that length.  NULL at the
 * end of input (r->err set if a read failed), or with errno EINTR when a
 * signal interrupted the wait (call again).
 */
char *linein_next(struct linein *r, size_t *n);
void linein_free(struct linein *r);

#endif
