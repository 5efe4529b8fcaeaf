/*
 * unanswered: size-capped JSON-lines log of unanswered questions (see
 * unanswered.h).
 */
#include "unanswered.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jlog.h"
#include "strbuf.h"
#include "xmem.h"

struct unanswered {
	struct jlog *log;
};

/* ---- scrubbing ------------------------------------------------------------ */

static int
email_local(unsigned char c)
{
	return isalnum(c) || (c && strchr("._%+-", c));
}

static int
email_domain(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-';
}

static int
phone_sep(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

struct span {
	size_t start, end;
	const char *with;
};

/* The e-mail address around the '@' at at, if it is one. */
static int
email_at(const char *s, size_t n, size_t at, struct span *sp)
{
	size_t l = at, r = at + 1;
	while (l > 0 && email_local((unsigned char)s[l - 1]))
		l--;
	while (r < n && email_domain((unsigned char)s[r]))
		r++;
	while (r > at + 1 && (s[r - 1] == '.' || s[r - 1] == '-'))
		r--;
	const char *dot = memchr(s + at + 1, '.', r - at - 1);
	if (l == at || dot == NULL || dot == s + at + 1 || dot + 1 >= s + r)
		return 0;
	*sp = (struct span){l, r, "[email]"};
	return 1;
}

/* A phone number (7 digits or more, grouped by spaces, dashes, dots or
 * brackets, or starting with +, ( or 0) or a run of 5 digits or more,
 * starting at i: filled into *sp.  Otherwise *sp is left alone and the
 * return value is where to look next. */
static size_t
number_at(const char *s, size_t n, size_t i, struct span *sp)
{
	size_t j = i, end = i;
	int digits = 0, run = 0, longest = 0, seps = 0, separated = 0;
	int dialled = s[i] == '+' || s[i] == '(' || s[i] == '0';
	if (s[j] == '+' || s[j] == '(')
		j++;
	while (j < n) {
		if (isdigit((unsigned char)s[j])) {
			separated |= seps > 0;
			digits++;
			if (++run > longest)
				longest = run;
			seps = 0;
			end = ++j;
		} else if (phone_sep(s[j]) && seps < 2 && digits) {
			run = 0;
			seps++;
			j++;
		} else {
			break;
		}
	}
	if (digits >= 7 && (separated || dialled))
		*sp = (struct span){i, end, "[phone]"};
	else if (longest >= 5)
		*sp = (struct span){i, end, "[number]"};
	else
		return end > i ? end : i + 1;
	return 0;
}

char *
unanswered_scrub(const char *s)
{
	size_t n = strlen(s);
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	size_t emitted = 0;
	const char *at = strchr(s, '@');
	for (size_t i = 0; i < n;) {
		struct span sp = {0, 0, NULL};
		unsigned char c = (unsigned char)s[i];
		if (at && at < s + i)
			at = strchr(s + i, '@');
		int word_start = i == 0 || !isalnum((unsigned char)s[i - 1]);
		struct span e;
		if (at && word_start && email_local(c) && email_at(s, n, (size_t)(at - s), &e) &&
		    e.start == i)
			sp = e;
		if (sp.with == NULL && (isdigit(c) || ((c == '+' || c == '(') && i + 1 < n &&
						       isdigit((unsigned char)s[i + 1])))) {
			size_t next = number_at(s, n, i, &sp);
			if (sp.with == NULL) {
				i = next;
				continue;
			}
		} else if (sp.with == NULL) {
			i++;
			continue;
		}
		sb_add(&b, s + emitted, sp.start - emitted);
		sb_adds(&b, sp.with);
		emitted = i = sp.end;
	}
	sb_add(&b, s + emitted, n - emitted);
	return sb_steal(&b);
}

/* ---- the file ------------------------------------------------------------- */

/* An old entry kept: its question scrubbed as it would be today. */
static int
fix_entry(json_t *o)
{
	const char *q = json_string_value(json_object_get(o, "question"));
	if (q == NULL)
		return -1;
	char *clean = unanswered_scrub(q);
	json_object_set_new(o, "question", json_string(clean));
	free(clean);
	return 0;
}

char *
unanswered_prune_line(const char *line, const char *cutoff)
{
	return jlog_prune_line(line, cutoff, fix_entry);
}

struct unanswered *
unanswered_open(const char *path, long max_bytes, int keep_days, time_t now, char **cause)
{
	struct jlog *j =
	    jlog_open(path, "unanswered log", max_bytes, keep_days, fix_entry, now, cause);
	if (j == NULL)
		return NULL;
	struct unanswered *u = xcalloc(1, sizeof *u);
	u->log = j;
	return u;
}

void
unanswered_close(struct unanswered *u)
{
	if (u == NULL)
		return;
	jlog_close(u->log);
	free(u);
}

char *
unanswered_line(const struct knowledge *k, const struct answer *a, const char *question,
		double low_margin, time_t now)
{
	const char *reason = NULL;
	if (k->crisis >= 0)
		for (size_t i = 0; i < a->reply.nshown; i++)
			if (a->reply.shown[i] == k->crisis)
				return NULL; /* never keep a crisis message */
	if (a->mr.intent < 0) {
		reason = a->mr.ambiguous ? "low-margin" : "fallback";
	} else if (a->mr.ncand > 1 && a->mr.cand[0].score - a->mr.cand[1].score < low_margin &&
		   a->mr.score < 1.0) {
		reason = "low-margin";
	}
	if (reason == NULL)
		return NULL;
	char day[11];
	jlog_day(now, day);
	char *clean = unanswered_scrub(question);
	json_t *o = json_object();
	json_object_set_new(o, "time", json_string(day));
	json_object_set_new(o, "question", json_string(clean));
	free(clean);
	json_object_set_new(o, "reason", json_string(reason));
	json_t *c = json_array();
	for (size_t i = 0; i < a->mr.ncand; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "intent",
				    json_string(k->entries[a->mr.cand[i].intent].id.s));
		json_object_set_new(e, "score",
				    json_real(round(a->mr.cand[i].score * 1000) / 1000));
		json_array_append_new(c, e);
	}
	json_object_set_new(o, "candidates", c);
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(o);
	char *r = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return r;
}

int
unanswered_note(struct unanswered *u, const struct knowledge *k, const struct answer *a,
		const char *question, double low_margin, time_t now)
{
	char *line = unanswered_line(k, a, question, low_margin, now);
	if (line == NULL)
		return 0;
	int rc = jlog_write(u->log, line, now);
	free(line);
	return rc;
}
