/*
 * web_proto: web chat frames and request policies (see web_proto.h).
 */
#include "web_proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "xmem.h"

/* ---- configuration ---------------------------------------------------------- */

static int
is_ip(const char *s, size_t n)
{
	char buf[WEB_ADDR_MAX];
	unsigned char bin[16];
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1;
}

int
web_parse_listen(const char *s, char *addr, size_t addr_len, int *port, char *why, size_t why_len)
{
	const char *host = s, *colon;
	size_t hl;
	unsigned char bin[16];
	char buf[WEB_ADDR_MAX];
	if (*s == '[') {
		const char *close = strchr(s, ']');
		colon = close ? close + 1 : NULL;
		host = s + 1;
		hl = close ? (size_t)(close - host) : 0;
		if (!close || *colon != ':' || hl == 0 || hl >= sizeof buf)
			goto bad;
		memcpy(buf, host, hl);
		buf[hl] = '\0';
		if (inet_pton(AF_INET6, buf, bin) != 1)
			goto bad;
	} else {
		colon = strrchr(s, ':');
		hl = colon ? (size_t)(colon - s) : 0;
		if (colon == NULL || hl >= sizeof buf)
			goto bad;
		memcpy(buf, host, hl);
		buf[hl] = '\0';
		if (strcmp(buf, "localhost") == 0)
			snprintf(buf, sizeof buf, "127.0.0.1");
		else if (inet_pton(AF_INET, buf, bin) != 1)
			goto bad;
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || p < 1 || p > 65535) {
		snprintf(why, why_len, "must end with a port from 1 to 65535, not '%s'", s);
		return -1;
	}
	snprintf(addr, addr_len, "%s", buf);
	*port = (int)p;
	return 0;
bad:
	snprintf(why, why_len,
		 "must be ADDRESS:PORT with an IP address (127.0.0.1:8080, [::1]:8080, "
		 "0.0.0.0:8080) or localhost, not '%s'",
		 s);
	return -1;
}

/* The next comma-separated item of *p (spaces trimmed) in [*s, *s + *n). */
static int
next_item(const char **p, const char **s, size_t *n)
{
	const char *q = *p;
	while (*q == ' ' || *q == ',')
		q++;
	if (*q == '\0')
		return 0;
	size_t len = strcspn(q, ",");
	*p = q + len;
	while (len && q[len - 1] == ' ')
		len--;
	*s = q;
	*n = len;
	return 1;
}

/*
 * An origin ("https://Host:443") as scheme://host[:port], lower case and
 * without the scheme's default port, into out; 0, or -1 if it is not one.
 * *hostport points into out, after the scheme.
 */
