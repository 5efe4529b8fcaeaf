/*
 * answer: the question -> reply pipeline and its JSON form (see answer.h).
 */
#include "answer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
	return 0;
}

void
answer_ctx_free(struct answer_ctx *c)
{
	text_ctx_free(c->text);
	match_scratch_free(c->ms);
	tokens_free(&c->tk);
	memset(c, 0, sizeof *c);
}

/*
 * Match the whole message; when that falls back and the message has several
 * sentences, each sentence on its own ("Good afternoon. Is massage
 * recommended for ...?"): the best scoring reading wins.  Candidate word positions are mapped back
 * to the whole message.
 */
static void
match_sentences(const struct knowledge *k, struct answer_ctx *c, const struct match_params *p,
		struct match_result *out)
{
	match_query(k->match, c->ms, &c->tk, p, out);
	if (out->intent >= 0 || c->tk.n == 0 || c->tk.v[c->tk.n - 1].sent == 0)
		return;
	struct tokens sub = {0};
	for (size_t s0 = 0; s0 < c->tk.n;) {
		size_t s1 = s0;
		while (s1 < c->tk.n && c->tk.v[s1].sent == c->tk.v[s0].sent)
			s1++;
		sub.v = c->tk.v + s0;
		sub.n = s1 - s0;
		struct match_result r;
		match_query(k->match, c->ms, &sub, p, &r);
		if (r.score > out->score + 1e-9) {
			for (size_t i = 0; i < r.ncand; i++)
				for (size_t t = 0; t < r.cand[i].nterms; t++)
					r.cand[i].terms[t] =
					    (unsigned short)(r.cand[i].terms[t] + s0);
			*out = r;
		}
		s0 = s1;
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
	if (cut < rl) {
		rep[cut] = '\0';
		out->truncated = 1;
		rl = cut;
	}
	out->question = rep;
	text_set_lexicon(c->text, k->dict);
	text_tokenize(c->text, rep, rl, &c->tk);
	match_sentences(k, c, p, &out->mr);
	out->intent_id = out->mr.intent >= 0 ? k->entries[out->mr.intent].id.s : NULL;
	out->nhits = safety_eval(k->safety, &c->tk, out->hits, REPLY_MAX_RULES);
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
	free(a->reply.text);
	free(a->readings);
	memset(a, 0, sizeof *a);
}

static json_t *
score_value(double s)
{
	return json_real(round(s * 1000.0) / 1000.0);
}

char *
answer_json(const struct knowledge *k, const struct answer *a, int explain)
{
	json_t *o = json_object();
	json_object_set_new(o, "question", json_string(a->question));
	json_object_set_new(o, "intent", a->intent_id ? json_string(a->intent_id) : json_null());
	json_object_set_new(o, "score", score_value(a->mr.score));
	json_t *saf = json_array();
	for (size_t i = 0; i < a->reply.nshown; i++)
		json_array_append_new(saf, json_string(k->rules[a->reply.shown[i]].id.s));
	json_object_set_new(o, "safety", saf);
	json_object_set_new(o, "reply", json_string(a->reply.text));
	if (a->truncated)
		json_object_set_new(o, "error", json_string("truncated"));
	if (explain) {
		json_t *cands = json_array();
		for (size_t i = 0; i < a->mr.ncand; i++) {
			const struct match_cand *c = &a->mr.cand[i];
			json_t *co = json_object();
			json_object_set_new(co, "intent", json_string(k->entries[c->intent].id.s));
			json_object_set_new(co, "score", score_value(c->score));
			json_t *terms = json_array();
			for (size_t t = 0; t < c->nterms; t++)
				json_array_append_new(terms,
						      json_stringn(a->question + a->term_off[i][t],
								   a->term_len[i][t]));
			json_object_set_new(co, "terms", terms);
			json_array_append_new(cands, co);
		}
		json_object_set_new(o, "candidates", cands);
		json_t *trig = json_object();
		for (size_t i = 0; i < a->nhits; i++)
			json_object_set_new(
			    trig, k->rules[a->hits[i].rule].id.s,
			    json_stringn(a->question + a->hits[i].off, a->hits[i].len));
		json_object_set_new(o, "triggers", trig);
		if (a->readings)
			json_object_set_new(o, "read_as", json_string(a->readings));
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(o);
	char *r = xstrdup(s ? s : "{}");
	free(s);
	return r;
}
