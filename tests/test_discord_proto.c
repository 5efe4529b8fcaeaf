/* test_discord_proto: the Discord payload codec: gateway frames (valid and
 * malformed), IDENTIFY/RESUME/HEARTBEAT, every close-code row, who the bot
 * answers, mention stripping, reply bodies and nonces, splitting at 2000
 * code points (multibyte), REST headers, backoff, send window, seen set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cmocka.h>

#include "discord_proto.h"
#include "utf8.h"

static struct dp_event EV;
static char WHY[256];

static int
parse(const char *s)
{
	dp_event_free(&EV);
	WHY[0] = '\0';
	return dp_parse_event(s, strlen(s), &EV, WHY, sizeof WHY);
}

static json_t *
load(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	assert_non_null(j);
	return j;
}

#define MSG(extra)                                                                                 \
	"{\"op\":0,\"s\":7,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1001\",\"channel_id\":\"20\"," \
	"\"guild_id\":\"30\",\"author\":{\"id\":\"40\",\"username\":\"ann\"},\"type\":0,"          \
	"\"content\":\"hi <@99> there\",\"mentions\":[{\"id\":\"99\"}]" extra "}}"

static void
test_parse_ops(void **st)
{
	(void)st;
	assert_int_equal(
	    parse("{\"op\":10,\"d\":{\"heartbeat_interval\":41250},\"s\":null,\"t\":null}"), 0);
	assert_int_equal(EV.kind, DP_EV_HELLO);
	assert_int_equal(EV.heartbeat_ms, 41250);
	assert_int_equal(EV.seq, -1);
	assert_int_equal(parse("{\"op\":11}"), 0);
	assert_int_equal(EV.kind, DP_EV_HEARTBEAT_ACK);
	assert_int_equal(parse("{\"op\":1,\"d\":null}"), 0);
	assert_int_equal(EV.kind, DP_EV_HEARTBEAT_REQ);
	assert_int_equal(parse("{\"op\":7,\"d\":null}"), 0);
	assert_int_equal(EV.kind, DP_EV_RECONNECT);
	assert_int_equal(parse("{\"op\":9,\"d\":true}"), 0);
	assert_int_equal(EV.kind, DP_EV_INVALID_SESSION);
	assert_int_equal(EV.resumable, 1);
	assert_int_equal(parse("{\"op\":9,\"d\":false}"), 0);
	assert_int_equal(EV.resumable, 0);
	assert_int_equal(parse("{\"op\":42}"), 0);
	assert_int_equal(EV.kind, DP_EV_OP_OTHER);
	assert_int_equal(parse("{\"op\":0,\"s\":3,\"t\":\"RESUMED\",\"d\":{}}"), 0);
	assert_int_equal(EV.kind, DP_EV_RESUMED);
	assert_int_equal(EV.seq, 3);
	assert_int_equal(parse("{\"op\":0,\"s\":4,\"t\":\"MESSAGE_UPDATE\",\"d\":{\"id\":\"1\"}}"),
			 0);
	assert_int_equal(EV.kind, DP_EV_DISPATCH_OTHER);
	assert_string_equal(EV.name, "MESSAGE_UPDATE");
}

static void
test_parse_ready(void **st)
{
	(void)st;
	assert_int_equal(
	    parse("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":{\"v\":10,\"session_id\":"
		  "\"abc\",\"resume_gateway_url\":\"wss://r.example\",\"user\":{\"id\":"
		  "\"99\",\"username\":\"bot\"},\"guilds\":[]}}"),
	    0);
	assert_int_equal(EV.kind, DP_EV_READY);
	assert_string_equal(EV.session_id, "abc");
	assert_string_equal(EV.resume_url, "wss://r.example");
	assert_string_equal(EV.self_id, "99");
	assert_int_equal(EV.seq, 1);
	/* missing pieces */
	assert_int_equal(parse("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":{\"session_id\":\"abc\","
			       "\"resume_gateway_url\":\"https://x\",\"user\":{\"id\":\"99\"}}}"),
			 -1);
	assert_non_null(strstr(WHY, "resume_gateway_url"));
	assert_int_equal(EV.seq, 1); /* the envelope was fine: seq still known */
	assert_int_equal(parse("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":{\"session_id\":\"abc\","
			       "\"resume_gateway_url\":\"ws://x\",\"user\":{}}}"),
			 -1);
	assert_non_null(strstr(WHY, "'id'"));
}

static void
test_parse_message(void **st)
{
	(void)st;
	assert_int_equal(parse(MSG(",\"webhook_id\":null")), 0);
	assert_int_equal(EV.kind, DP_EV_MESSAGE);
	assert_int_equal(EV.seq, 7);
	const struct dp_message *m = &EV.msg;
	assert_string_equal(m->id, "1001");
	assert_string_equal(m->channel_id, "20");
	assert_string_equal(m->guild_id, "30");
	assert_string_equal(m->author_id, "40");
	assert_int_equal(m->author_bot, 0);
	assert_int_equal(m->webhook, 0);
	assert_int_equal(m->type, 0);
	assert_string_equal(m->content, "hi <@99> there");
	assert_int_equal(m->nmentions, 1);
	assert_string_equal(m->mentions[0], "99");
	/* DM: no guild_id */
	assert_int_equal(
	    parse("{\"op\":0,\"s\":8,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"5\","
		  "\"channel_id\":\"6\",\"author\":{\"id\":\"7\",\"bot\":true},\"type\":19,"
		  "\"content\":\"x\",\"mentions\":[],\"webhook_id\":\"8\"}}"),
	    0);
	assert_string_equal(EV.msg.guild_id, "");
	assert_int_equal(EV.msg.author_bot, 1);
	assert_int_equal(EV.msg.webhook, 1);
	assert_int_equal(EV.msg.type, 19);
}

static void
test_parse_malformed(void **st)
{
	(void)st;
	static const struct {
		const char *frame, *why;
		long long seq;
	} bad[] = {
	    {"", "invalid JSON", -1},
	    {"{\"op\":", "invalid JSON", -1},
	    {"[1,2]", "not a JSON object", -1},
	    {"{\"op\":\"0\"}", "'op'", -1},
	    {"{\"op\":1.5}", "'op'", -1},
	    {"{\"op\":0,\"t\":\"X\",\"d\":{}}", "'s'", -1},
	    {"{\"op\":0,\"s\":\"3\",\"t\":\"X\",\"d\":{}}", "'s'", -1},
	    {"{\"op\":0,\"s\":3,\"t\":5,\"d\":{}}", "'t'", -1},
	    {"{\"op\":10,\"d\":{}}", "heartbeat_interval", -1},
	    {"{\"op\":10,\"d\":{\"heartbeat_interval\":\"5\"}}", "heartbeat_interval", -1},
	    {"{\"op\":10,\"d\":{\"heartbeat_interval\":0}}", "heartbeat_interval", -1},
	    {"{\"op\":10,\"d\":{\"heartbeat_interval\":99999999999}}", "heartbeat_interval", -1},
	    {"{\"op\":9,\"d\":1}", "boolean", -1},
	    {"{\"op\":1,\"op\":2}", "duplicate", -1},
	    {MSG(",\"x\":1}"), "invalid JSON", -1},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":[]}", "not an object", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\"},\"type\":0,\"content\":5,\"mentions\":[]}}",
	     "'content'", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\","
	     "\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\",\"mentions\":[]}}",
	     "'channel_id' is missing", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"x1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\",\"mentions\":[]}}",
	     "snowflake", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"123456789012345678901\","
	     "\"channel_id\":\"2\",\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\","
	     "\"mentions\":[]}}",
	     "snowflake", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":\"3\",\"type\":0,\"content\":\"a\",\"mentions\":[]}}",
	     "'author'", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\",\"bot\":\"yes\"},\"type\":0,\"content\":\"a\",\"mentions\":["
	     "]}}",
	     "author.bot", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\"},\"type\":\"0\",\"content\":\"a\",\"mentions\":[]}}",
	     "'type'", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\"}}",
	     "'mentions'", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\",\"mentions\":[\"4\"]}}",
	     "mentions[0]", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"guild_id\":7,\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\",\"mentions\":[]"
	     "}}",
	     "'guild_id'", 9},
	    {"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\",\"channel_id\":\"2\","
	     "\"author\":{\"id\":\"3\"},\"type\":0,\"content\":\"a\\u0000b\",\"mentions\":[]}}",
	     "invalid JSON", -1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i].frame);
		if (rc != -1 || strstr(WHY, bad[i].why) == NULL || EV.seq != bad[i].seq)
			fail_msg("case %zu: rc %d, why '%s' (want '%s'), seq %lld", i, rc, WHY,
				 bad[i].why, EV.seq);
	}
	/* content over the cap */
	size_t n = DP_CONTENT_MAX + 10;
	char *big = malloc(n + 200);
	int k = sprintf(big,
			"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_CREATE\",\"d\":{\"id\":\"1\","
			"\"channel_id\":\"2\",\"author\":{\"id\":\"3\"},\"type\":0,\"mentions\":[],"
			"\"content\":\"");
	memset(big + k, 'a', n);
	strcpy(big + k + n, "\"}}");
	assert_int_equal(parse(big), -1);
	assert_non_null(strstr(WHY, "too long"));
	/* nesting bombs and invalid UTF-8 are rejected by the JSON parser */
	memset(big, '[', 5000);
	big[5000] = '\0';
	assert_int_equal(parse(big), -1);
	assert_int_equal(parse("{\"op\":0,\"s\":1,\"t\":\"X\xff\",\"d\":{}}"), -1);
	free(big);
	/* jansson quotes up to 20 bytes near the error, a piece of whatever
	 * was there (a token, cut): not taken, the byte position says where */
	assert_int_equal(parse("{\"op\":1,\"d\":OTkwNjEzODQxMDk.GqWxYz}"), -1);
	assert_null(strstr(WHY, "OTkwNjEzODQxMDk"));
	assert_non_null(strstr(WHY, "invalid JSON at byte"));
	assert_int_equal(parse("{\"op\":"), -1); /* "near end of file" is kept */
	assert_non_null(strstr(WHY, "end of file"));
}

