/* test_followup: answering in a conversation, on the shipped knowledge:
 * choices picked by number, ordinal or title; short follow-ups read with
 * the previous topic; questions that stand alone answered alone; the
 * safety rules reading every message on its own; what is remembered. */
#include "followup.h"
#include "kb.h"
#include "testutil.h"

static struct knowledge *K;
static struct answer_ctx AC;
static const struct match_params MP = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};

static int
setup(void **st)
{
	(void)st;
	struct problems pr = {0};
	char *cause = NULL;
	if (answer_ctx_init(&AC) < 0)
		return -1;
	K = kb_load(AC.text, "knowledge", NULL, &pr, &cause);
	int bad = K == NULL || pr.n > 0;
	if (bad)
		dump_problems(&pr);
	if (K) {
		/* the conversation's own reading, over the matcher alone: the
		 * classifier has its tests (test_classify) and the dialogue
		 * tables measure the two together */
		classify_free(K->clf);
		K->clf = NULL;
	}
	problems_free(&pr);
	free(cause);
	return bad ? -1 : 0;
}

static int
teardown(void **st)
{
	(void)st;
	knowledge_free(K);
	answer_ctx_free(&AC);
	return 0;
}

static struct convo_memory
memory(const char *answer, const char *c1, const char *c2)
{
	struct convo_memory m;
	memset(&m, 0, sizeof m);
	snprintf(m.answer, sizeof m.answer, "%s", answer ? answer : "");
	if (c1)
		snprintf(m.choices[m.nchoices++], CONVO_ID_MAX, "%s", c1);
	if (c2)
		snprintf(m.choices[m.nchoices++], CONVO_ID_MAX, "%s", c2);
	return m;
}

/* The answer id given to text in the conversation mem ("-": none), and how. */
static const char *
ask(const struct convo_memory *mem, const char *text, enum followup_how *how)
{
	static char id[64];
	struct answer a;
	enum followup_how h = followup_answer(K, &AC, &MP, mem, text, strlen(text), &a);
	if (how)
		*how = h;
	snprintf(id, sizeof id, "%s", a.mr.nanswers ? K->entries[a.mr.answers[0]].id.s : "-");
	answer_free(&a);
	return id;
}

static void
test_choices(void **st)
{
	(void)st;
	struct convo_memory m = memory(NULL, "deep-tissue-massage", "sports-massage");
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"1", "deep-tissue-massage"},
	    {"2.", "sports-massage"},
	    {"the first one", "deep-tissue-massage"},
	    {"the second one please", "sports-massage"},
	    {"number 2", "sports-massage"},
	    {"no, I meant the 2nd", "sports-massage"},
	    {"the last one", "sports-massage"},
	    {"deep tissue", "deep-tissue-massage"},
	    {"Deep tissue massage", "deep-tissue-massage"},
	    {"deep tisue", "deep-tissue-massage"}, /* a slip */
	    {"sports", "sports-massage"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum followup_how how;
		const char *got = ask(&m, cases[i].text, &how);
		if (strcmp(got, cases[i].want) != 0 || how != FOLLOWUP_CHOICE)
			fail_msg("'%s' -> %s (%s), expected the choice %s", cases[i].text, got,
				 followup_how_name(how), cases[i].want);
	}
	/* not a choice: a word of both titles, a number not offered, a new
	 * question, both at once */
	static const char *const not_choices[] = {
	    "massage", "3", "where are you?", "the first or the second", "one or two",
	};
	for (size_t i = 0; i < sizeof not_choices / sizeof not_choices[0]; i++) {
		enum followup_how how;
		ask(&m, not_choices[i], &how);
		if (how == FOLLOWUP_CHOICE)
			fail_msg("'%s' was read as a choice", not_choices[i]);
	}
	assert_string_equal(ask(&m, "where are you?", NULL), "location");
	/* without an offer, "1" is no choice */
	struct convo_memory none = memory(NULL, NULL, NULL);
	assert_string_equal(ask(&none, "1", NULL), "-");
}

