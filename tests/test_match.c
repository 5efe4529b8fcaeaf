/* test_match: ranking, typos, synonyms, compounds, threshold, ambiguity,
 * determinism on a small fixture knowledge base. */
#include <math.h>

#include "kb.h"
#include "testutil.h"

static struct text_ctx *T;
static struct knowledge *K;
static struct match_scratch *S;

#define ENTRY(id, title, qs, tags)                                                                 \
	"---\nid: " id "\ntitle: " title "\nquestions:\n" qs "tags: " tags "\nsource: s\n"         \
	"reviewed: 2026-01-01\n---\nBody of " id ".\n"

static const struct tfile files[] = {
    {"deep.md", ENTRY("deep-tissue-massage", "Deep tissue massage",
		      "  - what is deep tissue massage\n  - is deep tissue massage painful\n"
		      "  - does deep tissue hurt\n",
		      "[massage]")},
    {"swedish.md", ENTRY("swedish-massage", "Swedish massage",
			 "  - what is swedish massage\n  - is swedish massage gentle\n"
			 "  - what happens in a swedish massage\n",
			 "[massage]")},
    {"heat.md", ENTRY("heat-therapy", "Heat or ice",
		      "  - should i use heat or ice\n  - is a heating pad good after a massage\n"
		      "  - hot or cold for a sore back\n",
		      "[self-care]")},
    {"physio.md",
     ENTRY("physical-therapy", "Physiotherapy",
	   "  - can a physiotherapist help my back\n  - what exercises strengthen the back\n"
	   "  - is physio worth it\n",
	   "[treatments]")},
    {"pain.md", ENTRY("back-pain-causes", "Why backs hurt",
		      "  - why does my back hurt\n  - what causes back pain\n"
		      "  - common reasons for back pain\n",
		      "[causes]")},
    {"greet.md",
     ENTRY("greeting", "Hello", "  - hi\n  - hello\n  - good morning\n", "[small-talk]")},
    {"help.md", ENTRY("help", "What I can do",
		      "  - what can you do\n  - help\n  - what can i ask you\n", "[small-talk]")},
    {"synonyms.txt", "physiotherapist = physio = physical therapist = pt\n"
		     "heat = warmth\n"},
};

static struct match_result
q(const char *s, double th, double mg)
{
	struct tokens tk = {0};
	struct match_params p = {th, mg};
	struct match_result r;
	text_tokenize(T, s, strlen(s), &tk);
	match_query(K->match, S, &tk, s, strlen(s), &p, &r);
	tokens_free(&tk);
	return r;
}

static const char *
top(const char *s)
{
	struct match_result r = q(s, MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN);
	return r.intent >= 0 ? K->entries[r.intent].id.s : "-";
}

static void
test_ranking(void **st)
{
	(void)st;
	assert_string_equal(top("what's deep tissue massage like?"), "deep-tissue-massage");
	assert_string_equal(top("Is Swedish massage gentle?"), "swedish-massage");
	assert_string_equal(top("heat or ice after a massage"), "heat-therapy");
	assert_string_equal(top("why does my lower back hurt so much"), "back-pain-causes");
	/* scores are on 0..1 and ranked */
	struct match_result r = q("is deep tissue massage painful", 0.3, 0.0);
	assert_true(r.score > 0.99 && r.score <= 1.0);
	assert_true(r.ncand >= 2);
	assert_true(r.cand[0].score >= r.cand[1].score);
}

static void
test_typos_and_compounds(void **st)
{
	(void)st;
	assert_string_equal(top("what is deep tisue massge"), "deep-tissue-massage");
	assert_string_equal(top("is sweedish massage gentle"), "swedish-massage");
	assert_string_equal(top("why does my bak hurt"), "back-pain-causes");
	assert_string_equal(top("what causes backpain"), "back-pain-causes");
	/* a common word is never "corrected" into a knowledge word */
	struct match_result r = q("what car should i buy", MATCH_DEFAULT_THRESHOLD, 0.0);
	assert_int_equal(r.intent, -1);
}

