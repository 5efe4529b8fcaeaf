/*
 * tty: how the terminal front ends (the console bot, `ask`, `report`) show
 * text on a file descriptor.  On a terminal: wrapped to its width (80 when
 * it does not say), bold and emphasis as attributes unless NO_COLOR is set
 * or TERM is dumb or unset.  Anything else (a pipe, a file): plain text,
 * one line per paragraph, no markup.  Edge module: asks the terminal and
 * the environment; the rendering itself is term.c.
 */
#ifndef TTY_H
#define TTY_H

#include <stddef.h>
#include <stdio.h>

#include "term.h"

#define TTY_WIDTH_DEFAULT 80

struct tty_out {
	int terminal;
	size_t width; /* 0: do not wrap */
	enum term_style style;
};

void tty_detect(int fd, struct tty_out *o);

/*
 * Print a reply's Markdown to f as o says, then a newline.  prefix (may be
 * "") starts the first line; the lines after it are indented as far.
 */
void tty_print(FILE *f, const struct tty_out *o, const char *prefix, const char *md);

#endif
