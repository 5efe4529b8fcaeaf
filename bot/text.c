/*
 * text: normaliser and tokeniser (see text.h).  Pure; the only state is the
 * text_ctx passed in (stemmer + memo of stems).
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "hmap.h"
#include "utf8.h"
#include "xmem.h"

#define STEM_CACHE_MAX 65536

struct text_ctx {
	struct sb_stemmer *stemmer;
	struct hmap words;   /* word -> WF_* flags, from the lists below */
	struct hmap rewrite; /* word -> index in rewrites[] */
	struct hmap cache;   /* surface -> index into stems */
	char (*stems)[TEXT_WORD_MAX];
	size_t nstems, capstems;
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
	free(t->stems);
	free(t);
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
    "no", "not", "never", "without", "nor", "neither", "none", "deny", "denies", "denied", NULL,
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

/* Base letters for U+00C0..U+00FF and U+0100..U+017F ('\0' = separator). */
static const char latin1[64] = "aaaaaaaceeeeiiiidnooooo\0ouuuuyts"
			       "aaaaaaaceeeeiiiidnooooo\0ouuuuyty";
static const char latin_ext_a[129] = "aaaaaa"
				     "cccccccc"
				     "dddd"
				     "eeeeeeeeee"
				     "gggggggg"
				     "hhhh"
				     "iiiiiiiiiiii"
				     "jj"
				     "kkk"
				     "llllllllll"
				     "nnnnnnnnn"
				     "oooooooo"
				     "rrrrrr"
				     "ssssssss"
				     "tttttt"
				     "uuuuuuuuuuuu"
				     "ww"
				     "yyy"
				     "zzzzzz"
				     "s";
_Static_assert(sizeof latin_ext_a == 129, "one base letter per code point");

enum cls { C_SPACE, C_PUNCT, C_SENT, C_APOS, C_WORD, C_SKIP };

/*
 * Classify cp and fold it: for C_WORD, writes the folded form (1-3 bytes of
 * UTF-8) to out and its length to *n.
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
	if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC)
		return C_APOS;
	if (cp == 0x2026 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0x203C ||
	    (cp >= 0x2047 && cp <= 0x2049) || cp == 0x061F || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x0085)
		return C_SENT;
	if ((cp >= 0x0300 && cp <= 0x036F) || cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    cp == 0x00AD || (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0000 && cp <= 0xE007F))
		return C_SKIP; /* combining marks, joiners, selectors */
	if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7)
		return cp == 0xA0 ? C_SPACE : C_PUNCT;
	if (cp <= 0xFF) {
		char c = latin1[cp - 0xC0];
		out[0] = c;
		*n = 1;
		if (cp == 0xDF) { /* sharp s */
			out[1] = 's';
			*n = 2;
		} else if (cp == 0xC6 || cp == 0xE6) {
			out[1] = 'e';
			*n = 2;
		} else if (cp == 0xDE || cp == 0xFE) {
			out[0] = 't';
			out[1] = 'h';
			*n = 2;
		}
		return C_WORD;
	}
	if (cp <= 0x17F) {
		out[0] = latin_ext_a[cp - 0x100];
		*n = 1;
		if (cp == 0x152 || cp == 0x153) {
			out[0] = 'o';
			out[1] = 'e';
			*n = 2;
		}
		return C_WORD;
	}
	if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
	    (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
	    (cp >= 0xFF5B && cp <= 0xFF65) || cp >= 0xFFF0 || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
	    (cp >= 0x2E00 && cp <= 0x2E7F))
		return (cp >= 0x2000 && cp <= 0x200B) || cp == 0x3000 || cp == 0x202F ||
			       cp == 0x205F
			   ? C_SPACE
			   : C_PUNCT;
	if (cp >= 0xFF10 && cp <= 0xFF5A) /* fullwidth digits and letters */
		return classify(cp - 0xFEE0, out, n);
	if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
		cp += 0x20;
	else if (cp >= 0x410 && cp <= 0x42F)
		cp += 0x20;
	else if (cp >= 0x400 && cp <= 0x40F)
		cp += 0x50;
	*n = utf8_encode(cp, out);
	return C_WORD;
}

/* ---- tokeniser -------------------------------------------------------- */

struct tk_state {
	struct text_ctx *t;
	struct tokens *out;
	uint16_t sent;
};

size_t
text_stem(struct text_ctx *t, const char *w, size_t n, char out[TEXT_WORD_MAX])
{
	int v = hmap_get(&t->cache, w, n);
	if (v < 0) {
		if (hmap_count(&t->cache) >= STEM_CACHE_MAX) {
			hmap_clear(&t->cache);
			t->nstems = 0;
		}
		const sb_symbol *r = sb_stemmer_stem(t->stemmer, (const sb_symbol *)w, (int)n);
		size_t rl = r ? (size_t)sb_stemmer_length(t->stemmer) : 0;
		if (r == NULL) {
			r = (const sb_symbol *)w;
			rl = n;
		}
		if (rl >= TEXT_WORD_MAX)
			rl = TEXT_WORD_MAX - 1;
		t->stems = xgrow(t->stems, &t->capstems, t->nstems + 1, sizeof *t->stems);
		memcpy(t->stems[t->nstems], r, rl);
		t->stems[t->nstems][rl] = '\0';
		v = (int)t->nstems++;
		*hmap_put(&t->cache, w, n, v, NULL) = v;
	}
	size_t l = strlen(t->stems[v]);
	memcpy(out, t->stems[v], l + 1);
	return l;
}

static void
emit(struct tk_state *st, const char *w, size_t n, uint32_t off, uint32_t len)
{
	struct tokens *o = st->out;
	if (n == 0 || o->n >= TEXT_MAX_TOKENS)
		return;
	o->v = xgrow(o->v, &o->cap, o->n + 1, sizeof *o->v);
	struct token *k = &o->v[o->n++];
	memset(k, 0, sizeof *k);
	n = utf8_cut(w, n, TEXT_WORD_MAX - 1);
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
		k->stem_len = (uint8_t)text_stem(st->t, k->surf, n, k->stem);
	}
	int wf = hmap_get(&st->t->words, k->surf, n);
	if (wf > 0) {
		if (wf & WF_STOP)
			k->flags |= TOK_STOP;
		if (wf & WF_COMMON)
			k->flags |= TOK_COMMON;
		if (wf & WF_NEGATOR)
			k->flags |= TOK_NEGATOR;
	}
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
	int rw = hmap_get(&st->t->rewrite, w, n);
	if (rw >= 0) {
		emit_phrase(st, rewrites[rw].to, off, len);
		return;
	}
	emit(st, w, n, off, len);
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
	size_t i = 0;
	int sent_used = 0;

	out->n = 0;
	while (i <= len) {
		uint32_t cp = ' ';
		size_t step = 1;
		int bad = 0;
		if (i < len)
			step = utf8_decode(s + i, len - i, &cp, &bad);
		char f[8];
		size_t fn = 0;
		enum cls c = bad ? C_PUNCT : classify(cp, f, &fn);
		if (c == C_SKIP) {
			i += step;
			continue;
		}
		/* a '.' between digits (1.5) or after an abbreviation stays in
		 * the sentence */
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
