/* test_safety: the trigger pattern language (words, stems, prefixes, gaps,
 * alternatives, conjunction), negation scope, unless, compile errors; and
 * the shipped rules against tests/data/safety.tsv. */
#include "kb.h"
#include "safety.h"
#include "testutil.h"
#include "wordset.h"

static struct text_ctx *T;

static int
fires(const char *pattern, const char *msg)
{
	char err[200];
	struct pattern *p = safety_compile(T, pattern, err, sizeof err);
	if (p == NULL)
		fail_msg("pattern '%s' does not compile: %s", pattern, err);
	struct tokens tk = {0};
	text_tokenize(T, msg, strlen(msg), &tk);
	int r = safety_pattern_fires(p, &tk);
	tokens_free(&tk);
	safety_pattern_free(p);
	return r;
}

static void
test_words_and_stems(void **st)
{
	(void)st;
	assert_true(fires("numb", "My leg has gone NUMB."));
	assert_true(fires("numb", "numbness in my foot"));
	assert_true(fires("leg", "both legs"));
	assert_false(fires("=leg", "both legs"));
	assert_true(fires("=legs", "both legs"));
	assert_true(fires("suicid*", "I feel suicidal"));
	assert_false(fires("suicid*", "I feel sad"));
	assert_false(fires("numb", "thumb")); /* whole words only */
	assert_true(fires("can not go on", "I can't go on"));
	assert_true(fires("cant go on", "I cannot go on"));
}

static void
test_sequences_gaps_alternatives(void **st)
{
	(void)st;
	assert_true(fires("chest pain", "sudden chest pain"));
	assert_false(fires("chest pain", "chest and back pain"));
	assert_true(fires("chest .. pain", "chest and back pain"));
	assert_true(fires("chest .. pain", "chest is in so much pain")); /* 4 between */
	assert_false(fires("chest .. pain", "chest is in a whole lot of pain"));
	assert_true(
	    fires("(numb*|pins and needles) .. (foot|feet)", "pins and needles in my feet"));
	assert_true(fires("pain (spread*|going) .. arm", "pain spreading down my left arm"));
	/* never across a sentence boundary */
	assert_false(fires("chest .. pain", "My chest is fine. Pain is in my back."));
}

static void
test_conjunction(void **st)
{
	(void)st;
	const char *p = "(numb*|tingl*) & (groin|buttock*|saddle)";
	assert_true(fires(p, "my groin feels numb"));
	assert_true(fires(p, "numbness around the groin and buttocks"));
	assert_false(fires(p, "my groin hurts. my foot is numb"));
	assert_true(
	    fires("(chest & breath* | crushing pain)", "my chest is tight and I am out of breath"));
	/* '!': a part the sentence must not hold (negated, it does not count) */
	assert_true(fires("breath* & !stairs", "I am out of breath"));
	assert_false(fires("breath* & !stairs", "out of breath on the stairs"));
	assert_true(fires("breath* & !stairs", "out of breath, and not on the stairs"));
	assert_true(fires("breath* & !stairs", "out of breath. The stairs are fine"));
}

