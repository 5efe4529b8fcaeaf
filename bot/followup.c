/*
 * followup: answering a message in its conversation (see followup.h).
 */
#include "followup.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "strbuf.h"
#include "xmem.h"

/*
 * The reading with the topic, as measured on tests/data/dialogues.tsv
 * (README, "Conversations"): the last answer's title weighs TOPIC_WEIGHT
 * of the message's own words (all of them in a comparison), the answer
 * before it BEFORE_WEIGHT of that ("how often should I book one?" then
 * "and is it painful?": "it" is still the deep tissue); its best candidate
 * is taken with a confidence of MIN_SCORE, or a ranking score of MIN_RAW
 * (the confidence was fitted on messages read alone, and a short
 * follow-up read with its topic is surer than it says).
 */
#define TOPIC_WEIGHT 0.5
#define BEFORE_WEIGHT 0.5 /* the answer before it: half as much again */
#define MIN_SCORE 0.5
#define MIN_RAW 0.38
#define EXACT_RAW 0.9995 /* the ranking score of a message written as a phrasing */
#define MAX_WORDS 16     /* a follow-up is short: longer messages are read alone */
#define SHORT_WORDS 5    /* "how long for?", "where are you based?" */
#define BARE_WORDS 9     /* "how long does it usually take to go away?" */
#define WEAK_LEAD 0.03
#define OFFER_MIN 0.40     /* alone, a message scoring less has no "did you mean" */
#define SUBJECT_CLOSE 0.10 /* ranking scores this close: what "it" is decides */
#define TIE 0.01
#define UNSURE 0.012
#define FOREIGN 0.02 /* the classifier's probability of the topic for a message of other things */
#define OOS_SURE 0.9
#define CONTEXT_LIKELY                                                                             \
	5 /* the context reader weighs the likeliest few classes and
			    the ones its cues name */ /* ranking scores this close after reading with the topic: offer both */

const char *
followup_how_name(enum followup_how how)
{
	static const char *const names[] = {"alone", "choice", "topic", "context"};
	return names[how];
}

static int
is_word(const struct token *t, const char *w)
{
	return strcmp(t->surf, w) == 0;
}

static int
in_list(const struct token *t, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (is_word(t, list[i]))
			return 1;
	return 0;
}

/* ---- choices ------------------------------------------------------------- */

/* Words around a choice that say nothing about which: "the second one
 * please", "no, I meant number 2". */
static const char *const choice_filler[] = {
    "the",   "one",    "ones",  "number", "no",    "num",   "option", "choice", "please",
    "pls",   "plz",    "i",     "mean",   "meant", "want",  "like",   "yes",    "yeah",
    "yep",   "ok",     "okay",  "sorry",  "that",  "this",  "it",     "is",     "its",
    "s",     "thanks", "thank", "you",    "ta",    "oh",    "um",     "hmm",    "for",
    "me",    "about",  "go",    "with",   "id",    "would", "rather", "choose", "pick",
    "take",  "try",    "a",     "an",     "of",    "them",  "those",  "these",  "answer",
    "topic", "just",   "first", "second", "last",  "1st",   "2nd",    "former", "latter",
    "1",     "2",      "two",   "and",    "what",  "whats", "tell",   "more",   NULL,
};

static const struct {
	const char *w;
	int n; /* 1-based; -1: the last */
} ordinals[] = {
    {"1", 1},   {"1st", 1},    {"first", 1},   {"former", 1}, {"2", 2},
    {"2nd", 2}, {"second", 2}, {"latter", -1}, {"last", -1},  {"two", 2},
    {"3", 3},   {"3rd", 3},    {"third", 3},   {"three", 3},
};

/* The 1-based place ordinal word t names among nchoices, 0 if none. */
static int
ordinal_of(const struct token *t, size_t nchoices)
{
	for (size_t o = 0; o < sizeof ordinals / sizeof ordinals[0]; o++)
		if (is_word(t, ordinals[o].w))
			return ordinals[o].n < 0 ? (int)nchoices : ordinals[o].n;
	return 0;
}

/* The choice (0-based) an ordinal message names, -1 if none, -2 if it
 * names two. */
static int
ordinal_choice(const struct tokens *tk, size_t nchoices)
{
	int got = -1, ones = 0;
	for (size_t i = 0; i < tk->n; i++) {
		const struct token *t = &tk->v[i];
		int n = ordinal_of(t, nchoices);
		if (n > 0) {
			if (got >= 0 && got != n - 1)
				return -2;
			got = n - 1;
		} else if (is_word(t, "one")) {
			ones++;
		} else if (!in_list(t, choice_filler)) {
			return -1; /* words of its own: not just a number */
		}
	}
	if (got < 0 && ones == 1 && tk->n <= 3)
		got = 0; /* "one", "one please" */
	return got >= 0 && (size_t)got < nchoices ? got : -1;
}

/* The item (0-based) of a list of nchoices (or of the choices offered)
 * that a message with words of its own names as "the second one" ("the
 * second one, is it painful?", "I like the sound of the first one") or
 * "number 2", -1 if none or two: not "first" or "last" alone ("the last
 * time"). */
static int
ordinal_one(const struct tokens *tk, size_t nchoices)
{
	int got = -1;
	for (size_t i = 0; i < tk->n; i++) {
		int n = ordinal_of(&tk->v[i], nchoices);
		int pointer = (i + 1 < tk->n &&
			       (is_word(&tk->v[i + 1], "one") || is_word(&tk->v[i + 1], "ones"))) ||
			      (i > 0 && is_word(&tk->v[i - 1], "number"));
		if (n == 0 || !pointer)
			continue;
		if (got >= 0 && got != n - 1)
			return -1;
		got = n - 1;
	}
	return got >= 0 && (size_t)got < nchoices ? got : -1;
}

/* Does word s of the message name a word of the title? */
static int
word_in(const struct token *s, const struct tokens *title)
{
	for (size_t i = 0; i < title->n; i++) {
		const struct token *w = &title->v[i];
		if (w->flags & TOK_STOP)
			continue;
		if (strcmp(w->stem, s->stem) == 0)
			return 1;
		/* a slip in a long word: "tisue" */
		if (s->surf_len >= 5 && w->surf_len >= 5 &&
		    text_distance(s->surf, s->surf_len, w->surf, w->surf_len, 1) <= 1)
			return 1;
	}
	return 0;
}