/* After an answer whose text lists others ("- Deep tissue massage: ..."),
 * an ordinal picks from its list, also one answer later, and "the third
 * one" beside a question makes that item the question's topic; a clinic
 * fact's list (prices per treatment) is no menu of topics. */
static void
test_listed_choices(void **st)
{
	(void)st;
	static const struct {
		const char *topic, *before, *text, *want;
	} cases[] = {
	    {"massage-types", NULL, "tell me more about the second one", "deep-tissue-massage"},
	    {"massage-types", NULL, "the first", "swedish-massage"},
	    {"massage-types", NULL, "number 3", "trigger-point-therapy"},
	    {"massage-types", NULL, "and the last one?", "trigger-point-therapy"},
	    {"deep-tissue-massage", "massage-types", "and the third?", "trigger-point-therapy"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct convo_memory m = memory(cases[i].topic, NULL, NULL);
		if (cases[i].before)
			snprintf(m.before, sizeof m.before, "%s", cases[i].before);
		enum followup_how how;
		const char *got = ask(&m, cases[i].text, &how);
		if (strcmp(got, cases[i].want) != 0 || how != FOLLOWUP_CHOICE)
			fail_msg("after %s, '%s' -> %s (%s), expected the listed %s",
				 cases[i].topic, cases[i].text, got, followup_how_name(how),
				 cases[i].want);
	}
	enum followup_how how;
	struct convo_memory m = memory("massage-types", NULL, NULL);
	ask(&m, "the fourth one", &how); /* not in the list */
	assert_int_not_equal(how, FOLLOWUP_CHOICE);
	m = memory("massage-types", NULL, NULL); /* "last" without "one" */
	ask(&m, "the last time i had one it hurt", &how);
	assert_int_not_equal(how, FOLLOWUP_CHOICE);
	m = memory("prices", NULL, NULL);
	ask(&m, "the first", &how);
	assert_int_not_equal(how, FOLLOWUP_CHOICE);
	m = memory("swedish-massage", NULL, NULL); /* its text lists no answer */
	ask(&m, "the second one", &how);
	assert_int_not_equal(how, FOLLOWUP_CHOICE);
	/* "the third one" with a question of its own: the question, about
	 * that item */
	m = memory("massage-types", NULL, NULL);
	assert_string_equal(ask(&m, "the third one, does it hurt?", &how), "trigger-point-therapy");
	assert_int_equal(how, FOLLOWUP_TOPIC);
	/* ... and that item when the rest asks nothing */
	assert_string_equal(ask(&m, "i like the sound of the first one", &how), "swedish-massage");
	/* the same after "did you mean" */
	m = memory(NULL, "deep-tissue-massage", "sports-massage");
	assert_string_equal(ask(&m, "the second one, is it painful?", &how), "sports-massage");
}

/* A message after an answer (topic) and the answer it should get. */
struct after {
	const char *topic, *text, *want;
};

static void
check_after(const struct after *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct convo_memory m = memory(cases[i].topic, NULL, NULL);
		enum followup_how how;
		const char *got = ask(&m, cases[i].text, &how);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("after %s, '%s' -> %s (%s), expected %s", cases[i].topic,
				 cases[i].text, got, followup_how_name(how), cases[i].want);
	}
}

