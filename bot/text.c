/*
 * text: normaliser and tokeniser (see text.h).  Pure; the only state is the
 * text_ctx passed in (stemmer + memo of stems).
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "hmap.h"
#include "utf8.h"
#include "wordset.h"
#include "xmem.h"

/* What the tokeniser needs of a word, found with one lookup. */
struct word_info {
	char stem[TEXT_WORD_MAX];
	uint8_t stem_len;
	uint8_t wf; /* WF_* flags */
	int16_t rw; /* index in rewrites[], or -1 */
};

struct text_ctx {
	struct sb_stemmer *stemmer;
	struct hmap words;   /* word -> WF_* flags, from the lists below */
	struct hmap rewrite; /* word -> index in rewrites[] */
	struct hmap cache;   /* surface -> index into memo */
	struct word_info *memo;
	size_t nmemo, capmemo;
	const struct wordset *lexicon; /* borrowed: known words, or NULL */
};

static void index_lists(struct text_ctx *t);

struct text_ctx *
text_ctx_new(void)
{
	struct sb_stemmer *s = sb_stemmer_new("english", NULL);
	if (s == NULL)
		return NULL;
	struct text_ctx *t = xcalloc(1, sizeof *t);
	t->stemmer = s;
	hmap_init(&t->cache);
	index_lists(t);
	return t;
}

void
text_ctx_free(struct text_ctx *t)
{
	if (t == NULL)
		return;
	sb_stemmer_delete(t->stemmer);
	hmap_free(&t->words);
	hmap_free(&t->rewrite);
	hmap_free(&t->cache);
	free(t->memo);
	free(t);
}

size_t
text_stems_remembered(const struct text_ctx *t)
{
	return hmap_count(&t->cache);
}

void
text_set_lexicon(struct text_ctx *t, const struct wordset *words)
{
	t->lexicon = words;
}

void
tokens_free(struct tokens *tk)
{
	free(tk->v);
	tk->v = NULL;
	tk->n = tk->cap = 0;
}

/* ---- word lists ------------------------------------------------------- */

static int
in_list(const char *const *list, const char *w, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && memcmp(*list, w, n) == 0)
			return 1;
	return 0;
}

/* Function words the matcher ignores.  Question words that separate
 * intents (how, why, when, which, where) and negators stay meaningful for
 * the safety rules, which see every token. */
static const char *const stopwords[] = {
    "a",          "an",        "the",       "i",         "me",       "my",       "mine",
    "myself",     "you",       "your",      "yours",     "yourself", "we",       "us",
    "our",        "ours",      "he",        "him",       "his",      "she",      "her",
    "hers",       "it",        "its",       "itself",    "they",     "them",     "their",
    "this",       "that",      "these",     "those",     "am",       "is",       "are",
    "was",        "were",      "be",        "been",      "being",    "have",     "has",
    "had",        "having",    "do",        "does",      "did",      "doing",    "done",
    "will",       "would",     "shall",     "should",    "can",      "could",    "may",
    "might",      "must",      "to",        "of",        "in",       "on",       "at",
    "by",         "for",       "with",      "about",     "as",       "into",     "from",
    "up",         "out",       "over",      "then",      "there",    "here",     "so",
    "than",       "too",       "very",      "just",      "also",     "really",   "and",
    "or",         "but",       "if",        "because",   "while",    "any",      "some",
    "all",        "each",      "such",      "own",       "same",     "other",    "what",
    "whats",      "who",       "whom",      "whose",     "not",      "no",       "nor",
    "never",      "only",      "s",         "t",         "please",   "pls",      "plz",
    "know",       "think",     "wonder",    "wondering", "wondered", "anyone",   "someone",
    "something",  "anything",  "thing",     "things",    "ok",       "okay",     "well",
    "yeah",       "yes",       "yep",       "lol",       "um",       "uh",       "umm",
    "oh",         "hmm",       "actually",  "maybe",     "perhaps",  "get",      "got",
    "getting",    "go",        "going",     "gonna",     "want",     "wanna",    "wanted",
    "need",       "needed",    "tell",      "guys",      "quick",    "question", "questions",
    "ask",        "asking",    "let",       "lot",       "lots",     "bit",      "kind",
    "sort",       "like",      "one",       "ones",      "way",      "even",     "still",
    "already",    "now",       "currently", "recently",  "lately",   "probably", "usually",
    "generally",  "basically", "honestly",  "literally", "say",      "said",     "mean",
    "does",       "dont",      "im",        "ive",       "id",       "ill",      "which",
    "whether",    "though",    "although",  "etc",       "via",      "per",      "bot",
    "massagebot", "u",         "ur",        "ya",        "yall",     "folks",    "team",
    NULL,
};

static const char *const negators[] = {
    "no",      "not",  "never", "nothing", "without", "nor",
    "neither", "none", "deny",  "denies",  "denied",  NULL,
};

/* Frequent English words outside the knowledge base's vocabulary: a typo
 * corrector must leave them alone ("car" is not a misspelt "care"). */
