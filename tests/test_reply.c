/* test_reply: reply order, de-duplication, crisis (with an emergency's text only), emergency
 * replacing the answer, small talk with rules, disclaimer placement; plus the JSON form of an
 * answer (key order, truncation, repaired UTF-8). */
#include <jansson.h>

#include "testutil.h"

static struct text_ctx *T;
static struct knowledge *K;
static struct answer_ctx AC;

#define RULE(id, level, prio, trig)                                                                \
	"---\nid: " id "\nlevel: " level "\npriority: " prio "\ntriggers:\n  - '" trig             \
	"'\n---\n" id " text.\n"

/* the bot's own lines come from the knowledge too */
#define FALLBACK "Fallback text."
#define CHECKED_FIRST "Get checked first text."
#define HELLO "Hello line."
#define DID_YOU_MEAN "Did you mean text."

static const struct tfile files[] = {
    {"a.md",
     "---\nid: swedish-massage\ntitle: Swedish massage\nquestions:\n"
     "  - what is swedish massage\n  - is swedish massage gentle\n  - swedish massage feel\n"
     "source: s\nreviewed: 2026-01-01\n---\nSwedish answer.\n"},
    {"b.md", "---\nid: greeting\ntitle: Hello\nquestions: [hi, hello, good morning]\n"
	     "tags: [small-talk]\nsource: s\nreviewed: 2026-01-01\n---\nHello answer.\n"},
    {"c.md",
     "---\nid: booking\ntitle: Booking\nquestions: [how do i book, book an appointment, "
     "booking]\ndisclaimer: false\nsource: s\nreviewed: 2026-01-01\n---\nBooking answer.\n"},
    {"safety/crisis.md", RULE("crisis", "emergency", "0", "(suicid*|end my life)")},
    {"safety/emergency.md", RULE("emergency", "emergency", "10", "chest pain")},
    {"safety/trauma.md", RULE("trauma", "urgent", "20", "(fell|fall)")},
    {"safety/systemic.md", RULE("systemic", "urgent", "25", "fever")},
    {"safety/nerve-symptoms.md", RULE("nerve-symptoms", "caution", "30", "sciatica")},
    {"safety/medical-conditions.md", RULE("medical-conditions", "caution", "35", "osteoporosis")},
    {"safety/pregnancy.md", RULE("pregnancy", "caution", "40", "pregnan*")},
    {"safety/medication.md", RULE("medication", "caution", "45", "how many pills")},
    {"safety/see-a-doctor.md", RULE("see-a-doctor", "urgent", "15", "groin")},
    {"safety/disclaimer.md",
     "---\nid: disclaimer\nlevel: info\npriority: 100\n---\nDisclaimer text.\n"},
    {"messages/fallback.md", "---\nid: fallback\n---\n" FALLBACK "\n"},
    {"messages/get-checked-first.md", "---\nid: get-checked-first\n---\n" CHECKED_FIRST "\n"},
    {"messages/hello.md", "---\nid: hello\n---\n" HELLO "\n"},
    {"messages/did-you-mean.md", "---\nid: did-you-mean\n---\n" DID_YOU_MEAN "\n"},
};

static struct answer A;

static char *
ask(const char *q)
{
	struct match_params p = {0.3, 0.0};
	answer_free(&A);
	answer_question(K, &AC, &p, q, strlen(q), &A);
	return A.reply.text;
}

static char *
ids(void)
{
	static char b[256];
	b[0] = '\0';
	for (size_t i = 0; i < A.reply.nshown; i++) {
		strcat(b, i ? "," : "");
		strcat(b, K->rules[A.reply.shown[i]].id.s);
	}
	return b;
}

static void
test_plain_answer(void **st)
{
	(void)st;
	assert_string_equal(ask("what is swedish massage"), "Swedish answer.\n\nDisclaimer text.");
	assert_string_equal(ids(), "disclaimer");
	assert_string_equal(A.intent_id, "swedish-massage");
}