static void
test_synonyms(void **st)
{
	(void)st;
	assert_string_equal(top("can a physical therapist help my back"), "physical-therapy");
	assert_string_equal(top("is a pt worth it"), "physical-therapy");
	assert_string_equal(top("is warmth good after a massage"), "heat-therapy");
}

/* A synonym of several words that reads as one word would rewrite that
 * word everywhere ("can not make it" -> every "make" read as "cancel"). */
static void
test_synonym_check(void **st)
{
	(void)st;
	static const struct tfile bad[] = {
	    {"deep.md", ENTRY("deep-tissue-massage", "Deep tissue massage",
			      "  - what is deep tissue massage\n", "[massage]")},
	    {"synonyms.txt", "cancel = call off = can not make it\n"},
	};
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, bad, 2, &pr);
	assert_true(find_problem(&pr, "'can not make it' is read as 'make' alone") >= 0);
	knowledge_free(k);
	problems_free(&pr);
}

static void
test_out_of_scope(void **st)
{
	(void)st;
	const char *oos[] = {"write me a poem about the sea",
			     "what's the weather tomorrow",
			     "how do I change a car tyre",
			     "",
			     "   ",
			     "🙂🙂",
			     "qwertyuiop asdfgh"};
	for (size_t i = 0; i < sizeof oos / sizeof oos[0]; i++) {
		struct match_result r = q(oos[i], MATCH_DEFAULT_THRESHOLD, 0.0);
		if (r.intent != -1)
			fprintf(stderr, "matched '%s' -> %s %.2f\n", oos[i],
				K->entries[r.intent].id.s, r.score);
		assert_int_equal(r.intent, -1);
	}
}

static void
test_threshold_and_margin(void **st)
{
	(void)st;
	/* one word: no clear lead (test_clear_lead), the threshold decides */
	struct match_result r = q("swedish", 0.0, 0.0);
	assert_int_not_equal(r.intent, -1);
	double s = r.score;
	/* a threshold just above the score: no answer, the closest offered */
	r = q("swedish", s + 0.01, 0.0);
	assert_int_equal(r.intent, -1);
	assert_int_equal(r.nanswers, 0);
	assert_true(r.ambiguous);
	assert_true(r.nchoices >= 1);
	assert_int_equal(r.choices[0], r.cand[0].intent);
	assert_true(r.score == s); /* still the best candidate's score */
	/* far above it: nothing offered either */
	r = q("swedish", s + 0.5, 0.0);
	assert_false(r.ambiguous);
	assert_int_equal(r.nchoices, 0);
	/* a lead (confidence) smaller than the margin: ask which was meant */
	r = q("massage", 0.0, 0.0);
	assert_true(r.ncand >= 2);
	double gap = r.cand[0].score - r.cand[1].score;
	r = q("massage", 0.0, gap + 0.01);
	assert_int_equal(r.intent, -1);
	assert_true(r.ambiguous);
	assert_int_equal(r.nchoices, 2);
	r = q("massage", 0.0, gap > 0.01 ? gap - 0.01 : 0.0);
	assert_int_not_equal(r.intent, -1);
	assert_false(r.ambiguous);
}

static void
test_small_talk(void **st)
{
	(void)st;
	assert_string_equal(top("hello"), "greeting");
	assert_string_equal(top("hi, why does my back hurt"), "back-pain-causes");
	assert_string_equal(top("Hi! What can you do?"), "help");
	assert_string_equal(top("thanks, bye"), "-"); /* no thanks intent in this fixture */
	assert_string_equal(top("hello, bye"), "greeting");
}

