/*
 * runtime: the loop of the network platforms (see runtime.h).
 */
#include "runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "convo.h"
#include "log.h"
#include "strbuf.h"
#include "sys.h"
#include "xmem.h"

#define TICK_MS 1000

struct runtime {
	struct bot *b;
	struct ws_loop *loop;
	struct outbox *ob;
	struct convo *mem; /* what the bot remembers of each conversation */
	struct platform p[ADAPTER_MAX];
	size_t np;
	int stopping, closing, exit_code;
	uint64_t stop_at, close_deadline, last_tick;
};

/* ---- for adapters ---------------------------------------------------------- */

struct ws_loop *
platform_loop(struct platform *p)
{
	return p->rt->loop;
}

int
platform_ask(struct platform *p, const char *conv, const char *key, const char *msg_id,
	     const char *text, size_t len, const char *log_text)
{
	if (p->rt->stopping) {
		log_warn("shutting down: message %s in %s %s not answered", msg_id, p->snd.where,
			 conv);
		return -1;
	}
	return outbox_ask(p->rt->ob, &p->snd, conv, key, msg_id, text, len, log_text);
}

void
platform_done(struct platform *p, struct ob_item *it, const struct ob_result *r, uint64_t now)
{
	outbox_done(p->rt->ob, it, r, now);
}

void
platform_status(struct platform *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->status, sizeof p->status, fmt, ap);
	va_end(ap);
	log_info("%s: %s", p->ops->name, p->status);
	struct strbuf all = STRBUF_INIT;
	for (size_t i = 0; i < p->rt->np; i++)
		if (p->rt->p[i].status[0])
			sb_addf(&all, "%s%s: %s", all.len ? "; " : "", p->rt->p[i].ops->name,
				p->rt->p[i].status);
	sd_notifyf(0, "STATUS=%s", all.s);
	sb_free(&all);
}

static void
begin_stop(struct runtime *rt, uint64_t now)
{
	rt->stopping = 1;
	rt->stop_at = now + STOP_GRACE_MS;
	for (size_t i = 0; i < rt->np; i++)
		rt->p[i].ops->stop(&rt->p[i], now);
	if (rt->exit_code == EXIT_OK)
		log_info("stopping: %zu questions and reply parts still to go",
			 outbox_waiting(rt->ob));
}

void
platform_fail(struct platform *p, int status, uint64_t now)
{
	p->rt->exit_code = status;
	if (!p->rt->stopping)
		begin_stop(p->rt, now);
}

/* ---- the outbox's view of a platform --------------------------------------- */

static void
snd_send(void *arg, struct ob_item *it)
{
	struct platform *p = arg;
	p->ops->send(p, it);
}

static void
snd_cancel(void *arg, struct ob_item *it)
{
	struct platform *p = arg;
	p->ops->cancel(p, it);
}

/* ---- the loop -------------------------------------------------------------- */

/* Answer questions in arrival order for at most ANSWER_BUDGET_MS. */
static void
answer_some(struct runtime *rt)
{
	uint64_t start = sys_now_ms();
	struct ob_question *q;
	while (sys_now_ms() - start < ANSWER_BUDGET_MS && (q = outbox_take(rt->ob)) != NULL) {
		struct platform *p = q->s->arg;
		struct convo_memory mem, *m = NULL;
		size_t kl = strlen(q->key);
		uint64_t now = sys_now_ms();
		if (kl) {
			convo_get(rt->mem, q->key, kl, now, &mem);
			m = &mem;
		}
		struct chat_reply r;
		bot_answer(rt->b, &rt->b->ac, m, q->text, q->len, q->log_text, &r);
		if (m)
			convo_put(rt->mem, q->key, kl, m, now);
		log_debug("message %s in %s %s answered (%zu bytes)", q->msg_id, q->s->where,
			  q->conv, strlen(r.text));
		p->ops->reply(p, rt->ob, q, &r);
		chat_reply_free(&r);
		outbox_answered(rt->ob, q);
	}
}

