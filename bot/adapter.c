/*
 * adapter: the registry of platforms and BOT_PLATFORM (see adapter.h).
 * Adding a platform: its file, and one line here.
 */
#include "adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xmem.h"

static const struct adapter_ops *const registry[] = {
    &adapter_console,
    &adapter_discord,
    &adapter_web,
};
#define NREG (sizeof registry / sizeof registry[0])

static const struct adapter_ops *
find(const char *name, size_t len)
{
	for (size_t i = 0; i < NREG; i++)
		if (strlen(registry[i]->name) == len && memcmp(registry[i]->name, name, len) == 0)
			return registry[i];
	return NULL;
}

static char *
names(void)
{
	struct strbuf b = STRBUF_INIT;
	for (size_t i = 0; i < NREG; i++)
		sb_addf(&b, "%s%s", i ? ", " : "", registry[i]->name);
	return sb_steal(&b);
}

/* The default: every platform whose variable is set, else the console. */
static size_t
defaults(const struct config *cfg, const struct adapter_ops **out)
{
	size_t n = 0;
	for (size_t i = 0; i < NREG && n < ADAPTER_MAX; i++)
		if (registry[i]->auto_var >= 0 && cfg_get(cfg, (enum cfg_id)registry[i]->auto_var))
			out[n++] = registry[i];
	if (n == 0)
		out[n++] = &adapter_console;
	return n;
}

int
adapter_select(const struct config *cfg, const char *spec, const char *origin,
	       const struct adapter_ops **out, size_t *n, char **cause)
{
	*n = 0;
	if (spec == NULL) {
		*n = defaults(cfg, out);
	} else {
		for (const char *p = spec;;) {
			while (*p == ' ')
				p++;
			size_t len = strcspn(p, ", ");
			const struct adapter_ops *a = find(p, len);
			if (a == NULL) {
				char *all = names();
				*cause =
				    xasprintf("BOT_PLATFORM (from %s) '%.*s' is not a platform "
					      "this bot has (%s)",
					      origin, (int)len, p, all);
				free(all);
				return -1;
			}
			for (size_t i = 0; i < *n; i++)
				if (out[i] == a) {
					*cause = xasprintf("BOT_PLATFORM (from %s) names %s twice",
							   origin, a->name);
					return -1;
				}
			if (*n == ADAPTER_MAX) {
				*cause = xasprintf(
				    "BOT_PLATFORM (from %s) names too many platforms", origin);
				return -1;
			}
			out[(*n)++] = a;
			p += len;
			while (*p == ' ')
				p++;
			if (*p == '\0')
				break;
			p++; /* the comma */
		}
	}
	for (size_t i = 0; i < *n; i++) {
		if (out[i]->run && *n > 1) {
			*cause = xasprintf("BOT_PLATFORM (from %s): %s runs alone, not with other "
					   "platforms",
					   spec ? origin : "default", out[i]->name);
			return -1;
		}
		if (out[i]->check && out[i]->check(cfg, cause) < 0)
			return -1;
	}
	return 0;
}