/* A greeting, thanks or a story around the question does not drown it. */
static void
test_question_inside_message(void **st)
{
	(void)st;
	struct match_result r = q("hi 👋 is swedish massage gentle?", MATCH_DEFAULT_THRESHOLD, 0.0);
	assert_int_not_equal(r.intent, -1);
	assert_string_equal(K->entries[r.intent].id.s, "swedish-massage");
	assert_int_not_equal(r.greeting, -1); /* the reply says hello first */
	assert_string_equal(K->entries[r.greeting].id.s, "greeting");
	r = q("is swedish massage gentle?", MATCH_DEFAULT_THRESHOLD, 0.0);
	assert_int_equal(r.greeting, -1);
	assert_string_equal(top("my physiotherapist is away this week. anyway, is a heating pad "
				"good after a massage?"),
			    "heat-therapy");
	assert_string_equal(top("Good morning. Why does my back hurt so much?"),
			    "back-pain-causes");
	assert_string_equal(top("why does my back hurt? thanks in advance"), "back-pain-causes");
	/* "help" at the end of a sentence is its verb, not a request for
	 * the menu; after a comma it is small talk of its own */
	assert_string_equal(top("my mate reckons yoga would help"), "-");
	assert_string_equal(top("hot or cold for a sore back, help"), "heat-therapy");
	/* a question with no words of its own asks about the story before
	 * it: no greeting for it, whatever the greeting in front */
	assert_string_equal(top("hi, my knee clicks when I go running. what should I do?"), "-");

	assert_string_equal(top("hi, anyone there?"), "greeting");
}

/*
 * A story before a question (on the shipped knowledge, with the bot's
 * dictionary): the answer keeps the surer confidence of its readings (the
 * whole message ranks it first and explains it worse), and the question is
 * also read with the story fainter than context_weight, so that a longer
 * story does not outweigh a short question.
 */
static void
test_story_before_question(void **st)
{
	(void)st;
	static const struct {
		const char *msg, *want;
	} cases[] = {
	    {"been lifting boxes at the warehouse all week and my lower back is wrecked. would a "
	     "massage be worth it for this?",
	     "massage-for-back-pain"},
	    {"I can only get away from the office at lunchtime. how long does a typical session "
	     "take?",
	     "session-length"},
	    /* one answer: "and has a bad back" is no second question */
	    {"my gran is 88 and has a bad back, she bruises easily. is it safe for her to have a "
	     "massage?",
	     "massage-for-older-people"},
	    /* "booked" telling of a booking made is the story, not a request
	       to book; "get ... booked" is one */
	    {"i've booked in for a deep tissue next week and i'm nervous now. will it hurt a lot?",
	     "deep-tissue-massage"},
	    {"how do i get myself booked in?", "booking"},
	    /* an adverb of an English word says how, not what: chat */
	    {"do i have to get undressed fully", "what-to-wear"},
	    /* an age of 70 to 99 reads as its decade, which synonyms.txt
	       knows as older; a price is no age */
	    {"my husband is 76 with a stiff back, is massage ok for him?",
	     "massage-for-older-people"},
	    {"the price is \u00a380?", "prices"},
	    /* no phrasing asks what the answer never speaks of: the neck
	       answer says nothing of headaches */
	    {"how do i get rid of a headache", "-"},
	    /* a grandparent is an older person (synonyms.txt) */
	    {"my nan is 85, can she have a massage?", "massage-for-older-people"},
	    /* one answer: the second question's answer is the message's best
	       and answers the first question too (one question asked twice) */
	    {"my back has been stiff for a year. which type of massage gives the best results? i "
	     "want to pick the right one",
	     "choosing-a-massage"},
	};
	struct problems pr = {0};
	char *cause = NULL;
	struct wordset *dict = kb_load_dictionary(T);
	struct knowledge *k = kb_load(T, "knowledge", dict, &pr, &cause);
	assert_non_null(k);
	struct match_params p = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tokens tk = {0};
		struct match_result r;
		text_tokenize(T, cases[i].msg, strlen(cases[i].msg), &tk);
		match_query(k->match, S, &tk, cases[i].msg, strlen(cases[i].msg), &p, &r);
		tokens_free(&tk);
		const char *got = r.intent >= 0 ? k->entries[r.intent].id.s : "-";
		if (strcmp(got, cases[i].want) != 0 || r.nanswers > 1)
			fail_msg("'%s' -> %s (%.2f, %zu answers), expected %s alone", cases[i].msg,
				 got, r.score, r.nanswers, cases[i].want);
	}
	knowledge_free(k);
	wordset_free(dict);
	free(dict);
	problems_free(&pr);
	free(cause);
}

/* "was", "has", "had" ... open a question only before a subject ("was
 * it", "have you"): "was told it's muscular" and "... and has a bad back"
 * are statements, not questions of their own. */
