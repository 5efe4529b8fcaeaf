/*
 * fuzz_gateway: libFuzzer harness for the Discord payload codec
 * (discord_proto).  The first input byte picks the mode ('0'-'5', or any
 * byte: (b - '0') % 6); the rest is the payload.  Modes:
 *   0 a gateway frame (dp_parse_event), then everything the adapter does
 *     with a MESSAGE_CREATE or READY: who to answer, the question text,
 *     the reply split and the reply bodies
 *   1 dp_split on text (repaired to UTF-8), max from the second byte
 *   2 a GET /gateway/bot body, then its url through dp_parse_ws_url
 *   3 a gateway url (dp_parse_ws_url)
 *   4 rate-limit headers and a 429 body
 *   5 a channel list and an id (dp_channel_listed), separated by '\n'
 * Asserts the documented contracts (spans inside the text, on code point
 * boundaries, within the limit; ids are snowflakes; JSON we build parses).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "discord_proto.h"
#include "fuzz.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SELF[] = "111111111111111111";

static int
is_snowflake(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
utf8_ok(const char *s, size_t n)
{
	return utf8_invalid_at(s, n) == n;
}

/* Split s and check every span; returns the spans (caller frees). */
static struct dp_span *
split_checked(const char *s, size_t len, size_t max_cp, size_t *n)
{
	struct dp_span *v = dp_split(s, len, max_cp, n);
	size_t lim = max_cp ? max_cp : 1;
	size_t prev_end = 0;
	for (size_t i = 0; i < *n; i++) {
		CHECK(v[i].off >= prev_end);
		CHECK(v[i].len > 0);
		CHECK(v[i].off + v[i].len <= len);
		CHECK(utf8_ok(s + v[i].off, v[i].len));
		CHECK(utf8_count(s + v[i].off, v[i].len) <= lim);
		prev_end = v[i].off + v[i].len;
	}
	if (len > 0 && *n == 0) {
		/* blank text only */
		for (size_t i = 0; i < len; i++)
			CHECK(strchr(" \t\n\r\v\f", s[i]) != NULL && s[i] != '\0');
	}
	return v;
}

static void
check_json_content(const char *js, const char *content, size_t len)
{
	CHECK(js != NULL);
	json_t *o = json_loads(js, 0, NULL);
	CHECK(o != NULL);
	json_t *c = json_object_get(o, "content");
	CHECK(json_is_string(c));
	CHECK(json_string_length(c) == len && memcmp(json_string_value(c), content, len) == 0);
	json_decref(o);
}

static void
fuzz_frame(const char *buf, size_t len)
{
	struct dp_event ev;
	char why[200];
	why[0] = '\0';
	int rc = dp_parse_event(buf, len, &ev, why, sizeof why);
	if (rc < 0) {
		CHECK(why[0] != '\0');
		dp_event_free(&ev);
		return;
	}
	if (ev.kind == DP_EV_READY) {
		CHECK(ev.session_id && ev.resume_url && is_snowflake(ev.self_id));
		struct dp_url u;
		if (dp_parse_ws_url(ev.resume_url, &u, why, sizeof why) == 0)
			CHECK(u.path[0] == '/' && u.host[0] != '\0');
	}
	if (ev.kind == DP_EV_MESSAGE) {
		const struct dp_message *m = &ev.msg;
		CHECK(is_snowflake(m->id) && is_snowflake(m->channel_id) &&
		      is_snowflake(m->author_id));
		CHECK(m->guild_id[0] == '\0' || is_snowflake(m->guild_id));
		CHECK(m->content != NULL && m->content_len <= DP_CONTENT_MAX);
		CHECK(memchr(m->content, '\0', m->content_len) == NULL);
		CHECK(utf8_ok(m->content, m->content_len));
		for (size_t i = 0; i < m->nmentions; i++)
			CHECK(is_snowflake(m->mentions[i]));
		const char *reason = NULL;
		const char *ids[] = {SELF, m->author_id, m->mentions ? m->mentions[0] : "", NULL};
		for (size_t i = 0; i < 3; i++) {
			reason = NULL;
			if (!dp_should_answer(m, ids[i], "1, 22,333 ,4444", &reason))
				CHECK(reason != NULL);
			dp_should_answer(m, ids[i], NULL, &reason);
			(void)dp_is_mentioned(m, ids[i]);
			size_t ql;
			char *q = dp_question_text(m, ids[i], &ql);
			CHECK(q != NULL && ql > 0 && strlen(q) == ql && ql <= m->content_len + 4);
			CHECK(utf8_ok(q, ql));
			char *p = dp_private_text(q, ql);
			CHECK(strlen(p) <= ql && strstr(p, "<@") == NULL ||
			      strstr(q, "<@") != NULL);
			CHECK(utf8_ok(p, strlen(p)));
			free(p);
			free(q);
		}
		/* the reply path: split the text, one body per chunk */
		size_t n;
		struct dp_span *v = split_checked(m->content, m->content_len, DP_MSG_MAX_CP, &n);
		for (size_t i = 0; i < n && i < 3; i++) {
			char *js =
			    dp_reply_json(m->content + v[i].off, v[i].len, m->id, (unsigned)i);
			check_json_content(js, m->content + v[i].off, v[i].len);
			free(js);
		}
		free(v);
		char nonce[DP_NONCE_MAX + 1];
		CHECK(dp_nonce(m->id, DP_CHUNKS_MAX, nonce, sizeof nonce) == 0);
		(void)dp_close_lookup(m->type + 4000);
	}
	dp_event_free(&ev);
}

