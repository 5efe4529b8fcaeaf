/*
 * cli: argument handling and the terminal front ends (see cli.h).  Answers
 * always go through answer_question(), the one pipeline.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "adapter.h"
#include "answer.h"
#include "config.h"
#include "convo.h"
#include "feedback.h"
#include "followup.h"
#include "hmap.h"
#include "kb.h"
#include "linein.h"
#include "log.h"
#include "report.h"
#include "runtime.h"
#include "strbuf.h"
#include "term.h"
#include "tty.h"
#include "xmem.h"

#ifndef MB_VERSION
#define MB_VERSION "0.0.0"
#endif
/* MB_STATE_DIR: where the installed service keeps its state (the
 * Makefile's STATE_DIR). */

struct app {
	struct config cfg;
	struct bot b;
};

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: massagebot <command> [options]\n"
	       "\n"
	       "commands:\n"
	       "  run                      start the bot on the configured platform\n"
	       "  chat                     talk to the bot in this terminal (quit or Ctrl-D ends)\n"
	       "  ask [--json] [--explain] [QUESTION...]\n"
	       "                           answer each argument, or each line of standard input\n"
	       "  check [DIR | FILE]       validate the knowledge folder (default KNOWLEDGE_DIR),\n"
	       "                           or one file of it\n"
	       "  eval FILE.tsv [--min-accuracy X] [--max-wrong Y] [--min-oos Z]\n"
	       "       [--min-recall X] [--max-false-alarms Y] [--min-follow X] [--min-alone Y]\n"
	       "       [--max-worse N]\n"
	       "                           score the matcher on 'question<TAB>expected-id' lines\n"
	       "                           ('-': no answer; 'a+b': both, in order),\n"
	       "                           or the safety rules on 'message<TAB>must-fire<TAB>\n"
	       "                           must-not-fire' lines (tests/data/safety.tsv),\n"
	       "                           or conversations: '# dialogue: NAME' then\n"
	       "                           'message<TAB>expected-id<TAB>alone|follow' lines\n"
	       "  report [FILE] [--top N] [--feedback FILE]\n"
	       "                           group unanswered questions (default UNANSWERED_LOG)\n"
	       "                           and list the answers with the most thumbs down\n"
	       "                           (default FEEDBACK_LOG)\n"
	       "\n"
	       "options: --help, --version\n\n");
	if (f == stdout)
		config_print_help();
}

static int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/* Config, log, pipeline context.  Returns an exit status or -1 on success. */
static int
app_init(struct app *a, unsigned cmd)
{
	char *cause = NULL;
	memset(a, 0, sizeof *a);
	a->b.cfg = &a->cfg;
	if (config_load(&a->cfg, ".env", cmd, &cause) < 0) {
		fprintf(stderr, "massagebot: config: %s\n", cause);
		free(cause);
		return EXIT_CONFIG;
	}
	enum log_level lvl = LOG_INFO;
	log_parse_level(cfg_get(&a->cfg, CFG_LOG_LEVEL), &lvl);
	log_init(lvl);
	/* unset for the commands that do not match questions */
	const char *th = cfg_get(&a->cfg, CFG_MATCH_THRESHOLD),
		   *mg = cfg_get(&a->cfg, CFG_MATCH_MARGIN);
	a->b.mp.threshold = th ? strtod(th, NULL) : MATCH_DEFAULT_THRESHOLD;
	a->b.mp.margin = mg ? strtod(mg, NULL) : MATCH_DEFAULT_MARGIN;
	if (answer_ctx_init(&a->b.ac) < 0) {
		fprintf(stderr, "massagebot: libstemmer has no English stemmer\n");
		return EXIT_FAIL;
	}
	a->b.dict = kb_load_dictionary(a->b.ac.text);
	if (a->b.dict == NULL)
		log_warn("no English word list in /usr/share/dict (Debian packages wamerican, "
			 "wbritish): typo correction will be less careful");
	return -1;
}

static void
app_free(struct app *a)
{
	knowledge_free(a->b.kb);
	if (a->b.dict) {
		wordset_free(a->b.dict);
		free(a->b.dict);
	}
	answer_ctx_free(&a->b.ac);
	config_free(&a->cfg);
}

static void
print_problems(FILE *f, const struct problems *pr, size_t max)
{
	for (size_t i = 0; i < pr->n && i < max; i++)
		fprintf(f, "%s:%u:%u: %s\n", pr->v[i].file, pr->v[i].line, pr->v[i].col,
			pr->v[i].msg);
	if (pr->n > max)
		fprintf(f, "... and %zu more problems\n", pr->n - max);
}

/*
 * Load the knowledge for a serving command.  strict_rules: refuse to start
 * without the required safety rules (run, chat) instead of warning.
 */
static int
app_load(struct app *a, int strict_rules)
{
	struct problems pr = {0};
	char *cause = NULL;
	const char *dir = cfg_get(&a->cfg, CFG_KNOWLEDGE_DIR);
	a->b.kb = kb_load(a->b.ac.text, dir, a->b.dict, &pr, &cause);
	if (a->b.kb == NULL) {
		fprintf(stderr, "massagebot: %s (KNOWLEDGE_DIR)\n", cause);
		free(cause);
		problems_free(&pr);
		return EXIT_CONFIG;
	}
	if (pr.n) {
		problems_sort(&pr);
		fprintf(stderr,
			"massagebot: the knowledge in %s has %zu problem%s; fix them "
			"(massagebot check) and start again:\n",
			dir, pr.n, pr.n == 1 ? "" : "s");
		print_problems(stderr, &pr, 20);
		problems_free(&pr);
		return EXIT_CONFIG;
	}
	problems_free(&pr);
	malloc_trim(0); /* the files' text and the build's scratch: given back */
	if (a->b.kb->missing[0]) {
		if (strict_rules) {
			fprintf(stderr,
				"massagebot: refusing to start: required safety rules missing in "
				"%s/safety: %s\n",
				dir, a->b.kb->missing);
			return EXIT_CONFIG;
		}
		fprintf(stderr,
			"massagebot: warning: required safety rules missing in %s/safety: %s\n",
			dir, a->b.kb->missing);
	}
	return -1;
}

/* ---- ask ---------------------------------------------------------------- */

/* Text from a question, as it can safely go to a terminal. */
static void
print_escaped(const char *s)
{
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, "", 0);
	term_escape(&b, s, strlen(s));
	fputs(b.s, stdout);
	sb_free(&b);
}

/* --explain for a person: how the question was read, the candidates with
 * the words that matched, the rules that fired and why.  Made from the
 * --json form, so both always say the same. */
static void
print_explain(const json_t *o)
{
	printf("question:   ");
	print_escaped(json_string_value(json_object_get(o, "question")));
	putchar('\n');
	const char *read_as = json_string_value(json_object_get(o, "read_as"));
	if (read_as) {
		printf("read as:    ");
		print_escaped(read_as);
		putchar('\n');
	}
	const char *intent = json_string_value(json_object_get(o, "intent"));
	double score = json_number_value(json_object_get(o, "score"));
	json_t *intents = json_object_get(o, "intents");
	if (intents) {
		printf("answers:    ");
		size_t n;
		json_t *id;
		json_array_foreach(intents, n, id)
		    printf("%s%s", n ? " and " : "", json_string_value(id));
		printf(" (two questions; the first scored %.2f)\n", score);
	} else if (intent)
		printf("answer:     %s (score %.2f)\n", intent, score);
	else
		printf("answer:     none: the bot falls back (best score %.2f)\n", score);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(o, "candidates"), i, c)
	{
		printf(i ? "            " : "candidates: ");
		printf("%-26s %.2f", json_string_value(json_object_get(c, "intent")),
		       json_number_value(json_object_get(c, "score")));
		size_t j;
		json_t *t;
		json_array_foreach(json_object_get(c, "terms"), j, t)
		{
			printf(j ? ", " : "  matched: ");
			print_escaped(json_string_value(t));
		}
		putchar('\n');
	}
	json_t *safety = json_object_get(o, "safety"), *triggers = json_object_get(o, "triggers");
	printf("safety:     %s", json_array_size(safety) ? "" : "no rule fired");
	json_array_foreach(safety, i, c)
	{
		const char *id = json_string_value(c);
		const char *why = json_string_value(json_object_get(triggers, id));
		printf("%s%s", i ? ", " : "", id);
		if (why) {
			printf(" (\"");
			print_escaped(why);
			printf("\")");
		}
	}
	putchar('\n');
	const char *rule;
	json_t *d;
	i = 0;
	json_object_foreach(json_object_get(o, "doubted"), rule, d)
	{ /* lines the rule words' unless model doubted */
		json_t *instead = json_object_get(d, "instead");
		printf("%s%s (%.2f) -> %s", i++ ? ", " : "doubted:    ", rule,
		       json_number_value(json_object_get(d, "score")),
		       json_is_string(instead) ? json_string_value(instead) : "no line");
	}
	if (i)
		putchar('\n');
	if (json_object_get(o, "error"))
		printf("note:       the question was cut to %d bytes for matching\n",
		       ANSWER_INPUT_MAX);
	printf("reply:\n");
}

