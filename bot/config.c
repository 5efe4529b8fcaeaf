/*
 * config: environment + .env loading and validation (see config.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmem.h"

static char *
slurp_small(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*err = errno;
		return NULL;
	}
	char *buf = xmalloc(65537);
	size_t n = fread(buf, 1, 65536, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		*err = EIO;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Variables from the .env file that the environment did not set. */
static int
load_dotenv(struct config *c, const char *dotenv, unsigned cmd, char **cause)
{
	size_t len = 0;
	int err = 0;
	char *buf = slurp_small(dotenv, &len, &err);
	if (buf == NULL) {
		if (err == ENOENT)
			return 0;
		*cause = xasprintf("cannot read %s: %s", dotenv, strerror(err));
		return -1;
	}
	struct env_list l = {0};
	struct problems pr = {0};
	int rc = -1;
	cfg_parse_dotenv(dotenv, buf, len, &l, &pr);
	for (size_t i = 0; i < pr.n; i++) {
		/* a broken line of a variable this command does not use is
		 * not its problem */
		int id = cfg_find_line_key(buf, len, pr.v[i].line);
		if (id >= 0 && !cfg_used_by((enum cfg_id)id, cmd))
			continue;
		*cause = xasprintf("%s:%u: %s", pr.v[i].file, pr.v[i].line, pr.v[i].msg);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		int id = cfg_find(l.v[i].key);
		if (id < 0) {
			const char *near = cfg_suggest(l.v[i].key);
			if (near)
				log_warn("%s:%u: unknown variable %s (ignored; did you mean %s?)",
					 dotenv, l.v[i].line, l.v[i].key, near);
			else
				log_warn("%s:%u: unknown variable %s (ignored)", dotenv,
					 l.v[i].line, l.v[i].key);
			continue;
		}
		if (c->val[id] || l.v[i].value[0] == '\0')
			continue;
		c->val[id] = xstrdup(l.v[i].value);
		snprintf(c->origin[id], sizeof c->origin[id], "%s:%u", dotenv, l.v[i].line);
	}
	rc = 0;
out:
	env_list_free(&l);
	problems_free(&pr);
	free(buf);
	return rc;
}

static void
set_default(struct config *c, enum cfg_id id, char *value)
{
	c->val[id] = value;
	snprintf(c->origin[id], sizeof c->origin[id], "default");
}

int
config_load(struct config *c, const char *dotenv, unsigned cmd, char **cause)
{
	memset(c, 0, sizeof *c);
	for (int i = 0; i < CFG_COUNT; i++) {
		const char *v = getenv(cfg_vars[i].name);
		if (v && *v) {
			c->val[i] = xstrdup(v);
			snprintf(c->origin[i], sizeof c->origin[i], "environment");
		}
	}
	if (dotenv && load_dotenv(c, dotenv, cmd, cause) < 0)
		return -1;
	for (int i = 0; i < CFG_COUNT; i++)
		if (c->val[i] == NULL && cfg_vars[i].dflt)
			set_default(c, (enum cfg_id)i, xstrdup(cfg_vars[i].dflt));
	const char *state = getenv("STATE_DIRECTORY");
	if (c->val[CFG_UNANSWERED_LOG] == NULL && state && *state) {
		/* systemd may pass several directories separated by ':' */
		size_t n = strcspn(state, ":");
		set_default(c, CFG_UNANSWERED_LOG,
			    xasprintf("%.*s/unanswered.jsonl", (int)n, state));
	}
	/* a variable this command does not use is neither checked nor kept */
	for (int i = 0; i < CFG_COUNT; i++)
		if (!cfg_used_by((enum cfg_id)i, cmd)) {
			free(c->val[i]);
			c->val[i] = NULL;
			c->origin[i][0] = '\0';
		}
	for (int i = 0; i < CFG_COUNT; i++) {
		char err[200];
		if (c->val[i] == NULL || cfg_vars[i].check(c->val[i], err, sizeof err) == 0)
			continue;
		/* validators never echo a secret's value into err */
		*cause = xasprintf("%s (from %s) %s", cfg_vars[i].name, c->origin[i], err);
		return -1;
	}
	for (int i = 0; i < CFG_COUNT; i++)
		if (cfg_vars[i].secret && c->val[i])
			log_add_secret(c->val[i]);
	return 0;
}

void
config_free(struct config *c)
{
	for (int i = 0; i < CFG_COUNT; i++)
		free(c->val[i]);
	memset(c, 0, sizeof *c);
}

const char *
cfg_get(const struct config *c, enum cfg_id id)
{
	return c->val[id];
}

void
config_print_help(void)
{
	printf("Environment (or .env in the working directory):\n");
	for (int i = 0; i < CFG_COUNT; i++)
		printf("  %-18s %s%s%s\n", cfg_vars[i].name, cfg_vars[i].help,
		       cfg_vars[i].dflt ? "; default " : "",
		       cfg_vars[i].dflt ? cfg_vars[i].dflt : "");
}
