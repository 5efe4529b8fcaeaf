/*
 * discord_proto: Discord gateway/REST codec and pure policies (see
 * discord_proto.h).  Uses jansson for JSON; no I/O, no clock, no globals
 * beyond the const close-code table.
 */
#include "discord_proto.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hmap.h"
#include "strbuf.h"
#include "xmem.h"

#define HEARTBEAT_MIN_MS 100u
#define HEARTBEAT_MAX_MS 3600000u

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t n, const char *fmt, ...)
{
	if (why && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* jansson's error without its " near '...'" context: that is up to 20 bytes
 * of the peer's text, already cut, so a secret it quoted in part could no
 * longer be masked for the log (which masks whole secrets only). */
static int
fail_json(char *why, size_t n, const json_error_t *err)
{
	const char *near = strstr(err->text, " near '");
	int len = near ? (int)(near - err->text) : (int)strlen(err->text);
	return fail(why, n, "invalid JSON at byte %d: %.*s", err->position, len, err->text);
}

/* A snowflake is a decimal string of 1-20 digits. */
static int
valid_id(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n >= 1 && n <= 20;
}

/* Copy a snowflake member (borrowed from obj) into out; -1 if absent/bad. */
static int
get_id(json_t *obj, const char *key, char out[DP_ID_MAX], char *why, size_t n, const char *where)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return fail(why, n, "%s: '%s' is missing", where, key);
	if (!json_is_string(v) || !valid_id(json_string_value(v)))
		return fail(why, n, "%s: '%s' is not a snowflake id", where, key);
	strcpy(out, json_string_value(v));
	return 0;
}

/* Like get_id, but absent or null leaves out empty. */
static int
get_opt_id(json_t *obj, const char *key, char out[DP_ID_MAX], char *why, size_t n,
	   const char *where)
{
	json_t *v = json_object_get(obj, key);
	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	return get_id(obj, key, out, why, n, where);
}

static int
parse_message(json_t *d, struct dp_message *m, char *why, size_t n)
{
	static const char w[] = "MESSAGE_CREATE";
	if (!json_is_object(d))
		return fail(why, n, "%s: 'd' is not an object", w);
	if (get_id(d, "id", m->id, why, n, w) < 0 ||
	    get_id(d, "channel_id", m->channel_id, why, n, w) < 0 ||
	    get_opt_id(d, "guild_id", m->guild_id, why, n, w) < 0)
		return -1;
	json_t *author = json_object_get(d, "author");
	if (!json_is_object(author))
		return fail(why, n, "%s: 'author' is missing or not an object", w);
	if (get_id(author, "id", m->author_id, why, n, "MESSAGE_CREATE author") < 0)
		return -1;
	json_t *bot = json_object_get(author, "bot");
	if (bot && !json_is_boolean(bot) && !json_is_null(bot))
		return fail(why, n, "%s: 'author.bot' is not a boolean", w);
	m->author_bot = json_is_true(bot);
	json_t *wh = json_object_get(d, "webhook_id");
	if (wh && !json_is_null(wh) && !json_is_string(wh))
		return fail(why, n, "%s: 'webhook_id' is not a string", w);
	m->webhook = wh && json_is_string(wh);
	json_t *type = json_object_get(d, "type");
	if (!json_is_integer(type) || json_integer_value(type) < 0 ||
	    json_integer_value(type) > 1000)
		return fail(why, n, "%s: 'type' is missing or not a small integer", w);
	m->type = (int)json_integer_value(type);
	json_t *content = json_object_get(d, "content");
	if (!json_is_string(content))
		return fail(why, n, "%s: 'content' is missing or not a string", w);
	size_t clen = json_string_length(content);
	if (clen > DP_CONTENT_MAX)
		return fail(why, n, "%s: 'content' is too long (%zu bytes, limit %d)", w, clen,
			    DP_CONTENT_MAX);
	json_t *mentions = json_object_get(d, "mentions");
	if (!json_is_array(mentions))
		return fail(why, n, "%s: 'mentions' is missing or not an array", w);
	size_t nm = json_array_size(mentions);
	if (nm > DP_MENTIONS_MAX)
		return fail(why, n, "%s: too many mentions (%zu)", w, nm);
	m->mentions = xcalloc(nm ? nm : 1, sizeof *m->mentions);
	for (size_t i = 0; i < nm; i++) {
		json_t *u = json_array_get(mentions, i);
		if (!json_is_object(u))
			return fail(why, n, "%s: mentions[%zu] is not an object", w, i);
		if (get_id(u, "id", m->mentions[i], why, n, "MESSAGE_CREATE mentions[]") < 0)
			return -1;
	}
	m->nmentions = nm;
	m->content = xstrndup(json_string_value(content), clen);
	m->content_len = clen;
	return 0;
}

/* An interaction token goes into a URL path: URL-safe characters only. */
static int
valid_token(const char *s, size_t n)
{
	if (n == 0 || n >= DP_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* INTERACTION_CREATE: a button press; other kinds are left to the caller
 * to ignore (*mine = 0). */
static int
parse_interaction(json_t *d, struct dp_interaction *ia, int *mine, char *why, size_t n)
{
	static const char w[] = "INTERACTION_CREATE";
	*mine = 0;
	if (!json_is_object(d))
		return fail(why, n, "%s: 'd' is not an object", w);
	json_t *type = json_object_get(d, "type");
	json_t *data = json_object_get(d, "data");
	if (!json_is_integer(type))
		return fail(why, n, "%s: 'type' is missing or not an integer", w);
	if (json_integer_value(type) != 3 || !json_is_object(data) ||
	    json_integer_value(json_object_get(data, "component_type")) != 2)
		return 0; /* not a button: a slash command, a select menu, ... */
	if (get_id(d, "id", ia->id, why, n, w) < 0 ||
	    get_id(d, "channel_id", ia->channel_id, why, n, w) < 0 ||
	    get_opt_id(d, "guild_id", ia->guild_id, why, n, w) < 0)
		return -1;
	json_t *tok = json_object_get(d, "token");
	if (!json_is_string(tok) || !valid_token(json_string_value(tok), json_string_length(tok)))
		return fail(why, n, "%s: 'token' is missing or not a token", w);
	strcpy(ia->token, json_string_value(tok));
	json_t *member = json_object_get(d, "member");
	json_t *user =
	    json_is_object(member) ? json_object_get(member, "user") : json_object_get(d, "user");
	if (!json_is_object(user))
		return fail(why, n, "%s: neither 'member.user' nor 'user' is an object", w);
	if (get_id(user, "id", ia->user_id, why, n, "INTERACTION_CREATE user") < 0)
		return -1;
	json_t *msg = json_object_get(d, "message");
	if (!json_is_object(msg))
		return fail(why, n, "%s: 'message' is missing or not an object", w);
	if (get_id(msg, "id", ia->message_id, why, n, "INTERACTION_CREATE message") < 0)
		return -1;
	json_t *cid = json_object_get(data, "custom_id");
	if (!json_is_string(cid) || json_string_length(cid) == 0 ||
	    json_string_length(cid) >= DP_CUSTOM_ID_MAX ||
	    strlen(json_string_value(cid)) != json_string_length(cid))
		return fail(why, n, "%s: 'data.custom_id' is missing or not 1-100 characters", w);
	strcpy(ia->custom_id, json_string_value(cid));
	*mine = 1;
	return 0;
}

/* 1 for a thumbs up, 0 for a thumbs down (any skin tone), -1 otherwise. */
static int
thumb_of(const char *name)
{
	if (strncmp(name, "\xF0\x9F\x91\x8D", 4) == 0)
		return 1;
	if (strncmp(name, "\xF0\x9F\x91\x8E", 4) == 0)
		return 0;
	return -1;
}

static int
parse_reaction(json_t *d, struct dp_reaction *re, char *why, size_t n)
{
	static const char w[] = "MESSAGE_REACTION_ADD";
	if (!json_is_object(d))
		return fail(why, n, "%s: 'd' is not an object", w);
	if (get_id(d, "user_id", re->user_id, why, n, w) < 0 ||
	    get_id(d, "channel_id", re->channel_id, why, n, w) < 0 ||
	    get_id(d, "message_id", re->message_id, why, n, w) < 0)
		return -1;
	json_t *emoji = json_object_get(d, "emoji");
	if (!json_is_object(emoji))
		return fail(why, n, "%s: 'emoji' is missing or not an object", w);
	json_t *name = json_object_get(emoji, "name");
	json_t *id = json_object_get(emoji, "id");
	/* a custom emoji (with an id) is never a thumb, whatever its name */
	re->thumb = json_is_string(name) && (id == NULL || json_is_null(id))
			? thumb_of(json_string_value(name))
			: -1;
	json_t *member = json_object_get(d, "member");
	json_t *user = json_is_object(member) ? json_object_get(member, "user") : NULL;
	re->user_bot = json_is_object(user) && json_is_true(json_object_get(user, "bot"));
	return 0;
}

static int
valid_ws_url(const char *s)
{
	return strncmp(s, "wss://", 6) == 0 || strncmp(s, "ws://", 5) == 0;
}

static int
parse_ready(json_t *d, struct dp_event *ev, char *why, size_t n)
{
	if (!json_is_object(d))
		return fail(why, n, "READY: 'd' is not an object");
	json_t *sid = json_object_get(d, "session_id");
	if (!json_is_string(sid) || json_string_length(sid) == 0 || json_string_length(sid) > 128)
		return fail(why, n, "READY: 'session_id' is missing or not a short string");
	json_t *url = json_object_get(d, "resume_gateway_url");
	if (!json_is_string(url) || json_string_length(url) >= DP_URL_MAX - sizeof DP_GW_QUERY ||
	    !valid_ws_url(json_string_value(url)))
		return fail(why, n, "READY: 'resume_gateway_url' is missing or not a ws(s):// URL");
	json_t *user = json_object_get(d, "user");
	if (!json_is_object(user))
		return fail(why, n, "READY: 'user' is missing or not an object");
	if (get_id(user, "id", ev->self_id, why, n, "READY user") < 0)
		return -1;
	ev->session_id = xstrdup(json_string_value(sid));
	ev->resume_url = xstrdup(json_string_value(url));
	return 0;
}

static int
parse_body(json_t *root, struct dp_event *ev, char *why, size_t n)
{
	if (!json_is_object(root))
		return fail(why, n, "not a JSON object");
	json_t *op = json_object_get(root, "op");
	if (!json_is_integer(op) || json_integer_value(op) < 0 || json_integer_value(op) > 255)
		return fail(why, n, "'op' is missing or not a small integer");
	ev->op = (int)json_integer_value(op);
	json_t *d = json_object_get(root, "d");
	json_t *s = json_object_get(root, "s");
	json_t *t = json_object_get(root, "t");
	if (ev->op == DP_OP_DISPATCH) {
		if (!json_is_integer(s) || json_integer_value(s) < 0)
			return fail(why, n, "dispatch: 's' is missing or not a sequence number");
		if (!json_is_string(t) || json_string_length(t) == 0 ||
		    json_string_length(t) >= sizeof ev->name)
			return fail(why, n, "dispatch: 't' is missing or not an event name");
		ev->seq = (long long)json_integer_value(s);
		snprintf(ev->name, sizeof ev->name, "%s", json_string_value(t));
		if (strcmp(ev->name, "MESSAGE_CREATE") == 0) {
			ev->kind = DP_EV_MESSAGE;
			return parse_message(d, &ev->msg, why, n);
		}
		if (strcmp(ev->name, "INTERACTION_CREATE") == 0) {
			int mine;
			ev->kind = DP_EV_DISPATCH_OTHER;
			int rc = parse_interaction(d, &ev->ia, &mine, why, n);
			if (rc == 0 && mine)
				ev->kind = DP_EV_INTERACTION;
			return rc;
		}
		if (strcmp(ev->name, "MESSAGE_REACTION_ADD") == 0) {
			ev->kind = DP_EV_REACTION;
			return parse_reaction(d, &ev->re, why, n);
		}
		if (strcmp(ev->name, "READY") == 0) {
			ev->kind = DP_EV_READY;
			return parse_ready(d, ev, why, n);
		}
		ev->kind = strcmp(ev->name, "RESUMED") == 0 ? DP_EV_RESUMED : DP_EV_DISPATCH_OTHER;
		return 0;
	}
	switch (ev->op) {
	case DP_OP_HELLO: {
		json_t *hb = d ? json_object_get(d, "heartbeat_interval") : NULL;
		if (!json_is_integer(hb) || json_integer_value(hb) < (json_int_t)HEARTBEAT_MIN_MS ||
		    json_integer_value(hb) > (json_int_t)HEARTBEAT_MAX_MS)
			return fail(why, n,
				    "HELLO: 'heartbeat_interval' is missing or out of range");
		ev->kind = DP_EV_HELLO;
		ev->heartbeat_ms = (unsigned)json_integer_value(hb);
		return 0;
	}
	case DP_OP_HEARTBEAT:
		ev->kind = DP_EV_HEARTBEAT_REQ;
		return 0;
	case DP_OP_HEARTBEAT_ACK:
		ev->kind = DP_EV_HEARTBEAT_ACK;
		return 0;
	case DP_OP_RECONNECT:
		ev->kind = DP_EV_RECONNECT;
		return 0;
	case DP_OP_INVALID_SESSION:
		if (!json_is_boolean(d))
			return fail(why, n, "INVALID_SESSION: 'd' is not a boolean");
		ev->kind = DP_EV_INVALID_SESSION;
		ev->resumable = json_is_true(d);
		return 0;
	default:
		ev->kind = DP_EV_OP_OTHER;
		return 0;
	}
}

int
dp_parse_event(const char *buf, size_t len, struct dp_event *ev, char *why, size_t whylen)
{
	memset(ev, 0, sizeof *ev);
	ev->seq = -1;
	ev->op = -1;
	json_error_t err;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		return fail_json(why, whylen, &err);
	int rc = parse_body(root, ev, why, whylen);
	json_decref(root);
	return rc;
}

void
dp_event_free(struct dp_event *ev)
{
	free(ev->session_id);
	free(ev->resume_url);
	free(ev->msg.content);
	free(ev->msg.mentions);
	ev->session_id = ev->resume_url = NULL;
	ev->msg.content = NULL;
	ev->msg.mentions = NULL;
}

/* Dump a new reference compactly and drop it. */
static char *
dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (s == NULL)
		abort(); /* only on OOM: every value here is well-formed */
	return s;
}

char *
dp_identify_json(const char *token, unsigned intents)
{
	return dump(json_pack("{s:i, s:{s:s, s:I, s:{s:s, s:s, s:s}}}", "op", DP_OP_IDENTIFY, "d",
			      "token", token, "intents", (json_int_t)intents, "properties", "os",
			      "linux", "browser", "massagebot", "device", "massagebot"));
}

char *
dp_resume_json(const char *token, const char *session_id, long long seq)
{
	return dump(json_pack("{s:i, s:{s:s, s:s, s:o}}", "op", DP_OP_RESUME, "d", "token", token,
			      "session_id", session_id, "seq",
			      seq >= 0 ? json_integer(seq) : json_null()));
}

char *
dp_heartbeat_json(long long seq)
{
	return dump(json_pack("{s:i, s:o}", "op", DP_OP_HEARTBEAT, "d",
			      seq >= 0 ? json_integer(seq) : json_null()));
}

/* ---- close codes -------------------------------------------------------- */

const char dp_token_rejected[] =
    "Discord rejected the bot token (authentication failed): check DISCORD_TOKEN, or reset "
    "the token in the developer portal (Bot -> Reset Token)";

const struct dp_close_rule dp_close_rules[] = {
    {0, DP_CLOSE_RESUME, 0, "connection lost"},
    {4000, DP_CLOSE_RESUME, 0, "unknown error"},
    {4001, DP_CLOSE_RESUME, 1, "unknown opcode (we sent an invalid payload)"},
    {4002, DP_CLOSE_RESUME, 1, "decode error (we sent an invalid payload)"},
    {4003, DP_CLOSE_NEW_SESSION, 0, "not authenticated"},
    {4004, DP_CLOSE_FATAL, 0, dp_token_rejected},
    {4005, DP_CLOSE_RESUME, 1, "already authenticated (we identified twice)"},
    {4007, DP_CLOSE_NEW_SESSION, 0, "invalid sequence number"},
    {4008, DP_CLOSE_RESUME, 0, "rate limited by the gateway"},
    {4009, DP_CLOSE_NEW_SESSION, 0, "session timed out"},
    {4010, DP_CLOSE_FATAL, 0, "Discord refused the connection: invalid shard"},
    {4011, DP_CLOSE_FATAL, 0,
     "Discord refused the connection: sharding required (the bot is in too many servers)"},
    {4012, DP_CLOSE_FATAL, 0, "Discord refused the connection: invalid gateway API version"},
    {4013, DP_CLOSE_FATAL, 0, "Discord refused the connection: invalid intents"},
    {4014, DP_CLOSE_FATAL, 0,
     "Discord refused the connection: disallowed intents; enable the Message Content intent "
     "(Bot -> Privileged Gateway Intents -> MESSAGE CONTENT) in the Discord developer portal"},
};
const size_t dp_close_nrules = sizeof dp_close_rules / sizeof dp_close_rules[0];

const struct dp_close_rule *
dp_close_lookup(int code)
{
	for (size_t i = 1; i < dp_close_nrules; i++)
		if (dp_close_rules[i].code == code)
			return &dp_close_rules[i];
	return &dp_close_rules[0];
}

/* ---- answering policy ---------------------------------------------------- */

/*
 * The one mention parser: if s[0..len) starts with a mention (<@id> or
 * <@!id> a user, <@&id> a role, <#id> a channel; id 1-20 digits), return
 * its length and set *user (1 for a user) and the id span; else 0.
 */
static size_t
mention_at(const char *s, size_t len, int *user, const char **id, size_t *idlen)
{
	if (len < 4 || s[0] != '<' || (s[1] != '@' && s[1] != '#'))
		return 0;
	size_t j = 2;
	*user = s[1] == '@';
	if (s[1] == '@' && (s[2] == '!' || s[2] == '&')) {
		*user = s[2] == '!';
		j++;
	}
	size_t d = j;
	while (j < len && j - d <= 20 && s[j] >= '0' && s[j] <= '9')
		j++;
	if (j == d || j - d > 20 || j >= len || s[j] != '>')
		return 0;
	*id = s + d;
	*idlen = j - d;
	return j + 1;
}

/* The first mention of user id in s: its start or NULL, *mlen its length. */
static const char *
find_mention(const char *s, size_t len, const char *id, size_t *mlen)
{
	size_t idl = strlen(id);
	for (const char *p = s; (p = memchr(p, '<', len - (size_t)(p - s))) != NULL; p++) {
		int user;
		const char *mid;
		size_t ml;
		size_t k = mention_at(p, len - (size_t)(p - s), &user, &mid, &ml);
		if (k && user && ml == idl && memcmp(mid, id, idl) == 0) {
			*mlen = k;
			return p;
		}
	}
	return NULL;
}

int
dp_is_mentioned(const struct dp_message *m, const char *self_id)
{
	if (self_id == NULL || self_id[0] == '\0')
		return 0;
	for (size_t i = 0; i < m->nmentions; i++)
		if (strcmp(m->mentions[i], self_id) == 0)
			return 1;
	size_t ml;
	return find_mention(m->content, m->content_len, self_id, &ml) != NULL;
}

int
dp_channel_listed(const char *list, const char *id)
{
	if (list == NULL)
		return 0;
	size_t idl = strlen(id);
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if ((size_t)(p - s) == idl && idl && memcmp(s, id, idl) == 0)
			return 1;
	}
	return 0;
}

/* 1 if text has something to answer: a letter, digit or non-ASCII character. */
static int
has_words(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

int
dp_should_answer(const struct dp_message *m, const char *self_id, const char *channels,
		 const char **why)
{
	if (self_id && self_id[0] && strcmp(m->author_id, self_id) == 0) {
		*why = "own message";
		return 0;
	}
	if (m->author_bot) {
		*why = "author is a bot";
		return 0;
	}
	if (m->webhook) {
		*why = "sent by a webhook";
		return 0;
	}
	if (m->type != 0 && m->type != 19) {
		*why = "not a plain message or reply";
		return 0;
	}
	if (m->guild_id[0] == '\0')
		return 1;
	if (dp_is_mentioned(m, self_id))
		return 1;
	if (dp_channel_listed(channels, m->channel_id)) {
		if (has_words(m->content, m->content_len))
			return 1;
		*why = "no text";
		return 0;
	}
	*why = "not mentioned";
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *
dp_question_text(const struct dp_message *m, const char *self_id, size_t *len)
{
	struct strbuf b = STRBUF_INIT;
	const char *s = m->content;
	size_t n = m->content_len;
	size_t ml;
	const char *hit;
	while (self_id && self_id[0] && (hit = find_mention(s, n, self_id, &ml)) != NULL) {
		sb_add(&b, s, (size_t)(hit - s));
		sb_addc(&b, ' ');
		n -= (size_t)(hit - s) + ml;
		s = hit + ml;
	}
	sb_add(&b, s, n);
	size_t a = 0, z = b.len;
	while (a < z && is_space(b.s[a]))
		a++;
	while (z > a && is_space(b.s[z - 1]))
		z--;
	char *out;
	if (!has_words(b.s + a, z - a)) {
		out = xstrdup("help");
		*len = 4;
	} else {
		out = xstrndup(b.s + a, z - a);
		*len = z - a;
	}
	sb_free(&b);
	return out;
}

void
dp_memory_key_of(const char *guild_id, const char *channel_id, const char *user_id,
		 char out[DP_KEY_MAX])
{
	if (guild_id[0])
		snprintf(out, DP_KEY_MAX, "discord:%s:%s", channel_id, user_id);
	else
		snprintf(out, DP_KEY_MAX, "discord:dm:%s", channel_id);
}

void
dp_memory_key(const struct dp_message *m, char out[DP_KEY_MAX])
{
	dp_memory_key_of(m->guild_id, m->channel_id, m->author_id, out);
}

char *
dp_private_text(const char *s, size_t len)
{
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	for (size_t i = 0; i < len;) {
		int user;
		const char *id;
		size_t idl, k = mention_at(s + i, len - i, &user, &id, &idl);
		if (k == 0) {
			sb_addc(&b, s[i++]);
			continue;
		}
		for (i += k; i < len && s[i] == ' ' && (b.len == 0 || b.s[b.len - 1] == ' ');)
			i++;
	}
	while (b.len && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	return sb_steal(&b);
}

/* ---- replies ------------------------------------------------------------- */

/* Byte offset after max_cp code points of s[from..len), or len. */
static size_t
cp_limit(const char *s, size_t from, size_t len, size_t max_cp)
{
	size_t cps = 0;
	for (size_t i = from; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (cps == max_cp)
				return i;
			cps++;
		}
	}
	return len;
}

/* A cut point: the text before it ends a paragraph, line, sentence or word. */
enum cut_kind { CUT_PARAGRAPH, CUT_LINE, CUT_SENTENCE, CUT_SPACE, CUT_KINDS };

static int
cut_kind_at(const char *s, size_t i, size_t start)
{
	/* a cut at i means s[start..i) is kept, s[i] is whitespace */
	if (i <= start || !is_space(s[i]))
		return -1;
	if (s[i] == '\n') {
		size_t j = i;
		while (j > start && (s[j - 1] == ' ' || s[j - 1] == '\t' || s[j - 1] == '\r'))
			j--;
		if (j > start && s[j - 1] == '\n')
			return CUT_PARAGRAPH;
		return CUT_LINE;
	}
	char p = s[i - 1];
	if (p == '.' || p == '!' || p == '?' || p == ':' || p == ';')
		return CUT_SENTENCE;
	/* a closing quote or bracket after a sentence end */
	if ((p == ')' || p == '"' || p == '\'' || p == '*' || p == '_') && i >= start + 2 &&
	    (s[i - 2] == '.' || s[i - 2] == '!' || s[i - 2] == '?'))
		return CUT_SENTENCE;
	return CUT_SPACE;
}

struct dp_span *
dp_split(const char *s, size_t len, size_t max_cp, size_t *n)
{
	struct dp_span *v = NULL;
	size_t cap = 0;
	*n = 0;
	if (max_cp == 0)
		max_cp = 1;
	size_t start = 0;
	for (;;) {
		while (start < len && is_space(s[start]))
			start++;
		if (start >= len)
			break;
		size_t limit = cp_limit(s, start, len, max_cp);
		size_t end;
		if (limit >= len) {
			end = len;
		} else {
			/* best cut of each kind in [start, limit]; s[limit] may be a space */
			size_t best[CUT_KINDS] = {0};
			for (size_t i = limit; i > start; i--) {
				int k = cut_kind_at(s, i, start);
				if (k >= 0 && best[k] == 0)
					best[k] = i;
			}
			/* prefer the strongest boundary that keeps at least half the window */
			size_t half = start + (limit - start) / 2;
			end = 0;
			for (int k = 0; k < CUT_KINDS && end == 0; k++)
				if (best[k] > half)
					end = best[k];
			for (int k = 0; k < CUT_KINDS && end == 0; k++)
				if (best[k])
					end = best[k];
			if (end == 0)
				end = limit; /* one long word: cut on a code point boundary */
		}
		size_t z = end;
		while (z > start && is_space(s[z - 1]))
			z--;
		v = xgrow(v, &cap, *n + 1, sizeof *v);
		v[*n].off = start;
		v[*n].len = z - start;
		(*n)++;
		start = end;
	}
	return v;
}

int
dp_nonce(const char *message_id, unsigned chunk, char *out, size_t outlen)
{
	int k = snprintf(out, outlen, "%s.%u", message_id, chunk);
	if (k < 0 || (size_t)k >= outlen || k > DP_NONCE_MAX)
		return -1;
	return 0;
}

char *
dp_reply_json(const char *content, size_t len, const char *question_id, unsigned chunk)
{
	return dp_reply_json_ex(content, len, question_id, chunk, NULL, NULL, 0);
}

/* The first max_cp code points of s (valid UTF-8), as a new JSON string. */
static json_t *
cut_string(const char *s, size_t max_cp)
{
	size_t i = 0, cp = 0;
	while (s[i] && cp < max_cp) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		cp++;
	}
	return json_stringn(s, i);
}

void
dp_choice_custom_id(const struct dp_choice *c, char out[DP_CUSTOM_ID_MAX])
{
	int k = snprintf(out, DP_CUSTOM_ID_MAX, "mb:choice:%u:%s", c->n, c->id);
	if (k < 0 || k >= DP_CUSTOM_ID_MAX)
		snprintf(out, DP_CUSTOM_ID_MAX, "mb:choice:%u", c->n);
}

int
dp_parse_choice_id(const char *custom_id, unsigned *n, char *id, size_t idlen)
{
	static const char pre[] = "mb:choice:";
	if (strncmp(custom_id, pre, sizeof pre - 1) != 0)
		return -1;
	const char *p = custom_id + sizeof pre - 1;
	if (*p < '1' || *p > '9')
		return -1;
	*n = 0;
	while (*p >= '0' && *p <= '9' && *n < 100)
		*n = *n * 10 + (unsigned)(*p++ - '0');
	if (*p == '\0') {
		snprintf(id, idlen, "%s", "");
		return 0;
	}
	if (*p != ':' || p[1] == '\0' || strlen(p + 1) >= idlen)
		return -1;
	for (const char *q = p + 1; *q; q++)
		if (!islower((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '-')
			return -1;
	strcpy(id, p + 1);
	return 0;
}

char *
dp_reply_json_ex(const char *content, size_t len, const char *question_id, unsigned chunk,
		 const char *reference, const struct dp_choice *c, size_t n)
{
	char nonce[64];
	if (dp_nonce(question_id, chunk, nonce, sizeof nonce) < 0)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "content", json_stringn(content, len));
	json_object_set_new(o, "nonce", json_string(nonce));
	json_object_set_new(o, "enforce_nonce", json_true());
	json_object_set_new(o, "allowed_mentions", json_pack("{s:[]}", "parse"));
	if (chunk == 0)
		json_object_set_new(o, "message_reference",
				    json_pack("{s:s, s:b}", "message_id",
					      reference ? reference : question_id,
					      "fail_if_not_exists", 0));
	if (n > DP_BUTTONS_MAX)
		n = DP_BUTTONS_MAX;
	if (n > 0) {
		json_t *row = json_array();
		for (size_t i = 0; i < n; i++) {
			char id[DP_CUSTOM_ID_MAX], label[512];
			dp_choice_custom_id(&c[i], id);
			snprintf(label, sizeof label, "%u. %s", c[i].n, c[i].title);
			json_t *b =
			    json_pack("{s:i, s:i, s:o, s:s}", "type", 2, "style", 1, "label",
				      cut_string(label, DP_LABEL_MAX_CP), "custom_id", id);
			json_array_append_new(row, b);
		}
		json_object_set_new(o, "components",
				    json_pack("[{s:i, s:o}]", "type", 1, "components", row));
	}
	return dump(o);
}

char *
dp_reply_without_buttons(const char *body, size_t len)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	if (o == NULL || json_object_get(o, "components") == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_del(o, "components");
	return dump(o);
}

char *
dp_interaction_ack_json(void)
{
	return dump(json_pack("{s:i, s:{s:[]}}", "type", 7, "data", "components"));
}

int
dp_parse_created_id(const char *body, size_t len, char out[DP_ID_MAX])
{
	json_t *o = json_loadb(body, len, 0, NULL);
	int rc = json_is_object(o) ? get_id(o, "id", out, NULL, 0, "") : -1;
	json_decref(o);
	return rc;
}

/* ---- REST --------------------------------------------------------------- */

int
dp_parse_gateway_bot(const char *buf, size_t len, struct dp_gateway *g, char *why, size_t whylen)
{
	memset(g, 0, sizeof *g);
	g->remaining = -1;
	json_error_t err;
	json_t *root = json_loadb(buf, len, 0, &err);
	if (root == NULL)
		return fail_json(why, whylen, &err);
	int rc = -1;
	json_t *url = json_object_get(root, "url");
	if (!json_is_string(url) || !valid_ws_url(json_string_value(url)) ||
	    json_string_length(url) >= DP_URL_MAX - sizeof DP_GW_QUERY) {
		fail(why, whylen, "'url' is missing or not a ws(s):// URL");
		goto out;
	}
	json_t *ssl = json_object_get(root, "session_start_limit");
	if (json_is_object(ssl)) {
		json_t *rem = json_object_get(ssl, "remaining");
		json_t *ra = json_object_get(ssl, "reset_after");
		if (json_is_integer(rem) && json_integer_value(rem) >= 0)
			g->remaining = (long)json_integer_value(rem);
		if (json_is_integer(ra) && json_integer_value(ra) >= 0 &&
		    json_integer_value(ra) <= 86400000)
			g->reset_after_ms = (long)json_integer_value(ra);
	}
	g->url = xstrdup(json_string_value(url));
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
dp_gateway_free(struct dp_gateway *g)
{
	free(g->url);
	g->url = NULL;
}

int
dp_parse_ws_url(const char *url, struct dp_url *u, char *why, size_t whylen)
{
	memset(u, 0, sizeof *u);
	const char *p;
	if (strncmp(url, "wss://", 6) == 0) {
		u->tls = 1;
		u->port = 443;
		p = url + 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		u->port = 80;
		p = url + 5;
	} else {
		return fail(why, whylen, "not a ws:// or wss:// URL");
	}
	const char *h = p;
	size_t hl;
	if (*p == '[') { /* IPv6 literal */
		const char *e = strchr(p, ']');
		if (e == NULL)
			return fail(why, whylen, "unterminated IPv6 address");
		h = p + 1;
		hl = (size_t)(e - h);
		p = e + 1;
		for (size_t i = 0; i < hl; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
				return fail(why, whylen, "bad IPv6 address");
	} else {
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
			p++;
		hl = (size_t)(p - h);
	}
	if (hl == 0 || hl >= sizeof u->host)
		return fail(why, whylen, "missing or too long host name");
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	if (*p == ':') {
		char *e;
		long port = strtol(p + 1, &e, 10);
		if (e == p + 1 || port < 1 || port > 65535)
			return fail(why, whylen, "bad port");
		u->port = (int)port;
		p = e;
	}
	if (*p != '\0' && *p != '/' && *p != '?')
		return fail(why, whylen, "unexpected character after the host");
	/* keep the path, drop any query: ours replaces it */
	size_t pl = strcspn(p, "?#");
	for (size_t i = 0; i < pl; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return fail(why, whylen, "bad character in the path");
	if (pl == 0) {
		p = "/";
		pl = 1;
	}
	if (pl + sizeof DP_GW_QUERY > sizeof u->path)
		return fail(why, whylen, "path too long");
	memcpy(u->path, p, pl);
	memcpy(u->path + pl, DP_GW_QUERY, sizeof DP_GW_QUERY);
	return 0;
}

/* Value of header name in hdrs (case-insensitive), copied to out; -1 if
 * absent or longer than out holds. */
static int
header(const char *hdrs, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *end = hdrs + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if ((size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = le;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			size_t vl = (size_t)(ve - v);
			/* a value that does not fit is no value: cut, it could
			 * keep part of a secret the log would no longer know */
			if (vl >= outlen)
				return -1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		p = le + 1;
	}
	return -1;
}

/* A non-negative decimal number of seconds, bounded to a day; -1 if not one. */
static double
seconds(const char *s)
{
	char *e;
	double d = strtod(s, &e);
	if (e == s || *e != '\0' || !(d >= 0.0) || d > 86400.0)
		return -1.0;
	return d;
}

void
dp_parse_ratelimit(const char *hdrs, size_t len, struct dp_ratelimit *rl)
{
	char v[128];
	memset(rl, 0, sizeof *rl);
	rl->reset_after = rl->retry_after = -1.0;
	if (header(hdrs, len, "X-RateLimit-Remaining", v, sizeof v) == 0) {
		char *e;
		long r = strtol(v, &e, 10);
		if (e != v && *e == '\0' && r >= 0) {
			rl->has_remaining = 1;
			rl->remaining = r;
		}
	}
	if (header(hdrs, len, "X-RateLimit-Reset-After", v, sizeof v) == 0)
		rl->reset_after = seconds(v);
	if (header(hdrs, len, "Retry-After", v, sizeof v) == 0)
		rl->retry_after = seconds(v);
	if (header(hdrs, len, "X-RateLimit-Global", v, sizeof v) == 0)
		rl->global = strcasecmp(v, "true") == 0;
	header(hdrs, len, "X-RateLimit-Bucket", rl->bucket, sizeof rl->bucket);
	header(hdrs, len, "X-RateLimit-Scope", rl->scope, sizeof rl->scope);
}

double
dp_parse_retry_after(const char *body, size_t len, int *global)
{
	*global = 0;
	json_t *root = json_loadb(body, len, 0, NULL);
	if (root == NULL)
		return -1.0;
	double r = -1.0;
	json_t *ra = json_object_get(root, "retry_after");
	if (json_is_number(ra)) {
		r = json_number_value(ra);
		if (!(r >= 0.0) || r > 86400.0)
			r = -1.0;
	}
	*global = json_is_true(json_object_get(root, "global"));
	json_decref(root);
	return r;
}

/* ---- gateway send window and seen ids ----------------------------------- */

uint64_t
dp_ratewin_wait(const struct dp_ratewin *w, uint64_t now_ms)
{
	if (w->n < DP_GW_LIMIT)
		return 0;
	uint64_t oldest = w->t[w->head]; /* full ring: head is the oldest */
	uint64_t free_at = oldest + DP_GW_WINDOW_MS;
	return free_at > now_ms ? free_at - now_ms : 0;
}

size_t
dp_ratewin_used(const struct dp_ratewin *w, uint64_t now_ms)
{
	size_t used = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->t[(w->head + i) % DP_GW_LIMIT] + DP_GW_WINDOW_MS > now_ms)
			used++;
	return used;
}

void
dp_ratewin_note(struct dp_ratewin *w, uint64_t now_ms)
{
	if (w->n < DP_GW_LIMIT) {
		w->t[(w->head + w->n) % DP_GW_LIMIT] = now_ms;
		w->n++;
	} else {
		w->t[w->head] = now_ms;
		w->head = (w->head + 1) % DP_GW_LIMIT;
	}
}

static uint64_t
note_key(const char *key)
{
	return hmap_hash(key, strnlen(key, DP_NOTE_KEY - 1));
}

/* The place of val in s->vals, taken once more (a new place if no note
 * holds it yet). */
static uint32_t
note_val_take(struct dp_notes *s, const char *val)
{
	size_t len = strnlen(val, DP_NOTE_VAL - 1), spare = s->nvals;
	for (size_t i = 0; i < s->nvals; i++) {
		struct dp_note_val *nv = &s->vals[i];
		if (nv->s == NULL) {
			if (spare == s->nvals)
				spare = i;
		} else if (strncmp(nv->s, val, len) == 0 && nv->s[len] == '\0') {
			nv->refs++;
			return (uint32_t)i;
		}
	}
	if (spare == s->nvals) {
		s->vals = xgrow(s->vals, &s->capvals, s->nvals + 1, sizeof *s->vals);
		s->nvals++;
	}
	s->vals[spare] = (struct dp_note_val){xstrndup(val, len), 1};
	return (uint32_t)spare;
}

static void
note_val_drop(struct dp_notes *s, uint32_t i)
{
	if (--s->vals[i].refs == 0) {
		free(s->vals[i].s);
		s->vals[i].s = NULL;
	}
}

void
dp_notes_put(struct dp_notes *s, size_t max, const char *key, const char *val)
{
	if (s->v == NULL) {
		s->max = max ? max : 1;
		s->v = xcalloc(s->max, sizeof *s->v);
	}
	uint64_t h = note_key(key);
	size_t slot = s->n;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].key == h)
			slot = i;
	/* taken before the old value is dropped: a value replaced by itself
	 * keeps its place */
	uint32_t vi = note_val_take(s, val);
	if (slot == s->n) {
		if (s->n < s->max) {
			s->n++;
		} else {
			slot = s->head;
			s->head = (s->head + 1) % s->max;
			note_val_drop(s, s->v[slot].val);
		}
	} else {
		note_val_drop(s, s->v[slot].val);
	}
	s->v[slot] = (struct dp_note){h, vi};
}

const char *
dp_notes_get(const struct dp_notes *s, const char *key)
{
	uint64_t h = note_key(key);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].key == h)
			return s->vals[s->v[i].val].s;
	return NULL;
}

void
dp_notes_free(struct dp_notes *s)
{
	for (size_t i = 0; i < s->nvals; i++)
		free(s->vals[i].s);
	free(s->vals);
	free(s->v);
	memset(s, 0, sizeof *s);
}

int
dp_seen_add(struct dp_seen *s, const char *id)
{
	if (s->ids == NULL)
		s->ids = xcalloc(DP_SEEN_MAX, sizeof *s->ids);
	uint64_t h = hmap_hash(id, strlen(id));
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == h)
			return 0;
	size_t slot;
	if (s->n < DP_SEEN_MAX) {
		slot = s->n++;
	} else {
		slot = s->head;
		s->head = (s->head + 1) % DP_SEEN_MAX;
	}
	s->ids[slot] = h;
	return 1;
}

void
dp_seen_free(struct dp_seen *s)
{
	free(s->ids);
	s->ids = NULL;
	s->head = s->n = 0;
}