static const char *const common_words[] = {
    "car",       "cars",      "bus",     "train",    "plane",     "bike",      "boat",
    "road",      "house",     "home",    "room",     "door",      "window",    "bed",
    "table",     "chair",     "sofa",    "couch",    "desk",      "phone",     "computer",
    "laptop",    "screen",    "tv",      "game",     "games",     "team",      "score",
    "ball",      "play",      "music",   "song",     "poem",      "poems",     "story",
    "book",      "books",     "movie",   "film",     "show",      "news",      "weather",
    "rain",      "snow",      "sun",     "sunny",    "cold",      "hot",       "warm",
    "wind",      "food",      "eat",     "eating",   "cook",      "cooking",   "recipe",
    "cake",      "bread",     "pizza",   "coffee",   "tea",       "beer",      "wine",
    "drink",     "money",     "pay",     "price",    "cost",      "buy",       "sell",
    "shop",      "store",     "bank",    "job",      "work",      "working",   "boss",
    "school",    "class",     "teacher", "student",  "kid",       "kids",      "child",
    "children",  "baby",      "mom",     "mum",      "dad",       "wife",      "husband",
    "friend",    "friends",   "family",  "dog",      "cat",       "pet",       "bird",
    "fish",      "tree",      "garden",  "city",     "town",      "country",   "world",
    "trip",      "travel",    "holiday", "vacation", "time",      "day",       "days",
    "week",      "weeks",     "month",   "months",   "year",      "years",     "today",
    "tomorrow",  "yesterday", "night",   "morning",  "evening",   "hour",      "hours",
    "minute",    "minutes",   "good",    "bad",      "better",    "worse",     "best",
    "worst",     "big",       "small",   "new",      "old",       "long",      "short",
    "high",      "low",       "fast",    "slow",     "easy",      "hard",      "nice",
    "great",     "fine",      "happy",   "sad",      "mad",       "fun",       "funny",
    "joke",      "jokes",     "feel",    "feels",    "felt",      "feeling",   "look",
    "looks",     "see",       "saw",     "seen",     "hear",      "make",      "made",
    "take",      "took",      "give",    "gave",     "come",      "came",      "put",
    "set",       "run",       "ran",     "walk",     "walked",    "sit",       "sat",
    "stand",     "stood",     "lie",     "lay",      "sleep",     "slept",     "wake",
    "woke",      "read",      "write",   "wrote",    "word",      "words",     "name",
    "call",      "called",    "find",    "found",    "keep",      "kept",      "hold",
    "help",      "use",       "used",    "try",      "tried",     "start",     "stop",
    "end",       "open",      "close",   "move",     "turn",      "bring",     "send",
    "show",      "learn",     "change",  "live",     "lived",     "life",      "die",
    "died",      "death",     "kill",    "killed",   "hit",       "fell",      "fall",
    "cut",       "hurt",      "hurts",   "sick",     "ill",       "well",      "body",
    "head",      "face",      "eye",     "eyes",     "ear",       "ears",      "nose",
    "mouth",     "tooth",     "teeth",   "hand",     "hands",     "arm",       "arms",
    "leg",       "legs",      "foot",    "feet",     "knee",      "knees",     "hip",
    "hips",      "neck",      "back",    "chest",    "heart",     "skin",      "hair",
    "bone",      "bones",     "blood",   "care",     "cure",      "pain",      "ache",
    "aches",     "sore",      "man",     "woman",    "men",       "women",     "people",
    "person",    "part",      "parts",   "place",    "point",     "case",      "fact",
    "idea",      "issue",     "problem", "thank",    "thanks",    "hello",     "hey",
    "hi",        "bye",       "sorry",   "sure",     "right",     "left",      "next",
    "last",      "first",     "second",  "third",    "many",      "much",      "more",
    "most",      "less",      "least",   "few",      "every",     "another",   "both",
    "either",    "again",     "ever",    "often",    "always",    "sometimes", "soon",
    "later",     "early",     "late",    "ago",      "since",     "until",     "after",
    "before",    "during",    "between", "through",  "across",    "around",    "near",
    "far",       "away",      "inside",  "outside",  "under",     "above",     "below",
    "behind",    "front",     "top",     "bottom",   "side",      "sides",     "line",
    "lines",     "number",    "letter",  "code",     "data",      "file",      "files",
    "program",   "app",       "email",   "mail",     "post",      "message",   "chat",
    "online",    "internet",  "website", "google",   "math",      "maths",     "sum",
    "plus",      "minus",     "add",     "test",     "exam",      "stock",     "stocks",
    "market",    "tax",       "taxes",   "bill",     "bills",     "rent",      "law",
    "war",       "king",      "queen",   "god",      "church",    "party",     "vote",
    "election",  "president", "red",     "blue",     "green",     "black",     "white",
    "colour",    "color",     "dance",   "sing",     "draw",      "paint",     "art",
    "photo",     "picture",   "camera",  "key",      "keys",      "lock",      "box",
    "bag",       "cup",       "bottle",  "glass",    "plate",     "knife",     "shirt",
    "shoes",     "shoe",      "dress",   "hat",      "coat",      "wash",      "clean",
    "dirty",     "fix",       "broke",   "broken",   "repair",    "build",     "built",
    "plant",     "flower",    "sea",     "ocean",    "river",     "lake",      "beach",
    "mountain",  "hill",      "sky",     "star",     "moon",      "planet",    "space",
    "fire",      "ice",       "water",   "air",      "earth",     "gold",      "iron",
    "shower",    "bath",      "lunch",   "dinner",   "breakfast", "meal",      "snack",
    "diet",      "sugar",     "salt",    "meat",     "egg",       "eggs",      "milk",
    "fruit",     "apple",     "banana",  "rice",     "soup",      "sauce",     "oil",
    "gym",       "sport",     "sports",  "football", "soccer",    "tennis",    "golf",
    "swim",      "swimming",  "race",    "win",      "won",       "lose",      "lost",
    "loss",      "weight",    "fat",     "thin",     "tall",      "age",       "young",
    "born",      "birthday",  "wedding", "gift",     "card",      "cards",     "yet",
    "else",      "instead",   "whole",   "half",     "real",      "true",      "false",
    "wrong",     "free",      "full",    "empty",    "able",      "ready",     "busy",
    "tired",     "bored",     "angry",   "scared",   "worried",   "nervous",   "relax",
    "stress",    "weird",     "strange", "normal",   "usual",     "safe",      "cheap",
    "expensive", "near",      "hurry",   NULL,
};

enum { WF_STOP = 1, WF_COMMON = 2, WF_NEGATOR = 4 };

static void
index_list(struct hmap *h, const char *const *l, int flag)
{
	for (; *l; l++)
		*hmap_put(h, *l, strlen(*l), 0, NULL) |= flag;
}

static void index_rewrites(struct text_ctx *t);

/* Word lists as hash sets in the context: one lookup per token. */
static void
index_lists(struct text_ctx *t)
{
	hmap_init(&t->words);
	index_list(&t->words, stopwords, WF_STOP | WF_COMMON);
	index_list(&t->words, common_words, WF_COMMON);
	index_list(&t->words, negators, WF_NEGATOR);
	index_rewrites(t);
}