static void
test_follow_ups(void **st)
{
	(void)st;
	static const struct after cases[] = {
	    {"deep-tissue-massage", "and how often?", "session-frequency"},
	    {"swedish-massage", "what about during pregnancy?", "pregnancy-massage"},
	    {"swedish-massage", "is that the same as deep tissue?", "choosing-a-massage"},
	    {"deep-tissue-massage", "how much is it?", "prices"},
	    {"opening-hours", "and on saturdays?", "opening-hours"},
	    /* "that" before what is said of it points back ("is that ok?") */
	    {"self-massage", "i roll right on my spine, is that bad?", "self-massage"},
	    {"stretching", "i stretch every morning, is that alright", "stretching"},
	    {"hot-stone-massage", "i have diabetes, is that safe for me", "hot-stone-massage"},
	    {"sciatica", "can massage help it?", "sciatica"},
	    {"choosing-a-massage", "why?", "choosing-a-massage"},
	    /* a continuation of nothing but a number: the clinic fact's */
	    {"prices", "and for 45?", "prices"},
	    {"session-length", "what about 60?", "session-length"},
	    {"hot-stone-massage", "does it hurt?", "hot-stone-massage"},
	    /* what "it" is decides, not a reading that only echoes its words */
	    {"deep-tissue-massage", "is it safe?", "deep-tissue-massage"},
	    /* a title of function words says nothing: no answer is better */
	    {"location", "does it hurt?", "-"},
	    {"location", "and how often?", "-"},
	    /* a clinic fact is not what a bare question about a thing asks of */
	    {"what-to-wear", "is it painful?", "-"},
	    {"prices", "is it safe?", "-"},
	    /* two set side by side: neither of them */
	    {"trigger-point-therapy", "is that the same as deep tissue?", "choosing-a-massage"},
	    /* a tie with the topic: the message's own reading decides */
	    {"hot-stone-massage", "is it safe when pregnant?", "pregnancy-massage"},
	};
	check_after(cases, sizeof cases / sizeof cases[0]);
	/* "it" may still be the answer before the last one */
	struct convo_memory two = memory("session-frequency", NULL, NULL);
	snprintf(two.before, sizeof two.before, "deep-tissue-massage");
	assert_string_equal(ask(&two, "and is it painful?", NULL), "deep-tissue-massage");
	/* after "did you mean", a follow-up that is no choice leans on the first */
	struct convo_memory offered =
	    memory("booking", "trigger-point-therapy", "neck-and-shoulders");
	assert_string_equal(ask(&offered, "how do I get rid of it?", NULL),
			    "trigger-point-therapy");
	/* without the topic, the short ones have no answer */
	struct convo_memory none = memory(NULL, NULL, NULL);
	assert_string_equal(ask(&none, "and how often?", NULL), "-");
	assert_string_equal(ask(&none, "why?", NULL), "-");
}

/* A bare question about an aspect ("how much?", "is there a fee?", "how
 * long for?") is about the topic when the topic speaks of it, however sure
 * its reading alone is of another answer; when the topic says nothing of
 * it, or the message names a subject of its own, it is answered alone. */
/* A question about cost or place that names no subject: the topic when it
 * is a clinic fact whose text speaks of money, else the clinic fact among
 * the readings whose text speaks of what is asked. */
static void
test_aspects(void **st)
{
	(void)st;
	static const struct after cases[] = {
	    {"cancellation", "would I have to pay anything?", "cancellation"},
	    {"gift-vouchers", "is there a charge for them?", "gift-vouchers"},
	    {"session-length", "is there a fee?", "prices"},
	    {"deep-tissue-massage", "how much does it cost?", "prices"},
	    {"opening-hours", "and where do I find you?", "location"},
	    {"what-to-wear", "where is that?", "location"},
	    {"deep-tissue-massage", "where are you?", "location"},
	    /* after a health answer, "where" asks where in the body */
	    {"massage-gun", "where should I use it?", "massage-gun"},
	    {"posture", "where should my screen be?", "posture"},
	    /* a thing no answer knows is not the clinic's to charge for */
	    {"what-to-wear", "can I pay my taxes there", "-"},
	};
	check_after(cases, sizeof cases / sizeof cases[0]);
}

/* Whether "it" is safe or fine in a circumstance that alone reads as an
 * answer of another family: the topic (the safety rules add the rest);
 * of the same family, that answer. */
