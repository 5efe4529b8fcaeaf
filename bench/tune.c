/*
 * tune: grid search over the matcher's model constants on an eval file.
 * Development tool (make tune): prints the best settings by
 * min(in-scope accuracy, out-of-scope rejection), then their sum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "kb.h"
#include "xmem.h"

struct row {
	char *q;
	int want;
};

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tune KNOWLEDGE_DIR FILE.tsv [FILE2.tsv]\n");
		return 2;
	}
	struct answer_ctx ac;
	answer_ctx_init(&ac);
	struct problems pr = {0};
	char *cause = NULL;
	struct wordset *dict = kb_load_dictionary(ac.text);
	struct knowledge *k = kb_load(ac.text, argv[1], dict, &pr, &cause);
	if (!k) {
		fprintf(stderr, "knowledge has problems\n");
		return 2;
	}
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	for (int fi = 2; fi < argc; fi++) {
		FILE *f = fopen(argv[fi], "r");
		char *line = NULL;
		size_t lc = 0;
		while (f && getline(&line, &lc, f) > 0) {
			line[strcspn(line, "\r\n")] = 0;
			char *tab = strchr(line, '\t');
			if (line[0] == '#' || !tab)
				continue;
			*tab = 0;
			rows = xgrow(rows, &cap, n + 1, sizeof *rows);
			rows[n].q = xstrdup(line);
			rows[n].want = strcmp(tab + 1, "-") ? knowledge_find(k, tab + 1) : -1;
			n++;
		}
		free(line);
		if (f)
			fclose(f);
	}
	static const double qe[] = {0.25, 0.3, 0.35};
	static const double bw[] = {0.45, 0.55, 0.65};
	static const double uf[] = {4.0, 5.5, 7.0};
	static const double cw[] = {0.5, 0.7, 0.9};
	static const double ucf[] = {0.2, 0.3, 0.45};
	static const double cmw[] = {0.2, 0.3, 0.4};
	static const double stw[] = {0.2, 0.3, 0.4};
	static const double th[] = {0.34, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.5};
	static const double mg[] = {0.0, 0.02};
	double best = -1;
	int *got = xcalloc(n, sizeof *got);
	double *sc = xcalloc(n, sizeof *sc), *sc2 = xcalloc(n, sizeof *sc2);
	for (size_t a = 0; a < 3; a++)
		for (size_t b = 0; b < 3; b++)
			for (size_t c = 0; c < 3; c++)
				for (size_t d = 0; d < 3; d++)
					for (size_t e = 0; e < 3; e++)
						for (size_t f2 = 0; f2 < 3; f2++)
							for (size_t g2 = 0; g2 < 3; g2++) {
								struct match_tuning tu =
								    match_default_tuning;
								tu.q_exp = qe[a];
								tu.bag_weight = bw[b];
								tu.unknown_frac = uf[c];
								tu.common_weight = 0.5;
								tu.body_weight = cw[d];
								tu.unknown_other_frac = ucf[e];
								tu.stop_weight = stw[g2];
								tu.unknown_exp = cmw[f2];
								struct problems p2 = {0};
								match_free(k->match);
								k->match = match_build(
								    ac.text, k->entries,
								    k->nentries, &k->syns, dict,
								    &tu, &p2, NULL);
								problems_free(&p2);
								struct match_params mp = {0, 0};
								for (size_t i = 0; i < n; i++) {
									struct answer an;
									answer_question(
									    k, &ac, &mp, rows[i].q,
									    strlen(rows[i].q), &an);
									got[i] = an.mr.ncand
										     ? an.mr.cand[0]
											   .intent
										     : -1;
									sc[i] = an.mr.score;
									sc2[i] = an.mr.ncand > 1
										     ? an.mr.cand[1]
											   .score
										     : 0;
									answer_free(&an);
								}
								for (size_t t = 0; t < 8; t++)
									for (size_t g = 0; g < 2;
									     g++) {
										size_t in = 0,
										       ok = 0,
										       oo = 0,
										       ook = 0;
										for (size_t i = 0;
										     i < n; i++) {
											int dec =
											    sc[i] >= th[t] &&
												    sc[i] - sc2[i] >=
													mg[g]
												? got[i]
												: -1;
											if (rows[i]
												.want >=
											    0) {
												in++;
												ok +=
												    dec ==
												    rows[i]
													.want;
											} else {
												oo++;
												ook +=
												    dec <
												    0;
											}
										}
										double
										    acc =
											(double)ok /
											(double)in,
										    oos =
											(double)
											    ook /
											(double)oo;
										double v =
										    (acc < oos
											 ? acc
											 : oos) *
											10 +
										    acc + oos;
										if (v > best) {
											best = v;
											printf(
											    "q_exp="
											    "%.2f "
											    "bag=%."
											    "2f "
											    "unk=%."
											    "2f "
											    "body=%"
											    ".2f "
											    "other="
											    "%.2f "
											    "uexp=%"
											    ".2f "
											    "stop=%"
											    ".2f "
											    "th=%."
											    "2f "
											    "margin"
											    "=%.2f:"
											    " acc "
											    "%.3f "
											    "oos "
											    "%."
											    "3f\n",
											    qe[a],
											    bw[b],
											    uf[c],
											    cw[d],
											    ucf[e],
											    cmw[f2],
											    stw[g2],
											    th[t],
											    mg[g],
											    acc,
											    oos);
										}
									}
							}
	return 0;
}
