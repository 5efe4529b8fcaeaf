/*
 * bench: matcher + safety throughput and latency, scaling with the number of
 * answers, and knowledge load/reload time.  Prints a table; it never fails
 * on machine noise (exit 1 only if something could not run).
 *   bench KNOWLEDGE_DIR QUESTIONS_FILE...
 * Generated knowledge bases of 1,000 and 10,000 answers are written under
 * $TMPDIR (or /tmp) for the scaling rows (kept with BENCH_KEEP=1).
 * BENCH_ONLY=shipped, 1000 or 10000 runs that row alone (for profiling).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "hmap.h"
#include "kb.h"
#include "xmem.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct qs {
	char **v;
	size_t n, cap;
};

static void
qs_add(struct qs *q, const char *s)
{
	q->v = xgrow(q->v, &q->cap, q->n + 1, sizeof *q->v);
	q->v[q->n++] = xstrdup(s);
}

static void
load_questions(struct qs *q, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\t\r\n")] = '\0';
		if (line[0] && line[0] != '#')
			qs_add(q, line);
	}
	free(line);
	if (f)
		fclose(f);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* A pronounceable made-up word, deterministic for i. */
static void
word(unsigned i, char *out)
{
	static const char *const cons[] = {"b", "d", "f", "g", "k", "l",  "m",  "n",  "p",
					   "r", "s", "t", "v", "z", "br", "st", "tr", "pl"};
	static const char *const vow[] = {"a", "e", "i", "o", "u", "ai", "ou"};
	out[0] = '\0';
	unsigned x = i * 2654435761u + 12345;
	int syl = 2 + (int)(i % 3);
	for (int s = 0; s < syl; s++) {
		strcat(out, cons[x % 18]);
		x /= 18;
		strcat(out, vow[x % 7]);
		x = x / 7 + i + (unsigned)s * 977;
	}
}

/* Write a knowledge folder of n answers (plus the shipped safety rules,
 * messages and synonyms) and a question list drawn from it. */
static int
generate(const char *shipped, const char *dir, size_t n, struct qs *questions)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd,
		 "rm -rf '%s' && mkdir -p '%s/answers' && cp -r '%s/safety' '%s/messages' '%s/' && "
		 "cp '%s/synonyms.txt' '%s/'",
		 dir, dir, shipped, shipped, dir, shipped, dir);
	if (system(cmd) != 0)
		return -1;
	const char *shared[] = {"massage", "back", "pain",    "how",       "what",
				"does",    "help", "stretch", "therapist", "sore"};
	unsigned vocab = (unsigned)(n * 6 + 2000);
	char w[64], path[4096];
	for (size_t a = 0; a < n; a++) {
		snprintf(path, sizeof path, "%s/answers/a%05zu.md", dir, a);
		FILE *f = fopen(path, "w");
		if (f == NULL)
			return -1;
		unsigned topic[4];
		for (int t = 0; t < 4; t++)
			topic[t] = rnd(vocab);
		fprintf(f, "---\nid: answer-%zu\ntitle: Answer %zu\nquestions:\n", a, a);
		for (int qn = 0; qn < 10; qn++) {
			char q[512] = "";
			int len = 4 + (int)rnd(5);
			for (int k = 0; k < len; k++) {
				if (rnd(3) == 0)
					snprintf(w, sizeof w, "%s", shared[rnd(10)]);
				else if (rnd(2) == 0)
					word(topic[rnd(4)], w);
				else
					word(rnd(vocab), w);
				strcat(q, k ? " " : "");
				strcat(q, w);
			}
			fprintf(f, "  - %s q%d\n", q, qn);
			if (qn == 3 && rnd(4) == 0)
				qs_add(questions, q);
		}
		fprintf(f, "source: generated\nreviewed: 2026-01-01\n---\nGenerated answer %zu.\n",
			a);
		fclose(f);
	}
	for (size_t i = 0; i < 200; i++) {
		char q[256] = "";
		for (int k = 0; k < 6; k++) {
			word(rnd(vocab * 2) + vocab, w);
			strcat(q, k ? " " : "");
			strcat(q, w);
		}
		qs_add(questions, q);
	}
	return 0;
}

struct result {
	double qps, p50_us, p99_us, load_ms, reload_ms;
	size_t answers, nq;
};