static void
test_circumstance_of_the_topic(void **st)
{
	(void)st;
	static const struct after cases[] = {
	    {"massage-gun", "is that safe if I'm pregnant?", "massage-gun"},
	    {"pain-relievers", "is it fine if im pregnant", "pain-relievers"},
	    {"stretching", "I have sciatica, is that ok?", "stretching"},
	    {"swedish-massage", "is that ok if I'm pregnant?", "pregnancy-massage"},
	    {"deep-tissue-massage", "is it safe if I'm pregnant?", "pregnancy-massage"},
	    /* "it" before "to" and a verb without its object is that object */
	    {"massage-gun", "is it ok to use if I'm pregnant", "massage-gun"},
	    {"pain-relievers", "is it ok to take when pregnant", "pain-relievers"},
	    {"swedish-massage", "is it safe to have a massage when pregnant", "pregnancy-massage"},
	};
	check_after(cases, sizeof cases / sizeof cases[0]);
}

/* A reading with the topic that does not settle between its two best
 * (their ranking scores about equal) offers both instead of a guess, and
 * the offer is remembered so that "1" or "2" answers it. */
static void
test_unsure_reading_offers_two(void **st)
{
	(void)st;
	struct convo_memory m = memory("sports-massage", NULL, NULL);
	struct answer a;
	const char *q = "does it ache after?";
	enum followup_how how = followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	assert_int_equal(how, FOLLOWUP_TOPIC);
	assert_int_equal(a.mr.nanswers, 0);
	assert_true(a.mr.ambiguous);
	assert_int_equal(a.reply.noffered, 2);
	int soreness = knowledge_find(K, "soreness-after-massage");
	assert_true(a.reply.offered[0] == soreness || a.reply.offered[1] == soreness);
	struct convo_memory next = m;
	followup_remember(K, &a, &next);
	answer_free(&a);
	assert_int_equal(next.nchoices, 2);
	assert_string_equal(next.answer, "sports-massage");
}

static void
test_bare_questions(void **st)
{
	(void)st;
	static const struct after cases[] = {
	    {"hydration", "how much?", "hydration"},
	    {"cancellation", "is there a charge?", "cancellation"},
	    {"massage-gun", "how long for?", "massage-gun"},
	    {"massage-gun", "how often can I use it?", "massage-gun"},
	    /* how long it takes to get better: recovery asks no subject either */
	    {"slipped-disc", "how long does it take to heal", "slipped-disc"},
	    /* words no answer knows, the rest a question word: "when?" */
	    {"opening-hours", "till when", "opening-hours"},
	    {"opening-hours", "til when?", "opening-hours"},
	    /* the topic says nothing of it: the reading alone */
	    {"neck-and-shoulders", "how often?", "session-frequency"},
	    {"deep-tissue-massage", "how much is it?", "prices"},
	    /* a subject of its own, or a statement about something else */
	    {"massage-gun", "and a foam roller?", "self-massage"},
	    {"neck-and-shoulders", "and my knee hurts too", "-"},
	};
	check_after(cases, sizeof cases / sizeof cases[0]);
}

/* A follow-up that leans on what came before and alone would ask "did you
 * mean" the answer just given first gets that answer; offered only second,
 * or to a message with no word leaning back ("can i keep my leggings on"
 * after what to wear: alone "did you mean" that answer first too), it
 * does not decide. */
static void
test_offered_first(void **st)
{
	(void)st;
	static const struct after cases[] = {
	    {"sleep-and-mattress", "my mattress is rock hard, is that better",
	     "sleep-and-mattress"},
	    {"session-length", "how much is the 60 one", "prices"},
	    {"what-to-wear", "can i keep my leggings on", "-"},
	    /* not when the answer just given is only offered second */
	    {"massage-for-older-people", "I have thin bones, is firm pressure ok", "-"},
	};
	check_after(cases, sizeof cases / sizeof cases[0]);
	struct convo_memory none = memory(NULL, NULL, NULL);
	assert_string_equal(ask(&none, "my mattress is rock hard, is that better", NULL), "-");
}

