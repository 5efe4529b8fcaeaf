/*
 * adapter_discord: the bot on Discord, a network platform on the shared
 * loop (runtime.h).  It drives the gateway session (a ws client), the REST
 * workers (http) and its timers: GET /gateway/bot -> connect -> HELLO ->
 * IDENTIFY or RESUME -> READY / RESUMED; heartbeats with zombie detection;
 * close codes acted on through the table in discord_proto; reconnects with
 * capped, jittered backoff.  Messages it should answer become questions of
 * the shared outbox (conversation = channel); a reply becomes POSTs of at
 * most 2,000 characters, and each POST's HTTP outcome (429, rate-limit
 * headers, 5xx, 403) becomes an outcome for the outbox, which keeps the
 * order, the retries and the shutdown drain.  Payload parsing and policy
 * live in discord_proto; this file only sequences them.  It never logs the
 * token or a payload that carries it (IDENTIFY, RESUME, the Authorization
 * header).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "discord_proto.h"
#include "http.h"
#include "log.h"
#include "queue.h"
#include "runtime.h"
#include "sys.h"
#include "tls.h"
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
#define IDENTIFY_SPACING_MS 5000 /* max_concurrency 1: one IDENTIFY per 5 s */
#define GW_RESERVE 5             /* sends kept for our own heartbeats and IDENTIFY */
#define REPLYING_MAX 1024        /* replies on their way that may earn thumbs */
#define POSTED_MAX 4096          /* replies posted whose thumbs count */
#define THUMBS_MAX 4096          /* thumbs remembered, so each counts once */
#define PRESSED_MAX 256          /* button presses being answered */
#define ACK_TIMEOUT_MS 2500      /* a press must be acknowledged within 3 s */
/* Discord counts REST requests per second as they arrive: our window is a
 * fifth of a second longer, for the time between starting a request and its
 * arrival (a loaded machine, the network; a tenth was seen to fall short
 * under load: 51 arrived within one second) */
#define REST_WINDOW_MS 1200

enum gw_state {
	GW_WAIT,       /* nothing in progress; reconnect_at may be set */
	GW_FETCH,      /* GET /gateway/bot in flight */
	GW_CONNECTING, /* websocket connecting, waiting for HELLO */
	GW_HANDSHAKE,  /* IDENTIFY or RESUME sent, waiting for READY/RESUMED */
	GW_READY
};

/* A gateway payload waiting for the send window. */
struct gw_out {
	struct qlink link;
	char *text;
	int op;
};

struct discord {
	struct platform *p;
	struct ws *ws;
	struct http *http;
	struct tls_trust *trust; /* the CAs of both clients, once loaded */
	int tls_ready;           /* and the gateway's TLS vhost made */
	const char *token, *channels, *ca_file;
	char *api;  /* DISCORD_API_BASE without a trailing slash */
	char *auth; /* "Authorization: Bot <token>" */

	enum gw_state st;
	struct http_req *gw_req; /* GET /gateway/bot */
	int gw_inflight;         /* it belongs to the http module meanwhile */
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
	struct queue out; /* of gw_out */
	struct dp_ratewin win;

	uint64_t reconnect_at; /* 0: none */
	uint64_t state_deadline;
	unsigned attempts;
	uint64_t session_up_at;

	struct dp_seen seen;
	/* conversations (README: "Conversations"): ids only, bounded */
	struct dp_notes replying; /* question or press id -> the answer id its reply gives */
	struct dp_notes posted;   /* message id of a reply posted -> its answer id (thumbs) */
	struct dp_notes thumbs;   /* "message:user:1|0": thumbs already counted */
	struct dp_notes pressed;  /* press id -> the message its button was on (quoted) */
	int ack_tag;              /* http_req.user of a press's acknowledgement */
	int stopping;             /* no new questions, no reconnects */
	int closing;              /* final close sent */
	uint32_t rng;
};

static uint32_t
rnd(struct discord *d)
{
	return sys_jitter(&d->rng);
}

/* A REST worker finished a request (on its thread): wake the loop. */
static void
http_wake(void *arg)
{
	ws_loop_wake(arg);
}

/* ---- gateway sends -------------------------------------------------------- */