static void
ask_one(struct app *a, const struct tty_out *out, const char *q, size_t len, int json, int explain)
{
	struct answer ans;
	answer_question(a->b.kb, &a->b.ac, &a->b.mp, q, len, &ans);
	if (json) {
		char *s = answer_json(a->b.kb, &ans, explain);
		puts(s);
		free(s);
	} else {
		if (explain) {
			char *s = answer_json(a->b.kb, &ans, 1);
			json_t *o = json_loads(s, 0, NULL);
			print_explain(o);
			json_decref(o);
			free(s);
		}
		tty_print(stdout, out, explain ? "  " : "", ans.reply.text);
		putchar('\n');
	}
	answer_free(&ans);
}

static int
cmd_ask(int argc, char **argv)
{
	int json = 0, explain = 0, first = argc;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--explain") == 0) {
			explain = 1;
		} else if (strcmp(argv[i], "--") == 0) {
			first = i + 1;
			break;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "massagebot ask: unknown option %s\n", argv[i]);
			return EXIT_CONFIG;
		} else {
			first = i;
			break;
		}
	}
	struct app a;
	int rc = app_init(&a, CMD_ASK);
	if (rc < 0)
		rc = app_load(&a, 0);
	if (rc >= 0) {
		app_free(&a);
		return rc;
	}
	struct tty_out out;
	tty_detect(STDOUT_FILENO, &out);
	if (first < argc) {
		for (int i = first; i < argc; i++)
			ask_one(&a, &out, argv[i], strlen(argv[i]), json, explain);
	} else {
		struct linein in = LINEIN_INIT(STDIN_FILENO);
		char *line;
		size_t len;
		while ((line = linein_next(&in, &len)) != NULL || errno == EINTR)
			if (line)
				ask_one(&a, &out, line, len, json, explain);
		if (in.err)
			fprintf(stderr, "massagebot ask: reading standard input: %s\n",
				strerror(in.err));
		linein_free(&in);
	}
	fflush(stdout);
	app_free(&a);
	return EXIT_OK;
}

/* ---- check -------------------------------------------------------------- */

static void
print_warnings(const struct knowledge *k)
{
	for (size_t i = 0; i < k->warnings.n; i++) {
		const struct problem *w = &k->warnings.v[i];
		printf("%s:%u:%u: warning: %s\n", w->file, w->line, w->col, w->msg);
	}
}

static void
print_counts(const struct knowledge *k)
{
	size_t nq = 0, ntrig = 0;
	for (size_t i = 0; i < k->nentries; i++)
		nq += k->entries[i].questions.n;
	for (size_t i = 0; i < k->nrules; i++)
		ntrig += k->rules[i].triggers.n;
	printf("%zu answer%s (%zu questions), %zu safety rule%s (%zu triggers), %zu synonym "
	       "groups",
	       k->nentries, k->nentries == 1 ? "" : "s", nq, k->nrules, k->nrules == 1 ? "" : "s",
	       ntrig, k->syns.n);
	size_t nm = k->distress ? distress_nmodels(k->distress) : 0, nrules = 0, nwords = 0,
	       nunless = 0;
	for (size_t m = 0; m < nm; m++) {
		const struct distress_model *dm = distress_model(k->distress, m);
		if (dm->rule == DISTRESS_UNLESS) {
			nunless = dm->nw;
			continue;
		}
		nwords += dm->nw;
		nrules++;
	}
	if (nrules)
		printf(", %zu rule words for %zu rules", nwords, nrules);
	if (nunless)
		printf(" (%zu unless words)", nunless);
	if (k->clf)
		printf(", a classifier of %zu classes", classify_nclasses(k->clf));
}

/* The whole folder: every problem, the missing required rules too. */
static int
check_folder(struct app *a, const char *dir)
{
	struct problems pr = {0};
	char *cause = NULL;
	struct knowledge *k = kb_load(a->b.ac.text, dir, a->b.dict, &pr, &cause);
	if (k == NULL) {
		fprintf(stderr, "massagebot check: %s\n", cause);
		free(cause);
		problems_free(&pr);
		return EXIT_CONFIG;
	}
	if (k->missing[0]) {
		char *save = xstrdup(k->missing);
		for (char *id = strtok(save, " "); id; id = strtok(NULL, " ")) {
			char *path = xasprintf("%s/safety/%s.md", dir, id);
			problems_add(&pr, path, 1, 1, "required safety rule '%s' is missing", id);
			free(path);
		}
		free(save);
	}
	problems_sort(&pr);
	print_problems(stdout, &pr, (size_t)-1);
	print_warnings(k);
	int rc = EXIT_OK;
	if (pr.n) {
		printf("%zu problem%s found in %s\n", pr.n, pr.n == 1 ? "" : "s", dir);
		rc = EXIT_FAIL;
	} else {
		printf("ok: ");
		print_counts(k);
		printf(" in %s", dir);
		if (k->warnings.n)
			printf("; %zu warning%s above", k->warnings.n,
			       k->warnings.n == 1 ? "" : "s");
		putchar('\n');
	}
	knowledge_free(k);
	problems_free(&pr);
	return rc;
}

static int
same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/*
 * One file: inside a knowledge folder, that folder is loaded (so duplicates
 * and related ids are checked against the rest) and the file's own
 * problems are shown; on its own (a copy being edited), the file alone.
 */
static int
check_file(struct app *a, const char *file)
{
	struct problems pr = {0}, mine = {0};
	char *cause = NULL, *root = kb_find_root(file);
	struct knowledge *k = root ? kb_load(a->b.ac.text, root, a->b.dict, &pr, &cause)
				   : kb_load_file(a->b.ac.text, file, a->b.dict, &pr, &cause);
	int rc = EXIT_OK;
	if (k == NULL) {
		fprintf(stderr, "massagebot check: %s\n", cause);
		rc = EXIT_CONFIG;
		goto out;
	}
	for (size_t i = 0; i < pr.n; i++)
		if (strcmp(pr.v[i].file, file) == 0 || same_file(pr.v[i].file, file))
			problems_add(&mine, file, pr.v[i].line, pr.v[i].col, "%s", pr.v[i].msg);
	problems_sort(&mine);
	print_problems(stdout, &mine, (size_t)-1);
	if (mine.n) {
		printf("%zu problem%s found in %s\n", mine.n, mine.n == 1 ? "" : "s", file);
		rc = EXIT_FAIL;
	} else {
		printf("ok: %s%s\n", file,
		       root ? "" : " (on its own: not checked against other files)");
	}
	if (root && pr.n > mine.n)
		printf("(%zu problem%s in other files of %s: massagebot check %s)\n", pr.n - mine.n,
		       pr.n - mine.n == 1 ? "" : "s", root, root);
out:
	free(cause);
	free(root);
	knowledge_free(k);
	problems_free(&mine);
	problems_free(&pr);
	return rc;
}

