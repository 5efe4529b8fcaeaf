/*
 * answer: the question -> reply pipeline and its JSON form (see answer.h).
 */
#include "answer.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "utf8.h"
#include "xmem.h"

int
answer_ctx_init(struct answer_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->text = text_ctx_new();
	if (c->text == NULL)
		return -1;
	c->ms = match_scratch_new();
	c->ss = safety_scratch_new();
	return 0;
}

void
answer_ctx_free(struct answer_ctx *c)
{
	text_ctx_free(c->text);
	match_scratch_free(c->ms);
	safety_scratch_free(c->ss);
	tokens_free(&c->tk);
	tokens_free(&c->stk);
	memset(c, 0, sizeof *c);
}

/* Words (not function words) a message needs before the classifier has its
 * say: "what helps?", "the first one" and "is it good before a run?" are
 * left to the matcher and the conversation (followup.c). */
#define CLASSIFY_MIN_WORDS 3
#define SAFETY_OVERLAP 256 /* bytes read twice where a window ends mid-sentence */

/* End of the safety window that starts at `start`: a sentence end in its
 * second half if there is one, else a space; *overlap: the next window
 * must start before the end (no sentence end was found). */
static size_t
window_end(const char *s, size_t len, size_t start, int *overlap)
{
	*overlap = 0;
	if (len - start <= ANSWER_INPUT_MAX)
		return len;
	size_t end = start + utf8_cut(s + start, len - start, ANSWER_INPUT_MAX);
	for (size_t i = end; i > start + ANSWER_INPUT_MAX / 2; i--)
		if (strchr(".!?\n", s[i - 1]))
			return i;
	*overlap = 1;
	for (size_t i = end; i > start + ANSWER_INPUT_MAX / 2; i--)
		if (s[i - 1] == ' ')
			return i;
	return end;
}

size_t
answer_window(const char *s, size_t len, size_t start, size_t *next)
{
	int overlap;
	size_t end = window_end(s, len, start, &overlap);
	if (end >= len) {
		*next = len;
		return end;
	}
	size_t n = overlap && end - start > 2 * SAFETY_OVERLAP ? end - SAFETY_OVERLAP : end;
	while (n > start && n < end && s[n - 1] != ' ')
		n--;
	*next = n > start ? n : end;
	return end;
}

static int
has_hit(const struct answer *out, int rule)
{
	for (size_t i = 0; i < out->nhits; i++)
		if (out->hits[i].rule == rule)
			return 1;
	return 0;
}

