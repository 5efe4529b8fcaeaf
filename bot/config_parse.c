/*
 * config_parse: variable table, validators and .env parsing (see
 * config_parse.h).  Pure.
 */
#include "config_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "strbuf.h"
#include "web_proto.h"
#include "xmem.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* A comma-separated list of platform names; which names exist is the
 * adapter registry's business (adapter.c), checked when `run` starts. */
static int
check_platform(const char *v, char *err, size_t n)
{
	for (const char *s = v;;) {
		while (*s == ' ')
			s++;
		const char *w = s;
		while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')
			s++;
		int named = s > w;
		while (*s == ' ')
			s++;
		if (!named || (*s && *s != ',')) {
			snprintf(err, n,
				 "must be platform names separated by commas (such as "
				 "discord), not '%s'",
				 v);
			return -1;
		}
		if (*s++ == '\0')
			return 0;
	}
}

static int
check_token(const char *v, char *err, size_t n)
{
	for (const char *p = v; *p; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p)) {
			snprintf(err, n,
				 "contains spaces or control characters (copy the token again)");
			return -1;
		}
	if (strncmp(v, "Bot ", 4) == 0 || strlen(v) < 20) {
		snprintf(err, n,
			 "does not look like a bot token (expected the long token from the "
			 "developer portal, without 'Bot ')");
		return -1;
	}
	return 0;
}

static int
check_url(const char *v, char *err, size_t n)
{
	if ((strncmp(v, "http://", 7) == 0 && v[7]) || (strncmp(v, "https://", 8) == 0 && v[8])) {
		if (strchr(v, ' ') == NULL)
			return 0;
	}
	snprintf(err, n, "must be an http:// or https:// URL, not '%s'", v);
	return -1;
}