/* A question that stands alone gets its own answer whatever came before,
 * and something out of scope stays unanswered. */
static void
test_alone(void **st)
{
	(void)st;
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"where are you?", "location"},
	    {"do you take card?", "payment-and-insurance"},
	    {"is it safe to have a massage while pregnant?", "pregnancy-massage"},
	    {"what's the weather like tomorrow?", "-"},
	    {"can you recommend a good restaurant nearby?", "-"},
	};
	static const char *const topics[] = {"deep-tissue-massage", "prices", "sciatica",
					     "opening-hours"};
	for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++)
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct convo_memory m = memory(topics[t], NULL, NULL);
			enum followup_how how;
			const char *got = ask(&m, cases[i].text, &how);
			if (strcmp(got, cases[i].want) != 0)
				fail_msg("after %s, '%s' -> %s (%s), expected %s", topics[t],
					 cases[i].text, got, followup_how_name(how), cases[i].want);
		}
}

/* A longer message that opens like a fragment ("on ...", "so ...",
 * "after ...") is a sentence of its own: whatever came before, it gets
 * the answer it gets alone. */
static void
test_fragment_openers_of_full_sentences(void **st)
{
	(void)st;
	static const char *const texts[] = {
	    "on apixaban for my heart, my back is stiff, would a firm massage be ok?",
	    "so my back has been sore for weeks since i started a desk job, would massage help?",
	    "after my run yesterday my lower back is tight, is heat or ice better?",
	    "for about a month my neck and shoulders have been really tight, what can help?",
	};
	static const char *const topics[] = {"self-massage", "deep-tissue-massage", "prices",
					     "pregnancy-massage"};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char alone[64];
		snprintf(alone, sizeof alone, "%s", ask(NULL, texts[i], NULL));
		for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
			struct convo_memory m = memory(topics[t], NULL, NULL);
			enum followup_how how;
			const char *got = ask(&m, texts[i], &how);
			if (strcmp(got, alone) != 0)
				fail_msg("after %s, '%s' -> %s (%s), alone %s", topics[t], texts[i],
					 got, followup_how_name(how), alone);
		}
	}
}

/* Every message's safety rules are those it fires on its own: the topic
 * adds none and takes none away; an emergency still replaces the answer. */
static void
test_safety_reads_the_message_alone(void **st)
{
	(void)st;
	static const char *const texts[] = {
	    "what about during pregnancy?",
	    "and if I can't feel my groin and I've wet myself?",
	    "is it ok on blood thinners?",
	    "and how often?",
	    "does it hurt?",
	    "I don't want to be here anymore",
	    "what about after a fall?",
	};
	static const char *const topics[] = {"pregnancy-massage", "swedish-massage",
					     "when-to-avoid-massage", "prices"};
	for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++)
		for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
			struct convo_memory m = memory(topics[t], NULL, NULL);
			struct answer with, alone;
			followup_answer(K, &AC, &MP, &m, texts[i], strlen(texts[i]), &with);
			answer_question(K, &AC, &MP, texts[i], strlen(texts[i]), &alone);
			assert_int_equal(with.nhits, alone.nhits);
			for (size_t h = 0; h < with.nhits; h++)
				assert_int_equal(with.hits[h].rule, alone.hits[h].rule);
			/* the rules' texts are in the reply, in the same order (the
			 * disclaimer comes with a health answer: with the topic there
			 * may be one where there was none) */
			size_t a = 0, b = 0;
			for (;;) {
				while (a < with.reply.nshown &&
				       with.reply.shown[a] == K->disclaimer)
					a++;
				while (b < alone.reply.nshown &&
				       alone.reply.shown[b] == K->disclaimer)
					b++;
				if (a == with.reply.nshown || b == alone.reply.nshown)
					break;
				assert_int_equal(with.reply.shown[a++], alone.reply.shown[b++]);
			}
			assert_int_equal(a, with.reply.nshown);
			assert_int_equal(b, alone.reply.nshown);
			answer_free(&with);
			answer_free(&alone);
		}
	/* the pregnancy rule comes with the follow-up about pregnancy */
	struct convo_memory m = memory("swedish-massage", NULL, NULL);
	struct answer a;
	const char *q = "what about during pregnancy?";
	followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	assert_string_equal(a.intent_id, "pregnancy-massage");
	int preg = knowledge_find_rule(K, "pregnancy");
	int shown = 0;
	for (size_t h = 0; h < a.reply.nshown; h++)
		shown |= a.reply.shown[h] == preg;
	assert_true(shown);
	answer_free(&a);
	/* a crisis message in a conversation gets the crisis reply alone */
	q = "and how often? I want to end my life";
	followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	assert_int_equal(a.reply.nshown, 1);
	assert_int_equal(a.reply.shown[0], K->crisis);
	answer_free(&a);
}

