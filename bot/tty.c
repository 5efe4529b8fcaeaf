/*
 * tty: terminal detection and reply printing (see tty.h).
 */
#include "tty.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "strbuf.h"

void
tty_detect(int fd, struct tty_out *o)
{
	memset(o, 0, sizeof *o);
	o->style = TERM_PLAIN;
	if (!isatty(fd))
		return;
	o->terminal = 1;
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o->width = ws.ws_col;
	else if (cols && atoi(cols) > 0)
		o->width = (size_t)atoi(cols);
	else
		o->width = TTY_WIDTH_DEFAULT;
	if (o->width < 20)
		o->width = 20;
	const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
	if (term && *term && strcmp(term, "dumb") != 0 && !(no_color && *no_color))
		o->style = TERM_ATTRS;
}

void
tty_print(FILE *f, const struct tty_out *o, const char *prefix, const char *md)
{
	size_t indent = strlen(prefix);
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	term_render(&b, md, o->width > indent + 20 ? o->width - indent : o->width, o->style);
	fputs(prefix, f);
	for (const char *p = b.s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (p != b.s && n > 0)
			fprintf(f, "%*s", (int)indent, "");
		fwrite(p, 1, n, f);
		fputc('\n', f);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	sb_free(&b);
}
