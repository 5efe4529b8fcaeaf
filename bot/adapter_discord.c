/*
 * adapter_discord: the bot on Discord.  One loop on the main thread drives
 * the gateway session (ws), the REST worker (http) and the timers:
 * GET /gateway/bot -> connect -> HELLO -> IDENTIFY or RESUME -> READY /
 * RESUMED; heartbeats with zombie detection; close codes acted on through
 * the table in discord_proto; reconnects with capped, jittered backoff.
 * Questions are answered with bot_answer() (the `ask` pipeline) and the
 * replies go out per channel in question order, with rate limits and
 * bounded retries.  Payload parsing and policy live in discord_proto; this
 * file only sequences them.  It never logs the token or a payload that
 * carries it (IDENTIFY, RESUME, the Authorization header).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "cli.h"
#include "discord_proto.h"
#include "http.h"
#include "log.h"
#include "strbuf.h"
#include "sys.h"
#include "ws.h"
#include "xmem.h"

#define MB_HOMEPAGE "https://github.com/massagebot/massagebot"
#define USER_AGENT "User-Agent: DiscordBot (" MB_HOMEPAGE ", " MB_VERSION ")"

#define GW_MAX_MESSAGE (4u << 20) /* bytes in one gateway message */
#define HELLO_TIMEOUT_MS 15000    /* connect + handshake + HELLO */
#define READY_TIMEOUT_MS 30000    /* IDENTIFY/RESUME -> READY/RESUMED */
#define SESSION_HELD_MS 60000     /* a session this old resets the backoff */
#define RESUME_URL_FAILURES 2     /* then fall back to the main gateway url */
#define MAIN_URL_FAILURES 2       /* then ask GET /gateway/bot again */
#define REST_TIMEOUT_MS 15000
#define REST_MAX_ATTEMPTS 5 /* 5xx and transport errors */
#define REST_MAX_429 10     /* rate-limit retries of one request */
#define STOP_GRACE_MS 5000  /* queued replies on SIGTERM */
#define CLOSE_GRACE_MS 2000 /* close handshake on the way out */
#define ANSWER_BUDGET_MS 20 /* answering time per loop turn */
#define TICK_MS 1000
#define TRIM_AFTER_JOBS 256      /* a backlog this long drained: give its pages back */
#define IDENTIFY_SPACING_MS 5000 /* max_concurrency 1: one IDENTIFY per 5 s */
#define GW_RESERVE 5             /* sends kept for our own heartbeats and IDENTIFY */

enum gw_state {
	GW_WAIT,       /* nothing in progress; reconnect_at may be set */
	GW_FETCH,      /* GET /gateway/bot in flight */
	GW_CONNECTING, /* websocket connecting, waiting for HELLO */
	GW_HANDSHAKE,  /* IDENTIFY or RESUME sent, waiting for READY/RESUMED */
	GW_READY
};

/* One chunk of one reply, waiting in its channel's queue. */
struct job {
	struct job *next;
	char msg_id[DP_ID_MAX];
	char channel_id[DP_ID_MAX];
	unsigned chunk, nchunks;
	unsigned attempts, limited;
	uint64_t not_before;
	struct http_req *req; /* the POST; in flight while inflight is set */
	int inflight;
};

struct chan {
	struct chan *next;
	char id[DP_ID_MAX];
	struct job *head, *tail;
	uint64_t blocked_until; /* bucket exhausted until then */
};

/* A question accepted for answering. */
struct question {
	struct question *next;
	char id[DP_ID_MAX];
	char channel_id[DP_ID_MAX];
	char *text;
	size_t len;
	char *log_text; /* text without any mention, for the unanswered log */
};

struct gw_out {
	struct gw_out *next;
	char *text;
	int op;
};

struct discord {
	struct bot *b;
	struct ws *ws;
	struct http *http;
	const char *token, *channels;
	char *api;  /* DISCORD_API_BASE without a trailing slash */
	char *auth; /* "Authorization: Bot <token>" */

	enum gw_state st;
	struct http_req *gw_req; /* GET /gateway/bot */
	unsigned gw_attempts;
	char *gateway_url;
	char *resume_url;
	char *session_id;
	long long seq;
	char self_id[DP_ID_MAX];
	int via_resume_url;     /* the current connection uses resume_url */
	unsigned url_failures;  /* connections to resume_url that failed before HELLO */
	unsigned main_failures; /* same for the main gateway url */

