/*
 * kb_parse: front matter splitting, YAML (libyaml document API) and field
 * validation for answer and rule files; the synonyms line format.  Pure.
 */
#include "kb_parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "strbuf.h"
#include "text.h"
#include "utf8.h"
#include "xmem.h"

const char *
kb_level_name(enum rule_level l)
{
	static const char *const names[] = {"emergency", "urgent", "caution", "info"};
	return names[l];
}

/* ---- front matter ------------------------------------------------------ */

struct fm {
	const char *yaml;
	size_t yaml_len;
	const char *body;
	size_t body_len;
	unsigned body_line; /* file line where the body starts */
};

/* Is the line [p, end) exactly "---" plus optional spaces / CR? */
static int
is_fence(const char *p, const char *end)
{
	if (end - p < 3 || memcmp(p, "---", 3) != 0)
		return 0;
	for (p += 3; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

static int
split_front_matter(const char *file, const char *buf, size_t len, struct fm *fm,
		   struct problems *pr)
{
	size_t bad = utf8_invalid_at(buf, len);
	if (bad < len) {
		unsigned line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
				col++;
			}
		}
		problems_add(pr, file, line, col,
			     "invalid UTF-8 (byte 0x%02X); save the file as UTF-8",
			     (unsigned char)buf[bad]);
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		problems_add(pr, file, 1, 1, "file contains a NUL byte; is it a text file?");
		return -1;
	}
	const char *p = buf, *end = buf + len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *le = nl ? nl : end;
	if (!is_fence(p, le)) {
		problems_add(pr, file, 1, 1, "missing front matter: the first line must be '---'");
		return -1;
	}
	if (nl == NULL) {
		problems_add(pr, file, 1, 1,
			     "front matter is not closed: add a line '---' after it");
		return -1;
	}
	const char *y = nl + 1;
	unsigned line = 2;
	for (const char *q = y; q < end;) {
		const char *n2 = memchr(q, '\n', (size_t)(end - q));
		const char *e2 = n2 ? n2 : end;
		if (is_fence(q, e2)) {
			fm->yaml = y;
			fm->yaml_len = (size_t)(q - y);
			fm->body = n2 ? n2 + 1 : end;
			fm->body_len = (size_t)(end - fm->body);
			fm->body_line = line + 1;
			return 0;
		}
		if (n2 == NULL)
			break;
		q = n2 + 1;
		line++;
	}
	problems_add(pr, file, 1, 1, "front matter is not closed: add a line '---' after it");
	return -1;
}

/* Trim surrounding blank space and CRs; returns a new string. */
static char *
trim_body(const char *b, size_t n, unsigned *line)
{
	size_t s = 0;
	while (s < n && isspace((unsigned char)b[s])) {
		if (b[s] == '\n')
			(*line)++;
		s++;
	}
	while (n > s && isspace((unsigned char)b[n - 1]))
		n--;
	struct strbuf o = STRBUF_INIT;
	sb_add(&o, "", 0);
	for (size_t i = s; i < n; i++)
		if (b[i] != '\r')
			sb_addc(&o, b[i]);
	return sb_steal(&o);
}

/* ---- YAML fields -------------------------------------------------------- */

enum ftype { F_STR, F_LIST, F_INT, F_LEVEL, F_BOOL };

#define KB_FIELDS_MAX 16

struct field {
	const char *name;
	enum ftype type;
	int required;
	size_t off; /* offset of struct kb_str / kb_list / int in the record */
};

struct yctx {
	const char *file;
	yaml_document_t *doc;
	struct problems *pr;
	int errors;
};

static unsigned
yline(const yaml_node_t *n)
{
	return kb_yaml_line(n, 2); /* the front matter starts on line 2 */
}

static char *
scalar_dup(const yaml_node_t *n)
{
	return xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

char *
kb_next_line(const char *data, size_t len, size_t *pos)
{
	if (*pos >= len)
		return NULL;
	const char *s = data + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + 1;
	char *line = xmalloc(n + 1);
	memcpy(line, s, n);
	line[n] = '\0';
	n = strlen(line);
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	return line;
}

const char *
kb_closest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	int bd = 3;
	for (size_t i = 0; i < n; i++) {
		int d = text_distance(word, strlen(word), names[i], strlen(names[i]), bd);
		if (d < bd) {
			bd = d;
			best = names[i];
		}
	}
	return best;
}