static void
out_clear(struct discord *d)
{
	struct qlink *l;
	while ((l = queue_pop(&d->out)) != NULL) {
		struct gw_out *o = queue_entry(l, struct gw_out, link);
		free(o->text);
		free(o);
	}
}

static void
gw_send(struct discord *d, int op, char *text)
{
	struct gw_out *o = xcalloc(1, sizeof *o);
	o->text = text;
	o->op = op;
	queue_push(&d->out, &o->link);
}

/* Send what the 120-per-minute window allows; returns ms until more may go. */
static uint64_t
out_flush(struct discord *d, uint64_t now)
{
	while (d->out.head) {
		uint64_t wait = dp_ratewin_wait(&d->win, now);
		if (wait)
			return wait;
		struct gw_out *o = queue_entry(d->out.head, struct gw_out, link);
		if (ws_send(d->ws, o->text, strlen(o->text)) < 0)
			return 0;
		dp_ratewin_note(&d->win, now);
		if (o->op == DP_OP_HEARTBEAT && d->hb_unacked_at == 0)
			d->hb_unacked_at = now ? now : 1;
		log_debug("gateway: sent op %d", o->op);
		queue_pop(&d->out);
		free(o->text);
		free(o);
	}
	return 0;
}

static void
send_heartbeat(struct discord *d)
{
	/* one heartbeat waiting is enough */
	for (struct qlink *l = d->out.head; l; l = l->next)
		if (queue_entry(l, struct gw_out, link)->op == DP_OP_HEARTBEAT)
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

/* The session (if any) is over: one held long enough resets the backoff. */
static void
session_ended(struct discord *d, uint64_t now)
{
	if (d->session_up_at && now - d->session_up_at >= SESSION_HELD_MS)
		d->attempts = 0;
	d->session_up_at = 0;
}

/* Connect again in delay ms (later if IDENTIFYs would come too close). */
static void
reconnect_in(struct discord *d, uint64_t now, unsigned delay)
{
	if (d->session_id == NULL && d->last_identify_at &&
	    now + delay < d->last_identify_at + IDENTIFY_SPACING_MS)
		delay = (unsigned)(d->last_identify_at + IDENTIFY_SPACING_MS - now);
	d->st = GW_WAIT;
	d->reconnect_at = now + delay;
	d->hb_next = 0;
	out_clear(d);
	platform_status(d->p, "reconnecting in %.1f s", delay / 1000.0);
}

/* Connect again after the backoff (at least min_ms). */
static void
schedule_reconnect(struct discord *d, uint64_t now, unsigned min_ms)
{
	session_ended(d, now);
	unsigned delay = sys_backoff_ms(d->attempts, rnd(d));
	if (d->attempts < 30)
		d->attempts++;
	reconnect_in(d, now, delay < min_ms ? min_ms : delay);
}

/* Drop the current connection (ours to close) and come back later. */
static void
drop_connection(struct discord *d, uint64_t now, int code, const char *why, unsigned min_ms)
{
	if (ws_active(d->ws))
		ws_close(d->ws, code, why);
	schedule_reconnect(d, now, min_ms);
}

/*
 * Load the trusted CAs (SSL_CERT_FILE, else the system's) for both clients,
 * once; the gateway's TLS vhost shares them.  0, or -1 with *cause.
 */
static int
need_tls(struct discord *d, char **cause)
{
	if (d->tls_ready)
		return 0;
	if (d->trust == NULL) {
		d->trust = tls_trust_new(d->ca_file, cause);
		if (d->trust == NULL)
			return -1;
		log_info("TLS: trusting the %zu certificate authorities in %s%s",
			 tls_trust_count(d->trust), tls_trust_file(d->trust),
			 d->ca_file ? " (SSL_CERT_FILE)" : "");
	}
	if (ws_loop_tls(platform_loop(d->p), d->trust, cause) < 0)
		return -1;
	d->tls_ready = 1;
	return 0;
}

static void
fetch_gateway(struct discord *d)
{
	if (d->gw_inflight)
		return; /* its answer is on its way */
	http_req_free(d->gw_req);
	char *url = xasprintf("%s/gateway/bot", d->api);
	d->gw_req = http_req_new(0, url);
	free(url);
	http_req_header(d->gw_req, d->auth);
	http_req_header(d->gw_req, USER_AGENT);
	d->gw_req->timeout_ms = REST_TIMEOUT_MS;
	http_submit(d->http, d->gw_req);
	d->gw_inflight = 1;
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
	char *cause = NULL;
	if (u.tls && need_tls(d, &cause) < 0) {
		log_error("gateway: %s", cause);
		free(cause);
		platform_fail(d->p, EXIT_FAIL, now);
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
		d->st = GW_WAIT;
		platform_fail(d->p, EXIT_REFUSED, now);
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
	platform_status(d->p, "connected, %zu answers", bot_answers(d->p->b));
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
	size_t len;
	char *text = dp_question_text(m, d->self_id, &len);
	char *log_text = dp_private_text(text, len);
	char key[DP_KEY_MAX];
	dp_memory_key(m, key);
	platform_ask(d->p, m->channel_id, key, m->id, text, len, log_text);
	free(text);
	free(log_text);
}

/*
 * A "did you mean" button pressed: acknowledge it at once (taking the
 * buttons off, so it is pressed once), then ask the choice's title in the
 * presser's conversation; its answer quotes the message with the buttons.
 */
static void
on_press(struct discord *d, const struct dp_interaction *ia)
{
	if (!dp_seen_add(&d->seen, ia->id)) {
		log_debug("button press %s already handled (replayed)", ia->id);
		return;
	}
	char *url = xasprintf("%s/interactions/%s/%s/callback", d->api, ia->id, ia->token);
	struct http_req *r = http_req_new(1, url);
	memset(url, 0, strlen(url)); /* it holds the interaction's token */
	free(url);
	r->body = dp_interaction_ack_json();
	r->body_len = strlen(r->body);
	r->timeout_ms = ACK_TIMEOUT_MS;
	r->user = &d->ack_tag;
	http_req_header(r, USER_AGENT);
	http_req_header(r, "Content-Type: application/json");
	http_submit(d->http, r);
	unsigned n;
	char id[DP_CUSTOM_ID_MAX], text[512];
	if (dp_parse_choice_id(ia->custom_id, &n, id, sizeof id) < 0) {
		log_debug("button press %s: not one of ours; acknowledged only", ia->id);
		return;
	}
	/* the title, as the web widget asks it (it also stands alone); the
	 * number if the knowledge no longer has the answer */
	snprintf(text, sizeof text, "%u", n);
	const struct knowledge *k = bot_knowledge(d->p->b);
	int e = id[0] ? knowledge_find(k, id) : -1;
	if (e >= 0)
		snprintf(text, sizeof text, "%s", k->entries[e].title.s);
	bot_knowledge_put(d->p->b, k);
	char key[DP_KEY_MAX];
	dp_memory_key_of(ia->guild_id, ia->channel_id, ia->user_id, key);
	dp_notes_put(&d->pressed, PRESSED_MAX, ia->id, ia->message_id);
	log_debug("button press %s in channel %s: choice %u", ia->id, ia->channel_id, n);
	platform_ask(d->p, ia->channel_id, key, ia->id, text, strlen(text), NULL);
}

/* A thumb on one of the bot's answers goes to the feedback log, once per
 * person, message and thumb. */
static void
on_reaction(struct discord *d, const struct dp_reaction *re)
{
	if (re->thumb < 0 || re->user_bot || strcmp(re->user_id, d->self_id) == 0)
		return;
	const char *answer = dp_notes_get(&d->posted, re->message_id);
	if (answer == NULL) {
		log_debug("reaction on message %s: not an answer of ours (or too old)",
			  re->message_id);
		return;
	}
	char key[DP_NOTE_KEY];
	snprintf(key, sizeof key, "%s:%s:%d", re->message_id, re->user_id, re->thumb);
	if (dp_notes_get(&d->thumbs, key))
		return;
	dp_notes_put(&d->thumbs, THUMBS_MAX, key, "");
	bot_feedback(d->p->b, answer, re->thumb, "discord");
}

/* The reply as POST bodies of at most 2,000 characters each; the choices
 * of a "did you mean" as buttons under its last part. */
static void
discord_reply(struct platform *p, struct outbox *ob, const struct ob_question *q,
	      const struct chat_reply *r)
{
	struct discord *d = p->state;
	const char *text = r->text;
	size_t n;
	struct dp_span *sp = dp_split(text, strlen(text), DP_MSG_MAX_CP, &n);
	if (n == 0)
		log_warn("message %s: the reply is empty; nothing sent", q->msg_id);
	if (n > DP_CHUNKS_MAX) {
		log_warn("message %s: reply cut to %d messages (of %zu)", q->msg_id, DP_CHUNKS_MAX,
			 n);
		n = DP_CHUNKS_MAX;
	}
	/* an answer given (not small talk, not under an emergency) may earn thumbs */
	if (r->intent && !r->small_talk &&
	    !(r->level && (strcmp(r->level, "crisis") == 0 || strcmp(r->level, "emergency") == 0)))
		dp_notes_put(&d->replying, REPLYING_MAX, q->msg_id, r->intent);
	struct dp_choice ch[MATCH_CHOICES];
	for (size_t i = 0; i < r->nchoices && i < MATCH_CHOICES; i++) {
		ch[i].n = (unsigned)i + 1;
		ch[i].id = r->choices[i].id;
		ch[i].title = r->choices[i].title;
	}
	const char *ref = dp_notes_get(&d->pressed, q->msg_id);
	for (size_t i = 0; i < n; i++) {
		size_t nb = i + 1 == n ? r->nchoices : 0;
		char *body = dp_reply_json_ex(text + sp[i].off, sp[i].len, q->msg_id, (unsigned)i,
					      ref, ch, nb);
		if (body == NULL)
			break; /* cannot happen: ids and chunk counts are bounded */
		outbox_part(ob, q, (unsigned)i, (unsigned)n, body, strlen(body));
	}
	free(sp);
}

static void
discord_send(struct platform *p, struct ob_item *it)
{
	struct discord *d = p->state;
	char *url = xasprintf("%s/channels/%s/messages", d->api, it->conv_id);
	struct http_req *r = http_req_new(1, url);
	free(url);
	r->body = xstrndup(it->body, it->len);
	r->body_len = it->len;
	r->timeout_ms = REST_TIMEOUT_MS;
	r->user = it;
	http_req_header(r, d->auth);
	http_req_header(r, USER_AGENT);
	http_req_header(r, "Content-Type: application/json");
	it->handle = r;
	http_submit(d->http, r);
}

/* Given up while in flight: its answer, when it comes, goes nowhere. */
static void
discord_cancel(struct platform *p, struct ob_item *it)
{
	(void)p;
	((struct http_req *)it->handle)->user = NULL;
}

/* What the answer to a reply POST means for the outbox. */
static void
reply_done(struct discord *d, struct http_req *r, struct ob_item *it, uint64_t now)
{
	struct ob_result res = {OB_SENT, 0, 0, 0, NULL};
	struct dp_ratelimit rl;
	dp_parse_ratelimit(r->hdrs.s ? r->hdrs.s : "", r->hdrs.len, &rl);
	if (rl.has_remaining && rl.remaining == 0 && rl.reset_after >= 0) {
		res.hold_ms = (uint64_t)(rl.reset_after * 1000.0);
		log_debug("channel %s: rate-limit bucket %s empty for %.3f s", it->conv_id,
			  rl.bucket, rl.reset_after);
	}
	char body[200], why[400];
	char *plain;
	if (r->status >= 200 && r->status < 300) {
		log_debug("reply to message %s (part %u/%u) posted in %.3f s", it->msg_id,
			  it->part + 1, it->nparts, (double)r->ms / 1000.0);
		const char *answer = dp_notes_get(&d->replying, it->msg_id);
		char mid[DP_ID_MAX];
		if (answer &&
		    dp_parse_created_id(r->resp.s ? r->resp.s : "", r->resp.len, mid) == 0)
			dp_notes_put(&d->posted, POSTED_MAX, mid, answer);
	} else if (r->status == 400 &&
		   (plain = dp_reply_without_buttons(it->body, it->len)) != NULL) {
		/* buttons refused (a form Discord no longer takes): the
		 * typed choice still works, so send the text alone */
		log_warn("reply to message %s: Discord refused its buttons (HTTP %ld); sending it "
			 "without them",
			 it->msg_id, r->status);
		outbox_rebody(it, plain, strlen(plain));
		res.outcome = OB_RETRY;
		snprintf(why, sizeof why, "HTTP %ld with buttons", r->status);
		res.why = why;
	} else if (r->status == 429) {
		int global = 0;
		double ra = dp_parse_retry_after(r->resp.s ? r->resp.s : "", r->resp.len, &global);
		if (ra < 0)
			ra = rl.retry_after >= 0 ? rl.retry_after : 1.0;
		res.outcome = OB_LIMITED;
		res.retry_ms = (uint64_t)(ra * 1000.0) + 1;
		res.global = global || rl.global;
	} else if (r->status == 0 || r->status >= 500) {
		res.outcome = OB_RETRY;
		if (r->status)
			snprintf(why, sizeof why, "HTTP %ld", r->status);
		else
			snprintf(why, sizeof why, "%s", r->err);
		res.why = why;
	} else {
		res.outcome = OB_REFUSED;
		/* an excerpt of what Discord said, fit for the log */
		log_clean(body, sizeof body, r->resp.s ? r->resp.s : "", r->resp.len);
		if (r->status == 401)
			snprintf(why, sizeof why,
				 "refused: HTTP 401, the token was rejected (check DISCORD_TOKEN)");
		else if (r->status == 403)
			snprintf(
			    why, sizeof why,
			    "refused: HTTP 403, the bot may not post there (check its "
			    "permissions: View Channel, Send Messages, Read Message History): %s",
			    body);
		else
			snprintf(why, sizeof why, "failed: HTTP %ld: %s", r->status, body);
		res.why = why;
	}
	platform_done(d->p, it, &res, now);
}

static void
drain_http(struct discord *d, uint64_t now)
{
	struct http_req *r;
	while ((r = http_done(d->http)) != NULL) {
		if (r == d->gw_req) {
			d->gw_inflight = 0;
			if (!d->stopping)
				on_gateway_bot(d, r, now);
			continue;
		}
		if (r->user == &d->ack_tag) {
			if (r->status == 0)
				log_warn("a button press could not be acknowledged: %s", r->err);
			else if (r->status >= 300)
				log_warn("a button press could not be acknowledged: HTTP %ld",
					 r->status);
		} else if (r->user) {
			reply_done(d, r, r->user, now);
		}
		http_req_free(r);
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
		d->st = GW_WAIT;
		d->hb_next = 0;
		platform_fail(d->p, EXIT_REFUSED, now);
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
			if (ws_active(d->ws))
				ws_close(d->ws, 1000, "new session");
			session_ended(d, now);
			/* Discord's 1-5 s, however many reconnects came before */
			reconnect_in(d, now, 1000 + rnd(d) % 4001);
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
	case DP_EV_INTERACTION:
		if (!d->stopping)
			on_press(d, &ev.ia);
		break;
	case DP_EV_REACTION:
		on_reaction(d, &ev.re);
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

/* ---- the platform ------------------------------------------------------------ */

static unsigned
discord_fds(const struct config *cfg)
{
	(void)cfg;
	return 16; /* the gateway, its resolver, the REST workers' connections */
}

static int
is_https(const char *url)
{
	return strncmp(url, "https://", 8) == 0;
}

static int
discord_check(const struct config *cfg, char **cause)
{
	if (cfg_get(cfg, CFG_DISCORD_TOKEN) == NULL) {
		*cause = xstrdup("DISCORD_TOKEN is not set but BOT_PLATFORM includes discord");
		return -1;
	}
	/* the trusted CAs must be readable; loading them waits for the start */
	const char *ca = cfg_get(cfg, CFG_SSL_CERT_FILE);
	if (is_https(cfg_get(cfg, CFG_DISCORD_API_BASE)) &&
	    access(ca ? ca : tls_default_file(), R_OK) < 0) {
		*cause = ca ? xasprintf("SSL_CERT_FILE (from %s) %s: %s",
					cfg->origin[CFG_SSL_CERT_FILE], ca, strerror(errno))
			    : xasprintf("the system's trusted certificates %s: %s (install "
					"ca-certificates, or set SSL_CERT_FILE)",
					tls_default_file(), strerror(errno));
		return -1;
	}
	return 0;
}

static void
discord_free(struct platform *p)
{
	struct discord *d = p->state;
	if (d == NULL)
		return;
	/* the workers first: they wake the loop, and hold requests */
	http_free(d->http);
	tls_trust_free(d->trust);
	ws_free(d->ws);
	out_clear(d);
	if (!d->gw_inflight)
		http_req_free(d->gw_req);
	free(d->gateway_url);
	forget_session(d);
	dp_seen_free(&d->seen);
	dp_notes_free(&d->replying);
	dp_notes_free(&d->posted);
	dp_notes_free(&d->thumbs);
	dp_notes_free(&d->pressed);
	free(d->api);
	if (d->auth) {
		memset(d->auth, 0, strlen(d->auth));
		free(d->auth);
	}
	free(d);
	p->state = NULL;
}

static int
discord_start(struct platform *p, char **cause)
{
	struct discord *d = xcalloc(1, sizeof *d);
	p->state = d;
	d->p = p;
	d->seq = -1;
	const struct config *cfg = p->b->cfg;
	d->token = cfg_get(cfg, CFG_DISCORD_TOKEN);
	d->channels = cfg_get(cfg, CFG_DISCORD_CHANNELS);
	d->ca_file = cfg_get(cfg, CFG_SSL_CERT_FILE);
	const char *api = cfg_get(cfg, CFG_DISCORD_API_BASE);
	size_t al = strlen(api);
	while (al && api[al - 1] == '/')
		al--;
	d->api = xstrndup(api, al);
	d->auth = xasprintf("Authorization: Bot %s", d->token);
	sys_random(&d->rng, sizeof d->rng);
	d->ws = ws_new(platform_loop(p), GW_MAX_MESSAGE);
	if (is_https(d->api) && need_tls(d, cause) < 0)
		goto fail;
	struct http_opts ho = {d->trust, HTTP_PARALLEL,
			       (unsigned)atoi(cfg_get(cfg, CFG_DISCORD_REST_RATE)), REST_WINDOW_MS};
	d->http = http_new(&ho, http_wake, platform_loop(p), cause);
	if (d->http == NULL)
		goto fail;
	fetch_gateway(d);
	platform_status(p, "connecting to Discord");
	return 0;
fail:
	discord_free(p);
	return -1;
}

static uint64_t
discord_step(struct platform *p, uint64_t now)
{
	struct discord *d = p->state;
	drain_ws(d, now);
	drain_http(d, now);
	if (!d->closing)
		run_timers(d, now);
	uint64_t out_wait = d->closing ? 0 : out_flush(d, now);
	uint64_t next = out_wait ? now + out_wait : 0;
	if (!d->closing) {
		next = sys_sooner(next, d->reconnect_at);
		next = sys_sooner(next, d->hb_next);
	}
	return sys_sooner(next, d->state_deadline);
}

static void
discord_stop(struct platform *p, uint64_t now)
{
	(void)now;
	struct discord *d = p->state;
	d->stopping = 1;
	d->reconnect_at = 0;
	if (d->st != GW_READY && ws_active(d->ws))
		ws_close(d->ws, 1000, "shutting down");
}

static int
discord_close(struct platform *p, uint64_t now)
{
	(void)now;
	struct discord *d = p->state;
	if (!d->closing) {
		d->closing = 1;
		d->hb_next = 0;
		d->state_deadline = 0;
		if (ws_active(d->ws))
			ws_close(d->ws, 1000, "shutting down");
	}
	return ws_idle(d->ws);
}

const struct adapter_ops adapter_discord = {
    .name = "discord",
    .where = "channel",
    .auto_var = CFG_DISCORD_TOKEN,
    .check = discord_check,
    .fds = discord_fds,
    .start = discord_start,
    .step = discord_step,
    .reply = discord_reply,
    .send = discord_send,
    .cancel = discord_cancel,
    .stop = discord_stop,
    .close = discord_close,
    .free = discord_free,
};