static int
check_channels(const char *v, char *err, size_t n)
{
	const char *p = v;
	while (*p) {
		const char *s = p;
		while (*p == ' ')
			p++;
		const char *d = p;
		while (*p >= '0' && *p <= '9')
			p++;
		size_t digits = (size_t)(p - d);
		while (*p == ' ')
			p++;
		if (digits < 1 || digits > 20 || (*p && *p != ',')) {
			snprintf(
			    err, n,
			    "must be comma-separated channel ids (digits), problem near '%.20s'",
			    s);
			return -1;
		}
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
check_nonempty(const char *v, char *err, size_t n)
{
	if (*v)
		return 0;
	snprintf(err, n, "must not be empty");
	return -1;
}

static int
check_level(const char *v, char *err, size_t n)
{
	static const char *const ok[] = {"error", "warn", "info", "debug"};
	for (size_t i = 0; i < 4; i++)
		if (strcmp(v, ok[i]) == 0)
			return 0;
	snprintf(err, n, "must be error, warn, info or debug, not '%s'", v);
	return -1;
}

static int
check_days(const char *v, char *err, size_t n)
{
	char *e;
	long d = strtol(v, &e, 10);
	if (*v && *e == '\0' && d >= 1 && d <= 3650)
		return 0;
	snprintf(err, n, "must be a whole number of days from 1 to 3650, not '%s'", v);
	return -1;
}

static int
check_unit(const char *v, char *err, size_t n)
{
	char *e;
	double d = strtod(v, &e);
	if (*v && *e == '\0' && d >= 0.0 && d <= 1.0)
		return 0;
	snprintf(err, n, "must be a number between 0 and 1, not '%s'", v);
	return -1;
}

static int
check_listen(const char *v, char *err, size_t n)
{
	char addr[WEB_ADDR_MAX];
	int port;
	return web_parse_listen(v, addr, sizeof addr, &port, err, n);
}

/* A whole number from lo to hi (unit: what it counts, for the message). */
static int
check_range(const char *v, long lo, long hi, const char *unit, char *err, size_t n)
{
	char *e;
	long d = strtol(v, &e, 10);
	if (isdigit((unsigned char)*v) && *e == '\0' && d >= lo && d <= hi)
		return 0;
	snprintf(err, n, "must be a whole number of %s from %ld to %ld, not '%s'", unit, lo, hi, v);
	return -1;
}

#define RANGE(name, lo, hi, unit)                                                                  \
	static int name(const char *v, char *err, size_t n)                                        \
	{                                                                                          \
		return check_range(v, lo, hi, unit, err, n);                                       \
	}
RANGE(check_connections, 1, 100000, "connections")
RANGE(check_messages, 1, 10000, "messages")
RANGE(check_frame, 512, 65536, "bytes")
RANGE(check_idle, 5, 86400, "seconds")
RANGE(check_handshake, 1, 300, "seconds")
RANGE(check_rate, 1, 10000, "requests per second")

const struct cfg_var cfg_vars[CFG_COUNT] = {
    [CFG_BOT_PLATFORM] =
	{"BOT_PLATFORM", NULL,
	 "platforms to run, comma-separated: console (alone), or discord and web; unset: "
	 "discord if DISCORD_TOKEN is set, else console",
	 check_platform, 0, CMD_RUN},
    [CFG_DISCORD_TOKEN] = {"DISCORD_TOKEN", NULL,
			   "bot token from the Discord developer portal (secret, never logged)",
			   check_token, 1, CMD_RUN},
    [CFG_DISCORD_API_BASE] = {"DISCORD_API_BASE", "https://discord.com/api/v10",
			      "Discord REST base URL (tests point it at a local fake)", check_url,
			      0, CMD_RUN},
    [CFG_DISCORD_CHANNELS] = {"DISCORD_CHANNELS", NULL,
			      "comma-separated channel ids where every message is a question",
			      check_channels, 0, CMD_RUN},
    [CFG_DISCORD_REST_RATE] = {"DISCORD_REST_RATE", "50",
			       "REST requests per second at most, all routes together (Discord's "
			       "global rate limit; raise it only if Discord raised yours)",
			       check_rate, 0, CMD_RUN},
    [CFG_SSL_CERT_FILE] = {"SSL_CERT_FILE", NULL,
			   "PEM file of the certificate authorities trusted on TLS connections "
			   "(Discord's gateway and REST API alike); unset: the system's bundle",
			   check_nonempty, 0, CMD_RUN},
    [CFG_KNOWLEDGE_DIR] = {"KNOWLEDGE_DIR", "knowledge",
			   "folder with the answers, safety/ rules and synonyms.txt (unset and "
			   "no ./knowledge: the installed one)",
			   check_nonempty, 0, CMD_RUN | CMD_CHAT | CMD_ASK | CMD_CHECK | CMD_EVAL},
    [CFG_LOG_LEVEL] = {"LOG_LEVEL", "info", "error, warn, info or debug", check_level, 0, 0},
    [CFG_UNANSWERED_LOG] = {"UNANSWERED_LOG", NULL,
			    "JSON-lines log of questions the bot could not answer (run only); "
			    "default $STATE_DIRECTORY/unanswered.jsonl under systemd, else off",
			    check_nonempty, 0, CMD_RUN | CMD_REPORT},
    [CFG_UNANSWERED_DAYS] = {"UNANSWERED_DAYS", "30",
			     "days an entry of the unanswered log is kept (1-3650); older ones "
			     "are deleted",
			     check_days, 0, CMD_RUN},
    [CFG_MATCH_THRESHOLD] = {"MATCH_THRESHOLD", STR(MATCH_DEFAULT_THRESHOLD),
			     "minimum confidence (0-1) to answer; below it the bot falls back",
			     check_unit, 0, CMD_RUN | CMD_CHAT | CMD_ASK | CMD_EVAL},
    [CFG_MATCH_MARGIN] = {"MATCH_MARGIN", STR(MATCH_DEFAULT_MARGIN),
			  "minimum lead of the best answer over the next (0-1); closer "
			  "means the bot asks to clarify",
			  check_unit, 0, CMD_RUN | CMD_CHAT | CMD_ASK | CMD_EVAL},
    [CFG_FEEDBACK_LOG] = {"FEEDBACK_LOG", NULL,
			  "JSON-lines log of the web chat's thumbs up and down (run only; kept "
			  "UNANSWERED_DAYS); default $STATE_DIRECTORY/feedback.jsonl under "
			  "systemd, else off",
			  check_nonempty, 0, CMD_RUN | CMD_REPORT},
    [CFG_WEB_LISTEN] = {"WEB_LISTEN", "127.0.0.1:8080",
			"web chat: address and port to serve /, /widget.js, /chat and /healthz on",
			check_listen, 0, CMD_RUN},
    [CFG_WEB_ALLOWED_ORIGINS] = {"WEB_ALLOWED_ORIGINS", "self",
				 "web chat: pages that may open a chat, comma-separated origins "
				 "(https://www.clinic.example); self: the bot's own; *: any",
				 web_check_origins, 0, CMD_RUN},
    [CFG_WEB_TRUSTED_PROXY] = {"WEB_TRUSTED_PROXY", NULL,
			       "web chat: IP addresses of reverse proxies whose X-Forwarded-For "
			       "is believed, comma-separated; unset: none",
			       web_check_proxies, 0, CMD_RUN},
    [CFG_WEB_MAX_CONNECTIONS] = {"WEB_MAX_CONNECTIONS", "1000",
				 "web chat: open chats at most, in all (1-100000)",
				 check_connections, 0, CMD_RUN},
    [CFG_WEB_MAX_PER_ADDRESS] = {"WEB_MAX_PER_ADDRESS", "20",
				 "web chat: open chats from one client address (1-100000)",
				 check_connections, 0, CMD_RUN},
    [CFG_WEB_MESSAGES_PER_10S] = {"WEB_MESSAGES_PER_10S", "10",
				  "web chat: questions and thumbs one chat may send in 10 s",
				  check_messages, 0, CMD_RUN},
    [CFG_WEB_ADDRESS_MESSAGES_PER_10S] = {"WEB_ADDRESS_MESSAGES_PER_10S", "60",
					  "web chat: the same for all chats from one client "
					  "address",
					  check_messages, 0, CMD_RUN},
    [CFG_WEB_MAX_FRAME] = {"WEB_MAX_FRAME", "4096",
			   "web chat: bytes in one message from the widget (512-65536); a "
			   "bigger one closes the chat",
			   check_frame, 0, CMD_RUN},
    [CFG_WEB_IDLE_TIMEOUT] = {"WEB_IDLE_TIMEOUT", "600",
			      "web chat: seconds a chat may send nothing before it is closed "
			      "(5-86400)",
			      check_idle, 0, CMD_RUN},
    [CFG_WEB_HANDSHAKE_TIMEOUT] = {"WEB_HANDSHAKE_TIMEOUT", "10",
				   "web chat: seconds a new connection has to send its request "
				   "(1-300)",
				   check_handshake, 0, CMD_RUN},
};

int
cfg_find(const char *name)
{
	for (int i = 0; i < CFG_COUNT; i++)
		if (strcmp(cfg_vars[i].name, name) == 0)
			return i;
	return -1;
}

const char *
cfg_suggest(const char *name)
{
	const char *names[CFG_COUNT];
	for (int i = 0; i < CFG_COUNT; i++)
		names[i] = cfg_vars[i].name;
	return kb_closest(name, names, CFG_COUNT);
}

int
cfg_used_by(enum cfg_id id, unsigned cmd)
{
	return cfg_vars[id].used_by == 0 || (cfg_vars[id].used_by & cmd) != 0;
}

int
cfg_parse_dotenv(const char *file, const char *buf, size_t len, struct env_list *out,
		 struct problems *pr)
{
	int bad = 0;
	unsigned line = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *l = xstrndup(p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
		size_t ll = strlen(l);
		if (ll && l[ll - 1] == '\r')
			l[--ll] = '\0';
		char *s = l;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#') {
			free(l);
			continue;
		}
		if (strncmp(s, "export ", 7) == 0)
			for (s += 7; *s == ' ';)
				s++;
		char *k = s;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
		size_t kl = (size_t)(s - k);
		while (*s == ' ' || *s == '\t')
			s++;
		if (kl == 0 || isdigit((unsigned char)*k) || *s != '=') {
			problems_add(pr, file, line, 1, "expected KEY=value");
			bad = 1;
			free(l);
			continue;
		}
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		struct strbuf v = STRBUF_INIT;
		sb_add(&v, "", 0);
		int ok = 1;
		if (*s == '\'' || *s == '"') {
			char q = *s++;
			while (*s && *s != q) {
				if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				sb_addc(&v, *s++);
			}
			if (*s != q) {
				problems_add(pr, file, line, 1, "missing closing %c quote", q);
				ok = 0;
			} else {
				s++;
				while (*s == ' ' || *s == '\t')
					s++;
				if (*s && *s != '#') {
					problems_add(pr, file, line, 1,
						     "unexpected text after the quoted value");
					ok = 0;
				}
			}
		} else {
			char *h = strchr(s, '#');
			if (h)
				*h = '\0';
			size_t n = strlen(s);
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			sb_add(&v, s, n);
		}
		if (!ok) {
			bad = 1;
			sb_free(&v);
			free(l);
			continue;
		}
		out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof *out->v);
		out->v[out->n].key = xstrndup(k, kl);
		out->v[out->n].value = sb_steal(&v);
		out->v[out->n].line = line;
		out->n++;
		free(l);
	}
	return bad ? -1 : 0;
}

int
cfg_find_line_key(const char *buf, size_t len, unsigned line)
{
	const char *p = buf, *end = buf + len;
	for (unsigned l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p > 7 && strncmp(p, "export ", 7) == 0)
		for (p += 7; p < end && *p == ' ';)
			p++;
	char key[64];
	size_t n = 0;
	while (p < end && n + 1 < sizeof key && (isalnum((unsigned char)*p) || *p == '_'))
		key[n++] = *p++;
	key[n] = '\0';
	return n ? cfg_find(key) : -1;
}

void
env_list_free(struct env_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}