/*
 * libyaml takes time quadratic in the nesting of flow collections ('[',
 * '{'): 240 KB of brackets took 46 s.  Nothing a person writes nests
 * that deep, so deeper input is refused before it reaches libyaml.
 * Returns the offset of the first bracket past the limit, or len.
 */
static size_t
flow_too_deep(const char *y, size_t len)
{
	int depth = 0;
	char quote = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = y[i];
		if (quote) {
			if (ch == quote || ch == '\n')
				quote = 0;
		} else if (ch == '\'' || ch == '"') {
			quote = ch;
		} else if (ch == '[' || ch == '{') {
			if (++depth > KB_FLOW_DEPTH_MAX)
				return i;
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		}
	}
	return len;
}

/* Line and column (1-based, counting characters) of offset off in y. */
static void
position(const char *y, size_t off, unsigned first_line, unsigned *line, unsigned *col)
{
	*line = first_line;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (y[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)y[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

int
kb_yaml_load(const char *file, const char *yaml, size_t len, unsigned first_line,
	     yaml_document_t *doc, struct problems *pr)
{
	unsigned line, col;
	size_t deep = flow_too_deep(yaml, len);
	if (deep < len) {
		position(yaml, deep, first_line, &line, &col);
		problems_add(pr, file, line, col,
			     "brackets nested more than %d deep; write lists as lines starting "
			     "with '- '",
			     KB_FLOW_DEPTH_MAX);
		return -1;
	}
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&p, doc)) {
		line = (unsigned)p.problem_mark.line + first_line;
		col = (unsigned)p.problem_mark.column + 1;
		size_t at = p.problem_mark.index;
		if ((at < len && yaml[at] == '\t') || (p.problem && strstr(p.problem, "tab"))) {
			/* libyaml says "found character that cannot start any
			 * token": name the real cause */
			problems_add(pr, file, line, col,
				     "tab: indent with spaces (YAML does not allow tabs here)");
		} else if (p.context) {
			problems_add(pr, file, line, col, "YAML: %s (%s at line %u)",
				     p.problem ? p.problem : "syntax error", p.context,
				     (unsigned)p.context_mark.line + first_line);
		} else {
			problems_add(pr, file, line, col, "YAML: %s",
				     p.problem ? p.problem : "syntax error");
		}
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_parser_delete(&p);
	return 0;
}

unsigned
kb_yaml_line(const yaml_node_t *n, unsigned first_line)
{
	return (unsigned)n->start_mark.line + first_line;
}

#define YERR(c, line, ...)                                                                         \
	do {                                                                                       \
		problems_add((c)->pr, (c)->file, (line), 1, __VA_ARGS__);                          \
		(c)->errors++;                                                                     \
	} while (0)

static int
blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

static void
take_field(struct yctx *c, const struct field *f, yaml_node_t *v, void *rec)
{
	char *base = rec;
	switch (f->type) {
	case F_STR: {
		struct kb_str *s = (struct kb_str *)(base + f->off);
		if (v->type != YAML_SCALAR_NODE) {
			YERR(c, yline(v), "'%s' must be a single text value%s", f->name,
			     v->type == YAML_SEQUENCE_NODE ? ", not a list" : "");
			return;
		}
		s->s = scalar_dup(v);
		s->line = yline(v);
		if (blank(s->s))
			YERR(c, yline(v), "'%s' is empty", f->name);
		return;
	}
	case F_BOOL: {
		static const char *const yes[] = {"true", "yes"}, *const no[] = {"false", "no"};
		int *out = (int *)(void *)(base + f->off);
		char *s = v->type == YAML_SCALAR_NODE ? scalar_dup(v) : NULL;
		int val = -1;
		for (size_t i = 0; s && i < 2; i++) {
			if (strcasecmp(s, yes[i]) == 0)
				val = 1;
			if (strcasecmp(s, no[i]) == 0)
				val = 0;
		}
		if (val < 0)
			YERR(c, yline(v), "'%s' must be true or false", f->name);
		else
			*out = val;
		free(s);
		return;
	}
	case F_INT:
	case F_LEVEL: {
		if (v->type != YAML_SCALAR_NODE) {
			YERR(c, yline(v), "'%s' must be a single value", f->name);
			return;
		}
		char *s = scalar_dup(v);
		int *out = (int *)(void *)(base + f->off);
		if (f->type == F_INT) {
			char *e;
			long x = strtol(s, &e, 10);
			if (*s == '\0' || *e != '\0' || x < KB_PRIORITY_MIN || x > KB_PRIORITY_MAX)
				YERR(c, yline(v),
				     "'%s' must be a whole number from %d to %d, not '%s'", f->name,
				     KB_PRIORITY_MIN, KB_PRIORITY_MAX, s);
			else
				*out = (int)x;
		} else {
			static const char *const lv[] = {"emergency", "urgent", "caution", "info"};
			int found = -1;
			for (int i = 0; i < 4; i++)
				if (strcmp(s, lv[i]) == 0)
					found = i;
			if (found < 0)
				YERR(c, yline(v),
				     "'%s' must be emergency, urgent, caution or info, not '%s'",
				     f->name, s);
			else
				*out = found;
		}
		free(s);
		return;
	}
	case F_LIST: {
		struct kb_list *l = (struct kb_list *)(base + f->off);
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
		    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return; /* "tags:" with nothing: an empty list, as "tags: []" */
		if (v->type != YAML_SEQUENCE_NODE) {
			YERR(c, yline(v), "'%s' must be a list (lines starting with '- ')",
			     f->name);
			l->bad = 1;
			return;
		}
		size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
		l->v = xcalloc(n ? n : 1, sizeof *l->v);
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *it =
			    yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
			if (it == NULL)
				continue;
			if (it->type != YAML_SCALAR_NODE) {
				YERR(c, yline(it),
				     "an item of '%s' is not plain text; put it in quotes if it "
				     "contains ': '",
				     f->name);
				l->bad = 1;
				continue;
			}
			char *s = scalar_dup(it);
			if (blank(s)) {
				YERR(c, yline(it), "an item of '%s' is empty", f->name);
				l->bad = 1;
				free(s);
				continue;
			}
			l->v[l->n].s = s;
			l->v[l->n].line = yline(it);
			l->n++;
		}
		return;
	}
	}
}

/*
 * Load the YAML block and dispatch keys through the field table.  Records
 * the line of each key in key_lines (by field index) for later checks.
 */
static int
parse_fields(const char *file, const struct fm *fm, const struct field *fields, size_t nf,
	     void *rec, unsigned *key_lines, struct problems *pr)
{
	yaml_document_t doc;
	int rc = -1;
	struct yctx c = {file, &doc, pr, 0};

	if (kb_yaml_load(file, fm->yaml, fm->yaml_len, 2, &doc, pr) < 0)
		return -1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		problems_add(pr, file, root ? yline(root) : 2, 1,
			     "front matter must be 'key: value' lines (id, title, ...)");
		goto out;
	}
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			YERR(&c, yline(k), "a key must be a plain word");
			continue;
		}
		char *name = scalar_dup(k);
		size_t fi = nf;
		for (size_t i = 0; i < nf; i++)
			if (strcmp(fields[i].name, name) == 0)
				fi = i;
		if (fi == nf) {
			const char *names[KB_FIELDS_MAX];
			size_t nn = 0;
			for (; nn < nf && nn < KB_FIELDS_MAX; nn++)
				names[nn] = fields[nn].name;
			const char *best = kb_closest(name, names, nn);
			struct strbuf allowed = STRBUF_INIT;
			for (size_t i = 0; i < nf; i++)
				sb_addf(&allowed, "%s%s", i ? ", " : "", fields[i].name);
			if (best)
				problems_add(pr, file, yline(k), 1,
					     "unknown key '%s' (did you mean '%s'?)", name, best);
			else
				problems_add(pr, file, yline(k), 1,
					     "unknown key '%s' (allowed: %s)", name, allowed.s);
			sb_free(&allowed);
			c.errors++;
		} else if (key_lines[fi]) {
			problems_add(pr, file, yline(k), 1,
				     "key '%s' appears twice (first at line %u)", name,
				     key_lines[fi]);
			c.errors++;
		} else {
			key_lines[fi] = yline(k);
			take_field(&c, &fields[fi], v, rec);
		}
		free(name);
	}
	for (size_t i = 0; i < nf; i++)
		if (fields[i].required && !key_lines[i]) {
			problems_add(pr, file, 2, 1, "missing required key '%s'", fields[i].name);
			c.errors++;
		}
	rc = c.errors ? -1 : 0;
