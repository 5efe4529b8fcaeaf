/*
 * match: IDF-weighted overlap matcher with typo and compound handling
 * (see match.h for the model).  Pure.
 */
#include "match.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "keysort.h"
#include "strbuf.h"
#include "typo.h"
#include "wordset.h"
#include "xmem.h"

#define TYPO_CACHE_MAX 8192
/* Scale: a term in more phrasings than LONG_POSTINGS only adds to the
 * phrasings rarer query terms already found (checked through the forward
 * index), instead of walking its whole list.  Exact for knowledge bases
 * below that size; at 10,000 answers it keeps a question's cost to its
 * distinctive words.  Terms in more than LONG_INTENTS intents get bitmaps. */
#define LONG_POSTINGS 64
#define LONG_INTENTS 512

const struct match_tuning match_default_tuning = {
    .q_exp = 0.30,
    .bag_weight = 0.30,
    .unknown_frac = 1.00,
    .unknown_common_frac = 0.20,
    .common_weight = 1.00,
    .c_typo1 = 0.85,
    .c_typo2 = 0.7,
    .c_split = 0.9,
    .q_exp_small = 0.8,
    .body_weight = 0.80,
    .stop_weight = 0.30,
    .unknown_exp = 0.70,
    .unknown_other_frac = 0.50,
    .context_weight = 0.60,
    .near_weight = 0.40,
    .other_weight = 0.05,
    .two_margin = 0.00,
    .evidence_prior = 2.00,
    .offer_band = 0.25,
    .domain_weight = 1.50,
    .context_unknown = 0.25,
    .focus_min = 1,
    .title_weight = 0.10,
    .lead_gap = 0.15,
    .lead_cover = 0.40,
    .lead_floor = 0.40,
    .lead_terms = 3,
    .lead_unknown = 0.50,
    .conf = {-2.10, 1.37, 1.91, 0.73, 1.47, -3.83, 2.86, -1.00, 1.51},
};

struct term {
	double idf;          /* already scaled down for common English words */
	uint32_t p_off, p_n; /* phrasing postings */
	uint32_t i_off, i_n; /* intent postings */
	int32_t bitmap;      /* intent bitmaps (phrasing, body) or -1 */
	int32_t phr_bitmap;  /* phrasing bitmap or -1 */
};

struct phr {
	uint32_t intent;
	double w;     /* sum of idf of its terms */
	double w_pow; /* w^(1 - q_exp): see score_phrasings */
};

struct syn_var {
	uint32_t off, n;     /* variant stems in syn_stems */
	uint32_t c_off, c_n; /* canonical stems */
	int next;            /* next variant with the same first stem */
};

struct match_index {
	size_t nintent;
	struct hmap term_ids; /* stem -> term id, or STEM_KNOWN: every stem the matcher
				 understands */
	struct term *term;
	size_t nterms, capterms;
	uint32_t *ppost, *ipost;
	float *ipost_weight;     /* weight of each intent posting: 1, or body_weight */
	uint32_t *phr_terms;     /* forward index: each phrasing's term ids */
	uint32_t *phr_terms_off; /* per phrasing, into fwd; nph + 1 entries */
	double avg_phr_terms;    /* terms per phrasing, on average */
	uint64_t *bitmaps;       /* per long term: 2 x words_per_bm */
	uint64_t *phr_bitmaps;   /* per very common term: the phrasings holding it */
	size_t words_per_pbm;
	size_t words_per_bm;
	struct phr *phr;
	size_t nphr, capphr;
	double unknown_weight; /* of an unknown word */
	double evidence_prior; /* added to every question's weight */
	double mean_idf;

	struct typo_index surf; /* surface words, with the typo index */
	char (*surf_stem)[TEXT_WORD_MAX];
	size_t capsurf;

	struct hmap syn_first; /* first stem -> first variant */
	struct syn_var *syn_vars;
	size_t nsyn_vars, capsyn_vars;
	char (*syn_stems)[TEXT_WORD_MAX];
	size_t nsyn_stems, capsyn_stems;
	struct hmap exact;      /* whole phrasing, folded -> intent */
	struct hmap word_class; /* surface word -> W_* bits */
	struct match_tuning tu;
	const struct wordset *dict; /* borrowed English word list, or NULL */
	uint8_t *small_talk;        /* per intent */
	/* per intent: its title's and its id's phrasing, their terms in a
	 * row (what title_share reads for every candidate) */
	struct title {
		uint32_t off, n; /* in title_term */
		double w;        /* the phrasing's weight; 0: none */
	} (*title)[2];
	struct title_term {
		uint32_t term;
		double idf;
	} * title_term;
};

/* a word of the query as the matcher reads it */
struct qtok {
	char stem[TEXT_WORD_MAX];
	double c;
	uint16_t tok;
	int32_t id; /* the stem in term_ids (a term id, STEM_KNOWN or -1), or ID_UNSEEN */
};

/* A qtok's stem not looked up in term_ids yet. */
#define ID_UNSEEN (-3)

enum { UNK_NONE, UNK_WORD, UNK_COMMON, UNK_OTHER, UNK_KINDS };

struct qterm {
	int term;         /* -1: unknown */
	double c;         /* credit: 1 as typed, less through a fix */
	double w;         /* weight in the view being scored */
	uint32_t clauses; /* bit per clause it is in */
	uint16_t tok;
	uint8_t unknown; /* UNK_* */
	uint8_t content; /* not a function word */
};

#define MATCH_CLAUSES_MAX 16

struct clause {
	uint16_t from, to; /* token span */
	uint8_t kind;      /* CL_* */
	uint8_t asks;      /* written as a question, even with no words of its own */
	int exact;         /* intent it is written exactly as, or -1 */
};

struct match_scratch {
	double *acc;
	uint32_t *touched;
	uint64_t *tbits; /* a bit per phrasing in touched */
	size_t ntouched, capph;
	double *best, *bag;
	uint32_t *itouched;
	uint8_t *iseen;
	size_t nitouched, capin;
	struct qtok *seq, *seq2;
	size_t nseq, nseq2, capseq, capseq2;
	struct qterm *qt;
	size_t nqt, capqt;
	struct hmap cache; /* query word -> surf id, or -2 */
	uint64_t cache_vocab;
	char (*reading)[48]; /* per query token: how it was read, "" if as typed */
	uint8_t *tok_clause; /* per query token: its clause */
	uint8_t *tok_class;  /* per query token: W_* bits */
	size_t capreading;
	struct clause clause[MATCH_CLAUSES_MAX];
	size_t nclause;
	double *term_c;    /* per term: its credit in the view being scored, 0 if absent */
	uint32_t *term_qt; /* per term: its index in qt + 1 while read_terms runs, else 0 */
	size_t capterm;
	uint32_t *unk; /* read_terms: the unknown words' indices in qt */
	size_t nunk, capunk;
	int with_topic;      /* the message is read with an earlier answer's topic */
	double view_weight;  /* of the view last scored */
	double view_unknown; /* of its unknown words */
};

/* ---- word classes --------------------------------------------------------- */

/* ("anything I can do" asks, with or without a '?') */
static const char *const question_words[] = {
    "how", "what",  "whats",  "where", "wheres", "when",  "which",    "who",   "whos",
    "why", "is",    "are",    "am",    "was",    "were",  "do",       "does",  "did",
    "can", "could", "should", "would", "will",   "shall", "may",      "might", "any",
    "has", "have",  "isnt",   "arent", "hows",   "whens", "anything", NULL};
/* words that join a second question ("... and can I pay by card"); "or"
 * and "but" mostly join two ways of asking one ("... or is it a myth") */
static const char *const joining_words[] = {"and", "also", "plus", "anyway", "btw", "then", NULL};
/* words a question may open with before its question word */
static const char *const opening_words[] = {"and", "also", "plus", "anyway", "btw", "then", "so",
					    "ok",  "okay", "well", "oh",     "but", "or",   NULL};
static const char *const request_words[] = {
    "want",      "wanna",   "need",   "wonder", "wondering", "tell", "explain",
    "recommend", "suggest", "advice", "advise", "please",    "pls",  "plz",
    "curious",   "looking", "tips",   "know",   NULL};

/*
 * Words of chat that say nothing about what is asked: people, times,
 * saying and thinking, feelings about the asking, fillers.  Unknown to the
 * answers, they count against a question as little as a common word.
 */
static const char *const chat_words[] = {
    "friend",     "friends",    "mate",         "mates",    "wife",        "husband",   "partner",
    "boyfriend",  "girlfriend", "mum",          "mom",      "dad",         "mother",    "father",
    "sister",     "brother",    "son",          "daughter", "gran",        "granny",    "grandma",
    "grandad",    "grandpa",    "aunt",         "auntie",   "uncle",       "cousin",    "colleague",
    "colleagues", "boss",       "neighbour",    "neighbor", "family",      "kids",      "kid",
    "guy",        "guys",       "lady",         "monday",   "tuesday",     "wednesday", "thursday",
    "friday",     "saturday",   "sunday",       "weekend",  "today",       "tonight",   "tomorrow",
    "yesterday",  "lately",     "recently",     "ages",     "forever",     "january",   "february",
    "march",      "april",      "june",         "july",     "august",      "september", "october",
    "november",   "december",   "christmas",    "holiday",  "holidays",    "vacation",  "summer",
    "easter",     "xmas",       "thanksgiving", "ramadan",  "diwali",      "hanukkah",  "winter",
    "thinking",   "thought",    "reckon",       "guess",    "suppose",     "supposed",  "wondered",
    "heard",      "hear",       "read",         "told",     "tell",        "says",      "said",
    "saying",     "mentioned",  "recommended",  "swears",   "swear",       "reckons",   "keeps",
    "tried",      "trying",     "honest",       "honestly", "seriously",   "literally", "totally",
    "pretty",     "quite",      "super",        "loads",    "load",        "tons",      "stuff",
    "bunch",      "whatever",   "anyway",       "anyhow",   "thing",       "sort",      "kinda",
    "sorta",      "basically",  "genuinely",    "curious",  "confused",    "sceptical", "skeptical",
    "unsure",     "opinion",    "advice",       "info",     "information", "question",  "quick",
    "random",     "silly",      "dumb",         "stupid",   "sorry",       "cheers",    "lol",
    "haha",       "omg",        "btw",          "fyi",      "tbh",         "idk",       "imo",
    "ngl",        "pls",        "thx",          "ty",       "killing",     "wrecked",   "knackered",
    "shattered",  "grief",      "niggly",       "niggling", "grumbly",     "playing",   "acting",
    "bugging",    "bothering",  "annoying",     "driving",  "crazy",       "mad",       "nuts",
    "lent",       "borrowed",   "bought",       "buying",   "gave",        "given",     "got",
    "getting",    "wanted",     NULL,
};

/* Days said in the plural ("what time do you shut on fridays"): chat as
 * the singular is. */
static const char *const plural_days[] = {
    "mondays",   "tuesdays", "wednesdays", "thursdays", "fridays",
    "saturdays", "sundays",  "weekends",   NULL,
};

/*
 * Everyday words that judge, feel, tell the time or the story but name no
 * topic ("awful", "at the moment", "it was brutal"): chat like the above.
 * Other frequent English words the answers do not use are mostly nouns,
 * and a noun no answer knows is what an off-topic question is about
 * ("what should I wear to a wedding", "a good pizza").
 */