/*
 * The choice a message names by words of its title ("deep tissue", the
 * whole title): every word of the message that is not filler is in that
 * title, and one of them in no other title.  -1 if none.
 */
static int
title_choice(struct text_ctx *t, const struct knowledge *k, const struct tokens *tk,
	     const int *choices, size_t n)
{
	struct tokens titles[CONVO_CHOICES] = {{0}};
	int got = -1;
	for (size_t j = 0; j < n; j++) {
		const struct kb_str *ti = &k->entries[choices[j]].title;
		text_tokenize(t, ti->s, strlen(ti->s), &titles[j]);
	}
	for (size_t j = 0; j < n; j++) {
		int all = 1, own = 0, words = 0;
		for (size_t i = 0; i < tk->n && all; i++) {
			const struct token *w = &tk->v[i];
			if ((w->flags & TOK_STOP) || in_list(w, choice_filler))
				continue;
			words++;
			all = word_in(w, &titles[j]);
			int elsewhere = 0;
			for (size_t x = 0; x < n && all; x++)
				elsewhere |= x != j && word_in(w, &titles[x]);
			own |= all && !elsewhere;
		}
		if (words && all && own) {
			got = got == -1 ? (int)j : -2;
		}
	}
	for (size_t j = 0; j < n; j++)
		tokens_free(&titles[j]);
	return got >= 0 ? got : -1;
}

/*
 * The answers the text of answer e lists, in order: the items of its
 * bulleted or numbered lists ("- Deep tissue massage: slower, firmer
 * pressure ..."), each the answer whose title it opens with, or -1.
 * Returns the number of items (at most LIST_MAX), 0 when none names an
 * answer or e is a clinic fact (a price list names treatments to choose
 * from, not topics: "the first" is the one to book).
 */
#define LIST_MAX 12
static size_t
listed_answers(const struct knowledge *k, int e, int *out)
{
	size_t n = 0, named = 0;
	const char *l = k->entries[e].disclaimer ? k->entries[e].body : NULL;
	while (l && *l && n < LIST_MAX) {
		const char *end = strchr(l, '\n');
		if (end == NULL)
			end = l + strlen(l);
		const char *p = l;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *d = p;
		while (d < end && isdigit((unsigned char)*d))
			d++;
		size_t mark = d > p && d < end && (*d == '.' || *d == ')') ? (size_t)(d - p) + 1
			      : p < end && (*p == '-' || *p == '*')        ? 1
									   : 0;
		if (mark && p + mark < end && p[mark] == ' ') {
			p += mark;
			while (p < end && (*p == ' ' || *p == '*'))
				p++;
			int got = -1;
			for (size_t i = 0; i < k->nentries && got < 0; i++) {
				const char *t = k->entries[i].title.s;
				size_t tl = t ? strlen(t) : 0;
				if ((int)i != e && tl && (size_t)(end - p) >= tl &&
				    strncasecmp(p, t, tl) == 0 &&
				    (p + tl == end || !isalnum((unsigned char)p[tl])))
					got = (int)i;
			}
			out[n++] = got;
			named += got >= 0;
		}
		l = *end ? end + 1 : end;
	}
	return named ? n : 0;
}

/* Replace the match in out by the one answer idx, chosen. */
static void
give_answer(const struct knowledge *k, int idx, struct answer *out)
{
	struct match_result *mr = &out->mr;
	match_result_answer(mr, idx, 1.0);
	mr->greeting = -1;
	mr->ncand = 0;
	out->intent_id = k->entries[idx].id.s;
}

/* ---- follow-ups ---------------------------------------------------------- */

/* Words that point back at what was said before. */
static const char *const anaphora[] = {
    "it",    "its", "itself", "that", "this", "these", "those", "they", "them", "their",
    "there", "one", "ones",   "such", "same", "he",    "she",   "him",  NULL,
};

static const char *const persons[] = {"he", "she", "him", NULL};

/* Interjections a follow-up may open with before its real first word. */
static const char *const interjections[] = {
    "ok",    "okay", "oh",  "right", "great",   "cool", "thanks",
    "thank", "you",  "hmm", "ah",    "alright", NULL,
};

/* First words that continue the previous question ("and how often?",
 * "but is it safe if I'm pregnant?"), whatever the length. */
static const char *const joiners[] = {
    "and", "but", "or", "plus", NULL,
};

/* First words that make a SHORT message a fragment of the previous
 * question: a preposition or an "if" with no sentence around it ("during
 * pregnancy?", "even if I'm pregnant?", "after a massage?").  A longer
 * message opening so is a sentence of its own ("on blood thinners for my
 * heart, my back is stiff, would a firm massage be ok?", "so my back has
 * been bad for weeks ..."). */
static const char *const fragment_openers[] = {
    "also",    "so",     "then",    "if",    "even",   "unless", "until", "with",
    "without", "for",    "during",  "after", "before", "in",     "on",    "at",
    "while",   "except", "instead", "from",  "about",  "by",     NULL,
};
#define FRAGMENT_WORDS 7 /* "even if i am pregnant", "after a deep tissue massage" */

/* Question words and the like: a message of nothing else has no topic
 * of its own ("why?", "tell me more"). */
static const char *const question_words[] = {
    "how",  "why",  "when",        "where",   "which",  "who",     "what",  "whats", "more",
    "else", "info", "information", "details", "detail", "explain", "again", NULL,
};

/* Words that ask about an aspect of something rather than name a thing:
 * amount, time, cost, frequency, safety, effect, recovery, and the verbs
 * around them.  A message of only these and function words ("how much?",
 * "is there a fee?", "how long for?", "how often can I use it?", "is it
 * safe?", "how long does it take to heal?") names no subject of its own:
 * after an answer, it asks about that answer's subject when that answer
 * speaks of what it asks. */
