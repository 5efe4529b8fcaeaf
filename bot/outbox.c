/*
 * outbox: questions and reply parts waiting, per conversation (see
 * outbox.h).  Conversations with something to send live in a list (for
 * outbox_pump) and a hash table keyed by the process hash key (ids come
 * from outside).  A conversation is forgotten once it is empty and no
 * longer held back, so one entry per chat ever seen does not pile up.
 */
#include "outbox.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hmap.h"
#include "log.h"
#include "sys.h"
#include "xmem.h"

#define TRIM_AFTER 256 /* a backlog this long drained: give its pages back */
#define SLAB_SIZE (64u << 10)
#define SLAB_BIG (SLAB_SIZE / 4) /* larger: malloc */

/*
 * Questions and reply parts (with their text) live in slabs of 64 KB taken
 * with mmap, each given back as soon as the last thing in it is freed.  A
 * burst of thousands of replies comes and goes in order, so its slabs go
 * whole: from the heap, which can only give back whole free pages, the
 * same burst left a megabyte of holes pinned by what was allocated among it.
 */
struct slab {
	size_t live; /* allocations not yet freed */
	size_t used; /* bytes handed out, this header included */
};

/* Each allocation is preceded by its slab (NULL: malloc'd on its own). */
#define SLAB_HDR 16

struct ob_conv {
	struct outbox *ob;
	struct ob_conv *next;  /* in ob->convs */
	struct ob_conv *hnext; /* in its hash bucket */
	struct ob_sender *s;
	uint64_t hash;
	char id[OB_ID_MAX];
	struct queue items;
	uint64_t blocked_until; /* rate-limit bucket empty or 429 until then */
};

struct outbox {
	struct queue questions;
	struct ob_conv *convs;
	struct ob_conv **buckets;
	size_t nbuckets, nconvs;
	size_t n, bytes; /* questions and parts waiting, and their size */
	size_t max_items, max_bytes;
	size_t peak; /* most waiting since the heap was last trimmed */
	size_t shed;
	uint32_t rng;
	struct slab *slab; /* the one being filled */
	size_t slabs;      /* slabs mapped */
};