static int
cmd_check(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: massagebot check [DIR | FILE]\n");
		return EXIT_CONFIG;
	}
	struct app a;
	int rc = app_init(&a, CMD_CHECK);
	if (rc >= 0)
		return rc;
	const char *target = argc == 2 ? argv[1] : cfg_get(&a.cfg, CFG_KNOWLEDGE_DIR);
	struct stat st;
	if (stat(target, &st) == 0 && S_ISREG(st.st_mode))
		rc = check_file(&a, target);
	else
		rc = check_folder(&a, target);
	app_free(&a);
	return rc;
}

/* ---- eval --------------------------------------------------------------- */

/*
 * Two kinds of table.  Questions: question<TAB>expected-id ('-' for out of
 * scope): precision and recall per answer.  Safety rules (the format of
 * tests/data/safety.tsv): message<TAB>rules that must fire<TAB>rules that
 * must not, comma-separated: recall and false alarms per rule.  The number
 * of columns tells which.
 */
struct eval_row {
	char *q, *a, *b; /* the columns (b: NULL in a question table) */
	unsigned line;
};

struct eval_opts {
	const char *file;
	double min_acc, min_oos, max_wrong, min_recall, max_false, min_follow, min_alone;
	double max_worse; /* dialogues: alone turns answered worse with memory (a count) */
	int limits;       /* a safety minimum was given: judge by it, not by "any" */
};

static int
parse_unit(const char *opt, const char *v, double *out)
{
	char *e;
	if (v == NULL) {
		fprintf(stderr, "massagebot eval: %s needs a value between 0 and 1\n", opt);
		return -1;
	}
	*out = strtod(v, &e);
	if (*v == '\0' || *e || *out < 0 || *out > 1) {
		fprintf(stderr, "massagebot eval: %s must be between 0 and 1, not '%s'\n", opt, v);
		return -1;
	}
	return 0;
}

static int
parse_count(const char *opt, const char *v, double *out)
{
	char *e;
	long n = v ? strtol(v, &e, 10) : -1;
	if (v == NULL || *v == '\0' || *e || n < 0 || n > 1000000) {
		fprintf(stderr, "massagebot eval: %s needs a whole number, not '%s'\n", opt,
			v ? v : "");
		return -1;
	}
	*out = (double)n;
	return 0;
}

static int
parse_eval_args(int argc, char **argv, struct eval_opts *o)
{
	static const struct {
		const char *name;
		size_t off;
		int limit;
	} opts[] = {
	    {"--min-accuracy", offsetof(struct eval_opts, min_acc), 0},
	    {"--min-oos", offsetof(struct eval_opts, min_oos), 0},
	    {"--max-wrong", offsetof(struct eval_opts, max_wrong), 0},
	    {"--min-recall", offsetof(struct eval_opts, min_recall), 1},
	    {"--max-false-alarms", offsetof(struct eval_opts, max_false), 1},
	    {"--min-follow", offsetof(struct eval_opts, min_follow), 0},
	    {"--min-alone", offsetof(struct eval_opts, min_alone), 0},
	    {"--max-worse", offsetof(struct eval_opts, max_worse), 0},
	};
	memset(o, 0, sizeof *o);
	o->max_false = 1;
	o->max_wrong = 1;
	for (int i = 1; i < argc; i++) {
		size_t k = 0;
		while (k < sizeof opts / sizeof opts[0] && strcmp(argv[i], opts[k].name) != 0)
			k++;
		if (k < sizeof opts / sizeof opts[0]) {
			double *v = (double *)(void *)((char *)o + opts[k].off);
			if (v == &o->max_worse
				? parse_count(argv[i], i + 1 < argc ? argv[i + 1] : NULL, v) < 0
				: parse_unit(argv[i], i + 1 < argc ? argv[i + 1] : NULL, v) < 0)
				return -1;
			o->limits |= opts[k].limit;
			i++;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "massagebot eval: unknown option %s\n", argv[i]);
			return -1;
		} else if (o->file == NULL) {
			o->file = argv[i];
		} else {
			fprintf(stderr, "massagebot eval: one file only\n");
			return -1;
		}
	}
	if (o->file == NULL) {
		fprintf(stderr,
			"usage: massagebot eval FILE.tsv [--min-accuracy X] [--max-wrong Y] "
			"[--min-oos Z] [--min-recall X] [--max-false-alarms Y] [--min-follow X] "
			"[--min-alone Y] [--max-worse N]\n");
		return -1;
	}
	return 0;
}

static void
free_rows(struct eval_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].q);
	free(rows);
}

/* The table's rows (columns split in place); *cols: 2 or 3.  -1 after
 * naming the line that does not fit. */
static int
read_rows(const char *file, struct eval_row **out, size_t *nrows, int *cols)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "massagebot eval: cannot read %s: %s\n", file, strerror(errno));
		return -1;
	}
	struct eval_row *rows = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	char *line = NULL;
	ssize_t got;
	unsigned ln = 0;
	int rc = 0;
	*cols = 0;
	while ((got = getline(&line, &lcap, f)) >= 0) {
		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		int c = 1;
		for (char *p = line; (p = strchr(p, '\t')); p++)
			c++;
		if (*cols == 0 && (c == 2 || c == 3))
			*cols = c;
		if (c != *cols) {
			fprintf(stderr, "%s:%u: expected %s\n", file, ln,
				*cols == 3 ? "'message<TAB>must-fire<TAB>must-not-fire' (rule ids)"
					   : "'question<TAB>expected-id'");
			rc = -1;
			break;
		}
		rows = xgrow(rows, &cap, n + 1, sizeof *rows);
		struct eval_row *r = &rows[n++];
		r->q = xstrdup(line);
		r->line = ln;
		r->a = strchr(r->q, '\t');
		*r->a++ = '\0';
		r->b = c == 3 ? strchr(r->a, '\t') : NULL;
		if (r->b)
			*r->b++ = '\0';
	}
	free(line);
	fclose(f);
	if (rc == 0 && n == 0) {
		fprintf(stderr, "massagebot eval: %s has no cases\n", file);
		rc = -1;
	}
	if (rc < 0) {
		free_rows(rows, n);
		return -1;
	}
	*out = rows;
	*nrows = n;
	return 0;
}

/* What a question row expects: no answer ('-'), one answer, or two
 * ('a+b': both, in that order). */
struct eval_want {
	size_t n;
	int id[MATCH_ANSWERS_MAX];
};

/* -1 after naming the unknown id or the malformed column. */
static int
parse_want(const struct knowledge *k, const char *file, const struct eval_row *r,
	   struct eval_want *w)
{
	w->n = 0;
	if (strcmp(r->a, "-") == 0)
		return 0;
	for (const char *p = r->a;;) {
		size_t l = strcspn(p, "+");
		char id[128];
		if (l == 0 || l >= sizeof id || w->n == MATCH_ANSWERS_MAX) {
			fprintf(
			    stderr,
			    "%s:%u: expected '-', an answer id or two joined by '+', not '%s'\n",
			    file, r->line, r->a);
			return -1;
		}
		memcpy(id, p, l);
		id[l] = '\0';
		if ((w->id[w->n++] = knowledge_find(k, id)) < 0) {
			fprintf(stderr, "%s:%u: unknown answer id '%s'\n", file, r->line, id);
			return -1;
		}
		if (p[l] == '\0')
			return 0;
		p += l + 1;
	}
}

static int
wanted(const struct eval_want *w, int id)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->id[i] == id)
			return 1;
	return 0;
}