static const char *const aspects[] = {
    "much",      "many",     "long",    "longer",   "often",   "cost",       "costs",     "price",
    "priced",    "fee",      "fees",    "charge",   "charges", "charged",    "pay",       "paying",
    "expensive", "cheap",    "safe",    "safely",   "risky",   "risk",       "hurt",      "hurts",
    "painful",   "ok",       "okay",    "fine",     "time",    "times",      "take",      "takes",
    "last",      "lasts",    "work",    "works",    "use",     "using",      "do",        "does",
    "get",       "need",     "should",  "enough",   "normal",  "frequently", "regularly", "heal",
    "heals",     "healing",  "recover", "recovery", "settle",  "settles",    "away",      "clear",
    "improve",   "improves", "till",    "until",    "better",  "til",        NULL,
};

/* Words that compare the topic with something the message names: both
 * then weigh the same ("is that the same as deep tissue?"); the first
 * ones set the two side by side, so the answer is neither of them. */
static const char *const side_by_side[] = {
    "same", "different", "difference", "differ",  "versus",  "vs",
    "than", "compare",   "compared",   "between", "similar", NULL,
};
static const char *const comparing[] = {"better", "worse", NULL};
/* ... unless it says how one feels: "get better", "feeling worse" */
static const char *const feeling[] = {"get",  "gets",  "getting", "got",
				      "feel", "feels", "feeling", NULL};

/* ---- aspects ------------------------------------------------------------- */

/*
 * The aspect a short question asks about, and the words by which an
 * answer's text shows that it speaks of it.  "will I be charged?" after the
 * cancellation answer (whose text says what a late cancellation costs) is
 * about that answer; "where is it?" after the opening hours (whose text
 * says nothing of a place) is not: it goes to the first reading whose text
 * speaks of a place.
 */
enum aspect { ASPECT_COST, ASPECT_PLACE, ASPECT_N };

static const char *const cost_asked[] = {
    "cost",    "costs",   "price", "prices", "priced",    "fee",   "fees",   "charge",
    "charges", "charged", "pay",   "paying", "expensive", "cheap", "afford", NULL,
};
/* "how much is it?", not "how much should I do?" */
static const char *const how_much_cost[] = {
    "is", "are", "was", "would", "will", "s", "for", "it", "they", "that", "each", "per", NULL,
};
static const char *const cost_told[] = {
    "fee",  "fees",    "charge", "charged", "charges", "pay",
    "paid", "payment", "free",   "amount",  "refund",  NULL,
};
static const char *const place_told[] = {
    "address",  "street",   "road",    "station", "directions", "floor",
    "entrance", "building", "located", "map",     "postcode",   NULL,
};

/* Words that address the clinic: "where are you?" */
static const char *const addressing[] = {"you", "your", "u", "ur", "clinic", NULL};

/* The aspect the message asks about, or ASPECT_N.  "where" asks for the
 * clinic's place after a clinic fact, or when it addresses the clinic
 * ("where are you?"); after a health answer it asks where in the body
 * ("where does it hurt?", "where should I use it?"). */
static enum aspect
asked_aspect(const struct tokens *tk, int after_fact)
{
	int addressed = 0;
	for (size_t i = 0; i < tk->n; i++)
		addressed |= in_list(&tk->v[i], addressing);
	for (size_t i = 0; i < tk->n; i++) {
		const struct token *t = &tk->v[i];
		int after_how = i > 0 && is_word(t - 1, "how");
		if (in_list(t, cost_asked) || (after_how && is_word(t, "much") && i + 1 < tk->n &&
					       in_list(t + 1, how_much_cost)))
			return ASPECT_COST;
		if (is_word(t, "where") && (after_fact || addressed))
			return ASPECT_PLACE;
	}
	return ASPECT_N;
}

/* Does the text of answer e speak of aspect as?  Only a clinic fact's
 * text is read: cost and place are the clinic's (a health answer that
 * says "pain-free" is not about money, nor "where it hurts" about a
 * place). */
static int
speaks_of(struct text_ctx *tc, const struct knowledge *k, int e, enum aspect as)
{
	const struct kb_entry *en = &k->entries[e];
	if (en->disclaimer || en->small_talk)
		return 0;
	struct tokens tk = {0};
	text_tokenize(tc, en->body, strlen(en->body), &tk);
	int got = 0;
	for (size_t i = 0; i < tk.n && !got; i++)
		got = in_list(&tk.v[i], as == ASPECT_COST ? cost_told : place_told);
	tokens_free(&tk);
	return got;
}

/* What "that" or "this" says of something, not a noun it goes with: "is
 * that ok?", "is this normal?" */
static const char *const predicates[] = {
    "ok",   "okay",  "alright", "fine",  "safe",   "normal",    "good",    "bad",   "worth",
    "true", "right", "real",    "wrong", "common", "dangerous", "serious", "risky", NULL,
};

/* Whether something is safe or fine: "is it ok if ...", "is that safe?" */
static const char *const safety_words[] = {
    "safe", "ok", "okay", "fine", "alright", "dangerous", "risky", "harmful", NULL,
};

static const char *const be_words[] = {
    "is", "are", "was", "were", "be", "any", "s", NULL,
};

/* Verbs that need an object: after "is it ok to", one without it makes
 * "it" that object ("is it safe to use when pregnant?"). */
static const char *const transitive[] = {
    "use", "take", "try", "do", "have", "get", "wear", "buy", NULL,
};

/* Is token v such a verb with no object after it: the message's end, or
 * a circumstance ("when pregnant", "every day")? */
static int
object_less(const struct tokens *tk, size_t v)
{
	if (v >= tk->n || !in_list(&tk->v[v], transitive))
		return 0;
	return v + 1 == tk->n || in_list(&tk->v[v + 1], fragment_openers) ||
	       is_word(&tk->v[v + 1], "when") || is_word(&tk->v[v + 1], "every");
}

/* Is token i a word that points back ("can I park there", "does it
 * hurt"), not a dummy ("is it ok to ...", "is there parking")? */
static int
points_back(const struct tokens *tk, size_t i)
{
	const struct token *t = &tk->v[i];
	if (!in_list(t, anaphora))
		return 0;
	if (is_word(t, "there"))
		return !(i > 0 && in_list(&tk->v[i - 1], be_words)) &&
		       !(i + 1 < tk->n && in_list(&tk->v[i + 1], be_words));
	/* "is it safe to have a massage", but not "... to use when pregnant" */
	if (is_word(t, "it"))
		for (size_t j = i + 1; j < tk->n && j <= i + 3; j++)
			if (is_word(&tk->v[j], "to"))
				return object_less(tk, j + 1);
	/* "one", "this", ... before a word of its own: a number or a determiner
	 * ("one massage a month", "this sunday") */
	if (is_word(t, "one") || is_word(t, "ones") || is_word(t, "this") || is_word(t, "that") ||
	    is_word(t, "these") || is_word(t, "those"))
		return i + 1 == tk->n || (tk->v[i + 1].flags & TOK_STOP) ||
		       (i > 0 && is_word(t - 1, "which")) || /* "which one hurts less?" */
		       in_list(&tk->v[i + 1], predicates);   /* "is that ok?" */
	return 1;
}

