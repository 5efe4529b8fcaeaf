/*
 * config: builds the configuration once at start from the environment,
 * then a .env file in the working directory for variables not already set,
 * then (the token only) a systemd credential, then defaults; validates every
 * value the command uses against the table in config_parse, and warns when
 * a file holding the token can be read by other users.
 * Global state allowed by the style guide: none here; the caller keeps the
 * struct for the life of the process.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "config_parse.h"

struct config {
	char *val[CFG_COUNT];       /* NULL = unset */
	char origin[CFG_COUNT][64]; /* "environment", ".env:3", "default" */
};

/*
 * Load and validate the variables command cmd (one enum cfg_cmd bit) uses;
 * the others stay unset, whatever their value.  dotenv: path of the .env
 * file (missing is fine).  Returns 0, or -1 with *cause (caller frees)
 * naming the variable.
 */
int config_load(struct config *c, const char *dotenv, unsigned cmd, char **cause);
void config_free(struct config *c);

/* The systemd credential the token may come from (LoadCredential=). */
#define CONFIG_TOKEN_CREDENTIAL "discord-token"

/*
 * KNOWLEDGE_DIR when nobody set it: ./knowledge if there is one, else the
 * installed folder (installed) if there is one, else ./knowledge (whose
 * absence the command then reports).
 */
const char *config_default_knowledge(const char *installed);

/*
 * Would path show the bot token to other users: a non-empty regular file
 * with group or world read permission, holding a DISCORD_TOKEN line with a
 * value if must_name_token (a settings file), or anything (a credential)?
 */
int config_file_exposes_token(const char *path, int must_name_token);
const char *cfg_get(const struct config *c, enum cfg_id id);
/* Print the variable table (for --help). */
void config_print_help(void);

#endif