/* The answers as 'a+b', '-', or the offered choices as '? a | b'. */
static void
add_answers(struct strbuf *b, const struct knowledge *k, const struct match_result *mr)
{
	if (mr->nanswers == 0 && mr->nchoices == 0)
		sb_adds(b, "-");
	for (size_t i = 0; i < mr->nanswers; i++)
		sb_addf(b, "%s%s", i ? "+" : "", k->entries[mr->answers[i]].id.s);
	for (size_t i = 0; i < mr->nchoices; i++)
		sb_addf(b, "%s%s", i ? " | " : "did you mean ", k->entries[mr->choices[i]].id.s);
}

/* Tallies of a question table: in-scope rows are right (exactly the
 * answers expected, in order), wrong (an answer shown that was not
 * expected), partly right (some of two expected, nothing else) or
 * unanswered; out-of-scope rows are rejected or answered. */
struct eval_tally {
	size_t in, right, wrong, partly, none, offered, offered_right, two, two_right;
	size_t oos, oos_answered;
};

static void
print_share(const char *what, size_t n, size_t of, const char *more)
{
	printf("%s: %.3f (%zu/%zu%s)\n", what, of ? (double)n / (double)of : 0.0, n, of, more);
}

static void
print_tally(const struct eval_tally *t, size_t rows)
{
	char more[96];
	print_share("in-scope accuracy", t->right, t->in, "");
	print_share("in-scope wrong answer", t->wrong, t->in, "");
	snprintf(more, sizeof more, "; 'did you mean' %zu, the right answer offered in %zu",
		 t->offered, t->offered_right);
	print_share("in-scope no answer", t->none, t->in, t->offered ? more : "");
	if (t->partly)
		print_share("in-scope partly answered", t->partly, t->in, "");
	if (t->two)
		printf("two-question rows: %zu/%zu with both answers in order\n", t->two_right,
		       t->two);
	print_share("out-of-scope rejection", t->oos - t->oos_answered, t->oos, "");
	print_share("out-of-scope answered", t->oos_answered, t->oos, "");
	print_share("overall accuracy", t->right + t->oos - t->oos_answered, rows, "");
}

static int
eval_questions(struct app *a, const struct eval_opts *o, const struct eval_row *rows, size_t n)
{
	const struct knowledge *k = a->b.kb;
	size_t ni = k->nentries;
	struct eval_want *want = xcalloc(n, sizeof *want);
	size_t *tp = xcalloc(ni + 1, sizeof *tp), *fp = xcalloc(ni + 1, sizeof *fp),
	       *fn = xcalloc(ni + 1, sizeof *fn);
	struct eval_tally t = {0};
	struct strbuf conf = STRBUF_INIT;
	int rc = EXIT_OK;
	for (size_t i = 0; i < n; i++)
		if (parse_want(k, o->file, &rows[i], &want[i]) < 0) {
			rc = EXIT_CONFIG;
			goto out;
		}
	for (size_t i = 0; i < n; i++) {
		struct answer ans;
		answer_question(k, &a->b.ac, &a->b.mp, rows[i].q, strlen(rows[i].q), &ans);
		const struct match_result *mr = &ans.mr;
		const struct eval_want *w = &want[i];
		size_t shown_wrong = 0;
		for (size_t g = 0; g < mr->nanswers; g++)
			if (!wanted(w, mr->answers[g])) {
				fp[mr->answers[g]]++;
				shown_wrong++;
			}
		int right = mr->nanswers == w->n;
		for (size_t g = 0; right && g < w->n; g++)
			right = mr->answers[g] == w->id[g];
		const char *kind = NULL;
		if (w->n == 0) {
			t.oos++;
			if (mr->nanswers) {
				t.oos_answered++;
				kind = "answered";
			}
		} else {
			t.in++;
			t.two += w->n > 1;
			for (size_t g = 0; g < w->n; g++) {
				int found = 0;
				for (size_t x = 0; x < mr->nanswers; x++)
					found |= mr->answers[x] == w->id[g];
				(found ? tp : fn)[w->id[g]]++;
			}
			if (right) {
				t.right++;
				t.two_right += w->n > 1;
			} else if (shown_wrong) {
				t.wrong++;
				kind = "wrong";
			} else if (mr->nanswers) {
				t.partly++;
				kind = "partly";
			} else {
				t.none++;
				kind = "no answer";
				if (mr->nchoices) {
					t.offered++;
					t.offered_right +=
					    wanted(w, mr->choices[0]) ||
					    (mr->nchoices > 1 && wanted(w, mr->choices[1]));
				}
			}
		}
		if (kind) {
			sb_addf(&conf, "  %s:%u  %s -> ", o->file, rows[i].line, rows[i].a);
			add_answers(&conf, k, mr);
			sb_addf(&conf, " (%.2f, %s)  %s\n", mr->score, kind, rows[i].q);
		}
		answer_free(&ans);
	}
	printf("%-28s %9s %7s %7s\n", "intent", "precision", "recall", "cases");
	for (size_t i = 0; i < ni; i++) {
		size_t cases = tp[i] + fn[i];
		double p = tp[i] + fp[i] ? (double)tp[i] / (double)(tp[i] + fp[i]) : 1.0;
		double r = cases ? (double)tp[i] / (double)cases : 1.0;
		printf("%-28s %9.2f %7.2f %7zu\n", k->entries[i].id.s, p, r, cases);
	}
	if (conf.len)
		printf("\nnot right (expected -> got):\n%s", conf.s);
	putchar('\n');
	print_tally(&t, n);
	double acc = t.in ? (double)t.right / (double)t.in : 1.0;
	double wrong = t.in ? (double)t.wrong / (double)t.in : 0.0;
	double oos = t.oos ? (double)(t.oos - t.oos_answered) / (double)t.oos : 1.0;
	if (acc < o->min_acc) {
		printf("FAIL: in-scope accuracy %.3f is below %.3f\n", acc, o->min_acc);
		rc = EXIT_FAIL;
	}
	if (wrong > o->max_wrong) {
		printf("FAIL: in-scope wrong answers %.3f are above %.3f\n", wrong, o->max_wrong);
		rc = EXIT_FAIL;
	}
	if (oos < o->min_oos) {
		printf("FAIL: out-of-scope rejection %.3f is below %.3f\n", oos, o->min_oos);
		rc = EXIT_FAIL;
	}
out:
	sb_free(&conf);
	free(tp);
	free(fp);
	free(fn);
	free(want);
	return rc;
}

/* Is rule r named in the comma-separated list ids?  An item may name
 * alternatives, "emergency|see-a-doctor": either rule counts.  An unknown
 * id: -1 (*unknown points at it). */
static int
listed(const struct knowledge *k, const char *ids, int r, const char **unknown)
{
	int found = 0;
	char *copy = xstrdup(ids), *save = NULL;
	for (char *id = strtok_r(copy, ", |", &save); id; id = strtok_r(NULL, ", |", &save)) {
		int x = knowledge_find_rule(k, id);
		if (x < 0) {
			*unknown = ids + (id - copy);
			found = -1;
			break;
		}
		found |= x == r;
	}
	free(copy);
	return found;
}

/* Is rule r named on its own (not as one of "a|b") in the list ids? */
static int
listed_single(const struct knowledge *k, const char *ids, int r)
{
	int found = 0;
	char *copy = xstrdup(ids), *save = NULL;
	for (char *id = strtok_r(copy, ", ", &save); id; id = strtok_r(NULL, ", ", &save))
		found |= strchr(id, '|') == NULL && knowledge_find_rule(k, id) == r;
	free(copy);
	return found;
}

/* Did any rule named by the item "a" or "a|b" (len bytes of it) fire? */
static int
item_fired(const struct knowledge *k, const struct answer *ans, const char *item, size_t len)
{
	while (len > 0) {
		size_t n = 0;
		while (n < len && item[n] != '|')
			n++;
		for (size_t h = 0; h < ans->nhits; h++) {
			const char *id = k->rules[ans->hits[h].rule].id.s;
			if (strlen(id) == n && memcmp(id, item, n) == 0)
				return 1;
		}
		item += n < len ? n + 1 : n;
		len -= n < len ? n + 1 : n;
	}
	return 0;
}