static const char *const general_words[] = {
    "awful",      "terrible",      "horrible",   "dreadful",   "brutal",     "decent",
    "lovely",     "love",          "loved",      "loves",      "hate",       "hated",
    "hates",      "amazing",       "awesome",    "brilliant",  "fab",        "great",
    "rubbish",    "worst",         "fast",       "happy",      "sad",        "fun",
    "funny",      "glad",          "keen",       "fancy",      "excited",    "nervous",
    "anxious",    "worried",       "scared",     "bored",      "angry",      "weird",
    "strange",    "odd",           "insane",     "ridiculous", "proper",     "properly",
    "decently",   "realistically", "ideally",    "hopefully",  "apparently", "obviously",
    "definitely", "absolutely",    "massively",  "slightly",   "mostly",     "mainly",
    "moment",     "moments",       "meanwhile",  "nowadays",   "ago",        "since",
    "yet",        "soon",          "whole",      "half",       "least",      "able",
    "ready",      "busy",          "hurry",      "necessary",  "meant",      "went",
    "came",       "took",          "saw",        "sat",        "stood",      "lay",
    "slept",      "kept",          "left",       "fell",       "hit",        "won",
    "lose",       "young",         "name",       "case",       "bye",        "write",
    "wrote",      "happened",      "manage",     "managed",    "afford",     "bother",
    "bothered",   "mention",       "convinced",  "sceptic",    "skeptic",    "believe",
    "believer",   "swore",         "sworn",      "squeeze",    "fit",        "juggle",
    "deal",       "dealing",       "struggle",   "struggling", "cope",       "coping",
    "manageable", "bearable",      "unbearable", "okayish",    "nagging",    "dull",
    "constant",   "annoyingly",    "recent",     "nightmare",  NULL,
};

enum {
	W_QUESTION = 1 << 0,   /* a question may start with it */
	W_JOINING = 1 << 1,    /* joins a second question */
	W_OPENING = 1 << 2,    /* may come before the question word */
	W_REQUEST = 1 << 3,    /* asks without a question word */
	W_CHAT = 1 << 4,       /* chat that says nothing about what is asked */
	W_TALK_FIRST = 1 << 5, /* the first word of a small-talk phrasing */
	W_TALK_LAST = 1 << 6,  /* the last word of one */
	W_ANSWER = 1 << 7,     /* a content word of an answer's phrasing ("help") */
};

static void
add_word_class(struct match_index *m, const char *w, size_t n, int cls)
{
	*hmap_put(&m->word_class, w, n, 0, NULL) |= cls;
}

static void
build_word_classes(struct match_index *m)
{
	static const struct {
		const char *const *words;
		int cls;
	} lists[] = {{question_words, W_QUESTION}, {joining_words, W_JOINING},
		     {opening_words, W_OPENING},   {request_words, W_REQUEST},
		     {chat_words, W_CHAT},         {general_words, W_CHAT},
		     {plural_days, W_CHAT}};
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (const char *const *w = lists[l].words; *w; w++)
			add_word_class(m, *w, strlen(*w), lists[l].cls);
}

static int
word_class(const struct match_index *m, const struct token *k)
{
	int c = hmap_get_h(&m->word_class, k->surf, k->surf_len, k->surf_hash);
	return c < 0 ? 0 : c;
}

/* ---- helpers -------------------------------------------------------------- */

/* In term_ids: a stem the matcher understands that is no term (a word of
 * a synonym group only). */
#define STEM_KNOWN (-2)

static void
mark_known(struct match_index *m, const char *stem)
{
	hmap_put(&m->term_ids, stem, strlen(stem), STEM_KNOWN, NULL);
}

static void
add_surface(struct match_index *m, const struct token *k)
{
	if (k->flags & (TOK_STOP | TOK_NUMBER) || k->surf_len < 2)
		return;
	size_t before = typo_count(&m->surf);
	int id = typo_add(&m->surf, k->surf, k->surf_len);
	if (typo_count(&m->surf) == before)
		return;
	m->surf_stem = xgrow(m->surf_stem, &m->capsurf, (size_t)id + 1, sizeof *m->surf_stem);
	memcpy(m->surf_stem[id], k->stem, (size_t)k->stem_len + 1);
}

/* All words of a tokenised text joined by spaces; 0 if it does not fit. */
static size_t
surface_key(const struct tokens *tk, char *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < tk->n; i++) {
		size_t l = tk->v[i].surf_len;
		if (n + l + 2 > cap)
			return 0;
		if (i)
			buf[n++] = ' ';
		memcpy(buf + n, tk->v[i].surf, l);
		n += l;
	}
	return n;
}

/* Stems of the content words of s, appended to seq (as exact readings). */
static void
content_stems(struct text_ctx *t, const char *s, struct tokens *tk, struct qtok **seq, size_t *n,
	      size_t *cap)
{
	text_tokenize(t, s, strlen(s), tk);
	*n = 0;
	for (size_t i = 0; i < tk->n; i++) {
		if (tk->v[i].flags & TOK_STOP)
			continue;
		*seq = xgrow(*seq, cap, *n + 1, sizeof **seq);
		memcpy((*seq)[*n].stem, tk->v[i].stem, (size_t)tk->v[i].stem_len + 1);
		(*seq)[*n].c = 1.0;
		(*seq)[*n].id = ID_UNSEEN;
		(*seq)[*n].tok = (uint16_t)i;
		(*n)++;
	}
}

static uint32_t
pool_stems(struct match_index *m, const struct qtok *seq, size_t n)
{
	uint32_t off = (uint32_t)m->nsyn_stems;
	m->syn_stems =
	    xgrow(m->syn_stems, &m->capsyn_stems, m->nsyn_stems + n, sizeof *m->syn_stems);
	for (size_t i = 0; i < n; i++)
		memcpy(m->syn_stems[m->nsyn_stems++], seq[i].stem, TEXT_WORD_MAX);
	return off;
}

static void
build_synonyms(struct match_index *m, struct text_ctx *t, const struct kb_syns *syns,
	       struct problems *pr)
{
	struct tokens tk = {0};
	struct qtok *seq = NULL;
	size_t n = 0, cap = 0;
	struct hmap seen; /* joined stems -> group */
	hmap_init(&seen);
	for (size_t g = 0; g < syns->n; g++) {
		const struct kb_syn *grp = &syns->v[g];
		content_stems(t, grp->terms[0].s, &tk, &seq, &n, &cap);
		if (n == 0)
			continue;
		for (size_t i = 0; i < tk.n; i++)
			add_surface(m, &tk.v[i]);
		uint32_t c_off = pool_stems(m, seq, n);
		uint32_t c_n = (uint32_t)n;
		for (uint32_t i = 0; i < c_n; i++)
			mark_known(m, m->syn_stems[c_off + i]);
		for (size_t k = 0; k < grp->n; k++) {
			content_stems(t, grp->terms[k].s, &tk, &seq, &n, &cap);
			if (tk.n > 1 && n <= 1) {
				/* "can not make it" would read every "make" as "cancel" */
				problems_add(pr, syns->file ? syns->file : "synonyms.txt",
					     grp->terms[k].line, 1,
					     "'%s' is read as %s%s%s: the matcher skips function "
					     "words; write that word alone, or a phrase with two "
					     "words that are not function words",
					     grp->terms[k].s, n ? "'" : "nothing",
					     n ? seq[0].stem : "", n ? "' alone" : "");
				continue;
			}
			if (n == 0)
				continue;
			struct strbuf key = STRBUF_INIT;
			for (size_t i = 0; i < n; i++)
				sb_addf(&key, "%s ", seq[i].stem);
			int ins;
			int *first = hmap_put(&seen, key.s, key.len, (int)g, &ins);
			if (!ins) {
				if (*first != (int)g)
					problems_add(
					    pr, syns->file ? syns->file : "synonyms.txt",
					    grp->terms[k].line, 1,
					    "'%s' is already in the synonym group at line %u",
					    grp->terms[k].s, syns->v[*first].terms[0].line);
				sb_free(&key);
				continue;
			}
			sb_free(&key);
			for (size_t i = 0; i < tk.n; i++)
				add_surface(m, &tk.v[i]);
			if (k == 0)
				continue;
			m->syn_vars = xgrow(m->syn_vars, &m->capsyn_vars, m->nsyn_vars + 1,
					    sizeof *m->syn_vars);
			struct syn_var *v = &m->syn_vars[m->nsyn_vars];
			v->off = pool_stems(m, seq, n);
			v->n = (uint32_t)n;
			v->c_off = c_off;
			v->c_n = c_n;
			int *head =
			    hmap_put(&m->syn_first, seq[0].stem, strlen(seq[0].stem), -1, NULL);
			v->next = *head;
			*head = (int)m->nsyn_vars++;
			for (size_t i = 0; i < n; i++)
				mark_known(m, seq[i].stem);
		}
	}
	hmap_free(&seen);
	tokens_free(&tk);
	free(seq);
}

/* Rewrite in -> out replacing the longest synonym variant at each place. */
static void
apply_synonyms(const struct match_index *m, const struct qtok *in, size_t n, struct qtok **out,
	       size_t *on, size_t *cap)
{
	*on = 0;
	for (size_t i = 0; i < n;) {
		int best = -1;
		uint32_t best_n = 0;
		int v = hmap_get(&m->syn_first, in[i].stem, strlen(in[i].stem));
		for (; v >= 0; v = m->syn_vars[v].next) {
			const struct syn_var *sv = &m->syn_vars[v];
			if (sv->n <= best_n || i + sv->n > n)
				continue;
			uint32_t j = 0;
			while (j < sv->n && strcmp(in[i + j].stem, m->syn_stems[sv->off + j]) == 0)
				j++;
			if (j == sv->n) {
				best = v;
				best_n = sv->n;
			}
		}
		if (best < 0) {
			*out = xgrow(*out, cap, *on + 1, sizeof **out);
			(*out)[(*on)++] = in[i++];
			continue;
		}
		const struct syn_var *sv = &m->syn_vars[best];
		double c = 1.0;
		for (uint32_t j = 0; j < sv->n; j++)
			if (in[i + j].c < c)
				c = in[i + j].c;
		for (uint32_t j = 0; j < sv->c_n; j++) {
			*out = xgrow(*out, cap, *on + 1, sizeof **out);
			struct qtok *o = &(*out)[(*on)++];
			memcpy(o->stem, m->syn_stems[sv->c_off + j], TEXT_WORD_MAX);
			o->c = c;
			o->id = ID_UNSEEN;
			o->tok = in[i + (j < sv->n ? j : sv->n - 1)].tok;
		}
		i += sv->n;
	}
}

/* ---- build ------------------------------------------------------------- */

/* Build-time state shared by the steps of match_build. */
struct builder {
	struct text_ctx *t;
	struct tokens tk;
	struct qtok *seq, *seq2;
	size_t nseq, capseq, nseq2, capseq2;
	uint32_t *pterms; /* per phrasing: term ids, UINT32_MAX after each */
	size_t npt, cappt;
	uint32_t *bpairs; /* (term, intent) found only in answer text */
	size_t nbp, capbp;
	struct hmap common; /* stems of common English words seen */
	struct hmap stops;  /* stems of stop words seen */
	struct seen {       /* per term: where it was last counted */
		int intent, phr, body;
	} * seen;
	size_t capseen;
};

static int
term_id(struct match_index *m, struct builder *b, const char *stem, size_t n)
{
	int ins;
	int *v = hmap_put(&m->term_ids, stem, n, STEM_KNOWN, &ins);
	if (*v == STEM_KNOWN) {
		*v = (int)m->nterms;
		m->term = xgrow(m->term, &m->capterms, m->nterms + 1, sizeof *m->term);
		memset(&m->term[m->nterms], 0, sizeof *m->term);
		b->seen = xgrow(b->seen, &b->capseen, m->nterms + 1, sizeof *b->seen);
		b->seen[m->nterms] = (struct seen){-1, -1, -1};
		m->nterms++;
	}
	return *v;
}