	unsigned hb_ms;
	uint64_t hb_next;
	uint64_t hb_unacked_at; /* when a heartbeat went out with no ACK since; 0: none */
	uint64_t last_identify_at;
	struct gw_out *out, *out_tail;
	struct dp_ratewin win;

	uint64_t reconnect_at; /* 0: none */
	uint64_t state_deadline;
	unsigned attempts;
	uint64_t session_up_at;

	struct question *qs, *qs_tail;
	struct chan *chans;
	size_t njobs, njobs_peak; /* replies queued; most since the last trim */
	uint64_t global_until;
	struct dp_seen seen;

	int stopping;
	int exit_code;
	uint64_t stop_at;
	int closing; /* final close sent */
	uint64_t close_deadline;
	uint64_t last_tick;
	uint32_t rng;
};

static uint32_t
rnd(struct discord *d)
{
	uint32_t x = d->rng; /* xorshift32: jitter only, nothing secret */
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return d->rng = x ? x : 0x9e3779b9u;
}

/* The REST worker finished a request. */
static void
http_wake(void *arg)
{
	struct discord *d = arg;
	ws_wake(d->ws);
}

/* ---- gateway sends -------------------------------------------------------- */

static void
out_clear(struct discord *d)
{
	while (d->out) {
		struct gw_out *o = d->out;
		d->out = o->next;
		free(o->text);
		free(o);
	}
	d->out_tail = NULL;
}

static void
gw_send(struct discord *d, int op, char *text)
{
	struct gw_out *o = xcalloc(1, sizeof *o);
	o->text = text;
	o->op = op;
	if (d->out_tail)
		d->out_tail->next = o;
	else
		d->out = o;
	d->out_tail = o;
}

/* Send what the 120-per-minute window allows; returns ms until more may go. */
static uint64_t
out_flush(struct discord *d, uint64_t now)
{
	while (d->out) {
		uint64_t wait = dp_ratewin_wait(&d->win, now);
		if (wait)
			return wait;
		struct gw_out *o = d->out;
		if (ws_send(d->ws, o->text, strlen(o->text)) < 0)
			return 0;
		dp_ratewin_note(&d->win, now);
		if (o->op == DP_OP_HEARTBEAT && d->hb_unacked_at == 0)
			d->hb_unacked_at = now ? now : 1;
		log_debug("gateway: sent op %d", o->op);
		d->out = o->next;
		if (d->out == NULL)
			d->out_tail = NULL;
		free(o->text);
		free(o);
	}
	return 0;
}

static void
send_heartbeat(struct discord *d)
{
	/* one heartbeat waiting is enough */
	for (struct gw_out *o = d->out; o; o = o->next)
		if (o->op == DP_OP_HEARTBEAT)
			return;
	gw_send(d, DP_OP_HEARTBEAT, dp_heartbeat_json(d->seq));
}

/* ---- session ---------------------------------------------------------- */

static void
forget_session(struct discord *d)
{
	free(d->session_id);
	free(d->resume_url);
	d->session_id = d->resume_url = NULL;
	d->seq = -1;
}

static void
schedule_reconnect(struct discord *d, uint64_t now, unsigned min_ms)
{
	if (d->session_up_at && now - d->session_up_at >= SESSION_HELD_MS)
		d->attempts = 0;
	d->session_up_at = 0;
	unsigned delay = dp_backoff_ms(d->attempts, rnd(d));
	if (d->attempts < 30)
		d->attempts++;
	if (delay < min_ms)
		delay = min_ms;
	if (d->session_id == NULL && d->last_identify_at &&
	    now + delay < d->last_identify_at + IDENTIFY_SPACING_MS)
		delay = (unsigned)(d->last_identify_at + IDENTIFY_SPACING_MS - now);
	d->st = GW_WAIT;
	d->reconnect_at = now + delay;
	d->hb_next = 0;
	out_clear(d);
	bot_status(d->b, "reconnecting in %u s", (delay + 999) / 1000);
}

/* Drop the current connection (ours to close) and come back later. */
static void
drop_connection(struct discord *d, uint64_t now, int code, const char *why, unsigned min_ms)
{
	if (ws_active(d->ws))
		ws_close(d->ws, code, why);
	schedule_reconnect(d, now, min_ms);
}

static void
fetch_gateway(struct discord *d)
{
	http_req_free(d->gw_req);
	char *url = xasprintf("%s/gateway/bot", d->api);
	d->gw_req = http_req_new(0, url);
	free(url);
	http_req_header(d->gw_req, d->auth);
	http_req_header(d->gw_req, USER_AGENT);
	d->gw_req->timeout_ms = REST_TIMEOUT_MS;
	http_submit(d->http, d->gw_req);
	d->st = GW_FETCH;
}