/* Whole-word rewrites for chat spellings and apostrophe-less contractions. */
static const struct {
	const char *from, *to;
} rewrites[] = {
    {"cant", "can not"},
    {"cannot", "can not"},
    {"wont", "will not"},
    {"dont", "do not"},
    {"doesnt", "does not"},
    {"didnt", "did not"},
    {"isnt", "is not"},
    {"arent", "are not"},
    {"wasnt", "was not"},
    {"werent", "were not"},
    {"havent", "have not"},
    {"hasnt", "has not"},
    {"hadnt", "had not"},
    {"couldnt", "could not"},
    {"shouldnt", "should not"},
    {"wouldnt", "would not"},
    {"mustnt", "must not"},
    {"aint", "is not"},
    {"im", "i am"},
    {"ive", "i have"},
    {"youre", "you are"},
    {"theyre", "they are"},
    {"youve", "you have"},
    {"theyve", "they have"},
    {"weve", "we have"},
    {"thats", "that is"},
    {"whats", "what is"},
    {"hows", "how is"},
    {"wheres", "where is"},
    {"theres", "there is"},
    {"gonna", "going to"},
    {"wanna", "want to"},
    {"gotta", "got to"},
    {"idk", "i do not know"},
    {"dunno", "do not know"},
    {"u", "you"},
    {"ur", "your"},
    {"r", "are"},
    {"thx", "thanks"},
    {"thanx", "thanks"},
    {"tysm", "thank you so much"},
    {"pls", "please"},
    {"plz", "please"},
    {"w", "with"},
    {"b4", "before"},
    {"coz", "because"},
    {"cuz", "because"},
    {"bc", "because"},
    {"abt", "about"},
    {"tho", "though"},
    {"rn", "right now"},
    {"thru", "through"},
    {"tmrw", "tomorrow"},
    {"tmr", "tomorrow"},
    {"tomoz", "tomorrow"},
    {"hubby", "husband"},
    {"bf", "boyfriend"},
    {"gf", "girlfriend"},
    {"ppl", "people"},
    {"sth", "something"},
    {"smth", "something"},
    {"ugh", "oh"},
    {"urgh", "oh"},
    {"ooh", "oh"},
};

static void
index_rewrites(struct text_ctx *t)
{
	hmap_init(&t->rewrite);
	for (size_t i = 0; i < sizeof rewrites / sizeof rewrites[0]; i++)
		*hmap_put(&t->rewrite, rewrites[i].from, strlen(rewrites[i].from), 0, NULL) =
		    (int)i;
}

static const char *const is_pronouns[] = {
    "it",  "that", "what", "there", "here",       "he",      "she",       "who", "where",
    "how", "when", "why",  "this",  "everything", "nothing", "something", NULL,
};

static const char *const abbreviations[] = {
    "dr", "mr", "mrs", "ms", "vs", "etc", "e", "g", "i", "approx", "st", "no", NULL,
};

/* ---- Unicode classification ------------------------------------------- */

/*
 * Non-ASCII code points go through utf8proc: compatibility decomposition
 * (fullwidth letters, ligatures, superscripts), case folding, marks
 * stripped (accents), default-ignorable code points dropped (zero-width
 * space and joiners, soft hyphen, variation selectors, tags).  Only what
 * Unicode does not decompose is folded by hand: Latin letters with a stroke
 * or ligatures without a decomposition, and (per word, see fold_lookalikes)
 * Cyrillic and Greek letters that look like Latin ones.
 */
#define NFK_OPTS                                                                                   \
	(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |           \
	 UTF8PROC_IGNORE)

static const struct {
	uint32_t cp;
	const char *to;
} latin_extra[] = {
    {0x00F8, "o"}, {0x00E6, "ae"}, {0x00FE, "th"}, {0x00F0, "d"}, {0x0111, "d"},  {0x0127, "h"},
    {0x0131, "i"}, {0x0138, "k"},  {0x0142, "l"},  {0x014B, "n"}, {0x0153, "oe"}, {0x0167, "t"},
    {0x0180, "b"}, {0x0183, "b"},  {0x01E5, "g"},  {0x0268, "i"}, {0x0250, "a"},  {0x0251, "a"},
    {0x0261, "g"}, {0x0269, "i"},  {0x026A, "i"},  {0x0280, "r"}, {0x028F, "y"},  {0x1D00, "a"},
    {0x1D04, "c"}, {0x1D05, "d"},  {0x1D07, "e"},  {0x1D0A, "j"}, {0x1D0B, "k"},  {0x1D0D, "m"},
    {0x1D0F, "o"}, {0x1D18, "p"},  {0x1D1B, "t"},  {0x1D1C, "u"}, {0x1D20, "v"},  {0x1D21, "w"},
    {0x1D22, "z"}, {0x0299, "b"},  {0x029C, "h"},  {0x029F, "l"}, {0x0274, "n"},  {0x0262, "g"},
};

/* Cyrillic and Greek letters (after case folding) that look like Latin
 * ones, as typed to dodge a word filter: "ѕuісіdе". */