/* Append the function words of b->tk to b->seq2 as weak terms ("who
 * should not", "how"). */
static void
add_stop_terms(const struct match_index *m, struct builder *b)
{
	for (size_t k = 0; m->tu.stop_weight > 0 && k < b->tk.n; k++) {
		const struct token *w = &b->tk.v[k];
		if (!(w->flags & TOK_STOP))
			continue;
		hmap_put(&b->stops, w->stem, w->stem_len, 1, NULL);
		b->seq2 = xgrow(b->seq2, &b->capseq2, b->nseq2 + 1, sizeof *b->seq2);
		memcpy(b->seq2[b->nseq2].stem, w->stem, (size_t)w->stem_len + 1);
		b->seq2[b->nseq2].c = 1.0;
		b->seq2[b->nseq2].tok = (uint16_t)k;
		b->seq2[b->nseq2].id = ID_UNSEEN;
		b->nseq2++;
	}
}

/* One phrasing (a question or the title) of intent i: its terms counted
 * (postings filled later), the whole text kept for exact matches. */
static void
index_phrasing(struct match_index *m, struct builder *b, uint32_t i, const char *text,
	       const struct match_question_hook *hook, size_t question)
{
	content_stems(b->t, text, &b->tk, &b->seq, &b->nseq, &b->capseq);
	if (hook)
		hook->fn(hook->ctx, i, question, &b->tk);
	for (size_t k = 0; k < b->tk.n; k++) {
		add_surface(m, &b->tk.v[k]);
		if (b->tk.v[k].flags & TOK_COMMON)
			hmap_put(&b->common, b->tk.v[k].stem, b->tk.v[k].stem_len, 1, NULL);
	}
	char key[512];
	size_t kl = surface_key(&b->tk, key, sizeof key);
	if (kl)
		hmap_put(&m->exact, key, kl, (int)i, NULL);
	if (m->small_talk[i] && b->tk.n) {
		const struct token *f = &b->tk.v[0], *l = &b->tk.v[b->tk.n - 1];
		add_word_class(m, f->surf, f->surf_len, W_TALK_FIRST);
		add_word_class(m, l->surf, l->surf_len, W_TALK_LAST);
	}
	for (size_t k = 0; !m->small_talk[i] && k < b->tk.n; k++)
		if (!(b->tk.v[k].flags & TOK_STOP))
			add_word_class(m, b->tk.v[k].surf, b->tk.v[k].surf_len, W_ANSWER);
	apply_synonyms(m, b->seq, b->nseq, &b->seq2, &b->nseq2, &b->capseq2);
	add_stop_terms(m, b);
	if (b->nseq2 == 0)
		return;
	int pid = (int)m->nphr;
	m->phr = xgrow(m->phr, &m->capphr, m->nphr + 1, sizeof *m->phr);
	m->phr[m->nphr].intent = i;
	m->phr[m->nphr].w = 0;
	m->nphr++;
	for (size_t k = 0; k < b->nseq2; k++) {
		const char *stem = b->seq2[k].stem;
		int id = term_id(m, b, stem, strlen(stem));
		struct term *tm = &m->term[id];
		struct seen *sn = &b->seen[id];
		if (sn->phr == pid)
			continue;
		sn->phr = pid;
		tm->p_n++;
		if (sn->intent != (int)i) {
			sn->intent = (int)i;
			tm->i_n++;
		}
		b->pterms = xgrow(b->pterms, &b->cappt, b->npt + 1, sizeof *b->pterms);
		b->pterms[b->npt++] = (uint32_t)id;
	}
	b->pterms = xgrow(b->pterms, &b->cappt, b->npt + 1, sizeof *b->pterms);
	b->pterms[b->npt++] = UINT32_MAX;
}

/* The answer text of intent i: weaker evidence for it, and words a person
 * may use that the phrasings do not. */
static void
index_body(struct match_index *m, struct builder *b, uint32_t i, const char *body)
{
	content_stems(b->t, body, &b->tk, &b->seq, &b->nseq, &b->capseq);
	for (size_t k = 0; k < b->tk.n; k++)
		add_surface(m, &b->tk.v[k]);
	apply_synonyms(m, b->seq, b->nseq, &b->seq2, &b->nseq2, &b->capseq2);
	for (size_t k = 0; k < b->nseq2; k++) {
		const char *stem = b->seq2[k].stem;
		int id = term_id(m, b, stem, strlen(stem));
		struct term *tm = &m->term[id];
		struct seen *sn = &b->seen[id];
		if (sn->intent == (int)i || sn->body == (int)i)
			continue;
		sn->body = (int)i;
		tm->i_n++;
		b->bpairs = xgrow(b->bpairs, &b->capbp, b->nbp + 2, sizeof *b->bpairs);
		b->bpairs[b->nbp++] = (uint32_t)id;
		b->bpairs[b->nbp++] = i;
	}
}

/* Each term's idf over intents (function and common words weigh less), its
 * postings' offsets (counting sort), and the weight of an unknown word. */
static void
weigh_terms(struct match_index *m, struct builder *b)
{
	double sum_idf = 0, n = (double)m->nintent;
	uint32_t poff = 0, ioff = 0;
	uint32_t *ent = xcalloc(m->nterms + 1, sizeof *ent); /* each term's entry in term_ids */
	for (size_t e = 0; e < hmap_count(&m->term_ids); e++) {
		size_t sl;
		const char *stem = hmap_key(&m->term_ids, e, &sl);
		int id = hmap_get(&m->term_ids, stem, sl);
		if (id >= 0)
			ent[id] = (uint32_t)e;
	}
	for (size_t k = 0; k < m->nterms; k++) {
		struct term *tm = &m->term[k];
		double df = tm->i_n;
		size_t sl;
		const char *stem = hmap_key(&m->term_ids, ent[k], &sl);
		/* every word the answers use says the question is in their
		 * domain, however many answers use it ("massage") */
		tm->idf = log(1.0 + (n - df + 0.5) / (df + 0.5)) + m->tu.domain_weight;
		if (hmap_get(&b->stops, stem, sl) >= 0)
			tm->idf *= m->tu.stop_weight;
		else if (hmap_get(&b->common, stem, sl) >= 0)
			tm->idf *= m->tu.common_weight;
		sum_idf += tm->idf;
		tm->p_off = poff;
		tm->i_off = ioff;
		poff += tm->p_n;
		ioff += tm->i_n;
		tm->p_n = tm->i_n = 0;
		b->seen[k].intent = -1;
	}
	free(ent);
	double mean_idf = m->nterms ? sum_idf / (double)m->nterms : 1.0;
	m->mean_idf = mean_idf;
	m->unknown_weight = m->tu.unknown_frac * mean_idf;
	m->evidence_prior = m->tu.evidence_prior * mean_idf;
	m->ppost = xcalloc(poff ? poff : 1, sizeof *m->ppost);
	m->ipost = xcalloc(ioff ? ioff : 1, sizeof *m->ipost);
	m->ipost_weight = xcalloc(ioff ? ioff : 1, sizeof *m->ipost_weight);
}

/* Phrasing and intent postings, each phrasing's weight, the forward index
 * (each phrasing's terms), then the body-only intent postings. */
static void
fill_postings(struct match_index *m, struct builder *b)
{
	uint32_t pid = 0;
	for (size_t k = 0; k < b->npt; k++) {
		if (b->pterms[k] == UINT32_MAX) {
			pid++;
			continue;
		}
		struct term *tm = &m->term[b->pterms[k]];
		uint32_t intent = m->phr[pid].intent;
		m->ppost[tm->p_off + tm->p_n++] = pid;
		m->phr[pid].w += tm->idf;
		if (b->seen[b->pterms[k]].intent != (int)intent) {
			b->seen[b->pterms[k]].intent = (int)intent;
			m->ipost_weight[tm->i_off + tm->i_n] = 1.0f;
			m->ipost[tm->i_off + tm->i_n++] = intent;
		}
	}
	for (size_t k = 0; k < m->nphr; k++)
		m->phr[k].w_pow =
		    pow(m->phr[k].w > 0 ? m->phr[k].w : 1e-9,
			1.0 - (m->small_talk[m->phr[k].intent] ? m->tu.q_exp_small : m->tu.q_exp));
	m->phr_terms = xcalloc(b->npt ? b->npt : 1, sizeof *m->phr_terms);
	m->phr_terms_off = xcalloc(m->nphr + 1, sizeof *m->phr_terms_off);
	size_t nf = 0, pi = 0;
	for (size_t k = 0; k < b->npt; k++) {
		if (b->pterms[k] == UINT32_MAX)
			m->phr_terms_off[++pi] = (uint32_t)nf;
		else
			m->phr_terms[nf++] = b->pterms[k];
	}
	m->avg_phr_terms = m->nphr ? (double)nf / (double)m->nphr : 0;
	for (size_t k = 0; k < b->nbp; k += 2) {
		struct term *tm = &m->term[b->bpairs[k]];
		m->ipost_weight[tm->i_off + tm->i_n] = (float)m->tu.body_weight;
		m->ipost[tm->i_off + tm->i_n++] = b->bpairs[k + 1];
	}
}

/* Membership bitmaps: intents (phrasing, body) for terms found in very
 * many intents; phrasings for terms in one phrasing of 32 or more (where a
 * bitmap takes no more room than their postings). */
static void
build_bitmaps(struct match_index *m)
{
	m->words_per_pbm = (m->nphr + 63) / 64;
	size_t npbm = 0;
	for (size_t k = 0; k < m->nterms; k++) {
		const struct term *tm = &m->term[k];
		m->term[k].phr_bitmap = tm->p_n > LONG_POSTINGS && (size_t)tm->p_n * 32 >= m->nphr
					    ? (int32_t)npbm++
					    : -1;
	}
	m->phr_bitmaps = xcalloc(npbm * m->words_per_pbm + 1, sizeof *m->phr_bitmaps);
	for (size_t k = 0; k < m->nterms; k++) {
		const struct term *tm = &m->term[k];
		if (tm->phr_bitmap < 0)
			continue;
		uint64_t *bits = m->phr_bitmaps + (size_t)tm->phr_bitmap * m->words_per_pbm;
		for (uint32_t x = 0; x < tm->p_n; x++) {
			uint32_t ph = m->ppost[tm->p_off + x];
			bits[ph / 64] |= 1ULL << (ph % 64);
		}
	}
	m->words_per_bm = (m->nintent + 63) / 64;
	size_t nbm = 0;
	for (size_t k = 0; k < m->nterms; k++)
		m->term[k].bitmap = m->term[k].i_n > LONG_INTENTS ? (int32_t)nbm++ : -1;
	m->bitmaps = xcalloc(nbm * 2 * m->words_per_bm + 1, sizeof *m->bitmaps);
	for (size_t k = 0; k < m->nterms; k++) {
		const struct term *tm = &m->term[k];
		if (tm->bitmap < 0)
			continue;
		uint64_t *bits = m->bitmaps + (size_t)tm->bitmap * 2 * m->words_per_bm;
		for (uint32_t x = 0; x < tm->i_n; x++) {
			uint32_t in = m->ipost[tm->i_off + x];
			uint64_t *w =
			    bits + (m->ipost_weight[tm->i_off + x] >= 1.0f ? 0 : m->words_per_bm);
			w[in / 64] |= 1ULL << (in % 64);
		}
	}
}

