/*
 * bot: the runtime shared by every platform adapter: configuration, the
 * current knowledge version, the answering pipeline, reloads and the
 * unanswered-questions log.  Policy that does not depend on the platform
 * lives here; adapters only move messages.
 * Threading: every function is called from the adapter's main loop thread
 * only, except where noted.
 */
#ifndef BOT_H
#define BOT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "answer.h"
#include "config.h"
#include "knowledge.h"
#include "wordset.h"

struct bot {
	const struct config *cfg;
	struct knowledge *kb; /* current version; replaced whole on reload */
	struct wordset *dict; /* English word list for the matcher, or NULL */
	struct answer_ctx ac;
	struct match_params mp;
	unsigned long answered;  /* questions answered since start */
	void (*wake)(void *arg); /* set by the adapter: wakes its loop (thread-safe) */
	void *wake_arg;
	int ready_sent;

	/* knowledge watcher (watch.c): rebuilds off to the side, hands over */
	struct watch *watch;
	pthread_mutex_t lock;
	struct knowledge *pending;     /* a new good version, not yet in use */
	struct unanswered *unanswered; /* log of questions not answered, or NULL */
};

/* Signal flags (set by handlers only; the loop acts on them). */
extern volatile sig_atomic_t bot_stop_requested;
extern volatile sig_atomic_t bot_reload_requested;

/* Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers. */
void bot_install_signals(void);

/*
 * Answer one question with the current knowledge (the same pipeline as
 * `massagebot ask`).  Returns a new reply string (caller frees).
 */
char *bot_answer(struct bot *b, const char *text, size_t len);

/*
 * Start the background parts: the knowledge watcher (inotify on
 * KNOWLEDGE_DIR, debounced; rebuilds in its own thread) and the unanswered
 * log.  Returns 0, or -1 with *cause (caller frees).  bot_stop() ends them.
 */
int bot_start(struct bot *b, char **cause);
void bot_stop(struct bot *b);

/*
 * Rebuild the knowledge from KNOWLEDGE_DIR off to the side and swap it in if
 * it has no problems; on problems, log them (file:line:col) and keep the
 * current version.  Returns 0 if swapped, -1 if kept.
 */
int bot_reload(struct bot *b);

/*
 * Called by the adapter's loop thread whenever it is woken and at least once
 * a second: acts on reload requests (SIGHUP, file changes) and sends the
 * systemd watchdog ping.
 */
void bot_tick(struct bot *b);

/* Any thread: ask the loop to run bot_tick soon. */
void bot_wake(struct bot *b);

/*
 * Tell systemd (if it is listening) that start-up is done: config and
 * knowledge are loaded and the first connection attempt has started.  Sent
 * once; later calls do nothing.
 */
void bot_ready(struct bot *b);

/* One-line state for systemd's STATUS= and the info log, e.g.
 * "connected, 26 answers" or "reconnecting in 8 s". */
void bot_status(struct bot *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
