/*
 * clinic: parsing the clinic profile and filling placeholders (see
 * clinic.h).  Pure.
 */
#include "clinic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "strbuf.h"
#include "utf8.h"
#include "xmem.h"

/* Placeholder names, by enum clinic_value: {{clinic.<name>}}. */
static const char *const names[CV_N] = {
    [CV_NAME] = "name",
    [CV_BOOKING_URL] = "booking_url",
    [CV_PHONE] = "phone",
    [CV_EMAIL] = "email",
    [CV_ADDRESS] = "address",
    [CV_DIRECTIONS] = "directions",
    [CV_PARKING] = "parking",
    [CV_ACCESSIBILITY] = "accessibility",
    [CV_CANCELLATION] = "cancellation",
    [CV_PAYMENT] = "payment",
    [CV_INSURANCE] = "insurance",
    [CV_VOUCHERS] = "vouchers",
    [CV_LANGUAGES] = "languages",
    [CV_REACH_A_PERSON] = "reach_a_person",
    [CV_HOURS] = "hours",
    [CV_MONDAY] = "hours.monday",
    [CV_TUESDAY] = "hours.tuesday",
    [CV_WEDNESDAY] = "hours.wednesday",
    [CV_THURSDAY] = "hours.thursday",
    [CV_FRIDAY] = "hours.friday",
    [CV_SATURDAY] = "hours.saturday",
    [CV_SUNDAY] = "hours.sunday",
    [CV_PRICES] = "prices",
    [CV_LENGTHS] = "lengths",
    [CV_CONTACT] = "contact",
};

static const char *const days[7] = {"monday", "tuesday",  "wednesday", "thursday",
				    "friday", "saturday", "sunday"};
static const char *const day_titles[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					  "Friday", "Saturday", "Sunday"};

/* The keys of clinic.yaml: the plain text values, then these. */
#define KEY_EXAMPLE "example"
#define TEXT_KEYS (CV_REACH_A_PERSON + 1)

/* The contact sentence, from the name, phone, email and booking link. */
static char *
contact_sentence(const struct clinic *c)
{
	const char *name = *c->v[CV_NAME] ? c->v[CV_NAME] : "the clinic";
	const char *phone = c->v[CV_PHONE], *email = c->v[CV_EMAIL], *book = c->v[CV_BOOKING_URL];
	if (*phone && *email)
		return xasprintf("You can reach %s by phone on %s or by email at %s.", name, phone,
				 email);
	if (*phone)
		return xasprintf("You can reach %s by phone on %s.", name, phone);
	if (*email)
		return xasprintf("You can reach %s by email at %s.", name, email);
	if (*book)
		return xasprintf("You can contact %s through its booking page: %s", name, book);
	return xstrdup("Please ask at the clinic's reception.");
}

void
clinic_init(struct clinic *c)
{
	memset(c, 0, sizeof *c);
	for (int i = 0; i < CV_N; i++)
		c->v[i] = xstrdup("");
	free(c->v[CV_CONTACT]);
	c->v[CV_CONTACT] = contact_sentence(c);
}

void
clinic_free(struct clinic *c)
{
	free(c->file);
	for (int i = 0; i < CV_N; i++)
		free(c->v[i]);
	memset(c, 0, sizeof *c);
}

static void
set(struct clinic *c, enum clinic_value v, char *s, unsigned line)
{
	free(c->v[v]);
	c->v[v] = s;
	c->line[v] = line;
}

/* ---- parsing -------------------------------------------------------------- */

struct pctx {
	const char *file;
	yaml_document_t *doc;
	struct problems *pr, *warn;
	int errors;
};

static unsigned
line_of(const yaml_node_t *n)
{
	return kb_yaml_line(n, 1); /* the whole file is YAML */
}

