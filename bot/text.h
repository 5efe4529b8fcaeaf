/*
 * text: the normaliser shared by the matcher and the safety rules.
 * Turns raw UTF-8 into tokens: HTML entities decoded; each code point
 * through utf8proc (compatibility forms, case folding, accents stripped,
 * zero-width and other ignorable characters dropped); Cyrillic and Greek
 * look-alikes inside Latin words folded to Latin; Unicode punctuation and
 * emoji as separators; contractions and chat spellings expanded
 * ("can't"/"cant" -> "can not"); sentence numbers kept; each word stemmed
 * with Snowball English (libstemmer).
 * Pure: no I/O, no globals.  A text_ctx owns a stemmer and a stem cache and
 * must be used by one thread at a time.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_WORD_MAX 32 /* bytes kept per word, NUL included */

enum {
	TOK_STOP = 1 << 0,        /* function word: ignored by the matcher */
	TOK_NEGATOR = 1 << 1,     /* no, not, never, without, ... */
	TOK_PUNCT_AFTER = 1 << 2, /* punctuation directly follows the word */
	TOK_COMMON = 1 << 3,      /* common English word: never typo-corrected */
	TOK_NUMBER = 1 << 4,      /* contains a digit */
};

struct token {
	char surf[TEXT_WORD_MAX]; /* folded surface form */
	char stem[TEXT_WORD_MAX];
	uint8_t surf_len, stem_len;
	uint8_t flags;
	uint16_t sent;      /* sentence number, from 0 */
	uint32_t off, len;  /* span of the source word in the input bytes */
	int32_t sid, xid;   /* safety_eval's word ids for stem and surface */
	uint64_t surf_hash; /* hmap_hash() of surf: the matcher's and safety's lookups by
			       the surface use it */
};

struct tokens {
	struct token *v;
	size_t n, cap;
};

struct text_ctx;

/* Returns NULL only if libstemmer has no English stemmer. */
struct text_ctx *text_ctx_new(void);
void text_ctx_free(struct text_ctx *t);

/*
 * Known words (an English word list), borrowed until replaced: with them
 * the tokeniser also reads digits and '@' inside a word as letters
 * ("su1c1de"), picks the known spelling of stretched letters ("suiiicidal")
 * and joins words spelt out letter by letter ("s u i c i d e").  NULL: none.
 */
struct wordset;
void text_set_lexicon(struct text_ctx *t, const struct wordset *words);

/*
 * Tokenise s (valid UTF-8 expected; ill-formed bytes act as separators).
 * Replaces the contents of out.  Never fails; at most TEXT_MAX_TOKENS tokens.
 */
#define TEXT_MAX_TOKENS 4096
void text_tokenize(struct text_ctx *t, const char *s, size_t len, struct tokens *out);
void tokens_free(struct tokens *tk);

/* Stem one folded word into out (NUL-terminated); returns its length. */
size_t text_stem(struct text_ctx *t, const char *w, size_t n, char out[TEXT_WORD_MAX]);
/* Words whose stems t remembers: at most TEXT_STEM_MEMO (it starts over when
 * full), so a bot that reads years of varied chat stays the same size. */
#define TEXT_STEM_MEMO 2048
size_t text_stems_remembered(const struct text_ctx *t);

/*
 * Edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours: optimal string alignment) between two byte strings; any
 * value above maxd is returned as maxd + 1, as is the distance of strings
 * longer than TEXT_WORD_MAX.
 */
int text_distance(const char *a, size_t la, const char *b, size_t lb, int maxd);

#endif