static const struct {
	uint32_t cp;
	char to;
} lookalike[] = {
    {0x0430, 'a'}, {0x0432, 'b'}, {0x0435, 'e'}, {0x0451, 'e'}, {0x0433, 'r'}, {0x0456, 'i'},
    {0x0457, 'i'}, {0x0458, 'j'}, {0x043A, 'k'}, {0x043C, 'm'}, {0x043D, 'h'}, {0x043E, 'o'},
    {0x043F, 'n'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0442, 't'}, {0x0443, 'y'}, {0x0445, 'x'},
    {0x0455, 's'}, {0x0501, 'd'}, {0x051B, 'q'}, {0x051D, 'w'}, {0x04BB, 'h'}, {0x0491, 'r'},
    {0x04CF, 'l'}, {0x044C, 'b'}, {0x03B1, 'a'}, {0x03B2, 'b'}, {0x03B5, 'e'}, {0x03B7, 'n'},
    {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'},
    {0x03C5, 'u'}, {0x03C7, 'x'},

};

static char
lookalike_of(uint32_t cp)
{
	for (size_t i = 0; i < sizeof lookalike / sizeof lookalike[0]; i++)
		if (lookalike[i].cp == cp)
			return lookalike[i].to;
	return 0;
}

enum cls { C_SPACE, C_PUNCT, C_SENT, C_APOS, C_WORD, C_SKIP };

#define FOLD_MAX 32 /* bytes of one folded code point */

static enum cls classify(uint32_t cp, char *out, size_t *n);

/* A code point past ASCII: fold it through utf8proc (see above). */
static enum cls
classify_unicode(uint32_t cp, char *out, size_t *n)
{
	if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC)
		return C_APOS;
	if (cp == 0x2026 || cp == 0x3002 || cp == 0x203C || (cp >= 0x2047 && cp <= 0x2049) ||
	    cp == 0x061F || cp == 0x2028 || cp == 0x2029 || cp == 0x0085)
		return C_SENT;
	for (size_t i = 0; i < sizeof latin_extra / sizeof latin_extra[0]; i++)
		if (latin_extra[i].cp == cp ||
		    utf8proc_tolower((utf8proc_int32_t)cp) == (utf8proc_int32_t)latin_extra[i].cp) {
			*n = strlen(latin_extra[i].to);
			memcpy(out, latin_extra[i].to, *n);
			return C_WORD;
		}
	utf8proc_int32_t d[16];
	int bound = 0;
	utf8proc_ssize_t nd =
	    utf8proc_decompose_char((utf8proc_int32_t)cp, d, 16, NFK_OPTS, &bound);
	if (nd == 0)
		return C_SKIP; /* ignorable, or a mark on its own */
	if (nd < 0 || nd > 16)
		return C_PUNCT;
	for (utf8proc_ssize_t i = 0; i < nd; i++) {
		if (d[i] < 0x80) { /* fullwidth forms, NBSP, sharp s, ... */
			char a[FOLD_MAX];
			size_t an = 0;
			enum cls ac = classify((uint32_t)d[i], a, &an);
			if (ac != C_WORD)
				return *n ? C_WORD : ac;
			if (*n + an <= FOLD_MAX)
				memcpy(out + *n, a, an), *n += an;
			continue;
		}
		utf8proc_category_t c = utf8proc_category(d[i]);
		if (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME)
			continue;
		if (c == UTF8PROC_CATEGORY_CF)
			continue;
		if (c >= UTF8PROC_CATEGORY_ZS && c <= UTF8PROC_CATEGORY_ZP)
			return *n ? C_WORD : C_SPACE;
		if (c > UTF8PROC_CATEGORY_NO) /* punctuation, symbols, emoji */
			return *n ? C_WORD : C_PUNCT;
		if (*n + 4 > FOLD_MAX)
			break;
		*n += utf8_encode((uint32_t)d[i], out + *n);
	}
	return *n ? C_WORD : C_SKIP;
}

/* ASCII letters and digits as words hold them (folded), else 0. */
static const char ascii_word[128] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd',
    ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k',
    ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r',
    ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y',
    ['z'] = 'z', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
    ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm',
    ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't',
    ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
};

/*
 * Classify cp and fold it: for C_WORD, writes the folded form (UTF-8, at
 * most FOLD_MAX bytes) to out and its length to *n.
 */
static enum cls
classify(uint32_t cp, char *out, size_t *n)
{
	*n = 0;
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
			out[0] = (char)cp;
			*n = 1;
			return C_WORD;
		}
		if (cp >= 'A' && cp <= 'Z') {
			out[0] = (char)(cp + 32);
			*n = 1;
			return C_WORD;
		}
		if (cp == '\'' || cp == '`')
			return C_APOS;
		if (cp == '.' || cp == '!' || cp == '?' || cp == ';' || cp == '\n')
			return C_SENT;
		if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\v' || cp == '\f')
			return C_SPACE;
		if (cp < 0x20 || cp == 0x7F)
			return C_SPACE;
		return C_PUNCT;
	}
	if (cp >= 0x80 && cp < 0xA0)
		return C_SPACE; /* C1 controls */
	return classify_unicode(cp, out, n);
}

/*
 * Fold the look-alike letters of a word that mixes them with Latin letters,
 * or that is made of look-alikes only (a real Russian or Greek word nearly
 * always has a letter with no Latin twin).  Works in place; returns the new
 * length.
 */
static size_t
fold_lookalikes(char *w, size_t n)
{
	int latin = 0, other = 0, twins = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int bad;
		i += utf8_decode(w + i, n - i, &cp, &bad);
		if (cp < 0x80)
			latin += (cp >= 'a' && cp <= 'z');
		else if (lookalike_of(cp))
			twins++;
		else
			other++;
	}
	if (twins == 0 || (other > 0 && latin == 0) || (latin == 0 && twins < 2))
		return n;
	if (other > 0 && latin < twins)
		return n;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int bad;
		size_t step = utf8_decode(w + i, n - i, &cp, &bad);
		char c = cp < 0x80 ? 0 : lookalike_of(cp);
		if (c)
			w[o++] = c;
		else
			memmove(w + o, w + i, step), o += step;
		i += step;
	}
	return o;
}

/* ---- entities ----------------------------------------------------------- */

/* An HTML entity at s ("&amp;", "&#39;", "&#x200b;"): its code point and
 * length, or 0 if s does not start one. */
static size_t
html_entity(const char *s, size_t len, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} names[] = {{"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
		     {"apos", '\''},    {"nbsp", 0xA0},    {"rsquo", 0x2019},  {"lsquo", 0x2018},
		     {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"hellip", 0x2026}, {"ndash", 0x2013},
		     {"mdash", 0x2014}, {"shy", 0xAD},     {"zwj", 0x200D},    {"zwnj", 0x200C},
		     {"zwsp", 0x200B},  {"nbhy", 0x2011},  {"period", '.'},    {"excl", '!'},
		     {"quest", '?'},    {"comma", ','},    {"colon", ':'},     {"semi", ';'}};
	size_t e = 1;
	while (e < len && e < 12 && s[e] != ';')
		e++;
	if (e >= len || s[e] != ';' || e < 2)
		return 0;
	const char *b = s + 1;
	size_t bl = e - 1;
	if (b[0] == '#') {
		uint32_t v = 0;
		int hex = bl > 1 && (b[1] == 'x' || b[1] == 'X');
		size_t i = hex ? 2 : 1;
		if (i >= bl)
			return 0;
		for (; i < bl; i++) {
			char c = b[i];
			int d = c >= '0' && c <= '9'          ? c - '0'
				: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
				: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
							      : -1;
			if (d < 0 || v > 0x10FFFF)
				return 0;
			v = v * (hex ? 16 : 10) + (uint32_t)d;
		}
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		*cp = v;
		return e + 1;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == bl && memcmp(names[i].name, b, bl) == 0) {
			*cp = names[i].cp;
			return e + 1;
		}
	return 0;
}