static int
norm_origin(const char *s, size_t n, char *out, size_t len, const char **hostport)
{
	static const struct {
		const char *scheme, *dflt;
	} schemes[] = {{"http://", ":80"}, {"https://", ":443"}};
	for (size_t i = 0; i < 2; i++) {
		size_t sl = strlen(schemes[i].scheme);
		if (n <= sl || strncasecmp(s, schemes[i].scheme, sl) != 0 || n >= len)
			continue;
		const char *h = s + sl;
		size_t hl = n - sl;
		for (size_t j = 0; j < hl; j++)
			if (!isalnum((unsigned char)h[j]) && !strchr(".-:[]", h[j]))
				return -1; /* a path, user info, a space, ... */
		size_t dl = strlen(schemes[i].dflt);
		if (hl > dl && strncmp(h + hl - dl, schemes[i].dflt, dl) == 0)
			hl -= dl;
		snprintf(out, len, "%s%.*s", schemes[i].scheme, (int)hl, h);
		for (char *c = out; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		*hostport = out + sl;
		return 0;
	}
	return -1;
}

int
web_check_origins(const char *list, char *why, size_t why_len)
{
	const char *p = list, *s;
	size_t n, items = 0;
	while (next_item(&p, &s, &n)) {
		char o[WEB_HOST_MAX + 16];
		const char *hp;
		items++;
		if ((n == 4 && strncmp(s, "self", 4) == 0) || (n == 1 && *s == '*'))
			continue;
		if (norm_origin(s, n, o, sizeof o, &hp) < 0 || *hp == '\0') {
			snprintf(
			    why, why_len,
			    "must be origins like https://www.clinic.example (scheme, host, "
			    "optional port; no path), self or *, comma-separated; '%.*s' is not",
			    (int)(n > 80 ? 80 : n), s);
			return -1;
		}
	}
	if (items == 0) {
		snprintf(why, why_len, "lists no origin (use self for the bot's own pages)");
		return -1;
	}
	return 0;
}

int
web_origin_allowed(const char *list, const char *origin, const char *host)
{
	char o[WEB_HOST_MAX + 16], e[WEB_HOST_MAX + 16];
	const char *ohp, *ehp;
	int valid = origin && norm_origin(origin, strlen(origin), o, sizeof o, &ohp) == 0;
	const char *p = list, *s;
	size_t n;
	while (next_item(&p, &s, &n)) {
		if (n == 1 && *s == '*')
			return 1;
		if (!valid)
			continue;
		if (n == 4 && strncmp(s, "self", 4) == 0) {
			/* the Host header, with the origin's default port dropped */
			char h[WEB_HOST_MAX + 16];
			const char *hhp;
			snprintf(e, sizeof e, "%.*s%s", (int)(ohp - o), o, host ? host : "");
			if (host && *host && norm_origin(e, strlen(e), h, sizeof h, &hhp) == 0 &&
			    strcmp(hhp, ohp) == 0)
				return 1;
		} else if (norm_origin(s, n, e, sizeof e, &ehp) == 0 && strcmp(e, o) == 0) {
			return 1;
		}
	}
	return 0;
}

int
web_check_proxies(const char *list, char *why, size_t why_len)
{
	const char *p = list, *s;
	size_t n;
	int items = 0;
	while (next_item(&p, &s, &n)) {
		items++;
		if (!is_ip(s, n)) {
			snprintf(why, why_len,
				 "must be IP addresses separated by commas (127.0.0.1, ::1), "
				 "not '%.*s'",
				 (int)(n > 60 ? 60 : n), s);
			return -1;
		}
	}
	if (items == 0) {
		snprintf(why, why_len, "lists no address");
		return -1;
	}
	return 0;
}

/* Is the address s[0..n) in the list? Compared as binary addresses, so
 * that "::1" and "0:0::1" are one. */
static int
in_list(const char *list, const char *a, size_t an)
{
	char buf[WEB_ADDR_MAX];
	unsigned char want[16], got[16];
	if (list == NULL || an == 0 || an >= sizeof buf)
		return 0;
	memcpy(buf, a, an);
	buf[an] = '\0';
	int fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, buf, want) != 1)
		return 0;
	const char *p = list, *s;
	size_t n;
	while (next_item(&p, &s, &n)) {
		if (n >= sizeof buf)
			continue;
		memcpy(buf, s, n);
		buf[n] = '\0';
		int f = strchr(buf, ':') ? AF_INET6 : AF_INET;
		if (f == fam && inet_pton(f, buf, got) == 1 &&
		    memcmp(got, want, fam == AF_INET ? 4 : 16) == 0)
			return 1;
	}
	return 0;
}

int
web_is_proxy(const char *list, const char *ip)
{
	return in_list(list, ip, strlen(ip));
}

void
web_client_addr(const char *proxies, const char *peer, const char *xff, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s", peer);
	if (!web_is_proxy(proxies, peer) || xff == NULL)
		return;
	/* right to left: the first address a trusted proxy did not add */
	size_t end = strlen(xff);
	while (end > 0) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && xff[a] == ' ')
			a++;
		while (b > a && xff[b - 1] == ' ')
			b--;
		if (!is_ip(xff + a, b - a))
			return; /* not what a proxy writes: believe only the peer */
		snprintf(out, out_len, "%.*s", (int)(b - a), xff + a);
		if (!in_list(proxies, xff + a, b - a))
			return;
		end = start ? start - 1 : 0;
	}
}

/* ---- frames ------------------------------------------------------------------- */