/* Each intent's title and id phrasings (title_phr: their ids, or -1) with
 * their terms and weights in a row. */
static void
build_titles(struct match_index *m, const int32_t (*title_phr)[2])
{
	size_t n = 0;
	for (size_t i = 0; i < m->nintent; i++)
		for (int t = 0; t < 2; t++)
			if (title_phr[i][t] >= 0)
				n += m->phr_terms_off[title_phr[i][t] + 1] -
				     m->phr_terms_off[title_phr[i][t]];
	m->title = xcalloc(m->nintent ? m->nintent : 1, sizeof *m->title);
	m->title_term = xcalloc(n ? n : 1, sizeof *m->title_term);
	uint32_t o = 0;
	for (size_t i = 0; i < m->nintent; i++)
		for (int t = 0; t < 2; t++) {
			int32_t ph = title_phr[i][t];
			struct title *ti = &m->title[i][t];
			ti->off = o;
			if (ph < 0 || m->phr[ph].w <= 0)
				continue; /* ti->w 0: none */
			ti->w = m->phr[ph].w;
			for (uint32_t x = m->phr_terms_off[ph]; x < m->phr_terms_off[ph + 1]; x++) {
				uint32_t tm = m->phr_terms[x];
				m->title_term[o++] = (struct title_term){tm, m->term[tm].idf};
				ti->n++;
			}
		}
}

struct match_index *
match_build(struct text_ctx *t, const struct kb_entry *entries, size_t n,
	    const struct kb_syns *syns, const struct wordset *dict, const struct match_tuning *tu,
	    struct problems *pr, const struct match_question_hook *hook)
{
	struct match_index *m = xcalloc(1, sizeof *m);
	struct builder b = {.t = t};
	hmap_init(&b.common);
	hmap_init(&b.stops);
	m->tu = tu ? *tu : match_default_tuning;
	m->dict = dict;
	m->small_talk = xcalloc(n ? n : 1, 1);
	int32_t(*title_phr)[2] = xcalloc(n ? n : 1, sizeof *title_phr);
	for (size_t i = 0; i < n; i++)
		m->small_talk[i] = (uint8_t)entries[i].small_talk;
	hmap_init(&m->term_ids);
	typo_init(&m->surf);
	hmap_init(&m->syn_first);
	hmap_init(&m->exact);
	hmap_init(&m->word_class);
	build_word_classes(m);
	m->nintent = n;
	if (syns)
		build_synonyms(m, t, syns, pr);
	for (size_t i = 0; i < n; i++) {
		const struct kb_entry *e = &entries[i];
		size_t before = m->nphr;
		title_phr[i][0] = title_phr[i][1] = -1;
		if (e->title.s)
			index_phrasing(m, &b, (uint32_t)i, e->title.s, NULL, 0);
		if (m->nphr > before)
			title_phr[i][0] = (int32_t)before;
		before = m->nphr;
		if (e->id.s && !e->small_talk) { /* "complementary-treatments" */
			char name[128];
			snprintf(name, sizeof name, "%s", e->id.s);
			for (char *c = name; *c; c++)
				*c = *c == '-' ? ' ' : *c;
			index_phrasing(m, &b, (uint32_t)i, name, NULL, 0);
		}
		if (m->nphr > before)
			title_phr[i][1] = (int32_t)before;
		for (size_t q = 0; q < e->questions.n; q++)
			if (e->questions.v[q].s)
				index_phrasing(m, &b, (uint32_t)i, e->questions.v[q].s, hook, q);
		if (e->body && m->tu.body_weight > 0)
			index_body(m, &b, (uint32_t)i, e->body);
	}
	weigh_terms(m, &b);
	fill_postings(m, &b);
	build_bitmaps(m);
	build_titles(m, title_phr);
	free(title_phr);
	typo_seal(&m->surf);
	hmap_shrink(&m->term_ids);
	hmap_shrink(&m->syn_first);
	hmap_shrink(&m->exact);
	hmap_shrink(&m->word_class);
	hmap_free(&b.common);
	hmap_free(&b.stops);
	free(b.pterms);
	free(b.bpairs);
	free(b.seen);
	free(b.seq);
	free(b.seq2);
	tokens_free(&b.tk);
	return m;
}

void
match_free(struct match_index *m)
{
	if (m == NULL)
		return;
	hmap_free(&m->term_ids);
	typo_free(&m->surf);
	hmap_free(&m->syn_first);
	hmap_free(&m->exact);
	hmap_free(&m->word_class);
	free(m->small_talk);
	free(m->title);
	free(m->title_term);
	free(m->term);
	free(m->ppost);
	free(m->ipost);
	free(m->ipost_weight);
	free(m->phr_terms);
	free(m->phr_terms_off);
	free(m->bitmaps);
	free(m->phr_bitmaps);
	free(m->phr);
	free(m->surf_stem);
	free(m->syn_vars);
	free(m->syn_stems);
	free(m);
}

struct match_scratch *
match_scratch_new(void)
{
	struct match_scratch *s = xcalloc(1, sizeof *s);
	hmap_init(&s->cache);
	return s;
}

void
match_scratch_free(struct match_scratch *s)
{
	if (s == NULL)
		return;
	free(s->acc);
	free(s->touched);
	free(s->tbits);
	free(s->best);
	free(s->bag);
	free(s->itouched);
	free(s->iseen);
	free(s->seq);
	free(s->seq2);
	free(s->qt);
	free(s->term_c);
	free(s->term_qt);
	free(s->unk);
	free(s->reading);
	free(s->tok_clause);
	free(s->tok_class);
	hmap_free(&s->cache);
	free(s);
}

/* ---- query ------------------------------------------------------------- */

static void
push_seq(struct match_scratch *s, const char *stem, double c, size_t tok, int id)
{
	s->seq = xgrow(s->seq, &s->capseq, s->nseq + 1, sizeof *s->seq);
	struct qtok *q = &s->seq[s->nseq++];
	size_t l = strlen(stem);
	memcpy(q->stem, stem, l + 1);
	q->c = c;
	q->tok = (uint16_t)tok;
	q->id = id;
}

/* Read one unknown word: a compound split or a typo fix. */
static void
read_unknown(const struct match_index *m, struct match_scratch *s, const struct token *k, size_t i)
{
	size_t n = k->surf_len;
	int real_word = m->dict && wordset_has(m->dict, k->surf, n);
	if (n >= 6 && !real_word) {
		size_t best_split = 0, best_min = 0;
		for (size_t cut = 3; cut + 3 <= n; cut++) {
			if (typo_find(&m->surf, k->surf, cut) < 0 ||
			    typo_find(&m->surf, k->surf + cut, n - cut) < 0)
				continue;
			size_t mn = cut < n - cut ? cut : n - cut;
			if (mn > best_min) {
				best_min = mn;
				best_split = cut;
			}
		}
		if (best_split) {
			int a = typo_find(&m->surf, k->surf, best_split);
			int b = typo_find(&m->surf, k->surf + best_split, n - best_split);
			push_seq(s, m->surf_stem[a], m->tu.c_split, i, ID_UNSEEN);
			push_seq(s, m->surf_stem[b], m->tu.c_split, i, ID_UNSEEN);
			snprintf(s->reading[i], sizeof s->reading[i], "%.*s %.*s", (int)best_split,
				 k->surf, (int)(n - best_split), k->surf + best_split);
			return;
		}
	}
	if (n < 3 || (k->flags & TOK_COMMON))
		return;
	if (real_word)
		return; /* a real word, just not one the knowledge uses */
	if (s->cache_vocab != m->surf.hash || hmap_count(&s->cache) >= TYPO_CACHE_MAX) {
		hmap_clear(&s->cache);
		s->cache_vocab = m->surf.hash;
	}
	int ins;
	int *slot = hmap_put_h(&s->cache, k->surf, n, k->surf_hash, -2, &ins);
	if (ins) {
		int d = 0, f = typo_correct(&m->surf, k->surf, n, &d);
		*slot = f < 0 ? -2 : f * 4 + d;
	}
	if (*slot < 0)
		return;
	int fix = *slot / 4, dist = *slot % 4;
	push_seq(s, m->surf_stem[fix], dist == 1 ? m->tu.c_typo1 : m->tu.c_typo2, i, ID_UNSEEN);
	snprintf(s->reading[i], sizeof s->reading[i], "%s", typo_word(&m->surf, fix, NULL));
}

static void
ensure_scratch(const struct match_index *m, struct match_scratch *s, size_t ntok)
{
	if (s->capph < m->nphr) {
		s->capph = m->nphr;
		free(s->acc);
		free(s->touched);
		free(s->tbits);
		s->acc = xcalloc(m->nphr, sizeof *s->acc);
		s->touched = xcalloc(m->nphr, sizeof *s->touched);
		s->tbits = xcalloc(m->nphr / 64 + 1, sizeof *s->tbits);
	}
	if (s->capin < m->nintent) {
		s->capin = m->nintent;
		free(s->best);
		free(s->bag);
		free(s->itouched);
		free(s->iseen);
		s->best = xcalloc(m->nintent, sizeof *s->best);
		s->bag = xcalloc(m->nintent, sizeof *s->bag);
		s->itouched = xcalloc(m->nintent, sizeof *s->itouched);
		s->iseen = xcalloc(m->nintent, 1);
	}
	if (s->capterm < m->nterms) {
		s->capterm = m->nterms;
		free(s->term_c);
		free(s->term_qt);
		s->term_c = xcalloc(m->nterms, sizeof *s->term_c);
		s->term_qt = xcalloc(m->nterms, sizeof *s->term_qt);
	}
	if (s->capreading < ntok + 1) {
		free(s->reading);
		free(s->tok_clause);
		free(s->tok_class);
		s->capreading = ntok + 1;
		s->reading = xcalloc(s->capreading, sizeof *s->reading);
		s->tok_clause = xcalloc(s->capreading, 1);
		s->tok_class = xcalloc(s->capreading, 1);
	}
}

/* A very common term: credit only the phrasings and intents already found. */
static void
add_late_term(const struct match_index *m, struct match_scratch *s, uint32_t term, double w)
{
	const struct term *tm = &m->term[term];
	/* walk whichever is shorter: the term's postings (acc != 0 marks a
	 * phrasing found already), or the found phrasings' own terms */
	if (tm->phr_bitmap >= 0) { /* a bit per phrasing: the found ones that hold it */
		const uint64_t *bits = m->phr_bitmaps + (size_t)tm->phr_bitmap * m->words_per_pbm;
		for (size_t x = 0; x < m->words_per_pbm; x++)
			for (uint64_t b = bits[x] & s->tbits[x]; b; b &= b - 1)
				s->acc[x * 64 + (size_t)__builtin_ctzll(b)] += w;
	} else if ((double)tm->p_n <= (double)s->ntouched * m->avg_phr_terms) {
		for (uint32_t k = 0; k < tm->p_n; k++) {
			uint32_t ph = m->ppost[tm->p_off + k];
			if (s->acc[ph] != 0)
				s->acc[ph] += w;
		}
	} else {
		for (size_t k = 0; k < s->ntouched; k++) {
			uint32_t ph = s->touched[k];
			for (uint32_t x = m->phr_terms_off[ph]; x < m->phr_terms_off[ph + 1]; x++)
				if (m->phr_terms[x] == term) {
					s->acc[ph] += w;
					break;
				}
		}
	}
	if (tm->bitmap < 0) {
		for (uint32_t k = 0; k < tm->i_n; k++) {
			uint32_t in = m->ipost[tm->i_off + k];
			if (s->iseen[in])
				s->bag[in] += w * m->ipost_weight[tm->i_off + k];
		}
		return;
	}
	const uint64_t *b = m->bitmaps + (size_t)tm->bitmap * 2 * m->words_per_bm;
	for (size_t k = 0; k < s->nitouched; k++) {
		uint32_t in = s->itouched[k];
		if (b[in / 64] >> (in % 64) & 1)
			s->bag[in] += w;
		else if (b[m->words_per_bm + in / 64] >> (in % 64) & 1)
			s->bag[in] += w * m->tu.body_weight;
	}
}