static int
cmp_hit(const void *a, const void *b)
{
	const struct safety_hit *x = a, *y = b;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

/* The rule whose line model m adds at score (-1: none): its rule's, when
 * that rule did not fire (the crisis line only where no crisis rule
 * fired). */
static int
words_rule(const struct distress_model *m, long score, const struct answer *out)
{
	return m->rule != DISTRESS_UNLESS && score >= m->at && !has_hit(out, m->rule) ? m->rule
										      : -1;
}

/* Every rule-words model's score of one message's words (tk), looked up
 * once, when the first reader asks: the rule words, then the unless model. */
struct word_scores {
	const struct tokens *tk;
	int done;
	struct distress_scores s;
};

static const struct distress_scores *
scores_of(const struct knowledge *k, struct word_scores *ws)
{
	if (!ws->done)
		distress_score_all(k->distress, ws->tk, &ws->s);
	ws->done = 1;
	return &ws->s;
}

/*
 * The learned safety words (distress.h), all models scored from one
 * look-up of the message's words: each adds its line where the rules did
 * not fire it, in rule order with the others; none removes one.  ws: the
 * words of the message, or of the part of a long one that starts at byte
 * base.
 */
static void
words_check(const struct knowledge *k, struct word_scores *ws, uint32_t base, struct answer *out)
{
	if (k->distress == NULL || out->nhits == REPLY_MAX_RULES)
		return;
	size_t nm = distress_nmodels(k->distress), m = 0;
	while (m < nm && words_rule(distress_model(k->distress, m), LONG_MAX, out) < 0)
		m++;
	if (m == nm) /* every line the models could add is there already */
		return;
	const struct distress_scores *s = scores_of(k, ws);
	size_t before = out->nhits;
	for (m = 0; m < nm && out->nhits < REPLY_MAX_RULES; m++) {
		int rule = words_rule(distress_model(k->distress, m), s->score[m], out);
		if (rule >= 0)
			out->hits[out->nhits++] =
			    (struct safety_hit){rule, base + s->off[m], s->len[m]};
	}
	if (out->nhits > before)
		qsort(out->hits, out->nhits, sizeof *out->hits, cmp_hit);
}

/*
 * The unless model (distress.h) over the lines a short message was given:
 * a line whose rule it doubts (a film, homework, a joke, someone else, a
 * denial) gives way to its rule's in-doubt line (the emergency's: see a
 * doctor; crisis: talk to someone), or to none when the rule names none.
 * A message longer than the model's words is never doubted: a red flag
 * told inside a long story keeps its line.
 */
static void
doubt_check(const struct knowledge *k, struct word_scores *ws, struct answer *out)
{
	size_t ui = 0;
	const struct distress_model *u = k->distress ? distress_unless(k->distress, &ui) : NULL;
	if (u == NULL || out->nhits == 0 || ws->tk->n > (size_t)u->words)
		return;
	const struct distress_scores *s = scores_of(k, ws);
	struct safety_hit keep[REPLY_MAX_RULES];
	size_t n = 0;
	for (size_t i = 0; i < out->nhits; i++) {
		struct safety_hit h = out->hits[i];
		long v = h.rule == k->disclaimer ? LONG_MIN : distress_doubt(u, s, ui, h.rule);
		if (v >= u->at) {
			int to = k->rules[h.rule].in_doubt_ix;
			out->doubts[out->ndoubts++] = (struct answer_doubt){h.rule, to, v};
			if (to < 0)
				continue;
			h.rule = to;
		}
		keep[n++] = h;
	}
	if (out->ndoubts == 0)
		return;
	qsort(keep, n, sizeof *keep, cmp_hit);
	out->nhits = 0;
	for (size_t i = 0; i < n; i++) /* a rule's line once */
		if (out->nhits == 0 || keep[i].rule != out->hits[out->nhits - 1].rule)
			out->hits[out->nhits++] = keep[i];
}

static void
add_hits(struct answer *out, const struct safety_hit *h, size_t n, uint32_t base)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < out->nhits && out->hits[j].rule != h[i].rule)
			j++;
		if (j < out->nhits || out->nhits == REPLY_MAX_RULES)
			continue;
		out->hits[out->nhits] = h[i];
		out->hits[out->nhits++].off += base;
	}
}

/* Safety over a message longer than the matcher's cut, within the line
 * limit, window by window (answer_window). */
static void
safety_whole(const struct knowledge *k, struct answer_ctx *c, const char *s, size_t len,
	     struct answer *out)
{
	struct safety_hit h[REPLY_MAX_RULES];
	for (size_t start = 0, next; start < len; start = next) {
		size_t end = answer_window(s, len, start, &next);
		text_tokenize(c->text, s + start, end - start, &c->stk);
		add_hits(out, h, safety_eval(k->safety, c->ss, &c->stk, h, REPLY_MAX_RULES),
			 (uint32_t)start);
		struct word_scores ws = {.tk = &c->stk};
		words_check(k, &ws, (uint32_t)start, out);
	}
}

/*
 * The classifier's word on the matcher's (classify.h), for answers the
 * model knows: a confident other answer makes the matcher's one "did you
 * mean" (the classifier's first), or, from overrule-at, replaces it; a
 * confident "out of scope" makes it the fallback; where the matcher gave
 * none, a confident answer is given, and from agree-at one its "did you
 * mean" offered first.
 * Two answers to two questions stay the matcher's.
 */