/* 1-32 characters of letters, digits and . _ : - (safe in logs). */
static int
valid_id(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < WEB_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

int
web_parse_frame(const char *data, size_t len, struct web_frame *f, char *why, size_t why_len)
{
	memset(f, 0, sizeof *f);
	json_error_t err;
	json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	int rc = -1;
	if (!json_is_object(o)) {
		snprintf(why, why_len, "not a JSON object");
		goto out;
	}
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *id = json_string_value(json_object_get(o, "id"));
	if (id && valid_id(id))
		snprintf(f->id, sizeof f->id, "%s", id);
	if (type == NULL) {
		snprintf(why, why_len, "no \"type\"");
		goto out;
	}
	if (strcmp(type, "ask") == 0) {
		f->type = WEB_FRAME_ASK;
	} else if (strcmp(type, "feedback") == 0) {
		f->type = WEB_FRAME_FEEDBACK;
	} else {
		f->type = WEB_FRAME_OTHER;
		rc = 0;
		goto out;
	}
	if (f->id[0] == '\0') {
		snprintf(why, why_len,
			 "\"id\" must be 1 to 32 letters, digits, '.', '_', ':' or '-'");
		goto out;
	}
	if (f->type == WEB_FRAME_FEEDBACK) {
		json_t *h = json_object_get(o, "helpful");
		if (!json_is_boolean(h)) {
			snprintf(why, why_len, "\"helpful\" must be true or false");
			goto out;
		}
		f->helpful = json_is_true(h);
		rc = 0;
		goto out;
	}
	json_t *t = json_object_get(o, "text");
	if (!json_is_string(t)) {
		snprintf(why, why_len, "\"text\" must be a string");
		goto out;
	}
	const char *s = json_string_value(t);
	size_t n = json_string_length(t), i = 0;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i == n) {
		snprintf(why, why_len, "the question is empty");
		goto out;
	}
	f->text = xmalloc(n + 1);
	for (size_t j = 0; j < n; j++)
		f->text[j] = s[j] ? s[j] : ' '; /* "\u0000" would cut it short downstream */
	f->text[n] = '\0';
	f->len = n;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void
web_frame_free(struct web_frame *f)
{
	free(f->text);
	f->text = NULL;
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s ? s : xstrdup("{}");
}

static json_t *
frame(const char *type, const char *id)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(type));
	if (id)
		json_object_set_new(o, "id", id[0] ? json_string(id) : json_null());
	return o;
}

static json_t *
str_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;
	return v ? v : json_null();
}

char *
web_hello_json(const char *version, size_t max_frame)
{
	json_t *o = frame("hello", NULL);
	json_object_set_new(o, "version", json_string(version));
	json_object_set_new(o, "max_frame", json_integer((json_int_t)max_frame));
	return dump(o);
}

char *
web_typing_json(const char *id)
{
	return dump(frame("typing", id));
}

char *
web_reply_json(const char *id, const struct chat_reply *r)
{
	json_t *o = frame("reply", id);
	json_object_set_new(o, "text", str_or_null(r->text));
	json_object_set_new(o, "intent", str_or_null(r->intent));
	json_t *a = json_array();
	for (size_t i = 0; i < r->nsafety; i++)
		json_array_append_new(a, json_string(r->safety[i]));
	json_object_set_new(o, "safety", a);
	json_object_set_new(o, "level", str_or_null(r->level));
	a = json_array();
	for (size_t i = 0; i < r->nrelated; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "id", str_or_null(r->related[i].id));
		json_object_set_new(s, "title", str_or_null(r->related[i].title));
		json_array_append_new(a, s);
	}
	json_object_set_new(o, "suggestions", a);
	if (r->nchoices) {
		a = json_array();
		for (size_t i = 0; i < r->nchoices; i++) {
			json_t *c = json_object();
			json_object_set_new(c, "n", json_integer((json_int_t)i + 1));
			json_object_set_new(c, "id", str_or_null(r->choices[i].id));
			json_object_set_new(c, "title", str_or_null(r->choices[i].title));
			json_array_append_new(a, c);
		}
		json_object_set_new(o, "choices", a);
	}
	return dump(o);
}

char *
web_error_json(const char *id, const char *error, const char *message, unsigned retry_ms)
{
	json_t *o = frame("error", id ? id : "");
	json_object_set_new(o, "error", json_string(error));
	json_object_set_new(o, "message", json_string(message));
	if (retry_ms)
		json_object_set_new(o, "retry_after_ms", json_integer(retry_ms));
	return dump(o);
}

char *
web_feedback_ok_json(const char *id)
{
	return dump(frame("feedback_ok", id));
}