/* The stop sequence; returns 1 when the loop may end. */
static int
stop_step(struct runtime *rt, uint64_t now)
{
	if (!rt->closing) {
		if (outbox_waiting(rt->ob) > 0 && now < rt->stop_at)
			return 0;
		outbox_abandon(rt->ob);
		rt->closing = 1;
		rt->close_deadline = now + CLOSE_GRACE_MS;
	}
	int all = 1;
	for (size_t i = 0; i < rt->np; i++) {
		struct platform *p = &rt->p[i];
		if (!p->closed)
			p->closed = p->ops->close(p, now);
		all &= p->closed;
	}
	return all || now >= rt->close_deadline;
}

static void
loop(struct runtime *rt)
{
	for (;;) {
		uint64_t now = sys_now_ms();
		if (bot_stop_requested && !rt->stopping) {
			log_info("stop requested");
			begin_stop(rt, now);
		}
		if (bot_reload_requested || now - rt->last_tick >= TICK_MS) {
			bot_tick(rt->b);
			rt->last_tick = now;
		}
		if (rt->stopping && stop_step(rt, now))
			break;
		uint64_t next = rt->last_tick + TICK_MS;
		for (size_t i = 0; i < rt->np; i++)
			next = sys_sooner(next, rt->p[i].ops->step(&rt->p[i], now));
		if (!rt->closing) {
			answer_some(rt);
			next = sys_sooner(next, outbox_pump(rt->ob, now));
			if (outbox_questions(rt->ob))
				next = now;
		}
		next = sys_sooner(next, rt->stop_at);
		next = sys_sooner(next, rt->close_deadline);
		ws_loop_service(rt->loop, next > now ? (unsigned)(next - now) : 0);
	}
}

int
runtime_run(struct bot *b, const struct adapter_ops *const *ops, size_t n)
{
	if (n == 1 && ops[0]->run)
		return ops[0]->run(b);
	struct runtime *rt = xcalloc(1, sizeof *rt);
	rt->b = b;
	rt->exit_code = EXIT_OK;
	int rc = EXIT_FAIL;
	char *cause = NULL;
	unsigned fds = 0;
	for (size_t i = 0; i < n; i++)
		fds += ops[i]->fds(b->cfg);
	rt->loop = ws_loop_new(fds, &cause);
	if (rt->loop == NULL)
		goto out;
	rt->ob = outbox_new(OB_MAX_ITEMS, OB_MAX_BYTES);
	rt->mem = convo_new(CONVO_MAX, CONVO_TTL_MS);
	for (size_t i = 0; i < n && i < ADAPTER_MAX; i++) {
		struct platform *p = &rt->p[rt->np++];
		p->ops = ops[i];
		p->b = b;
		p->rt = rt;
		p->snd.name = ops[i]->name;
		p->snd.where = ops[i]->where;
		p->snd.send = snd_send;
		p->snd.cancel = snd_cancel;
		p->snd.arg = p;
		if (ops[i]->start(p, &cause) < 0) {
			if (p->start_status)
				rc = p->start_status;
			goto out;
		}
		p->started = 1;
	}
	bot_ready(b);
	loop(rt);
	rc = rt->exit_code;
	if (outbox_shed(rt->ob))
		log_warn("%zu questions were shed because the outbox was full (each logged with "
			 "its message id)",
			 outbox_shed(rt->ob));
	log_info("stopped (exit status %d)", rc);
out:
	if (cause) {
		log_error("%s", cause);
		free(cause);
	}
	if (rt->ob)
		outbox_abandon(rt->ob); /* empty unless a start failed */
	for (size_t i = 0; i < rt->np; i++)
		if (rt->p[i].started)
			rt->p[i].ops->free(&rt->p[i]);
	outbox_free(rt->ob);
	convo_free(rt->mem);
	ws_loop_free(rt->loop);
	free(rt);
	return rc;
}