static void
connect_gateway(struct discord *d, uint64_t now)
{
	d->reconnect_at = 0;
	if (d->gateway_url == NULL) {
		fetch_gateway(d);
		return;
	}
	int resume = d->session_id != NULL;
	const char *url = d->gateway_url;
	if (resume && d->resume_url && d->url_failures < RESUME_URL_FAILURES)
		url = d->resume_url;
	struct dp_url u;
	char why[128];
	if (dp_parse_ws_url(url, &u, why, sizeof why) < 0) {
		log_error("gateway url '%s': %s", url, why);
		if (url == d->resume_url) {
			d->url_failures = RESUME_URL_FAILURES;
		} else {
			free(d->gateway_url);
			d->gateway_url = NULL;
		}
		schedule_reconnect(d, now, 0);
		return;
	}
	log_info("gateway: connecting to %s://%s:%d (%s)", u.tls ? "wss" : "ws", u.host, u.port,
		 resume ? "resume" : "new session");
	d->via_resume_url = url == d->resume_url;
	ws_connect(d->ws, u.tls, u.host, u.port, u.path);
	d->st = GW_CONNECTING;
	d->state_deadline = now + HELLO_TIMEOUT_MS;
	d->hb_next = 0;
	out_clear(d);
}

/* A connection ended before HELLO: after a few, try another url. */
static void
connect_failed(struct discord *d)
{
	if (d->via_resume_url) {
		if (++d->url_failures == RESUME_URL_FAILURES)
			log_warn("gateway: resume url unreachable; using the main gateway url");
	} else if (++d->main_failures >= MAIN_URL_FAILURES) {
		log_warn("gateway: %s unreachable; asking Discord for the gateway url again",
			 d->gateway_url ? d->gateway_url : "gateway");
		d->main_failures = 0;
		free(d->gateway_url);
		d->gateway_url = NULL;
	}
}

static void
on_gateway_bot(struct discord *d, struct http_req *r, uint64_t now)
{
	if (r->status == 401 || r->status == 403) {
		log_error("%s (HTTP %ld on GET /gateway/bot)", dp_token_rejected, r->status);
		d->exit_code = EXIT_REFUSED;
		d->stopping = 1;
		d->st = GW_WAIT;
		return;
	}
	if (r->status == 200) {
		struct dp_gateway g;
		char why[160];
		if (dp_parse_gateway_bot(r->resp.s ? r->resp.s : "", r->resp.len, &g, why,
					 sizeof why) == 0) {
			free(d->gateway_url);
			d->gateway_url = g.url;
			d->gw_attempts = 0;
			if (g.remaining == 0 && g.reset_after_ms > 0) {
				log_warn("gateway: session start limit reached; waiting %ld s",
					 (g.reset_after_ms + 999) / 1000);
				d->st = GW_WAIT;
				d->reconnect_at = now + (uint64_t)g.reset_after_ms;
				return;
			}
			connect_gateway(d, now);
			return;
		}
		log_warn("gateway: bad GET /gateway/bot response: %s", why);
	} else if (r->status == 0) {
		log_warn("gateway: GET /gateway/bot failed: %s", r->err);
	} else {
		log_warn("gateway: GET /gateway/bot answered HTTP %ld", r->status);
	}
	unsigned min_ms = 0;
	if (r->status == 429) {
		int global;
		double ra = dp_parse_retry_after(r->resp.s ? r->resp.s : "", r->resp.len, &global);
		if (ra > 0)
			min_ms = (unsigned)(ra * 1000.0) + 1;
	}
	d->attempts = d->gw_attempts++;
	schedule_reconnect(d, now, min_ms);
}

static void
on_hello(struct discord *d, const struct dp_event *ev, uint64_t now)
{
	if (d->st != GW_CONNECTING) {
		log_warn("gateway: unexpected HELLO; ignored");
		return;
	}
	d->url_failures = 0;
	d->main_failures = 0;
	d->hb_ms = ev->heartbeat_ms;
	d->hb_next = now + (uint64_t)((double)d->hb_ms * ((double)(rnd(d) % 10000) / 10000.0));
	d->hb_unacked_at = 0;
	if (d->session_id) {
		gw_send(d, DP_OP_RESUME, dp_resume_json(d->token, d->session_id, d->seq));
		log_info("gateway: HELLO (heartbeat %u ms); resuming at seq %lld", d->hb_ms,
			 d->seq);
	} else {
		gw_send(d, DP_OP_IDENTIFY, dp_identify_json(d->token, DP_INTENTS));
		d->last_identify_at = now;
		log_info("gateway: HELLO (heartbeat %u ms); identifying", d->hb_ms);
	}
	d->st = GW_HANDSHAKE;
	d->state_deadline = now + READY_TIMEOUT_MS;
}

