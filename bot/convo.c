/*
 * convo: the conversation memory (see convo.h).  A fixed array of places,
 * chained hash buckets over the keys' hashes, and a list from the newest
 * to the oldest message; places freed are kept on their own list, and the
 * places never used yet are the ones past `used`, so that the array's
 * pages (1.2 MB of them for CONVO_MAX) are only touched as conversations
 * come.
 */
#include "convo.h"

#include <string.h>

#include "hmap.h"
#include "xmem.h"

#define NIL UINT32_MAX

struct place {
	uint64_t hash, at;
	uint32_t newer, older; /* the age list */
	uint32_t chain;        /* next in its bucket, or next free */
	struct convo_memory m;
};

struct convo {
	struct place *p;
	size_t max, n;
	size_t used;      /* places taken at least once: [used, max) were never used */
	uint32_t *bucket; /* place index, or NIL */
	size_t nbucket;   /* a power of two */
	uint32_t newest, oldest, free;
	uint64_t ttl;
};

struct convo *
convo_new(size_t max, uint64_t ttl_ms)
{
	struct convo *c = xcalloc(1, sizeof *c);
	if (max == 0)
		max = 1;
	c->max = max;
	c->ttl = ttl_ms;
	c->p = xcalloc(max, sizeof *c->p);
	for (c->nbucket = 1; c->nbucket < 2 * max;)
		c->nbucket <<= 1;
	c->bucket = xmalloc(c->nbucket * sizeof *c->bucket);
	for (size_t i = 0; i < c->nbucket; i++)
		c->bucket[i] = NIL;
	c->free = NIL;
	c->newest = c->oldest = NIL;
	return c;
}

void
convo_free(struct convo *c)
{
	if (c == NULL)
		return;
	free(c->p);
	free(c->bucket);
	free(c);
}

static uint32_t *
bucket_of(struct convo *c, uint64_t h)
{
	return &c->bucket[h & (c->nbucket - 1)];
}

static int
expired(const struct convo *c, const struct place *p, uint64_t now)
{
	return now > p->at && now - p->at > c->ttl;
}

static void
unlink_age(struct convo *c, uint32_t i)
{
	struct place *p = &c->p[i];
	if (p->newer != NIL)
		c->p[p->newer].older = p->older;
	else
		c->newest = p->older;
	if (p->older != NIL)
		c->p[p->older].newer = p->newer;
	else
		c->oldest = p->newer;
}

static void
link_newest(struct convo *c, uint32_t i)
{
	struct place *p = &c->p[i];
	p->newer = NIL;
	p->older = c->newest;
	if (c->newest != NIL)
		c->p[c->newest].newer = i;
	c->newest = i;
	if (c->oldest == NIL)
		c->oldest = i;
}

/* Forget place i: out of its bucket and the age list, onto the free list. */
static void
drop(struct convo *c, uint32_t i)
{
	for (uint32_t *pp = bucket_of(c, c->p[i].hash); *pp != NIL; pp = &c->p[*pp].chain)
		if (*pp == i) {
			*pp = c->p[i].chain;
			break;
		}
	unlink_age(c, i);
	memset(&c->p[i], 0, sizeof c->p[i]);
	c->p[i].chain = c->free;
	c->free = i;
	c->n--;
}

static uint32_t
find(struct convo *c, uint64_t h)
{
	uint32_t i = *bucket_of(c, h);
	while (i != NIL && c->p[i].hash != h)
		i = c->p[i].chain;
	return i;
}

int
convo_get(struct convo *c, const char *key, size_t len, uint64_t now, struct convo_memory *out)
{
	memset(out, 0, sizeof *out);
	uint32_t i = find(c, hmap_hash(key, len));
	if (i == NIL)
		return 0;
	if (expired(c, &c->p[i], now)) {
		drop(c, i);
		return 0;
	}
	*out = c->p[i].m;
	return 1;
}

void
convo_put(struct convo *c, const char *key, size_t len, const struct convo_memory *m, uint64_t now)
{
	/* the oldest first: every memory past its time goes before any other */
	while (c->oldest != NIL && expired(c, &c->p[c->oldest], now))
		drop(c, c->oldest);
	uint64_t h = hmap_hash(key, len);
	uint32_t i = find(c, h);
	if (i != NIL) {
		unlink_age(c, i);
	} else {
		if (c->free == NIL && c->used == c->max)
			drop(c, c->oldest);
		if (c->free != NIL) {
			i = c->free;
			c->free = c->p[i].chain;
		} else {
			i = (uint32_t)c->used++;
		}
		c->p[i].hash = h;
		uint32_t *b = bucket_of(c, h);
		c->p[i].chain = *b;
		*b = i;
		c->n++;
	}
	c->p[i].m = *m;
	c->p[i].at = now;
	link_newest(c, i);
}

size_t
convo_count(const struct convo *c)
{
	return c->n;
}

size_t
convo_bytes(const struct convo *c)
{
	return sizeof *c + c->max * sizeof *c->p + c->nbucket * sizeof *c->bucket;
}