static void
test_elided_subject(void **st)
{
	(void)st;
	static const char *const msgs[] = {
	    "was told my back pain is muscular. is swedish massage gentle?",
	    "had a bad back for weeks. is swedish massage gentle?",
	    "my gran is 85 and has a bad back. is swedish massage gentle?",
	};
	for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		struct match_result r = q(msgs[i], MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN);
		if (r.nanswers != 1 || strcmp(K->entries[r.intent].id.s, "swedish-massage") != 0)
			fail_msg("'%s': %zu answers, expected swedish-massage alone", msgs[i],
				 r.nanswers);
	}
}

/* A question with no words of its own asks about the story before it: the
 * story's words no answer knows weigh as little as around a question with
 * words, but a story about something else is still no question of ours. */
static void
test_story_is_the_question(void **st)
{
	(void)st;
	assert_string_equal(top("my back hurts whenever I go kayaking on the loch. what can I do?"),
			    "back-pain-causes");
	assert_string_equal(
	    top("my physiotherapist moved to Lisbon with her kayak and her cello. what now?"), "-");
}

/* "anything I can do" asks, '?' or not: after a greeting and a story it
 * is a question, so the greeting does not answer the message; a weekday
 * said in the plural is chat like the singular, not a topic. */
static void
test_anything_asks(void **st)
{
	(void)st;
	assert_string_not_equal(top("hi! my back hurts whenever I go kayaking. anything I can do"),
				"greeting");
	assert_string_equal(top("hi! my back hurts whenever I go kayaking."), "greeting");
	struct match_result one = q("is swedish massage gentle on friday", 0.0, 0.0);
	struct match_result many = q("is swedish massage gentle on fridays", 0.0, 0.0);
	assert_true(fabs(one.cand[0].score - many.cand[0].score) < 1e-9);
}

/* The words of a story around a question that no answer knows count
 * less against it than the same words in the question itself. */
static void
test_context_words(void **st)
{
	(void)st;
	const char *story = "my nan moved to Lisbon last spring with her neighbour Agata, "
			    "who paints boats. is swedish massage gentle?";
	assert_string_equal(top(story), "swedish-massage");
	assert_string_equal(top("is swedish massage gentle for my nan who moved to Lisbon last "
				"spring with her neighbour Agata who paints boats"),
			    "-");
	/* a noun no answer knows is a topic, even a frequent one */
	struct match_result noun = q("is swedish massage gentle for a dog", 0.0, 0.0);
	struct match_result chat = q("is swedish massage gentle for my mate", 0.0, 0.0);
	assert_true(noun.cand[0].score < chat.cand[0].score);
}

/* An answer's title says what it is about: a question that says none of
 * it is less sure to be meant, though a phrasing shares a word with it. */
static void
test_title(void **st)
{
	(void)st;
	struct match_result on = q("is deep tissue painful", 0.0, 0.0);
	struct match_result off = q("is a tattoo painful", 0.0, 0.0);
	assert_string_equal(K->entries[on.cand[0].intent].id.s, "deep-tissue-massage");
	assert_true(on.cand[0].title > 0.5);
	for (size_t k = 0; k < off.ncand; k++)
		if (strcmp(K->entries[off.cand[k].intent].id.s, "deep-tissue-massage") == 0)
			assert_true(off.cand[k].title == 0.0);
	assert_string_equal(top("is a tattoo painful"), "-");
}

/* Two questions that two answers cover get both, in the message's order;
 * a second sentence about the same thing does not add a second answer. */
static void
test_two_questions(void **st)
{
	(void)st;
	struct match_result r = q("what is swedish massage? and should i use heat or ice?",
				  MATCH_DEFAULT_THRESHOLD, 0.0);
	assert_int_equal(r.nanswers, 2);
	assert_string_equal(K->entries[r.answers[0]].id.s, "swedish-massage");
	assert_string_equal(K->entries[r.answers[1]].id.s, "heat-therapy");
	assert_int_equal(r.intent, r.answers[0]);
	r = q("should i use heat or ice, and what is swedish massage", MATCH_DEFAULT_THRESHOLD,
	      0.0);
	assert_int_equal(r.nanswers, 2);
	assert_string_equal(K->entries[r.answers[0]].id.s, "heat-therapy");
	r = q("what is deep tissue massage? is deep tissue massage painful?",
	      MATCH_DEFAULT_THRESHOLD, 0.0);
	assert_int_equal(r.nanswers, 1);
	assert_string_equal(K->entries[r.intent].id.s, "deep-tissue-massage");
}

