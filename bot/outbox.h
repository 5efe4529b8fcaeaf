/*
 * outbox: the platform-neutral queue between a question arriving and its
 * reply delivered, shared by every platform the bot runs on.
 *
 * Questions wait in arrival order until the runtime answers them; the
 * parts of each reply then wait in their conversation (a Discord channel,
 * a web chat), which sends one part at a time and in order, so replies in
 * one conversation never overtake each other while conversations do not
 * wait for each other.  A part that fails is tried again with backoff
 * (transport and server errors up to OB_MAX_ATTEMPTS times, rate limits up
 * to OB_MAX_LIMITED); a rate limit can hold back one conversation or a
 * whole platform.  The queue is bounded (items and bytes): past the bound a
 * new question is shed.  Nothing is lost silently: every question or reply
 * that is shed, given up or left at shutdown is logged with its message id.
 *
 * Edge module: logs; the caller supplies the clock.  One thread (the loop).
 * Ownership: the outbox copies what it is given and owns every question
 * and item until it hands a question out (outbox_take) or frees an item.
 * Questions and parts live in slabs of their own, given back to the system
 * as soon as a burst has drained.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

#define OB_ID_MAX 40             /* bytes of a conversation or message id, NUL included */
#define OB_KEY_MAX 64            /* bytes of a memory key, NUL included */
#define OB_MAX_ATTEMPTS 5        /* tries of one part on transport and server errors */
#define OB_MAX_LIMITED 10        /* rate-limit retries of one part */
#define OB_MAX_ITEMS 20000       /* questions and reply parts waiting, in all */
#define OB_MAX_BYTES (16u << 20) /* their text */

struct outbox;
struct ob_conv;
struct ob_item;

/* A platform as the outbox sees it.  The runtime embeds one per platform. */
struct ob_sender {
	const char *name;  /* in logs: "discord" */
	const char *where; /* what a conversation is called in logs: "channel" */
	/*
	 * Start sending it (the head of its conversation) and report the outcome
	 * with outbox_done(), later or before returning.
	 */
	void (*send)(void *arg, struct ob_item *it);
	/* it was given up while being sent: a late outcome must not be reported */
	void (*cancel)(void *arg, struct ob_item *it);
	void *arg;
	uint64_t blocked_until; /* no part of this platform goes before (global rate limit) */
};

/* A question waiting to be answered. */
struct ob_question {
	struct qlink link;
	struct ob_sender *s;
	char conv[OB_ID_MAX];
	char msg_id[OB_ID_MAX];
	char key[OB_KEY_MAX]; /* the conversation the bot remembers (convo.h), "" for none */
	char *text;           /* NUL-terminated, len bytes */
	size_t len;
	char *log_text; /* the copy for the unanswered log (see bot_answer), or NULL */
};

/* One part of one reply. */
struct ob_item {
	struct qlink link;
	struct ob_conv *conv;
	const char *conv_id; /* its conversation's id, valid while the item is */
	char msg_id[OB_ID_MAX];
	unsigned part, nparts;
	char *body; /* what the platform sends, as it made it (outbox_part); before
		     * reporting OB_RETRY it may put a new one in its place with
		     * outbox_rebody (a form the server will take: a reply without
		     * its buttons) */
	size_t len;
	void *handle; /* the sender's, while the part is being sent */
	unsigned attempts, limited;
	uint64_t not_before;
	int inflight;
};

enum ob_outcome {
	OB_SENT,    /* delivered */
	OB_RETRY,   /* failed for now (transport, server error): retry with backoff */
	OB_LIMITED, /* rate limited: retry after retry_ms */
	OB_REFUSED, /* refused for good: the reply is given up */
	OB_GONE     /* nobody to deliver it to (a web visitor left): given up, logged at info */
};

struct ob_result {
	enum ob_outcome outcome;
	uint64_t retry_ms; /* OB_LIMITED: wait this long */
	int global;        /* OB_LIMITED: the whole platform waits, not just the conversation */
	uint64_t hold_ms;  /* any outcome: the conversation waits this long (empty bucket) */
	const char *why;   /* OB_RETRY: "HTTP 502"; OB_REFUSED: "refused: HTTP 403, ...";
			      OB_GONE: "the visitor left" */
};

struct outbox *outbox_new(size_t max_items, size_t max_bytes);
/* Frees what is left (cancelling parts in flight) without a word: at
 * shutdown call outbox_abandon() first. */
void outbox_free(struct outbox *ob);

/*
 * Queue a question from conversation conv (text and log_text are copied),
 * which the bot remembers as key (convo.h; NULL, or one longer than
 * OB_KEY_MAX - 1 bytes: none).  Returns 0, or -1 when the outbox is full:
 * the question is shed and logged at warn with its message id.
 */
int outbox_ask(struct outbox *ob, struct ob_sender *s, const char *conv, const char *key,
	       const char *msg_id, const char *text, size_t len, const char *log_text);
/* The oldest question, now the caller's; hand it back with outbox_answered(). */
struct ob_question *outbox_take(struct outbox *ob);
/* Add part (0-based) of nparts of q's reply, behind its conversation's earlier
 * parts; body (len bytes) is taken over. */
void outbox_part(struct outbox *ob, const struct ob_question *q, unsigned part, unsigned nparts,
		 char *body, size_t len);
/* Put body (len bytes, taken over) in place of it's body, to send it again
 * in another form. */
void outbox_rebody(struct ob_item *it, char *body, size_t len);
/* Free q (its parts, if any, are queued). */
void outbox_answered(struct outbox *ob, struct ob_question *q);

/*
 * Start sending every part that may go now.  Returns the earliest time
 * (ms, the caller's clock) at which a part held back may go, or 0.
 */
uint64_t outbox_pump(struct outbox *ob, uint64_t now);
/* The outcome of sending it (see struct ob_result). */
void outbox_done(struct outbox *ob, struct ob_item *it, const struct ob_result *r, uint64_t now);

/* Questions and parts waiting (in flight included). */
size_t outbox_waiting(const struct outbox *ob);
/* Questions not yet taken. */
size_t outbox_questions(const struct outbox *ob);
/* Questions shed because the outbox was full, since it was made. */
size_t outbox_shed(const struct outbox *ob);
/* The 64 KB slabs holding questions and parts now (see outbox.c). */
size_t outbox_slabs(const struct outbox *ob);
/*
 * Shutdown: log every question not answered and every reply not sent at
 * warn with its message id, cancel the parts in flight, and empty the
 * outbox.
 */
void outbox_abandon(struct outbox *ob);

#endif
