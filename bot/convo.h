/*
 * convo: the bot's short memory of its conversations.  For each
 * conversation (a Discord DM, one person in one channel, a web chat
 * session, the console) it keeps what the next message may refer to: the
 * last answer given, the one before it, and the choices of a "did you
 * mean" just offered, as answer ids.  Never any text from the chat, and not even the platform's
 * key: a conversation is known by a keyed 64-bit hash of the key its
 * platform makes (hmap_hash), so no user or channel id is held either.
 * A memory lasts ttl_ms after the conversation's last message.  The
 * number of conversations is fixed and their memory allocated once:
 * when all are in use, the one quiet the longest is forgotten first.
 * Nothing is written anywhere: it ends with the process.
 *
 * Pure: the caller passes the time (any monotonic clock in ms); no I/O, no
 * globals.  Not thread-safe: one owner (the runtime's loop, the console,
 * eval).
 */
#ifndef CONVO_H
#define CONVO_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"

#define CONVO_ID_MAX 64                  /* bytes of an answer id kept, NUL included */
#define CONVO_TTL_MS (10u * 60u * 1000u) /* a memory lasts 10 minutes */
#define CONVO_MAX 4096                   /* conversations a running bot keeps */
#define CONVO_CHOICES MATCH_CHOICES

/* What the bot remembers of one conversation. */
struct convo_memory {
	char answer[CONVO_ID_MAX]; /* the last answer given (not small talk), "" for none */
	char before[CONVO_ID_MAX]; /* the one before it (another), "" for none */
	char choices[CONVO_CHOICES][CONVO_ID_MAX]; /* offered by the last reply, numbered from 1 */
	size_t nchoices;
};

struct convo;

/* A store for max conversations (at least 1) that forgets each ttl_ms
 * after its last message.  Free with convo_free. */
struct convo *convo_new(size_t max, uint64_t ttl_ms);
void convo_free(struct convo *c);

/*
 * The memory of conversation key (len bytes) at now: 1 with *out filled,
 * or 0 with *out empty (never seen, forgotten, or older than ttl_ms).
 */
int convo_get(struct convo *c, const char *key, size_t len, uint64_t now, struct convo_memory *out);
/*
 * Remember m for conversation key at now, replacing what was kept; when
 * every place is taken, the conversation quiet the longest is forgotten.
 */
void convo_put(struct convo *c, const char *key, size_t len, const struct convo_memory *m,
	       uint64_t now);
/* Conversations held (some may be past ttl_ms and not yet reclaimed). */
size_t convo_count(const struct convo *c);
/* The store's memory, fixed at convo_new, in bytes. */
size_t convo_bytes(const struct convo *c);

#endif