static void
session_up(struct discord *d, uint64_t now)
{
	d->st = GW_READY;
	d->state_deadline = 0;
	d->session_up_at = now;
	bot_status(d->b, "connected, %zu answers", bot_answers(d->b));
}

static void
on_ready(struct discord *d, struct dp_event *ev, uint64_t now)
{
	free(d->session_id);
	free(d->resume_url);
	d->session_id = ev->session_id;
	d->resume_url = ev->resume_url;
	ev->session_id = ev->resume_url = NULL;
	memcpy(d->self_id, ev->self_id, sizeof d->self_id);
	log_info("gateway: READY as user %s", d->self_id);
	session_up(d, now);
}

/* ---- questions and replies ------------------------------------------------ */

static struct chan *
chan_get(struct discord *d, const char *id)
{
	for (struct chan *c = d->chans; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	struct chan *c = xcalloc(1, sizeof *c);
	snprintf(c->id, sizeof c->id, "%s", id);
	c->next = d->chans;
	d->chans = c;
	return c;
}

static void
on_message(struct discord *d, const struct dp_message *m)
{
	const char *why = NULL;
	if (!dp_should_answer(m, d->self_id, d->channels, &why)) {
		log_debug("message %s in channel %s ignored: %s", m->id, m->channel_id, why);
		return;
	}
	if (!dp_seen_add(&d->seen, m->id)) {
		log_debug("message %s already handled (replayed)", m->id);
		return;
	}
	if (d->stopping) {
		log_warn("shutting down: message %s in channel %s not answered", m->id,
			 m->channel_id);
		return;
	}
	struct question *q = xcalloc(1, sizeof *q);
	memcpy(q->id, m->id, sizeof q->id);
	memcpy(q->channel_id, m->channel_id, sizeof q->channel_id);
	q->text = dp_question_text(m, d->self_id, &q->len);
	q->log_text = dp_private_text(q->text, q->len);
	if (d->qs_tail)
		d->qs_tail->next = q;
	else
		d->qs = q;
	d->qs_tail = q;
}

static void
enqueue_reply(struct discord *d, const struct question *q, const char *reply)
{
	size_t n;
	struct dp_span *sp = dp_split(reply, strlen(reply), DP_MSG_MAX_CP, &n);
	if (n == 0) {
		log_warn("message %s: the reply is empty; nothing sent", q->id);
		free(sp);
		return;
	}
	if (n > DP_CHUNKS_MAX) {
		log_warn("message %s: reply cut to %d messages (of %zu)", q->id, DP_CHUNKS_MAX, n);
		n = DP_CHUNKS_MAX;
	}
	struct chan *c = chan_get(d, q->channel_id);
	char *url = xasprintf("%s/channels/%s/messages", d->api, q->channel_id);
	for (size_t i = 0; i < n; i++) {
		char *body = dp_reply_json(reply + sp[i].off, sp[i].len, q->id, (unsigned)i);
		if (body == NULL)
			break; /* cannot happen: ids and chunk counts are bounded */
		struct job *j = xcalloc(1, sizeof *j);
		memcpy(j->msg_id, q->id, sizeof j->msg_id);
		memcpy(j->channel_id, q->channel_id, sizeof j->channel_id);
		j->chunk = (unsigned)i;
		j->nchunks = (unsigned)n;
		j->req = http_req_new(1, url);
		j->req->body = body;
		j->req->body_len = strlen(body);
		j->req->timeout_ms = REST_TIMEOUT_MS;
		j->req->user = j;
		http_req_header(j->req, d->auth);
		http_req_header(j->req, USER_AGENT);
		http_req_header(j->req, "Content-Type: application/json");
		if (c->tail)
			c->tail->next = j;
		else
			c->head = j;
		c->tail = j;
		if (++d->njobs > d->njobs_peak)
			d->njobs_peak = d->njobs;
	}
	free(url);
	free(sp);
}

/* Answer queued questions for at most ANSWER_BUDGET_MS. */
static void
answer_some(struct discord *d)
{
	uint64_t start = sys_now_ms();
	while (d->qs && sys_now_ms() - start < ANSWER_BUDGET_MS) {
		struct question *q = d->qs;
		d->qs = q->next;
		if (d->qs == NULL)
			d->qs_tail = NULL;
		char *reply = bot_answer(d->b, &d->b->ac, q->text, q->len, q->log_text);
		log_debug("message %s in channel %s answered (%zu bytes)", q->id, q->channel_id,
			  strlen(reply));
		enqueue_reply(d, q, reply);
		free(reply);
		free(q->text);
		free(q->log_text);
		free(q);
	}
}

static void
job_free(struct discord *d, struct job *j)
{
	http_req_free(j->req);
	free(j);
	if (--d->njobs == 0 && d->njobs_peak >= TRIM_AFTER_JOBS) {
		d->njobs_peak = 0;
		malloc_trim(0); /* a burst is over: glibc keeps freed pages otherwise */
	}
}

/* Remove the head job of c, and when it failed, the rest of that reply. */
static void
pop_job(struct discord *d, struct chan *c, int failed)
{
	struct job *j = c->head;
	c->head = j->next;
	size_t dropped = 0;
	while (failed && c->head && strcmp(c->head->msg_id, j->msg_id) == 0) {
		struct job *k = c->head;
		c->head = k->next;
		job_free(d, k);
		dropped++;
	}
	if (c->head == NULL)
		c->tail = NULL;
	if (dropped)
		log_error("message %s: %zu more part%s of the reply not sent", j->msg_id, dropped,
			  dropped == 1 ? "" : "s");
	job_free(d, j);
}

static void
submit_ready_jobs(struct discord *d, uint64_t now)
{
	for (struct chan **pp = &d->chans; *pp;) {
		struct chan *c = *pp;
		if (c->head == NULL && now >= c->blocked_until) {
			/* idle: forget it, so one entry per DM ever seen does not pile up */
			*pp = c->next;
			free(c);
			continue;
		}
		pp = &c->next;
		struct job *j = c->head;
		if (now < d->global_until || j == NULL || j->inflight || now < j->not_before ||
		    now < c->blocked_until)
			continue;
		http_req_reset(j->req);
		j->inflight = 1;
		http_submit(d->http, j->req);
	}
}

/* Short, printable excerpt of a response body for the log. */
static void
excerpt(const struct strbuf *s, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; s->s && i < s->len && k + 1 < n; i++)
		out[k++] = (s->s[i] >= 0x20 && s->s[i] < 0x7f) ? s->s[i] : ' ';
	out[k] = '\0';
}