out:
	yaml_document_delete(&doc);
	return rc;
}

static int
valid_id(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static int
valid_date(const char *s)
{
	int y, m, d;
	char extra;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3)
		return 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

static void
check_id(const char *file, const struct kb_str *id, struct problems *pr, int *errors)
{
	if (id->s && !blank(id->s) && !valid_id(id->s)) {
		problems_add(pr, file, id->line, 1,
			     "id '%s' may only use lowercase letters, digits and '-'", id->s);
		(*errors)++;
	}
}

static int
check_body(const char *file, struct fm *fm, char **out, unsigned *line, struct problems *pr)
{
	*line = fm->body_line;
	*out = trim_body(fm->body, fm->body_len, line);
	size_t n = utf8_count(*out, strlen(*out));
	if (n == 0) {
		problems_add(pr, file, fm->body_line, 1,
			     "the text after the front matter is empty; write the reply there");
		return -1;
	}
	if (n > KB_BODY_MAX) {
		problems_add(pr, file, *line, 1, "text is too long: %zu characters (limit %d)", n,
			     KB_BODY_MAX);
		return -1;
	}
	return 0;
}

#define OFF(type, m) offsetof(type, m)

/* Size check, front matter split and the field table: the part every file
 * kind shares.  -1 if there is no front matter to go on. */
static int
parse_front(const char *file, const char *buf, size_t len, const struct field *fields, size_t nf,
	    void *rec, unsigned *key_lines, struct fm *fm, int *errors, struct problems *pr)
{
	if (len > KB_FILE_MAX) {
		problems_add(pr, file, 1, 1, "file is too large (%zu bytes, limit %d)", len,
			     KB_FILE_MAX);
		return -1;
	}
	if (split_front_matter(file, buf, len, fm, pr) < 0)
		return -1;
	if (parse_fields(file, fm, fields, nf, rec, key_lines, pr) < 0)
		(*errors)++;
	return 0;
}

int
kb_parse_entry(const char *file, const char *buf, size_t len, struct kb_entry *out,
	       struct problems *pr)
{
	enum {
		E_ID,
		E_TITLE,
		E_QUESTIONS,
		E_TAGS,
		E_RELATED,
		E_SOURCE,
		E_REVIEWED,
		E_DISCLAIMER,
		NF
	};
	static const struct field fields[NF] = {
	    [E_ID] = {"id", F_STR, 1, OFF(struct kb_entry, id)},
	    [E_TITLE] = {"title", F_STR, 1, OFF(struct kb_entry, title)},
	    [E_QUESTIONS] = {"questions", F_LIST, 1, OFF(struct kb_entry, questions)},
	    [E_TAGS] = {"tags", F_LIST, 0, OFF(struct kb_entry, tags)},
	    [E_RELATED] = {"related", F_LIST, 0, OFF(struct kb_entry, related)},
	    [E_SOURCE] = {"source", F_STR, 1, OFF(struct kb_entry, source)},
	    [E_REVIEWED] = {"reviewed", F_STR, 1, OFF(struct kb_entry, reviewed)},
	    [E_DISCLAIMER] = {"disclaimer", F_BOOL, 0, OFF(struct kb_entry, disclaimer)},
	};
	unsigned key_lines[NF] = {0};
	struct fm fm;
	int errors = 0;

	memset(out, 0, sizeof *out);
	out->file = xstrdup(file);
	out->disclaimer = 1;
	if (parse_front(file, buf, len, fields, NF, out, key_lines, &fm, &errors, pr) < 0)
		return -1;
	check_id(file, &out->id, pr, &errors);
	/* "questions:" with nothing after it is as empty as "questions: []" */
	if (key_lines[E_QUESTIONS] && !out->questions.bad && out->questions.n < KB_QUESTIONS_MIN) {
		problems_add(pr, file, key_lines[E_QUESTIONS], 1,
			     "'questions' needs at least %d phrasings (has %zu)", KB_QUESTIONS_MIN,
			     out->questions.n);
		errors++;
	}
	if (out->reviewed.s && !blank(out->reviewed.s) && !valid_date(out->reviewed.s)) {
		problems_add(pr, file, out->reviewed.line, 1,
			     "'reviewed' must be a date written YYYY-MM-DD, not '%s'",
			     out->reviewed.s);
		errors++;
	}
	for (size_t i = 0; i < out->related.n; i++)
		if (!valid_id(out->related.v[i].s)) {
			problems_add(pr, file, out->related.v[i].line, 1,
				     "'related' item '%s' is not an id", out->related.v[i].s);
			errors++;
		}
	for (size_t i = 0; i < out->tags.n; i++)
		if (strcmp(out->tags.v[i].s, "small-talk") == 0)
			out->small_talk = 1;
	if (check_body(file, &fm, &out->body, &out->body_line, pr) < 0)
		errors++;
	return errors ? -1 : 0;
}

int
kb_parse_rule(const char *file, const char *buf, size_t len, struct kb_rule *out,
	      struct problems *pr)
{
	enum { R_ID, R_LEVEL, R_PRIORITY, R_TRIGGERS, R_UNLESS, R_IN_DOUBT, NF };
	static const struct field fields[NF] = {
	    [R_ID] = {"id", F_STR, 1, OFF(struct kb_rule, id)},
	    [R_LEVEL] = {"level", F_LEVEL, 1, OFF(struct kb_rule, level)},
	    [R_PRIORITY] = {"priority", F_INT, 1, OFF(struct kb_rule, priority)},
	    [R_TRIGGERS] = {"triggers", F_LIST, 0, OFF(struct kb_rule, triggers)},
	    [R_UNLESS] = {"unless", F_LIST, 0, OFF(struct kb_rule, unless)},
	    [R_IN_DOUBT] = {"in-doubt", F_STR, 0, OFF(struct kb_rule, in_doubt)},
	};
	unsigned key_lines[NF] = {0};
	struct fm fm;
	int errors = 0;

	memset(out, 0, sizeof *out);
	out->file = xstrdup(file);
	out->in_doubt_ix = -1;
	if (parse_front(file, buf, len, fields, NF, out, key_lines, &fm, &errors, pr) < 0)
		return -1;
	check_id(file, &out->id, pr, &errors);
	unsigned tl = key_lines[R_TRIGGERS];
	out->has_triggers = tl != 0;
	int is_disclaimer = out->id.s && strcmp(out->id.s, "disclaimer") == 0;
	if (is_disclaimer && out->has_triggers) {
		problems_add(pr, file, tl, 1,
			     "'disclaimer' takes no triggers: it is added to every health reply");
		errors++;
	} else if (!is_disclaimer && out->id.s && (!out->has_triggers || out->triggers.n == 0)) {
		problems_add(pr, file, tl ? tl : 2, 1, "rule '%s' needs a 'triggers' list",
			     out->id.s);
		errors++;
	}
	if (check_body(file, &fm, &out->body, &out->body_line, pr) < 0)
		errors++;
	return errors ? -1 : 0;
}

const char *const kb_message_ids[KB_MSG_COUNT] = {
    [KB_MSG_FALLBACK] = "fallback",
    [KB_MSG_CHECKED_FIRST] = "get-checked-first",
    [KB_MSG_HELLO] = "hello",
    [KB_MSG_DID_YOU_MEAN] = "did-you-mean",
};

int
kb_parse_message(const char *file, const char *buf, size_t len, struct kb_message *out,
		 struct problems *pr)
{
	enum { M_ID, NF };
	static const struct field fields[NF] = {
	    [M_ID] = {"id", F_STR, 1, OFF(struct kb_message, id)},
	};
	unsigned key_lines[NF] = {0};
	struct fm fm;
	int errors = 0;

	memset(out, 0, sizeof *out);
	out->file = xstrdup(file);
	out->which = -1;
	if (parse_front(file, buf, len, fields, NF, out, key_lines, &fm, &errors, pr) < 0)
		return -1;
	for (int i = 0; out->id.s && i < KB_MSG_COUNT; i++)
		if (strcmp(out->id.s, kb_message_ids[i]) == 0)
			out->which = i;
	if (out->id.s && out->which < 0) {
		const char *near = kb_closest(out->id.s, kb_message_ids, KB_MSG_COUNT);
		char ids[128] = "";
		for (int i = 0; i < KB_MSG_COUNT; i++)
			snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s",
				 i == 0                 ? ""
				 : i + 1 < KB_MSG_COUNT ? ", "
							: " and ",
				 kb_message_ids[i]);
		problems_add(pr, file, out->id.line, 1,
			     "unknown message id '%s' (the messages are %s)%s%s%s", out->id.s, ids,
			     near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		errors++;
	}
	if (check_body(file, &fm, &out->body, &out->body_line, pr) < 0)
		errors++;
	return errors ? -1 : 0;
}

void
kb_message_free(struct kb_message *m)
{
	free(m->file);
	free(m->id.s);
	free(m->body);
	memset(m, 0, sizeof *m);
}

int
kb_parse_synonyms(const char *file, const char *buf, size_t len, struct kb_syns *out,
		  struct problems *pr)
{
	int errors = 0;
	memset(out, 0, sizeof *out);
	out->file = xstrdup(file);
	size_t bad = utf8_invalid_at(buf, len);
	if (bad < len) {
		unsigned line = 1;
		for (size_t i = 0; i < bad; i++)
			line += buf[i] == '\n';
		problems_add(pr, file, line, 1, "invalid UTF-8; save the file as UTF-8");
		return -1;
	}
	size_t cap = 0;
	unsigned line = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *hash = memchr(p, '#', (size_t)(le - p));
		const char *ce = hash ? hash : le;
		char *l = xstrndup(p, (size_t)(ce - p));
		p = nl ? nl + 1 : end;
		if (blank(l)) {
			free(l);
			continue;
		}
		struct kb_syn g = {NULL, 0};
		size_t gcap = 0;
		int bad_line = 0;
		for (char *tok = l;;) {
			char *eq = strchr(tok, '=');
			if (eq)
				*eq = '\0';
			char *s = tok;
			while (isspace((unsigned char)*s))
				s++;
			size_t n = strlen(s);
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			if (n == 0)
				bad_line = 1;
			g.terms = xgrow(g.terms, &gcap, g.n + 1, sizeof *g.terms);
			g.terms[g.n].s = xstrndup(s, n);
			for (char *c = g.terms[g.n].s; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			g.terms[g.n].line = line;
			g.n++;
			if (!eq)
				break;
			tok = eq + 1;
		}
		if (g.n < 2 || bad_line) {
			problems_add(
			    pr, file, line, 1,
			    g.n < 2 ? "expected 'term = term' (two or more terms joined by '=')"
				    : "empty term: check for a doubled or trailing '='");
			errors++;
			for (size_t i = 0; i < g.n; i++)
				free(g.terms[i].s);
			free(g.terms);
		} else {
			out->v = xgrow(out->v, &cap, out->n + 1, sizeof *out->v);
			out->v[out->n++] = g;
		}
		free(l);
	}
	return errors ? -1 : 0;
}

static void
list_free(struct kb_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
kb_entry_free(struct kb_entry *e)
{
	free(e->file);
	free(e->id.s);
	free(e->title.s);
	free(e->source.s);
	free(e->reviewed.s);
	list_free(&e->questions);
	list_free(&e->tags);
	list_free(&e->related);
	free(e->body);
	memset(e, 0, sizeof *e);
}

void
kb_rule_free(struct kb_rule *r)
{
	free(r->file);
	free(r->id.s);
	free(r->in_doubt.s);
	list_free(&r->triggers);
	list_free(&r->unless);
	free(r->body);
	memset(r, 0, sizeof *r);
}

void
kb_syns_free(struct kb_syns *s)
{
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->v[i].n; j++)
			free(s->v[i].terms[j].s);
		free(s->v[i].terms);
	}
	free(s->v);
	free(s->file);
	memset(s, 0, sizeof *s);
}