static void
test_builders(void **st)
{
	(void)st;
	char *s = dp_identify_json("TOK.EN", DP_INTENTS);
	json_t *j = load(s);
	assert_int_equal(json_integer_value(json_object_get(j, "op")), 2);
	json_t *d = json_object_get(j, "d");
	assert_string_equal(json_string_value(json_object_get(d, "token")), "TOK.EN");
	/* GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT (the contract's
	 * 37377) and the reactions intents, for the thumbs */
	assert_int_equal(json_integer_value(json_object_get(d, "intents")),
			 37377 | (1 << 10) | (1 << 13));
	json_t *p = json_object_get(d, "properties");
	assert_string_equal(json_string_value(json_object_get(p, "os")), "linux");
	assert_string_equal(json_string_value(json_object_get(p, "browser")), "massagebot");
	assert_string_equal(json_string_value(json_object_get(p, "device")), "massagebot");
	json_decref(j);
	free(s);
	assert_int_equal(DP_INTENTS,
			 (1u << 0) | (1u << 9) | (1u << 10) | (1u << 12) | (1u << 13) | (1u << 15));

	s = dp_resume_json("T\"K", "sess", 42);
	assert_string_equal(
	    s, "{\"op\":6,\"d\":{\"token\":\"T\\\"K\",\"session_id\":\"sess\",\"seq\":42}}");
	free(s);
	s = dp_heartbeat_json(17);
	assert_string_equal(s, "{\"op\":1,\"d\":17}");
	free(s);
	s = dp_heartbeat_json(-1);
	assert_string_equal(s, "{\"op\":1,\"d\":null}");
	free(s);
}