static void error(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warning(struct pctx *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
error(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	problems_add(p->pr, p->file, line_of(n), 1, "%s", msg);
	p->errors++;
}

static void
warning(struct pctx *p, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	problems_add(p->warn, p->file, line ? line : 1, 1, "%s", msg);
}

/*
 * A scalar as one line of text: trimmed, every run of blank space (new
 * lines too) made one space.  NULL after an error (what: the key, for the
 * message).  "" for an empty value (nothing, "", ~ or null).
 */
static char *
text_value(struct pctx *p, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		error(p, n, "'%s' must be a single text value%s", what,
		      n->type == YAML_SEQUENCE_NODE ? ", not a list" : "");
		return NULL;
	}
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    ((len == 1 && s[0] == '~') || (len == 4 && strncasecmp(s, "null", 4) == 0)))
		return xstrdup("");
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			if (b.len && b.s[b.len - 1] != ' ')
				sb_addc(&b, ' ');
		} else {
			sb_addc(&b, ch);
		}
	}
	if (b.len && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	if (utf8_count(b.s, b.len) > CLINIC_VALUE_MAX) {
		error(p, n, "'%s' is too long (limit %d characters)", what, CLINIC_VALUE_MAX);
		sb_free(&b);
		return NULL;
	}
	return sb_steal(&b);
}

/* The mapping's pairs (at most max), with a check that every key is plain
 * text and none repeats.  Returns the number of pairs, or 0 after an error. */
static size_t
pairs_of(struct pctx *p, const yaml_node_t *n, const char *what, size_t max, yaml_node_pair_t **out)
{
	if (n == NULL || (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0))
		return 0; /* missing, or "hours:" with nothing: empty */
	if (n->type != YAML_MAPPING_NODE) {
		error(p, n, "'%s' must be 'name: value' lines indented under it", what);
		return 0;
	}
	*out = n->data.mapping.pairs.start;
	size_t np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (np > max) {
		error(p, n, "'%s' has too many entries (%zu, limit %zu)", what, np, max);
		return 0;
	}
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, (*out)[i].key);
		if (k == NULL || k->type != YAML_SCALAR_NODE) {
			error(p, n, "a name under '%s' must be plain text", what);
			return 0;
		}
		for (size_t j = 0; j < i; j++) {
			yaml_node_t *kj = yaml_document_get_node(p->doc, (*out)[j].key);
			if (kj->data.scalar.length == k->data.scalar.length &&
			    memcmp(kj->data.scalar.value, k->data.scalar.value,
				   k->data.scalar.length) == 0) {
				error(p, k, "'%s' appears twice under '%s'",
				      (const char *)k->data.scalar.value, what);
				return 0;
			}
		}
	}
	return np;
}

static void
parse_hours(struct pctx *p, struct clinic *c, const yaml_node_t *n, unsigned key_line)
{
	yaml_node_pair_t *pairs = NULL;
	size_t np = pairs_of(p, n, "hours", 2 * 7, &pairs); /* room to name a misspelt day */
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pairs[i].key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pairs[i].value);
		const char *day = (const char *)k->data.scalar.value;
		int d = 0;
		while (d < 7 && strcasecmp(day, days[d]) != 0)
			d++;
		if (d == 7) {
			const char *best = kb_closest(day, days, 7);
			if (best)
				error(p, k, "unknown day '%s' under 'hours' (did you mean '%s'?)",
				      day, best);
			else
				error(p, k, "unknown day '%s' under 'hours' (monday ... sunday)",
				      day);
			continue;
		}
		char what[32];
		snprintf(what, sizeof what, "hours: %s", days[d]);
		char *s = v ? text_value(p, v, what) : NULL;
		if (s)
			set(c, (enum clinic_value)(CV_MONDAY + d), s, line_of(k));
	}
	struct strbuf b = STRBUF_INIT;
	int filled = 0;
	for (int d = 0; d < 7; d++)
		if (*c->v[CV_MONDAY + d])
			sb_addf(&b, "%s- %s: %s", filled++ ? "\n" : "", day_titles[d],
				c->v[CV_MONDAY + d]);
	if (filled == 7)
		set(c, CV_HOURS, sb_steal(&b), key_line);
	else if (filled == 0)
		warning(p, key_line,
			"'hours' is %s: the answers give no opening hours and tell people to "
			"contact the clinic instead",
			key_line ? "empty" : "missing");
	for (int d = 0; d < 7 && filled && filled < 7; d++)
		if (*c->v[CV_MONDAY + d] == '\0')
			warning(p, c->line[CV_MONDAY + d] ? c->line[CV_MONDAY + d] : key_line,
				"'hours: %s' is empty: write the opening hours or 'closed'; until "
				"all seven days are filled in, the answers give no opening hours",
				days[d]);
	sb_free(&b);
}