static void
second_reader(const struct knowledge *k, const struct tokens *tk, struct match_result *mr)
{
	size_t words = 0;
	for (size_t i = 0; i < tk->n; i++)
		words += !(tk->v[i].flags & TOK_STOP);
	if (k->clf == NULL || mr->nanswers > 1 || words < CLASSIFY_MIN_WORDS)
		return;
	double p;
	int y = k->clf_entry[classify_top(k->clf, tk, &p)];
	if (y == -1)
		return;
	if (mr->nanswers == 1) {
		int m = mr->intent;
		if (y == m || p < classify_veto_at(k->clf) || k->entry_class[m] < 0)
			return;
		if (y == KNOWLEDGE_OOS) /* no choice to offer: the fallback */
			match_result_none(mr);
		else if (p >= classify_overrule_at(k->clf)) /* sure enough to answer */
			match_result_answer(mr, y, p);
		else
			match_result_ask(mr, y, m, mr->score);
	} else if (y >= 0 && (p >= classify_take_at(k->clf) ||
			      (mr->ambiguous && mr->nchoices && mr->choices[0] == y &&
			       p >= classify_agree_at(k->clf)))) {
		/* sure enough alone, or the matcher's "did you mean" offers the
		 * model's answer first: both readers' first choice */
		match_result_answer(mr, y, p);
	}
}

void
answer_question(const struct knowledge *k, struct answer_ctx *c, const struct match_params *p,
		const char *text, size_t len, struct answer *out)
{
	memset(out, 0, sizeof *out);
	size_t rl;
	char *rep = utf8_repair(text, len, &rl);
	size_t cut = utf8_cut(rep, rl, ANSWER_INPUT_MAX);
	out->question = rep;
	if (cut < rl) {
		out->full = rep;
		out->question = xmalloc(cut + 1);
		memcpy(out->question, rep, cut);
		out->question[cut] = '\0';
		out->truncated = 1;
	}
	text_set_lexicon(c->text, k->dict);
	text_tokenize(c->text, out->question, cut, &c->tk);
	match_query(k->match, c->ms, &c->tk, out->question, cut, p, &out->mr);
	second_reader(k, &c->tk, &out->mr);
	out->intent_id = out->mr.intent >= 0 ? k->entries[out->mr.intent].id.s : NULL;
	if (out->truncated) {
		safety_whole(k, c, rep, rl, out);
		qsort(out->hits, out->nhits, sizeof *out->hits, cmp_hit);
	} else {
		out->nhits = safety_eval(k->safety, c->ss, &c->tk, out->hits, REPLY_MAX_RULES);
		struct word_scores ws = {.tk = &c->tk}; /* one look-up for both */
		words_check(k, &ws, 0, out);
		doubt_check(k, &ws, out);
	}
	reply_build(k, &out->mr, out->hits, out->nhits, &out->reply);
	for (size_t i = 0; i < out->mr.ncand; i++)
		for (size_t t = 0; t < out->mr.cand[i].nterms; t++) {
			const struct token *w = &c->tk.v[out->mr.cand[i].terms[t]];
			out->term_off[i][t] = w->off;
			out->term_len[i][t] = w->len;
		}

	struct strbuf rd = STRBUF_INIT;
	char buf[64];
	for (size_t i = 0; i < c->tk.n; i++)
		if (match_token_reading(k->match, c->ms, i, buf, sizeof buf))
			sb_addf(&rd, "%s%s->%s", rd.len ? ", " : "", c->tk.v[i].surf, buf);
	out->readings = rd.len ? sb_steal(&rd) : NULL;
	sb_free(&rd);
}

void
answer_free(struct answer *a)
{
	free(a->question);
	free(a->full);
	free(a->reply.text);
	free(a->readings);
	memset(a, 0, sizeof *a);
}

/* ---- JSON ------------------------------------------------------------------ */

/* Are the 8 bytes at p all plain (no control character, '"' or '\\')?  Eight
 * at a time: a byte below 0x20, or one equal to '"' or '\\' after an xor,
 * sets its top bit in the usual zero-byte test. */
static int
plain8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, tops = 0x8080808080808080ULL;
	uint64_t v, q, bs;
	memcpy(&v, p, 8);
	q = v ^ (ones * '"');
	bs = v ^ (ones * '\\');
	uint64_t flagged = ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
	return (flagged & tops) == 0;
}