static int
measure(struct answer_ctx *ac, const struct wordset *dict, const char *dir, const struct qs *q,
	size_t total, struct result *r)
{
	struct problems pr = {0};
	char *cause = NULL;
	double t0 = now_s();
	struct knowledge *k = kb_load(ac->text, dir, dict, &pr, &cause);
	r->load_ms = (now_s() - t0) * 1000;
	if (k == NULL || pr.n) {
		fprintf(stderr, "bench: %s: %s (%zu problems)\n", dir, cause ? cause : "problems",
			pr.n);
		for (size_t i = 0; i < pr.n && i < 5; i++)
			fprintf(stderr, "  %s:%u: %s\n", pr.v[i].file, pr.v[i].line, pr.v[i].msg);
		return -1;
	}
	problems_free(&pr);
	t0 = now_s();
	struct knowledge *k2 = kb_load(ac->text, dir, dict, &pr, &cause);
	r->reload_ms = (now_s() - t0) * 1000;
	knowledge_free(k2);
	problems_free(&pr);
	r->answers = k->nentries;
	struct match_params mp = {MATCH_DEFAULT_THRESHOLD, MATCH_DEFAULT_MARGIN};
	/* warm-up, then timed run with per-question latency */
	for (size_t i = 0; i < q->n && i < 2000; i++) {
		struct answer a;
		answer_question(k, ac, &mp, q->v[i], strlen(q->v[i]), &a);
		answer_free(&a);
	}
	double *lat = xcalloc(total, sizeof *lat);
	double start = now_s();
	for (size_t i = 0; i < total; i++) {
		const char *s = q->v[i % q->n];
		double a0 = now_s();
		struct answer a;
		answer_question(k, ac, &mp, s, strlen(s), &a);
		answer_free(&a);
		lat[i] = now_s() - a0;
	}
	double el = now_s() - start;
	qsort(lat, total, sizeof *lat, cmp_double);
	r->qps = (double)total / el;
	r->p50_us = lat[total / 2] * 1e6;
	r->p99_us = lat[total * 99 / 100] * 1e6;
	r->nq = total;
	free(lat);
	knowledge_free(k);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench KNOWLEDGE_DIR QUESTIONS_FILE...\n");
		return 2;
	}
	struct answer_ctx ac;
	if (answer_ctx_init(&ac) < 0)
		return 1;
	struct wordset *dict = kb_load_dictionary(ac.text);
	struct qs mix = {0};
	for (int i = 2; i < argc; i++)
		load_questions(&mix, argv[i]);
	if (mix.n == 0) {
		fprintf(stderr, "bench: no questions\n");
		return 1;
	}
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	printf("%-26s %8s %10s %12s %9s %9s %10s %10s\n", "knowledge", "answers", "questions",
	       "questions/s", "p50 us", "p99 us", "load ms", "reload ms");
	struct result r;
	const char *only = getenv("BENCH_ONLY");
	if (only == NULL || strcmp(only, "shipped") == 0) {
		if (measure(&ac, dict, argv[1], &mix, 200000, &r) < 0)
			return 1;
		printf("%-26s %8zu %10zu %12.0f %9.1f %9.1f %10.1f %10.1f\n", "shipped", r.answers,
		       r.nq, r.qps, r.p50_us, r.p99_us, r.load_ms, r.reload_ms);
		fflush(stdout);
	}
	size_t sizes[] = {1000, 10000};
	for (size_t s = 0; s < 2; s++) {
		if (only && strtoul(only, NULL, 10) != sizes[s])
			continue;
		char dir[512], label[64];
		snprintf(dir, sizeof dir, "%s/mb-bench-kb-%zu", tmp, sizes[s]);
		struct qs q = {0};
		if (generate(argv[1], dir, sizes[s], &q) < 0) {
			fprintf(stderr, "bench: cannot write %s\n", dir);
			return 1;
		}
		snprintf(label, sizeof label, "generated %zu", sizes[s]);
		if (measure(&ac, dict, dir, &q, 100000, &r) < 0)
			return 1;
		printf("%-26s %8zu %10zu %12.0f %9.1f %9.1f %10.1f %10.1f\n", label, r.answers,
		       r.nq, r.qps, r.p50_us, r.p99_us, r.load_ms, r.reload_ms);
		fflush(stdout);
		for (size_t i = 0; i < q.n; i++)
			free(q.v[i]);
		free(q.v);
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (getenv("BENCH_KEEP") == NULL && system(cmd) != 0)
			fprintf(stderr, "bench: could not remove %s\n", dir);
	}
	for (size_t i = 0; i < mix.n; i++)
		free(mix.v[i]);
	free(mix.v);
	if (dict) {
		wordset_free(dict);
		free(dict);
	}
	answer_ctx_free(&ac);
	return 0;
}