static void
test_small_talk_and_fallback(void **st)
{
	(void)st;
	assert_string_equal(ask("hello"), "Hello answer.");
	assert_string_equal(ids(), "");
	assert_string_equal(ask("write a poem about cars"), FALLBACK);
	assert_null(A.intent_id);
	/* small talk or nothing matched, but a rule fired: rule text + disclaimer */
	assert_string_equal(ask("hello, I have sciatica"),
			    "nerve-symptoms text.\n\nDisclaimer text.");
	assert_string_equal(ask("my sciatica again"), "nerve-symptoms text.\n\nDisclaimer text.");
}

static void
test_no_disclaimer_answer(void **st)
{
	(void)st;
	/* clinic facts: no disclaimer of their own */
	assert_string_equal(ask("how do i book"), "Booking answer.");
	assert_string_equal(ids(), "");
	assert_string_equal(A.intent_id, "booking");
	/* a rule fired: the answer stays (it is no small talk), the rule's
	 * text and then the disclaimer follow, as for any rule */
	assert_string_equal(ask("how do i book, I'm pregnant"),
			    "Booking answer.\n\npregnancy text.\n\nDisclaimer text.");
	assert_string_equal(ids(), "pregnancy,disclaimer");
	/* an emergency replaces it with the get-checked line */
	ask("chest pain, how do i book");
	assert_string_equal(ids(), "emergency,disclaimer");
	assert_non_null(strstr(A.reply.text, CHECKED_FIRST));
	assert_null(strstr(A.reply.text, "Booking answer."));
}

static void
test_order_and_dedup(void **st)
{
	(void)st;
	/* caution rules after the answer, by priority; urgent before caution */
	ask("I'm pregnant with osteoporosis and a fever after a fall; is swedish massage gentle? "
	    "Pregnant, again, and a fall.");
	assert_string_equal(ids(), "trauma,systemic,medical-conditions,pregnancy,disclaimer");
	assert_string_equal(A.reply.text,
			    "Swedish answer.\n\ntrauma text.\n\nsystemic text.\n\n"
			    "medical-conditions text.\n\npregnancy text.\n\nDisclaimer text.");
}

/* A greeting in front adds a short hello; two answers go under their
 * titles, in the message's order; "did you mean" numbers the closest
 * answers' titles and keeps them in the reply. */
static void
test_answer_parts(void **st)
{
	(void)st;
	assert_string_equal(ask("hello, is swedish massage gentle?"),
			    HELLO "\n\nSwedish answer.\n\nDisclaimer text.");
	assert_string_equal(ask("hello"), "Hello answer."); /* small talk: no extra hello */
	assert_string_equal(ask("what is swedish massage? and how do i book?"),
			    "**Swedish massage**\n\nSwedish answer.\n\n**Booking**\n\nBooking "
			    "answer.\n\nDisclaimer text.");
	assert_int_equal(A.mr.nanswers, 2);
	char *j = answer_json(K, &A, 0);
	assert_non_null(strstr(j, "\"intent\":\"swedish-massage\",\"intents\":[\"swedish-massage\","
				  "\"booking\"],\"score\":"));
	free(j);
	j = answer_json(K, (ask("what is swedish massage"), &A), 0);
	assert_null(strstr(j, "intents")); /* only when more than one */
	free(j);

	struct match_result mr = {.intent = -1, .greeting = -1, .ambiguous = 1, .nchoices = 2};
	mr.choices[0] = knowledge_find(K, "booking");
	mr.choices[1] = knowledge_find(K, "swedish-massage");
	struct reply r;
	reply_build(K, &mr, NULL, 0, &r);
	assert_string_equal(r.text, DID_YOU_MEAN "\n\n1. Booking\n2. Swedish massage");
	assert_int_equal(r.noffered, 2);
	assert_int_equal(r.offered[0], mr.choices[0]);
	assert_int_equal(r.offered[1], mr.choices[1]);
	free(r.text);
	/* a rule fired: its text, not the offer */
	struct safety_hit h = {.rule = knowledge_find_rule(K, "pregnancy")};
	reply_build(K, &mr, &h, 1, &r);
	assert_null(strstr(r.text, DID_YOU_MEAN));
	assert_int_equal(r.noffered, 0);
	free(r.text);
}