static void
test_close_table(void **st)
{
	(void)st;
	static const struct {
		int code;
		enum dp_close_action a;
		int bug;
		const char *says;
	} rows[] = {
	    {4000, DP_CLOSE_RESUME, 0, "unknown"},
	    {4001, DP_CLOSE_RESUME, 1, "opcode"},
	    {4002, DP_CLOSE_RESUME, 1, "decode"},
	    {4003, DP_CLOSE_NEW_SESSION, 0, "not authenticated"},
	    {4004, DP_CLOSE_FATAL, 0, "rejected the bot token"},
	    {4005, DP_CLOSE_RESUME, 1, "already authenticated"},
	    {4007, DP_CLOSE_NEW_SESSION, 0, "sequence"},
	    {4008, DP_CLOSE_RESUME, 0, "rate limited"},
	    {4009, DP_CLOSE_NEW_SESSION, 0, "timed out"},
	    {4010, DP_CLOSE_FATAL, 0, "shard"},
	    {4011, DP_CLOSE_FATAL, 0, "sharding required"},
	    {4012, DP_CLOSE_FATAL, 0, "API version"},
	    {4013, DP_CLOSE_FATAL, 0, "invalid intents"},
	    {4014, DP_CLOSE_FATAL, 0, "enable the Message Content intent"},
	    {1000, DP_CLOSE_RESUME, 0, "connection lost"},
	    {1001, DP_CLOSE_RESUME, 0, "connection lost"},
	    {1006, DP_CLOSE_RESUME, 0, "connection lost"},
	    {4006, DP_CLOSE_RESUME, 0, "connection lost"},
	    {4999, DP_CLOSE_RESUME, 0, "connection lost"},
	    {0, DP_CLOSE_RESUME, 0, "connection lost"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct dp_close_rule *r = dp_close_lookup(rows[i].code);
		assert_non_null(r);
		if (r->action != rows[i].a || r->our_bug != rows[i].bug ||
		    strstr(r->message, rows[i].says) == NULL)
			fail_msg("close %d: action %d bug %d '%s'", rows[i].code, r->action,
				 r->our_bug, r->message);
	}
	/* every row of the table is covered above */
	for (size_t i = 1; i < dp_close_nrules; i++) {
		int found = 0;
		for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
			found |= rows[k].code == dp_close_rules[i].code;
		if (!found)
			fail_msg("close table row %d has no test", dp_close_rules[i].code);
	}
	assert_non_null(strstr(dp_token_rejected, "DISCORD_TOKEN"));
}

/* A message for the policy tests. */
static struct dp_message
msg(const char *guild, const char *channel, const char *author, const char *content)
{
	struct dp_message m;
	memset(&m, 0, sizeof m);
	strcpy(m.id, "500");
	strcpy(m.channel_id, channel);
	strcpy(m.guild_id, guild);
	strcpy(m.author_id, author);
	m.content = (char *)(uintptr_t)content;
	m.content_len = strlen(content);
	return m;
}

static void
test_policy(void **st)
{
	(void)st;
	const char *why = NULL;
	const char *chans = "111, 222";
	struct dp_message m = msg("", "9", "40", "hello");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 1); /* DM */
	m = msg("30", "9", "40", "hello");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0);
	assert_string_equal(why, "not mentioned");
	m = msg("30", "222", "40", "hello");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 1); /* listed channel */
	m = msg("30", "22", "40", "hello");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0); /* prefix is not a match */
	assert_int_equal(dp_should_answer(&m, "99", NULL, &why), 0);
	m = msg("30", "222", "40", "   ");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0);
	assert_string_equal(why, "no text");
	m = msg("30", "9", "40", "hey <@99> what");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 1);
	m = msg("30", "9", "40", "hey <@!99> what");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 1);
	m = msg("30", "9", "40", "hey <@&99> role");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0); /* role mention */
	m = msg("30", "9", "40", "hey <@999> other");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0);
	m = msg("30", "9", "40", "reply ping only");
	char mentions[1][DP_ID_MAX] = {"99"};
	m.mentions = mentions;
	m.nmentions = 1;
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 1); /* mentions[] */
	/* never: self, bots, webhooks, other types; even in DMs and listed channels */
	m = msg("", "222", "99", "hello");
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0);
	assert_string_equal(why, "own message");
	m = msg("", "222", "40", "hello");
	m.author_bot = 1;
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0);
	assert_string_equal(why, "author is a bot");
	m = msg("", "222", "40", "hello");
	m.webhook = 1;
	assert_int_equal(dp_should_answer(&m, "99", chans, &why), 0);
	assert_string_equal(why, "sent by a webhook");
	for (int t = 0; t < 50; t++) {
		m = msg("", "222", "40", "hello");
		m.type = t;
		assert_int_equal(dp_should_answer(&m, "99", chans, &why), t == 0 || t == 19);
	}
	/* no own id yet: nothing counts as a mention */
	m = msg("30", "9", "40", "<@99>");
	assert_int_equal(dp_should_answer(&m, "", chans, &why), 0);
	assert_int_equal(dp_channel_listed("1,2,3", "3"), 1);
	assert_int_equal(dp_channel_listed("1,2,3", "4"), 0);
	assert_int_equal(dp_channel_listed("", "1"), 0);
}

