/*
 * config: builds the configuration once at start from the environment,
 * then a .env file in the working directory for variables not already set,
 * then defaults; validates every value against the table in config_parse.
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
const char *cfg_get(const struct config *c, enum cfg_id id);
/* Print the variable table (for --help). */
void config_print_help(void);

#endif