/* A content word of the message: not a function word nor a question word;
 * "how" counts before "much" (the matcher reads "how much is" as "price",
 * at its first word). */
static int
content_word(const struct tokens *tk, size_t i)
{
	const struct token *t = &tk->v[i];
	if (t->flags & TOK_STOP)
		return 0;
	if (!in_list(t, question_words))
		return 1;
	return is_word(t, "how") && i + 1 < tk->n && is_word(&tk->v[i + 1], "much");
}

struct cues {
	int back;       /* a word points back */
	int it;         /* ... at a thing ("it", "that", "they"), not a person ("he") */
	int opener;     /* "and ...", "what about ..." */
	int compare;    /* "is that the same as ...", "is it better than ..." */
	int sides;      /* ... setting two side by side ("same", "than", "vs") */
	int asks;       /* a question word: "why?", "how?", "tell me more" */
	int weak;       /* none of the above: only short and without an answer alone */
	int bare;       /* it asks about an aspect and names no subject (aspects[]) */
	int when;       /* a word of circumstance: "after a massage", "if pregnant" */
	size_t own;     /* content words of its own */
	size_t other;   /* ... that are not aspects (aspects[]) */
	int safe;       /* it asks whether something is safe or fine (safety_words[]) */
	size_t numbers; /* content words that are numbers: "and for 90?" */
};

static void
read_cues(const struct tokens *tk, struct cues *c)
{
	memset(c, 0, sizeof *c);
	size_t first = 0;
	while (first < tk->n && in_list(&tk->v[first], interjections))
		first++;
	if (first < tk->n) {
		const struct token *t = &tk->v[first];
		c->opener =
		    in_list(t, joiners) ||
		    (in_list(t, fragment_openers) && tk->n - first <= FRAGMENT_WORDS) ||
		    (first + 1 < tk->n && (is_word(t, "what") || is_word(t, "how")) &&
		     (is_word(&tk->v[first + 1], "about") || is_word(&tk->v[first + 1], "if")));
	}
	size_t aspect = 0, other = 0;
	for (size_t i = 0; i < tk->n; i++) {
		if (content_word(tk, i)) {
			if (in_list(&tk->v[i], aspects) || in_list(&tk->v[i], question_words))
				aspect++;
			else
				other++;
		}
		c->back |= points_back(tk, i);
		c->when |= in_list(&tk->v[i], fragment_openers);
		c->it |= points_back(tk, i) && !in_list(&tk->v[i], persons);
		c->sides |= in_list(&tk->v[i], side_by_side);
		c->compare |= c->sides || (in_list(&tk->v[i], comparing) &&
					   !(i > 0 && in_list(&tk->v[i - 1], feeling)));
		c->own += content_word(tk, i) && !in_list(&tk->v[i], question_words);
		c->asks |= in_list(&tk->v[i], question_words);
		c->safe |= in_list(&tk->v[i], safety_words);
		c->numbers += content_word(tk, i) && isdigit((unsigned char)tk->v[i].surf[0]);
	}
	c->other = other;
	c->bare = aspect > 0 && other == 0 && tk->n <= BARE_WORDS;
}

/* Read the message again with the topic's title after it (and the title
 * of the answer before, if any), as context of the weight given; mr gets
 * the reading, tk its tokens.  Returns the index of the topic's first
 * token. */
static size_t
reread(const struct knowledge *k, struct answer_ctx *c, const struct match_params *p, int topic,
       int before, double weight, const struct answer *a, struct match_result *mr,
       struct tokens *tk)
{
	struct strbuf b = STRBUF_INIT;
	size_t len = strlen(a->question), tlen;
	sb_add(&b, a->question, len);
	sb_adds(&b, "\n");
	sb_adds(&b, k->entries[topic].title.s);
	tlen = b.len;
	if (before >= 0) {
		sb_adds(&b, "\n");
		sb_adds(&b, k->entries[before].title.s);
	}
	text_tokenize(c->text, b.s, b.len, tk);
	struct match_topic t[2] = {{0, weight}, {0, weight * BEFORE_WEIGHT}};
	while (t[0].from < tk->n && tk->v[t[0].from].off < len)
		t[0].from++;
	for (t[1].from = t[0].from; t[1].from < tk->n && tk->v[t[1].from].off < tlen;)
		t[1].from++;
	match_query_topic(k->match, c->ms, tk, b.s, b.len, t, before >= 0 ? 2 : 1, p, mr);
	sb_free(&b);
	return t[0].from;
}

/* The content words among tokens [lo, hi) that intent's candidate in mr
 * matched: the message's own (before the topic's first token), or the
 * topic's. */
static size_t
matched(const struct match_result *mr, const struct tokens *tk, int intent, size_t lo, size_t hi)
{
	size_t n = 0;
	for (size_t i = 0; i < mr->ncand; i++)
		if (mr->cand[i].intent == intent)
			for (size_t t = 0; t < mr->cand[i].nterms; t++) {
				size_t w = mr->cand[i].terms[t];
				n += w >= lo && w < hi && content_word(tk, w);
			}
	return n;
}

static size_t
own_terms(const struct match_result *mr, const struct tokens *tk, int intent, size_t from)
{
	return matched(mr, tk, intent, 0, from);
}

static size_t
topic_terms(const struct match_result *mr, const struct tokens *tk, int intent, size_t from)
{
	return matched(mr, tk, intent, from, tk->n);
}

/* Does mr give an answer that is not small talk? */
static int
answered(const struct knowledge *k, const struct match_result *mr)
{
	for (size_t i = 0; i < mr->nanswers; i++)
		if (!k->entries[mr->answers[i]].small_talk)
			return 1;
	return 0;
}

