/*
 * queue: an intrusive first-in first-out list (the FIFO append and pop
 * every queue in the bot needs).  A node embeds a struct qlink; the queue
 * only links nodes and never allocates or frees them.  A zeroed struct
 * queue is empty, and a queue may be copied.  Pure, header only.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <stddef.h>

struct qlink {
	struct qlink *next;
};

struct queue {
	struct qlink *head, *tail;
	size_t n;
};

/* The struct of the given type that embeds link l as member. */
#define queue_entry(l, type, member) ((type *)(void *)((char *)(l)-offsetof(type, member)))

static inline void
queue_push(struct queue *q, struct qlink *l)
{
	l->next = NULL;
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	q->n++;
}

/* The oldest node, unlinked, or NULL when empty. */
static inline struct qlink *
queue_pop(struct queue *q)
{
	struct qlink *l = q->head;
	if (l) {
		q->head = l->next;
		if (q->head == NULL)
			q->tail = NULL;
		l->next = NULL;
		q->n--;
	}
	return l;
}

#endif