static void
touch_intent(struct match_scratch *s, uint32_t in)
{
	if (!s->iseen[in]) {
		s->iseen[in] = 1;
		s->best[in] = 0;
		s->bag[in] = 0;
		s->itouched[s->nitouched++] = in;
	}
}

/* The content words of the query (token indices) that intent c->intent
 * knows, for explanations. */
static void
add_terms(const struct match_index *m, const struct match_scratch *s, const struct tokens *q,
	  struct match_cand *c)
{
	c->nterms = 0;
	for (size_t j = 0; j < s->nqt && c->nterms < MATCH_TERMS_MAX; j++) {
		if (s->qt[j].term < 0 || (q->v[s->qt[j].tok].flags & TOK_STOP))
			continue;
		const struct term *tm = &m->term[s->qt[j].term];
		for (uint32_t k = 0; k < tm->i_n; k++) {
			if (m->ipost[tm->i_off + k] == (uint32_t)c->intent) {
				int dup = 0;
				for (size_t x = 0; x < c->nterms; x++)
					dup |= c->terms[x] == s->qt[j].tok;
				if (!dup)
					c->terms[c->nterms++] = s->qt[j].tok;
				break;
			}
		}
	}
}

/* ---- clauses ------------------------------------------------------------ */

/*
 * A message is cut into clauses: its sentences, and inside a sentence
 * before a question word that follows a comma ("..., where is it") or a
 * joining word ("... and can I pay by card").  A greeting or thanks at the
 * start or end of a clause, written as a small-talk phrasing, is a clause
 * of its own.  Each clause is a question (a '?', a question word first, or
 * a request: "I'd like to ...", "tell me ..."), a statement (context), or
 * small talk.
 */
enum { CL_QUESTION, CL_STATEMENT, CL_SMALL_TALK, CL_TOPIC /* an earlier answer's */ };

/* Auxiliaries that open a statement with its subject left out as often as
 * a question ("was told I've got a slipped disc", "my nan is 85 and has a
 * bad back", "had a massage yesterday"): they open a question only before
 * a subject ("was it", "have you", "has anyone"). */
static const char *const elided_aux[] = {"was", "were", "has", "have", "had", NULL};
static const char *const subjects[] = {
    "i",     "you",    "he",      "she",     "it",       "we",       "they",
    "there", "anyone", "anybody", "someone", "somebody", "everyone", "everybody",
    "this",  "that",   "these",   "those",   "y",        NULL,
};

static int
surf_in(const struct token *t, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (t->surf_len == strlen(list[i]) && memcmp(t->surf, list[i], t->surf_len) == 0)
			return 1;
	return 0;
}

/* Does token i open a question (a question word, and a subject after an
 * auxiliary of elided_aux)? */
static int
opens_question(const struct match_scratch *s, const struct tokens *q, size_t i)
{
	if (!(s->tok_class[i] & W_QUESTION))
		return 0;
	if (!surf_in(&q->v[i], elided_aux))
		return 1;
	return i + 1 < q->n && q->v[i + 1].sent == q->v[i].sent && surf_in(&q->v[i + 1], subjects);
}

/* The punctuation between token i and the next one (or the end). */
static int
gap_has(const struct tokens *q, const char *text, size_t len, size_t i, const char *chars)
{
	if (text == NULL)
		return 0;
	size_t a = q->v[i].off + q->v[i].len, b = i + 1 < q->n ? q->v[i + 1].off : len;
	for (size_t x = a; x < b && x < len; x++)
		if (strchr(chars, text[x]))
			return 1;
	return 0;
}

/* The intent written exactly as tokens [from, to), or -1. */
static int
exact_span(const struct match_index *m, const struct tokens *q, size_t from, size_t to)
{
	struct tokens sub = {q->v + from, to - from, 0};
	char key[512];
	size_t kl = surface_key(&sub, key, sizeof key);
	return kl ? hmap_get(&m->exact, key, kl) : -1;
}

static int
small_talk_span(const struct match_index *m, const struct tokens *q, size_t from, size_t to)
{
	int ex = exact_span(m, q, from, to);
	return ex >= 0 && m->small_talk[ex] ? ex : -1;
}

static void
add_clause(struct match_scratch *s, size_t from, size_t to, int kind, int asks, int intent)
{
	if (from >= to)
		return;
	if (s->nclause == MATCH_CLAUSES_MAX) {
		s->clause[s->nclause - 1].to = (uint16_t)to; /* the rest joins the last */
		return;
	}
	struct clause *c = &s->clause[s->nclause++];
	c->from = (uint16_t)from;
	c->to = (uint16_t)to;
	c->kind = (uint8_t)kind;
	c->asks = (uint8_t)asks;
	c->exact = intent;
}

/*
 * Small talk [a, b) at the edge of a clause stands apart from the rest:
 * punctuation between them (gap: the token before the punctuation), or
 * its words are no answer's words ("how do I book thanks", but "would a
 * massage help" keeps its "help").
 */
static int
talk_apart(const struct match_scratch *s, const struct tokens *q, const char *text, size_t len,
	   size_t a, size_t b, size_t gap)
{
	if (gap_has(q, text, len, gap, ",.!;:-()"))
		return 1;
	for (size_t i = a; i < b; i++)
		if (s->tok_class[i] & W_ANSWER)
			return 0;
	return 1;
}

/* One piece of a sentence: small talk around it split off, then typed. */
static void
type_clause(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
	    const char *text, size_t len, size_t from, size_t to)
{
	int st = (s->tok_class[from] & W_TALK_FIRST) && (s->tok_class[to - 1] & W_TALK_LAST)
		     ? small_talk_span(m, q, from, to)
		     : -1;
	if (st >= 0) {
		add_clause(s, from, to, CL_SMALL_TALK, 0, st);
		return;
	}
	for (size_t l = 4; l >= 1 && (s->tok_class[from] & W_TALK_FIRST); l--) {
		/* "hey 👋 is massage ...", "hi, ..."; not "help me choose" */
		if (from + l >= to || !(s->tok_class[from + l - 1] & W_TALK_LAST) ||
		    !talk_apart(s, q, text, len, from, from + l, from + l - 1) ||
		    (st = small_talk_span(m, q, from, from + l)) < 0)
			continue;
		add_clause(s, from, from + l, CL_SMALL_TALK, 0, st);
		from += l;
		break;
	}
	int tail = -1;
	size_t tail_from = to;
	for (size_t l = 3; l >= 1 && (s->tok_class[to - 1] & W_TALK_LAST); l--) {
		/* "..., thanks!"; not "would massage help" */
		if (from + l >= to || !(s->tok_class[to - l] & W_TALK_FIRST) ||
		    !talk_apart(s, q, text, len, to - l, to, to - l - 1) ||
		    (st = small_talk_span(m, q, to - l, to)) < 0)
			continue;
		tail = st;
		tail_from = to - l;
		break;
	}
	size_t first = from;
	while (first + 1 < tail_from && (s->tok_class[first] & W_OPENING))
		first++;
	int kind = gap_has(q, text, len, tail_from - 1, "?") || opens_question(s, q, first)
		       ? CL_QUESTION
		       : CL_STATEMENT;
	for (size_t i = from; i < tail_from && kind == CL_STATEMENT; i++)
		if ((s->tok_class[i] & W_REQUEST) ||
		    (i > from && q->v[i].surf_len == 4 && memcmp(q->v[i].surf, "like", 4) == 0 &&
		     q->v[i - 1].surf_len == 5 && memcmp(q->v[i - 1].surf, "would", 5) == 0))
			kind = CL_QUESTION;
	int content = 0, asks = kind == CL_QUESTION;
	for (size_t i = from; i < tail_from; i++)
		content |= !(q->v[i].flags & TOK_STOP);
	if (!content) /* "hi, anyone there?", "what should i do?" */
		kind = CL_SMALL_TALK;
	int ex = exact_span(m, q, from, tail_from);
	add_clause(s, from, tail_from, kind, asks, ex);
	if (tail >= 0)
		add_clause(s, tail_from, to, CL_SMALL_TALK, 0, tail);
}

/* The weight of the topic that token i is in (topics t[0..nt), by start). */
static double
topic_weight_at(const struct match_topic *t, size_t nt, size_t i)
{
	double w = 0;
	for (size_t j = 0; j < nt && t[j].from <= i; j++)
		w = t[j].weight;
	return w;
}

static int
topic_starts(const struct match_topic *t, size_t nt, size_t i)
{
	for (size_t j = 0; j < nt; j++)
		if (t[j].from == i)
			return 1;
	return 0;
}

static void
split_clauses(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
	      const char *text, size_t len, const struct match_topic *t, size_t nt)
{
	size_t topic_from = nt ? t[0].from : q->n;
	s->nclause = 0;
	s->with_topic = topic_from < q->n;
	for (size_t i = 0; i < q->n; i++)
		s->tok_class[i] = (uint8_t)word_class(m, &q->v[i]);
	size_t start = 0;
	for (size_t i = 1; i <= q->n; i++) {
		int cut = i == q->n || q->v[i].sent != q->v[i - 1].sent || topic_starts(t, nt, i);
		if (!cut && i - start >= 2 && opens_question(s, q, i) &&
		    gap_has(q, text, len, i - 1, ",:;-("))
			cut = 1; /* "..., where is it" */
		if (!cut && i - start >= 2 && i + 1 < q->n && q->v[i + 1].sent == q->v[i].sent &&
		    (s->tok_class[i] & W_JOINING) && opens_question(s, q, i + 1))
			cut = 1; /* "... and can I pay by card" */
		if (!cut)
			continue;
		if (start >= topic_from)
			add_clause(s, start, i, CL_TOPIC, 0, -1);
		else
			type_clause(m, s, q, text, len, start, i);
		start = i;
	}
	for (size_t c = 0; c < s->nclause; c++)
		for (size_t i = s->clause[c].from; i < s->clause[c].to; i++)
			s->tok_clause[i] = (uint8_t)c;
}

/* ---- reading the query -------------------------------------------------- */

/* Words after a number that make it no age ("is 90 minutes ok"). */
static const char *const units[] = {
    "min",   "mins",   "minute",  "minutes", "hour",    "hours", "hr",    "hrs",   "sec",
    "secs",  "second", "seconds", "kg",      "kgs",     "kilo",  "kilos", "lb",    "lbs",
    "pound", "pounds", "quid",    "dollar",  "dollars", "euro",  "euros", "bucks", "pence",
    "p",     "cm",     "mm",      "percent", "degrees", "day",   "days",  "week",  "weeks",
    "month", "months", "times",   "x",       NULL,
};
/* Words before a number that make it a person's age ("my nan is 85",
 * "she's 90", "aged 78"). */
static const char *const age_before[] = {"is",     "s",       "am",    "aged",
					 "turned", "turning", "turns", NULL};

/* Is token i of q (text: q's source, may be NULL) a person's age of 70 to
 * 99 ("my nan is 85 and ...")?  Then *decade gets its decade ("80s"),
 * which the synonyms may know ("older = ... = 80s"). */
