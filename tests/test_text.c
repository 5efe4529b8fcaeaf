/* test_text: the normaliser (folding, punctuation, contractions, stems). */
#include "testutil.h"
#include "text.h"
#include "typo.h"
#include "utf8.h"
#include "wordset.h"

static struct text_ctx *T;

static char *
joined(const char *s, int stems)
{
	static char buf[4096];
	struct tokens tk = {0};
	text_tokenize(T, s, strlen(s), &tk);
	buf[0] = '\0';
	for (size_t i = 0; i < tk.n; i++) {
		strcat(buf, i ? " " : "");
		strcat(buf, stems ? tk.v[i].stem : tk.v[i].surf);
	}
	tokens_free(&tk);
	return buf;
}

static void
test_case_and_accents(void **st)
{
	(void)st;
	assert_string_equal(joined("Massage THERAPY", 0), "massage therapy");
	assert_string_equal(joined("Ça fait mal, Ärger über Müller", 0),
			    "ca fait mal arger uber muller");
	assert_string_equal(joined("straße Œuvre", 0), "strasse oeuvre");
	assert_string_equal(joined("ΜΑΣΑΖ Массаж", 0), "μασαζ массаж");
	assert_string_equal(joined("ＭＡＳＳＡＧＥ", 0), "massage");
}

static void
test_punctuation_and_emoji(void **st)
{
	(void)st;
	assert_string_equal(joined("deep-tissue?!", 0), "deep tissue");
	assert_string_equal(joined("“swedish” — or «deep»…", 0), "swedish or deep");
	assert_string_equal(joined("massage🙂💆‍♀️for👍🏽back", 0),
			    "massage for back");
	assert_string_equal(joined("back\xC2\xA0pain", 0), "back pain");
	assert_string_equal(joined("e\xCC\x81tude", 0), "etude"); /* combining accent */
	assert_string_equal(joined("1.5 hours", 0), "1.5 hours");
}

static void
test_contractions(void **st)
{
	(void)st;
	assert_string_equal(joined("I can't feel it", 0), "i can not feel it");
	assert_string_equal(joined("I don’t know", 0), "i do not know");
	assert_string_equal(joined("dont wont cant im", 0), "do not will not can not i am");
	assert_string_equal(joined("it's what's", 0), "it is what is");
	assert_string_equal(joined("the therapist's hands", 0), "the therapist hands");
	assert_string_equal(joined("I've we'll they're I'd", 0), "i have we will they are i would");
	assert_string_equal(joined("idk thx", 0), "i do not know thanks");
	assert_string_equal(joined("ugh my hubby went thru it tmrw", 0),
			    "oh my husband went through it tomorrow");
}

static void
test_stems(void **st)
{
	(void)st;
	assert_string_equal(joined("running massages stretching", 1), "run massag stretch");
	assert_string_equal(joined("Numbness tingling", 1), "numb tingl");
	/* 20,000 different words: the memo stays bounded, stems stay right */
	struct text_ctx *t = text_ctx_new();
	char w[32], out[TEXT_WORD_MAX], first[100][TEXT_WORD_MAX];
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(w, sizeof w, "massag%c%c%cings", 'a' + i % 26, 'a' + i / 26 % 26,
				 'a' + i / 676 % 26);
		text_stem(t, w, (size_t)n, out);
		if (i < 100)
			memcpy(first[i], out, sizeof out);
		assert_true(text_stems_remembered(t) <= TEXT_STEM_MEMO);
	}
	assert_true(text_stems_remembered(t) > 0);
	for (int i = 0; i < 100; i++) { /* long forgotten: stemmed again, the same */
		int n = snprintf(w, sizeof w, "massag%c%c%cings", 'a' + i % 26, 'a' + i / 26 % 26,
				 'a' + i / 676 % 26);
		text_stem(t, w, (size_t)n, out);
		assert_string_equal(out, first[i]);
	}
	text_ctx_free(t);
}

