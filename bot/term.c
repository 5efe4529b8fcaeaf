/*
 * term: escaping and Markdown rendering for a terminal (see term.h).
 * Pure.  A paragraph or list item becomes a row of cells (one character,
 * or one escape, with its style), words are runs of cells between spaces,
 * and lines are filled greedily with whole words.
 */
#include "term.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmem.h"

enum { ST_BOLD = 1, ST_EM = 2 };

/* ---- escaping ------------------------------------------------------------ */

/* Is code point c one to show escaped? */
static int
hidden(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	       (c >= 0x200e && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x061c;
}

/* Decode the code point at s (n bytes left): its length, or 0 if the byte
 * does not start a valid sequence. */
static size_t
decode(const char *s, size_t n, uint32_t *cp)
{
	size_t bad = utf8_invalid_at(s, n < 4 ? n : 4);
	const unsigned char *u = (const unsigned char *)s;
	size_t len = u[0] < 0x80 ? 1 : u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
	if (bad == 0 || len > n || (bad < len))
		return 0;
	if (len == 1)
		*cp = u[0];
	else if (len == 2)
		*cp = (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	else if (len == 3)
		*cp = (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	else
		*cp = (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3f) << 12 |
		      (uint32_t)(u[2] & 0x3f) << 6 | (u[3] & 0x3f);
	return len;
}

/* One character of s, escaped if it must be; returns the bytes used. */
static size_t
escape_one(struct strbuf *out, const char *s, size_t n)
{
	uint32_t c = 0;
	size_t len = decode(s, n, &c);
	if (len == 0) {
		sb_addf(out, "\\x%02x", (unsigned char)s[0]);
		return 1;
	}
	if (!hidden(c))
		sb_add(out, s, len);
	else if (c == '\n')
		sb_adds(out, "\\n");
	else if (c == '\t')
		sb_adds(out, "\\t");
	else if (c < 0x80)
		sb_addf(out, "\\x%02x", (unsigned)c);
	else
		sb_addf(out, "\\u{%04x}", (unsigned)c);
	return len;
}

void
term_escape(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;)
		i += escape_one(out, s + i, n - i);
}

/* ---- cells ---------------------------------------------------------------- */

struct cell {
	uint32_t off; /* bytes in the row's text */
	uint16_t len, cols;
	uint8_t style, space;
};

struct row {
	struct strbuf text;
	struct cell *v;
	size_t n, cap;
};

/* Cells for the characters of s[0..n), escaped where they must be. */
static void
cell(struct row *r, const char *s, size_t n, int style)
{
	for (size_t used = 0; used < n;) {
		size_t at = r->text.len;
		int space = s[used] == ' ';
		used += escape_one(&r->text, s + used, n - used);
		size_t len = r->text.len - at;
		/* a character is one column; an escape as many as it shows */
		int escaped = len > 1 && (unsigned char)r->text.s[at] < 0x80;
		r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof *r->v);
		r->v[r->n++] =
		    (struct cell){(uint32_t)at, (uint16_t)len, (uint16_t)(escaped ? len : 1),
				  (uint8_t)style, (uint8_t)space};
	}
}

static int
blank_at(const char *s, size_t n, size_t i)
{
	return i >= n || s[i] == ' ';
}

static int
opens_before(char c)
{
	return c == ' ' || c == '(' || c == '[' || c == '"' || c == '\'' || c == '/';
}

static int
closes_after(char c)
{
	return c == ' ' || strchr(".,;:!?)]\"'/-", c) != NULL;
}

/* Is there a closing single marker m for an emphasis opened before i? */
static int
closer_at(const char *s, size_t n, size_t i, char m)
{
	return s[i] == m && i > 0 && s[i - 1] != ' ' && (i + 1 >= n || closes_after(s[i + 1]));
}

static int
has_closer(const char *s, size_t n, size_t from, char m)
{
	for (size_t i = from; i < n; i++)
		if (closer_at(s, n, i, m) && !(m == '*' && i + 1 < n && s[i + 1] == '*'))
			return 1;
	return 0;
}

/* A paragraph or list item's text (soft line breaks already spaces) into
 * cells: **bold**, _em_ / *em*, [text](address), \-escapes. */
static void
parse_inline(struct row *r, const char *s, size_t n)
{
	int style = 0;
	char em = 0; /* the marker that opened the emphasis */
	for (size_t i = 0; i < n;) {
		if (s[i] == '\\' && i + 1 < n && strchr("\\`*_[]()#+-.!", s[i + 1])) {
			cell(r, s + i + 1, 1, style);
			i += 2;
		} else if (s[i] == '*' && i + 1 < n && s[i + 1] == '*' &&
			   ((style & ST_BOLD) || memmem(s + i + 2, n - i - 2, "**", 2))) {
			style ^= ST_BOLD;
			i += 2;
		} else if ((s[i] == '_' || s[i] == '*') && em == s[i] && closer_at(s, n, i, s[i])) {
			style &= ~ST_EM;
			em = 0;
			i++;
		} else if ((s[i] == '_' || s[i] == '*') && !em &&
			   (i == 0 || opens_before(s[i - 1])) && !blank_at(s, n, i + 1) &&
			   has_closer(s, n, i + 2, s[i])) {
			style |= ST_EM;
			em = s[i];
			i++;
		} else if (s[i] == '[') {
			const char *mid = memmem(s + i, n - i, "](", 2);
			const char *end =
			    mid ? memchr(mid + 2, ')', (size_t)(s + n - mid - 2)) : NULL;
			if (end == NULL || memchr(s + i, '\n', (size_t)(end - s - i))) {
				cell(r, s + i, 1, style);
				i++;
				continue;
			}
			const char *text = s + i + 1, *url = mid + 2;
			size_t tl = (size_t)(mid - text), ul = (size_t)(end - url);
			struct row inner = {STRBUF_INIT, NULL, 0, 0};
			parse_inline(&inner, text, tl);
			for (size_t k = 0; k < inner.n; k++)
				cell(r, inner.text.s + inner.v[k].off, inner.v[k].len,
				     style | inner.v[k].style);
			if (tl != ul || memcmp(text, url, tl) != 0) {
				cell(r, " (", 2, style);
				cell(r, url, ul, 0);
				cell(r, ")", 1, style);
			}
			sb_free(&inner.text);
			free(inner.v);
			i = (size_t)(end - s) + 1;
		} else {
			uint32_t cp;
			size_t len = decode(s + i, n - i, &cp);
			cell(r, s + i, len ? len : 1, style);
			i += len ? len : 1;
		}
	}
}

/* ---- layout --------------------------------------------------------------- */

static void
set_style(struct strbuf *out, int *cur, int want, enum term_style ts)
{
	if (ts != TERM_ATTRS || *cur == want)
		return;
	if (*cur & ~want)
		sb_adds(out, "\033[22;23m");
	if (want & ST_BOLD)
		sb_adds(out, "\033[1m");
	if (want & ST_EM)
		sb_adds(out, "\033[3m");
	*cur = want;
}

/* Lay out one row: `lead` before its first line (a list marker), as many
 * spaces before the others; words never split; width 0: one line. */
static void
layout(struct strbuf *out, const struct row *r, const char *lead, size_t width, enum term_style ts)
{
	size_t indent = strlen(lead), col = indent, i = 0;
	int cur = 0;
	sb_adds(out, lead);
	while (i < r->n && r->v[i].space)
		i++;
	int first = 1;
	while (i < r->n) {
		size_t j = i, cols = 0;
		while (j < r->n && !r->v[j].space)
			cols += r->v[j++].cols;
		if (!first && width && col + 1 + cols > width) {
			set_style(out, &cur, 0, ts);
			sb_addc(out, '\n');
			for (size_t k = 0; k < indent; k++)
				sb_addc(out, ' ');
			col = indent;
		} else if (!first) {
			/* the space takes what both words share (bold, emphasis) */
			set_style(out, &cur, cur & r->v[i].style, ts);
			sb_addc(out, ' ');
			col++;
		}
		for (size_t k = i; k < j; k++) {
			set_style(out, &cur, r->v[k].style, ts);
			sb_add(out, r->text.s + r->v[k].off, r->v[k].len);
		}
		col += cols;
		first = 0;
		for (i = j; i < r->n && r->v[i].space; i++)
			;
	}
	set_style(out, &cur, 0, ts);
}

/* A list item's marker at the start of line l: its length, or 0. */
static size_t
list_marker(const char *l, size_t n)
{
	if (n >= 2 && (l[0] == '-' || l[0] == '*' || l[0] == '+') && l[1] == ' ')
		return 2;
	size_t d = 0;
	while (d < n && d < 3 && l[d] >= '0' && l[d] <= '9')
		d++;
	if (d && d + 1 < n && (l[d] == '.' || l[d] == ')') && l[d + 1] == ' ')
		return d + 2;
	return 0;
}

struct blocks {
	struct strbuf *out;
	size_t width;
	enum term_style ts;
	struct strbuf para, lead; /* the paragraph or item being gathered */
	int n, item, prev_item, gap;
};

/* Lay out the paragraph or list item gathered so far. */
static void
flush(struct blocks *b)
{
	if (b->para.len == 0)
		return;
	struct row r = {STRBUF_INIT, NULL, 0, 0};
	parse_inline(&r, b->para.s, b->para.len);
	if (b->n)
		sb_adds(b->out, b->item && b->prev_item && !b->gap ? "\n" : "\n\n");
	layout(b->out, &r, b->lead.len ? b->lead.s : "", b->width, b->ts);
	sb_free(&r.text);
	free(r.v);
	b->n++;
	b->prev_item = b->item;
	b->gap = 0;
	b->para.len = 0;
}

void
term_render(struct strbuf *out, const char *md, size_t width, enum term_style ts)
{
	struct blocks b = {out, width, ts, STRBUF_INIT, STRBUF_INIT, 0, 0, 0, 0};
	for (const char *p = md, *end = md + strlen(md); p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s = p;
		p = nl ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		size_t len = (size_t)(e - s);
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\r'))
			len--;
		size_t mark = list_marker(s, len);
		if (len == 0) { /* a blank line ends the paragraph or the list */
			flush(&b);
			b.gap = b.n > 0;
			b.item = 0;
			b.lead.len = 0;
		} else if (mark) { /* a new list item */
			flush(&b);
			b.item = 1;
			b.lead.len = 0;
			sb_add(&b.lead, s, mark);
			sb_add(&b.para, s + mark, len - mark);
		} else { /* a line of the paragraph or item: a soft break */
			if (b.para.len)
				sb_addc(&b.para, ' ');
			sb_add(&b.para, s, len);
		}
	}
	flush(&b);
	sb_free(&b.para);
	sb_free(&b.lead);
}
