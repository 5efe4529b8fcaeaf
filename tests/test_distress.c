/* test_distress: the learned safety words (bot/distress.h), one model per
 * rule: reading them, each problem with its file:line; scoring (each word
 * once, pairs inside a sentence, the strongest word's place, every model
 * from one look-up); and the lines they add to a reply when the rules did
 * not fire them, also at the end of a message longer than the matcher
 * reads: crisis and talk-to-someone each from a model of its own, so that
 * low mood without intent gets the talk-to-someone line and not the crisis
 * line. */
#include "distress.h"
#include "testutil.h"

static struct text_ctx *T;

/* Rule ids for the tests: emergency is 0, trauma 1, talk-to-someone 2,
 * crisis 3. */
static int
test_rule_of(const char *id, void *arg)
{
	(void)arg;
	static const char *const ids[] = {"emergency", "trauma", "talk-to-someone", "crisis"};
	for (int r = 0; r < 4; r++)
		if (strcmp(id, ids[r]) == 0)
			return r;
	return -1;
}

#define TALK_WORDS                                                                                 \
	"# a comment\n"                                                                            \
	"rule talk-to-someone\n"                                                                   \
	"bias -2.000\n"                                                                            \
	"at 0.5\n"                                                                                 \
	"\n"                                                                                       \
	"2.000 hopeless   # a word\n"                                                              \
	"1.500 give up\n"                                                                          \
	"1.250 anymore\n"                                                                          \
	"-1.000 massage\n"

#define CRISIS_WORDS                                                                               \
	"rule crisis\n"                                                                            \
	"bias -3\n"                                                                                \
	"at 0\n"                                                                                   \
	"2.500 pills\n"                                                                            \
	"1.500 tonight\n"                                                                          \
	"-1.000 massage\n"

#define RULE_WORDS                                                                                 \
	"# rule words\n"                                                                           \
	"rule emergency\n"                                                                         \
	"bias -3\n"                                                                                \
	"at 0.5\n"                                                                                 \
	"2.000 numb\n"                                                                             \
	"1.500 groin\n"                                                                            \
	"-1.000 toes\n"                                                                            \
	"\n"                                                                                       \
	"rule trauma\n"                                                                            \
	"bias -2\n"                                                                                \
	"at 1\n"                                                                                   \
	"3.000 crash\n"                                                                            \
	"0.500 numb\n" TALK_WORDS CRISIS_WORDS

static struct distress *
parse(const char *text, struct problems *pr)
{
	struct distress *d = distress_new();
	if (distress_read(d, T, "k/rule-words.txt", text, strlen(text), test_rule_of, NULL, pr) <
	    0) {
		distress_free(d);
		return NULL;
	}
	return d;
}

static void
expect_problem(const char *text, unsigned line, const char *msg)
{
	struct problems pr = {0};
	struct distress *d = parse(text, &pr);
	if (find_problem(&pr, msg) < 0)
		dump_problems(&pr);
	assert_null(d);
	int i = find_problem(&pr, msg);
	assert_int_not_equal(i, -1);
	assert_string_equal(pr.v[i].file, "k/rule-words.txt");
	assert_int_equal(pr.v[i].line, line);
	problems_free(&pr);
}

/* The first model's score of msg, its strongest word into best. */
static long
score(const struct distress *d, const char *msg, char *best, size_t bestlen)
{
	struct tokens tk = {0};
	text_tokenize(T, msg, strlen(msg), &tk);
	struct distress_scores s;
	distress_score_all(d, &tk, &s);
	snprintf(best, bestlen, "%.*s", (int)s.len[0], msg + s.off[0]);
	tokens_free(&tk);
	return s.score[0];
}

