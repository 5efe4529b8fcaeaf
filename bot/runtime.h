/*
 * runtime: the one loop every network platform runs on.  It owns the loop
 * (ws_loop: one libwebsockets context and poll for every platform's
 * connections), the outbox they share, the answering of their questions
 * (in arrival order, at most ANSWER_BUDGET_MS per turn so that no
 * platform's timers starve), the bot's tick (reload requests, watchdog),
 * the status line, the conversations' short memory (convo.h: CONVO_MAX
 * conversations, CONVO_TTL_MS each, in memory only), and the stop
 * sequence: on SIGTERM the platforms stop
 * taking questions, queued replies get STOP_GRACE_MS to go out, what is
 * left is logged at warn with its message id, and the connections close.
 * Threading: all on the main thread; adapters' own threads only wake the
 * loop (ws_loop_wake).
 */
#ifndef RUNTIME_H
#define RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "outbox.h"
#include "ws.h"

#define ANSWER_BUDGET_MS 20
#define STOP_GRACE_MS 5000  /* queued replies on SIGTERM */
#define CLOSE_GRACE_MS 2000 /* close handshakes on the way out */

struct runtime;

/* One running platform; what its adapter's ops get. */
struct platform {
	const struct adapter_ops *ops;
	struct bot *b;
	void *state; /* the adapter's */
	/* the runtime's */
	struct runtime *rt;
	struct ob_sender snd;
	char status[128];
	int started, closed;
	int start_status; /* set by a start that fails: the exit status (else EXIT_FAIL) */
};

/*
 * Run the platforms ops[0..n) until a stop is requested or one of them
 * fails for good; returns the exit status.  A terminal front end (run op)
 * runs alone, as it is.
 */
int runtime_run(struct bot *b, const struct adapter_ops *const *ops, size_t n);

/* ---- for adapters ---------------------------------------------------------- */

/* The loop to open connections on. */
struct ws_loop *platform_loop(struct platform *p);
/*
 * A question from conversation conv (see outbox_ask; log_text as for
 * bot_answer).  key: the conversation the bot remembers (convo.h), one the
 * platform makes per person and place ("a DM", "this person in this
 * channel", "this web chat"), opaque to the runtime, never message text;
 * NULL: none.  Returns 0, or -1 if it will not be answered (the outbox is
 * full or the bot is stopping): already logged with its message id.
 */
int platform_ask(struct platform *p, const char *conv, const char *key, const char *msg_id,
		 const char *text, size_t len, const char *log_text);
/* The outcome of sending it (see outbox_done). */
void platform_done(struct platform *p, struct ob_item *it, const struct ob_result *r, uint64_t now);
/* The platform's state for the log and systemd's STATUS=, e.g. "connected". */
void platform_status(struct platform *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The platform refused us for good: stop everything with this exit status. */
void platform_fail(struct platform *p, int status, uint64_t now);

#endif