static void
test_question_text(void **st)
{
	(void)st;
	static const struct {
		const char *content, *want;
	} cases[] = {
	    {"<@99> what is swedish massage", "what is swedish massage"},
	    {"what is <@!99> swedish massage?", "what is   swedish massage?"},
	    {"<@99>", "help"},
	    {"  <@!99>  <@99> ", "help"},
	    {"<@99> ?!", "help"},
	    {"", "help"},
	    {"<@99> ask <@123> and <@&99> too", "ask <@123> and <@&99> too"},
	    {"<@99", "<@99"},
	    {"<@9999> hi", "<@9999> hi"},
	    {"é <@99>", "é"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dp_message m = msg("30", "9", "40", cases[i].content);
		size_t len;
		char *q = dp_question_text(&m, "99", &len);
		if (strcmp(q, cases[i].want) != 0 || len != strlen(q))
			fail_msg("case %zu: '%s', want '%s'", i, q, cases[i].want);
		free(q);
	}
}

/* The memory key: per DM, per person in a channel, the longest ids fit. */
static void
test_memory_key(void **st)
{
	(void)st;
	char a[DP_KEY_MAX], b[DP_KEY_MAX];
	struct dp_message m = msg("", "9", "40", "hello");
	dp_memory_key(&m, a);
	assert_string_equal(a, "discord:dm:9");
	m = msg("30", "222", "40", "hello");
	dp_memory_key(&m, a);
	m = msg("30", "222", "41", "hello");
	dp_memory_key(&m, b);
	assert_string_equal(a, "discord:222:40");
	assert_string_not_equal(a, b);
	m = msg("30", "12345678901234567890", "12345678901234567890", "x");
	dp_memory_key(&m, a);
	assert_string_equal(a, "discord:12345678901234567890:12345678901234567890");
}

static void
test_private_text(void **st)
{
	(void)st;
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"write a poem <@123456789012345678> please", "write a poem please"},
	    {"<@!42> weather in <#77> for <@&88> now", "weather in for now"},
	    {"no mentions here", "no mentions here"},
	    {"<@> <@x1> <#> <@123456789012345678901> kept",
	     "<@> <@x1> <#> <@123456789012345678901> kept"},
	    {"tail <@1>", "tail"},
	    {"<@1><@2>", ""},
	    {"<@1", "<@1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = dp_private_text(cases[i].in, strlen(cases[i].in));
		if (strcmp(p, cases[i].want) != 0)
			fail_msg("case %zu: '%s', want '%s'", i, p, cases[i].want);
		free(p);
	}
}