/* Must-fire items naming alternatives ("emergency|see-a-doctor"): each
 * distinct item is tallied on its own line (the first 32 of them; every
 * item counts in the totals). */
struct alt_tally {
	char item[128];
	size_t must, hit;
};

/* The safety table: every rule's recall (fired where it must) and false
 * alarms (fired where it must not), each miss and false alarm listed. */
static int
eval_safety(struct app *a, const struct eval_opts *o, const struct eval_row *rows, size_t n)
{
	const struct knowledge *k = a->b.kb;
	size_t nr = k->nrules;
	size_t *must = xcalloc(nr + 1, sizeof *must), *hit = xcalloc(nr + 1, sizeof *hit),
	       *mustnot = xcalloc(nr + 1, sizeof *mustnot),
	       *falses = xcalloc(nr + 1, sizeof *falses);
	size_t tmust = 0, thit = 0, tmustnot = 0, tfalse = 0;
	struct strbuf misses = STRBUF_INIT, alarms = STRBUF_INIT;
	struct alt_tally alts[32] = {0};
	size_t nalt = 0;
	int rc = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		const char *unknown = NULL;
		if (listed(k, rows[i].a, -1, &unknown) < 0 ||
		    listed(k, rows[i].b, -1, &unknown) < 0) {
			fprintf(stderr, "%s:%u: unknown rule id '%.*s'\n", o->file, rows[i].line,
				(int)strcspn(unknown, ", |"), unknown);
			rc = EXIT_CONFIG;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct answer ans;
		answer_question(k, &a->b.ac, &a->b.mp, rows[i].q, strlen(rows[i].q), &ans);
		struct strbuf fired = STRBUF_INIT;
		sb_add(&fired, "", 0);
		for (size_t h = 0; h < ans.nhits; h++)
			sb_addf(&fired, "%s%s", h ? "," : "", k->rules[ans.hits[h].rule].id.s);
		for (size_t r = 0; r < nr; r++) {
			const char *unknown = NULL;
			int fires = 0;
			for (size_t h = 0; h < ans.nhits; h++)
				fires |= ans.hits[h].rule == (int)r;
			if (listed_single(k, rows[i].a, (int)r) > 0) {
				must[r]++;
				hit[r] += fires;
				if (!fires)
					sb_addf(&misses, "  %s:%u  %s  %s  (fired: %s)\n", o->file,
						rows[i].line, k->rules[r].id.s, rows[i].q,
						fired.len ? fired.s : "none");
			}
			if (listed(k, rows[i].b, (int)r, &unknown) > 0) {
				mustnot[r]++;
				falses[r] += fires;
				if (fires)
					sb_addf(&alarms, "  %s:%u  %s  %s  (fired: %s)\n", o->file,
						rows[i].line, k->rules[r].id.s, rows[i].q, fired.s);
			}
		}
		for (const char *p = rows[i].a; *p;) {
			size_t len = strcspn(p, ", ");
			if (len > 0 && memchr(p, '|', len) != NULL) {
				int ok = item_fired(k, &ans, p, len);
				size_t x = 0;
				while (x < nalt && (strlen(alts[x].item) != len ||
						    memcmp(alts[x].item, p, len) != 0))
					x++;
				if (x == nalt && nalt < sizeof alts / sizeof alts[0] &&
				    len < sizeof alts[0].item) {
					memcpy(alts[x].item, p, len);
					alts[x].item[len] = '\0';
					nalt++;
				}
				if (x < nalt) {
					alts[x].must++;
					alts[x].hit += ok;
				}
				tmust++;
				thit += ok;
				if (!ok)
					sb_addf(&misses, "  %s:%u  %.*s  %s  (fired: %s)\n",
						o->file, rows[i].line, (int)len, p, rows[i].q,
						fired.len ? fired.s : "none");
			}
			p += len;
			p += strspn(p, ", ");
		}
		sb_free(&fired);
		answer_free(&ans);
	}
	printf("%-22s %7s %11s %13s\n", "rule", "recall", "must fire", "false alarms");
	for (size_t r = 0; r < nr; r++) {
		printf("%-22s %7.2f %5zu/%-5zu %6zu/%-6zu\n", k->rules[r].id.s,
		       must[r] ? (double)hit[r] / (double)must[r] : 1.0, hit[r], must[r], falses[r],
		       mustnot[r]);
		tmust += must[r];
		thit += hit[r];
		tmustnot += mustnot[r];
		tfalse += falses[r];
	}
	for (size_t x = 0; x < nalt; x++)
		printf("%-22s %7.2f %5zu/%-5zu\n", alts[x].item,
		       (double)alts[x].hit / (double)alts[x].must, alts[x].hit, alts[x].must);
	if (misses.len)
		printf("\nmisses (the rule did not fire):\n%s", misses.s);
	if (alarms.len)
		printf("\nfalse alarms (the rule fired where it must not):\n%s", alarms.s);
	double recall = tmust ? (double)thit / (double)tmust : 1.0;
	double false_rate = tmustnot ? (double)tfalse / (double)tmustnot : 0.0;
	printf("\nrecall: %.3f (%zu/%zu)\n", recall, thit, tmust);
	printf("false alarms: %.3f (%zu/%zu)\n", false_rate, tfalse, tmustnot);
	if (o->limits ? recall < o->min_recall : thit < tmust) {
		printf("FAIL: recall %.3f%s\n", recall,
		       o->limits ? " is below the minimum" : ": some rules missed");
		rc = EXIT_FAIL;
	}
	if (o->limits ? false_rate > o->max_false : tfalse > 0) {
		printf("FAIL: false alarms %.3f%s\n", false_rate,
		       o->limits ? " are above the maximum"
				 : ": some rules fired where they must not");
		rc = EXIT_FAIL;
	}
out:
	sb_free(&misses);
	sb_free(&alarms);
	free(must);
	free(hit);
	free(mustnot);
	free(falses);
	return rc;
}

/* ---- dialogues ----------------------------------------------------------- */

/*
 * A dialogue table (tests/data/dialogues.tsv): each dialogue starts with
 * '# dialogue: <name>' and ends with a blank line; each turn is
 * message<TAB>expected<TAB>kind, expected an answer id or '-', kind
 * 'alone' or 'follow'.  Every turn is answered twice: in its conversation
 * (with the bot's memory, as a platform answers it) and on its own.
 */
struct turn {
	struct eval_row r; /* q: the message, a: expected, b: the kind */
	int follow;
	struct eval_want want; /* r.a read against the knowledge */
};

struct dialogue {
	char *name;
	unsigned line;
	struct turn *t;
	size_t n, cap;
};

static void
free_dialogues(struct dialogue *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d[i].n; j++)
			free(d[i].t[j].r.q);
		free(d[i].t);
		free(d[i].name);
	}
	free(d);
}

#define DIALOGUE_MARK "# dialogue:"

/* Does the file hold dialogues (a '# dialogue:' line)? */
static int
is_dialogue_file(const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	int yes = 0;
	while (!yes && getline(&line, &cap, f) >= 0)
		yes = strncmp(line, DIALOGUE_MARK, strlen(DIALOGUE_MARK)) == 0;
	free(line);
	fclose(f);
	return yes;
}

static int
dialogue_error(const char *file, unsigned ln, const char *what)
{
	fprintf(stderr, "%s:%u: %s\n", file, ln, what);
	return -1;
}

