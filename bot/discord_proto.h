/*
 * discord_proto: the Discord gateway (v10) and REST payload codec, plus the
 * small policies that are pure functions of a payload: the close-code
 * table, who the bot answers, mention stripping, reply splitting, nonces,
 * rate-limit headers, reconnect backoff and a bounded "already seen" set.
 * Pure: no I/O, no clock, no environment, no globals beyond const tables.
 * Strings it returns are new (caller frees with free()); the dp_event and
 * dp_message members are owned by the struct and freed with dp_event_free().
 * Builders that take the token return text that must never be logged.
 */
#ifndef DISCORD_PROTO_H
#define DISCORD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DP_ID_MAX 24         /* a snowflake: 1-20 digits, plus NUL */
#define DP_CONTENT_MAX 16384 /* bytes of message content accepted */
#define DP_MENTIONS_MAX 1000 /* users in mentions[] */
#define DP_MSG_MAX_CP 2000   /* code points per posted message */
#define DP_NONCE_MAX 25      /* characters in a message nonce */
#define DP_CHUNKS_MAX 99     /* chunks of one reply (bounds the nonce) */
#define DP_URL_MAX 512
/* GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_REACTIONS | DIRECT_MESSAGES |
 * DIRECT_MESSAGE_REACTIONS | MESSAGE_CONTENT: the contract's 37377 plus
 * the two reactions intents (1 << 10, 1 << 13) for the thumbs */
#define DP_INTENTS 46593u
#define DP_GW_QUERY "?v=10&encoding=json"

enum dp_op {
	DP_OP_DISPATCH = 0,
	DP_OP_HEARTBEAT = 1,
	DP_OP_IDENTIFY = 2,
	DP_OP_RESUME = 6,
	DP_OP_RECONNECT = 7,
	DP_OP_INVALID_SESSION = 9,
	DP_OP_HELLO = 10,
	DP_OP_HEARTBEAT_ACK = 11
};

enum dp_kind {
	DP_EV_HELLO,
	DP_EV_HEARTBEAT_REQ, /* server op 1: send a heartbeat now */
	DP_EV_HEARTBEAT_ACK,
	DP_EV_RECONNECT,
	DP_EV_INVALID_SESSION,
	DP_EV_READY,
	DP_EV_RESUMED,
	DP_EV_MESSAGE,        /* MESSAGE_CREATE */
	DP_EV_INTERACTION,    /* INTERACTION_CREATE of a button (message component) */
	DP_EV_REACTION,       /* MESSAGE_REACTION_ADD */
	DP_EV_DISPATCH_OTHER, /* any other dispatch (MESSAGE_UPDATE, GUILD_CREATE, ...) */
	DP_EV_OP_OTHER        /* an opcode a client does not receive */
};

struct dp_message {
	char id[DP_ID_MAX];
	char channel_id[DP_ID_MAX];
	char guild_id[DP_ID_MAX]; /* "" in a DM */
	char author_id[DP_ID_MAX];
	int author_bot; /* author.bot is true */
	int webhook;    /* webhook_id is set */
	int type;
	char *content; /* valid UTF-8, no NUL */
	size_t content_len;
	char (*mentions)[DP_ID_MAX];
	size_t nmentions;
};

#define DP_CUSTOM_ID_MAX 101 /* a component's custom_id: 1-100 characters, plus NUL */
#define DP_TOKEN_MAX 512     /* an interaction token, plus NUL */

/* A button pressed (INTERACTION_CREATE of type 3, MESSAGE_COMPONENT). */
struct dp_interaction {
	char id[DP_ID_MAX];
	char token[DP_TOKEN_MAX]; /* answers the interaction: a secret, never logged */
	char channel_id[DP_ID_MAX];
	char guild_id[DP_ID_MAX];   /* "" in a DM */
	char user_id[DP_ID_MAX];    /* who pressed (member.user in a guild, user in a DM) */
	char message_id[DP_ID_MAX]; /* the message the button is on */
	char custom_id[DP_CUSTOM_ID_MAX];
};

