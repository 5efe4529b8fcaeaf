/*
 * config: environment + .env loading and validation (see config.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "xmem.h"

/* MB_KB_DIR, MB_ENV_FILE, MB_TOKEN_FILE: the installed service's folder
 * and files, from the Makefile (KB_DIR, ENV_FILE, TOKEN_FILE). */

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

/*
 * DISCORD_TOKEN from a systemd credential (LoadCredential=discord-token:...
 * in the unit): a file in $CREDENTIALS_DIRECTORY that only this service can
 * read, and never in the environment, where child processes and
 * /proc/PID/environ would see it.
 */
static int
load_credential(struct config *c, char **cause)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	if (c->val[CFG_DISCORD_TOKEN] || dir == NULL || *dir == '\0')
		return 0;
	char *path = xasprintf("%s/%s", dir, CONFIG_TOKEN_CREDENTIAL);
	size_t len = 0;
	int err = 0;
	char *buf = slurp_small(path, &len, &err);
	int rc = 0;
	if (buf == NULL && err != ENOENT) {
		*cause = xasprintf("cannot read the credential %s: %s", path, strerror(err));
		rc = -1;
	} else if (buf) {
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
			buf[--len] = '\0';
		if (len) {
			c->val[CFG_DISCORD_TOKEN] = buf;
			buf = NULL;
			snprintf(c->origin[CFG_DISCORD_TOKEN], sizeof c->origin[0], "credential %s",
				 CONFIG_TOKEN_CREDENTIAL);
		}
	}
	free(buf);
	free(path);
	return rc;
}

int
config_file_exposes_token(const char *path, int must_name_token)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & (S_IRGRP | S_IROTH)) ||
	    st.st_size == 0)
		return 0;
	if (!must_name_token)
		return 1;
	size_t len = 0;
	int err = 0, found = 0;
	char *buf = slurp_small(path, &len, &err);
	if (buf == NULL)
		return 0; /* we cannot read it: neither can most others */
	struct env_list l = {0};
	struct problems pr = {0};
	cfg_parse_dotenv(path, buf, len, &l, &pr);
	for (size_t i = 0; i < l.n; i++)
		found |=
		    strcmp(l.v[i].key, cfg_vars[CFG_DISCORD_TOKEN].name) == 0 && l.v[i].value[0];
	env_list_free(&l);
	problems_free(&pr);
	free(buf);
	return found;
}

/* A token other users can read is no secret: say so (the files it may be
 * in: .env here, the installed service's settings and credential). */
static void
warn_exposed_token(const char *dotenv)
{
	const struct {
		const char *path;
		int must_name_token;
	} files[] = {{dotenv, 1}, {MB_ENV_FILE, 1}, {MB_TOKEN_FILE, 0}};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct stat st;
		if (files[i].path &&
		    config_file_exposes_token(files[i].path, files[i].must_name_token) &&
		    stat(files[i].path, &st) == 0)
			log_warn("%s holds the bot token and other users can read it (mode %04o): "
				 "chmod 600 %s",
				 files[i].path, (unsigned)(st.st_mode & 07777), files[i].path);
	}
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
	if (cfg_used_by(CFG_DISCORD_TOKEN, cmd) && load_credential(c, cause) < 0)
		return -1;
	for (int i = 0; i < CFG_COUNT; i++)
		if (c->val[i] == NULL && cfg_vars[i].dflt)
			set_default(c, (enum cfg_id)i, xstrdup(cfg_vars[i].dflt));
	if (strcmp(c->origin[CFG_KNOWLEDGE_DIR], "default") == 0) {
		free(c->val[CFG_KNOWLEDGE_DIR]);
		c->val[CFG_KNOWLEDGE_DIR] = xstrdup(config_default_knowledge(MB_KB_DIR));
	}
	const char *state = getenv("STATE_DIRECTORY");
	if (state && *state) {
		/* systemd may pass several directories separated by ':' */
		size_t n = strcspn(state, ":");
		if (c->val[CFG_UNANSWERED_LOG] == NULL)
			set_default(c, CFG_UNANSWERED_LOG,
				    xasprintf("%.*s/unanswered.jsonl", (int)n, state));
		if (c->val[CFG_FEEDBACK_LOG] == NULL)
			set_default(c, CFG_FEEDBACK_LOG,
				    xasprintf("%.*s/feedback.jsonl", (int)n, state));
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
	if (c->val[CFG_DISCORD_TOKEN])
		warn_exposed_token(dotenv);
	return 0;
}

const char *
config_default_knowledge(const char *installed)
{
	struct stat st;
	const char *here = cfg_vars[CFG_KNOWLEDGE_DIR].dflt;
	if (stat(here, &st) < 0 && installed && stat(installed, &st) == 0 && S_ISDIR(st.st_mode))
		return installed;
	return here;
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