static int
age_decade(const struct tokens *q, const char *text, size_t len, size_t i, char decade[4])
{
	const struct token *k = &q->v[i];
	if (k->surf_len != 2 || k->surf[0] < '7' || k->surf[0] > '9' || k->surf[1] < '0' ||
	    k->surf[1] > '9' || i == 0 || !surf_in(&q->v[i - 1], age_before) ||
	    (i + 1 < q->n && surf_in(&q->v[i + 1], units)))
		return 0;
	static const char money[] = "$#\xa3\xac"; /* £ and € end in 0xa3, 0xac */
	if (text && k->off > 0 && k->off <= len &&
	    memchr(money, text[k->off - 1], sizeof money - 1))
		return 0; /* "the price is $80": money */
	decade[0] = k->surf[0];
	decade[1] = '0';
	decade[2] = 's';
	decade[3] = '\0';
	return 1;
}

/* Is token i "booked" that tells of a booking made ("I've booked deep
 * tissue for Friday, will it hurt?", "booked for Saturday, where are
 * you?"), not a request for one ("can I get booked in", "get myself
 * booked", "can I be booked")?  Such a word is the story, not what is
 * asked, and is read as nothing. */
static int
already_booked(const struct tokens *q, size_t i)
{
	static const char *const asking[] = {"get", "getting", "be", NULL};
	const struct token *k = &q->v[i];
	if (k->surf_len != 6 || memcmp(k->surf, "booked", 6) != 0)
		return 0;
	for (size_t j = i >= 3 ? i - 3 : 0; j < i; j++)
		if (surf_in(&q->v[j], asking))
			return 0;
	return 1;
}

/* 1. Each content word as typed, split or typo-fixed, into s->seq. */
static void
read_words(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
	   const char *text, size_t len)
{
	s->nseq = 0;
	for (size_t i = 0; i < q->n; i++) {
		const struct token *k = &q->v[i];
		s->reading[i][0] = '\0';
		if ((k->flags & TOK_STOP) || already_booked(q, i))
			continue; /* weak terms, added after synonyms; a booking told of */
		char dec[4];
		if ((k->flags & TOK_NUMBER) && age_decade(q, text, len, i, dec)) {
			push_seq(s, dec, 1.0, i, hmap_get(&m->term_ids, dec, 3));
			snprintf(s->reading[i], sizeof s->reading[i], "%s", dec);
			continue;
		}
		int id = hmap_get(&m->term_ids, k->stem, k->stem_len);
		if (id != -1 || (k->flags & TOK_NUMBER)) {
			push_seq(s, k->stem, 1.0, i, id);
			continue;
		}
		size_t before = s->nseq;
		read_unknown(m, s, k, i);
		if (s->nseq == before)
			push_seq(s, k->stem, 1.0, i, -1); /* stays unknown */
	}
}

/* Token i is written with a capital inside its sentence ("Netflix",
 * "Lisbon"): a name, not slang or a typo. */
static int
proper_name(const struct tokens *q, const char *text, size_t len, size_t i)
{
	if (text == NULL || i == 0 || q->v[i - 1].sent != q->v[i].sent || q->v[i].off >= len)
		return 0;
	unsigned char c = (unsigned char)text[q->v[i].off];
	return c >= 'A' && c <= 'Z';
}

/*
 * Is k an adverb made of an English word ("completely", "typically",
 * "fully", "easily", "terribly")?  It says how, not what: chat.  The word
 * before "-ly" must be in the dictionary and four letters or more
 * ("family" and "apply" are no adverbs), and not be made of a word in "-le"
 * ("tingly", "prickly": how a symptom feels).
 */
static int
adverb(const struct match_index *m, const struct token *k)
{
	size_t n = k->surf_len;
	if (m->dict == NULL || n < 5 || memcmp(k->surf + n - 2, "ly", 2) != 0)
		return 0;
	char base[TEXT_WORD_MAX + 3];
	n -= 2;
	memcpy(base, k->surf, n);
	base[n] = '\0';
	if (n >= 4 && wordset_has(m->dict, base, n)) { /* complete-ly, typical-ly */
		memcpy(base + n, "le", 3);
		return !wordset_has(m->dict, base, n + 2);
	}
	const char *end = base[n - 1] == 'l'   ? "l"  /* ful-ly: full */
			  : base[n - 1] == 'b' ? "le" /* terrib-ly: terrible */
					       : NULL;
	if (base[n - 1] == 'i') { /* eas-i-ly: easy */
		base[n - 1] = 'y';
		end = "";
	}
	if (end == NULL)
		return 0;
	size_t e = strlen(end);
	memcpy(base + n, end, e + 1);
	return n + e >= 4 && wordset_has(m->dict, base, n + e);
}

/*
 * 2. Synonyms, then function words the knowledge uses, into s->seq2;
 * 3. each distinct term once into s->qt, with the clauses it is in; an
 * unknown word with its kind (a real word from another topic, a common
 * English word, or slang, names and typos we could not fix).
 */
static void
read_terms(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
	   const char *text, size_t len)
{
	for (size_t j = 0; j < s->nqt; j++) /* the last message's */
		if (s->qt[j].term >= 0)
			s->term_c[s->qt[j].term] = 0;
	apply_synonyms(m, s->seq, s->nseq, &s->seq2, &s->nseq2, &s->capseq2);
	for (size_t i = 0; m->tu.stop_weight > 0 && i < q->n; i++) {
		const struct token *k = &q->v[i];
		int id = k->flags & TOK_STOP ? hmap_get(&m->term_ids, k->stem, k->stem_len) : -1;
		if (id < 0)
			continue;
		s->seq2 = xgrow(s->seq2, &s->capseq2, s->nseq2 + 1, sizeof *s->seq2);
		memcpy(s->seq2[s->nseq2].stem, k->stem, (size_t)k->stem_len + 1);
		s->seq2[s->nseq2].c = 1.0;
		s->seq2[s->nseq2].tok = (uint16_t)i;
		s->seq2[s->nseq2].id = id;
		s->nseq2++;
	}
	s->nqt = s->nunk = 0;
	for (size_t i = 0; i < s->nseq2; i++) {
		const struct qtok *t = &s->seq2[i];
		int id =
		    t->id != ID_UNSEEN ? t->id : hmap_get(&m->term_ids, t->stem, strlen(t->stem));
		int known = id != -1; /* a term, or a word of a synonym group */
		if (id < 0)
			id = -1;
		uint32_t in = 1u << s->tok_clause[t->tok];
		size_t j = s->nqt;
		if (id >= 0 && s->term_qt[id]) {
			j = s->term_qt[id] - 1;
		} else if (id < 0) {
			for (size_t u = 0; u < s->nunk; u++)
				if (strcmp(s->seq2[s->qt[s->unk[u]].tok].stem, t->stem) == 0) {
					j = s->unk[u];
					break;
				}
		}
		if (j < s->nqt) {
			if (id >= 0 && t->c > s->qt[j].c)
				s->qt[j].c = t->c;
			s->qt[j].clauses |= in;
			continue;
		}
		s->qt = xgrow(s->qt, &s->capqt, s->nqt + 1, sizeof *s->qt);
		struct qterm *qt = &s->qt[s->nqt++];
		qt->term = id;
		qt->c = t->c;
		qt->tok = (uint16_t)i; /* index into seq2 for now */
		qt->clauses = in;
		qt->unknown = UNK_NONE;
		qt->content = !(q->v[t->tok].flags & TOK_STOP);
		if (id >= 0) {
			s->term_qt[id] = (uint32_t)s->nqt;
			continue;
		}
		s->unk = xgrow(s->unk, &s->capunk, s->nunk + 1, sizeof *s->unk);
		s->unk[s->nunk++] = (uint32_t)(s->nqt - 1);
		if (known)
			continue;
		const struct token *k = &q->v[t->tok];
		if ((s->tok_class[t->tok] & W_CHAT) || k->surf_len <= 2 || adverb(m, k))
			qt->unknown = UNK_COMMON; /* "y/n" is no topic */
		else if (!m->dict || (k->flags & TOK_COMMON) ||
			 wordset_has(m->dict, k->surf, k->surf_len) ||
			 proper_name(q, text, len, t->tok))
			qt->unknown = UNK_WORD; /* a real word, or a name: from another topic */
		else
			qt->unknown = UNK_OTHER;
	}
	for (size_t j = 0; j < s->nqt; j++) {
		s->qt[j].tok = s->seq2[s->qt[j].tok].tok; /* now a query token index */
		if (s->qt[j].term >= 0)
			s->term_qt[s->qt[j].term] = 0;
	}
}

/*
 * A view of the message: each term weighted by the clauses it is in
 * (cw: per clause; cu: the same for words no answer knows).  Returns the view's weight: its known
 * terms' idf plus the penalty of its unknown words.  Unknown words count against the question, each
 * one less than the last: one strange noun sinks a short question, a long ramble keeps its chance.
 */
static double
weigh_view(const struct match_index *m, struct match_scratch *s, const double *cw, const double *cu)
{
	double qden = 0, unk[UNK_KINDS] = {0}, nunk[UNK_KINDS] = {0};
	for (size_t j = 0; j < s->nqt; j++) {
		struct qterm *qt = &s->qt[j];
		double w = 0;
		const double *cl = qt->term >= 0 ? cw : cu;
		for (uint32_t b = qt->clauses; b; b &= b - 1) {
			double x = cl[__builtin_ctz(b)];
			if (x > w)
				w = x;
		}
		qt->w = w;
		if (qt->term >= 0) {
			qden += m->term[qt->term].idf * w;
		} else if (w > 0) {
			unk[qt->unknown] += w;
			nunk[qt->unknown]++;
		}
	}
	/* n unknown words of mean weight w weigh n^unknown_exp * w each kind */
	static const size_t kinds[] = {UNK_WORD, UNK_COMMON, UNK_OTHER};
	const struct match_tuning *tu = &m->tu;
	const double frac[] = {1.0, tu->unknown_common_frac / tu->unknown_frac,
			       tu->unknown_other_frac / tu->unknown_frac};
	double known = qden;
	for (size_t k = 0; k < 3; k++)
		if (nunk[kinds[k]] > 0)
			qden += m->unknown_weight * frac[k] * pow(nunk[kinds[k]], tu->unknown_exp) *
				unk[kinds[k]] / nunk[kinds[k]];
	s->view_unknown = qden - known;
	/* a little evidence is not enough: one matched word does not
	 * explain a question as well as several */
	return qden + m->evidence_prior;
}

/* ---- scoring -------------------------------------------------------------- */

/* 4. Add each known term's weight to the phrasings (s->acc) and intents
 * (s->bag) that hold it, rarest terms first: they find the candidates. */