static void
test_negation(void **st)
{
	(void)st;
	assert_false(fires("numb*", "no numbness and no fever, just stiff"));
	assert_false(fires("fever", "no numbness and no fever, just stiff"));
	assert_false(fires("cancer", "I have never had cancer"));
	assert_false(fires("(fever|chill*)", "I haven't had a fever or chills"));
	assert_false(fires("pregnant", "I'm not pregnant"));
	assert_false(fires("sciatica", "it is not sciatica"));
	/* a part that says a negation itself is not negated again */
	assert_true(fires("hope (i | to) .. not wake up", "do not care, hoping i do not wake up"));
	assert_true(fires("can not feel & groin", "no idea, can't feel my groin"));
	/* "not there," says nothing of what follows */
	assert_true(fires("numb", "a cushion that isn't there, all numb round my bum"));
	assert_false(fires("numb", "it is not numb, just sore"));
	/* a comma and a question or a modal start a new clause */
	assert_true(fires("take two", "my codeine isn't working, can I take two?"));
	/* scope ends at but/however..., and at "and my" */
	assert_true(fires("numb*", "no pain but my foot is numb"));
	assert_true(fires("numb*", "I don't have a fever and my foot is numb"));
	assert_true(fires("numb*", "I'm not just sore, I have numbness"));
	assert_true(fires("(fell|fall)", "No massage for me, I fell down the stairs"));
	assert_true(fires("fever", "I can't pee and have a fever"));
	assert_false(fires("chill*", "No fever, chills or sweats"));
	/* window of five words */
	assert_true(fires("numb*", "not really sure what to think of this numbness"));
	/* hedges and interjections are not negations */
	assert_true(fires("sciatica", "not sure if it is sciatica"));
	assert_true(fires("sciatica", "I do not know if I have sciatica"));
	assert_true(fires("numb*", "No, my groin is numb"));
	/* a negator inside the pattern belongs to the pattern */
	assert_true(fires("can not (control|hold) .. (bladder|pee)", "I can't control my bladder"));
	assert_true(fires("can not feel & =legs", "can't feel my legs"));
}