static void
test_sentences_and_flags(void **st)
{
	(void)st;
	struct tokens tk = {0};
	const char *s = "No, my back hurts. Dr. Smith said so; fine";
	text_tokenize(T, s, strlen(s), &tk);
	assert_int_equal(tk.n, 9);
	assert_true(tk.v[0].flags & TOK_NEGATOR);
	assert_true(tk.v[0].flags & TOK_PUNCT_AFTER);
	assert_int_equal(tk.v[3].sent, 0);      /* hurts */
	assert_int_equal(tk.v[4].sent, 1);      /* dr: abbreviation keeps the sentence */
	assert_int_equal(tk.v[6].sent, 1);      /* said */
	assert_int_equal(tk.v[8].sent, 2);      /* fine after ; */
	assert_true(tk.v[1].flags & TOK_STOP);  /* my */
	assert_false(tk.v[3].flags & TOK_STOP); /* hurts */
	/* source spans point back into the input */
	assert_int_equal(tk.v[3].off, 12);
	assert_int_equal(tk.v[3].len, 5);
	tokens_free(&tk);
	/* a trailing-off "..." before a lowercase word is a pause, not an end;
	 * before a capital or the end of the text it still ends the sentence */
	const char *e = "here... at work. Fine... Bye \xe2\x80\xa6 ok..";
	text_tokenize(T, e, strlen(e), &tk);
	assert_int_equal(tk.n, 6);
	assert_int_equal(tk.v[1].sent, 0);            /* at: same sentence as here */
	assert_true(tk.v[0].flags & TOK_PUNCT_AFTER); /* read like a comma */
	assert_int_equal(tk.v[3].sent, 1);            /* fine */
	assert_int_equal(tk.v[4].sent, 2);            /* bye: capital after the dots */
	assert_int_equal(tk.v[5].sent, 2);            /* ok: after U+2026 and a lowercase word */
	tokens_free(&tk);
}

static void
test_hostile_input(void **st)
{
	(void)st;
	struct tokens tk = {0};
	char big[70000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	text_tokenize(T, big, strlen(big), &tk);
	assert_int_equal(tk.n, 1);
	assert_true(tk.v[0].surf_len < TEXT_WORD_MAX);
	for (size_t i = 0; i + 2 < sizeof big; i += 2) {
		big[i] = 'a';
		big[i + 1] = ' ';
	}
	text_tokenize(T, big, strlen(big), &tk);
	assert_int_equal(tk.n, TEXT_MAX_TOKENS);
	const char bad[] = "ok\xff\xfe\x80 back \xe2\x82 pain";
	text_tokenize(T, bad, sizeof bad - 1, &tk);
	assert_int_equal(tk.n, 3);
	assert_string_equal(tk.v[2].surf, "pain");
	tokens_free(&tk);
}

static void
test_utf8_repair(void **st)
{
	(void)st;
	size_t n;
	/* one U+FFFD per maximal invalid subpart; NUL replaced too */
	char *r = utf8_repair("a\xe2\x82"
			      "b\xff\xc0\xafz",
			      8, &n);
	assert_string_equal(r, "a\xEF\xBF\xBD"
			       "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
	free(r);
	r = utf8_repair("a\0b", 3, &n);
	assert_string_equal(r, "a\xEF\xBF\xBD"
			       "b");
	free(r);
	r = utf8_repair("\xf0\x9f\x98\x80", 4, &n); /* valid emoji untouched */
	assert_int_equal(n, 4);
	free(r);
	/* plain ASCII is read eight bytes at a time: a NUL, a bad byte or a
	 * character of two bytes at every place of a 24-byte run */
	static const struct {
		const char *put;
		size_t len;
		const char *want;
	} odd[] = {
	    {"\0", 1, "\xEF\xBF\xBD"}, {"\xff", 1, "\xEF\xBF\xBD"}, {"\xc3\xa9", 2, "\xc3\xa9"}};
	for (size_t k = 0; k < sizeof odd / sizeof *odd; k++)
		for (size_t p = 0; p + odd[k].len <= 24; p++) {
			char in[24], want[32];
			size_t wl = strlen(odd[k].want), out = 24 - odd[k].len + wl;
			memset(in, 'a', sizeof in);
			memcpy(in + p, odd[k].put, odd[k].len);
			memset(want, 'a', sizeof want);
			memcpy(want + p, odd[k].want, wl);
			want[out] = '\0';
			r = utf8_repair(in, sizeof in, &n);
			assert_int_equal(n, out);
			assert_string_equal(r, want);
			free(r);
		}
	assert_int_equal(utf8_cut("ab\xc3\xa9", 4, 3), 2);
	assert_int_equal(utf8_count("h\xc3\xa9llo", 6), 5);
}

/* The English word list set: repeats stored once, exact-length lookups,
 * growth past its first table. */
static void
test_wordset(void **st)
{
	(void)st;
	struct wordset w = {0};
	assert_false(wordset_has(&w, "massage", 7)); /* empty set */
	char buf[16];
	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof buf, "w%d", i);
		wordset_add(&w, buf, strlen(buf));
		wordset_add(&w, buf, strlen(buf));
	}
	wordset_add(&w, "massage", 7);
	wordset_add(&w, "massages", 8);
	wordset_add(&w, "", 0);
	char longw[300];
	memset(longw, 'a', sizeof longw);
	wordset_add(&w, longw, sizeof longw); /* longer than any word: ignored */
	wordset_seal(&w);
	assert_int_equal(wordset_count(&w), 5003);
	assert_true(wordset_has(&w, "massage", 7));
	assert_true(wordset_has(&w, "massages and more", 8));
	assert_false(wordset_has(&w, "massag", 6));
	assert_false(wordset_has(&w, "massagesx", 9));
	assert_true(wordset_has(&w, "w4999", 5));
	assert_false(wordset_has(&w, "w5000", 5));
	assert_true(wordset_has(&w, "", 0));
	assert_false(wordset_has(&w, longw, sizeof longw));
	wordset_add(&w, "zzz", 3); /* sealed: read-only */
	assert_false(wordset_has(&w, "zzz", 3));
	wordset_free(&w);
}

