/*
 * fuzz_dotenv: libFuzzer harness for the .env parser and the configuration
 * validators (config_parse).  The input is a .env file.  Every pair parsed
 * goes through its own variable's validator, and every value through every
 * validator, with a roomy and a tiny error buffer.  Asserts: keys are
 * [A-Za-z_][A-Za-z0-9_]*, line numbers are in range, the return value
 * matches the problems, a rejected value has a NUL-terminated reason.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
validate_all(const char *v)
{
	for (int i = 0; i < CFG_COUNT; i++) {
		char err[256], tiny[4];
		memset(err, 'x', sizeof err);
		memset(tiny, 'x', sizeof tiny);
		if (cfg_vars[i].check(v, err, sizeof err) < 0)
			CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
		int a = cfg_vars[i].check(v, tiny, sizeof tiny);
		if (a < 0)
			CHECK(memchr(tiny, '\0', sizeof tiny) != NULL);
		CHECK(a == cfg_vars[i].check(v, err, sizeof err));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: the parser takes (buf, len), no NUL */
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	unsigned lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += buf[i] == '\n';

	struct env_list l = {0};
	struct problems pr = {0};
	int rc = cfg_parse_dotenv(".env", buf, size, &l, &pr);
	CHECK(rc == 0 ? pr.n == 0 : pr.n > 0);
	for (size_t i = 0; i < pr.n; i++)
		CHECK(pr.v[i].line >= 1 && pr.v[i].line <= lines);
	for (size_t i = 0; i < l.n; i++) {
		const char *k = l.v[i].key;
		CHECK(k[0] != '\0' && !isdigit((unsigned char)k[0]));
		for (const char *p = k; *p; p++)
			CHECK(isalnum((unsigned char)*p) || *p == '_');
		CHECK(l.v[i].value != NULL);
		CHECK(l.v[i].line >= 1 && l.v[i].line <= lines);
		CHECK(i == 0 || l.v[i].line > l.v[i - 1].line);
		int id = cfg_find(k);
		CHECK(id < 0 || strcmp(cfg_vars[id].name, k) == 0);
		validate_all(l.v[i].value);
	}
	env_list_free(&l);
	problems_free(&pr);

	/* the whole input as one value */
	char *v = malloc(size + 1);
	memcpy(v, data, size);
	v[size] = '\0';
	validate_all(v);
	free(v);
	free(buf);
	return 0;
}