/* Level order holds whatever the priorities say (a rule's priority is
 * range-checked when parsed; this is the second line of defence). */
static void
test_level_before_priority(void **st)
{
	(void)st;
	int r = knowledge_find_rule(K, "trauma");
	assert_true(r >= 0);
	int saved = K->rules[r].priority;
	K->rules[r].priority = -999999;
	char *t = ask("chest pain since I fell, is swedish massage ok");
	assert_string_equal(ids(), "emergency,trauma,disclaimer");
	assert_true(strstr(t, "emergency text.") < strstr(t, "trauma text."));
	assert_null(strstr(t, "Swedish answer."));
	K->rules[r].priority = saved;
}

static void
test_emergency_and_crisis(void **st)
{
	(void)st;
	/* emergency first; the answer is replaced by the get-checked line */
	ask("chest pain and sciatica, is swedish massage gentle?");
	assert_string_equal(ids(), "emergency,nerve-symptoms,disclaimer");
	assert_true(strncmp(A.reply.text, "emergency text.\n\n", 17) == 0);
	assert_non_null(strstr(A.reply.text, CHECKED_FIRST));
	assert_null(strstr(A.reply.text, "Swedish answer."));
	assert_string_equal(A.intent_id, "swedish-massage"); /* still reported */
	/* crisis: its text, then an emergency red flag's, nothing else */
	ask("chest pain, I fell, and I feel suicidal; what is swedish massage");
	assert_string_equal(A.reply.text, "crisis text.\n\nemergency text.");
	assert_string_equal(ids(), "crisis,emergency");
	/* the in-doubt line, unless an emergency text already asks for more */
	ask("my groin feels odd");
	assert_string_equal(ids(), "see-a-doctor,disclaimer");
	ask("my groin feels odd and I have chest pain");
	assert_string_equal(ids(), "emergency,disclaimer");
	ask("I fell, and I feel suicidal; what is swedish massage");
	assert_string_equal(A.reply.text, "crisis text.");
	assert_string_equal(ids(), "crisis");
	assert_string_equal(A.intent_id, "swedish-massage");
}

static void
test_json(void **st)
{
	(void)st;
	ask("what is swedish massage");
	char *j = answer_json(K, &A, 0);
	assert_string_equal(
	    j, "{\"question\":\"what is swedish massage\",\"intent\":\"swedish-massage\","
	       "\"score\":1.0,\"safety\":[\"disclaimer\"],\"reply\":\"Swedish answer.\\n\\n"
	       "Disclaimer text.\"}");
	free(j);
	ask("poem \xff about <@123> \"quotes\"");
	j = answer_json(K, &A, 0);
	assert_non_null(
	    strstr(j, "\"question\":\"poem \xEF\xBF\xBD about <@123> \\\"quotes\\\"\""));
	assert_non_null(strstr(j, "\"intent\":null"));
	free(j);
	/* explain adds candidates and triggers, after reply */
	ask("I fell; is swedish massage gentle");
	j = answer_json(K, &A, 1);
	char *r = strstr(j, "\"reply\""),
	     *c = strstr(j, "\"candidates\":[{\"intent\":\"swedish-massage\"");
	assert_non_null(r);
	assert_non_null(c);
	assert_true(c > r);
	assert_non_null(strstr(j, "\"terms\":[\"swedish\",\"massage\",\"gentle\"]"));
	assert_non_null(strstr(j, "\"triggers\":{\"trauma\":\"fell\"}"));
	free(j);
}