/* Sealing (front-coded blocks) keeps exactly the same words: every word,
 * and near misses of each (a prefix, one letter more, the last letter
 * changed), get the same answer from the sealed set as from the table; and
 * the sealed set is smaller. */
static void
test_wordset_sealed(void **st)
{
	(void)st;
	struct wordset table = {0}, sealed = {0};
	enum { N = 20000 };
	static char words[N][24];
	uint32_t x = 12345;
	for (int i = 0; i < N; i++) {
		/* words sharing long prefixes, as a dictionary's do */
		size_t n = 0;
		int len = 1 + (int)((x = x * 1103515245u + 12345u) >> 16) % 14;
		for (int j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			/* now and then a first or second byte outside a-z, on
			 * either side of it in byte order */
			static const char odd[] = "'-0A{~\xc3";
			words[i][n++] = j < 2 && (x >> 8) % 5 == 0
					    ? odd[(x >> 16) % (sizeof odd - 1)]
					    : (char)('a' + (x >> 16) % (j < 3 ? 4 : 26));
		}
		words[i][n] = '\0';
		wordset_add(&table, words[i], n);
		wordset_add(&sealed, words[i], n);
	}
	size_t before = table.cap + table.nslots * sizeof *table.slots;
	wordset_seal(&sealed);
	assert_int_equal(wordset_count(&sealed), wordset_count(&table));
	assert_null(sealed.slots);
	assert_true(sealed.nblocks > 0);
	size_t after = 0;
	for (size_t b = 0; b < sealed.nblocks; b++)
		after = sealed.blocks[b]; /* the last block starts near the end */
	assert_true(after < before / 2);
	char probe[32];
	for (int i = 0; i < N; i++) {
		size_t n = strlen(words[i]);
		assert_true(wordset_has(&sealed, words[i], n));
		struct {
			size_t len;
			char last;
		} miss[] = {{n - (n > 0), 0}, {n + 1, 'q'}, {n, 'z'}, {n, 'a'}};
		for (size_t m = 0; m < sizeof miss / sizeof miss[0]; m++) {
			memcpy(probe, words[i], n);
			if (miss[m].last && miss[m].len > 0)
				probe[miss[m].len - 1] = miss[m].last;
			assert_int_equal(wordset_has(&sealed, probe, miss[m].len),
					 wordset_has(&table, probe, miss[m].len));
		}
	}
	assert_false(wordset_has(&sealed, "\xff", 1)); /* after every word */
	/* the Bloom filter as designed: 3 bits of 10 per word, so about a
	 * quarter of them set (all set would answer "maybe" to everything) */
	size_t ones = 0;
	for (size_t i = 0; i < sealed.nbloom / 64; i++)
		ones += (size_t)__builtin_popcountll(sealed.bloom[i]);
	assert_true(sealed.nbloom >= wordset_count(&sealed) * 10);
	assert_true(ones * 100 > sealed.nbloom * 15 && ones * 100 < sealed.nbloom * 35);
	/* read back in byte order, each word once */
	char cur[255], last[256] = "";
	size_t pos = 0, n, count = 0, lastn = 0;
	while (wordset_next(&sealed, &pos, cur, &n)) {
		assert_true(wordset_has(&table, cur, n));
		assert_true(count == 0 || memcmp(last, cur, n < lastn ? n : lastn) < 0 ||
			    (memcmp(last, cur, n < lastn ? n : lastn) == 0 && lastn < n));
		memcpy(last, cur, n);
		lastn = n;
		count++;
	}
	assert_int_equal(count, wordset_count(&table));
	wordset_free(&table);
	wordset_free(&sealed);
}