/* A reaction added to a message (MESSAGE_REACTION_ADD). */
struct dp_reaction {
	char user_id[DP_ID_MAX];
	char channel_id[DP_ID_MAX];
	char message_id[DP_ID_MAX];
	int user_bot; /* member.user.bot is true (known in guilds only) */
	int thumb;    /* 1: thumbs up, 0: thumbs down, -1: another emoji */
};

struct dp_event {
	enum dp_kind kind;
	int op;
	long long seq;            /* "s"; -1 when null or absent */
	char name[64];            /* "t" of a dispatch, "" otherwise */
	unsigned heartbeat_ms;    /* HELLO */
	int resumable;            /* INVALID_SESSION */
	char *session_id;         /* READY */
	char *resume_url;         /* READY */
	char self_id[DP_ID_MAX];  /* READY: the bot's own user id */
	struct dp_message msg;    /* MESSAGE */
	struct dp_interaction ia; /* INTERACTION */
	struct dp_reaction re;    /* REACTION */
};

/*
 * Parse one gateway frame.  Returns 0, or -1 with a reason in why (the
 * frame must be dropped).  Even on -1, ev->seq and ev->name are set when the
 * envelope itself was valid, so the caller can still track the sequence.
 * Always call dp_event_free() afterwards.
 */
int dp_parse_event(const char *buf, size_t len, struct dp_event *ev, char *why, size_t whylen);
void dp_event_free(struct dp_event *ev);

/* Outgoing gateway payloads (new strings).  identify/resume carry the token. */
char *dp_identify_json(const char *token, unsigned intents);
char *dp_resume_json(const char *token, const char *session_id, long long seq);
char *dp_heartbeat_json(long long seq); /* seq < 0: "d": null */

/* ---- close codes -------------------------------------------------------- */

enum dp_close_action {
	DP_CLOSE_RESUME,      /* reconnect and RESUME */
	DP_CLOSE_NEW_SESSION, /* reconnect and IDENTIFY afresh */
	DP_CLOSE_FATAL        /* stop: exit 3, do not reconnect */
};

struct dp_close_rule {
	int code; /* 0 in the default row */
	enum dp_close_action action;
	int our_bug;         /* log at error: we sent something wrong */
	const char *message; /* one line for the log */
};

extern const struct dp_close_rule dp_close_rules[];
extern const size_t dp_close_nrules;
/* The row for code; never NULL (unknown codes get the default, resume). */
const struct dp_close_rule *dp_close_lookup(int code);
/* The message for a rejected token (close 4004, 401/403 on /gateway/bot). */
extern const char dp_token_rejected[];

/* ---- answering policy ---------------------------------------------------- */

/* 1 if self_id is in mentions[] or <@self_id>/<@!self_id> is in content. */
int dp_is_mentioned(const struct dp_message *m, const char *self_id);
/* 1 if id is one of the comma-separated ids in list (spaces allowed). */
int dp_channel_listed(const char *list, const char *id);
/*
 * Who the bot answers: never itself, bots or webhooks; message types 0
 * and 19 only; DMs always; in guilds when mentioned or when the channel is
 * in channels (may be NULL).  Returns 1 to answer, or 0 with *why set to a
 * static reason.
 */
int dp_should_answer(const struct dp_message *m, const char *self_id, const char *channels,
		     const char **why);
/*
 * The question text: content with the bot's own mentions removed and
 * whitespace trimmed; "help" when nothing is left.  New string, *len set.
 */
char *dp_question_text(const struct dp_message *m, const char *self_id, size_t *len);
/*
 * The key of the conversation the bot remembers for m (convo.h): the DM
 * channel ("discord:dm:<channel>"), or the person in the channel
 * ("discord:<channel>:<author>"), so that two people in one channel have
 * their own follow-ups.  Written into out (DP_KEY_MAX bytes).
 */