static void
accumulate(const struct match_index *m, struct match_scratch *s)
{
	s->ntouched = 0;
	s->nitouched = 0;
	if (m->words_per_pbm)
		memset(s->tbits, 0, m->words_per_pbm * sizeof *s->tbits);
	/* (postings, position) in one key: sorted, the rarest first and
	 * equals in the query's order */
	uint64_t order[256], tmp[256];
	size_t nord = 0;
	for (size_t j = 0; j < s->nqt && nord < 256; j++)
		if (s->qt[j].term >= 0 && s->qt[j].w > 0)
			order[nord++] = (uint64_t)m->term[s->qt[j].term].p_n << 32 | j;
	keysort(order, tmp, nord);
	int found = 0;
	for (size_t o = 0; o < nord; o++) {
		size_t j = (uint32_t)order[o];
		const struct term *tm = &m->term[s->qt[j].term];
		double w = tm->idf * s->qt[j].c * s->qt[j].w;
		if (found && tm->p_n > LONG_POSTINGS) {
			add_late_term(m, s, (uint32_t)s->qt[j].term, w);
			continue;
		}
		found |= tm->p_n > 0;
		for (uint32_t k = 0; k < tm->p_n; k++) {
			uint32_t ph = m->ppost[tm->p_off + k];
			if (s->acc[ph] == 0) {
				s->touched[s->ntouched++] = ph;
				s->tbits[ph / 64] |= 1ULL << (ph % 64);
			}
			s->acc[ph] += w;
		}
		for (uint32_t k = 0; k < tm->i_n; k++) {
			uint32_t in = m->ipost[tm->i_off + k];
			touch_intent(s, in);
			s->bag[in] += w * m->ipost_weight[tm->i_off + k];
		}
	}
}

/*
 * Each touched intent's best phrasing: query coverage qc = acc / qden and
 * phrasing coverage pc = acc / w combined as qc^e * pc^(1-e), which is
 * acc / (qden^e * w^(1-e)) (neither exceeds 1: a phrasing holds each of
 * its terms once, the question's weight holds every matched term); with
 * w^(1-e) kept per phrasing that is one division a phrasing.  Into
 * s->best; clears s->acc.
 */
static void
score_phrasings(const struct match_index *m, struct match_scratch *s, double qden)
{
	for (size_t k = 0; k < s->nitouched; k++)
		s->best[s->itouched[k]] = 0;
	for (size_t k = 0; k < s->ntouched; k++) {
		uint32_t ph = s->touched[k];
		double r = s->acc[ph] / m->phr[ph].w_pow;
		s->acc[ph] = 0;
		uint32_t in = m->phr[ph].intent;
		if (r > s->best[in])
			s->best[in] = r;
	}
	if (qden <= 0)
		return;
	double q = pow(qden, m->tu.q_exp), q_small = pow(qden, m->tu.q_exp_small);
	for (size_t k = 0; k < s->nitouched; k++) {
		uint32_t in = s->itouched[k];
		double v = s->best[in] / (m->small_talk[in] ? q_small : q);
		s->best[in] = v > 1 ? 1 : v;
	}
}

/* Insert c into the top MATCH_TOP of out (raw score descending, then
 * intent ascending). */
static void
insert_cand(struct match_result *out, const struct match_cand *c)
{
	size_t pos = out->ncand;
	while (pos > 0 &&
	       (out->cand[pos - 1].raw < c->raw ||
		(out->cand[pos - 1].raw == c->raw && out->cand[pos - 1].intent > c->intent)))
		pos--;
	if (pos >= MATCH_TOP)
		return;
	size_t last = out->ncand < MATCH_TOP ? out->ncand : MATCH_TOP - 1;
	for (size_t x = last; x > pos; x--)
		out->cand[x] = out->cand[x - 1];
	out->cand[pos] = *c;
	if (out->ncand < MATCH_TOP)
		out->ncand++;
}

/*
 * How much of what intent in is about the question says: the share of its
 * title's weight (or of its id's, the better) found in the view last
 * scored (s->term_c).  "how do I get rid of a headache" says nothing of
 * "Neck and shoulder pain", though a phrasing of it mentions headaches.
 */
static double
title_share(const struct match_index *m, const struct match_scratch *s, uint32_t in)
{
	double best = 0;
	for (int t = 0; t < 2; t++) {
		const struct title *ti = &m->title[in][t];
		if (ti->w <= 0)
			continue;
		double got = 0;
		for (uint32_t x = ti->off; x < ti->off + ti->n; x++)
			got += m->title_term[x].idf * s->term_c[m->title_term[x].term];
		if (got / ti->w > best)
			best = got / ti->w;
	}
	return best;
}

/* Intent in's candidate in the view last scored. */
static struct match_cand
cand_of(const struct match_index *m, const struct match_scratch *s, uint32_t in)
{
	double bag = s->view_weight > 0 ? s->bag[in] / s->view_weight : 0;
	if (bag > 1)
		bag = 1;
	double bw = m->small_talk[in] ? 0 : m->tu.bag_weight;
	/* not in the ranking when an earlier answer's title is read beside a
	 * follow-up: that title would pull every reading back to itself */
	double tw = m->small_talk[in] || s->with_topic ? 0 : m->tu.title_weight;
	double title = title_share(m, s, in);
	struct match_cand c = {.intent = (int)in,
			       .raw = (1.0 - bw - tw) * s->best[in] + bw * bag + tw * title,
			       .fit = s->best[in],
			       .cover = bag,
			       .evidence = s->bag[in] / m->mean_idf,
			       .unknown = s->view_unknown / m->mean_idf,
			       .title = title};
	return c;
}

void
match_features(const struct match_cand *c, double gap, double x[MATCH_CONF_FEATURES])
{
	x[0] = 1.0;
	x[1] = c->raw;
	x[2] = c->fit;
	x[3] = c->cover;
	x[4] = log(c->evidence + 0.1);
	x[5] = log(1.0 + c->unknown);
	x[6] = gap;
	x[7] = c->missing;
	x[8] = c->title;
}

/* The confidence that c is the right answer (see match_features). */
static double
confidence(const struct match_tuning *tu, const struct match_cand *c, double gap)
{
	double x[MATCH_CONF_FEATURES], z = 0;
	match_features(c, gap, x);
	for (size_t i = 0; i < MATCH_CONF_FEATURES; i++)
		z += tu->conf[i] * x[i];
	return 1.0 / (1.0 + exp(-z));
}

/* The weightiest content word of the question that intent in does not
 * know at all, in mean word weights: "chiropractic" for massage. */
static double
missing_word(const struct match_index *m, const struct match_scratch *s, uint32_t in)
{
	double worst = 0;
	for (size_t j = 0; j < s->nqt; j++) {
		const struct qterm *qt = &s->qt[j];
		if (qt->term < 0 || !qt->content || qt->w <= 0)
			continue;
		const struct term *tm = &m->term[qt->term];
		double v = tm->idf * qt->w;
		if (v <= worst)
			continue;
		uint32_t k = 0;
		while (k < tm->i_n && m->ipost[tm->i_off + k] != in)
			k++;
		if (k == tm->i_n)
			worst = v;
	}
	return worst / m->mean_idf;
}

/* 5. Rank: each intent's best phrasing blended with its bag of words;
 * the top candidates' confidence. */
static void
rank(const struct match_index *m, struct match_scratch *s, struct match_result *out)
{
	for (size_t k = 0; k < s->nitouched; k++) {
		uint32_t in = s->itouched[k];
		s->iseen[in] = 0;
		struct match_cand c = cand_of(m, s, in);
		insert_cand(out, &c);
	}
	for (size_t k = 0; k < out->ncand; k++) {
		struct match_cand *c = &out->cand[k];
		double gap = k == 0 ? c->raw - (out->ncand > 1 ? out->cand[1].raw : 0)
				    : c->raw - out->cand[0].raw;
		c->missing = missing_word(m, s, (uint32_t)c->intent);
		c->score = confidence(&m->tu, c, gap);
	}
}

/* Written exactly as a phrasing of ex: that intent first, full confidence. */
static void
put_exact(struct match_result *out, int ex)
{
	size_t at = out->ncand < MATCH_TOP ? out->ncand : MATCH_TOP - 1;
	for (size_t k = 0; k < out->ncand; k++)
		if (out->cand[k].intent == ex)
			at = k;
	if (at == out->ncand)
		out->ncand++;
	for (size_t k = at; k > 0; k--)
		out->cand[k] = out->cand[k - 1];
	out->cand[0].intent = ex;
	out->cand[0].score = out->cand[0].raw = 1.0;
}

/* Rank the intents for one view of the message (cw, cu: weight per
 * clause of known and unknown words; ex: an intent written exactly, or -1). */
static void
score_view(const struct match_index *m, struct match_scratch *s, const double *cw, const double *cu,
	   int ex, struct match_result *out)
{
	memset(out, 0, sizeof *out);
	out->intent = -1;
	double qden = weigh_view(m, s, cw, cu);
	s->view_weight = qden;
	/* each term's credit for the title share, until the next view: the
	 * message's words as weighed in this view, an earlier answer's title
	 * in full (what the follow-up is about) */
	uint32_t own = 0;
	for (size_t c = 0; c < s->nclause; c++)
		own |= (uint32_t)(s->clause[c].kind != CL_TOPIC) << c;
	for (size_t j = 0; j < s->nqt; j++)
		if (s->qt[j].term >= 0)
			s->term_c[s->qt[j].term] =
			    s->qt[j].clauses & own ? s->qt[j].c * s->qt[j].w : s->qt[j].c;
	s->ntouched = s->nitouched = 0;
	if (qden > 0)
		accumulate(m, s);
	score_phrasings(m, s, qden);
	rank(m, s, out);
	if (ex >= 0)
		put_exact(out, ex);
	out->score = out->ncand ? out->cand[0].score : 0;
}

/* ---- deciding ------------------------------------------------------------- */

/*
 * Below the threshold, the best answer is still taken when it leads
 * clearly: far ahead of the next in the ranking, explaining a good share
 * of the message, and either matching several of its words or two of
 * them with next to no word no answer knows (one word is no lead: "and
 * for my cat?" is not about the cat stretch).  On the tuning sets the hedged
 * messages whose best answer is right differ from the wrong ones and
 * from off-topic ones mostly by that lead; one matched word beside an
 * unknown noun ("where can I park at the airport") is the topic of
 * another question.
 */
static int
clear_lead(const struct match_tuning *tu, const struct match_result *out)
{
	const struct match_cand *c = &out->cand[0];
	double next = out->ncand > 1 ? out->cand[1].raw : 0;
	return c->score >= tu->lead_floor && c->raw - next >= tu->lead_gap &&
	       c->cover >= tu->lead_cover &&
	       ((double)c->nterms >= tu->lead_terms ||
		(c->nterms >= 2 && c->unknown <= tu->lead_unknown));
}

/* Answer, ask which was meant, or fall back, from the ranked candidates. */
static void
decide(const struct match_index *m, const struct match_params *p, int question,
       struct match_result *out)
{
	/* small talk does not hide a question */
	if (question && m->small_talk[out->cand[0].intent]) {
		for (size_t k = 1; k < out->ncand; k++) {
			if (m->small_talk[out->cand[k].intent] || out->cand[k].score < p->threshold)
				continue;
			struct match_cand c = out->cand[k];
			for (size_t x = k; x > 0; x--)
				out->cand[x] = out->cand[x - 1];
			out->cand[0] = c;
			break;
		}
	}
	out->score = out->cand[0].score;
	double second = 0; /* the runner-up's confidence */
	for (size_t k = 1; k < out->ncand; k++)
		if (out->cand[k].score > second &&
		    (m->small_talk[out->cand[0].intent] || !m->small_talk[out->cand[k].intent]))
			second = out->cand[k].score;
	if (clear_lead(&m->tu, out)) {
		out->intent = out->cand[0].intent;
		out->answers[out->nanswers++] = out->intent;
		return;
	}
	if (out->score < p->threshold - m->tu.offer_band)
		return;
	if (out->score < p->threshold || (out->score < 1.0 && out->score - second < p->margin)) {
		/* close, but not sure: offer the closest answers */
		out->ambiguous = 1;
		for (size_t k = 0; k < out->ncand && out->nchoices < MATCH_CHOICES; k++)
			if (!m->small_talk[out->cand[k].intent])
				out->choices[out->nchoices++] = out->cand[k].intent;
		out->ambiguous = out->nchoices > 0;
		return;
	}
	out->intent = out->cand[0].intent;
	out->answers[out->nanswers++] = out->intent;
}