/* Are answers a and b in the same folder of the knowledge (a family:
 * massage/, self-care/, treatments/, ...)? */
static int
same_family(const struct knowledge *k, int a, int b)
{
	const char *fa = k->entries[a].file, *fb = k->entries[b].file;
	const char *sa = strrchr(fa, '/'), *sb = strrchr(fb, '/');
	size_t la = sa ? (size_t)(sa - fa) : 0, lb = sb ? (size_t)(sb - fb) : 0;
	return la == lb && strncmp(fa, fb, la) == 0;
}

/* Take reading mr (tokens tk) into out, rebuilding the reply with the
 * message's own safety hits. */
static void
take(const struct knowledge *k, const struct match_result *mr, const struct tokens *tk,
     struct answer *out)
{
	size_t len = strlen(out->question);
	out->mr = *mr;
	out->intent_id = mr->intent >= 0 ? k->entries[mr->intent].id.s : NULL;
	for (size_t i = 0; i < out->mr.ncand; i++) {
		struct match_cand *cd = &out->mr.cand[i];
		size_t m = 0;
		for (size_t t = 0; t < cd->nterms; t++) {
			const struct token *w = &tk->v[cd->terms[t]];
			if (w->off >= len)
				continue; /* a word of the topic */
			out->term_off[i][m] = w->off;
			out->term_len[i][m] = w->len;
			cd->terms[m++] = cd->terms[t];
		}
		cd->nterms = m;
	}
}

/*
 * Is the reading with the topic (mr, its tokens tk, the topic's from
 * from) the answer to the message rather than its reading alone (a)?  Its
 * best candidate must be sure enough for a follow-up, sure enough to
 * overrule an answer the message had alone, and answer what was asked:
 * the topic itself only for a message that points back at it, or whose
 * words other answers know (not "the weather").  On 1, mr holds that
 * candidate as its one answer.
 */
static int
take_reading(const struct knowledge *k, const struct match_params *p, struct match_result *mr,
	     const struct tokens *tk, size_t from, int topic, int before, const struct cues *cu,
	     const struct answer *a)
{
	if (mr->ncand == 0)
		return 0;
	const struct match_cand *top = &mr->cand[0];
	int sides = 0; /* a third answer for two set side by side */
	/* "is it safe?" alone points at no answer: what "it" is decides
	 * between readings about as close (not a pregnancy answer because
	 * its text says "deep" when "it" is deep tissue) */
	if (cu->it && !cu->compare && a->mr.score < OFFER_MIN && top->intent != topic &&
	    top->intent != before)
		for (size_t i = 1; i < mr->ncand; i++)
			if ((mr->cand[i].intent == topic || mr->cand[i].intent == before) &&
			    mr->cand[i].raw >= top->raw - SUBJECT_CLOSE) {
				top = &mr->cand[i];
				break;
			}
	if (cu->compare) {
		/* a comparison is answered by what speaks of both: of the
		 * candidates that know words of the message and of the topic,
		 * the one that knows most of the message; when it sets two side
		 * by side, not one of the two (the topic, the message's own
		 * reading) if another can */
		int one = a->mr.ncand ? a->mr.cand[0].intent : -1;
		const struct match_cand *pick = NULL, *other = NULL;
		size_t best = 0, best_other = 0;
		for (size_t i = 0; i < mr->ncand; i++) {
			const struct match_cand *cd = &mr->cand[i];
			size_t own = own_terms(mr, tk, cd->intent, from);
			if (own == 0 || topic_terms(mr, tk, cd->intent, from) == 0)
				continue;
			if (own > best) {
				best = own;
				pick = cd;
			}
			if (cu->sides && cd->intent != topic && cd->intent != one &&
			    own > best_other) {
				best_other = own;
				other = cd;
			}
		}
		if (other)
			top = other;
		else if (pick)
			top = pick;
		sides = other != NULL;
	} else if (top == &mr->cand[0] && mr->ncand > 1 && a->mr.ncand && !cu->bare &&
		   mr->cand[1].intent == a->mr.cand[0].intent &&
		   mr->cand[1].raw >= top->raw - TIE) {
		/* as close as can be with the topic: the message's own reading
		 * decides */
		top = &mr->cand[1];
	}
	if (k->entries[top->intent].small_talk || top->intent == a->mr.intent)
		return 0;
	if (top->score < MIN_SCORE && top->raw < MIN_RAW)
		return 0;
	/* a bare question ("how much?", "is there a fee?") is about the topic
	 * when the topic reads first and speaks of what it asks, however sure
	 * the message alone is of some other answer */
	int about = cu->bare && (top->intent == topic || top->intent == before) &&
		    own_terms(mr, tk, top->intent, from) > 0;
	/* the message alone sees one of the two it compares: no rival then;
	 * a comparison that points back ("is that the same as deep tissue?")
	 * is about the earlier answer, however sure the message alone is */
	if (answered(k, &a->mr) && top->score <= a->mr.score && !sides &&
	    !(cu->compare && cu->back) && !about)
		return 0;
	/* a message that names a subject of its own, not a circumstance of
	 * the topic's ("what about after a massage?"), and has an answer
	 * alone is not about the topic itself ("and a foam roller?" after
	 * the massage gun answer) */
	if (answered(k, &a->mr) && !cu->back && !cu->bare && !cu->compare && !cu->when &&
	    (top->intent == topic || top->intent == before))
		return 0;
	/* on a weak cue, the topic must settle it: its own answer, or a clear
	 * lead (not "hours", as close to opening hours as to session length
	 * whatever came before) */
	if (cu->weak && top->intent != topic &&
	    (mr->ncand > 1 && top->raw - mr->cand[1].raw < WEAK_LEAD))
		return 0;
	if (top->intent == topic && cu->own > 0 && own_terms(mr, tk, topic, from) == 0) {
		/* the topic answers none of the message's words: only when the
		 * message points back at it, or other answers know those words
		 * (not "the weather"), and its title says something ("where we
		 * are and how to get here" is all function words) */
		int known = cu->back;
		for (size_t i = 1; i < mr->ncand; i++)
			known |= own_terms(mr, tk, mr->cand[i].intent, from) > 0;
		if (topic_terms(mr, tk, topic, from) == 0)
			return 0;
		/* ... but a bare question whose words no answer knows ("till
		 * when?", "til when?") asks about the topic as "when?" would */
		int as_when = cu->bare && !known;
		if (!known && !cu->bare)
			return 0;
		/* ... and, unless it points back, only as sure as an answer
		 * ("and my knee hurts too" after a neck answer is not about the
		 * neck), and never for a bare question the topic does not speak
		 * of ("how often?" after an answer that says nothing of it) */
		if (!cu->back && !as_when && (cu->bare || top->score < p->threshold))
			return 0;
		/* ... and a clinic fact is not what a bare question about a
		 * thing asks of: "will it hurt?" after what to wear asks about
		 * the massage; the best reading that knows its words */
		if (cu->bare && known && !k->entries[topic].disclaimer) {
			const struct match_cand *next = NULL;
			for (size_t i = 1; i < mr->ncand && !next; i++)
				if (own_terms(mr, tk, mr->cand[i].intent, from) > 0 &&
				    !k->entries[mr->cand[i].intent].small_talk)
					next = &mr->cand[i];
			if (next == NULL || (next->score < MIN_SCORE && next->raw < MIN_RAW))
				return 0;
			top = next;
		}
	}
	/* a reading that the topic does not settle (the next candidate as
	 * close as can be, nothing forcing either) is offered, not guessed */
	if (top == &mr->cand[0] && !about && !cu->compare && mr->ncand > 1 &&
	    !k->entries[mr->cand[1].intent].small_talk && top->raw - mr->cand[1].raw < UNSURE) {
		match_result_ask(mr, top->intent, mr->cand[1].intent, top->score);
		return 1;
	}
	match_result_answer(mr, top->intent, top->score);
	return 1;
}