#define DP_KEY_MAX 64
void dp_memory_key(const struct dp_message *m, char out[DP_KEY_MAX]);
/* The same from the ids: guild ("" in a DM), channel, the person. */
void dp_memory_key_of(const char *guild_id, const char *channel_id, const char *user_id,
		      char out[DP_KEY_MAX]);
/*
 * The copy of a question kept in the unanswered log: every mention (users,
 * roles, channels: they carry ids) removed, with the spaces around it.  New
 * string.
 */
char *dp_private_text(const char *s, size_t len);

/* ---- replies ------------------------------------------------------------- */

struct dp_span {
	size_t off, len;
};

/*
 * Split valid UTF-8 text into pieces of at most max_cp code points,
 * preferring paragraph breaks, then line breaks and sentence ends, then
 * spaces; whitespace at the cuts is dropped.  Returns a new array (caller
 * frees) of *n spans into s; *n is 0 for blank text.
 */
struct dp_span *dp_split(const char *s, size_t len, size_t max_cp, size_t *n);

/* "did you mean" choices shown as buttons under a reply. */
#define DP_BUTTONS_MAX 5   /* buttons in one action row */
#define DP_LABEL_MAX_CP 80 /* code points of a button label */

struct dp_choice {
	unsigned n;        /* its number in the reply, from 1 */
	const char *id;    /* the answer's id */
	const char *title; /* the answer's title */
};

/*
 * A button's custom_id for choice c: "mb:choice:<n>:<id>", or
 * "mb:choice:<n>" when the id would not fit.  Into out (DP_CUSTOM_ID_MAX).
 */
void dp_choice_custom_id(const struct dp_choice *c, char out[DP_CUSTOM_ID_MAX]);
/* Read a custom_id made by dp_choice_custom_id: 0 with *n and the id in id
 * (n bytes; "" when it carried none), or -1 if it is not one of ours. */
int dp_parse_choice_id(const char *custom_id, unsigned *n, char *id, size_t idlen);

/* "<message id>.<chunk>" into out (DP_NONCE_MAX + 1 bytes); -1 if too long. */
int dp_nonce(const char *message_id, unsigned chunk, char *out, size_t outlen);

/*
 * The POST /channels/{id}/messages body for one chunk of a reply to
 * question_id: content, nonce + enforce_nonce, allowed_mentions {"parse":
 * []}, and a message_reference (fail_if_not_exists false) on chunk 0.
 * Returns NULL if the nonce would be too long.
 */
char *dp_reply_json(const char *content, size_t len, const char *question_id, unsigned chunk);
/*
 * The same, with the message chunk 0 quotes (reference; NULL: question_id)
 * and buttons for the choices c[0..n) under this chunk (n at most
 * DP_BUTTONS_MAX; 0: none): each labelled "<n>. <title>" (cut to
 * DP_LABEL_MAX_CP code points).
 */
char *dp_reply_json_ex(const char *content, size_t len, const char *question_id, unsigned chunk,
		       const char *reference, const struct dp_choice *c, size_t n);
/* A reply body (as made above) without its buttons; NULL if it had none. */
char *dp_reply_without_buttons(const char *body, size_t len);
/*
 * The answer to a button press: UPDATE_MESSAGE (type 7) taking the buttons
 * off the message they were on (the choice's answer follows as a message).
 */
char *dp_interaction_ack_json(void);
/* The id of the message a POST created (its response body) into out; -1
 * if there is none. */
int dp_parse_created_id(const char *body, size_t len, char out[DP_ID_MAX]);

/* ---- REST --------------------------------------------------------------- */

struct dp_gateway {
	char *url;           /* ws:// or wss:// */
	long remaining;      /* session_start_limit.remaining, -1 if absent */
	long reset_after_ms; /* session_start_limit.reset_after, 0 if absent */
};

/* Parse the GET /gateway/bot body.  Returns 0 or -1 with why. */
int dp_parse_gateway_bot(const char *buf, size_t len, struct dp_gateway *g, char *why,
			 size_t whylen);