static void
test_distance(void **st)
{
	(void)st;
	static const struct {
		const char *a, *b;
		int maxd, want;
	} cases[] = {
	    {"massage", "massage", 2, 0}, {"massage", "masage", 2, 1}, {"titel", "title", 2, 1},
	    {"tisue", "tissue", 2, 1},    {"abc", "cba", 2, 2},        {"abc", "", 5, 3},
	    {"kitten", "sitting", 2, 3},  {"kitten", "sitting", 3, 3}, {"a", "abcdef", 2, 3},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(text_distance(cases[i].a, strlen(cases[i].a), cases[i].b,
					       strlen(cases[i].b), cases[i].maxd),
				 cases[i].want);
	char longw[TEXT_WORD_MAX + 2];
	memset(longw, 'a', sizeof longw);
	assert_int_equal(text_distance(longw, sizeof longw, longw, sizeof longw, 2), 3);
}

/* The spelling corrector's delete index over a few thousand words (its
 * directory then has many buckets): every word found again from one slip,
 * long words from two, none from a word of other letters, and the index
 * 4 bytes a variant. */
static void
test_typo_index(void **st)
{
	(void)st;
	enum { NW = 3000 };
	static char words[NW][16];
	struct typo_index x;
	typo_init(&x);
	uint32_t seed = 12345;
	for (size_t i = 0; i < NW; i++) {
		size_t n = 7 + i % 6;
		for (size_t k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			words[i][k] = (char)('a' + (seed >> 16) % 26);
		}
		words[i][n] = '\0';
		assert_int_equal(typo_add(&x, words[i], n), (int)i);
	}
	typo_seal(&x);
	assert_true(x.ndel > NW * 20);
	assert_true(((size_t)8 << x.dir_bits) >= x.ndel && x.dir_bits > 4);
	assert_int_equal(x.dir[(size_t)1 << x.dir_bits], x.ndel);
	for (size_t i = 0; i < NW; i++) {
		char v[16];
		size_t n = strlen(words[i]);
		int d;
		/* one letter dropped from the middle */
		memcpy(v, words[i], n / 2);
		memcpy(v + n / 2, words[i] + n / 2 + 1, n - n / 2);
		assert_int_equal(typo_correct(&x, v, n - 1, &d), (int)i);
		assert_int_equal(d, 1);
		/* one letter changed */
		memcpy(v, words[i], n + 1);
		v[n - 1] = v[n - 1] == 'q' ? 'j' : 'q';
		assert_int_equal(typo_correct(&x, v, n, &d), (int)i);
		if (n >= 9) { /* and a second letter dropped: two edits */
			memmove(v + 1, v + 2, n - 1);
			assert_int_equal(typo_correct(&x, v, n - 1, &d), (int)i);
			assert_int_equal(d, 2);
		}
	}
	int d;
	assert_int_equal(typo_correct(&x, "0123456789", 10, &d), -1);
	typo_free(&x);
}

/* Normalisation against disguised words: zero-width and other ignorable
 * characters, look-alike letters, digits, stretched and spelt-out words,
 * HTML entities. */
static void
test_disguises(void **st)
{
	(void)st;
	struct wordset lex = {0};
	const char *words[] = {"suicide", "suicidal", "kill", "pain", "please", "help", "so",
			       "cool",    "myself",   "numb", "sam",  "to",     "la",   "si"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		wordset_add(&lex, words[i], strlen(words[i]));
	/* without a lexicon only the plain Unicode folding applies */
	assert_string_equal(joined("sui\xe2\x80\x8b"
				   "cide",
				   0),
			    "suicide");
	assert_string_equal(joined("su1c1de", 0), "su1c1de");
	text_set_lexicon(T, &lex);
	/* format characters: zero-width space, joiner, soft hyphen, BOM */
	assert_string_equal(joined("sui\xe2\x80\x8b"
				   "ci\xe2\x80\x8d"
				   "de",
				   0),
			    "suicide");
	assert_string_equal(joined("sui\xc2\xad"
				   "cide \xef\xbb\xbfkill",
				   0),
			    "suicide kill");
	/* Cyrillic and Greek look-alikes inside Latin words, or a whole word of them */
	assert_string_equal(joined("\xd1\x95u\xd1\x96\xd1\x81\xd1\x96"
				   "d\xd0\xb5",
				   0),
			    "suicide");
	assert_string_equal(joined("p\xce\xb1in", 0), "pain");
	assert_string_equal(joined("\xd1\x81\xd0\xbe\xd1\x80", 0), "cop");
	assert_string_equal(joined("\xd0\x9c\xd0\xb0\xd1\x81\xd1\x81\xd0\xb0\xd0\xb6", 0),
			    "\xd0\xbc\xd0\xb0\xd1\x81\xd1\x81\xd0\xb0\xd0\xb6"); /* Russian stays */
	/* fullwidth, ligature, accents: NFKC and case folding */
	assert_string_equal(joined("\xef\xbd\x93\xef\xbd\x95"
				   "icide \xef\xac\x81"
				   "ne C\xc3\xa9line",
				   0),
			    "suicide fine celine");
	/* digits and @ as letters, only into a known word */
	assert_string_equal(joined("su1c1de k1ll p@in", 0), "suicide kill pain");
	assert_string_equal(joined("5am 10mg l5 covid19 me@home", 0),
			    "5am 10mg l5 covid19 me home");
	/* two letters: only a '0' reads as o ("t0"); "l4" and "s1" are vertebrae */
	assert_string_equal(joined("t0 l4 s1", 0), "to l4 s1");
	/* '!', '$' and '|' for letters; otherwise '!' still ends a sentence */
	assert_string_equal(joined("su!cidal $uicide k|ll", 0), "suicidal suicide kill");
	assert_string_equal(joined("so!cool", 0), "so cool");
	struct tokens bang = {0};
	text_tokenize(T, "so!cool", 7, &bang);
	assert_int_equal(bang.n, 2);
	assert_int_equal(bang.v[1].sent, 1);
	tokens_free(&bang);
	/* a word cut by a hyphen, when one half is no word and the whole is */
	assert_string_equal(joined("sui-cidal nu_mb so-cool pa*in", 0),
			    "suicidal numb so cool pain");
	assert_string_equal(joined("su*cide k*ll", 0), "suicide kill"); /* a star for a vowel */
	assert_string_equal(joined("sui cidal so cool", 0), "suicidal so cool"); /* a space */
	/* letters typed three times or more */
	assert_string_equal(joined("suiiicidal pleeeease sooooo cooool zzzz", 0),
			    "suicidal please so cool zz");
	/* a last letter typed twice, when once spells a word (not in words of
	 * three letters: "loo", "poo") */
	assert_string_equal(joined("pleasee soo", 0), "please soo");
	/* spelt out */
	assert_string_equal(joined("s u i c i d e", 0), "suicide");
	assert_string_equal(joined("I want to k.i.l.l myself", 0), "i want to kill myself");
	assert_string_equal(joined("s-u-i-c-i-d-a-l thoughts", 0), "suicidal thoughts");
	assert_string_equal(joined("options a b c", 0), "options a b c"); /* not a word */
	struct tokens tk = {0};
	const char *s = "k.i.l.l myself. ok";
	text_tokenize(T, s, strlen(s), &tk);
	assert_int_equal(tk.n, 3);
	assert_int_equal(tk.v[0].sent, 0);
	assert_int_equal(tk.v[1].sent, 0); /* the dots were not sentence ends */
	assert_int_equal(tk.v[2].sent, 1);
	assert_int_equal(tk.v[0].off, 0);
	assert_int_equal(tk.v[0].len, 7);
	tokens_free(&tk);
	/* Chinese and Japanese: one word per ideograph or kana, next to Latin */
	assert_string_equal(joined("\xe6\x88\x91\xe4\xb8\x8d\xe6\x83\xb3\xe6\xb4\xbb sorry", 0),
			    "\xe6\x88\x91 \xe4\xb8\x8d \xe6\x83\xb3 \xe6\xb4\xbb sorry");
	assert_string_equal(joined("pain\xe6\xad\xbb\xe3\x81\xab", 0),
			    "pain \xe6\xad\xbb \xe3\x81\xab");
	/* HTML entities */
	assert_string_equal(joined("can&#39;t feel &amp; numb&nbsp;groin", 0),
			    "can not feel numb groin");
	assert_string_equal(joined("sui&#x200b;cide &lt;3 &bogus; &amp", 0), "suicide 3 bogus amp");
	text_set_lexicon(T, NULL);
	wordset_free(&lex);
}

int
main(void)
{
	T = text_ctx_new();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_case_and_accents),
	    cmocka_unit_test(test_punctuation_and_emoji),
	    cmocka_unit_test(test_contractions),
	    cmocka_unit_test(test_stems),
	    cmocka_unit_test(test_sentences_and_flags),
	    cmocka_unit_test(test_hostile_input),
	    cmocka_unit_test(test_utf8_repair),
	    cmocka_unit_test(test_wordset),
	    cmocka_unit_test(test_wordset_sealed),
	    cmocka_unit_test(test_distance),
	    cmocka_unit_test(test_typo_index),
	    cmocka_unit_test(test_disguises),
	};
	int rc = cmocka_run_group_tests_name("text", tests, NULL, NULL);
	text_ctx_free(T);
	return rc;
}
