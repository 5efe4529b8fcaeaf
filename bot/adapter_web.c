/*
 * adapter_web: the bot on the clinic's web site, a network platform on the
 * shared loop (runtime.h).  One server (ws.h) on WEB_LISTEN serves the demo
 * page (/), the widget (/widget.js), both embedded in the binary at build
 * time (web_assets.h), /healthz, and the chat websocket (/chat), whose
 * frames are README "Web chat protocol" (web_proto.h).
 *
 * Each websocket is one chat and one conversation of the shared outbox
 * ("chat w<slot>.<n>"): its questions are answered in order, and a reply
 * for a chat that has gone is dropped with an info line (the widget asks
 * again after a reconnect).  What the internet may do is bounded by the
 * WEB_* variables: which pages may open a chat (Origin), chats in all and
 * per client address (behind a trusted proxy, the address it forwards),
 * messages per 10 s per chat and per address, the size of a message, and
 * the time a connection may take to send its request or stay silent.
 * Refusals are counted and logged once a minute, so that a flood cannot
 * flood the log.  No visitor id, address or message text is logged beyond
 * the debug level; feedback goes to the feedback log as the answer's id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "hmap.h"
#include "log.h"
#include "runtime.h"
#include "sys.h"
#include "web_assets.h"
#include "web_proto.h"
#include "ws.h"
#include "xmem.h"

#define CHAT_PATH "/chat"
#define WINDOW_MS 10000        /* the rate limits' window */
#define RECENT_MAX 16          /* answers per chat that a thumb may still rate */
#define MAX_QUEUED (128 << 10) /* bytes of replies a chat has not read: then closed */
#define ABUSE_FACTOR 3         /* messages past this many times the limit: closed */
#define BUSY_MAX 64            /* chats let in only to be told the bot is full */
#define ADDR_BUCKETS 1024
#define REPORT_MS 60000 /* refusals are logged at most once a minute */
#define HTTP_SLACK 64   /* sockets beyond the chats: page loads, handshakes */

#define CSP                                                                                        \
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                \
	"connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; "                     \
	"form-action 'none'; frame-ancestors 'none'"

/* The files served, from bot/web/ (embedded). */
static const struct page {
	const char *path, *asset, *type, *cache;
	int csp;
} pages[] = {
    {"/", "index.html", "text/html; charset=utf-8", "no-cache", 1},
    {"/index.html", "index.html", "text/html; charset=utf-8", "no-cache", 1},
    {"/widget.js", "widget.js", "text/javascript; charset=utf-8", "public, max-age=300", 0},
};
#define NPAGES (sizeof pages / sizeof pages[0])

/* What was refused since the last report (a flood gets one line a minute). */
enum refusal { R_ORIGIN, R_ADDRESS, R_FULL, R_RATE, R_ABUSE, R_BAD, R_COUNT };
static const char *const refusal_names[R_COUNT] = {
    "from an origin not in WEB_ALLOWED_ORIGINS",
    "past WEB_MAX_PER_ADDRESS",
    "past WEB_MAX_CONNECTIONS",
    "messages past the rate limits",
    "chats closed for flooding",
    "unreadable messages",
};

struct rate {
	uint64_t start; /* of the current window */
	unsigned n;
};

/* A client address (after the trusted proxies) and what it holds. */
struct addr {
	struct addr *next;
	uint64_t hash;
	unsigned chats;
	struct rate rate;
	char ip[WEB_ADDR_MAX];
};

/* An answer given in a chat, which a thumb may rate once. */
struct recent {
	char id[WEB_ID_MAX];
	char *intent;
	int rated;
};

struct chat {
	struct chat *prev, *next; /* every chat (w->chats) */
	struct ws_peer *peer;
	struct addr *addr;
	unsigned slot; /* in w->slots; busy chats have none */
	char conv[24]; /* the outbox conversation, "" for a busy chat */
	int open, closing, busy;
	struct rate rate;
	unsigned refused; /* messages refused in its current window */
	struct recent recent[RECENT_MAX];
	unsigned nrecent; /* answers recorded, ever (the ring's next slot mod RECENT_MAX) */
};

struct served {
	const struct page *page;
	const unsigned char *data;
	size_t len;
	char etag[24];
};