/* The dialogues of file; -1 after naming the line that does not fit. */
static int
read_dialogues(const char *file, struct dialogue **out, size_t *nout)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "massagebot eval: cannot read %s: %s\n", file, strerror(errno));
		return -1;
	}
	struct dialogue *d = NULL, *cur = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	char *line = NULL;
	unsigned ln = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &lcap, f) >= 0) {
		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, DIALOGUE_MARK, strlen(DIALOGUE_MARK)) == 0) {
			const char *name = line + strlen(DIALOGUE_MARK);
			name += strspn(name, " \t");
			if (cur)
				rc = dialogue_error(file, ln,
						    "a dialogue starts before the blank line "
						    "that ends the one before");
			else if (*name == '\0')
				rc = dialogue_error(file, ln, "the dialogue has no name");
			if (rc)
				break;
			d = xgrow(d, &cap, n + 1, sizeof *d);
			cur = &d[n++];
			memset(cur, 0, sizeof *cur);
			cur->name = xstrdup(name);
			cur->line = ln;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (line[0] == '\0') {
			if (cur && cur->n == 0)
				rc = dialogue_error(file, cur->line, "the dialogue has no turns");
			cur = NULL;
			continue;
		}
		char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
		if (cur == NULL) {
			rc = dialogue_error(file, ln,
					    "a turn outside a dialogue (start one with "
					    "'" DIALOGUE_MARK " <name>')");
		} else if (a == NULL || b == NULL || strchr(b + 1, '\t') || a == line) {
			rc = dialogue_error(file, ln, "expected 'message<TAB>expected<TAB>kind'");
		} else if (strcmp(b + 1, "alone") != 0 && strcmp(b + 1, "follow") != 0) {
			rc = dialogue_error(file, ln, "the kind must be 'alone' or 'follow'");
		} else {
			cur->t = xgrow(cur->t, &cur->cap, cur->n + 1, sizeof *cur->t);
			struct turn *t = &cur->t[cur->n++];
			t->r.q = xstrdup(line);
			t->r.a = t->r.q + (a - line);
			t->r.b = t->r.q + (b - line);
			*t->r.a++ = '\0';
			*t->r.b++ = '\0';
			t->r.line = ln;
			t->follow = strcmp(t->r.b, "follow") == 0;
		}
	}
	if (rc == 0 && cur && cur->n == 0)
		rc = dialogue_error(file, cur->line, "the dialogue has no turns");
	if (rc == 0 && n == 0) {
		fprintf(stderr, "massagebot eval: %s has no dialogues\n", file);
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc < 0) {
		free_dialogues(d, n);
		return -1;
	}
	*out = d;
	*nout = n;
	return 0;
}

/* Exactly the answers expected, in order ('-': none). */
static int
answered_right(const struct match_result *mr, const struct eval_want *w)
{
	if (mr->nanswers != w->n)
		return 0;
	for (size_t g = 0; g < w->n; g++)
		if (mr->answers[g] != w->id[g])
			return 0;
	return 1;
}

static size_t
shown_wrong(const struct match_result *mr, const struct eval_want *w)
{
	size_t n = 0;
	for (size_t g = 0; g < mr->nanswers; g++)
		n += !wanted(w, mr->answers[g]);
	return n > 0;
}

/* Tallies of one kind of turn, with memory (right, wrong) and without. */
struct turn_tally {
	size_t n, right, wrong, alone_right, alone_wrong, oos, oos_answered;
};

static void
print_turns(const char *what, const struct turn_tally *t)
{
	char more[80];
	snprintf(more, sizeof more, "; each turn alone: %zu/%zu = %.3f", t->alone_right, t->n,
		 t->n ? (double)t->alone_right / (double)t->n : 0.0);
	print_share(what, t->right, t->n, more);
}

static int
eval_dialogues(struct app *a, const struct eval_opts *o, struct dialogue *d, size_t nd)
{
	const struct knowledge *k = a->b.kb;
	struct turn_tally kinds[2] = {{0}}; /* alone, follow */
	struct strbuf notes = STRBUF_INIT, worse = STRBUF_INIT;
	size_t nworse = 0, nbetter = 0, by_topic = 0, by_choice = 0, by_context = 0;
	struct convo *mem = convo_new(CONVO_MAX, CONVO_TTL_MS);
	int rc = EXIT_OK;
	for (size_t i = 0; i < nd; i++)
		for (size_t j = 0; j < d[i].n; j++)
			if (parse_want(k, o->file, &d[i].t[j].r, &d[i].t[j].want) < 0) {
				rc = EXIT_CONFIG;
				goto out;
			}
	for (size_t i = 0; i < nd; i++) {
		char key[32]; /* each dialogue its conversation, whatever its name */
		snprintf(key, sizeof key, "%zu", i);
		for (size_t j = 0; j < d[i].n; j++) {
			const struct turn *t = &d[i].t[j];
			const struct eval_want *w = &t->want;
			struct convo_memory m;
			uint64_t now = (uint64_t)j * 1000; /* a second between turns */
			convo_get(mem, key, strlen(key), now, &m);
			struct answer with, alone;
			enum followup_how how = followup_answer(k, &a->b.ac, &a->b.mp, &m, t->r.q,
								strlen(t->r.q), &with);
			followup_remember(k, &with, &m);
			convo_put(mem, key, strlen(key), &m, now);
			answer_question(k, &a->b.ac, &a->b.mp, t->r.q, strlen(t->r.q), &alone);
			struct turn_tally *tt = &kinds[t->follow];
			int right = answered_right(&with.mr, w),
			    right0 = answered_right(&alone.mr, w);
			tt->n++;
			tt->right += right;
			tt->alone_right += right0;
			tt->wrong += w->n && shown_wrong(&with.mr, w);
			tt->alone_wrong += w->n && shown_wrong(&alone.mr, w);
			if (w->n == 0) {
				tt->oos++;
				tt->oos_answered += with.mr.nanswers > 0;
			}
			by_topic += how == FOLLOWUP_TOPIC;
			by_choice += how == FOLLOWUP_CHOICE;
			by_context += how == FOLLOWUP_CONTEXT;
			nbetter += right && !right0;
			struct strbuf *to = NULL;
			if (!t->follow && right0 && !right) {
				nworse++;
				to = &worse;
			} else if (!right) {
				to = &notes;
			}
			if (to) {
				sb_addf(to, "  %s:%u  [%s, read %s] %s -> ", o->file, t->r.line,
					t->r.b, followup_how_name(how), t->r.a);
				add_answers(to, k, &with.mr);
				sb_addf(to, " (%.2f)  %s\n", with.mr.score, t->r.q);
			}
			answer_free(&with);
			answer_free(&alone);
		}
	}
	if (notes.len)
		printf("turns not right (expected -> got):\n%s\n", notes.s);
	if (worse.len)
		printf("alone turns answered worse with memory than without:\n%s\n", worse.s);
	size_t turns = kinds[0].n + kinds[1].n;
	printf("%zu dialogues, %zu turns (%zu follow-ups, %zu alone)\n", nd, turns, kinds[1].n,
	       kinds[0].n);
	print_turns("follow-up turns right", &kinds[1]);
	print_turns("alone turns right", &kinds[0]);
	printf("alone turns answered worse with memory than without: %zu\n", nworse);
	printf("turns right with memory that are not right alone: %zu\n", nbetter);
	print_share("follow-up turns with a wrong answer", kinds[1].wrong, kinds[1].n, "");
	print_share("alone turns with a wrong answer", kinds[0].wrong, kinds[0].n, "");
	if (kinds[0].oos + kinds[1].oos)
		print_share("turns expecting no answer that were answered",
			    kinds[0].oos_answered + kinds[1].oos_answered,
			    kinds[0].oos + kinds[1].oos, "");
	printf("read with the previous topic: %zu turns; as a choice: %zu turns; by the context "
	       "reader: %zu turns\n",
	       by_topic, by_choice, by_context);
	double follow = kinds[1].n ? (double)kinds[1].right / (double)kinds[1].n : 1.0;
	double alone = kinds[0].n ? (double)kinds[0].right / (double)kinds[0].n : 1.0;
	double wrong = turns ? (double)(kinds[0].wrong + kinds[1].wrong) / (double)turns : 0.0;
	if (follow < o->min_follow) {
		printf("FAIL: follow-up accuracy %.3f is below %.3f\n", follow, o->min_follow);
		rc = EXIT_FAIL;
	}
	if (alone < o->min_alone) {
		printf("FAIL: alone accuracy %.3f is below %.3f\n", alone, o->min_alone);
		rc = EXIT_FAIL;
	}
	if ((double)nworse > o->max_worse) {
		printf("FAIL: %zu alone turns answered worse with memory (at most %.0f)\n", nworse,
		       o->max_worse);
		rc = EXIT_FAIL;
	}
	if (wrong > o->max_wrong) {
		printf("FAIL: wrong answers %.3f are above %.3f\n", wrong, o->max_wrong);
		rc = EXIT_FAIL;
	}
out:
	convo_free(mem);
	sb_free(&notes);
	sb_free(&worse);
	return rc;
}