/* ---- the context reader ---------------------------------------------------- */

static double
log_p(double p)
{
	return p > 1e-6 ? log(p) : log(1e-6);
}

static int
is_related(const struct knowledge *k, int a, int b)
{
	if (a < 0 || b < 0)
		return 0;
	const struct kb_list *r = &k->entries[a].related;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].s, k->entries[b].id.s) == 0)
			return 1;
	return 0;
}

void
followup_with_title(const struct knowledge *k, const char *question, int topic, struct strbuf *b)
{
	sb_adds(b, question);
	sb_adds(b, "\n");
	sb_adds(b, k->entries[topic].title.s);
}

size_t
followup_features(const struct knowledge *k, struct answer_ctx *c, const struct tokens *q,
		  const char *question, int topic, int before, const struct followup_alone *alone,
		  int rules, double (*f)[FOLLOWUP_FEATURES], unsigned char *cand)
{
	if (k->clf == NULL)
		return 0;
	size_t n = classify_nclasses(k->clf);
	double p1[CLASSIFY_CLASSES_MAX], p2[CLASSIFY_CLASSES_MAX];
	classify_probs(k->clf, q, p1);
	double top1 = 0;
	for (size_t j = 0; j < n; j++)
		top1 = p1[j] > top1 ? p1[j] : top1;
	if (topic >= 0) {
		struct strbuf b = STRBUF_INIT;
		struct tokens tk = {0};
		followup_with_title(k, question, topic, &b);
		text_tokenize(c->text, b.s, b.len, &tk);
		classify_probs(k->clf, &tk, p2);
		tokens_free(&tk);
		sb_free(&b);
	} else {
		memcpy(p2, p1, n * sizeof *p2);
	}
	size_t top2 = 0, oos = 0;
	for (size_t j = 1; j < n; j++)
		top2 = p2[j] > p2[top2] ? j : top2;
	while (oos + 1 < n && k->clf_entry[oos] != KNOWLEDGE_OOS)
		oos++;
	struct cues cu;
	read_cues(q, &cu);
	for (size_t j = 0; j < n; j++) {
		int e = k->clf_entry[j];
		int is_topic = e >= 0 && e == topic, oos_class = e == KNOWLEDGE_OOS;
		double *x = f[j];
		x[FX_P_ALONE] = log_p(p1[j]);
		x[FX_P_WITH_TOPIC] = log_p(p2[j]);
		x[FX_FIRST_WITH_TOPIC] = j == top2;
		x[FX_TOPIC] = is_topic;
		x[FX_BEFORE] = e >= 0 && e == before;
		x[FX_RELATED] = e >= 0 && !is_topic && is_related(k, topic, e);
		x[FX_RULES] = e >= 0 ? e == rules : oos_class && rules < 0;
		x[FX_READ_ALONE] = e >= 0 && e == alone->answer;
		x[FX_ALONE_SURE] = e >= 0 && e == alone->answer ? log_p(top1) : 0;
		x[FX_TOPIC_BACK] = is_topic && cu.back;
		x[FX_TOPIC_SHORT] = is_topic && q->n <= SHORT_WORDS;
		x[FX_TOPIC_OPENER] = is_topic && cu.opener;
		x[FX_TOPIC_BARE] = is_topic && cu.bare;
		x[FX_TOPIC_NO_OWN] = is_topic && cu.own == 0;
		x[FX_TOPIC_COMPARE] = is_topic && cu.compare;
		x[FX_TOPIC_ALONE_SURE] = is_topic ? log_p(top1) : 0;
		x[FX_TOPIC_UNKNOWN] = is_topic ? alone->unknown : 0;
		x[FX_TOPIC_FOREIGN] = is_topic && cu.own > 0 && p1[j] < FOREIGN;
		x[FX_TOPIC_P_OOS] = is_topic ? p1[oos] : 0;
		x[FX_OOS] = oos_class;
		x[FX_OOS_UNKNOWN] = oos_class ? alone->unknown : 0;
		x[FX_OOS_P] = oos_class ? p1[j] : 0;
		cand[j] = oos_class || x[FX_TOPIC] || x[FX_BEFORE] || x[FX_RULES] ||
			  x[FX_READ_ALONE] || x[FX_RELATED];
	}
	/* ... and the likeliest few alone and with the topic */
	for (int pass = 0; pass < 2; pass++) {
		const double *pp = pass ? p2 : p1;
		for (size_t j = 0; j < n; j++) {
			size_t above = 0;
			for (size_t i = 0; i < n && above < CONTEXT_LIKELY; i++)
				above += pp[i] > pp[j] || (pp[i] == pp[j] && i < j);
			cand[j] |= above < CONTEXT_LIKELY;
		}
	}
	return n;
}

