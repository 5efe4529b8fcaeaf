/*
 * term: text for a person's terminal.  term_escape shows control
 * characters (and the invisible ones that reorder text) as escapes, so
 * what someone typed into a chat can never drive the staff member's
 * terminal.  term_render turns a reply's Markdown into terminal text:
 * paragraphs wrapped at word boundaries to a width, **bold** and _emphasis_
 * as terminal attributes (or plain), list items kept with a hanging
 * indent, links as "text (address)".  Pure: the caller decides the width
 * and whether attributes are wanted (a terminal, NO_COLOR, TERM=dumb).
 */
#ifndef TERM_H
#define TERM_H

#include <stddef.h>

#include "strbuf.h"

/* Append s[0..n) to out with C0/C1 controls, DEL, line and paragraph
 * separators and bidirectional controls written as \n, \t, \xNN or \u{NNNN};
 * invalid UTF-8 bytes as \xNN. */
void term_escape(struct strbuf *out, const char *s, size_t n);

enum term_style {
	TERM_PLAIN, /* no markup, no attributes: the words and the link addresses */
	TERM_ATTRS, /* bold and emphasis as SGR attributes (bold, italic) */
};

/*
 * Append the Markdown text md, rendered: width 0 leaves paragraphs
 * unwrapped (piped output).  Control characters in md are escaped as by
 * term_escape.
 */
void term_render(struct strbuf *out, const char *md, size_t width, enum term_style style);

#endif