/* ---- tokeniser -------------------------------------------------------- */

struct tk_state {
	struct text_ctx *t;
	struct tokens *out;
	uint16_t sent;
};

/* The word w's stem, flags and rewrite, from the memo (valid until the
 * next call). */
static const struct word_info *
word_info(struct text_ctx *t, const char *w, size_t n, uint64_t h)
{
	int v = hmap_get_h(&t->cache, w, n, h);
	if (v >= 0)
		return &t->memo[v];
	if (hmap_count(&t->cache) >= TEXT_STEM_MEMO) {
		hmap_clear(&t->cache);
		t->nmemo = 0;
	}
	const sb_symbol *r = sb_stemmer_stem(t->stemmer, (const sb_symbol *)w, (int)n);
	size_t rl = r ? (size_t)sb_stemmer_length(t->stemmer) : 0;
	if (r == NULL) {
		r = (const sb_symbol *)w;
		rl = n;
	}
	if (rl >= TEXT_WORD_MAX)
		rl = TEXT_WORD_MAX - 1;
	t->memo = xgrow(t->memo, &t->capmemo, t->nmemo + 1, sizeof *t->memo);
	struct word_info *wi = &t->memo[t->nmemo];
	memcpy(wi->stem, r, rl);
	wi->stem[rl] = '\0';
	wi->stem_len = (uint8_t)rl;
	int wf = hmap_get(&t->words, w, n);
	wi->wf = (uint8_t)(wf > 0 ? wf : 0);
	wi->rw = (int16_t)hmap_get(&t->rewrite, w, n);
	v = (int)t->nmemo++;
	*hmap_put_h(&t->cache, w, n, h, v, NULL) = v;
	return wi;
}

size_t
text_stem(struct text_ctx *t, const char *w, size_t n, char out[TEXT_WORD_MAX])
{
	const struct word_info *wi = word_info(t, w, n, hmap_hash(w, n));
	memcpy(out, wi->stem, (size_t)wi->stem_len + 1);
	return wi->stem_len;
}

/* Fill k with the word w (folded) from source bytes [off, off+len); wi:
 * word_info of w when the caller has it (w shorter than TEXT_WORD_MAX; h:
 * w's hash), else NULL. */
static void
fill_token(struct tk_state *st, struct token *k, const char *w, size_t n, uint32_t off,
	   uint32_t len, const struct word_info *wi, uint64_t h)
{
	memset(k, 0, sizeof *k);
	n = utf8_cut(w, n, TEXT_WORD_MAX - 1);
	if (wi == NULL) {
		h = hmap_hash(w, n);
		wi = word_info(st->t, w, n, h);
	}
	k->surf_hash = h;
	memcpy(k->surf, w, n);
	k->surf[n] = '\0';
	k->surf_len = (uint8_t)n;
	k->sent = st->sent;
	k->off = off;
	k->len = len;
	int digit = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i] >= '0' && w[i] <= '9')
			digit = 1;
	if (digit) {
		k->flags |= TOK_NUMBER;
		memcpy(k->stem, k->surf, n + 1);
		k->stem_len = (uint8_t)n;
	} else {
		memcpy(k->stem, wi->stem, (size_t)wi->stem_len + 1);
		k->stem_len = wi->stem_len;
	}
	int wf = wi->wf;
	if (wf > 0) {
		if (wf & WF_STOP)
			k->flags |= TOK_STOP;
		if (wf & WF_COMMON)
			k->flags |= TOK_COMMON;
		if (wf & WF_NEGATOR)
			k->flags |= TOK_NEGATOR;
	}
}

static void
emit_info(struct tk_state *st, const char *w, size_t n, uint32_t off, uint32_t len,
	  const struct word_info *wi, uint64_t h)
{
	struct tokens *o = st->out;
	if (n == 0 || o->n >= TEXT_MAX_TOKENS)
		return;
	o->v = xgrow(o->v, &o->cap, o->n + 1, sizeof *o->v);
	fill_token(st, &o->v[o->n++], w, n, off, len, wi, h);
}

static void
emit(struct tk_state *st, const char *w, size_t n, uint32_t off, uint32_t len)
{
	emit_info(st, w, n, off, len, NULL, 0);
}

static int
known(const struct text_ctx *t, const char *w, size_t n)
{
	return t->lexicon && n < TEXT_WORD_MAX && wordset_has(t->lexicon, w, n);
}

#define MAX_CHOICES 4 /* spots with two readings tried per word: 16 spellings */

/* w with each run of 3+ equal letters cut to two letters, or to one where
 * the run's bit in mask is set (first MAX_CHOICES runs).  *nruns: runs. */
static size_t
spell_runs(const char *w, size_t n, unsigned mask, char *out, int *nruns)
{
	size_t o = 0;
	int nr = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && w[j] == w[i])
			j++;
		size_t keep = j - i;
		if (keep >= 3 && w[i] >= 'a' && w[i] <= 'z') {
			keep = nr < MAX_CHOICES && (mask >> nr & 1) ? 1 : 2;
			nr++;
		}
		memset(out + o, w[i], keep);
		o += keep;
		i = j;
	}
	*nruns = nr;
	return o;
}

/* A last letter typed twice that spells no word ("heyy", "thank youu"):
 * once, when that spells a known word; not in a word of three letters
 * ("loo", "poo" are words the lexicon may lack), and only a vowel, y or s
 * (a doubled consonant ends words of other languages that the English
 * lists lack and the safety rules know: Hindi "sunn", numb, is no "sun"). */