/* The confidence in intent in for the view last scored (0 if it was not
 * found); top: that view's best raw score. */
static double
view_score(const struct match_index *m, const struct match_scratch *s, int in, double top)
{
	for (size_t k = 0; k < s->nitouched; k++)
		if (s->itouched[k] == (uint32_t)in) {
			struct match_cand c = cand_of(m, s, (uint32_t)in);
			c.missing = missing_word(m, s, (uint32_t)in);
			return confidence(&m->tu, &c, c.raw - top);
		}
	return 0;
}

/* Merge the candidates of r into out: each intent ranked by its better
 * ranking score and trusted with its surer confidence (a story around a
 * question may rank an answer higher in the whole message and explain it
 * worse than the question read with the story as context). */
static void
merge_cands(struct match_result *out, const struct match_result *r)
{
	for (size_t k = 0; k < r->ncand; k++) {
		size_t x = 0;
		while (x < out->ncand && out->cand[x].intent != r->cand[k].intent)
			x++;
		if (x == out->ncand) {
			insert_cand(out, &r->cand[k]);
			continue;
		}
		if (out->cand[x].raw >= r->cand[k].raw) {
			if (r->cand[k].score > out->cand[x].score)
				out->cand[x].score = r->cand[k].score;
			continue;
		}
		struct match_cand c = r->cand[k];
		if (out->cand[x].score > c.score)
			c.score = out->cand[x].score;
		for (; x + 1 < out->ncand; x++) /* take it out, then in at its place */
			out->cand[x] = out->cand[x + 1];
		out->ncand--;
		insert_cand(out, &c);
	}
}

/* Read question clause c on its own, the rest of the message (small talk
 * aside) as faint context, into r. */
static void
clause_view(const struct match_index *m, struct match_scratch *s, size_t c, struct match_result *r)
{
	double cw[MATCH_CLAUSES_MAX];
	for (size_t x = 0; x < s->nclause; x++)
		cw[x] = x == c                               ? 1.0
			: s->clause[x].kind == CL_SMALL_TALK ? 0.0
							     : m->tu.other_weight;
	int ex = s->clause[c].exact;
	score_view(m, s, cw, cw, ex >= 0 && !m->small_talk[ex] ? ex : -1, r);
}

/*
 * Two questions in one message that two answers cover: each question
 * clause read on its own (the rest of the message as faint context); the
 * first two clauses whose best answers differ, are each sure enough, and
 * where the first answer does not already answer the second clause, get
 * both, in the message's order.  Not when the second answer is the
 * message's best and answers the first clause too: that is one question
 * asked twice ("which massage type gives the best results? want to pick
 * the right one this time").
 * Returns 1 when it answered.
 */
static int
two_answers(const struct match_index *m, struct match_scratch *s, const struct match_params *p,
	    struct match_result *out)
{
	struct match_result r;
	int got[MATCH_ANSWERS_MAX];
	double score[MATCH_ANSWERS_MAX];
	size_t n = 0, first = 0;
	for (size_t c = 0; c < s->nclause && n < MATCH_ANSWERS_MAX; c++) {
		if (s->clause[c].kind != CL_QUESTION)
			continue;
		clause_view(m, s, c, &r);
		const struct match_cand *top = NULL;
		for (size_t k = 0; k < r.ncand && top == NULL; k++)
			if (!m->small_talk[r.cand[k].intent])
				top = &r.cand[k];
		if (top == NULL || top->score < p->threshold + m->tu.two_margin)
			continue;
		if (n > 0 && (got[n - 1] == top->intent ||
			      view_score(m, s, got[n - 1], r.cand[0].raw) >= p->threshold))
			continue; /* the first answer covers this question too */
		int in = top->intent;
		double sc = top->score;
		if (n > 0 && in == out->cand[0].intent) {
			clause_view(m, s, first, &r);
			if (view_score(m, s, in, r.cand[0].raw) >= p->threshold)
				continue; /* ... or this answer the first */
		}
		if (n == 0)
			first = c;
		got[n] = in;
		score[n++] = sc;
	}
	if (n < 2)
		return 0;
	out->nanswers = n;
	for (size_t i = 0; i < n; i++)
		out->answers[i] = got[i];
	out->intent = got[0];
	out->score = score[0];
	out->ambiguous = 0;
	out->nchoices = 0;
	return 1;
}

/* How many known content words the question clauses have: "are they
 * worth it?" leaves its topic to the sentence before. */
static size_t
question_content(const struct match_index *m, const struct match_scratch *s, const struct tokens *q)
{
	uint32_t qmask = 0;
	for (size_t c = 0; c < s->nclause; c++)
		if (s->clause[c].kind == CL_QUESTION)
			qmask |= 1u << c;
	size_t n = 0;
	for (size_t j = 0; j < s->nqt; j++)
		n += s->qt[j].term >= 0 && (s->qt[j].clauses & qmask) &&
		     !(q->v[s->qt[j].tok].flags & TOK_STOP) && m->term[s->qt[j].term].idf > 0;
	return n;
}

/* The intent the message (or its only clause) is written exactly as. */
static int
exact_message(const struct match_index *m, const struct match_scratch *s, const struct tokens *q,
	      size_t nq, size_t nst)
{
	int ex = s->nclause == 1 && s->clause[0].from == 0 && s->clause[0].to == q->n
		     ? s->clause[0].exact
		     : exact_span(m, q, 0, q->n);
	for (size_t c = 0; c < s->nclause && ex < 0 && nq + nst == 1; c++)
		if (s->clause[c].kind != CL_SMALL_TALK)
			ex = s->clause[c].exact;
	/* only small talk: what it ends with ("hi! what can you do?") */
	for (size_t c = s->nclause; c > 0 && ex < 0 && nq + nst == 0; c--)
		ex = s->clause[c - 1].exact;
	return ex;
}

static void
query(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
      const char *text, size_t len, const struct match_topic *t, size_t nt,
      const struct match_params *p, struct match_result *out)
{
	memset(out, 0, sizeof *out);
	out->intent = -1;
	out->greeting = -1;
	ensure_scratch(m, s, q->n);
	if (q->n == 0 || (nt && t[0].from == 0))
		return;
	split_clauses(m, s, q, text, len, t, nt);
	read_words(m, s, q, text, len);
	read_terms(m, s, q, text, len);
	size_t nq = 0, nst = 0, nasks = 0;
	for (size_t c = 0; c < s->nclause; c++) {
		nq += s->clause[c].kind == CL_QUESTION;
		nst += s->clause[c].kind == CL_STATEMENT;
		nasks += s->clause[c].asks;
	}
	int ex = exact_message(m, s, q, nq, nst);
	/* the whole message (small talk only when there is nothing else),
	 * and with its questions first, the statements around them as
	 * context: each intent keeps its best reading (merge_cands) */
	double cw[MATCH_CLAUSES_MAX], cu[MATCH_CLAUSES_MAX];
	for (size_t c = 0; c < s->nclause; c++)
		cw[c] = s->clause[c].kind == CL_TOPIC
			    ? topic_weight_at(t, nt, s->clause[c].from)
			    : s->clause[c].kind != CL_SMALL_TALK || nq + nst == 0;
	score_view(m, s, cw, cw, ex, out);
	if (nq && nst && (double)question_content(m, s, q) >= m->tu.focus_min) {
		/* the words of a story around the question are mostly not
		 * what it asks about: "my nan ... whereabouts are you?"; read
		 * with the story at context_weight, then fainter still
		 * (near_weight: a long story outweighs a short question) */
		const double story[] = {m->tu.context_weight, m->tu.near_weight};
		struct match_result focus;
		for (size_t v = 0; v < sizeof story / sizeof story[0]; v++) {
			for (size_t c = 0; c < s->nclause; c++) {
				if (s->clause[c].kind == CL_STATEMENT)
					cw[c] = story[v];
				cu[c] = s->clause[c].kind == CL_STATEMENT
					    ? cw[c] * m->tu.context_unknown
					    : cw[c];
			}
			score_view(m, s, cw, cu, ex, &focus);
			merge_cands(out, &focus);
		}
	}
	if (nq == 0 && nst && nasks) {
		/* a question with no words of its own asks about the story
		 * ("... is that ok?"): read once more with the story's unknown
		 * words at context_unknown, as around a question that has words */
		struct match_result story;
		for (size_t c = 0; c < s->nclause; c++)
			cu[c] = s->clause[c].kind == CL_STATEMENT ? cw[c] * m->tu.context_unknown
								  : cw[c];
		score_view(m, s, cw, cu, ex, &story);
		merge_cands(out, &story);
	}
	out->score = out->ncand ? out->cand[0].score : 0;
	out->greeting = s->clause[0].kind == CL_SMALL_TALK && nq + nst ? s->clause[0].exact : -1;
	for (size_t k = 0; k < out->ncand; k++)
		add_terms(m, s, q, &out->cand[k]);
	if (ex >= 0) {
		out->intent = ex;
		out->answers[out->nanswers++] = ex;
		return;
	}
	if (out->ncand && nq >= 2 && two_answers(m, s, p, out))
		return;
	if (out->ncand)
		decide(m, p, nq + nst > 0, out);
	if (out->intent >= 0 || nq > 0 || (nst > 0 && nasks > 0))
		return;
	/* "thanks, that was helpful": what the statements say is no question
	 * (but "my knee clicks. what should I do?" asks about them) */
	for (size_t c = 0; c < s->nclause; c++)
		if (s->clause[c].kind == CL_SMALL_TALK && s->clause[c].exact >= 0) {
			out->score = 1.0;
			out->intent = s->clause[c].exact;
			out->answers[0] = out->intent;
			out->nanswers = 1;
			out->ambiguous = 0;
			out->nchoices = 0;
			return;
		}
}

void
match_query(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
	    const char *text, size_t len, const struct match_params *p, struct match_result *out)
{
	query(m, s, q, text, len, NULL, 0, p, out);
}

void
match_query_topic(const struct match_index *m, struct match_scratch *s, const struct tokens *q,
		  const char *text, size_t len, const struct match_topic *t, size_t nt,
		  const struct match_params *p, struct match_result *out)
{
	size_t n = 0; /* the topics that hold tokens, in order */
	while (n < nt && t[n].from < q->n && (n == 0 || t[n].from > t[n - 1].from))
		n++;
	query(m, s, q, text, len, t, n, p, out);
}

int
match_token_reading(const struct match_index *m, struct match_scratch *s, size_t i, char *buf,
		    size_t len)
{
	(void)m;
	if (i >= s->capreading || s->reading[i][0] == '\0')
		return 0;
	snprintf(buf, len, "%s", s->reading[i]);
	return 1;
}

void
match_result_answer(struct match_result *mr, int entry, double score)
{
	mr->intent = entry;
	mr->nanswers = 1;
	mr->answers[0] = entry;
	mr->ambiguous = 0;
	mr->nchoices = 0;
	mr->score = score;
}

void
match_result_none(struct match_result *mr)
{
	mr->intent = -1;
	mr->nanswers = 0;
	mr->ambiguous = 0;
	mr->nchoices = 0;
}

void
match_result_ask(struct match_result *mr, int a, int b, double score)
{
	mr->intent = -1;
	mr->nanswers = 0;
	mr->ambiguous = 1;
	mr->nchoices = 2;
	mr->choices[0] = a;
	mr->choices[1] = b;
	mr->score = score;
}