static void
test_remember(void **st)
{
	(void)st;
	struct convo_memory m = memory(NULL, NULL, NULL);
	struct answer a;
	const char *q = "what is deep tissue massage?";
	followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	followup_remember(K, &a, &m);
	answer_free(&a);
	assert_string_equal(m.answer, "deep-tissue-massage");
	assert_string_equal(m.before, "");
	assert_int_equal(m.nchoices, 0);
	/* small talk keeps the topic */
	q = "thanks!";
	followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	assert_string_equal(a.intent_id, "thanks");
	followup_remember(K, &a, &m);
	answer_free(&a);
	assert_string_equal(m.answer, "deep-tissue-massage");
	/* "did you mean" keeps the topic and remembers the choices in order */
	q = "hours";
	followup_answer(K, &AC, &MP, NULL, q, strlen(q), &a);
	assert_int_equal(a.reply.noffered, 2);
	followup_remember(K, &a, &m);
	assert_int_equal(m.nchoices, 2);
	assert_string_equal(m.choices[0], K->entries[a.reply.offered[0]].id.s);
	assert_string_equal(m.choices[1], K->entries[a.reply.offered[1]].id.s);
	answer_free(&a);
	assert_string_equal(m.answer, "deep-tissue-massage");
	/* the next answer clears them */
	q = "2";
	enum followup_how how = followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	assert_int_equal(how, FOLLOWUP_CHOICE);
	followup_remember(K, &a, &m);
	answer_free(&a);
	assert_int_equal(m.nchoices, 0);
	assert_string_equal(m.answer, K->entries[knowledge_find(K, m.answer)].id.s);
	assert_string_equal(m.before, "deep-tissue-massage"); /* the one before it */
	/* an emergency reply does not give the answer: the topic stays */
	struct convo_memory before = m;
	q = "how much is a massage? I can't feel my legs and I've wet myself";
	followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	followup_remember(K, &a, &m);
	answer_free(&a);
	assert_string_equal(m.answer, before.answer);
	/* nothing of the message's text is kept */
	q = "what about pregnancy zebra-unicorn?";
	followup_answer(K, &AC, &MP, &m, q, strlen(q), &a);
	followup_remember(K, &a, &m);
	answer_free(&a);
	const char *bytes = (const char *)&m;
	for (size_t i = 0; i + 5 <= sizeof m; i++)
		assert_false(memcmp(bytes + i, "zebra", 5) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_choices),
	    cmocka_unit_test(test_listed_choices),
	    cmocka_unit_test(test_follow_ups),
	    cmocka_unit_test(test_aspects),
	    cmocka_unit_test(test_unsure_reading_offers_two),
	    cmocka_unit_test(test_circumstance_of_the_topic),
	    cmocka_unit_test(test_bare_questions),
	    cmocka_unit_test(test_offered_first),
	    cmocka_unit_test(test_alone),
	    cmocka_unit_test(test_fragment_openers_of_full_sentences),
	    cmocka_unit_test(test_safety_reads_the_message_alone),
	    cmocka_unit_test(test_remember),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