static void
test_reads_a_section(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct distress *d = parse(TALK_WORDS, &pr);
	dump_problems(&pr);
	assert_non_null(d);
	assert_int_equal(pr.n, 0);
	assert_int_equal(distress_nmodels(d), 1);
	const struct distress_model *m = distress_model(d, 0);
	assert_int_equal(m->rule, 2);
	assert_int_equal(m->bias, -2000);
	assert_int_equal(m->at, 500);
	assert_int_equal(m->nw, 4);
	char best[64];
	assert_int_equal(score(d, "what is a massage", best, sizeof best), -3000);
	assert_string_equal(best, "");
	/* a word in any of its forms, each word once, the strongest named */
	assert_int_equal(score(d, "I feel so hopeless, hopeless", best, sizeof best), 0);
	assert_string_equal(best, "hopeless");
	/* a pair only side by side, in one sentence */
	assert_int_equal(score(d, "I want to give up anymore", best, sizeof best), 750);
	assert_string_equal(best, "give up");
	assert_int_equal(score(d, "I want to give. Up the road", best, sizeof best), -2000);
	assert_int_equal(score(d, "giving up, hopeless", best, sizeof best), 1500);
	/* more listed words than the scorer's own room: still each once */
	char many[3000] = "";
	for (int i = 0; i < 300; i++)
		strcat(many, "hopeless ");
	assert_int_equal(score(d, many, best, sizeof best), 0);
	assert_string_equal(best, "hopeless");
	distress_free(d);
}

/* Every model scored from one look-up, a word shared by two models
 * weighing in each. */
static void
test_reads_rule_words(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct distress *d = parse(RULE_WORDS, &pr);
	dump_problems(&pr);
	assert_non_null(d);
	assert_int_equal(pr.n, 0);
	assert_int_equal(distress_nmodels(d), 4);
	assert_int_equal(distress_count(d), 3 + 2 + 4 + 3);
	const struct distress_model *em = distress_model(d, 0), *tr = distress_model(d, 1);
	assert_int_equal(em->rule, 0);
	assert_int_equal(em->bias, -3000);
	assert_int_equal(em->at, 500);
	assert_int_equal(em->nw, 3);
	assert_int_equal(tr->rule, 1);
	assert_int_equal(tr->at, 1000);
	assert_int_equal(tr->nw, 2);
	assert_int_equal(distress_model(d, 2)->rule, 2);
	assert_int_equal(distress_model(d, 3)->rule, 3);
	assert_int_equal(distress_model(d, 3)->at, 0);

	const char *msg = "numb groin after the crash, hopeless";
	struct tokens tk = {0};
	text_tokenize(T, msg, strlen(msg), &tk);
	struct distress_scores s;
	distress_score_all(d, &tk, &s);
	assert_int_equal(s.score[0], -3000 + 3500); /* numb, groin */
	assert_int_equal(s.score[1], -2000 + 3500); /* crash, numb */
	assert_int_equal(s.score[2], 0);            /* -2 + 2 hopeless */
	assert_int_equal(s.score[3], -3000);        /* no crisis word */
	assert_int_equal(s.off[0], 0);
	assert_int_equal(s.len[0], 4); /* numb: the strongest toward emergency */
	assert_int_equal(s.len[1], 5); /* crash */
	assert_memory_equal(msg + s.off[1], "crash", 5);
	assert_int_equal(s.len[3], 0);
	/* a word that weighs against, and no listed word at all */
	text_tokenize(T, "numb toes", 9, &tk);
	distress_score_all(d, &tk, &s);
	assert_int_equal(s.score[0], -2000);
	text_tokenize(T, "hello", 5, &tk);
	distress_score_all(d, &tk, &s);
	assert_int_equal(s.score[0], -3000);
	assert_int_equal(s.len[0], 0);
	tokens_free(&tk);
	distress_free(d);
}