/* One known word is not a whole question: it does not reach the
 * confidence of a question the answers explain. */
/* Below the threshold, a clear lead is answered: far ahead of the next,
 * explaining much of the message with several of its words.  One word is
 * no lead, nor a close runner-up. */
static void
test_clear_lead(void **st)
{
	(void)st;
	struct match_result r = q("hot or cold for my sore back after the gym", 0.99, 0.0);
	assert_true(r.cand[0].score < 0.99);
	assert_true(r.cand[0].raw - r.cand[1].raw > 0.3);
	assert_int_equal(r.nanswers, 1);
	assert_string_equal(K->entries[r.intent].id.s, "heat-therapy");
	r = q("warmth", 0.99, 0.0); /* heat, through a synonym, and nothing else */
	assert_string_equal(K->entries[r.cand[0].intent].id.s, "heat-therapy");
	assert_true(r.cand[0].raw - (r.ncand > 1 ? r.cand[1].raw : 0) > 0.3);
	assert_int_equal(r.intent, -1);
	assert_true(r.ambiguous);
	r = q("massage", 0.99, 0.0); /* deep tissue or swedish */
	assert_int_equal(r.intent, -1);
}

static void
test_little_evidence(void **st)
{
	(void)st;
	struct match_result one = q("any tips for massage?", 0.0, 0.0);
	struct match_result full = q("is deep tissue massage painful for a sore back", 0.0, 0.0);
	assert_true(one.cand[0].score < full.cand[0].score);
	assert_int_equal(q("any tips for massage?", MATCH_DEFAULT_THRESHOLD, 0.0).nanswers, 0);
	/* words no answer knows count against the question, names too */
	struct match_result known = q("is swedish massage gentle", 0.0, 0.0);
	struct match_result names =
	    q("is swedish massage gentle in Stockholm with Astrid", 0.0, 0.0);
	assert_true(names.cand[0].score < known.cand[0].score);
}

static void
test_deterministic(void **st)
{
	(void)st;
	struct match_result a = q("deep or swedish for a sore back", 0.0, 0.0);
	for (int i = 0; i < 50; i++) {
		struct match_result b = q("deep or swedish for a sore back", 0.0, 0.0);
		assert_int_equal(a.ncand, b.ncand);
		for (size_t c = 0; c < a.ncand; c++) {
			assert_int_equal(a.cand[c].intent, b.cand[c].intent);
			assert_true(a.cand[c].score == b.cand[c].score);
		}
	}
}

int
main(void)
{
	T = text_ctx_new();
	struct problems pr = {0};
	K = build_kb(T, files, sizeof files / sizeof files[0], &pr);
	dump_problems(&pr);
	if (pr.n)
		return 1;
	S = match_scratch_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranking),
	    cmocka_unit_test(test_typos_and_compounds),
	    cmocka_unit_test(test_synonyms),
	    cmocka_unit_test(test_synonym_check),
	    cmocka_unit_test(test_out_of_scope),
	    cmocka_unit_test(test_threshold_and_margin),
	    cmocka_unit_test(test_small_talk),
	    cmocka_unit_test(test_question_inside_message),
	    cmocka_unit_test(test_context_words),
	    cmocka_unit_test(test_title),
	    cmocka_unit_test(test_two_questions),
	    cmocka_unit_test(test_little_evidence),
	    cmocka_unit_test(test_clear_lead),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_story_before_question),
	    cmocka_unit_test(test_elided_subject),
	    cmocka_unit_test(test_story_is_the_question),
	    cmocka_unit_test(test_anything_asks),
	};
	int rc = cmocka_run_group_tests_name("match", tests, NULL, NULL);
	match_scratch_free(S);
	knowledge_free(K);
	problems_free(&pr);
	text_ctx_free(T);
	return rc;
}
