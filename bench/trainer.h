/*
 * trainer: what the development tools that learn from tests/data (tune.c,
 * distress.c, classify.c) share: the knowledge loaded as the bot loads it,
 * and a small seeded random number generator, so that the same inputs
 * always make the same file.
 */
#ifndef TRAINER_H
#define TRAINER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "kb.h"

/* The knowledge in dir with the bot's English word list, tokenised with
 * ac's text context (its lexicon set as the bot sets it); NULL, said on
 * stderr under tool's name, when it has problems.  *dict: free it after. */
static inline struct knowledge *
trainer_load(const char *tool, const char *dir, struct answer_ctx *ac, struct wordset **dict)
{
	struct problems pr = {0};
	char *cause = NULL;
	*dict = kb_load_dictionary(ac->text);
	struct knowledge *k = kb_load(ac->text, dir, *dict, &pr, &cause);
	problems_free(&pr);
	free(cause);
	if (k == NULL) {
		fprintf(stderr, "%s: the knowledge has problems (massagebot check)\n", tool);
		return NULL;
	}
	text_set_lexicon(ac->text, k->dict);
	return k;
}

/* Is path a safety table (message, must fire, must not fire)?  Its file
 * name holds "safety": safety.tsv, safety-r7.tsv, train-safety-1.tsv. */
static inline int
trainer_safety_table(const char *path)
{
	const char *base = strrchr(path, '/');
	return strstr(base ? base + 1 : path, "safety") != NULL;
}

/* Each line of the table at path, its line end taken off, to fn(line, its
 * number from 1, arg) until fn returns nonzero.  Returns -1, said on stderr
 * under tool's name, when the file cannot be read, else what fn last
 * returned (0 when it read every line). */
static inline int
trainer_lines(const char *tool, const char *path, int (*fn)(char *line, unsigned n, void *arg),
	      void *arg)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "%s: cannot read %s\n", tool, path);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		rc = fn(line, ++n, arg);
	}
	free(line);
	fclose(fp);
	return rc;
}

/* xorshift64: the next number of the sequence s (never 0) holds. */
static inline uint64_t
trainer_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif
