/* test_web_proto: the web chat's pure parts: WEB_LISTEN, the Origin
 * allow-list, trusted proxies and X-Forwarded-For, the widget's frames
 * (parsed and refused), the bot's frames, and what a chat reply carries
 * beside its text (level, related answers, "did you mean" choices). */
#include <jansson.h>

#include "testutil.h"
#include "web_proto.h"
#include "xmem.h"

static void
test_listen(void **st)
{
	(void)st;
	char addr[WEB_ADDR_MAX], why[200];
	int port;
	assert_int_equal(web_parse_listen("127.0.0.1:8080", addr, sizeof addr, &port, why, 200), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(web_parse_listen("[::1]:9000", addr, sizeof addr, &port, why, 200), 0);
	assert_string_equal(addr, "::1");
	assert_int_equal(port, 9000);
	assert_int_equal(web_parse_listen("localhost:80", addr, sizeof addr, &port, why, 200), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(web_parse_listen("0.0.0.0:65535", addr, sizeof addr, &port, why, 200), 0);
	static const char *const bad[] = {
	    "8080",           "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
	    "bot.example:80", "::1:80",    "[::1]",       "[nope]:80",
	    "127.0.0.1:80x",  "1.2.3:80",  ":8080",       "127.0.0.1:-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (web_parse_listen(bad[i], addr, sizeof addr, &port, why, 200) == 0)
			fail_msg("'%s' accepted as WEB_LISTEN", bad[i]);
	assert_non_null(strstr(why, "'127.0.0.1:-1'"));
}

static void
test_origins(void **st)
{
	(void)st;
	char why[200];
	assert_int_equal(web_check_origins("self", why, sizeof why), 0);
	assert_int_equal(web_check_origins("*", why, sizeof why), 0);
	assert_int_equal(
	    web_check_origins("self, https://www.clinic.example, http://localhost:3000", why, 200),
	    0);
	assert_int_equal(web_check_origins("https://clinic.example/page", why, sizeof why), -1);
	assert_non_null(strstr(why, "'https://clinic.example/page'"));
	assert_int_equal(web_check_origins("clinic.example", why, sizeof why), -1);
	assert_int_equal(web_check_origins("ftp://clinic.example", why, sizeof why), -1);
	assert_int_equal(web_check_origins(" , ", why, sizeof why), -1);

	/* self: the Host the request came to; the scheme and a default port do not matter */
	assert_true(web_origin_allowed("self", "http://127.0.0.1:8080", "127.0.0.1:8080"));
	assert_true(web_origin_allowed("self", "https://bot.example", "bot.example"));
	assert_true(web_origin_allowed("self", "https://Bot.Example:443", "bot.example"));
	assert_false(web_origin_allowed("self", "http://127.0.0.1:8081", "127.0.0.1:8080"));
	assert_false(web_origin_allowed("self", "https://evil.example", "bot.example"));
	assert_false(web_origin_allowed("self", "https://bot.example.evil.example", "bot.example"));
	assert_false(web_origin_allowed("self", "", "bot.example"));
	assert_false(web_origin_allowed("self", "null", "bot.example"));
	assert_false(web_origin_allowed("self", "https://bot.example", ""));
	/* listed origins: scheme, host and port all count */
	const char *l = "https://www.clinic.example, http://localhost:3000";
	assert_true(web_origin_allowed(l, "https://www.clinic.example", "bot.example"));
	assert_true(web_origin_allowed(l, "https://WWW.clinic.example:443", "bot.example"));
	assert_false(web_origin_allowed(l, "http://www.clinic.example", "bot.example"));
	assert_true(web_origin_allowed(l, "http://localhost:3000", "bot.example"));
	assert_false(web_origin_allowed(l, "http://localhost:3001", "bot.example"));
	assert_false(web_origin_allowed(l, "https://bot.example", "bot.example")); /* no self */
	assert_true(web_origin_allowed("*", "null", "bot.example"));
}

static void
test_proxies(void **st)
{
	(void)st;
	char why[200], out[WEB_ADDR_MAX];
	assert_int_equal(web_check_proxies("127.0.0.1, ::1", why, sizeof why), 0);
	assert_int_equal(web_check_proxies("10.0.0.0/8", why, sizeof why), -1);
	assert_int_equal(web_check_proxies("proxy.local", why, sizeof why), -1);
	assert_true(web_is_proxy("127.0.0.1, ::1", "::1"));
	assert_true(web_is_proxy("0:0::1", "::1"));
	assert_false(web_is_proxy("127.0.0.1", "127.0.0.2"));
	assert_false(web_is_proxy(NULL, "127.0.0.1"));

	/* no trusted proxy: X-Forwarded-For is anybody's to write */
	web_client_addr(NULL, "203.0.113.7", "1.2.3.4", out, sizeof out);
	assert_string_equal(out, "203.0.113.7");
	/* from a proxy that is not trusted: the same */
	web_client_addr("127.0.0.1", "203.0.113.7", "1.2.3.4", out, sizeof out);
	assert_string_equal(out, "203.0.113.7");
	/* from the trusted proxy: the address it appended, not what the client wrote */
	web_client_addr("127.0.0.1", "127.0.0.1", "6.6.6.6, 198.51.100.9", out, sizeof out);
	assert_string_equal(out, "198.51.100.9");
	/* two trusted proxies in a row */
	web_client_addr("127.0.0.1,10.0.0.2", "127.0.0.1", "6.6.6.6, 198.51.100.9 , 10.0.0.2", out,
			sizeof out);
	assert_string_equal(out, "198.51.100.9");
	/* garbage where a proxy would have written an address: only the peer counts */
	web_client_addr("127.0.0.1", "127.0.0.1", "198.51.100.9, not-an-ip", out, sizeof out);
	assert_string_equal(out, "127.0.0.1");
	web_client_addr("127.0.0.1", "127.0.0.1", "", out, sizeof out);
	assert_string_equal(out, "127.0.0.1");
	web_client_addr("::1", "::1", "2001:db8::5", out, sizeof out);
	assert_string_equal(out, "2001:db8::5");
}

static void
expect_bad(const char *frame, const char *why_part, const char *id)
{
	struct web_frame f;
	char why[128];
	if (web_parse_frame(frame, strlen(frame), &f, why, sizeof why) == 0)
		fail_msg("accepted: %s", frame);
	if (strstr(why, why_part) == NULL)
		fail_msg("%s: why '%s' lacks '%s'", frame, why, why_part);
	assert_string_equal(f.id, id);
	web_frame_free(&f);
}

static void
test_frames_in(void **st)
{
	(void)st;
	struct web_frame f;
	char why[128];
	const char *ask = "{\"type\":\"ask\",\"id\":\"k3j9x2ab-1\",\"text\":\"is it \\u0000 ok?\"}";
	assert_int_equal(web_parse_frame(ask, strlen(ask), &f, why, sizeof why), 0);
	assert_int_equal(f.type, WEB_FRAME_ASK);
	assert_string_equal(f.id, "k3j9x2ab-1");
	assert_int_equal(f.len, 11);
	assert_memory_equal(f.text, "is it   ok?", 11); /* the NUL made a space */
	web_frame_free(&f);
	const char *fb = "{\"type\":\"feedback\",\"id\":\"a.b:c_d-1\",\"helpful\":false,\"x\":1}";
	assert_int_equal(web_parse_frame(fb, strlen(fb), &f, why, sizeof why), 0);
	assert_int_equal(f.type, WEB_FRAME_FEEDBACK);
	assert_false(f.helpful);
	const char *other = "{\"type\":\"ping\",\"id\":[1]}";
	assert_int_equal(web_parse_frame(other, strlen(other), &f, why, sizeof why), 0);
	assert_int_equal(f.type, WEB_FRAME_OTHER);

	expect_bad("not json", "not a JSON object", "");
	expect_bad("[1,2]", "not a JSON object", "");
	expect_bad("{\"id\":\"a\"}", "no \"type\"", "a");
	expect_bad("{\"type\":\"ask\",\"text\":\"hi\"}", "\"id\"", "");
	expect_bad("{\"type\":\"ask\",\"id\":\"\",\"text\":\"hi\"}", "\"id\"", "");
	expect_bad("{\"type\":\"ask\",\"id\":\"<script>\",\"text\":\"hi\"}", "\"id\"", "");
	expect_bad("{\"type\":\"ask\",\"id\":\"123456789012345678901234567890123\",\"text\":\"x\"}",
		   "\"id\"", "");
	expect_bad("{\"type\":\"ask\",\"id\":\"a1\"}", "\"text\"", "a1");
	expect_bad("{\"type\":\"ask\",\"id\":\"a1\",\"text\":7}", "\"text\"", "a1");
	expect_bad("{\"type\":\"ask\",\"id\":\"a1\",\"text\":\" \\n \"}", "empty", "a1");
	expect_bad("{\"type\":\"feedback\",\"id\":\"a1\",\"helpful\":\"yes\"}", "\"helpful\"",
		   "a1");
	expect_bad("{\"type\":\"ask\",\"type\":\"ask\",\"id\":\"a1\",\"text\":\"x\"}", "not a JSON",
		   "");
}

static json_t *
parsed(char *s)
{
	json_t *o = json_loads(s, 0, NULL);
	assert_non_null(o);
	free(s);
	return o;
}

static void
test_frames_out(void **st)
{
	(void)st;
	json_t *o = parsed(web_hello_json("0.1.0", 4096));
	assert_string_equal(json_string_value(json_object_get(o, "type")), "hello");
	assert_int_equal(json_integer_value(json_object_get(o, "max_frame")), 4096);
	json_decref(o);
	char *s = web_error_json(NULL, "busy", "Full.", 2000);
	assert_string_equal(s, "{\"type\":\"error\",\"id\":null,\"error\":\"busy\",\"message\":"
			       "\"Full.\",\"retry_after_ms\":2000}");
	free(s);
	s = web_error_json("a1", "bad_request", "<b>", 0);
	assert_string_equal(
	    s, "{\"type\":\"error\",\"id\":\"a1\",\"error\":\"bad_request\",\"message\":\"<b>\"}");
	free(s);
	s = web_typing_json("a1");
	assert_string_equal(s, "{\"type\":\"typing\",\"id\":\"a1\"}");
	free(s);
	s = web_feedback_ok_json("a1");
	assert_string_equal(s, "{\"type\":\"feedback_ok\",\"id\":\"a1\"}");
	free(s);

	struct chat_reply r;
	memset(&r, 0, sizeof r);
	r.text = "Text with \"quotes\"\nand <script>.";
	s = web_reply_json("a2", &r);
	assert_string_equal(s, "{\"type\":\"reply\",\"id\":\"a2\",\"text\":\"Text with "
			       "\\\"quotes\\\"\\nand <script>.\",\"intent\":null,\"safety\":[],"
			       "\"level\":null,\"suggestions\":[]}");
	free(s);
	char *ids[] = {"nerve-symptoms", "disclaimer"};
	r.intent = "deep-tissue";
	r.safety[0] = ids[0];
	r.safety[1] = ids[1];
	r.nsafety = 2;
	r.level = "caution";
	r.related[0] = (struct chat_item){"swedish", "Swedish massage"};
	r.nrelated = 1;
	r.choices[0] = (struct chat_item){"a", "A"};
	r.choices[1] = (struct chat_item){"b", "B"};
	r.nchoices = 2;
	s = web_reply_json("a3", &r);
	assert_string_equal(
	    s,
	    "{\"type\":\"reply\",\"id\":\"a3\",\"text\":\"Text with \\\"quotes\\\"\\nand "
	    "<script>.\",\"intent\":\"deep-tissue\",\"safety\":[\"nerve-symptoms\","
	    "\"disclaimer\"],\"level\":\"caution\",\"suggestions\":[{\"id\":\"swedish\","
	    "\"title\":\"Swedish massage\"}],\"choices\":[{\"n\":1,\"id\":\"a\",\"title\":\"A\"},"
	    "{\"n\":2,\"id\":\"b\",\"title\":\"B\"}]}");
	free(s);
}

/* ---- what a chat reply carries ------------------------------------------------ */

#define ENTRY(id, title, related)                                                                  \
	"---\nid: " id "\ntitle: " title "\nquestions: [" id " one, " id " two, " id " three]\n"   \
	"related: [" related "]\nsource: s\nreviewed: 2026-01-01\n---\n" title " text.\n"
#define RULE(id, level)                                                                            \
	"---\nid: " id "\nlevel: " level "\npriority: 1\ntriggers: ['" id "word']\n---\n" id       \
	" text.\n"

static const struct tfile files[] = {
    {"a.md", ENTRY("deep", "Deep tissue", "swedish, trigger, deep")},
    {"b.md", ENTRY("swedish", "Swedish massage", "deep")},
    {"c.md", ENTRY("trigger", "Trigger points", "")},
    {"safety/crisis.md", RULE("crisis", "emergency")},
    {"safety/emergency.md", RULE("emergency", "emergency")},
    {"safety/pregnancy.md", RULE("pregnancy", "caution")},
    {"safety/trauma.md", RULE("trauma", "urgent")},
    {"safety/disclaimer.md", "---\nid: disclaimer\nlevel: info\npriority: 100\n---\nD.\n"},
};

static struct knowledge *
kb(struct text_ctx **t)
{
	struct problems pr = {0};
	*t = text_ctx_new();
	struct knowledge *k = build_kb(*t, files, sizeof files / sizeof files[0], &pr);
	if (pr.n)
		dump_problems(&pr);
	problems_free(&pr);
	return k;
}

/* An answer as the pipeline would leave it: answers given, rules shown. */
static void
fake_answer(const struct knowledge *k, struct answer *a, const char *const *given, size_t ng,
	    const char *const *rules, size_t nr)
{
	memset(a, 0, sizeof *a);
	a->mr.intent = -1;
	for (size_t i = 0; i < ng; i++)
		a->mr.answers[a->mr.nanswers++] = knowledge_find(k, given[i]);
	if (ng) {
		a->mr.intent = a->mr.answers[0];
		a->intent_id = k->entries[a->mr.intent].id.s;
	}
	for (size_t i = 0; i < nr; i++)
		a->reply.shown[a->reply.nshown++] = knowledge_find_rule(k, rules[i]);
	a->reply.text = xstrdup("the text");
}

static void
test_chat_reply(void **st)
{
	(void)st;
	struct text_ctx *t;
	struct knowledge *k = kb(&t);
	struct answer a;
	struct chat_reply r;

	/* related answers in order, each once, never one given */
	const char *deep[] = {"deep"}, *disc[] = {"disclaimer"};
	fake_answer(k, &a, deep, 1, disc, 1);
	answer_chat(k, &a, &r);
	assert_null(a.reply.text); /* taken over */
	assert_string_equal(r.text, "the text");
	assert_string_equal(r.intent, "deep");
	assert_int_equal(r.nsafety, 1);
	assert_string_equal(r.safety[0], "disclaimer");
	assert_null(r.level); /* only the disclaimer */
	assert_int_equal(r.nrelated, 2);
	assert_string_equal(r.related[0].id, "swedish");
	assert_string_equal(r.related[0].title, "Swedish massage");
	assert_string_equal(r.related[1].id, "trigger");
	assert_int_equal(r.nchoices, 0);
	chat_reply_free(&r);

	/* two answers: the related of both, without either */
	const char *two[] = {"swedish", "trigger"};
	fake_answer(k, &a, two, 2, NULL, 0);
	answer_chat(k, &a, &r);
	assert_int_equal(r.nrelated, 1);
	assert_string_equal(r.related[0].id, "deep");
	chat_reply_free(&r);

	/* the most serious level; none of the related under an emergency or crisis */
	const char *caution[] = {"pregnancy", "trauma", "disclaimer"};
	fake_answer(k, &a, deep, 1, caution, 3);
	answer_chat(k, &a, &r);
	assert_string_equal(r.level, "urgent");
	assert_int_equal(r.nrelated, 2);
	chat_reply_free(&r);
	const char *emerg[] = {"emergency", "pregnancy", "disclaimer"};
	fake_answer(k, &a, deep, 1, emerg, 3);
	answer_chat(k, &a, &r);
	assert_string_equal(r.level, "emergency");
	assert_int_equal(r.nrelated, 0);
	assert_string_equal(r.intent, "deep"); /* reported even when its text is not shown */
	chat_reply_free(&r);
	const char *crisis[] = {"crisis", "emergency"};
	fake_answer(k, &a, NULL, 0, crisis, 2);
	answer_chat(k, &a, &r);
	assert_string_equal(r.level, "crisis");
	assert_null(r.intent);
	assert_int_equal(r.nsafety, 2);
	assert_string_equal(r.safety[1], "emergency");
	chat_reply_free(&r);

	/* "did you mean": the choices, numbered as offered */
	fake_answer(k, &a, NULL, 0, NULL, 0);
	a.reply.offered[0] = knowledge_find(k, "trigger");
	a.reply.offered[1] = knowledge_find(k, "deep");
	a.reply.noffered = 2;
	answer_chat(k, &a, &r);
	assert_int_equal(r.nchoices, 2);
	assert_string_equal(r.choices[0].title, "Trigger points");
	assert_string_equal(r.choices[1].id, "deep");
	assert_int_equal(r.nrelated, 0);
	char *s = web_reply_json("q", &r);
	assert_non_null(strstr(s, "\"choices\":[{\"n\":1,\"id\":\"trigger\",\"title\":\"Trigger "
				  "points\"},{\"n\":2,\"id\":\"deep\""));
	free(s);
	chat_reply_free(&r);

	knowledge_free(k);
	text_ctx_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen),     cmocka_unit_test(test_origins),
	    cmocka_unit_test(test_proxies),    cmocka_unit_test(test_frames_in),
	    cmocka_unit_test(test_frames_out), cmocka_unit_test(test_chat_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