static void *
slab_alloc(struct outbox *ob, size_t n)
{
	size_t need = SLAB_HDR + ((n + 15) & ~(size_t)15);
	struct slab *sl = NULL;
	char *p;
	if (n > SLAB_BIG) {
		p = xmalloc(SLAB_HDR + n);
	} else {
		sl = ob->slab;
		if (sl == NULL || sl->used + need > SLAB_SIZE) {
			/* a full one goes when the last thing in it is freed */
			void *m = mmap(NULL, SLAB_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				abort(); /* out of memory, as xmalloc */
			sl = ob->slab = m;
			sl->live = 0;
			sl->used = SLAB_HDR;
			ob->slabs++;
		}
		p = (char *)sl + sl->used;
		sl->used += need;
		sl->live++;
	}
	memcpy(p, &sl, sizeof sl);
	return p + SLAB_HDR;
}

static void
slab_free(struct outbox *ob, void *ptr)
{
	if (ptr == NULL)
		return;
	char *p = (char *)ptr - SLAB_HDR;
	struct slab *sl;
	memcpy(&sl, p, sizeof sl);
	if (sl == NULL) {
		free(p);
	} else if (--sl->live == 0) {
		if (sl == ob->slab) {
			sl->used = SLAB_HDR; /* empty: fill it again from the start */
		} else {
			munmap(sl, SLAB_SIZE);
			ob->slabs--;
		}
	}
}

struct outbox *
outbox_new(size_t max_items, size_t max_bytes)
{
	struct outbox *ob = xcalloc(1, sizeof *ob);
	ob->max_items = max_items;
	ob->max_bytes = max_bytes;
	ob->nbuckets = 64;
	ob->buckets = xcalloc(ob->nbuckets, sizeof *ob->buckets);
	sys_random(&ob->rng, sizeof ob->rng);
	return ob;
}

static void
copy_id(char dst[OB_ID_MAX], const char *src)
{
	snprintf(dst, OB_ID_MAX, "%s", src);
}

/* ---- accounting ---------------------------------------------------------- */

static void
count_in(struct outbox *ob, size_t bytes)
{
	ob->n++;
	ob->bytes += bytes;
	if (ob->n > ob->peak)
		ob->peak = ob->n;
}

static void
count_out(struct outbox *ob, size_t bytes)
{
	ob->n--;
	ob->bytes -= bytes;
	if (ob->n == 0 && ob->peak >= TRIM_AFTER) {
		ob->peak = 0;
		malloc_trim(0); /* a burst is over: glibc keeps freed pages otherwise */
	}
}

static size_t
question_bytes(const struct ob_question *q)
{
	return sizeof *q + q->len + (q->log_text ? strlen(q->log_text) : 0);
}

static void
question_free(struct outbox *ob, struct ob_question *q)
{
	count_out(ob, question_bytes(q));
	slab_free(ob, q); /* with its text */
}

static void
item_free(struct outbox *ob, struct ob_item *it)
{
	count_out(ob, sizeof *it + it->len);
	if (it->body != (char *)(it + 1))
		slab_free(ob, it->body); /* a new one (outbox_rebody) */
	slab_free(ob, it);
}

/* ---- conversations ------------------------------------------------------- */

static uint64_t
conv_hash(const struct ob_sender *s, const char *id)
{
	return hmap_hash(id, strlen(id)) ^ (uint64_t)(uintptr_t)s;
}

static void
grow_buckets(struct outbox *ob)
{
	size_t nb = ob->nbuckets * 2;
	struct ob_conv **b = xcalloc(nb, sizeof *b);
	for (struct ob_conv *c = ob->convs; c; c = c->next) {
		size_t j = (size_t)c->hash & (nb - 1);
		c->hnext = b[j];
		b[j] = c;
	}
	free(ob->buckets);
	ob->buckets = b;
	ob->nbuckets = nb;
}

static struct ob_conv *
conv_get(struct outbox *ob, struct ob_sender *s, const char *id)
{
	uint64_t h = conv_hash(s, id);
	for (struct ob_conv *c = ob->buckets[h & (ob->nbuckets - 1)]; c; c = c->hnext)
		if (c->s == s && c->hash == h && strcmp(c->id, id) == 0)
			return c;
	if (ob->nconvs >= ob->nbuckets)
		grow_buckets(ob);
	struct ob_conv *c = xcalloc(1, sizeof *c);
	c->ob = ob;
	c->s = s;
	c->hash = h;
	copy_id(c->id, id);
	size_t j = (size_t)h & (ob->nbuckets - 1);
	c->hnext = ob->buckets[j];
	ob->buckets[j] = c;
	c->next = ob->convs;
	ob->convs = c;
	ob->nconvs++;
	return c;
}

/* Unlink c from its bucket and free it; the caller unlinks it from ob->convs. */
static void
conv_free(struct outbox *ob, struct ob_conv *c)
{
	for (struct ob_conv **pp = &ob->buckets[c->hash & (ob->nbuckets - 1)]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	ob->nconvs--;
	free(c);
}

/* ---- questions ----------------------------------------------------------- */

int
outbox_ask(struct outbox *ob, struct ob_sender *s, const char *conv, const char *key,
	   const char *msg_id, const char *text, size_t len, const char *log_text)
{
	size_t cost = sizeof(struct ob_question) + len + (log_text ? strlen(log_text) : 0);
	if (ob->n + 1 > ob->max_items || ob->bytes + cost > ob->max_bytes) {
		ob->shed++;
		log_warn("outbox full (%zu questions and reply parts waiting, %zu KB): message %s "
			 "in %s %s on %s shed, not answered",
			 ob->n, ob->bytes / 1024, msg_id, s->where, conv, s->name);
		return -1;
	}
	size_t ll = log_text ? strlen(log_text) + 1 : 0;
	struct ob_question *q = slab_alloc(ob, sizeof *q + len + 1 + ll);
	memset(q, 0, sizeof *q);
	q->s = s;
	copy_id(q->conv, conv);
	copy_id(q->msg_id, msg_id);
	if (key && strlen(key) < sizeof q->key)
		strcpy(q->key, key);
	q->text = (char *)(q + 1);
	memcpy(q->text, text, len);
	q->text[len] = '\0';
	q->len = len;
	q->log_text = log_text ? memcpy(q->text + len + 1, log_text, ll) : NULL;
	count_in(ob, question_bytes(q));
	queue_push(&ob->questions, &q->link);
	return 0;
}

struct ob_question *
outbox_take(struct outbox *ob)
{
	struct qlink *l = queue_pop(&ob->questions);
	return l ? queue_entry(l, struct ob_question, link) : NULL;
}

void
outbox_part(struct outbox *ob, const struct ob_question *q, unsigned part, unsigned nparts,
	    char *body, size_t len)
{
	struct ob_conv *c = conv_get(ob, q->s, q->conv);
	struct ob_item *it = slab_alloc(ob, sizeof *it + len + 1);
	memset(it, 0, sizeof *it);
	it->conv = c;
	it->conv_id = c->id;
	copy_id(it->msg_id, q->msg_id);
	it->part = part;
	it->nparts = nparts;
	it->body = memcpy(it + 1, body, len);
	it->body[len] = '\0';
	it->len = len;
	free(body);
	count_in(ob, sizeof *it + len);
	queue_push(&c->items, &it->link);
}

void
outbox_rebody(struct ob_item *it, char *body, size_t len)
{
	struct outbox *ob = it->conv->ob;
	char *copy = slab_alloc(ob, len + 1);
	memcpy(copy, body, len);
	copy[len] = '\0';
	free(body);
	if (it->body != (char *)(it + 1))
		slab_free(ob, it->body);
	ob->bytes = ob->bytes - it->len + len;
	it->body = copy;
	it->len = len;
}

void
outbox_answered(struct outbox *ob, struct ob_question *q)
{
	question_free(ob, q);
}

/* ---- sending ------------------------------------------------------------- */

static struct ob_item *
head(const struct ob_conv *c)
{
	return c->items.head ? queue_entry(c->items.head, struct ob_item, link) : NULL;
}

static uint64_t
later(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* 1 and when the head part of c may go in *t, or 0 if none waits to go. */
static int
ready_at(const struct ob_conv *c, uint64_t *t)
{
	const struct ob_item *it = head(c);
	if (it == NULL || it->inflight)
		return 0;
	*t = later(it->not_before, later(c->blocked_until, c->s->blocked_until));
	return 1;
}

uint64_t
outbox_pump(struct outbox *ob, uint64_t now)
{
	uint64_t next = 0;
	for (struct ob_conv **pp = &ob->convs; *pp;) {
		struct ob_conv *c = *pp;
		if (c->items.head == NULL && now >= c->blocked_until) {
			*pp = c->next;
			conv_free(ob, c);
			continue;
		}
		pp = &c->next;
		uint64_t t;
		if (!ready_at(c, &t))
			continue;
		if (t > now) {
			next = sys_sooner(next, t);
			continue;
		}
		struct ob_item *it = head(c);
		it->inflight = 1;
		c->s->send(c->s->arg, it);
		/* a sender that finished at once may have more for this conversation */
		if (ready_at(c, &t))
			next = sys_sooner(next, later(t, now));
	}
	return next;
}

/* Drop the head part of c (it) and, when its reply failed, the rest of that reply. */
static void
pop_head(struct outbox *ob, struct ob_conv *c, int failed)
{
	struct ob_item *it = queue_entry(queue_pop(&c->items), struct ob_item, link);
	size_t dropped = 0;
	while (failed && head(c) && strcmp(head(c)->msg_id, it->msg_id) == 0) {
		item_free(ob, queue_entry(queue_pop(&c->items), struct ob_item, link));
		dropped++;
	}
	if (dropped)
		log_error("message %s: %zu more part%s of the reply not sent", it->msg_id, dropped,
			  dropped == 1 ? "" : "s");
	item_free(ob, it);
}

static void
give_up(struct outbox *ob, struct ob_item *it, const char *what)
{
	log_error("reply to message %s in %s %s %s; the question went unanswered", it->msg_id,
		  it->conv->s->where, it->conv_id, what);
	pop_head(ob, it->conv, 1);
}

void
outbox_done(struct outbox *ob, struct ob_item *it, const struct ob_result *r, uint64_t now)
{
	struct ob_conv *c = it->conv;
	it->inflight = 0;
	it->handle = NULL;
	if (r->hold_ms)
		c->blocked_until = later(c->blocked_until, now + r->hold_ms);
	switch (r->outcome) {
	case OB_SENT:
		log_debug("replied to message %s (part %u/%u) in %s %s", it->msg_id, it->part + 1,
			  it->nparts, c->s->where, c->id);
		pop_head(ob, c, 0);
		return;
	case OB_LIMITED: {
		uint64_t until = now + (r->retry_ms ? r->retry_ms : 1);
		if (r->global)
			c->s->blocked_until = later(c->s->blocked_until, until);
		else
			c->blocked_until = later(c->blocked_until, until);
		if (++it->limited <= OB_MAX_LIMITED) {
			log_warn("rate limited%s on %s %s; retrying message %s in %.3f s",
				 r->global ? " (global)" : "", c->s->where, c->id, it->msg_id,
				 (double)(until - now) / 1000.0);
			return;
		}
		char what[64];
		snprintf(what, sizeof what, "failed: still rate limited after %d tries",
			 OB_MAX_LIMITED);
		give_up(ob, it, what);
		return;
	}
	case OB_RETRY:
		if (++it->attempts < OB_MAX_ATTEMPTS) {
			unsigned delay = sys_backoff_ms(it->attempts - 1, sys_jitter(&ob->rng)) / 2;
			it->not_before = now + delay;
			log_warn("reply to message %s: %s; retry %u in %.1f s", it->msg_id,
				 r->why ? r->why : "failed", it->attempts, delay / 1000.0);
			return;
		}
		{
			char what[320];
			snprintf(what, sizeof what, "failed after %d tries (%s)", OB_MAX_ATTEMPTS,
				 r->why ? r->why : "failed");
			give_up(ob, it, what);
			return;
		}
	case OB_REFUSED:
		give_up(ob, it, r->why ? r->why : "refused");
		return;
	case OB_GONE:
		log_info("reply to message %s in %s %s not delivered: %s", it->msg_id, c->s->where,
			 c->id, r->why ? r->why : "the conversation is gone");
		pop_head(ob, c, 1);
		return;
	}
}

/* ---- state and shutdown ---------------------------------------------------- */

size_t
outbox_waiting(const struct outbox *ob)
{
	return ob->n;
}

size_t
outbox_questions(const struct outbox *ob)
{
	return ob->questions.n;
}

size_t
outbox_shed(const struct outbox *ob)
{
	return ob->shed;
}

size_t
outbox_slabs(const struct outbox *ob)
{
	return ob->slabs;
}

/* Empty the outbox, cancelling what is in flight; report: log what is left. */
static void
empty(struct outbox *ob, int report)
{
	struct ob_question *q;
	while ((q = outbox_take(ob)) != NULL) {
		if (report)
			log_warn("shutting down: message %s in %s %s not answered", q->msg_id,
				 q->s->where, q->conv);
		question_free(ob, q);
	}
	while (ob->convs) {
		struct ob_conv *c = ob->convs;
		ob->convs = c->next;
		char last[OB_ID_MAX] = "";
		struct qlink *l;
		while ((l = queue_pop(&c->items)) != NULL) {
			struct ob_item *it = queue_entry(l, struct ob_item, link);
			if (report && strcmp(it->msg_id, last) != 0)
				log_warn(
				    "shutting down: reply to message %s in %s %s not sent%s%s%s",
				    it->msg_id, c->s->where, c->id,
				    it->inflight ? " (no answer from " : "",
				    it->inflight ? c->s->name : "", it->inflight ? " yet)" : "");
			if (it->inflight && c->s->cancel)
				c->s->cancel(c->s->arg, it);
			copy_id(last, it->msg_id);
			item_free(ob, it);
		}
		conv_free(ob, c);
	}
}

void
outbox_abandon(struct outbox *ob)
{
	empty(ob, 1);
}

void
outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	empty(ob, 0);
	if (ob->slab)
		munmap(ob->slab, SLAB_SIZE);
	free(ob->buckets);
	free(ob);
}