static size_t
drop_doubled_end(const struct text_ctx *t, const char *w, size_t n)
{
	if (n >= 4 && w[n - 1] == w[n - 2] && memchr("aeiouys", w[n - 1], 7) && !known(t, w, n) &&
	    known(t, w, n - 1))
		return n - 1;
	return n;
}

/*
 * A letter typed three or more times ("suiiicidal", "pleeease"): each run
 * becomes two letters or one, whichever first spells a known word; two when
 * none does; a last letter typed twice, see drop_doubled_end.  In place;
 * returns the new length.
 */
static size_t
collapse_repeats(const struct text_ctx *t, char *w, size_t n)
{
	size_t r = 0; /* the common case first: no letter three times */
	while (r + 2 < n && !(w[r] == w[r + 1] && w[r] == w[r + 2] && w[r] >= 'a' && w[r] <= 'z'))
		r++;
	if (r + 2 >= n)
		return drop_doubled_end(t, w, n);
	char b[TEXT_WORD_MAX * 4];
	int nr;
	size_t o = spell_runs(w, n, 0, b, &nr);
	if (nr == 0)
		return n;
	unsigned tries = 1u << (nr < MAX_CHOICES ? nr : MAX_CHOICES);
	for (unsigned mask = 1; mask < tries && !known(t, b, o); mask++)
		o = spell_runs(w, n, mask, b, &nr);
	if (!known(t, b, o))
		o = spell_runs(w, n, 0, b, &nr);
	memcpy(w, b, o);
	return o;
}

/* Symbols typed for letters inside a word ("p@in", "su!cide", "$uicide"). */
static int
letter_symbol(uint32_t cp)
{
	return cp == '@' || cp == '!' || cp == '$' || cp == '|';
}

/*
 * Digits and symbols inside a word read as the letters they stand for,
 * when that spells a known word: "su1c1de", "k1ll", "p@in", "su!cidal",
 * "$uicide" ('1' and '|' as i or l).  A word that starts with a digit
 * ("5am", "10mg") is left alone.  A two-letter word reads only a '0' as o
 * ("t0", "n0"): "l4", "s1", "c5" name vertebrae.  Returns the new length
 * (in place), or 0 when the word does not read as one.
 */
/* Han ideographs and Japanese kana (scripts written without spaces) */
static int
ideograph(uint32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0x20000 && cp <= 0x2fa1f);
}

static size_t
read_digits(const struct text_ctx *t, char *w, size_t n)
{
	if (t->lexicon == NULL || n < 2 || n >= TEXT_WORD_MAX || (w[0] >= '0' && w[0] <= '9') ||
	    (n == 2 && w[1] != '0'))
		return 0;
	static const char map[] = "o\0\0eas\0t"; /* '0'..'7'; '1' is i or l */
	char b[TEXT_WORD_MAX];
	size_t amb[MAX_CHOICES];
	int na = 0, subs = 0;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c >= 'a' && c <= 'z') {
			b[i] = c;
			continue;
		}
		subs++;
		if (c == '@') {
			b[i] = 'a';
		} else if (c == '!') {
			b[i] = 'i';
		} else if (c == '$') {
			b[i] = 's';
		} else if (c == '1' || c == '|') {
			if (na == MAX_CHOICES)
				return 0;
			amb[na++] = i;
			b[i] = 'i';
		} else if (c >= '0' && c <= '7' && map[c - '0']) {
			b[i] = map[c - '0'];
		} else {
			return 0;
		}
	}
	if (subs == 0 || (size_t)subs * 2 > n)
		return 0;
	for (unsigned mask = 0; mask < 1u << na; mask++) {
		for (int k = 0; k < na; k++)
			b[amb[k]] = mask >> k & 1 ? 'l' : 'i';
		if (known(t, b, n)) {
			memcpy(w, b, n);
			return n;
		}
	}
	return 0;
}

/* Emit a space-separated phrase, each word sharing one source span. */
static void
emit_phrase(struct tk_state *st, const char *p, uint32_t off, uint32_t len)
{
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);
		emit(st, p, n, off, len);
		p += n;
		while (*p == ' ')
			p++;
	}
}

static void
emit_word(struct tk_state *st, char *w, size_t n, uint32_t off, uint32_t len)
{
	int odd = 0, sym = 0; /* digits or symbols; symbols */
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)w[i] >= 0x80) {
			n = fold_lookalikes(w, n);
			break;
		}
	}
	n = collapse_repeats(st->t, w, n);
	for (size_t i = 0; i < n; i++) {
		sym |= letter_symbol((unsigned char)w[i]);
		odd |= sym || (w[i] >= '0' && w[i] <= '9');
	}
	if (odd) {
		size_t r = read_digits(st->t, w, n);
		if (r) {
			n = r;
		} else if (sym) {
			/* not a word: "me@home" is two words, "fine!thanks" two
			 * sentences */
			for (size_t i = 0; i < n;) {
				size_t j = i;
				while (j < n && !letter_symbol((unsigned char)w[j]))
					j++;
				if (j > i)
					emit_word(st, w + i, j - i, off, len);
				if (j < n && w[j] == '!' && st->out->n > 0) {
					st->out->v[st->out->n - 1].flags |= TOK_PUNCT_AFTER;
					st->sent++;
				}
				i = j + 1;
			}
			return;
		}
	}
	/* apostrophe contractions: the word holds '\'' where one was typed */
	char *ap = memchr(w, '\'', n);
	if (ap != NULL) {
		size_t bl = (size_t)(ap - w);
		const char *suf = ap + 1;
		size_t sl = n - bl - 1;
		if (sl == 1 && suf[0] == 't' && bl >= 2 && w[bl - 1] == 'n') {
			size_t rl = bl - 1;
			const char *base = w;
			if (rl == 2 && memcmp(w, "ca", 2) == 0)
				base = "can", rl = 3;
			else if (rl == 2 && memcmp(w, "wo", 2) == 0)
				base = "will", rl = 4;
			else if (rl == 3 && memcmp(w, "sha", 3) == 0)
				base = "shall", rl = 5;
			else if (rl == 2 && memcmp(w, "ai", 2) == 0)
				base = "is", rl = 2;
			emit(st, base, rl, off, len);
			emit(st, "not", 3, off, len);
			return;
		}
		static const struct {
			const char *suf, *word;
		} sufs[] = {
		    {"m", "am"}, {"re", "are"}, {"ve", "have"}, {"ll", "will"}, {"d", "would"}};
		for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
			if (strlen(sufs[i].suf) == sl && memcmp(suf, sufs[i].suf, sl) == 0) {
				emit(st, w, bl, off, len);
				emit(st, sufs[i].word, strlen(sufs[i].word), off, len);
				return;
			}
		}
		if (sl == 1 && suf[0] == 's') {
			emit(st, w, bl, off, len);
			if (bl == 3 && memcmp(w, "let", 3) == 0)
				emit(st, "us", 2, off, len);
			else if (in_list(is_pronouns, w, bl))
				emit(st, "is", 2, off, len);
			return;
		}
		/* o'clock, o'brien: drop the apostrophe(s) */
		size_t j = 0;
		for (size_t i = 0; i < n; i++)
			if (w[i] != '\'')
				w[j++] = w[i];
		n = j;
	}
	if (n == 0)
		return;
	/* one lookup: the rewrite, and for a word that fits a token its stem
	 * and flags */
	uint64_t h = hmap_hash(w, n);
	const struct word_info *wi = word_info(st->t, w, n, h);
	if (wi->rw >= 0) {
		emit_phrase(st, rewrites[wi->rw].to, off, len);
		return;
	}
	emit_info(st, w, n, off, len, n < TEXT_WORD_MAX ? wi : NULL, h);
}