static void
on_reply_done(struct discord *d, struct job *j, uint64_t now)
{
	struct http_req *r = j->req;
	struct chan *c = chan_get(d, j->channel_id);
	j->inflight = 0;
	struct dp_ratelimit rl;
	dp_parse_ratelimit(r->hdrs.s ? r->hdrs.s : "", r->hdrs.len, &rl);
	if (rl.has_remaining && rl.remaining == 0 && rl.reset_after >= 0) {
		c->blocked_until = now + (uint64_t)(rl.reset_after * 1000.0);
		log_debug("channel %s: rate-limit bucket %s empty for %.3f s", c->id, rl.bucket,
			  rl.reset_after);
	}
	char body[200];
	if (r->status >= 200 && r->status < 300) {
		log_debug("replied to message %s (part %u/%u) in %.3f s", j->msg_id, j->chunk + 1,
			  j->nchunks, (double)r->ms / 1000.0);
		pop_job(d, c, 0);
		return;
	}
	if (r->status == 429) {
		int global = 0;
		double ra = dp_parse_retry_after(r->resp.s ? r->resp.s : "", r->resp.len, &global);
		if (ra < 0)
			ra = rl.retry_after >= 0 ? rl.retry_after : 1.0;
		global |= rl.global;
		uint64_t until = now + (uint64_t)(ra * 1000.0) + 1;
		if (global)
			d->global_until = until;
		else
			c->blocked_until = until;
		if (++j->limited <= REST_MAX_429) {
			log_warn("rate limited%s on channel %s; retrying message %s in %.3f s",
				 global ? " (global)" : "", c->id, j->msg_id, ra);
			return;
		}
		log_error("reply to message %s in channel %s failed: still rate limited after %d "
			  "tries; the question went unanswered",
			  j->msg_id, c->id, REST_MAX_429);
		pop_job(d, c, 1);
		return;
	}
	if (r->status == 0 || r->status >= 500) {
		if (++j->attempts < REST_MAX_ATTEMPTS) {
			unsigned delay = dp_backoff_ms(j->attempts - 1, rnd(d)) / 2;
			if (r->status)
				log_warn("reply to message %s: HTTP %ld; retry %u in %.1f s",
					 j->msg_id, r->status, j->attempts, delay / 1000.0);
			else
				log_warn("reply to message %s: %s; retry %u in %.1f s", j->msg_id,
					 r->err, j->attempts, delay / 1000.0);
			j->not_before = now + delay;
			return;
		}
		log_error("reply to message %s in channel %s failed after %d tries (%s); the "
			  "question went unanswered",
			  j->msg_id, c->id, REST_MAX_ATTEMPTS,
			  r->status ? "server errors" : r->err);
		pop_job(d, c, 1);
		return;
	}
	excerpt(&r->resp, body, sizeof body);
	if (r->status == 401)
		log_error("reply to message %s in channel %s refused: HTTP 401, the token was "
			  "rejected (check DISCORD_TOKEN); the question went unanswered",
			  j->msg_id, c->id);
	else if (r->status == 403)
		log_error("reply to message %s in channel %s refused: HTTP 403, the bot may not "
			  "post there (check its permissions: View Channel, Send Messages, Read "
			  "Message History); the question went unanswered: %s",
			  j->msg_id, c->id, body);
	else
		log_error("reply to message %s in channel %s failed: HTTP %ld: %s; the question "
			  "went unanswered",
			  j->msg_id, c->id, r->status, body);
	pop_job(d, c, 1);
}