static int
cmd_eval(int argc, char **argv)
{
	struct eval_opts o;
	struct eval_row *rows = NULL;
	struct dialogue *d = NULL;
	size_t n = 0;
	int cols = 0;
	if (parse_eval_args(argc, argv, &o) < 0)
		return EXIT_CONFIG;
	int dialogues = is_dialogue_file(o.file);
	if (dialogues ? read_dialogues(o.file, &d, &n) < 0
		      : read_rows(o.file, &rows, &n, &cols) < 0)
		return EXIT_CONFIG;
	struct app a;
	int rc = app_init(&a, CMD_EVAL);
	if (rc < 0)
		rc = app_load(&a, 0);
	if (rc < 0)
		rc = dialogues   ? eval_dialogues(&a, &o, d, n)
		     : cols == 3 ? eval_safety(&a, &o, rows, n)
				 : eval_questions(&a, &o, rows, n);
	app_free(&a);
	if (dialogues)
		free_dialogues(d, n);
	else
		free_rows(rows, n);
	return rc;
}

/* ---- report ----------------------------------------------------------- */

#define REPORT_PHRASINGS_SHOWN 10

static void
print_cluster(const struct report_cluster *c, const struct report_item *items)
{
	size_t shown =
	    c->nphrasings < REPORT_PHRASINGS_SHOWN ? c->nphrasings : REPORT_PHRASINGS_SHOWN;
	for (size_t i = 0; i < shown; i++) {
		const struct report_phrasing *p = &c->phrasings[i];
		if (i == 0)
			printf("\n%3zu x  ", c->count);
		else
			printf("        ");
		putchar('"');
		print_escaped(items[p->example].question);
		putchar('"');
		if (c->nphrasings > 1)
			printf(p->count == 1 ? "  (once)" : "  (%zu times)", p->count);
		putchar('\n');
	}
	if (c->nphrasings > shown) {
		size_t rest = 0;
		for (size_t i = shown; i < c->nphrasings; i++)
			rest += c->phrasings[i].count;
		printf("        ... and %zu more phrasings (%zu questions)\n",
		       c->nphrasings - shown, rest);
	}
	if (c->closest)
		printf("      closest answer: %s (best score %.2f): add these phrasings to its "
		       "questions if it fits, or write a new answer\n",
		       c->closest, c->closest_score);
	else
		printf("      closest answer: none: consider a new answer\n");
}

/* The log the report reads by default: the variable (UNANSWERED_LOG,
 * FEEDBACK_LOG), else the installed service's (when it is there and
 * readable). */
static const char *
default_log(const struct app *a, enum cfg_id var, const char *installed)
{
	const char *file = cfg_get(&a->cfg, var);
	if (file == NULL && access(installed, R_OK) == 0)
		file = installed;
	return file;
}

/* A log read to its end: close it; EXIT_OK, or EXIT_CONFIG (said) if a
 * read failed. */
static int
end_reading(struct linein *in, int fd, const char *file)
{
	int rc = EXIT_OK;
	if (in->err) {
		fprintf(stderr, "massagebot report: reading %s: %s\n", file, strerror(in->err));
		rc = EXIT_CONFIG;
	}
	linein_free(in);
	close(fd);
	return rc;
}

/* Beside an answer with thumbs down: the unanswered questions whose
 * closest answer it was (they may be what it lacks). */
static void
print_near(const char *answer, const struct report_item *items, size_t n)
{
	size_t near = 0;
	for (size_t i = 0; i < n; i++)
		near += items[i].candidate && strcmp(items[i].candidate, answer) == 0;
	if (near == 0) {
		printf("%s\n", answer);
		return;
	}
	printf("%-26s %zu unanswered came closest:", answer, near);
	for (size_t i = 0, shown = 0; i < n && shown < 2; i++)
		if (items[i].candidate && strcmp(items[i].candidate, answer) == 0) {
			printf("%s\"", shown++ ? ", " : " ");
			print_escaped(items[i].question);
			putchar('"');
		}
	printf("%s\n", near > 2 ? ", ..." : "");
}

/* The answers with the most thumbs down, from the feedback log (if any),
 * each beside the unanswered questions (items[0..nitems)) that came
 * closest to it. */
static int
report_thumbs(const char *file, size_t top, const struct report_item *items, size_t nitems)
{
	if (file == NULL)
		return EXIT_OK;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			printf("\nNo thumbs up or down yet (%s does not exist).\n", file);
			return EXIT_OK;
		}
		fprintf(stderr, "massagebot report: cannot read %s: %s\n", file, strerror(errno));
		return EXIT_CONFIG;
	}
	struct report_vote *v = NULL;
	size_t n = 0, cap = 0, bad = 0, len;
	struct linein in = LINEIN_INIT(fd);
	char *line, id[FEEDBACK_ID_MAX];
	int helpful;
	while ((line = linein_next(&in, &len)) != NULL || errno == EINTR) {
		if (line == NULL)
			continue;
		if (feedback_parse(line, len, id, sizeof id, &helpful) < 0) {
			bad += len > 0;
			continue;
		}
		v = xgrow(v, &cap, n + 1, sizeof *v);
		v[n].answer = xstrdup(id);
		v[n++].helpful = helpful;
	}
	int rc = end_reading(&in, fd, file);
	size_t nt, down = 0;
	struct report_thumbs *t = report_tally(v, n, &nt);
	for (size_t i = 0; i < n; i++)
		down += !v[i].helpful;
	printf("\n%zu thumb%s (%zu down, %zu up) on %zu answer%s (%s)\n", n, n == 1 ? "" : "s",
	       down, n - down, nt, nt == 1 ? "" : "s", file);
	if (bad)
		printf("(%zu line%s that are not log entries skipped)\n", bad, bad == 1 ? "" : "s");
	if (nt && t[0].down)
		printf(
		    "the answers with the most thumbs down (rewrite or extend them), each beside "
		    "the unanswered questions that came closest to it:\n");
	size_t shown = 0;
	for (; shown < nt && t[shown].down && shown < top; shown++) {
		printf("%5zu down %5zu up  ", t[shown].down, t[shown].up);
		print_near(t[shown].answer, items, nitems);
	}
	if (shown < nt && t[shown].down)
		printf("... and more (--top N shows more)\n");
	free(t);
	for (size_t i = 0; i < n; i++)
		free((char *)(uintptr_t)v[i].answer);
	free(v);
	return rc;
}

