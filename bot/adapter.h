/*
 * adapter: the seam between the bot and a chat platform.  Each platform is
 * one file defining one const struct adapter_ops, listed once in the
 * registry (adapter.c); BOT_PLATFORM names the platforms to run.
 *
 * Network platforms (Discord, the web chat) all run together on the
 * one loop of runtime.h and share its outbox: an adapter turns its
 * platform's events into questions (platform_ask), a reply into parts
 * (reply), and sends one part when the outbox asks (send).  A terminal
 * front end (the console) owns the main thread and runs alone (run).
 * The answering core knows no platform.
 */
#ifndef ADAPTER_H
#define ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "bot.h"
#include "outbox.h"

struct platform;

struct adapter_ops {
	const char *name;
	const char *where; /* what a conversation is called in logs: "channel" */
	/* BOT_PLATFORM unset: run this platform when this variable is set (-1: never) */
	int auto_var;
	/* Check the variables it needs, before anything starts: 0, or -1 with
	 * *cause (caller frees) naming the variable.  May be NULL. */
	int (*check)(const struct config *cfg, char **cause);

	/* A terminal front end: serve alone on the main thread until stopped;
	 * returns the exit status.  NULL for a network platform. */
	int (*run)(struct bot *b);

	/* A network platform on the shared loop (runtime.h): */
	/* the sockets it may hold at once with this configuration */
	unsigned (*fds)(const struct config *cfg);
	/* Set up p->state and start connecting: 0, or -1 with *cause. */
	int (*start)(struct platform *p, char **cause);
	/* Act on what happened on the loop and on its timers; returns the next
	 * time (sys_now_ms) it needs to run, 0 for none. */
	uint64_t (*step)(struct platform *p, uint64_t now);
	/* Turn the reply to q into parts: outbox_part() for each, in order. */
	void (*reply)(struct platform *p, struct outbox *ob, const struct ob_question *q,
		      const struct chat_reply *r);
	/* Start sending one part; report with platform_done() (see outbox.h). */
	void (*send)(struct platform *p, struct ob_item *it);
	/* A part in flight was given up: forget it (no platform_done for it). */
	void (*cancel)(struct platform *p, struct ob_item *it);
	/* Stop requested: take no more questions, stop reconnecting; replies
	 * still queued keep going. */
	void (*stop)(struct platform *p, uint64_t now);
	/* Close the connections; returns 1 once they are closed. */
	int (*close)(struct platform *p, uint64_t now);
	void (*free)(struct platform *p);
};

extern const struct adapter_ops adapter_console;
extern const struct adapter_ops adapter_discord;
extern const struct adapter_ops adapter_web;

#define ADAPTER_MAX 8 /* platforms in one process */

/*
 * The platforms to run for spec (a comma-separated list of names, or NULL:
 * every platform whose auto_var is set, else the console), each checked
 * (check op).  A terminal front end must be alone; a name may not repeat.
 * Returns 0 with out[0..*n), or -1 with *cause (caller frees) naming
 * BOT_PLATFORM and where it came from (origin).
 */
int adapter_select(const struct config *cfg, const char *spec, const char *origin,
		   const struct adapter_ops **out, size_t *n, char **cause);

#endif