static void
test_reply_json(void **st)
{
	(void)st;
	char *s = dp_reply_json("hi @everyone <@5>", 17, "12345678901234567890", 0);
	json_t *j = load(s);
	assert_string_equal(json_string_value(json_object_get(j, "content")), "hi @everyone <@5>");
	assert_string_equal(json_string_value(json_object_get(j, "nonce")),
			    "12345678901234567890.0");
	assert_true(json_is_true(json_object_get(j, "enforce_nonce")));
	json_t *am = json_object_get(j, "allowed_mentions");
	assert_int_equal(json_object_size(am), 1);
	assert_true(json_is_array(json_object_get(am, "parse")));
	assert_int_equal(json_array_size(json_object_get(am, "parse")), 0);
	json_t *ref = json_object_get(j, "message_reference");
	assert_string_equal(json_string_value(json_object_get(ref, "message_id")),
			    "12345678901234567890");
	assert_true(json_is_false(json_object_get(ref, "fail_if_not_exists")));
	json_decref(j);
	free(s);
	/* later chunks: no reference, their own nonce */
	s = dp_reply_json("x", 1, "7", 3);
	j = load(s);
	assert_null(json_object_get(j, "message_reference"));
	assert_string_equal(json_string_value(json_object_get(j, "nonce")), "7.3");
	json_decref(j);
	free(s);
	/* nonces stay within 25 characters and differ per chunk */
	char a[64], b[64];
	assert_int_equal(dp_nonce("12345678901234567890", DP_CHUNKS_MAX, a, sizeof a), 0);
	assert_true(strlen(a) <= DP_NONCE_MAX);
	assert_int_equal(dp_nonce("12345678901234567890", 1, b, sizeof b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(dp_nonce("12345678901234567890", 123456, a, sizeof a), -1);
	assert_null(dp_reply_json("x", 1, "12345678901234567890", 100000));
}

#define PRESS(user, extra)                                                                         \
	"{\"op\":0,\"s\":9,\"t\":\"INTERACTION_CREATE\",\"d\":{\"id\":\"801\",\"type\":3,"         \
	"\"token\":\"aBc.d-e_f\",\"channel_id\":\"20\"," user ",\"message\":{\"id\":\"77\"},"      \
	"\"data\":{\"custom_id\":\"mb:choice:2:sports-massage\",\"component_type\":2}" extra "}}"

/* A button press: who, where, on which message, which button; the rest of
 * INTERACTION_CREATE left alone; anything malformed refused. */
static void
test_interaction(void **st)
{
	(void)st;
	assert_int_equal(parse(PRESS("\"user\":{\"id\":\"40\"}", "")), 0);
	assert_int_equal(EV.kind, DP_EV_INTERACTION);
	assert_string_equal(EV.ia.id, "801");
	assert_string_equal(EV.ia.token, "aBc.d-e_f");
	assert_string_equal(EV.ia.user_id, "40");
	assert_string_equal(EV.ia.guild_id, "");
	assert_string_equal(EV.ia.message_id, "77");
	assert_string_equal(EV.ia.custom_id, "mb:choice:2:sports-massage");
	assert_int_equal(
	    parse(PRESS("\"guild_id\":\"30\",\"member\":{\"user\":{\"id\":\"41\"}}", "")), 0);
	assert_string_equal(EV.ia.user_id, "41");
	assert_string_equal(EV.ia.guild_id, "30");
	/* a slash command or a select menu is not ours to answer */
	assert_int_equal(parse("{\"op\":0,\"s\":9,\"t\":\"INTERACTION_CREATE\",\"d\":{\"id\":\"1\","
			       "\"type\":2,\"data\":{\"name\":\"x\"}}}"),
			 0);
	assert_int_equal(EV.kind, DP_EV_DISPATCH_OTHER);
	/* malformed: a token that cannot go into a URL, no user, no message */
	static const char *const bad[] = {
	    "{\"op\":0,\"s\":9,\"t\":\"INTERACTION_CREATE\",\"d\":{\"id\":\"801\",\"type\":3,"
	    "\"token\":\"a/../"
	    "b\",\"channel_id\":\"20\",\"user\":{\"id\":\"40\"},\"message\":{\"id\":"
	    "\"77\"},\"data\":{\"custom_id\":\"x\",\"component_type\":2}}}",
	    "{\"op\":0,\"s\":9,\"t\":\"INTERACTION_CREATE\",\"d\":{\"id\":\"801\",\"type\":3,"
	    "\"token\":\"t\",\"channel_id\":\"20\",\"message\":{\"id\":\"77\"},\"data\":{\"custom_"
	    "id\":"
	    "\"x\",\"component_type\":2}}}",
	    "{\"op\":0,\"s\":9,\"t\":\"INTERACTION_CREATE\",\"d\":{\"id\":\"801\",\"type\":3,"
	    "\"token\":\"t\",\"channel_id\":\"20\",\"user\":{\"id\":\"40\"},\"data\":{\"custom_"
	    "id\":"
	    "\"x\",\"component_type\":2}}}",
	    "{\"op\":0,\"s\":9,\"t\":\"INTERACTION_CREATE\",\"d\":{\"id\":\"801\",\"type\":3,"
	    "\"token\":\"t\",\"channel_id\":\"20\",\"user\":{\"id\":\"40\"},\"message\":{\"id\":"
	    "\"77\"},\"data\":{\"custom_id\":\"\",\"component_type\":2}}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(bad[i]) == 0)
			fail_msg("malformed press %zu accepted", i);
	assert_int_equal(EV.seq, 9); /* the sequence still counts */
}

#define REACT(emoji, extra)                                                                        \
	"{\"op\":0,\"s\":9,\"t\":\"MESSAGE_REACTION_ADD\",\"d\":{\"user_id\":\"40\","              \
	"\"channel_id\":\"20\",\"message_id\":\"77\",\"emoji\":" emoji extra "}}"

static void
test_reaction(void **st)
{
	(void)st;
	static const struct {
		const char *frame;
		int thumb, bot;
	} cases[] = {
	    {REACT("{\"id\":null,\"name\":\"\xF0\x9F\x91\x8D\"}", ""), 1, 0},
	    {REACT("{\"id\":null,\"name\":\"\xF0\x9F\x91\x8E\"}", ""), 0, 0},
	    {REACT("{\"id\":null,\"name\":\"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD\"}", ""), 1, 0},
	    {REACT("{\"name\":\"\xF0\x9F\x91\x8E\"}", ""), 0, 0},
	    {REACT("{\"id\":null,\"name\":\"\xE2\x9D\xA4\"}", ""), -1, 0},
	    {REACT("{\"id\":\"5\",\"name\":\"\xF0\x9F\x91\x8D\"}", ""), -1, 0},
	    {REACT("{\"id\":\"5\",\"name\":null}", ""), -1, 0},
	    {REACT("{\"id\":null,\"name\":\"\xF0\x9F\x91\x8E\"}",
		   ",\"guild_id\":\"30\",\"member\":{\"user\":{\"id\":\"40\",\"bot\":true}}"),
	     0, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(parse(cases[i].frame), 0);
		assert_int_equal(EV.kind, DP_EV_REACTION);
		assert_int_equal(EV.re.thumb, cases[i].thumb);
		assert_int_equal(EV.re.user_bot, cases[i].bot);
		assert_string_equal(EV.re.message_id, "77");
		assert_string_equal(EV.re.user_id, "40");
	}
	assert_int_equal(
	    parse("{\"op\":0,\"s\":9,\"t\":\"MESSAGE_REACTION_ADD\",\"d\":{\"user_id\":"
		  "\"40\",\"channel_id\":\"20\",\"emoji\":{\"name\":\"x\"}}}"),
	    -1);
}

/* Buttons under a "did you mean": labels numbered and cut to 80 code
 * points, custom ids that read back, only on the part asked for. */
static void
test_buttons(void **st)
{
	(void)st;
	char long_title[400], long_id[120];
	memset(long_title, 0, sizeof long_title);
	for (size_t i = 0; i < 100; i++) /* 100 x "é" */
		memcpy(long_title + 2 * i, "\xC3\xA9", 2);
	memset(long_id, 'a', 95);
	long_id[95] = '\0';
	struct dp_choice c[] = {
	    {1, "deep-tissue-massage", "Deep tissue massage"},
	    {2, long_id, long_title},
	};
	char *s = dp_reply_json_ex("Did you mean?", 13, "501", 1, NULL, c, 2);
	json_t *j = load(s);
	assert_null(json_object_get(j, "message_reference")); /* not the first part */
	json_t *row = json_array_get(json_object_get(j, "components"), 0);
	assert_int_equal(json_integer_value(json_object_get(row, "type")), 1);
	json_t *bs = json_object_get(row, "components");
	assert_int_equal(json_array_size(bs), 2);
	json_t *b0 = json_array_get(bs, 0), *b1 = json_array_get(bs, 1);
	assert_int_equal(json_integer_value(json_object_get(b0, "type")), 2);
	assert_string_equal(json_string_value(json_object_get(b0, "label")),
			    "1. Deep tissue massage");
	const char *l1 = json_string_value(json_object_get(b1, "label"));
	assert_int_equal(utf8_count(l1, strlen(l1)), DP_LABEL_MAX_CP);
	unsigned n;
	char id[DP_CUSTOM_ID_MAX];
	assert_int_equal(dp_parse_choice_id(json_string_value(json_object_get(b0, "custom_id")), &n,
					    id, sizeof id),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(id, "deep-tissue-massage");
	/* an id too long for a custom_id: the number alone */
	const char *c1 = json_string_value(json_object_get(b1, "custom_id"));
	assert_true(strlen(c1) <= 100);
	assert_int_equal(dp_parse_choice_id(c1, &n, id, sizeof id), 0);
	assert_int_equal(n, 2);
	assert_string_equal(id, "");
	/* the same body without its buttons; a body without buttons: NULL */
	char *plain = dp_reply_without_buttons(s, strlen(s));
	json_t *p = load(plain);
	assert_null(json_object_get(p, "components"));
	assert_string_equal(json_string_value(json_object_get(p, "nonce")), "501.1");
	assert_null(dp_reply_without_buttons(plain, strlen(plain)));
	json_decref(p);
	free(plain);
	json_decref(j);
	free(s);
	/* the first part quotes the reference given */
	s = dp_reply_json_ex("x", 1, "801", 0, "77", NULL, 0);
	j = load(s);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(j, "message_reference"), "message_id")),
			    "77");
	assert_null(json_object_get(j, "components"));
	json_decref(j);
	free(s);
	/* custom ids not ours */
	static const char *const bad[] = {
	    "x", "mb:choice:", "mb:choice:0:a", "mb:choice:1:A b", "mb:choice:1:", "mb:choice:x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(dp_parse_choice_id(bad[i], &n, id, sizeof id), -1);
	/* the acknowledgement of a press takes the buttons off */
	s = dp_interaction_ack_json();
	assert_string_equal(s, "{\"type\":7,\"data\":{\"components\":[]}}");
	free(s);
	char mid[DP_ID_MAX];
	assert_int_equal(dp_parse_created_id("{\"id\":\"9001\",\"content\":\"x\"}", 27, mid), 0);
	assert_string_equal(mid, "9001");
	assert_int_equal(dp_parse_created_id("", 0, mid), -1);
	assert_int_equal(dp_parse_created_id("{\"id\":5}", 8, mid), -1);
}

/* The bounded notes: replace, forget the oldest, never grow. */
static void
test_notes(void **st)
{
	(void)st;
	struct dp_notes s = {0};
	dp_notes_put(&s, 3, "a", "1");
	dp_notes_put(&s, 3, "b", "2");
	dp_notes_put(&s, 3, "a", "3");
	assert_string_equal(dp_notes_get(&s, "a"), "3");
	assert_int_equal(s.n, 2);
	dp_notes_put(&s, 3, "c", "4");
	dp_notes_put(&s, 3, "d", "5"); /* "a" was the oldest */
	assert_null(dp_notes_get(&s, "a"));
	assert_string_equal(dp_notes_get(&s, "b"), "2");
	assert_string_equal(dp_notes_get(&s, "d"), "5");
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		dp_notes_put(&s, 3, k, "v");
	}
	assert_int_equal(s.n, 3);
	assert_non_null(dp_notes_get(&s, "k999"));
	assert_null(dp_notes_get(&s, "k996"));
	/* one value, many keys: kept once; values no note holds are let go,
	 * so distinct values never take more than max + 1 places */
	size_t held = 0;
	for (size_t i = 0; i < s.nvals; i++)
		held += s.vals[i].s != NULL;
	assert_int_equal(held, 1);
	for (int i = 0; i < 1000; i++) {
		char k[16], v[16];
		snprintf(k, sizeof k, "j%d", i);
		snprintf(v, sizeof v, "v%d", i);
		dp_notes_put(&s, 3, k, v);
	}
	assert_true(s.nvals <= 4);
	assert_string_equal(dp_notes_get(&s, "j999"), "v999");
	assert_string_equal(dp_notes_get(&s, "j997"), "v997");
	/* a value cut to DP_NOTE_VAL - 1 bytes, and found again cut */
	char longv[DP_NOTE_VAL * 2];
	memset(longv, 'x', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	dp_notes_put(&s, 3, "long", longv);
	dp_notes_put(&s, 3, "long2", longv);
	assert_int_equal(strlen(dp_notes_get(&s, "long")), DP_NOTE_VAL - 1);
	assert_ptr_equal(dp_notes_get(&s, "long"), dp_notes_get(&s, "long2"));
	dp_notes_free(&s);
}

static size_t
cps(const char *s, size_t n)
{
	return utf8_count(s, n);
}

/* Splits text, checks every piece's size and that only whitespace was lost. */
static struct dp_span *
split_checked(const char *s, size_t max, size_t *n)
{
	struct dp_span *v = dp_split(s, strlen(s), max, n);
	size_t pos = 0;
	for (size_t i = 0; i < *n; i++) {
		assert_true(v[i].len > 0);
		assert_true(cps(s + v[i].off, v[i].len) <= max);
		assert_true(utf8_invalid_at(s + v[i].off, v[i].len) == v[i].len);
		for (; pos < v[i].off; pos++)
			assert_true(strchr(" \n\t\r", s[pos]) != NULL);
		pos = v[i].off + v[i].len;
	}
	for (; s[pos]; pos++)
		assert_true(strchr(" \n\t\r", s[pos]) != NULL);
	return v;
}

static void
test_split(void **st)
{
	(void)st;
	size_t n;
	struct dp_span *v = split_checked("short reply", 2000, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].len, 11);
	free(v);
	v = split_checked("  \n ", 2000, &n);
	assert_int_equal(n, 0);
	free(v);

	/* paragraphs: cut at the last paragraph break that fits */
	char buf[8000];
	char para[1201];
	memset(para, 'a', 1200);
	para[1200] = '\0';
	for (int i = 0; i < 1200; i += 100)
		para[i + 99] = ' ';
	snprintf(buf, sizeof buf, "%s\n\n%s\n\n%s", para, para, para);
	v = split_checked(buf, 2000, &n);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].off, 0);
	assert_int_equal(v[1].off, 1202);
	free(v);

	/* sentences when a paragraph is too long: "Xxx... yy. " repeated */
	struct {
		char *s;
		size_t len, cap;
	} b = {buf, 0, sizeof buf};
	b.len = 0;
	while (b.len < 5000)
		b.len +=
		    (size_t)snprintf(b.s + b.len, b.cap - b.len, "This is sentence %zu. ", b.len);
	v = split_checked(buf, 2000, &n);
	assert_int_equal(n, 3);
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(buf[v[i].off + v[i].len - 1], '.');
	free(v);

	/* multibyte: 2-, 3- and 4-byte characters count as one each */
	static const char *const glyphs[] = {"é", "€", "😀"};
	for (size_t g = 0; g < 3; g++) {
		size_t gl = strlen(glyphs[g]);
		char *t = malloc(4100 * (gl + 1) + 1);
		size_t tl = 0;
		for (int i = 0; i < 4100; i++) {
			memcpy(t + tl, glyphs[g], gl);
			tl += gl;
			if (i % 50 == 49)
				t[tl++] = ' ';
		}
		t[tl] = '\0';
		v = split_checked(t, 2000, &n);
		assert_int_equal(n, 3);
		assert_true(cps(t + v[0].off, v[0].len) > 1900);
		free(v);
		/* no spaces at all: hard cuts on code point boundaries */
		tl = 0;
		for (int i = 0; i < 4100; i++) {
			memcpy(t + tl, glyphs[g], gl);
			tl += gl;
		}
		t[tl] = '\0';
		v = split_checked(t, 2000, &n);
		assert_int_equal(n, 3);
		assert_int_equal(cps(t + v[0].off, v[0].len), 2000);
		assert_int_equal(cps(t + v[2].off, v[2].len), 100);
		free(v);
		free(t);
	}
	/* exactly 2000 code points stays one message */
	char *t = malloc(2 * 2000 + 1);
	for (int i = 0; i < 2000; i++)
		memcpy(t + 2 * i, "é", 2);
	t[4000] = '\0';
	v = split_checked(t, 2000, &n);
	assert_int_equal(n, 1);
	free(v);
	free(t);
}