static void
test_problems_name_the_line(void **st)
{
	(void)st;
	const char *sec = "rule talk-to-someone\nbias -2\nat 1\n";
	char b[256];
#define WITH(rest) (snprintf(b, sizeof b, "%s%s", sec, rest), b)
	expect_problem(WITH("1.2345 hopeless\n"), 4, "expected a weight and one or two words");
	expect_problem(WITH("hopeless 1.0\n"), 4, "expected a weight and one or two words");
	expect_problem(WITH("1.0 no way out\n"), 4, "reads as 3 words");
	expect_problem(WITH("1.0 hopeless\n2.0 Hopelessly\n"), 5, "has a weight already");
	/* the single score's two thresholds are gone: one `at` per rule */
	expect_problem(WITH("talk-at 1\n"), 4, "expected a weight and one or two words");
	expect_problem(WITH("crisis-at 2\n"), 4, "expected a weight and one or two words");
#undef WITH
	expect_problem("rule nosuch\nbias -1\nat 1\n", 1, "unknown rule id 'nosuch'");
	expect_problem("rule emergency\nbias -1\nat 1\nrule emergency\nbias 1\nat 1\n", 4,
		       "rule 'emergency' has a section already (line 1)");
	expect_problem("rule crisis\nbias -1\nat x\n", 3, "'at' needs one number");
	expect_problem("rule crisis\nbias -2\nbias -1\nat 1\n", 3, "'bias' is set twice");
	expect_problem("bias -1\nrule emergency\nbias -1\nat 1\n", 1, "before the first section");
	expect_problem("rule emergency\nbias -1\n\nrule trauma\nbias 0\nat 1\n", 1,
		       "'at' is missing");
	expect_problem("rule emergency trauma\nbias -1\nat 1\n", 1, "'rule' needs one rule id");
	expect_problem("rule emergency\nbias -1\nat 1\n1.0 numb groin area\n", 4,
		       "reads as 3 words");
	/* the same word in two rules' sections is no repeat */
	struct problems pr = {0};
	const char *ok = "rule crisis\nbias -1\nat 1\n1 hopeless\nrule talk-to-someone\nbias "
			 "-1\nat 1\n1 hopeless\n";
	struct distress *d = parse(ok, &pr);
	assert_non_null(d);
	assert_int_equal(pr.n, 0);
	distress_free(d);
	/* a section with no weights: its bias is every message's score */
	d = parse("rule trauma\nbias -1.5\nat 1\n", &pr);
	assert_non_null(d);
	assert_int_equal(distress_count(d), 0);
	char best[8];
	assert_int_equal(score(d, "numb", best, sizeof best), -1500);
	assert_string_equal(best, "");
	distress_free(d);
}

#define UNLESS_WORDS                                                                               \
	"unless\n"                                                                                 \
	"bias -2\n"                                                                                \
	"at 1\n"                                                                                   \
	"words 8\n"                                                                                \
	"for emergency 0.5\n"                                                                      \
	"for crisis -0.5\n"                                                                        \
	"3.000 film\n"                                                                             \
	"1.000 lol\n"                                                                              \
	"-2.000 now\n"

/* The unless section: its settings, `for` lines and weights, and what is
 * wrong with one, with its line. */