/* Adds a length to the distinct lengths, kept in order of the number they
 * start with: "30 minutes, 45 minutes or 60 minutes". */
static void
add_length(char ***lengths, size_t *n, size_t *cap, const char *s)
{
	size_t at = *n;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*lengths)[i], s) == 0)
			return;
		if (at == *n && strtol(s, NULL, 10) < strtol((*lengths)[i], NULL, 10))
			at = i;
	}
	*lengths = xgrow(*lengths, cap, *n + 1, sizeof **lengths);
	memmove(*lengths + at + 1, *lengths + at, (*n - at) * sizeof **lengths);
	(*lengths)[at] = xstrdup(s);
	(*n)++;
}

/*
 * prices: treatment -> price, or treatment -> (length -> price).  Renders
 * "- Treatment: 30 minutes £35, 60 minutes £55" lines and the lengths.
 */
static void
parse_prices(struct pctx *p, struct clinic *c, const yaml_node_t *n, unsigned key_line)
{
	yaml_node_pair_t *pairs = NULL;
	int errors = p->errors;
	size_t np = pairs_of(p, n, "prices", CLINIC_TREATMENTS_MAX, &pairs);
	struct strbuf b = STRBUF_INIT;
	char **lengths = NULL;
	size_t nl = 0, capl = 0;
	int complete = np > 0;
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pairs[i].key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pairs[i].value);
		char *treat = text_value(p, k, "prices");
		if (treat == NULL || v == NULL) {
			free(treat);
			continue;
		}
		sb_addf(&b, "%s- %s:", b.len ? "\n" : "", treat);
		if (v->type != YAML_MAPPING_NODE) {
			char *price = text_value(p, v, treat);
			if (price && *price == '\0') {
				warning(
				    p, line_of(k),
				    "the price of '%s' is empty: the answers give no price list "
				    "until every price is filled in",
				    treat);
				complete = 0;
			}
			if (price)
				sb_addf(&b, " %s", price);
			free(price);
			free(treat);
			continue;
		}
		yaml_node_pair_t *lp = NULL;
		size_t nlp = pairs_of(p, v, treat, CLINIC_LENGTHS_MAX, &lp);
		for (size_t j = 0; j < nlp; j++) {
			yaml_node_t *lk = yaml_document_get_node(p->doc, lp[j].key);
			yaml_node_t *lv = yaml_document_get_node(p->doc, lp[j].value);
			char *len = text_value(p, lk, treat);
			char *price = len && lv ? text_value(p, lv, treat) : NULL;
			if (price && (*price == '\0' || *len == '\0')) {
				warning(p, line_of(lk),
					"the price of '%s, %s' is empty: the answers give no price "
					"list until every price is filled in",
					treat, len);
				complete = 0;
			} else if (price) {
				sb_addf(&b, "%s %s %s", j ? "," : "", len, price);
				add_length(&lengths, &nl, &capl, len);
			}
			free(len);
			free(price);
		}
		free(treat);
	}
	if (np == 0 && p->errors == errors)
		warning(p, key_line,
			"'prices' is %s: the answers give no prices and tell people to contact "
			"the clinic instead",
			key_line ? "empty" : "missing");
	if (complete && p->errors == errors) {
		set(c, CV_PRICES, sb_steal(&b), key_line);
		struct strbuf l = STRBUF_INIT;
		for (size_t i = 0; i < nl; i++)
			sb_addf(&l, "%s%s", i == 0 ? "" : i + 1 == nl ? " or " : ", ", lengths[i]);
		if (nl)
			set(c, CV_LENGTHS, sb_steal(&l), key_line);
		sb_free(&l);
	}
	for (size_t i = 0; i < nl; i++)
		free(lengths[i]);
	free(lengths);
	sb_free(&b);
}

int
clinic_parse(const char *file, const char *buf, size_t len, struct clinic *c, struct problems *pr,
	     struct problems *warn)
{
	yaml_document_t doc;
	struct pctx p = {file, &doc, pr, warn, 0};
	unsigned seen[CV_N + 1] = {0}; /* key lines; [CV_N]: example */