static int
report_file(struct app *a, const char *file, const char *feedback, size_t top)
{
	if (file == NULL)
		file = default_log(a, CFG_UNANSWERED_LOG, MB_STATE_DIR "/unanswered.jsonl");
	if (feedback == NULL)
		feedback = default_log(a, CFG_FEEDBACK_LOG, MB_STATE_DIR "/feedback.jsonl");
	if (file == NULL) {
		fprintf(stderr,
			"massagebot report: no file given, UNANSWERED_LOG is not set and "
			"there is no %s/unanswered.jsonl\n",
			MB_STATE_DIR);
		return EXIT_CONFIG;
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "massagebot report: cannot read %s: %s\n", file, strerror(errno));
		return EXIT_CONFIG;
	}
	json_t **rows = NULL;
	struct report_item *items = NULL;
	size_t n = 0, cap = 0, bad = 0;
	struct linein in = LINEIN_INIT(fd);
	char *line;
	size_t len;
	while ((line = linein_next(&in, &len)) != NULL || errno == EINTR) {
		if (line == NULL)
			continue;
		json_t *o = json_loadb(line, len, 0, NULL);
		const char *q = o ? json_string_value(json_object_get(o, "question")) : NULL;
		if (q == NULL) {
			bad += len > 0;
			json_decref(o);
			continue;
		}
		items = xgrow(items, &cap, n + 1, sizeof *items);
		rows = xrealloc(rows, cap * sizeof *rows);
		rows[n] = o;
		items[n].question = q;
		json_t *c0 = json_array_get(json_object_get(o, "candidates"), 0);
		items[n].candidate = json_string_value(json_object_get(c0, "intent"));
		items[n].score = json_number_value(json_object_get(c0, "score"));
		n++;
	}
	int rc = end_reading(&in, fd, file);
	size_t nc = 0;
	struct report_cluster *c = report_cluster(a->b.ac.text, items, n, &nc);
	printf("%zu unanswered question%s in %zu group%s (%s)\n", n, n == 1 ? "" : "s", nc,
	       nc == 1 ? "" : "s", file);
	if (bad)
		printf("(%zu line%s that are not log entries skipped)\n", bad, bad == 1 ? "" : "s");
	for (size_t k = 0; k < nc && k < top; k++)
		print_cluster(&c[k], items);
	if (nc > top)
		printf("\n... and %zu smaller groups (--top N shows more)\n", nc - top);
	report_free(c, nc);
	int frc = report_thumbs(feedback, top, items, n);
	for (size_t i = 0; i < n; i++)
		json_decref(rows[i]);
	free(rows);
	free(items);
	return rc != EXIT_OK ? rc : frc;
}

static int
cmd_report(int argc, char **argv)
{
	int top = 15;
	const char *file = NULL, *feedback = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
			char *e;
			long v = strtol(argv[++i], &e, 10);
			if (*e || v < 1 || v > 1000) {
				fprintf(stderr, "massagebot report: --top must be 1-1000\n");
				return EXIT_CONFIG;
			}
			top = (int)v;
		} else if (strcmp(argv[i], "--feedback") == 0 && i + 1 < argc) {
			feedback = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "massagebot report: unknown option %s\n", argv[i]);
			return EXIT_CONFIG;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr,
				"usage: massagebot report [FILE] [--top N] [--feedback FILE]\n");
			return EXIT_CONFIG;
		}
	}
	struct app a;
	int rc = app_init(&a, CMD_REPORT);
	if (rc >= 0)
		return rc;
	rc = report_file(&a, file, feedback, (size_t)top);
	app_free(&a);
	return rc;
}

/* ---- chat / run ---------------------------------------------------------- */

static int
serve(const char *platform, int argc)
{
	if (argc > 1) {
		fprintf(stderr, "usage: massagebot %s\n", platform ? "run" : "chat");
		return EXIT_CONFIG;
	}
	/* A long-running bot rebuilds its knowledge on every edit.  A fixed
	 * mmap threshold (glibc raises it after the first large free) keeps
	 * each version's big arrays in their own mappings, returned whole when
	 * the version is freed: measured, 20 reloads leave the console bot at
	 * 17.2 MB instead of 19.0 MB. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	struct app a;
	int rc = app_init(&a, platform ? CMD_RUN : CMD_CHAT);
	const struct adapter_ops *ads[ADAPTER_MAX];
	size_t nads = 0;
	if (rc < 0) {
		char *cause = NULL;
		if (adapter_select(&a.cfg, platform ? cfg_get(&a.cfg, CFG_BOT_PLATFORM) : "console",
				   a.cfg.origin[CFG_BOT_PLATFORM], ads, &nads, &cause) < 0) {
			fprintf(stderr, "massagebot: config: %s\n", cause);
			free(cause);
			rc = EXIT_CONFIG;
		}
	}
	if (rc < 0)
		rc = app_load(&a, 1);
	if (rc < 0) {
		/* under systemd: the made-up example profile must not go unnoticed */
		if (platform && a.b.kb->clinic.example &&
		    (getenv("INVOCATION_ID") || getenv("NOTIFY_SOCKET")))
			log_warn("%s is the example clinic profile (example: true): the bot gives "
				 "made-up clinic details until it is filled in (README: clinic "
				 "profile)",
				 a.b.kb->clinic.file);
		bot_install_signals();
		struct strbuf names = STRBUF_INIT;
		for (size_t i = 0; i < nads; i++)
			sb_addf(&names, "%s%s", i ? ", " : "", ads[i]->name);
		log_info("massagebot %s starting on %s with %zu answers", MB_VERSION, names.s,
			 a.b.kb->nentries);
		sb_free(&names);
		char *cause = NULL;
		if (bot_start(&a.b, &cause) < 0) {
			fprintf(stderr, "massagebot: %s\n", cause);
			free(cause);
			rc = EXIT_CONFIG;
		} else {
			rc = runtime_run(&a.b, ads, nads);
		}
		bot_stop(&a.b);
	}
	app_free(&a);
	return rc;
}

static int
cmd_chat(int argc, char **argv)
{
	(void)argv;
	return serve(NULL, argc);
}

static int
cmd_run(int argc, char **argv)
{
	(void)argv;
	return serve("run", argc);
}

int
cli_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
		const char *usage;
	} cmds[] = {
	    {"run", cmd_run, "massagebot run: start the bot on the platforms BOT_PLATFORM lists"},
	    {"chat", cmd_chat, "massagebot chat: talk to the bot here; quit or Ctrl-D ends"},
	    {"ask", cmd_ask,
	     "massagebot ask [--json] [--explain] [QUESTION...]: answer each argument, or each "
	     "line of standard input; --json prints one JSON object per question"},
	    {"check", cmd_check,
	     "massagebot check [DIR | FILE]: validate answers, safety rules and synonyms (or "
	     "one file, against the rest of its folder); prints file:line:col: message for "
	     "each problem; exit 1 if any"},
	    {"report", cmd_report,
	     "massagebot report [FILE] [--top N] [--feedback FILE]: group the unanswered "
	     "questions in FILE (default UNANSWERED_LOG) and show the closest existing answer for "
	     "each group; then the answers with the most thumbs down in the feedback log "
	     "(--feedback, default FEEDBACK_LOG)"},
	    {"eval", cmd_eval,
	     "massagebot eval FILE.tsv [--min-accuracy X] [--max-wrong Y] [--min-oos Z] "
	     "[--min-recall X] [--max-false-alarms Y]: a question table (question<TAB>expected-id, "
	     "'-' for none, 'a+b' for two answers in order): per-intent precision and recall, the "
	     "rows not answered right, in-scope accuracy, wrong answers and no answers, "
	     "out-of-scope "
	     "rejection and answers, exit 1 past a limit; a safety table "
	     "(message<TAB>must-fire<TAB>must-not-fire): per-rule recall and false alarms, each "
	     "miss and false alarm, exit 1 on any (or past --min-recall / --max-false-alarms); a "
	     "dialogue table ('# dialogue: NAME', then message<TAB>expected-id<TAB>alone|follow "
	     "turns, a blank line after each dialogue): follow-up and alone turns right with the "
	     "bot's memory and each turn alone, alone turns answered worse with memory, exit 1 "
	     "past "
	     "--min-follow / --min-alone / --max-wrong / --max-worse (0 unless given)"},
	};
	if (argc < 2) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("massagebot %s\n", MB_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (wants_help(argc - 1, argv + 1)) {
			printf("%s\n\n", cmds[i].usage);
			config_print_help();
			return EXIT_OK;
		}
		for (int j = 2; j < argc; j++)
			if (strcmp(argv[j], "--version") == 0) {
				printf("massagebot %s\n", MB_VERSION);
				return EXIT_OK;
			}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "massagebot: unknown command '%s' (try --help)\n", argv[1]);
	return EXIT_CONFIG;
}
