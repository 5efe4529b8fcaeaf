/*
 * adapter: the neutral interface between the bot and a chat platform.  Each
 * platform file defines one const struct adapter_ops; adapter_find() looks
 * one up by BOT_PLATFORM.  The answering core knows no platform.
 */
#ifndef ADAPTER_H
#define ADAPTER_H

#include "bot.h"

struct adapter_ops {
	const char *name;
	/* Serve until a stop is requested; returns the process exit status
	 * (0 clean stop, 1 runtime failure, 2 config error, 3 refused). */
	int (*run)(struct bot *b);
};

extern const struct adapter_ops adapter_console;
extern const struct adapter_ops adapter_discord;

/* NULL if no adapter has that name. */
const struct adapter_ops *adapter_find(const char *name);

#endif