	clinic_init(c);
	c->file = xstrdup(file);
	if (utf8_invalid_at(buf, len) < len) {
		problems_add(pr, file, 1, 1, "invalid UTF-8; save the file as UTF-8");
		return -1;
	}
	if (kb_yaml_load(file, buf, len, 1, &doc, pr) < 0)
		return -1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE) {
		problems_add(pr, file, line_of(root), 1,
			     "the clinic profile must be 'key: value' lines (name, phone, ...)");
		p.errors++;
		root = NULL;
	}
	for (yaml_node_pair_t *pair = root ? root->data.mapping.pairs.start : NULL;
	     root && pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			error(&p, k, "a key must be a plain word");
			continue;
		}
		const char *key = (const char *)k->data.scalar.value;
		int which = -1; /* index into seen: a value, or CV_N for example */
		if (strcmp(key, KEY_EXAMPLE) == 0)
			which = CV_N;
		for (int i = 0; i < CV_N && which < 0; i++)
			if ((i < TEXT_KEYS || i == CV_HOURS || i == CV_PRICES) &&
			    strcmp(key, names[i]) == 0)
				which = i;
		if (which < 0) {
			const char *keys[TEXT_KEYS + 3];
			size_t nk = 0;
			for (int i = 0; i < TEXT_KEYS; i++)
				keys[nk++] = names[i];
			keys[nk++] = names[CV_HOURS];
			keys[nk++] = names[CV_PRICES];
			keys[nk++] = KEY_EXAMPLE;
			const char *best = kb_closest(key, keys, nk);
			if (best)
				error(&p, k, "unknown key '%s' (did you mean '%s'?)", key, best);
			else
				error(&p, k, "unknown key '%s' (see the staff guide in README.md)",
				      key);
			continue;
		}
		if (seen[which]) {
			error(&p, k, "key '%s' appears twice (first at line %u)", key, seen[which]);
			continue;
		}
		seen[which] = line_of(k);
		if (which == CV_N) {
			char *s = text_value(&p, v, key);
			if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0))
				c->example = 1;
			else if (s && strcasecmp(s, "false") != 0 && strcasecmp(s, "no") != 0)
				error(&p, v, "'%s' must be true or false", key);
			free(s);
		} else if (which == CV_HOURS) {
			parse_hours(&p, c, v, seen[which]);
		} else if (which == CV_PRICES) {
			parse_prices(&p, c, v, seen[which]);
		} else {
			char *s = text_value(&p, v, key);
			if (s)
				set(c, (enum clinic_value)which, s, seen[which]);
		}
	}
	for (int i = 0; i < TEXT_KEYS && p.errors == 0; i++)
		if (*c->v[i] == '\0')
			warning(&p, seen[i],
				seen[i] ? "'%s' is empty: the answers that use it tell people to "
					  "contact the clinic instead"
					: "'%s' is missing: the answers that use it tell people to "
					  "contact the clinic instead",
				names[i]);
	if (!seen[CV_HOURS] && p.errors == 0)
		parse_hours(&p, c, NULL, 0);
	if (!seen[CV_PRICES] && p.errors == 0)
		parse_prices(&p, c, NULL, 0);
	if (c->example)
		warning(&p, seen[CV_N],
			"this is the example profile (%s: true): its values are made up; put in "
			"your clinic's own details and set 'example: false'",
			KEY_EXAMPLE);
	set(c, CV_CONTACT, contact_sentence(c), 0);
	yaml_document_delete(&doc);
	return p.errors ? -1 : 0;
}

/* ---- filling ---------------------------------------------------------------- */

/* The value named by "clinic.<name>" (spaces around allowed), or -1. */
static int
lookup(const char *s, size_t n)
{
	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	if (n < 7 || memcmp(s, "clinic.", 7) != 0)
		return -1;
	for (int i = 0; i < CV_N; i++)
		if (strlen(names[i]) == n - 7 && memcmp(names[i], s + 7, n - 7) == 0)
			return i;
	return -1;
}