static void
test_reads_unless(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct distress *d = parse(CRISIS_WORDS UNLESS_WORDS, &pr);
	dump_problems(&pr);
	assert_non_null(d);
	assert_int_equal(distress_nmodels(d), 2);
	size_t ui = 9;
	const struct distress_model *u = distress_unless(d, &ui);
	assert_non_null(u);
	assert_int_equal(ui, 1);
	assert_int_equal(u->rule, DISTRESS_UNLESS);
	assert_int_equal(u->bias, -2000);
	assert_int_equal(u->at, 1000);
	assert_int_equal(u->words, 8);
	assert_int_equal(u->nfor, 2);
	assert_int_equal(u->nw, 3);
	/* "film" weighs 3 for the unless model, nothing for crisis */
	const char *msg = "the film had pills in it lol";
	struct tokens tk = {0};
	text_tokenize(T, msg, strlen(msg), &tk);
	struct distress_scores s;
	distress_score_all(d, &tk, &s);
	assert_int_equal(s.score[1], -2000 + 3000 + 1000);
	assert_int_equal(distress_doubt(u, &s, ui, 0), 2000 + 500); /* emergency */
	assert_int_equal(distress_doubt(u, &s, ui, 3), 2000 - 500); /* crisis */
	assert_int_equal(distress_doubt(u, &s, ui, 1), 2000);       /* trauma: no for line */
	assert_int_equal(s.score[0], -3000 + 2500);                 /* crisis: pills */
	tokens_free(&tk);
	distress_free(d);
	/* a file without one */
	d = parse(CRISIS_WORDS, &pr);
	assert_null(distress_unless(d, &ui));
	distress_free(d);

	const char *sec = "unless\nbias -2\nat 1\nwords 8\n";
	char b[256];
#define WITH(rest) (snprintf(b, sizeof b, "%s%s", sec, rest), b)
	expect_problem("unless crisis\nbias -2\nat 1\nwords 8\n", 1,
		       "'unless' takes nothing after it");
	expect_problem(WITH("unless\nbias 1\nat 1\nwords 2\n"), 5,
		       "a second 'unless' section (the first: line 1)");
	expect_problem("unless\nbias -2\nat 1\n", 1, "'words' is missing");
	expect_problem("unless\nbias -2\nat 1\nwords 0\n", 4, "'words' needs a whole number");
	expect_problem("unless\nbias -2\nat 1\nwords 2.5\n", 4, "'words' needs a whole number");
	expect_problem("rule crisis\nbias -2\nat 1\nwords 8\n", 4,
		       "'words' belongs to the unless section");
	expect_problem("rule crisis\nbias -2\nat 1\nfor crisis 1\n", 4,
		       "'for' belongs to the unless section");
	expect_problem(WITH("for nosuch 1\n"), 5, "unknown rule id 'nosuch'");
	expect_problem(WITH("for crisis\n"), 5, "'for' needs a rule id and a number");
	expect_problem(WITH("for crisis 1\nfor crisis 2\n"), 6, "'for crisis' is given twice");
	expect_problem(WITH("1 film\n2 films\n"), 6, "has a weight already");
#undef WITH
}

/* ---- in a reply ---------------------------------------------------------- */

#define RULE(id, level, prio, trig)                                                                \
	"---\nid: " id "\nlevel: " level "\npriority: " prio "\ntriggers:\n  - '" trig             \
	"'\n---\n" id " text.\n"

static const struct tfile files[] = {
    {"a.md", "---\nid: swedish-massage\ntitle: Swedish massage\nquestions:\n"
	     "  - what is swedish massage\n  - is swedish massage gentle\n  - swedish massage "
	     "feel\nsource: s\nreviewed: 2026-01-01\n---\nSwedish answer.\n"},
    {"safety/crisis.md", "---\nid: crisis\nlevel: emergency\npriority: 0\nin-doubt: "
			 "talk-to-someone\ntriggers:\n  - 'suicid*'\n---\ncrisis text.\n"},
    {"safety/talk-to-someone.md", RULE("talk-to-someone", "urgent", "5", "cannot cope")},
    {"safety/emergency.md", RULE("emergency", "emergency", "10", "chest pain")},
    {"safety/trauma.md", RULE("trauma", "urgent", "20", "fell off")},
    {"safety/disclaimer.md",
     "---\nid: disclaimer\nlevel: info\npriority: 100\n---\nDisclaimer text.\n"},
    {"messages/fallback.md", "---\nid: fallback\n---\nFallback text.\n"},
};
#define NFILES (sizeof files / sizeof *files)

/* files and rule words (text): into f, how many. */
static size_t
with_rule_words(struct tfile *f, const char *text)
{
	memcpy(f, files, sizeof files);
	f[NFILES] = (struct tfile){"safety/rule-words.txt", text};
	return NFILES + 1;
}