static void
test_gateway_and_urls(void **st)
{
	(void)st;
	struct dp_gateway g;
	const char *body =
	    "{\"url\":\"wss://gateway.discord.gg\",\"shards\":1,\"session_start_limit\":"
	    "{\"total\":1000,\"remaining\":0,\"reset_after\":5000,\"max_concurrency\":1}}";
	assert_int_equal(dp_parse_gateway_bot(body, strlen(body), &g, WHY, sizeof WHY), 0);
	assert_string_equal(g.url, "wss://gateway.discord.gg");
	assert_int_equal(g.remaining, 0);
	assert_int_equal(g.reset_after_ms, 5000);
	dp_gateway_free(&g);
	assert_int_equal(dp_parse_gateway_bot("{\"url\":5}", 9, &g, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_gateway_bot("nope", 4, &g, WHY, sizeof WHY), -1);

	struct dp_url u;
	assert_int_equal(dp_parse_ws_url("wss://gateway.discord.gg", &u, WHY, sizeof WHY), 0);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.host, "gateway.discord.gg");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/?v=10&encoding=json");
	assert_int_equal(dp_parse_ws_url("ws://127.0.0.1:8123/resume?x=1", &u, WHY, sizeof WHY), 0);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8123);
	assert_string_equal(u.path, "/resume?v=10&encoding=json");
	assert_int_equal(dp_parse_ws_url("ws://[::1]:9/", &u, WHY, sizeof WHY), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(dp_parse_ws_url("http://x", &u, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_ws_url("ws://", &u, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_ws_url("ws://x:0", &u, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_ws_url("ws://x:99999", &u, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_ws_url("ws://a b", &u, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_ws_url("ws://x/a b", &u, WHY, sizeof WHY), -1);
	assert_int_equal(dp_parse_ws_url("ws://user@x", &u, WHY, sizeof WHY), -1);
}

static void
test_ratelimit(void **st)
{
	(void)st;
	struct dp_ratelimit rl;
	const char *h =
	    "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
	    "x-ratelimit-remaining: 0\r\nX-RateLimit-Reset-After: 1.250\r\n"
	    "Retry-After: 2\r\nX-RateLimit-Bucket: abcd1234\r\nX-RateLimit-Global: true\r\n"
	    "X-RateLimit-Scope: shared\r\n\r\n";
	dp_parse_ratelimit(h, strlen(h), &rl);
	assert_int_equal(rl.has_remaining, 1);
	assert_int_equal(rl.remaining, 0);
	assert_true(rl.reset_after > 1.24 && rl.reset_after < 1.26);
	assert_true(rl.retry_after > 1.99 && rl.retry_after < 2.01);
	assert_int_equal(rl.global, 1);
	assert_string_equal(rl.bucket, "abcd1234");
	assert_string_equal(rl.scope, "shared");
	dp_parse_ratelimit("X-RateLimit-Remaining: -1\r\nX-RateLimit-Reset-After: abc\r\n", 55,
			   &rl);
	assert_int_equal(rl.has_remaining, 0);
	assert_true(rl.reset_after < 0);
	assert_true(rl.retry_after < 0);
	/* a bucket too long to keep is dropped, not cut (it is logged, and
	 * a proxy may echo anything there) */
	char longer[200];
	snprintf(longer, sizeof longer, "X-RateLimit-Bucket: %070d\r\nX-RateLimit-Scope: user\r\n",
		 7);
	dp_parse_ratelimit(longer, strlen(longer), &rl);
	assert_string_equal(rl.bucket, "");
	assert_string_equal(rl.scope, "user");
	int global;
	const char *b =
	    "{\"message\":\"You are being rate limited.\",\"retry_after\":0.35,\"global\":false}";
	double ra = dp_parse_retry_after(b, strlen(b), &global);
	assert_true(ra > 0.34 && ra < 0.36);
	assert_int_equal(global, 0);
	assert_true(dp_parse_retry_after("{\"retry_after\":-3}", 18, &global) < 0);
	assert_true(dp_parse_retry_after("<html>", 6, &global) < 0);
}

static void
test_window_seen(void **st)
{
	(void)st;
	/* the gateway send window allows DP_GW_LIMIT per 60 s */
	struct dp_ratewin w;
	memset(&w, 0, sizeof w);
	for (int i = 0; i < DP_GW_LIMIT; i++) {
		assert_int_equal(dp_ratewin_wait(&w, 1000 + (uint64_t)i), 0);
		dp_ratewin_note(&w, 1000 + (uint64_t)i);
	}
	assert_int_equal(dp_ratewin_used(&w, 2000), DP_GW_LIMIT);
	assert_int_equal(dp_ratewin_used(&w, 61010), DP_GW_LIMIT - 11);
	assert_int_equal(dp_ratewin_wait(&w, 2000), 59000);
	assert_int_equal(dp_ratewin_wait(&w, 61000), 0);
	dp_ratewin_note(&w, 61000);
	assert_int_equal(dp_ratewin_wait(&w, 61000), 1);
	assert_true(DP_GW_LIMIT < 120);

	/* seen set: duplicates detected, bounded, oldest forgotten */
	struct dp_seen s = {0};
	assert_int_equal(dp_seen_add(&s, "1"), 1);
	assert_int_equal(dp_seen_add(&s, "1"), 0);
	char id[DP_ID_MAX];
	for (int i = 2; i <= DP_SEEN_MAX; i++) {
		snprintf(id, sizeof id, "%d", i);
		assert_int_equal(dp_seen_add(&s, id), 1);
	}
	assert_int_equal(dp_seen_add(&s, "1"), 0);
	assert_int_equal(dp_seen_add(&s, "new"), 1); /* evicts "1" */
	assert_int_equal(dp_seen_add(&s, "2"), 0);
	assert_int_equal(dp_seen_add(&s, "1"), 1);
	assert_int_equal(s.n, DP_SEEN_MAX);
	dp_seen_free(&s);
}

static int
teardown(void **st)
{
	(void)st;
	dp_event_free(&EV);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ops),
	    cmocka_unit_test(test_parse_ready),
	    cmocka_unit_test(test_parse_message),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_builders),
	    cmocka_unit_test(test_close_table),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_question_text),
	    cmocka_unit_test(test_private_text),
	    cmocka_unit_test(test_reply_json),
	    cmocka_unit_test(test_memory_key),
	    cmocka_unit_test(test_interaction),
	    cmocka_unit_test(test_reaction),
	    cmocka_unit_test(test_buttons),
	    cmocka_unit_test(test_notes),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_gateway_and_urls),
	    cmocka_unit_test(test_ratelimit),
	    cmocka_unit_test(test_window_seen),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