struct web {
	struct platform *p;
	struct ws_server *srv;
	const char *origins, *proxies;
	unsigned max_chats, max_per_addr, msgs, addr_msgs, max_frame;
	struct chat *chats;  /* every chat, busy ones too */
	struct chat **slots; /* max_chats; NULL: free */
	unsigned free_hint;
	unsigned nchats, nbusy;
	unsigned long long serial; /* conversations ever */
	struct addr *buckets[ADDR_BUCKETS];
	size_t naddrs;
	struct served served[NPAGES];
	uint64_t started_ms, next_sweep, next_report;
	unsigned long refusals[R_COUNT];
	int stopping, closing;
	char health[256]; /* the /healthz body being sent */
};

/* ---- small pieces ------------------------------------------------------------- */

/* FNV-1a: an ETag that stays the same across restarts for the same file. */
static uint64_t
fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Count one more message in the window; 0 if within limit, else the ms
 * until the window ends. */
static uint64_t
rate_take(struct rate *r, unsigned limit, uint64_t now)
{
	if (now - r->start >= WINDOW_MS) {
		r->start = now;
		r->n = 0;
	}
	if (r->n >= limit)
		return r->start + WINDOW_MS - now;
	r->n++;
	return 0;
}

static void
refused(struct web *w, enum refusal why)
{
	w->refusals[why]++;
}

/* One line a minute about what was refused. */
static void
report_refusals(struct web *w, uint64_t now)
{
	if (now < w->next_report)
		return;
	w->next_report = now + REPORT_MS;
	char line[512] = "";
	size_t off = 0;
	for (int i = 0; i < R_COUNT; i++) {
		if (w->refusals[i] && off < sizeof line)
			off += (size_t)snprintf(line + off, sizeof line - off, "%s%lu %s",
						off ? ", " : "", w->refusals[i], refusal_names[i]);
		w->refusals[i] = 0;
	}
	if (off)
		log_warn("web: refused in the last minute: %s", line);
}

static void
send_frame(struct chat *c, char *json)
{
	if (c->peer && !c->closing)
		ws_peer_send(c->peer, json, strlen(json));
	free(json);
}

static void
send_error(struct chat *c, const char *id, const char *error, const char *message,
	   unsigned retry_ms)
{
	send_frame(c, web_error_json(id, error, message, retry_ms));
}

/* ---- client addresses ---------------------------------------------------------- */

static struct addr *
addr_get(struct web *w, const char *ip)
{
	uint64_t h = hmap_hash(ip, strlen(ip));
	struct addr **pp = &w->buckets[h & (ADDR_BUCKETS - 1)];
	for (struct addr *a = *pp; a; a = a->next)
		if (a->hash == h && strcmp(a->ip, ip) == 0)
			return a;
	struct addr *a = xcalloc(1, sizeof *a);
	a->hash = h;
	snprintf(a->ip, sizeof a->ip, "%s", ip);
	a->next = *pp;
	*pp = a;
	w->naddrs++;
	return a;
}

/* Forget the addresses that hold no chat and whose window is over. */
static void
addr_sweep(struct web *w, uint64_t now, int all)
{
	for (size_t i = 0; i < ADDR_BUCKETS; i++)
		for (struct addr **pp = &w->buckets[i]; *pp;) {
			struct addr *a = *pp;
			if (all || (a->chats == 0 && now - a->rate.start >= WINDOW_MS)) {
				*pp = a->next;
				free(a);
				w->naddrs--;
			} else {
				pp = &a->next;
			}
		}
}

/* ---- chats ---------------------------------------------------------------------- */

static struct chat *
chat_of_conv(struct web *w, const char *conv)
{
	unsigned slot;
	if (sscanf(conv, "w%u.", &slot) != 1 || slot >= w->max_chats || w->slots[slot] == NULL)
		return NULL;
	struct chat *c = w->slots[slot];
	return strcmp(c->conv, conv) == 0 ? c : NULL;
}