static struct knowledge *
kb(const char *words)
{
	struct tfile f[NFILES + 1];
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, f, with_rule_words(f, words), &pr);
	dump_problems(&pr);
	assert_int_equal(pr.n, 0);
	problems_free(&pr);
	return k;
}

/* The ids of the rules that fired on q, comma-separated. */
static char *
fired(const struct knowledge *k, struct answer_ctx *ac, const char *q, char *out, size_t n)
{
	struct match_params p = {0.3, 0.0};
	struct answer a;
	answer_question(k, ac, &p, q, strlen(q), &a);
	out[0] = '\0';
	for (size_t i = 0; i < a.nhits; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "",
			 k->rules[a.hits[i].rule].id.s);
	answer_free(&a);
	return out;
}

/* Crisis and talk-to-someone, each from its own model: low mood without
 * intent gets the talk-to-someone line and not the crisis line, a plan gets
 * the crisis line, each only where the rules did not fire it. */
static void
test_crisis_and_talk_apart(void **st)
{
	(void)st;
	struct knowledge *k = kb(RULE_WORDS);
	assert_int_equal(k->warnings.n, 0);
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	char b[128];
	assert_string_equal(fired(k, &ac, "what is swedish massage", b, sizeof b), "");
	/* -2 + 2 + 1.25 = 1.25 for talk-to-someone; crisis stays at -3 */
	assert_string_equal(fired(k, &ac, "hopeless, I can't do this anymore", b, sizeof b),
			    "talk-to-someone");
	assert_string_equal(fired(k, &ac, "hopeless, want to give up anymore", b, sizeof b),
			    "talk-to-someone");
	/* a listed word that weighs against: massage */
	assert_string_equal(fired(k, &ac, "hopeless massage, anymore", b, sizeof b), "");
	/* -3 + 2.5 + 1.5 = 1 for crisis, talk-to-someone at -2 */
	assert_string_equal(fired(k, &ac, "saved up pills for tonight", b, sizeof b), "crisis");
	assert_string_equal(fired(k, &ac, "pills", b, sizeof b), "");
	assert_string_equal(fired(k, &ac, "hopeless anymore, pills tonight", b, sizeof b),
			    "crisis,talk-to-someone");
	/* a rule that fired is not added again; the other model still reads */
	assert_string_equal(fired(k, &ac, "I cannot cope, hopeless, anymore", b, sizeof b),
			    "talk-to-someone");
	assert_string_equal(fired(k, &ac, "I cannot cope, pills tonight", b, sizeof b),
			    "crisis,talk-to-someone");
	assert_string_equal(fired(k, &ac, "suicidal, pills tonight", b, sizeof b), "crisis");
	/* with an emergency: both, in rule order */
	assert_string_equal(fired(k, &ac, "chest pain, hopeless, anymore", b, sizeof b),
			    "talk-to-someone,emergency");
	/* at the end of a message longer than the matcher reads */
	char *longq = calloc(1, ANSWER_INPUT_MAX + 200);
	while (strlen(longq) < ANSWER_INPUT_MAX)
		strcat(longq, "my back is stiff today. ");
	strcat(longq, "hopeless, I can't do this anymore");
	assert_string_equal(fired(k, &ac, longq, b, sizeof b), "talk-to-someone");
	free(longq);
	answer_ctx_free(&ac);
	knowledge_free(k);
}