/* Is k one ASCII letter typed on its own? */
static int
lone_letter(const char *s, const struct token *k)
{
	return k->len == 1 && ((s[k->off] | 32) >= 'a' && (s[k->off] | 32) <= 'z');
}

/* Only separators a speller uses ("s u i", "s.u.i", "s-u-i") between a and
 * b, at most two of them. */
static int
spelt_gap(const char *s, const struct token *a, const struct token *b)
{
	uint32_t from = a->off + a->len;
	if (b->off <= from || b->off - from > 2)
		return 0;
	for (uint32_t i = from; i < b->off; i++)
		if (!strchr(" .-_*,/|", s[i]))
			return 0;
	return 1;
}

/*
 * A word spelt out in single letters ("s u i c i d e", "k.i.l.l") becomes
 * the word, when it is a known word of three letters or more.  Dots between
 * the letters were no sentence ends: later sentence numbers move back.
 */
static void
join_spelt(struct tk_state *st, const char *s)
{
	struct tokens *o = st->out;
	size_t w = 0;
	uint16_t shift = 0;
	for (size_t i = 0; i < o->n;) {
		char buf[TEXT_WORD_MAX];
		size_t j = i, bn = 0;
		while (j < o->n && bn < TEXT_WORD_MAX - 1 && lone_letter(s, &o->v[j]) &&
		       (j == i || spelt_gap(s, &o->v[j - 1], &o->v[j])))
			buf[bn++] = (char)(s[o->v[j++].off] | 32);
		if (j - i >= 3 && known(st->t, buf, bn)) {
			struct token k;
			st->sent = (uint16_t)(o->v[i].sent - shift);
			fill_token(st, &k, buf, bn, o->v[i].off, o->v[j - 1].off + 1 - o->v[i].off,
				   NULL, 0);
			k.flags |= o->v[j - 1].flags & TOK_PUNCT_AFTER;
			shift = (uint16_t)(shift + o->v[j - 1].sent - o->v[i].sent);
			o->v[w++] = k;
			i = j;
			continue;
		}
		o->v[i].sent = (uint16_t)(o->v[i].sent - shift);
		o->v[w++] = o->v[i++];
	}
	o->n = w;
}

/*
 * A word cut in two by one hyphen, underscore or star ("sui-cidal",
 * "num_b") becomes the word, when the two halves joined are a known word
 * and one of them is not ("mid-back", "self-harm" stay two words); a star
 * may also stand for a vowel ("su*cide", "k*ll").  Cut by one space, the
 * whole must have 6 letters or more ("sui cidal"; "pain killer" stays two).
 */
static void
join_split(struct tk_state *st, const char *s)
{
	struct tokens *o = st->out;
	size_t w = 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct token *a = &o->v[i], *b = i + 1 < o->n ? &o->v[i + 1] : NULL;
		uint32_t end = a->off + a->len;
		/* the cheap tests first, then the joined word (seldom a word:
		 * one lookup for most pairs), then its halves */
		if (b && b->off == end + 1 && strchr("-_* ", s[end]) &&
		    a->surf_len + b->surf_len < TEXT_WORD_MAX && a->surf_len == a->len &&
		    b->surf_len == b->len && !(a->flags & TOK_NUMBER) && !(b->flags & TOK_NUMBER) &&
		    (s[end] != ' ' || a->surf_len + b->surf_len >= 6)) {
			/* joined as typed; a star may also stand for a vowel */
			static const char fill[] = "\0aeiou";
			char buf[TEXT_WORD_MAX + 1];
			size_t bn = 0;
			int ok = 0;
			for (size_t f = 0; !ok && f < (s[end] == '*' ? sizeof fill - 1 : 1); f++) {
				size_t fl = f > 0;
				bn = (size_t)a->surf_len + fl + b->surf_len;
				memcpy(buf, a->surf, a->surf_len);
				buf[a->surf_len] = fill[f];
				memcpy(buf + a->surf_len + fl, b->surf, b->surf_len);
				ok = bn < TEXT_WORD_MAX && known(st->t, buf, bn);
			}
			if (ok && (!known(st->t, a->surf, a->surf_len) ||
				   !known(st->t, b->surf, b->surf_len))) {
				struct token k;
				st->sent = a->sent;
				fill_token(st, &k, buf, bn, a->off, b->off + b->len - a->off, NULL,
					   0);
				k.flags |= b->flags & TOK_PUNCT_AFTER;
				o->v[w++] = k;
				i++;
				continue;
			}
		}
		o->v[w++] = o->v[i];
	}
	o->n = w;
}