/* s as a JSON string (quotes included), as jansson writes it: '"', '\\'
 * and control characters escaped, UTF-8 as it is (valid: repaired on the
 * way in, or checked knowledge text).  Runs of plain bytes go in one copy. */
static void
json_str(struct strbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	sb_addc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		while (i + 8 <= n && plain8(s + i))
			i += 8;
		if (i >= n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_add(b, s + run, i - run);
		run = i + 1;
		char e[7] = {'\\', (char)c, 0};
		size_t el = 2;
		switch (c) {
		case '"':
		case '\\':
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\t':
			e[1] = 't';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			el = 6;
		}
		sb_add(b, e, el);
	}
	sb_add(b, s + run, n - run);
	sb_addc(b, '"');
}

static void
json_key(struct strbuf *b, const char *key, int first)
{
	if (!first)
		sb_addc(b, ',');
	json_str(b, key, strlen(key));
	sb_addc(b, ':');
}

/* A score rounded to 3 decimals, written as jansson writes a real with 4
 * significant digits ("0.83", "1.0"). */
static void
json_score(struct strbuf *b, double v)
{
	char num[32];
	int n = snprintf(num, sizeof num, "%.4g", round(v * 1000.0) / 1000.0);
	sb_add(b, num, (size_t)n);
	if (!strpbrk(num, ".eE"))
		sb_adds(b, ".0");
}

/*
 * Written straight into a buffer, key by key, with no document tree: the
 * writing of long replies used to cost as much as answering them.
 */
char *
answer_json(const struct knowledge *k, const struct answer *a, int explain)
{
	struct strbuf b = STRBUF_INIT;
	sb_addc(&b, '{');
	json_key(&b, "question", 1);
	json_str(&b, a->question, strlen(a->question));
	json_key(&b, "intent", 0);
	if (a->intent_id)
		json_str(&b, a->intent_id, strlen(a->intent_id));
	else
		sb_adds(&b, "null");
	if (a->mr.nanswers > 1) { /* every answer given, when more than one */
		json_key(&b, "intents", 0);
		for (size_t i = 0; i < a->mr.nanswers; i++) {
			const char *id = k->entries[a->mr.answers[i]].id.s;
			sb_addc(&b, i ? ',' : '[');
			json_str(&b, id, strlen(id));
		}
		sb_addc(&b, ']');
	}
	json_key(&b, "score", 0);
	json_score(&b, a->mr.score);
	json_key(&b, "safety", 0);
	sb_addc(&b, '[');
	for (size_t i = 0; i < a->reply.nshown; i++) {
		const char *id = k->rules[a->reply.shown[i]].id.s;
		if (i)
			sb_addc(&b, ',');
		json_str(&b, id, strlen(id));
	}
	sb_addc(&b, ']');
	json_key(&b, "reply", 0);
	json_str(&b, a->reply.text, strlen(a->reply.text));
	if (a->truncated) {
		json_key(&b, "error", 0);
		json_str(&b, "truncated", 9);
	}
	if (explain) {
		json_key(&b, "candidates", 0);
		sb_addc(&b, '[');
		for (size_t i = 0; i < a->mr.ncand; i++) {
			const struct match_cand *c = &a->mr.cand[i];
			const char *id = k->entries[c->intent].id.s;
			sb_adds(&b, i ? ",{" : "{");
			json_key(&b, "intent", 1);
			json_str(&b, id, strlen(id));
			json_key(&b, "score", 0);
			json_score(&b, c->score);
			json_key(&b, "terms", 0);
			sb_addc(&b, '[');
			for (size_t t = 0; t < c->nterms; t++) {
				if (t)
					sb_addc(&b, ',');
				json_str(&b, a->question + a->term_off[i][t], a->term_len[i][t]);
			}
			sb_adds(&b, "]}");
		}
		sb_addc(&b, ']');
		/* one key per rule: a rule fires once per message */
		json_key(&b, "triggers", 0);
		sb_addc(&b, '{');
		const char *src = a->full ? a->full : a->question;
		for (size_t i = 0; i < a->nhits; i++) {
			json_key(&b, k->rules[a->hits[i].rule].id.s, i == 0);
			json_str(&b, src + a->hits[i].off, a->hits[i].len);
		}
		sb_addc(&b, '}');
		if (a->ndoubts) { /* {"emergency": {"score": 2.31, "instead": "see-a-doctor"}} */
			json_key(&b, "doubted", 0);
			sb_addc(&b, '{');
			for (size_t i = 0; i < a->ndoubts; i++) {
				const struct answer_doubt *d = &a->doubts[i];
				json_key(&b, k->rules[d->rule].id.s, i == 0);
				sb_addf(&b,
					"{\"score\":%.3f,\"instead\":", (double)d->score / 1000);
				if (d->to >= 0)
					json_str(&b, k->rules[d->to].id.s,
						 strlen(k->rules[d->to].id.s));
				else
					sb_adds(&b, "null");
				sb_addc(&b, '}');
			}
			sb_addc(&b, '}');
		}
		if (a->readings) {
			json_key(&b, "read_as", 0);
			json_str(&b, a->readings, strlen(a->readings));
		}
	}
	sb_addc(&b, '}');
	return sb_steal(&b);
}