static void
chat_free(struct web *w, struct chat *c)
{
	c->addr->chats--;
	if (c->busy) {
		w->nbusy--;
	} else {
		w->slots[c->slot] = NULL;
		w->nchats--;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		w->chats = c->next;
	if (c->next)
		c->next->prev = c->prev;
	for (unsigned i = 0; i < RECENT_MAX; i++)
		free(c->recent[i].intent);
	free(c);
}

/* The answer given to ask id, for a thumb. */
static struct recent *
recent_find(struct chat *c, const char *id)
{
	for (unsigned i = 0; i < RECENT_MAX; i++)
		if (c->recent[i].intent && strcmp(c->recent[i].id, id) == 0)
			return &c->recent[i];
	return NULL;
}

static void
recent_add(struct chat *c, const char *id, const char *intent)
{
	struct recent *r = recent_find(c, id); /* asked again after a reconnect */
	if (r == NULL)
		r = &c->recent[c->nrecent++ % RECENT_MAX];
	free(r->intent);
	snprintf(r->id, sizeof r->id, "%.32s", id);
	r->intent = xstrdup(intent);
	r->rated = 0;
}

/* ---- HTTP ------------------------------------------------------------------------ */

static void
set_body(struct ws_response *out, int status, const char *type, const char *body)
{
	out->status = status;
	out->content_type = type;
	out->body = body;
	out->len = strlen(body);
}

/* The response to a request for anything but the websocket. */
static void
respond(void *arg, const struct ws_request *rq, struct ws_response *out)
{
	struct web *w = arg;
	size_t h = 0;
	out->headers[h][0] = "X-Content-Type-Options";
	out->headers[h++][1] = "nosniff";
	out->headers[h][0] = "Referrer-Policy";
	out->headers[h++][1] = "no-referrer";
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		out->headers[h][0] = "Allow";
		out->headers[h++][1] = "GET, HEAD";
		set_body(out, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
		return;
	}
	if (strcmp(rq->path, "/healthz") == 0) {
		char *body = w->health;
		snprintf(body, sizeof w->health,
			 "{\"status\":\"%s\",\"version\":\"%s\",\"answers\":%zu,\"uptime_s\":%llu,"
			 "\"chats\":%u}\n",
			 w->stopping ? "stopping" : "ok", MB_VERSION, bot_answers(w->p->b),
			 (unsigned long long)((sys_now_ms() - w->started_ms) / 1000), w->nchats);
		out->headers[h][0] = "Cache-Control";
		out->headers[h++][1] = "no-store";
		set_body(out, w->stopping ? 503 : 200, "application/json", body);
		return;
	}
	if (strcmp(rq->path, CHAT_PATH) == 0) {
		set_body(out, 426, "text/plain; charset=utf-8",
			 "this is the chat's websocket: connect with Upgrade: websocket\n");
		return;
	}
	for (size_t i = 0; i < NPAGES; i++) {
		const struct served *s = &w->served[i];
		if (strcmp(rq->path, s->page->path) != 0)
			continue;
		out->headers[h][0] = "Cache-Control";
		out->headers[h++][1] = s->page->cache;
		out->headers[h][0] = "ETag";
		out->headers[h++][1] = s->etag;
		if (s->page->csp) {
			out->headers[h][0] = "Content-Security-Policy";
			out->headers[h++][1] = CSP;
		}
		out->status = strcmp(rq->if_none_match, s->etag) == 0 ? 304 : 200;
		out->content_type = s->page->type;
		if (out->status == 200) {
			out->body = (const char *)s->data;
			out->len = s->len;
		}
		return;
	}
	set_body(out, 404, "text/plain; charset=utf-8", "not found\n");
}

/* A websocket upgrade on /chat: let in, or refuse (out). */
static void *
admit(void *arg, const struct ws_request *rq, struct ws_peer *peer, struct ws_response *out)
{
	struct web *w = arg;
	if (w->stopping) {
		set_body(out, 503, "text/plain; charset=utf-8", "the chat is restarting\n");
		return NULL;
	}
	if (!web_origin_allowed(w->origins, rq->origin, rq->host)) {
		log_debug("web: a chat from origin '%s' refused (WEB_ALLOWED_ORIGINS)", rq->origin);
		refused(w, R_ORIGIN);
		set_body(out, 403, "text/plain; charset=utf-8",
			 "this page may not open a chat (WEB_ALLOWED_ORIGINS)\n");
		return NULL;
	}
	char ip[WEB_ADDR_MAX];
	web_client_addr(w->proxies, rq->peer, rq->forwarded_for, ip, sizeof ip);
	struct addr *a = addr_get(w, ip);
	if (a->chats >= w->max_per_addr) {
		log_debug("web: a chat from %s refused: it has %u open", ip, a->chats);
		refused(w, R_ADDRESS);
		set_body(out, 429, "text/plain; charset=utf-8",
			 "too many chats from your address\n");
		return NULL;
	}
	int busy = w->nchats >= w->max_chats;
	if (busy && w->nbusy >= BUSY_MAX) {
		refused(w, R_FULL);
		set_body(out, 503, "text/plain; charset=utf-8", "the chat is full\n");
		return NULL;
	}
	struct chat *c = xcalloc(1, sizeof *c);
	c->peer = peer;
	c->addr = a;
	a->chats++;
	c->next = w->chats;
	if (w->chats)
		w->chats->prev = c;
	w->chats = c;
	if (busy) {
		c->busy = 1;
		w->nbusy++;
		refused(w, R_FULL);
		return c;
	}
	while (w->slots[w->free_hint])
		w->free_hint = (w->free_hint + 1) % w->max_chats;
	c->slot = w->free_hint;
	w->slots[c->slot] = c;
	w->nchats++;
	snprintf(c->conv, sizeof c->conv, "w%u.%llu", c->slot, ++w->serial);
	log_debug("web: chat %s opened from %s (%u open)", c->conv, ip, w->nchats);
	return c;
}

/* ---- frames from the widget -------------------------------------------------------- */

static void
on_ask(struct web *w, struct chat *c, struct web_frame *f)
{
	if (w->stopping) {
		send_error(c, f->id, "busy",
			   "The chat is restarting; your question will be sent again.", 2000);
		return;
	}
	send_frame(c, web_typing_json(f->id));
	char key[sizeof c->conv + 4]; /* the bot's memory of this chat (convo.h) */
	snprintf(key, sizeof key, "web:%s", c->conv);
	if (platform_ask(w->p, c->conv, key, f->id, f->text, f->len, NULL) < 0)
		send_error(c, f->id, "busy",
			   "Too many questions at once right now; trying again shortly.", 5000);
}

static void
on_feedback(struct web *w, struct chat *c, struct web_frame *f)
{
	struct recent *r = recent_find(c, f->id);
	if (r == NULL) {
		send_error(c, f->id, "bad_request",
			   "That answer is no longer known here, so the thumb was not recorded.",
			   0);
		return;
	}
	if (!r->rated) { /* once per answer: a second thumb changes nothing */
		r->rated = 1;
		bot_feedback(w->p->b, r->intent, f->helpful, "web");
	}
	send_frame(c, web_feedback_ok_json(f->id));
}

/* Is this message within the chat's and its address's limits?  If not,
 * it is refused (rate_limited), and a chat far past them is closed. */
static int
within_limits(struct web *w, struct chat *c, const char *id, uint64_t now)
{
	if (now - c->rate.start >= WINDOW_MS)
		c->refused = 0;
	uint64_t wait = rate_take(&c->rate, w->msgs, now);
	if (wait == 0 && (wait = rate_take(&c->addr->rate, w->addr_msgs, now)) != 0)
		c->rate.n--; /* not this chat's doing: its own budget stays */
	if (wait == 0)
		return 1;
	refused(w, R_RATE);
	if (++c->refused > ABUSE_FACTOR * w->msgs) {
		refused(w, R_ABUSE);
		c->closing = 1;
		ws_peer_close(c->peer, 1008, "too many messages");
		return 0;
	}
	send_error(c, id, "rate_limited",
		   "That is a lot of messages at once; please wait a moment.",
		   wait < 500 ? 500 : (unsigned)wait);
	return 0;
}

static void
on_message(struct web *w, struct chat *c, const struct ws_event *ev, uint64_t now)
{
	if (c->closing || c->busy)
		return;
	struct web_frame f;
	char why[128], msg[192];
	int ok = ev->data && web_parse_frame(ev->data, ev->len, &f, why, sizeof why) == 0;
	if (ev->data == NULL) {
		memset(&f, 0, sizeof f);
		snprintf(why, sizeof why, "only text messages (JSON) are understood");
	}
	if (!within_limits(w, c, f.id[0] ? f.id : NULL, now)) {
		web_frame_free(&f);
		return;
	}
	if (!ok) {
		refused(w, R_BAD);
		snprintf(msg, sizeof msg, "That message could not be read: %s.", why);
		send_error(c, f.id[0] ? f.id : NULL, "bad_request", msg, 0);
		return;
	}
	switch (f.type) {
	case WEB_FRAME_ASK:
		on_ask(w, c, &f);
		break;
	case WEB_FRAME_FEEDBACK:
		on_feedback(w, c, &f);
		break;
	case WEB_FRAME_OTHER:
		log_debug("web: chat %s: a frame of an unknown type ignored", c->conv);
		break;
	}
	web_frame_free(&f);
}

static void
drain(struct web *w, uint64_t now)
{
	struct ws_event ev;
	while (ws_server_next_event(w->srv, &ev)) {
		struct chat *c = ev.user;
		switch (ev.type) {
		case WS_EV_OPEN:
			c->open = 1;
			if (c->busy) {
				send_error(c, NULL, "busy",
					   "The chat is full right now; trying again shortly.",
					   10000);
				c->closing = 1;
				ws_peer_close(c->peer, 1013, "full");
			} else if (w->stopping) {
				c->closing = 1;
				ws_peer_close(c->peer, 1001, "restarting");
			} else {
				send_frame(c, web_hello_json(MB_VERSION, w->max_frame));
			}
			break;
		case WS_EV_MESSAGE:
			on_message(w, c, &ev, now);
			break;
		case WS_EV_CLOSED:
			log_debug("web: chat %s closed", c->conv[0] ? c->conv : "(busy)");
			chat_free(w, c);
			break;
		}
		ws_event_free(&ev);
	}
}

/* ---- the platform ------------------------------------------------------------------ */

static unsigned
web_fds(const struct config *cfg)
{
	return (unsigned)atoi(cfg_get(cfg, CFG_WEB_MAX_CONNECTIONS)) + BUSY_MAX + HTTP_SLACK;
}

static int
exempt(void *arg, const char *peer)
{
	struct web *w = arg;
	return web_is_proxy(w->proxies, peer);
}

static void
web_free(struct platform *p)
{
	struct web *w = p->state;
	if (w == NULL)
		return;
	ws_server_free(w->srv); /* no events follow: the chats are ours to free */
	while (w->chats)
		chat_free(w, w->chats);
	free(w->slots);
	addr_sweep(w, 0, 1);
	free(w);
	p->state = NULL;
}

static int
web_start(struct platform *p, char **cause)
{
	const struct config *cfg = p->b->cfg;
	struct web *w = xcalloc(1, sizeof *w);
	p->state = w;
	w->p = p;
	w->origins = cfg_get(cfg, CFG_WEB_ALLOWED_ORIGINS);
	w->proxies = cfg_get(cfg, CFG_WEB_TRUSTED_PROXY);
	w->max_chats = (unsigned)atoi(cfg_get(cfg, CFG_WEB_MAX_CONNECTIONS));
	w->max_per_addr = (unsigned)atoi(cfg_get(cfg, CFG_WEB_MAX_PER_ADDRESS));
	w->msgs = (unsigned)atoi(cfg_get(cfg, CFG_WEB_MESSAGES_PER_10S));
	w->addr_msgs = (unsigned)atoi(cfg_get(cfg, CFG_WEB_ADDRESS_MESSAGES_PER_10S));
	w->max_frame = (unsigned)atoi(cfg_get(cfg, CFG_WEB_MAX_FRAME));
	w->slots = xcalloc(w->max_chats, sizeof *w->slots);
	w->started_ms = sys_now_ms();
	for (size_t i = 0; i < NPAGES; i++) {
		struct served *s = &w->served[i];
		s->page = &pages[i];
		for (size_t j = 0; j < web_nassets; j++)
			if (strcmp(web_assets[j].name, pages[i].asset) == 0) {
				s->data = web_assets[j].data;
				s->len = web_assets[j].len;
			}
		if (s->data == NULL) {
			*cause = xasprintf("web: %s is not built into this binary", pages[i].asset);
			goto fail;
		}
		snprintf(s->etag, sizeof s->etag, "\"%016llx\"",
			 (unsigned long long)fnv1a(s->data, s->len));
	}
	char addr[WEB_ADDR_MAX], why[200];
	int port;
	const char *listen = cfg_get(cfg, CFG_WEB_LISTEN);
	if (web_parse_listen(listen, addr, sizeof addr, &port, why, sizeof why) < 0) {
		*cause = xasprintf("WEB_LISTEN %s", why); /* checked before: cannot happen */
		p->start_status = EXIT_CONFIG;
		goto fail;
	}
	struct ws_server_config sc = {
	    .iface = addr,
	    .port = port,
	    .ws_path = CHAT_PATH,
	    .max_message = w->max_frame,
	    .max_queued = MAX_QUEUED,
	    .handshake_s = (unsigned)atoi(cfg_get(cfg, CFG_WEB_HANDSHAKE_TIMEOUT)),
	    .idle_s = (unsigned)atoi(cfg_get(cfg, CFG_WEB_IDLE_TIMEOUT)),
	    /* chats, plus a browser's page loads */
	    .max_per_peer = w->max_per_addr + 8,
	    .exempt = exempt,
	    .respond = respond,
	    .admit = admit,
	    .arg = w,
	};
	char *err = NULL;
	w->srv = ws_server_new(platform_loop(p), &sc, &err);
	if (w->srv == NULL) {
		*cause = xasprintf("WEB_LISTEN (from %s): %s: is another program using the port, "
				   "or is the address not this machine's?",
				   p->b->cfg->origin[CFG_WEB_LISTEN], err);
		free(err);
		p->start_status = EXIT_CONFIG;
		goto fail;
	}
	platform_status(p, "listening on %s, port %d", listen, ws_server_port(w->srv));
	return 0;
fail:
	web_free(p);
	return -1;
}

static uint64_t
web_step(struct platform *p, uint64_t now)
{
	struct web *w = p->state;
	drain(w, now);
	if (now >= w->next_sweep) {
		addr_sweep(w, now, 0);
		w->next_sweep = now + WINDOW_MS;
	}
	report_refusals(w, now);
	return sys_sooner(w->next_sweep, w->next_report);
}

static void
web_reply(struct platform *p, struct outbox *ob, const struct ob_question *q,
	  const struct chat_reply *r)
{
	struct web *w = p->state;
	struct chat *c = chat_of_conv(w, q->conv);
	if (c && r->intent)
		recent_add(c, q->msg_id, r->intent);
	char *body = web_reply_json(q->msg_id, r);
	outbox_part(ob, q, 0, 1, body, strlen(body));
}

static void
web_send(struct platform *p, struct ob_item *it)
{
	struct web *w = p->state;
	struct chat *c = chat_of_conv(w, it->conv_id);
	struct ob_result res = {OB_SENT, 0, 0, 0, NULL};
	if (c == NULL || c->closing) {
		res.outcome = OB_GONE;
		res.why = "the visitor left";
	} else if (ws_peer_send(c->peer, it->body, it->len) < 0) {
		res.outcome = OB_GONE;
		res.why = "the chat was closed (its browser did not read the replies)";
		c->closing = 1;
	}
	platform_done(p, it, &res, sys_now_ms());
}

static void
web_cancel(struct platform *p, struct ob_item *it)
{
	(void)p;
	(void)it; /* sends finish at once: nothing is ever in flight */
}

static void
web_stop(struct platform *p, uint64_t now)
{
	(void)now;
	struct web *w = p->state;
	w->stopping = 1;
}

static int
web_close(struct platform *p, uint64_t now)
{
	struct web *w = p->state;
	if (!w->closing) {
		w->closing = 1;
		for (struct chat *c = w->chats; c; c = c->next)
			if (!c->closing) {
				c->closing = 1;
				ws_peer_close(c->peer, 1001, "restarting");
			}
	}
	drain(w, now);
	return w->nchats == 0 && w->nbusy == 0;
}

const struct adapter_ops adapter_web = {
    .name = "web",
    .where = "chat",
    .auto_var = -1, /* only when BOT_PLATFORM names it */
    .fds = web_fds,
    .start = web_start,
    .step = web_step,
    .reply = web_reply,
    .send = web_send,
    .cancel = web_cancel,
    .stop = web_stop,
    .close = web_close,
    .free = web_free,
};