static void
test_compile_errors(void **st)
{
	(void)st;
	const char *bad[] = {"(a|b", "a)",         "a .. .. b", "a ... b",     "..a",  "a|",
			     "(|a)", "=a*",        "ab*",       "a (b & c) d", "",     "   ",
			     "&a",   "<numbness>", "<Bad>",     "a (b && c)",  "a &&", "(a && b) c",
			     "!a",   "(!a | b)",   "a && !b",   "!a & !b"};
	char err[200];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pattern *p = safety_compile(T, bad[i], err, sizeof err);
		if (p)
			fail_msg("'%s' should not compile", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static const struct tfile rule_files[] = {
    {"a.md", "---\nid: one\ntitle: One\nquestions: [a b, c d, e f]\nsource: s\n"
	     "reviewed: 2026-01-01\n---\nB\n"},
    {"safety/trauma.md", "---\nid: trauma\nlevel: urgent\npriority: 20\ntriggers:\n"
			 "  - '(fell|fall|accident)'\nunless:\n  - '(fell|fall*) asleep'\n"
			 "  - '(fell|fall|accident) .. (years|months) ago'\n---\nTrauma text\n"},
};

static void
test_unless_overlap(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, rule_files, 2, &pr);
	assert_int_equal(pr.n, 0);
	struct {
		const char *msg;
		int fire;
	} cases[] = {
	    {"I fell down the stairs", 1},
	    {"I fell asleep on the couch", 0},
	    {"I fell asleep, then fell down the stairs", 1},
	    {"I had a fall two years ago", 0},
	    {"a car accident last week", 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tokens tk = {0};
		struct safety_hit h[4];
		text_tokenize(T, cases[i].msg, strlen(cases[i].msg), &tk);
		size_t n = safety_eval(k->safety, NULL, &tk, h, 4);
		if ((int)n != cases[i].fire)
			fail_msg("'%s': fired %zu", cases[i].msg, n);
		tokens_free(&tk);
	}
	knowledge_free(k);
	problems_free(&pr);
}

/* The concept file's problems, each at its file:line: an unknown concept
 * (in the file and in a rule), a cycle, an unused concept, bad lines. */
static const struct tfile broken_concepts[] = {
    {"a.md", "---\nid: one\ntitle: One\nquestions: [a b, c d, e f]\nsource: s\n"
	     "reviewed: 2026-01-01\n---\nB\n"},
    {"safety/concepts.txt", "# comment\n"
			    "numbness:\n"
			    "  numb\n"
			    "  <tingles>\n" /* 4: unknown */
			    "loop-a:\n"
			    "  x .. <loop-b>\n" /* 6 */
			    "loop-b:\n"
			    "  <loop-a> y\n" /* 8: closes the cycle */
			    "spare:\n"       /* 9: unused */
			    "  orphan\n"
			    "Bad Name:\n" /* 11 */
			    "  groin\n"
			    "empty:\n" /* 13: no patterns */
			    "saddle:\n"
			    "  groin  # trailing comment\n"
			    "  a && b\n"}, /* 16: '&&' in a concept */
    {"safety/emergency.md", "---\nid: emergency\nlevel: emergency\npriority: 10\n"
			    "triggers:\n  - '<numbness> & <saddle>'\n  - '<loop-a>'\n"
			    "  - '<sadle> & <numbness>'\n---\nE\n"}, /* 8: unknown, did you mean */
};

static void
test_concept_problems(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct knowledge *k = build_kb(T, broken_concepts, 3, &pr);
	dump_problems(&pr);
	struct {
		const char *file;
		unsigned line;
		const char *msg;
	} want[] = {
	    {"safety/concepts.txt", 4, "unknown concept <tingles>"},
	    {"safety/concepts.txt", 8,
	     "concept 'loop-b' refers to itself: loop-a -> loop-b -> loop-a"},
	    {"safety/concepts.txt", 9, "concept 'spare' is not used by any rule"},
	    {"safety/concepts.txt", 11, "expected a concept name"},
	    {"safety/concepts.txt", 13, "concept 'empty' has no patterns"},
	    {"safety/concepts.txt", 16, "'&&' belongs in rules"},
	    {"safety/emergency.md", 8, "unknown concept <sadle> (did you mean <saddle>?)"},
	};
	dump_problems(&k->warnings);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		int hit = 0;
		for (size_t j = 0; j < pr.n + k->warnings.n; j++) {
			const struct problem *p = j < pr.n ? &pr.v[j] : &k->warnings.v[j - pr.n];
			hit |= strcmp(p->file, want[i].file) == 0 && p->line == want[i].line &&
			       strstr(p->msg, want[i].msg);
		}
		if (!hit)
			fail_msg("no problem '%s' at %s:%u", want[i].msg, want[i].file,
				 want[i].line);
	}
	/* the good parts still work */
	struct tokens tk = {0};
	struct safety_hit h[4];
	const char *q = "my groin is numb";
	text_tokenize(T, q, strlen(q), &tk);
	assert_int_equal(safety_eval(k->safety, NULL, &tk, h, 4), 1);
	tokens_free(&tk);
	knowledge_free(k);
	problems_free(&pr);
}

/* Rules written on concepts: order-free '&', '&&' across sentences,
 * negation (also inside a gap), someone else, the typo index. */
static const struct tfile concept_files[] = {
    {"a.md", "---\nid: one\ntitle: One\nquestions: [a b, c d, e f]\nsource: s\n"
	     "reviewed: 2026-01-01\n---\nB\n"},
    {"safety/concepts.txt", "numbness:\n  numb\n  (can not | barely | hardly) feel\n"
			    "  pins and needles\n"
			    "saddle:\n  (groin | bum | buttock*)\n  down there\n"
			    "legs:\n  =legs\n"
			    "back:\n  back .. (pain | hurt* | sore)\n"
			    "incontinence:\n  (leaking | incontinence)\n"
			    "injury:\n  (fell | broke .. leg | ran into me)\n"
			    "clot:\n  calf & (swollen | hot) & (red | sore)\n"
			    "breathless:\n  short of breath\n"
			    "exertion:\n  (stairs | running)\n"
			    "weak-bones:\n  osteoporosis\n"
			    "someone-else:\n  (friend | mum | he | she | her)\n  <animal>\n"
			    "for-someone-else:\n  can (she | he) .. have\n"
			    "animal:\n  dog\n"
			    "own-question:\n  (any | have) slots\n"},
    {"safety/emergency.md", "---\nid: emergency\nlevel: emergency\npriority: 10\n"
			    "triggers:\n  - '<numbness> & <saddle>'\n"
			    "  - '<incontinence> && <back>'\n  - '<legs> .. <numbness>'\n"
			    "  - '<clot>'\n  - '<breathless> & !<exertion>'\n"
			    "---\nE\n"},
    {"safety/trauma.md", "---\nid: trauma\nlevel: urgent\npriority: 20\n"
			 "triggers:\n  - '<injury>'\n  - '<weak-bones> && <injury>'\n---\nT\n"},
};

static void
test_concept_rules(void **st)
{
	(void)st;
	struct problems pr = {0};
	struct wordset dict = {0}; /* English words are never typo-corrected */
	const char *words[] = {"leaning", "tingle", "groan", "bump"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		wordset_add(&dict, words[i], strlen(words[i]));
	struct kb_file f[4];
	for (size_t i = 0; i < 4; i++)
		f[i] = (struct kb_file){.rel = (char *)(uintptr_t)concept_files[i].rel,
					.path = (char *)(uintptr_t)concept_files[i].rel,
					.data = (char *)(uintptr_t)concept_files[i].data,
					.len = strlen(concept_files[i].data)};
	struct knowledge *k = knowledge_build(T, f, 4, &dict, &pr);
	dump_problems(&pr);
	assert_int_equal(pr.n, 0);
	struct {
		const char *msg;
		const char *fired;
	} cases[] = {
	    {"my groin is numb", "emergency"},
	    {"numb around the groin", "emergency"}, /* either order */
	    {"I can barely feel my bum", "emergency"},
	    {"my groin hurts. my foot is numb", ""},                   /* not in one sentence */
	    {"no numbness in my groin", ""},                           /* negated */
	    {"my groin aches but no numbness", ""},                    /* negated part */
	    {"I can't feel my groin", "emergency"},                    /* the pattern's own "not" */
	    {"I have been leaking. My back is so sore.", "emergency"}, /* && */
	    {"I have been leaking.", ""},
	    {"my legs are numb", "emergency"},
	    {"my legs are not numb", ""}, /* a gap never passes over a negation */
	    {"I have been leeking. My back is sore.", "emergency"}, /* a typo */
	    {"I have been leaning. My back is sore.", ""},          /* a real word: left alone */
	    {"I fell off my bike", "trauma"},
	    {"my friend fell, can massage help my back pain", ""}, /* someone else */
	    {"my mum fell, can she have a massage", "trauma"},     /* asks for her */
	    {"my mum fell last week", "trauma"},                   /* all about her */
	    {"my friend broke her leg and I fell too", "trauma"},
	    {"a kid ran into me at football, my back hurts", "trauma"}, /* me: the writer */
	    {"the neighbour's dog fell down the stairs", ""},           /* an animal: no one */
	    {"my friend fell. any slots on saturday?", ""}, /* the writer's own question */
	    {"my friend fell. can she have a massage? any slots?", "trauma"}, /* asks for her */
	    /* '&' in a concept: each part judged for negation on its own */
	    {"my calf is swollen, red and hot", "emergency"},
	    {"my calf is swollen", ""},
	    {"my calf is not swollen or hot, just red and sore", ""},
	    {"I am short of breath", "emergency"},
	    {"I am short of breath on the stairs", ""},
	    /* '&&' about someone else: not the writer's */
	    {"I have osteoporosis. I fell. Can I book?", "trauma"},
	    {"my nan has osteoporosis and she fell. My back is stiff", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tokens tk = {0};
		struct safety_hit h[4];
		text_tokenize(T, cases[i].msg, strlen(cases[i].msg), &tk);
		size_t n = safety_eval(k->safety, NULL, &tk, h, 4);
		char got[64] = "";
		for (size_t j = 0; j < n; j++)
			strcat(got, k->rules[h[j].rule].id.s);
		if (strcmp(got, cases[i].fired) != 0)
			fail_msg("'%s': fired '%s', want '%s'", cases[i].msg, got, cases[i].fired);
		tokens_free(&tk);
	}
	knowledge_free(k);
	wordset_free(&dict);
	problems_free(&pr);
}

/* Every row of tests/data/safety.tsv against the shipped rules. */
static void
test_shipped_rules_table(void **st)
{
	(void)st;
	FILE *f = fopen("tests/data/safety.tsv", "r");
	if (f == NULL) {
		skip();
		return;
	}
	struct answer_ctx ac;
	assert_int_equal(answer_ctx_init(&ac), 0);
	struct problems pr = {0};
	struct knowledge *k = NULL;
	char *cause = NULL;
	struct wordset *dict = kb_load_dictionary(ac.text); /* as `ask` reads */
	k = kb_load(ac.text, "knowledge", dict, &pr, &cause);
	free(cause);
	assert_non_null(k);
	dump_problems(&pr);
	assert_int_equal(pr.n, 0);
	assert_string_equal(k->missing, "");
	char *line = NULL;
	size_t cap = 0;
	unsigned ln = 0, rows = 0, bad = 0;
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	while (getline(&line, &cap, f) > 0) {
		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *c2 = strchr(line, '\t');
		assert_non_null(c2);
		*c2++ = '\0';
		char *c3 = strchr(c2, '\t');
		assert_non_null(c3);
		*c3++ = '\0';
		rows++;
		struct answer a;
		answer_question(k, &ac, &mp, line, strlen(line), &a);
		char fired[512] = "";
		for (size_t i = 0; i < a.nhits; i++) {
			strcat(fired, k->rules[a.hits[i].rule].id.s);
			strcat(fired, ",");
		}
		for (int col = 0; col < 2; col++) {
			char *ids = strdup(col ? c3 : c2);
			char *save = NULL;
			for (char *id = strtok_r(ids, ", ", &save); id;
			     id = strtok_r(NULL, ", ", &save)) {
				/* "a|b": either rule counts (must-fire column) */
				int hit = 0, unknown = 0;
				char *alts = strdup(id), *asave = NULL;
				for (char *alt = strtok_r(alts, "|", &asave); alt;
				     alt = strtok_r(NULL, "|", &asave)) {
					if (knowledge_find_rule(k, alt) < 0) {
						unknown = 1;
						break;
					}
					char needle[80];
					snprintf(needle, sizeof needle, "%s,", alt);
					for (char *p = fired; (p = strstr(p, needle)); p++)
						if (p == fired || p[-1] == ',')
							hit = 1;
				}
				free(alts);
				if (unknown) {
					fprintf(stderr, "safety.tsv:%u: unknown rule id '%s'\n", ln,
						id);
					bad++;
					continue;
				}
				if (hit == col) {
					fprintf(stderr,
						"safety.tsv:%u: %s '%s' on: %s (fired: %s)\n", ln,
						col ? "FALSE ALARM" : "MISSED", id, line, fired);
					bad++;
				}
			}
			free(ids);
		}
		answer_free(&a);
	}
	free(line);
	fclose(f);
	fprintf(stderr, "safety.tsv: %u rows, %u failures\n", rows, bad);
	assert_true(rows >= 120);
	assert_int_equal(bad, 0);
	knowledge_free(k);
	if (dict) {
		wordset_free(dict);
		free(dict);
	}
	problems_free(&pr);
	answer_ctx_free(&ac);
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words_and_stems),
	    cmocka_unit_test(test_sequences_gaps_alternatives),
	    cmocka_unit_test(test_conjunction),
	    cmocka_unit_test(test_negation),
	    cmocka_unit_test(test_compile_errors),
	    cmocka_unit_test(test_unless_overlap),
	    cmocka_unit_test(test_concept_problems),
	    cmocka_unit_test(test_concept_rules),
	    cmocka_unit_test(test_shipped_rules_table),
	};
	int rc = cmocka_run_group_tests_name("safety", tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