/* ---- for chat platforms ------------------------------------------------------ */

static void
item(struct chat_item *it, const struct kb_entry *e)
{
	it->id = xstrdup(e->id.s);
	it->title = xstrdup(e->title.s);
}

/* The related answers of the answers given, each once, none of them given. */
static void
add_related(const struct knowledge *k, const struct match_result *mr, struct chat_reply *out)
{
	for (size_t a = 0; a < mr->nanswers; a++) {
		const struct kb_list *rel = &k->entries[mr->answers[a]].related;
		for (size_t r = 0; r < rel->n && out->nrelated < CHAT_RELATED_MAX; r++) {
			int e = knowledge_find(k, rel->v[r].s);
			int seen = e < 0;
			for (size_t g = 0; g < mr->nanswers; g++)
				seen |= mr->answers[g] == e;
			for (size_t j = 0; j < out->nrelated && !seen; j++)
				seen = strcmp(out->related[j].id, rel->v[r].s) == 0;
			if (!seen)
				item(&out->related[out->nrelated++], &k->entries[e]);
		}
	}
}

void
answer_chat(const struct knowledge *k, struct answer *a, struct chat_reply *out)
{
	memset(out, 0, sizeof *out);
	out->text = a->reply.text;
	a->reply.text = NULL;
	if (a->intent_id) {
		out->intent = xstrdup(a->intent_id);
		out->small_talk = k->entries[a->mr.intent].small_talk;
	}
	int worst = LEVEL_INFO + 1;
	for (size_t i = 0; i < a->reply.nshown; i++) {
		const struct kb_rule *r = &k->rules[a->reply.shown[i]];
		out->safety[out->nsafety++] = xstrdup(r->id.s);
		if (a->reply.shown[i] == k->crisis)
			out->level = "crisis";
		else if ((int)r->level < worst)
			worst = (int)r->level;
	}
	if (out->level == NULL && worst < LEVEL_INFO)
		out->level = kb_level_name((enum rule_level)worst);
	if (out->level == NULL || strcmp(out->level, "urgent") == 0 ||
	    strcmp(out->level, "caution") == 0)
		add_related(k, &a->mr, out);
	for (size_t i = 0; i < a->reply.noffered && i < MATCH_CHOICES; i++)
		item(&out->choices[out->nchoices++], &k->entries[a->reply.offered[i]]);
}

void
chat_reply_free(struct chat_reply *r)
{
	free(r->text);
	free(r->intent);
	for (size_t i = 0; i < r->nsafety; i++)
		free(r->safety[i]);
	for (size_t i = 0; i < r->nrelated; i++) {
		free(r->related[i].id);
		free(r->related[i].title);
	}
	for (size_t i = 0; i < r->nchoices; i++) {
		free(r->choices[i].id);
		free(r->choices[i].title);
	}
	memset(r, 0, sizeof *r);
}