static void
fuzz_split(const char *buf, size_t len)
{
	if (len < 1)
		return;
	size_t max_cp = (unsigned char)buf[0];
	size_t rl;
	char *s = utf8_repair(buf + 1, len - 1, &rl);
	/* an exact-size copy without the terminating NUL */
	char *t = malloc(rl ? rl : 1);
	memcpy(t, s, rl);
	free(s);
	size_t n;
	free(split_checked(t, rl, max_cp, &n));
	free(t);
}

static char *
cstr(const char *buf, size_t len)
{
	char *s = malloc(len + 1);
	memcpy(s, buf, len);
	s[len] = '\0';
	return s;
}

static void
fuzz_gateway_bot(const char *buf, size_t len)
{
	struct dp_gateway g;
	char why[200];
	if (dp_parse_gateway_bot(buf, len, &g, why, sizeof why) == 0) {
		CHECK(g.url != NULL);
		struct dp_url u;
		if (dp_parse_ws_url(g.url, &u, why, sizeof why) == 0)
			CHECK(u.path[0] == '/');
	}
	dp_gateway_free(&g);
}

static void
fuzz_ws_url(const char *buf, size_t len)
{
	char *s = cstr(buf, len);
	struct dp_url u;
	char why[200];
	if (dp_parse_ws_url(s, &u, why, sizeof why) == 0) {
		CHECK(u.host[0] != '\0' && strlen(u.host) < sizeof u.host);
		CHECK(u.port >= 1 && u.port <= 65535);
		CHECK(u.path[0] == '/' && strstr(u.path, DP_GW_QUERY) != NULL);
	}
	free(s);
}

static void
fuzz_ratelimit(const char *buf, size_t len)
{
	struct dp_ratelimit rl;
	dp_parse_ratelimit(buf, len, &rl);
	CHECK(strlen(rl.bucket) < sizeof rl.bucket && strlen(rl.scope) < sizeof rl.scope);
	CHECK(rl.reset_after == -1.0 || (rl.reset_after >= 0.0 && rl.reset_after <= 86400.0));
	CHECK(rl.retry_after == -1.0 || (rl.retry_after >= 0.0 && rl.retry_after <= 86400.0));
	int global;
	double r = dp_parse_retry_after(buf, len, &global);
	CHECK(r == -1.0 || (r >= 0.0 && r <= 86400.0));
}

static void
fuzz_channels(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t ll = nl ? (size_t)(nl - buf) : len;
	char *list = cstr(buf, ll);
	char *id = nl ? cstr(nl + 1, len - ll - 1) : cstr("", 0);
	(void)dp_channel_listed(list, id);
	free(list);
	free(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_mode modes[] = {fuzz_frame,  fuzz_split,     fuzz_gateway_bot,
					  fuzz_ws_url, fuzz_ratelimit, fuzz_channels};
	fuzz_dispatch(data, size, modes, sizeof modes / sizeof modes[0]);
	return 0;
}