double
followup_weigh(const double *w, const double *x)
{
	double s = 0;
	for (size_t i = 0; i < FOLLOWUP_FEATURES; i++)
		s += w[i] * x[i];
	return s;
}

int
followup_class_of(const struct knowledge *k, int e)
{
	for (size_t j = 0; j < classify_nclasses(k->clf); j++)
		if (k->clf_entry[j] == e)
			return (int)j;
	return -1;
}

int
followup_context_pick(const struct knowledge *k, const double *w, double margin,
		      double (*f)[FOLLOWUP_FEATURES], const unsigned char *cand, size_t n, int heur)
{
	int best = -1;
	for (size_t j = 0; j < n; j++)
		if (cand[j] && k->clf_entry[j] != -1 &&
		    (best < 0 || followup_weigh(w, f[j]) > followup_weigh(w, f[best])))
			best = (int)j;
	int h = followup_class_of(k, heur >= 0 ? heur : KNOWLEDGE_OOS);
	/* a message the rules did not answer and that alone reads surely out
	 * of scope ("and my knee hurts too") stays unanswered */
	int sure_oos = heur < 0 && h >= 0 && f[h][FX_OOS_P] >= OOS_SURE;
	if (best < 0 || h < 0 || best == h || sure_oos ||
	    followup_weigh(w, f[best]) - followup_weigh(w, f[h]) < margin)
		return heur >= 0 ? heur : KNOWLEDGE_OOS;
	return k->clf_entry[best];
}

int
followup_reader_leaves(const struct match_result *mr)
{
	return mr->ambiguous || (mr->nanswers == 1 && mr->ncand &&
				 mr->cand[0].intent == mr->intent && mr->cand[0].raw >= EXACT_RAW);
}

static void
rebuild_reply(const struct knowledge *k, struct answer *out)
{
	free(out->reply.text);
	reply_build(k, &out->mr, out->hits, out->nhits, &out->reply);
}

enum followup_how
followup_rules(const struct knowledge *k, struct answer_ctx *c, const struct match_params *p,
	       const struct convo_memory *mem, const char *text, size_t len, struct answer *out,
	       struct followup_alone *read_alone)
{
	answer_question(k, c, p, text, len, out);
	read_alone->answer = out->mr.nanswers == 1 ? out->mr.intent : -1;
	read_alone->unknown = out->mr.ncand ? out->mr.cand[0].unknown : 0;
	if (mem == NULL)
		return FOLLOWUP_ALONE;
	int choices[CONVO_CHOICES];
	size_t nch = 0;
	for (size_t i = 0; i < mem->nchoices && i < CONVO_CHOICES; i++) {
		int e = knowledge_find(k, mem->choices[i]);
		if (e >= 0)
			choices[nch++] = e;
	}
	int topic = mem->answer[0] ? knowledge_find(k, mem->answer) : -1;
	int before = mem->before[0] ? knowledge_find(k, mem->before) : -1;
	if (nch == 0 && topic < 0)
		return FOLLOWUP_ALONE;