static void
test_rule_words_add_a_line(void **st)
{
	(void)st;
	struct knowledge *k = kb(RULE_WORDS);
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	char b[128];
	/* -3 + 2 + 1.5 = 0.5: at emergency's at; numb alone is not */
	assert_string_equal(fired(k, &ac, "my groin is numb", b, sizeof b), "emergency");
	assert_string_equal(fired(k, &ac, "my leg is numb", b, sizeof b), "");
	assert_string_equal(fired(k, &ac, "numb groin and numb toes", b, sizeof b), "");
	/* -2 + 3: trauma; with numb groin, both, in rule order */
	assert_string_equal(fired(k, &ac, "a crash", b, sizeof b), "trauma");
	assert_string_equal(fired(k, &ac, "after a crash my groin is numb", b, sizeof b),
			    "emergency,trauma");
	/* a rule that fired is not added again, and its own place is kept */
	struct match_params p = {0.3, 0.0};
	struct answer a;
	const char *q = "chest pain and a numb groin";
	answer_question(k, &ac, &p, q, strlen(q), &a);
	assert_int_equal(a.nhits, 1);
	assert_int_equal(a.hits[0].off, 0);
	assert_int_equal(a.hits[0].len, strlen("chest pain"));
	answer_free(&a);
	/* the net's hit: its strongest word */
	q = "oh my groin is numb";
	answer_question(k, &ac, &p, q, strlen(q), &a);
	assert_int_equal(a.nhits, 1);
	assert_memory_equal(q + a.hits[0].off, "numb", a.hits[0].len);
	answer_free(&a);
	/* at the end of a message longer than the matcher reads */
	char *longq = calloc(1, ANSWER_INPUT_MAX + 200);
	while (strlen(longq) < ANSWER_INPUT_MAX)
		strcat(longq, "my back is stiff today. ");
	strcat(longq, "after a crash");
	assert_string_equal(fired(k, &ac, longq, b, sizeof b), "trauma");
	free(longq);
	answer_ctx_free(&ac);
	knowledge_free(k);
}

/* The unless model doubts a line the rules gave to a short message: the
 * rule's in-doubt line comes instead (crisis: talk-to-someone), or none
 * (emergency names none here); a long message is never doubted; --explain's
 * JSON says what was doubted. */
static void
test_unless_doubts_a_line(void **st)
{
	(void)st;
	struct knowledge *k = kb(UNLESS_WORDS);
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	char b[128];
	/* -2 + 3 + 0.5 = 1.5 >= 1: the emergency line is taken off */
	assert_string_equal(fired(k, &ac, "chest pain in the film", b, sizeof b), "");
	assert_string_equal(fired(k, &ac, "chest pain", b, sizeof b), "emergency");
	/* -2 + 3 - 2 + 0.5: "now" weighs against a doubt */
	assert_string_equal(fired(k, &ac, "chest pain now, like in the film", b, sizeof b),
			    "emergency");
	/* -2 + 3 - 0.5 = 0.5 < 1 for crisis; with lol 1.5: talk-to-someone instead */
	assert_string_equal(fired(k, &ac, "the film was suicidal", b, sizeof b), "crisis");
	assert_string_equal(fired(k, &ac, "the film was suicidal lol", b, sizeof b),
			    "talk-to-someone");
	/* talk-to-someone fired too: its line once */
	assert_string_equal(fired(k, &ac, "film, suicidal lol, cannot cope", b, sizeof b),
			    "talk-to-someone");
	/* more than 8 words: never doubted */
	assert_string_equal(
	    fired(k, &ac, "chest pain in the film we saw last night at the cinema", b, sizeof b),
	    "emergency");
	/* the explanation */
	struct match_params p = {0.3, 0.0};
	struct answer a;
	const char *q = "the film was suicidal lol";
	answer_question(k, &ac, &p, q, strlen(q), &a);
	assert_int_equal(a.ndoubts, 1);
	char *js = answer_json(k, &a, 1);
	assert_non_null(strstr(js, "\"doubted\":{\"crisis\":{\"score\":1.500,\"instead\":"
				   "\"talk-to-someone\"}}"));
	free(js);
	answer_free(&a);
	q = "chest pain in the film";
	answer_question(k, &ac, &p, q, strlen(q), &a);
	js = answer_json(k, &a, 1);
	assert_non_null(
	    strstr(js, "\"doubted\":{\"emergency\":{\"score\":1.500,\"instead\":null}}"));
	free(js);
	js = answer_json(k, &a, 0);
	assert_null(strstr(js, "doubted"));
	free(js);
	answer_free(&a);
	answer_ctx_free(&ac);
	knowledge_free(k);
}