/* The JSON writer writes what jansson would: each line parses, holds the
 * answer's strings unchanged, and jansson writes it back byte for byte. */
static void
test_json_as_jansson_writes_it(void **st)
{
	(void)st;
	const char *qs[] = {
	    "what is swedish massage", "tab\there \"quoted\" back\\slash / slash \x01\x1f end",
	    "caf\xc3\xa9 \xf0\x9f\x98\x80 \xff bad byte", "I fell; is swedish massage gentle",
	    "chest pain and sciatica", "", "line\r\nbreak",
	    /* escapes at every place in an 8-byte word (the writer
	     * scans eight bytes at a time) */
	    "a\"bc\\def\x1fghij\nklmno\x02pqrstu\"vwxyz12\\3456789\"0123456\x7f\"end"};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		for (int explain = 0; explain < 2; explain++) {
			ask(qs[i]);
			char *j = answer_json(K, &A, explain);
			json_error_t err;
			json_t *o = json_loads(j, 0, &err);
			if (o == NULL)
				fail_msg("'%s' does not parse: %s", j, err.text);
			assert_string_equal(json_string_value(json_object_get(o, "question")),
					    A.question);
			assert_string_equal(json_string_value(json_object_get(o, "reply")),
					    A.reply.text);
			char *back = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4) |
						       JSON_PRESERVE_ORDER);
			assert_string_equal(back, j);
			free(back);
			json_decref(o);
			free(j);
		}
	}
}

static void
test_truncation(void **st)
{
	(void)st;
	char *big = malloc(10000);
	memset(big, 'x', 9999);
	big[9999] = '\0';
	memcpy(big + 4095, "\xc3\xa9", 2); /* straddles byte 4096: must not be split */
	ask(big);
	assert_true(A.truncated);
	assert_int_equal(strlen(A.question), 4095);
	char *j = answer_json(K, &A, 0);
	assert_non_null(strstr(j, "\"reply\":"));
	assert_non_null(strstr(j, ",\"error\":\"truncated\"}"));
	free(j);
	/* safety reads the whole message: a red flag past the cut still fires,
	 * and --explain shows the words */
	memset(big, 'x', 9999);
	for (size_t i = 0; i + 8 < 9999; i += 8)
		memcpy(big + i, "story. ", 7);
	memcpy(big + 9980, " chest pain.", 12);
	ask(big);
	assert_true(A.truncated);
	assert_string_equal(ids(), "emergency,disclaimer");
	j = answer_json(K, &A, 1);
	assert_non_null(strstr(j, "\"triggers\":{\"emergency\":\"chest pain\"}"));
	free(j);
	/* a sentence across a window's end is read whole */
	memset(big, ' ', 9999);
	memcpy(big + 4090, "chest   pain", 12);
	ask(big);
	assert_string_equal(ids(), "emergency,disclaimer");
	free(big);
	ask("");
	assert_false(A.truncated);
	assert_string_equal(A.reply.text, FALLBACK);
}

int
main(void)
{
	T = text_ctx_new();
	struct problems pr = {0};
	K = build_kb(T, files, sizeof files / sizeof files[0], &pr);
	dump_problems(&pr);
	if (pr.n || K->missing[0])
		return 1;
	answer_ctx_init(&AC);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_answer),
	    cmocka_unit_test(test_small_talk_and_fallback),
	    cmocka_unit_test(test_no_disclaimer_answer),
	    cmocka_unit_test(test_order_and_dedup),
	    cmocka_unit_test(test_level_before_priority),
	    cmocka_unit_test(test_answer_parts),
	    cmocka_unit_test(test_emergency_and_crisis),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_as_jansson_writes_it),
	    cmocka_unit_test(test_truncation),
	};
	int rc = cmocka_run_group_tests_name("reply", tests, NULL, NULL);
	answer_free(&A);
	answer_ctx_free(&AC);
	knowledge_free(K);
	problems_free(&pr);
	text_ctx_free(T);
	return rc;
}
