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
	CFG_DISCORD_REST_RATE,
	CFG_SSL_CERT_FILE,
	CFG_KNOWLEDGE_DIR,
	CFG_LOG_LEVEL,
	CFG_UNANSWERED_LOG,
	CFG_UNANSWERED_DAYS,
	CFG_MATCH_THRESHOLD,
	CFG_MATCH_MARGIN,
	CFG_FEEDBACK_LOG,
	CFG_WEB_LISTEN,
	CFG_WEB_ALLOWED_ORIGINS,
	CFG_WEB_TRUSTED_PROXY,
	CFG_WEB_MAX_CONNECTIONS,
	CFG_WEB_MAX_PER_ADDRESS,
	CFG_WEB_MESSAGES_PER_10S,
	CFG_WEB_ADDRESS_MESSAGES_PER_10S,
	CFG_WEB_MAX_FRAME,
	CFG_WEB_IDLE_TIMEOUT,
	CFG_WEB_HANDSHAKE_TIMEOUT,
	CFG_COUNT
};

/* The commands, as bits: a variable is read and validated only by the
 * commands that use it ("a command validates only the variables it uses"). */
enum cfg_cmd {
	CMD_RUN = 1 << 0,
	CMD_CHAT = 1 << 1,
	CMD_ASK = 1 << 2,
	CMD_CHECK = 1 << 3,
	CMD_EVAL = 1 << 4,
	CMD_REPORT = 1 << 5,
};

struct cfg_var {
	const char *name;
	const char *dflt; /* NULL: unset unless derived (see help) */
	const char *help;
	/* 0 if v is acceptable, else -1 with a reason in err */
	int (*check)(const char *v, char *err, size_t errlen);
	int secret;
	unsigned used_by; /* enum cfg_cmd bits; 0 = every command */
};

extern const struct cfg_var cfg_vars[CFG_COUNT];

/* Index of a variable by name, or -1. */
int cfg_find(const char *name);
/* The variable name closest to a misspelt one (two edits at most), or NULL. */
const char *cfg_suggest(const char *name);
/* Does command cmd (one enum cfg_cmd bit) use variable id? */
int cfg_used_by(enum cfg_id id, unsigned cmd);

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
/* The variable named on line `line` (1-based) of .env text, or -1. */
int cfg_find_line_key(const char *buf, size_t len, unsigned line);

#endif