static void
drain_http(struct discord *d, uint64_t now)
{
	struct http_req *r;
	while ((r = http_done(d->http)) != NULL) {
		if (r == d->gw_req) {
			if (!d->stopping)
				on_gateway_bot(d, r, now);
			continue;
		}
		on_reply_done(d, r->user, now);
	}
}

/* ---- gateway events -------------------------------------------------------- */

static void
on_close(struct discord *d, const struct ws_event *ev, uint64_t now)
{
	const struct dp_close_rule *rule = dp_close_lookup(ev->code);
	if (d->st == GW_CONNECTING)
		connect_failed(d);
	if (rule->action == DP_CLOSE_FATAL) {
		log_error("%s (gateway close code %d)", rule->message, ev->code);
		d->exit_code = EXIT_REFUSED;
		d->stopping = 1;
		d->st = GW_WAIT;
		d->hb_next = 0;
		return;
	}
	if (d->st == GW_CONNECTING && !rule->our_bug && ev->code == 1006)
		log_warn("gateway: connection failed: %s", ev->reason);
	else if (rule->our_bug)
		log_error("gateway closed the connection: %d %s (%s)", ev->code, rule->message,
			  ev->reason);
	else
		log_warn("gateway closed the connection: %d %s%s%s", ev->code, rule->message,
			 ev->reason[0] ? ": " : "", ev->reason);
	if (d->stopping) {
		d->st = GW_WAIT;
		d->hb_next = 0;
		return;
	}
	if (rule->action == DP_CLOSE_NEW_SESSION)
		forget_session(d);
	schedule_reconnect(d, now, 0);
}

