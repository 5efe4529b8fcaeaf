/*
 * config_parse: the table of configuration variables (name, default, help,
 * validator) and the .env file syntax.  Pure: no environment access; the
 * edge module config.c feeds it.
 */
#ifndef CONFIG_PARSE_H
#define CONFIG_PARSE_H

#include <stddef.h>

#include "problems.h"

enum cfg_id {
	CFG_BOT_PLATFORM,
	CFG_DISCORD_TOKEN,
	CFG_DISCORD_API_BASE,
	CFG_DISCORD_CHANNELS,
	CFG_KNOWLEDGE_DIR,
	CFG_LOG_LEVEL,
	CFG_UNANSWERED_LOG,
	CFG_MATCH_THRESHOLD,
	CFG_MATCH_MARGIN,
	CFG_COUNT
};

struct cfg_var {
	const char *name;
	const char *dflt; /* NULL: unset unless derived (see help) */
	const char *help;
	/* 0 if v is acceptable, else -1 with a reason in err */
	int (*check)(const char *v, char *err, size_t errlen);
	int secret;
};

extern const struct cfg_var cfg_vars[CFG_COUNT];

/* Index of a variable by name, or -1. */
int cfg_find(const char *name);

struct env_pair {
	char *key, *value;
	unsigned line;
};

struct env_list {
	struct env_pair *v;
	size_t n, cap;
};

/*
 * Parse .env text: KEY=value, optional "export ", # comments outside quotes,
 * 'single' literal, "double" with \" and \\.  Bad lines go to pr (file:line)
 * and are skipped.  Returns 0 or -1 if any line was bad.
 */
int cfg_parse_dotenv(const char *file, const char *buf, size_t len, struct env_list *out,
		     struct problems *pr);
void env_list_free(struct env_list *l);

#endif