/*
 * A trailing-off "..." (or U+2026) followed by a lowercase word does not end
 * the sentence ("i don't want to be here... at the office on a saturday"):
 * it is a pause, read like a comma.  i is at a '.' or at U+2026.
 */
static int
ellipsis_pause(const char *s, size_t len, size_t i)
{
	size_t a = i, b = i, dots = 0;
	while (a > 0 && s[a - 1] == '.')
		a--;
	for (b = a; b < len && s[b] == '.'; b++)
		dots++;
	if (i + 2 < len && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] == 0xa6) {
		dots = 3;
		b = i + 3;
	}
	if (dots < 2)
		return 0;
	while (b < len && s[b] == ' ')
		b++;
	return b < len && s[b] >= 'a' && s[b] <= 'z';
}

void
text_tokenize(struct text_ctx *t, const char *s, size_t len, struct tokens *out)
{
	struct tk_state st = {t, out, 0};
	char w[4 * TEXT_WORD_MAX];
	size_t wn = 0;
	int in_word = 0, pending_apos = 0, trunc = 0;
	size_t apos_at = 0; /* where the pending apostrophe(s) began */
	uint32_t wstart = 0;
	size_t i = 0, fn;
	int sent_used = 0;

	out->n = 0;
	while (i <= len) {
		/* the common case first: an ASCII letter or digit inside or at
		 * the start of a word (what the general path below does) */
		char a =
		    i < len && (unsigned char)s[i] < 0x80 ? ascii_word[(unsigned char)s[i]] : 0;
		if (a && !pending_apos) {
			if (!in_word) {
				in_word = 1;
				wn = 0;
				trunc = 0;
				wstart = (uint32_t)i;
			}
			if (!trunc && wn + 1 < sizeof w - 4)
				w[wn++] = a;
			else
				trunc = 1;
			i++;
			continue;
		}
		uint32_t cp = ' ';
		size_t step = 1;
		int bad = 0;
		if (i < len)
			step = utf8_decode(s + i, len - i, &cp, &bad);
		if (cp == '&' && i < len)
			if ((fn = html_entity(s + i, len - i, &cp)) > 0)
				step = fn;
		char f[FOLD_MAX];
		fn = 0;
		enum cls c = bad ? C_PUNCT : classify(cp, f, &fn);
		/* a symbol before a letter, inside a word or ('$') at its start,
		 * may stand for a letter ("p@in", "su!cide", "$uicide") */
		if (letter_symbol(cp) && (in_word || cp == '$') && i + step < len &&
		    ((s[i + step] | 32) >= 'a' && (s[i + step] | 32) <= 'z')) {
			c = C_WORD;
			f[0] = (char)cp;
			fn = 1;
		}
		if (c == C_SKIP) {
			i += step;
			continue;
		}
		/* a '.' between digits (1.5) or after an abbreviation stays in
		 * the sentence */
		if (c == C_SENT && (cp == '.' || cp == 0x2026) && i < len &&
		    ellipsis_pause(s, len, i))
			c = C_PUNCT;
		if (c == C_SENT && cp == '.' && in_word) {
			int digit_next = i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9';
			int digit_prev = wn > 0 && w[wn - 1] >= '0' && w[wn - 1] <= '9';
			if (digit_next && digit_prev) {
				if (wn + 1 < sizeof w - 4)
					w[wn++] = '.';
				i += step;
				continue;
			}
			if (in_list(abbreviations, w, wn))
				c = C_PUNCT;
		}
		if (c == C_APOS && in_word) {
			if (!pending_apos)
				apos_at = i;
			pending_apos = 1;
			i += step;
			continue;
		}
		/* Chinese and Japanese write no spaces: each ideograph or kana
		 * is a word of its own, so a phrase matches wherever it stands */
		if (c == C_WORD && ideograph(cp)) {
			size_t before = out->n;
			if (in_word)
				emit_word(&st, w, wn, wstart,
					  (uint32_t)((pending_apos ? apos_at : i) - wstart));
			memcpy(w, f, fn);
			emit_word(&st, w, fn, (uint32_t)i, (uint32_t)step);
			if (out->n > before)
				sent_used = 1;
			in_word = 0;
			pending_apos = 0;
			i += step;
			continue;
		}
		if (c == C_WORD) {
			if (!in_word) {
				in_word = 1;
				wn = 0;
				trunc = 0;
				wstart = (uint32_t)i;
			} else if (pending_apos && wn + 1 < sizeof w - 4) {
				w[wn++] = '\'';
			}
			pending_apos = 0;
			if (!trunc && wn + fn < sizeof w - 4) {
				memcpy(w + wn, f, fn);
				wn += fn;
			} else {
				trunc = 1;
			}
			i += step;
			continue;
		}
		if (in_word) {
			size_t before = out->n;
			emit_word(&st, w, wn, wstart,
				  (uint32_t)((pending_apos ? apos_at : i) - wstart));
			if (out->n > before)
				sent_used = 1;
			in_word = 0;
			pending_apos = 0;
		}
		if (c == C_SENT) {
			if (sent_used) {
				st.sent++;
				sent_used = 0;
			}
			if (out->n > 0)
				out->v[out->n - 1].flags |= TOK_PUNCT_AFTER;
		} else if (c == C_PUNCT || c == C_APOS) {
			if (out->n > 0 && out->v[out->n - 1].sent == st.sent)
				out->v[out->n - 1].flags |= TOK_PUNCT_AFTER;
		}
		i += step;
	}
	if (t->lexicon) {
		join_spelt(&st, s);
		join_split(&st, s);
	}
}

int
text_distance(const char *a, size_t la, const char *b, size_t lb, int maxd)
{
	int d[TEXT_WORD_MAX + 1][TEXT_WORD_MAX + 1];
	if (la > TEXT_WORD_MAX || lb > TEXT_WORD_MAX)
		return maxd + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)maxd)
		return maxd + 1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}