static void
on_frame(struct discord *d, const struct ws_event *wev, uint64_t now)
{
	if (wev->problem) {
		log_warn("gateway: dropped a frame of %zu bytes: %s", wev->len, wev->problem);
		return;
	}
	struct dp_event ev;
	char why[200];
	int rc = dp_parse_event(wev->data, wev->len, &ev, why, sizeof why);
	if (ev.seq > d->seq)
		d->seq = ev.seq;
	if (rc < 0) {
		for (char *p = why; *p; p++) /* the reason may quote the frame */
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		log_warn("gateway: dropped a malformed frame (%zu bytes): %s", wev->len, why);
		dp_event_free(&ev);
		return;
	}
	switch (ev.kind) {
	case DP_EV_HELLO:
		on_hello(d, &ev, now);
		break;
	case DP_EV_HEARTBEAT_REQ:
		/* answer at once, but a server spamming op 1 cannot make us break
		 * the send limit or starve our own heartbeats */
		if (dp_ratewin_used(&d->win, now) + GW_RESERVE < DP_GW_LIMIT)
			send_heartbeat(d);
		else
			log_debug("gateway: op 1 not answered: send budget reserved");
		break;
	case DP_EV_HEARTBEAT_ACK:
		d->hb_unacked_at = 0;
		break;
	case DP_EV_RECONNECT:
		log_info("gateway: asked to reconnect (op 7)");
		drop_connection(d, now, 4000, "reconnect", 0);
		break;
	case DP_EV_INVALID_SESSION:
		if (ev.resumable && d->session_id) {
			log_warn("gateway: invalid session (resumable); resuming");
			drop_connection(d, now, 4000, "resume", 0);
		} else {
			log_warn("gateway: invalid session; starting a new one");
			forget_session(d);
			drop_connection(d, now, 1000, "new session", 1000 + rnd(d) % 4001);
		}
		break;
	case DP_EV_READY:
		on_ready(d, &ev, now);
		break;
	case DP_EV_RESUMED:
		log_info("gateway: RESUMED at seq %lld", d->seq);
		session_up(d, now);
		break;
	case DP_EV_MESSAGE:
		on_message(d, &ev.msg);
		break;
	case DP_EV_DISPATCH_OTHER:
		log_debug("gateway: %s ignored", ev.name);
		break;
	case DP_EV_OP_OTHER:
		log_debug("gateway: op %d ignored", ev.op);
		break;
	}
	dp_event_free(&ev);
}

static void
drain_ws(struct discord *d, uint64_t now)
{
	struct ws_event ev;
	while (ws_next_event(d->ws, &ev)) {
		switch (ev.type) {
		case WS_EV_OPEN:
			log_debug("gateway: websocket open");
			break;
		case WS_EV_MESSAGE:
			if (!d->closing)
				on_frame(d, &ev, now);
			break;
		case WS_EV_CLOSED:
			on_close(d, &ev, now);
			break;
		}
		ws_event_free(&ev);
	}
}

/* ---- timers -------------------------------------------------------------- */