	const struct tokens *q = &c->tk; /* the message's, from answer_question */
	struct tokens tk = {0};
	enum followup_how how = FOLLOWUP_ALONE;
	int named = 0; /* the topic is the item an ordinal named */
	if (nch) {
		int ch = ordinal_choice(q, nch);
		if (ch < 0)
			ch = title_choice(c->text, k, q, choices, nch);
		if (ch >= 0) {
			give_answer(k, choices[ch], out);
			rebuild_reply(k, out);
			how = FOLLOWUP_CHOICE;
			goto done;
		}
		/* not a choice, but after "did you mean X or Y?" what was asked
		 * was most likely X (or the one it names among words of its own:
		 * "the second one, is it painful?"): its topic, and the one
		 * before */
		int one = ordinal_one(q, nch);
		named = one >= 0;
		before = topic;
		topic = choices[named ? one : 0];
	}
	if (topic < 0)
		goto done;
	if (nch == 0) {
		/* "tell me more about the second one", "and the third?" after
		 * an answer that lists others (or after one of those) */
		int list[LIST_MAX];
		size_t nl = listed_answers(k, topic, list);
		if (nl == 0 && before >= 0)
			nl = listed_answers(k, before, list);
		int ch = nl ? ordinal_choice(q, nl) : -1;
		if (ch >= 0 && list[ch] >= 0) {
			give_answer(k, list[ch], out);
			rebuild_reply(k, out);
			how = FOLLOWUP_CHOICE;
			goto done;
		}
		/* "the second one, is it painful?": a question about that item,
		 * read with it as the topic */
		if (nl && (ch = ordinal_one(q, nl)) >= 0 && list[ch] >= 0) {
			before = topic;
			topic = list[ch];
			named = 1;
		}
	}
	struct cues cu;
	read_cues(q, &cu);
	if (nch == 0 && out->mr.ambiguous && out->mr.nchoices && out->mr.choices[0] == topic &&
	    q->n <= MAX_WORDS && (cu.back || cu.opener || cu.compare || cu.bare)) {
		/* alone it would ask "did you mean" the answer just given
		 * first, and it leans on what came before: that answer ("should
		 * I get one before my race?" after sports massage, "my mattress
		 * is rock hard, is that better?"); not when that answer is only
		 * second, nor for a message of its own ("how do I knot a tie"
		 * after trigger points) */
		give_answer(k, topic, out);
		rebuild_reply(k, out);
		how = FOLLOWUP_TOPIC;
		goto done;
	}
	/* a message leans on what came before when it points back, opens with
	 * "and ..." or "what about ...", has no words of its own, or is short
	 * and has no answer alone */
	cu.weak = !(cu.back || cu.opener || cu.own == 0 || cu.bare);
	if ((cu.weak && (q->n > SHORT_WORDS || out->mr.nanswers > 0)) ||
	    (out->mr.nanswers > 0 && !answered(k, &out->mr)))
		goto done; /* it stands alone, or is small talk */
	if (q->n > MAX_WORDS)
		goto done;
	struct match_result mr;
	enum aspect as = asked_aspect(q, !k->entries[topic].disclaimer);
	if (as != ASPECT_N && cu.other <= 1 && q->n <= BARE_WORDS) {
		/* a question about an aspect, naming no subject of its own
		 * (or one word): the topic when it speaks of that aspect and
		 * the message adds nothing; else, if the topic does not, the
		 * first reading with the topic whose text does */
		int pick = -1;
		if (speaks_of(c->text, k, topic, as)) {
			if (cu.other == 0 && as == ASPECT_COST)
				pick = topic;
		} else {
			reread(k, c, p, topic, before, TOPIC_WEIGHT, out, &mr, &tk);
			tokens_free(&tk);
			/* ... of something the knowledge knows ("how much is a
			 * coffee?" names a thing no answer knows) */
			int unknown = mr.ncand && mr.cand[0].unknown > 0;
			for (size_t i = 0; i < mr.ncand && pick < 0 && !unknown; i++)
				if (mr.cand[i].intent != topic &&
				    speaks_of(c->text, k, mr.cand[i].intent, as))
					pick = mr.cand[i].intent;
		}
		if (pick >= 0 && out->mr.nanswers == 1 && pick == out->mr.intent)
			goto done; /* its answer alone */
		if (pick >= 0) {
			give_answer(k, pick, out);
			rebuild_reply(k, out);
			how = FOLLOWUP_TOPIC;
			goto done;
		}
	}
	if (((cu.own == 0 && (cu.asks || cu.back)) ||
	     (cu.opener && cu.own == cu.numbers && !k->entries[topic].disclaimer)) &&
	    !answered(k, &out->mr)) {
		/* "why?", "tell me more", "what is it?": the topic again */
		give_answer(k, topic, out);
		rebuild_reply(k, out);
		how = FOLLOWUP_TOPIC;
		goto done;
	}
	int alone = out->mr.nanswers == 1 ? out->mr.intent : -1;
	if (cu.it && cu.safe && !cu.compare && alone >= 0 && alone != topic && alone != before &&
	    k->entries[topic].disclaimer && k->entries[alone].disclaimer &&
	    !same_family(k, topic, alone)) {
		/* whether "it" (the health topic) is safe or fine, with what
		 * the message adds alone reading as an answer of another
		 * family: a circumstance of the topic ("is it safe to use when
		 * pregnant?" after the massage gun is about the gun, with the
		 * pregnancy rule; after Swedish massage the pregnancy massage
		 * answer, of its family, is) */
		give_answer(k, topic, out);
		rebuild_reply(k, out);
		how = FOLLOWUP_TOPIC;
		goto done;
	}
	double w = cu.compare && cu.own > 0 ? 1.0 : TOPIC_WEIGHT;
	size_t from = reread(k, c, p, topic, before, w, out, &mr, &tk);
	if (!take_reading(k, p, &mr, &tk, from, topic, before, &cu, out))
		goto done;
	take(k, &mr, &tk, out);
	rebuild_reply(k, out);
	how = FOLLOWUP_TOPIC;
done:
	if (named && how == FOLLOWUP_ALONE) {
		/* "I like the sound of the first one": that one, whatever the
		 * message alone reads ("first" is no first visit here) */
		give_answer(k, topic, out);
		rebuild_reply(k, out);
		how = FOLLOWUP_CHOICE;
	}
	tokens_free(&tk);
	return how;
}

/* Is the reply led by an emergency or crisis rule (the answer is not given)? */
static int
emergency_led(const struct knowledge *k, const struct answer *a)
{
	for (size_t i = 0; i < a->reply.nshown; i++)
		if (k->rules[a->reply.shown[i]].level == LEVEL_EMERGENCY)
			return 1;
	return 0;
}

enum followup_how
followup_answer(const struct knowledge *k, struct answer_ctx *c, const struct match_params *p,
		const struct convo_memory *mem, const char *text, size_t len, struct answer *out)
{
	struct followup_alone alone;
	enum followup_how how = followup_rules(k, c, p, mem, text, len, out, &alone);
	double margin;
	const double *w = k->clf ? classify_context(k->clf, &margin) : NULL;
	int topic = mem && mem->answer[0] ? knowledge_find(k, mem->answer) : -1;
	if (w == NULL || topic < 0 || mem->nchoices || how == FOLLOWUP_CHOICE ||
	    out->mr.nanswers > 1 || followup_reader_leaves(&out->mr) || emergency_led(k, out))
		return how;
	int before = mem->before[0] ? knowledge_find(k, mem->before) : -1;
	int h = out->mr.nanswers == 1 ? out->mr.intent : -1;
	double(*f)[FOLLOWUP_FEATURES] = xmalloc(CLASSIFY_CLASSES_MAX * sizeof *f);
	unsigned char cand[CLASSIFY_CLASSES_MAX];
	size_t n =
	    followup_features(k, c, &c->tk, out->question, topic, before, &alone, h, f, cand);
	int pick = followup_context_pick(k, w, margin, f, cand, n, h);
	free(f);
	if (pick == (h >= 0 ? h : KNOWLEDGE_OOS))
		return how;
	if (pick == KNOWLEDGE_OOS) {
		match_result_none(&out->mr);
		out->intent_id = NULL;
	} else {
		give_answer(k, pick, out);
	}
	rebuild_reply(k, out);
	return FOLLOWUP_CONTEXT;
}

void
followup_remember(const struct knowledge *k, const struct answer *a, struct convo_memory *mem)
{
	memset(mem->choices, 0, sizeof mem->choices);
	mem->nchoices = 0;
	for (size_t i = 0; i < a->reply.noffered && i < CONVO_CHOICES; i++) {
		const char *id = k->entries[a->reply.offered[i]].id.s;
		if (strlen(id) < CONVO_ID_MAX)
			strcpy(mem->choices[mem->nchoices++], id);
	}
	if (emergency_led(k, a))
		return; /* the answer was not given */
	for (size_t i = a->mr.nanswers; i > 0; i--) {
		const struct kb_entry *e = &k->entries[a->mr.answers[i - 1]];
		if (e->small_talk)
			continue;
		if (strcmp(e->id.s, mem->answer) == 0)
			return;
		memcpy(mem->before, mem->answer, sizeof mem->before);
		if (strlen(e->id.s) < CONVO_ID_MAX)
			strcpy(mem->answer, e->id.s);
		else
			mem->answer[0] = '\0';
		return;
	}
}
