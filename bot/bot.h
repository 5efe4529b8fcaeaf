/*
 * bot: the runtime shared by every platform adapter: configuration, the
 * current knowledge version, the answering pipeline, reloads and the
 * unanswered-questions log.  Policy that does not depend on the platform
 * lives here; adapters only move messages.
 * Threading: the knowledge in use is shared by reference counts: any
 * thread may answer (with its own answer_ctx) while the watcher thread
 * publishes a new version; the old one is freed when its last reader is
 * done.  Other functions are for the main thread, except where noted.
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

/* Exit statuses of the process (every subcommand, and the bot). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,   /* problems found / below a minimum / runtime failure */
	EXIT_CONFIG = 2, /* usage, configuration or unreadable input */
	EXIT_REFUSED = 3 /* a platform refused us for good */
};

struct kb_hold;
struct feedback;

struct bot {
	const struct config *cfg;
	/* the knowledge loaded at start; bot_start() takes it over, and from
	 * then on readers get the version in use from bot_knowledge() */
	struct knowledge *kb;
	struct wordset *dict; /* English word list for the matcher, or NULL */
	struct answer_ctx ac; /* the main thread's (loop or console) */
	struct match_params mp;
	int ready_sent;

	pthread_mutex_t lock;          /* guards held */
	struct kb_hold *held;          /* the version in use first, then older ones still read */
	pthread_mutex_t log_lock;      /* serialises the unanswered and feedback logs */
	struct unanswered *unanswered; /* log of questions not answered, or NULL */
	struct feedback *feedback;     /* log of thumbs up and down, or NULL */

	/* knowledge watcher (watch.c): rebuilds off to the side, then publishes */
	struct watch *watch;
};

/* Signal flags (set by handlers only; the loop acts on them). */
extern volatile sig_atomic_t bot_stop_requested;
extern volatile sig_atomic_t bot_reload_requested;

/* Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers. */
void bot_install_signals(void);

/*
 * Any thread: answer one question with the knowledge in use (the same
 * pipeline as `massagebot ask`), with the calling thread's answer context,
 * into out (what a chat platform shows: owned by the caller,
 * chat_reply_free).  mem: what the bot remembers of the conversation (the
 * caller's, from convo_get; NULL: none), updated for its next message
 * (followup.h: choices, follow-ups; safety reads the message alone).
 * log_text: the copy for the unanswered log, with the platform's syntax
 * that names people removed (NULL: the question itself).
 */
struct convo_memory;
void bot_answer(struct bot *b, struct answer_ctx *ac, struct convo_memory *mem, const char *text,
		size_t len, const char *log_text, struct chat_reply *out);
/*
 * Any thread: a thumb up (helpful) or down on the answer with this id,
 * from platform ("web", "discord"), into the feedback log if there is one.
 */
void bot_feedback(struct bot *b, const char *answer_id, int helpful, const char *platform);

/*
 * Any thread, once bot_start() has run: the knowledge in use, held for the
 * caller until bot_knowledge_put(); a reload meanwhile does not free it.
 */
const struct knowledge *bot_knowledge(struct bot *b);
void bot_knowledge_put(struct bot *b, const struct knowledge *k);
/* Any thread: make k (taken over) the version in use, and log it. */
void bot_publish(struct bot *b, struct knowledge *k);
/* Any thread: the number of answers in the version in use. */
size_t bot_answers(struct bot *b);

/*
 * Start serving b->kb (taken over) and the background parts: the knowledge
 * watcher (inotify on KNOWLEDGE_DIR, debounced; rebuilds in its own thread),
 * the unanswered log and the feedback log.  Returns 0, or -1 with *cause (caller frees).
 * bot_stop() ends them, also after a failed start.
 */
int bot_start(struct bot *b, char **cause);
void bot_stop(struct bot *b);

/*
 * Rebuild the knowledge from KNOWLEDGE_DIR on this thread and publish it if
 * it has no problems; on problems, log them (file:line:col) and keep the
 * current version.  Returns 0 if swapped, -1 if kept.
 */
int bot_reload(struct bot *b);

/*
 * Called by the main thread at least once a second and after a signal:
 * passes reload requests (SIGHUP) to the watcher and sends the systemd
 * watchdog ping.
 */
void bot_tick(struct bot *b);

/*
 * Tell systemd (if it is listening) that start-up is done: config and
 * knowledge are loaded and the first connection attempt has started.  Sent
 * once; later calls do nothing.
 */
void bot_ready(struct bot *b);

#endif