/* in-doubt names another rule of the knowledge, not the disclaimer, not
 * itself, and not one that names its own: a problem with file:line. */
static void
test_in_doubt_checked(void **st)
{
	(void)st;
	static const char *const bad[] = {"nosuch", "trauma", "disclaimer", "crisis"};
	static const char *const why[] = {
	    "no rule has that id", "a rule cannot stand in for itself",
	    "the disclaimer is not a warning", "that rule names an in-doubt rule of its own"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct tfile f[NFILES + 1];
		size_t n = with_rule_words(f, UNLESS_WORDS);
		char text[256];
		snprintf(text, sizeof text,
			 "---\nid: trauma\nlevel: urgent\npriority: 20\nin-doubt: %s\ntriggers:\n"
			 "  - 'fell off'\n---\ntrauma text.\n",
			 bad[i]);
		for (size_t j = 0; j < n; j++)
			if (strcmp(f[j].rel, "safety/trauma.md") == 0)
				f[j].data = text;
		struct problems pr = {0};
		struct knowledge *k = build_kb(T, f, n, &pr);
		char msg[160];
		snprintf(msg, sizeof msg, "'in-doubt: %s': %s", bad[i], why[i]);
		int p = find_problem(&pr, msg);
		if (p < 0)
			dump_problems(&pr);
		assert_int_not_equal(p, -1);
		assert_string_equal(pr.v[p].file, "safety/trauma.md");
		assert_int_equal(pr.v[p].line, 5);
		knowledge_free(k);
		problems_free(&pr);
	}
}

/* check: an unknown rule in the rule words is a problem with its line; a
 * rule they have no section for, a warning. */
static void
test_rule_words_checked(void **st)
{
	(void)st;
	struct tfile f[NFILES + 1];
	size_t n = with_rule_words(f, "rule emergency\nbias -1\nat 1\n1 numb\n");
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, f, n, &pr);
	dump_problems(&pr);
	assert_int_equal(pr.n, 0);
	const char *missing[] = {"no words for rule 'trauma'", "no words for rule 'crisis'",
				 "no words for rule 'talk-to-someone'"};
	for (size_t m = 0; m < sizeof missing / sizeof *missing; m++) {
		int i = find_problem(&k->warnings, missing[m]);
		if (i < 0)
			dump_problems(&k->warnings);
		assert_int_not_equal(i, -1);
		assert_string_equal(k->warnings.v[i].file, "safety/rule-words.txt");
	}
	knowledge_free(k);
	problems_free(&pr);

	/* the disclaimer has no words, nor a rule the knowledge lacks */
	const char *bad[] = {"rule emergency\nbias -1\nat 1\n\nrule disclaimer\n", "rule nosuch\n"};
	const unsigned line[] = {5, 1};
	for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
		k = build_kb(T, f, with_rule_words(f, bad[b]), &pr);
		int i = find_problem(&pr, "unknown rule id");
		if (i < 0)
			dump_problems(&pr);
		assert_int_not_equal(i, -1);
		assert_string_equal(pr.v[i].file, "safety/rule-words.txt");
		assert_int_equal(pr.v[i].line, line[b]);
		assert_null(k->distress);
		knowledge_free(k);
		problems_free(&pr);
	}
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_a_section),
	    cmocka_unit_test(test_reads_rule_words),
	    cmocka_unit_test(test_problems_name_the_line),
	    cmocka_unit_test(test_crisis_and_talk_apart),
	    cmocka_unit_test(test_rule_words_add_a_line),
	    cmocka_unit_test(test_rule_words_checked),
	    cmocka_unit_test(test_reads_unless),
	    cmocka_unit_test(test_unless_doubts_a_line),
	    cmocka_unit_test(test_in_doubt_checked),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