static unsigned
col_of(const char *line, const char *at)
{
	return (unsigned)utf8_count(line, (size_t)(at - line)) + 1;
}

static void
unknown(const char *file, unsigned line, unsigned col, const char *s, size_t n, struct problems *pr)
{
	char *name = xstrndup(s, n);
	char *t = name + strspn(name, " ");
	for (size_t e = strlen(t); e && t[e - 1] == ' ';)
		t[--e] = '\0';
	const char *full[CV_N];
	char buf[CV_N][40];
	for (int i = 0; i < CV_N; i++) {
		snprintf(buf[i], sizeof buf[i], "clinic.%s", names[i]);
		full[i] = buf[i];
	}
	const char *best = kb_closest(t, full, CV_N);
	if (best)
		problems_add(pr, file, line, col,
			     "unknown placeholder '{{%s}}' (did you mean '{{%s}}'?)", t, best);
	else
		problems_add(pr, file, line, col,
			     "unknown placeholder '{{%s}}' (they are {{clinic.name}}, "
			     "{{clinic.phone}}, ...: see the staff guide in README.md)",
			     t);
	free(name);
}

/* List values start on a line of their own. */
static int
is_list(int v)
{
	return v == CV_HOURS || v == CV_PRICES;
}

char *
clinic_fill(const struct clinic *c, const char *file, unsigned body_line, const char *body,
	    int *used, struct problems *pr)
{
	struct strbuf out = STRBUF_INIT, ln = STRBUF_INIT;
	int dropped = 0, has_contact = 0, errors = 0, any = 0;
	unsigned line = body_line;

	sb_add(&out, "", 0);
	for (const char *p = body; *p; line++) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		int drop = 0, contact = 0;
		sb_reset(&ln);
		sb_add(&ln, "", 0);
		for (const char *q = p; q < end;) {
			const char *open = memmem(q, (size_t)(end - q), "{{", 2);
			if (open == NULL) {
				sb_add(&ln, q, (size_t)(end - q));
				break;
			}
			sb_add(&ln, q, (size_t)(open - q));
			const char *close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
			if (close == NULL) {
				problems_add(pr, file, line, col_of(p, open),
					     "'{{' without '}}' on the same line");
				errors++;
				break;
			}
			any = 1;
			int v = lookup(open + 2, (size_t)(close - open - 2));
			if (v < 0) {
				unknown(file, line, col_of(p, open), open + 2,
					(size_t)(close - open - 2), pr);
				errors++;
			} else if (*c->v[v] == '\0') {
				drop = 1;
			} else {
				if (is_list(v) && strspn(ln.s, " ") < ln.len) {
					while (ln.len && ln.s[ln.len - 1] == ' ')
						ln.s[--ln.len] = '\0';
					sb_addc(&ln, '\n');
				}
				sb_adds(&ln, c->v[v]);
				contact |= v == CV_CONTACT;
			}
			q = close + 2;
		}
		p = nl ? nl + 1 : end;
		if (drop) {
			dropped = 1;
			continue;
		}
		has_contact |= contact;
		/* no blank line at the start, nor two in a row (where lines were left
		 * out) */
		if (strspn(ln.s, " \t") == ln.len && (out.len == 0 || out.s[out.len - 1] == '\n'))
			continue;
		if (out.len)
			sb_addc(&out, '\n');
		sb_add(&out, ln.s, ln.len);
	}
	while (out.len && (out.s[out.len - 1] == '\n' || out.s[out.len - 1] == ' '))
		out.s[--out.len] = '\0';
	if (dropped && !has_contact)
		sb_addf(&out, "%sI don't have those details here. %s", out.len ? "\n\n" : "",
			c->v[CV_CONTACT]);
	sb_free(&ln);
	if (used)
		*used = any;
	if (errors) {
		sb_free(&out);
		return NULL;
	}
	size_t n = utf8_count(out.s, out.len);
	if (n > CLINIC_FILLED_MAX) {
		problems_add(pr, file, body_line, 1,
			     "with the clinic profile filled in, the text is %zu characters (limit "
			     "%d)",
			     n, CLINIC_FILLED_MAX);
		sb_free(&out);
		return NULL;
	}
	return sb_steal(&out);
}