void dp_gateway_free(struct dp_gateway *g);

struct dp_url {
	int tls;
	char host[256];
	int port;
	char path[DP_URL_MAX]; /* with DP_GW_QUERY appended */
};

/* Split a gateway URL (ws[s]://host[:port][/path]).  Returns 0 or -1 with why. */
int dp_parse_ws_url(const char *url, struct dp_url *u, char *why, size_t whylen);

struct dp_ratelimit {
	int has_remaining;
	long remaining;     /* X-RateLimit-Remaining */
	double reset_after; /* X-RateLimit-Reset-After, seconds; -1 if absent */
	double retry_after; /* Retry-After header, seconds; -1 if absent */
	int global;         /* X-RateLimit-Global: true */
	char bucket[64];    /* X-RateLimit-Bucket; "" if absent or longer */
	char scope[16];     /* X-RateLimit-Scope; "" if absent or longer */
};

/* Parse response header lines ("Name: value\r\n"...), names case-insensitive. */
void dp_parse_ratelimit(const char *hdrs, size_t len, struct dp_ratelimit *rl);
/* retry_after (seconds) from a 429 body, or -1; *global from "global". */
double dp_parse_retry_after(const char *body, size_t len, int *global);

/* ---- gateway send window and seen ids (the caller supplies the clock) ---- */

#define DP_GW_WINDOW_MS 60000u
#define DP_GW_LIMIT 115 /* Discord allows 120 events per 60 s; keep a margin */

/* Sliding window of gateway sends. */
struct dp_ratewin {
	uint64_t t[DP_GW_LIMIT];
	size_t head, n;
};

/* Milliseconds to wait before the next send at now_ms (0: send now). */
uint64_t dp_ratewin_wait(const struct dp_ratewin *w, uint64_t now_ms);
/* Sends in the 60 s before now_ms. */
size_t dp_ratewin_used(const struct dp_ratewin *w, uint64_t now_ms);
void dp_ratewin_note(struct dp_ratewin *w, uint64_t now_ms);

/*
 * A bounded map of short strings (ids), the oldest forgotten first: the
 * replies the bot posted (message id -> answer id), the thumbs already
 * counted.  Lookups walk it (a few thousand ids, once per event).  A key is
 * kept as its 64-bit keyed hash (hmap_hash: two keys of a few thousand
 * sharing one is a chance of about 1 in 10^12), and each distinct value
 * once, however many keys share it (the few dozen answer ids of thousands
 * of posted replies): 16 bytes a note instead of 72 (a full map of 4,096
 * posted replies: 64 KB, not 288 KB).
 */
#define DP_NOTE_KEY 64 /* bytes of a key that count */
#define DP_NOTE_VAL 64 /* bytes of a value kept, NUL included */

struct dp_notes {
	struct dp_note {
		uint64_t key;
		uint32_t val; /* index in vals */
	} * v;
	struct dp_note_val {
		char *s;       /* NULL: a free place */
		uint32_t refs; /* notes holding it */
	} * vals;
	size_t max, head, n;
	size_t nvals, capvals; /* places in vals: at most max + 1 */
};

/* Remember key -> val (val cut to fit), replacing an older key's value. */
void dp_notes_put(struct dp_notes *s, size_t max, const char *key, const char *val);
/* The value of key, or NULL. */
const char *dp_notes_get(const struct dp_notes *s, const char *key);
void dp_notes_free(struct dp_notes *s);

#define DP_SEEN_MAX 4096

/* Bounded set of message ids, kept as keyed 64-bit hashes (as dp_notes'
 * keys); the oldest is forgotten first. */
struct dp_seen {
	uint64_t *ids;
	size_t head, n;
};

/* 1 if id was new (and is now remembered), 0 if already seen. */
int dp_seen_add(struct dp_seen *s, const char *id);
void dp_seen_free(struct dp_seen *s);

#endif