static uint64_t
min_deadline(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

static void
run_timers(struct discord *d, uint64_t now)
{
	if (d->reconnect_at && now >= d->reconnect_at && !d->stopping)
		connect_gateway(d, now);
	if ((d->st == GW_CONNECTING || d->st == GW_HANDSHAKE) && d->state_deadline &&
	    now >= d->state_deadline) {
		log_warn("gateway: no %s in time; reconnecting",
			 d->st == GW_CONNECTING ? "HELLO" : "READY");
		if (d->st == GW_CONNECTING)
			connect_failed(d);
		d->state_deadline = 0;
		drop_connection(d, now, 4000, "timeout", 0);
	}
	if (d->hb_next && now >= d->hb_next && ws_active(d->ws)) {
		/* a heartbeat sent at least half an interval ago and never ACKed:
		 * the connection is a zombie (a younger one answered an op 1) */
		if (d->hb_unacked_at && now - d->hb_unacked_at >= d->hb_ms / 2) {
			log_warn("gateway: no heartbeat ACK; the connection is a zombie; "
				 "reconnecting to resume");
			drop_connection(d, now, 4000, "zombie", 0);
		} else {
			if (d->hb_unacked_at == 0)
				send_heartbeat(d);
			d->hb_next = now + d->hb_ms;
		}
	}
}

static void
log_unsent(struct discord *d)
{
	for (struct question *q = d->qs; q; q = q->next)
		log_warn("shutting down: message %s in channel %s not answered", q->id,
			 q->channel_id);
	for (struct chan *c = d->chans; c; c = c->next) {
		const char *last = "";
		for (struct job *j = c->head; j; j = j->next) {
			if (strcmp(j->msg_id, last) != 0)
				log_warn(
				    "shutting down: reply to message %s in channel %s not sent%s",
				    j->msg_id, c->id,
				    j->inflight ? " (no answer from Discord yet)" : "");
			last = j->msg_id;
		}
	}
}

static void
free_all(struct discord *d)
{
	while (d->qs) {
		struct question *q = d->qs;
		d->qs = q->next;
		free(q->text);
		free(q->log_text);
		free(q);
	}
	while (d->chans) {
		struct chan *c = d->chans;
		d->chans = c->next;
		while (c->head) {
			struct job *j = c->head;
			c->head = j->next;
			job_free(d, j);
		}
		free(c);
	}
	out_clear(d);
	http_req_free(d->gw_req);
	free(d->gateway_url);
	forget_session(d);
	dp_seen_free(&d->seen);
	free(d->api);
	if (d->auth) {
		memset(d->auth, 0, strlen(d->auth));
		free(d->auth);
	}
}

/* The stop sequence: stop reading, let replies go for a while, close 1000. */
static int
stop_step(struct discord *d, uint64_t now)
{
	if (!d->stop_at) {
		d->stop_at = now + STOP_GRACE_MS;
		d->reconnect_at = 0;
		if (d->st != GW_READY && ws_active(d->ws))
			ws_close(d->ws, 1000, "shutting down");
		if (d->exit_code == EXIT_OK)
			log_info("stopping: %zu reply message%s still to send", d->njobs,
				 d->njobs == 1 ? "" : "s");
	}
	if (!d->closing) {
		if ((d->njobs > 0 || d->qs) && now < d->stop_at)
			return 0;
		log_unsent(d);
		d->closing = 1;
		d->close_deadline = now + CLOSE_GRACE_MS;
		d->hb_next = 0;
		if (ws_active(d->ws))
			ws_close(d->ws, 1000, "shutting down");
	}
	return ws_idle(d->ws) || now >= d->close_deadline;
}

static int
discord_run(struct bot *b)
{
	struct discord dd, *d = &dd;
	memset(d, 0, sizeof *d);
	d->b = b;
	d->seq = -1;
	d->token = cfg_get(b->cfg, CFG_DISCORD_TOKEN);
	d->channels = cfg_get(b->cfg, CFG_DISCORD_CHANNELS);
	const char *api = cfg_get(b->cfg, CFG_DISCORD_API_BASE);
	if (d->token == NULL || api == NULL) {
		log_error(
		    "DISCORD_TOKEN and DISCORD_API_BASE must be set for the discord platform");
		return EXIT_CONFIG;
	}
	size_t al = strlen(api);
	while (al && api[al - 1] == '/')
		al--;
	d->api = xstrndup(api, al);
	d->auth = xasprintf("Authorization: Bot %s", d->token);
	sys_random(&d->rng, sizeof d->rng);
	int rc = EXIT_FAIL;
	char *cause = NULL;
	d->ws = ws_new(GW_MAX_MESSAGE, &cause);
	if (d->ws == NULL)
		goto fail;
	d->http = http_new(http_wake, d, &cause);
	if (d->http == NULL)
		goto fail;

	d->exit_code = EXIT_OK;
	fetch_gateway(d);
	bot_ready(b);
	bot_status(b, "connecting to Discord");
	for (;;) {
		uint64_t now = sys_now_ms();
		if (bot_stop_requested && !d->stopping) {
			log_info("stop requested");
			d->stopping = 1;
		}
		if (bot_reload_requested || now - d->last_tick >= TICK_MS) {
			bot_tick(b);
			d->last_tick = now;
		}
		if (d->stopping && stop_step(d, now))
			break;
		if (!d->closing)
			run_timers(d, now);
		answer_some(d);
		submit_ready_jobs(d, now);
		uint64_t out_wait = d->closing ? 0 : out_flush(d, now);

		/* sleep until the next thing to do */
		uint64_t next = d->last_tick + TICK_MS;
		next = min_deadline(next, d->closing ? 0 : d->reconnect_at);
		next = min_deadline(next, d->closing ? 0 : d->hb_next);
		next = min_deadline(next, d->state_deadline);
		next = min_deadline(next, out_wait ? now + out_wait : 0);
		next = min_deadline(next, d->stop_at);
		next = min_deadline(next, d->close_deadline);
		if (now < d->global_until) {
			next = min_deadline(next, d->global_until);
		} else {
			for (struct chan *c = d->chans; c; c = c->next) {
				if (c->head == NULL || c->head->inflight)
					continue;
				uint64_t t = c->head->not_before > c->blocked_until
						 ? c->head->not_before
						 : c->blocked_until;
				next = min_deadline(next, t > now ? t : now);
			}
		}
		if (d->qs)
			next = now;
		ws_service(d->ws, next > now ? (unsigned)(next - now) : 0);
		now = sys_now_ms();
		drain_ws(d, now);
		drain_http(d, now);
	}
	rc = d->exit_code;
	log_info("stopped (exit status %d)", rc);
fail:
	if (cause) {
		log_error("discord: %s", cause);
		free(cause);
	}
	http_free(d->http); /* before ws_free: the worker wakes the ws loop */
	ws_free(d->ws);
	free_all(d);
	return rc;
}

const struct adapter_ops adapter_discord = {"discord", discord_run};
