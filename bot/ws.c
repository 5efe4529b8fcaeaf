/*
 * ws: the libwebsockets 4.1.6 loop and websocket clients (see ws.h).  Only
 * this file includes libwebsockets.h.  Known lws 4.1.6 traps handled here:
 * DNS blocks the loop (we resolve in a thread and hand lws a numeric
 * address), a failed lws_client_connect_via_info() delivers no callback, a
 * handshake timeout only delivers CLOSED_CLIENT_HTTP, and callbacks run
 * inside lws_context_destroy().  Every connection therefore funnels into
 * gone(), which reports its end exactly once; a connection whose client is
 * freed first is detached from lws (no user data) and killed.
 */
#include "ws.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include <libwebsockets.h>

#include "hmap.h"
#include "log.h"
#include "queue.h"
#include "strbuf.h"
#include "sys.h"
#include "tls.h"
#include "xmem.h"

#define PROTO_NAME "client"

struct out_msg {
	struct qlink link;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
};

/* Shared by the loop and one resolver thread; freed by whoever drops refs to 0. */
struct dns_job {
	pthread_mutex_t mu;
	int refs, done, abandoned;
	struct lws_context *ctx;
	char host[256];
	char port[8];
	char addr[INET6_ADDRSTRLEN];
	char err[128];
};

enum conn_state { C_RESOLVING, C_CONNECTING, C_OPEN };

/* A message being put together from its fragments (clients and servers). */
struct rx {
	struct strbuf buf;
	size_t total;
	const char *problem; /* it is dropped: why */
};

struct conn {
	struct ws *w;
	struct conn *next;
	unsigned serial;
	enum conn_state st;
	int detached;   /* closed by us: no more events */
	int reported;   /* its end was handled */
	int in_connect; /* inside lws_client_connect_via_info() */
	int destroyed;  /* WSI_DESTROY arrived while in_connect */
	struct lws *wsi;
	int tls, port;
	int tls_up; /* the TLS handshake finished (the HTTP upgrade went out) */
	char host[256];
	char path[512];
	struct dns_job *dns;
	int close_pending, close_code;
	char close_reason[64];
	int peer_code;
	char peer_reason[124];
	struct rx rx;
	struct queue oq; /* of out_msg */
};

struct ev_node {
	struct qlink link;
	unsigned serial;
	struct ws_event ev;
};

/* The vhost's user: outlives the server, so that a late callback from
 * lws finds NULL instead of a freed server (freed with the loop). */
struct srv_ref {
	struct ws_server *s;
	struct srv_ref *next; /* in l->refs */
};

struct ws_loop {
	struct lws_context *ctx;
	struct lws_vhost *client_vh;
	struct lws_vhost *tls_vh; /* wss: verifies against tls_ctx's store */
	void *tls_ctx;            /* our reference to its SSL_CTX */
	struct ws *clients;
	struct ws_server *servers;
	struct srv_ref *refs; /* every server's vhost user, freed last */
	lws_sorted_usec_list_t sul_wake;
};

struct ws {
	struct ws_loop *l;
	struct ws *next; /* in l->clients */
	struct conn *cur;
	struct conn *all;
	struct queue eq; /* of ev_node */
	size_t max_message;
	unsigned serial;
};

static int servers_have_events(struct ws_loop *l);

/* ---- events ------------------------------------------------------------- */

static struct ws_event *
push(struct ws *w, struct conn *c, enum ws_ev_type type)
{
	struct ev_node *n = xcalloc(1, sizeof *n);
	n->serial = c->serial;
	n->ev.type = type;
	queue_push(&w->eq, &n->link);
	return &n->ev;
}

/* Drop the events of connection serial. */
static void
purge(struct ws *w, unsigned serial)
{
	struct queue keep = {0};
	struct qlink *l;
	while ((l = queue_pop(&w->eq)) != NULL) {
		struct ev_node *n = queue_entry(l, struct ev_node, link);
		if (n->serial == serial) {
			ws_event_free(&n->ev);
			free(n);
		} else {
			queue_push(&keep, l);
		}
	}
	w->eq = keep;
}

int
ws_next_event(struct ws *w, struct ws_event *ev)
{
	struct qlink *l = queue_pop(&w->eq);
	if (l == NULL)
		return 0;
	struct ev_node *n = queue_entry(l, struct ev_node, link);
	*ev = n->ev;
	free(n);
	return 1;
}

void
ws_event_free(struct ws_event *ev)
{
	free(ev->data);
	ev->data = NULL;
}

/* ---- connections --------------------------------------------------------- */

static void
dns_release(struct dns_job *j, int abandon)
{
	pthread_mutex_lock(&j->mu);
	if (abandon)
		j->abandoned = 1;
	int refs = --j->refs;
	pthread_mutex_unlock(&j->mu);
	if (refs == 0) {
		pthread_mutex_destroy(&j->mu);
		free(j);
	}
}

static void
drop_queue(struct conn *c)
{
	struct qlink *l;
	while ((l = queue_pop(&c->oq)) != NULL)
		free(queue_entry(l, struct out_msg, link));
}

static void
conn_free(struct conn *c)
{
	struct ws *w = c->w;
	for (struct conn **pp = &w->all; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (w->cur == c)
		w->cur = NULL;
	if (c->dns)
		dns_release(c->dns, 1);
	drop_queue(c);
	sb_free(&c->rx.buf);
	free(c);
}

/* The connection ended: report it once, unless we closed it ourselves. */
static void
gone(struct conn *c, int code, const char *why)
{
	if (c->reported)
		return;
	c->reported = 1;
	struct ws *w = c->w;
	if (c->detached || w->cur != c)
		return;
	w->cur = NULL;
	struct ws_event *ev = push(w, c, WS_EV_CLOSED);
	ev->code = code;
	if (why)
		log_clean(ev->reason, sizeof ev->reason, why, strlen(why));
}

/* Add a fragment (past max bytes the message is dropped); 1 once the
 * message is whole: then rx_take() hands it over. */
static int
rx_add(struct rx *r, struct lws *wsi, const char *in, size_t len, size_t max)
{
	if (lws_is_first_fragment(wsi)) {
		sb_reset(&r->buf);
		r->total = 0;
		r->problem =
		    lws_frame_is_binary(wsi) ? "binary frame (only JSON text is expected)" : NULL;
	}
	r->total += len;
	if (r->problem == NULL && r->total > max) {
		r->problem = "message too large";
		sb_free(&r->buf);
	}
	if (r->problem == NULL)
		sb_add(&r->buf, in, len);
	return lws_is_final_fragment(wsi);
}

static void
rx_take(struct rx *r, struct ws_event *ev)
{
	ev->len = r->total;
	if (r->problem)
		ev->problem = r->problem;
	else
		ev->data = sb_steal(&r->buf);
	r->total = 0;
	r->problem = NULL;
}

static void
on_receive(struct conn *c, struct lws *wsi, const char *in, size_t len)
{
	if (rx_add(&c->rx, wsi, in, len, c->w->max_message))
		rx_take(&c->rx, push(c->w, c, WS_EV_MESSAGE));
}

static int
on_writeable(struct conn *c, struct lws *wsi)
{
	if (c->close_pending) {
		lws_close_reason(wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if (c->detached)
		return -1;
	struct qlink *l = queue_pop(&c->oq);
	if (l == NULL)
		return 0;
	struct out_msg *m = queue_entry(l, struct out_msg, link);
	int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
	size_t want = m->len;
	free(m);
	if (n < 0 || (size_t)n < want)
		return -1;
	if (c->oq.head)
		lws_callback_on_writable(wsi);
	return 0;
}

/*
 * The TLS handshake failed.  lws's own words say little ("connect SSL err
 * 1: error:00000001:lib(0)::reason(1)" for a refused certificate, whose
 * cause goes to its log): say what happened, from the certificate's
 * verification result when that was the cause.
 */
static void
tls_failed(struct conn *c, struct lws *wsi, const char *in)
{
	long err = tls_ssl_verify_result(lws_get_ssl(wsi)); /* still there now */
	char why[320], problem[160];
	const char *reason = in ? strrchr(in, ':') : NULL;
	int e = 0;
	if (err) {
		tls_cert_problem(err, problem, sizeof problem);
		snprintf(why, sizeof why, "TLS certificate of %.80s:%d refused: %s", c->host,
			 c->port, problem);
	} else if (in && strstr(in, "Timed out")) {
		snprintf(why, sizeof why, "TLS handshake with %.80s:%d did not finish (timed out)",
			 c->host, c->port);
	} else if (in && sscanf(in, "connect SYSCALL %d", &e) == 1 && e > 0) {
		snprintf(why, sizeof why, "TLS handshake with %.80s:%d broke off: %s", c->host,
			 c->port, strerror(e));
	} else if (reason && reason[1] && strstr(reason, "reason(") == NULL) {
		snprintf(why, sizeof why, "TLS handshake with %.80s:%d broke off: %.100s", c->host,
			 c->port, reason + 1);
	} else {
		snprintf(
		    why, sizeof why,
		    "TLS handshake with %.80s:%d broke off (the server hung up or speaks no TLS)",
		    c->host, c->port);
	}
	gone(c, 1006, why);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	struct conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->st = C_OPEN;
		if (!c->detached)
			push(c->w, c, WS_EV_OPEN);
		if (c->oq.head || c->close_pending)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!c->detached && !c->reported)
			on_receive(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *p = in;
			c->peer_code = p[0] << 8 | p[1];
			log_clean(c->peer_reason, sizeof c->peer_reason, (const char *)p + 2,
				  len - 2);
		}
		return 0; /* lws echoes the close */
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		c->tls_up = 1;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c->tls && !c->tls_up) {
			tls_failed(c, wsi, in);
			break;
		}
		gone(c, 1006, in ? (const char *)in : "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		gone(c, c->peer_code ? c->peer_code : 1006,
		     c->peer_code ? c->peer_reason : "connection lost without a close frame");
		break;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (c->tls && !c->tls_up) {
			char why[160];
			snprintf(why, sizeof why,
				 "TLS handshake with %.80s:%d did not finish (timed out)", c->host,
				 c->port);
			gone(c, 1006, why);
		} else {
			gone(c, 1006, "websocket handshake failed or timed out");
		}
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		gone(c, c->peer_code ? c->peer_code : 1006, "connection closed");
		lws_set_opaque_user_data(wsi, NULL);
		c->wsi = NULL;
		if (c->in_connect)
			c->destroyed = 1;
		else
			conn_free(c);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
    {PROTO_NAME, callback, 0, 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- resolver thread ----------------------------------------------------- */

static void *
dns_main(void *arg)
{
	struct dns_job *j = arg;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	char addr[INET6_ADDRSTRLEN] = "", err[128] = "";
	int rc = getaddrinfo(j->host, j->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, sizeof err, "cannot resolve %.80s: %s", j->host, gai_strerror(rc));
	} else {
		const struct addrinfo *pick = res;
		for (const struct addrinfo *a = res; a; a = a->ai_next)
			if (a->ai_family == AF_INET) {
				pick = a;
				break;
			}
		const void *sa =
		    pick->ai_family == AF_INET
			? (const void *)&((const struct sockaddr_in *)(const void *)pick->ai_addr)
			      ->sin_addr
			: (const void *)&((const struct sockaddr_in6 *)(const void *)pick->ai_addr)
			      ->sin6_addr;
		if (inet_ntop(pick->ai_family, sa, addr, sizeof addr) == NULL)
			snprintf(err, sizeof err, "cannot resolve %.80s: bad address", j->host);
		freeaddrinfo(res);
	}
	pthread_mutex_lock(&j->mu);
	memcpy(j->addr, addr, sizeof addr);
	memcpy(j->err, err, sizeof err);
	j->done = 1;
	if (!j->abandoned)
		lws_cancel_service(j->ctx);
	pthread_mutex_unlock(&j->mu);
	dns_release(j, 0);
	return NULL;
}

static int
dns_start(struct ws *w, struct conn *c)
{
	struct dns_job *j = xcalloc(1, sizeof *j);
	pthread_mutex_init(&j->mu, NULL);
	j->refs = 2;
	j->ctx = w->l->ctx;
	snprintf(j->host, sizeof j->host, "%s", c->host);
	snprintf(j->port, sizeof j->port, "%d", c->port);
	if (sys_thread_start(NULL, 1, dns_main, j) != 0) {
		pthread_mutex_destroy(&j->mu);
		free(j);
		return -1;
	}
	c->dns = j;
	return 0;
}

/* Resolution finished for the current connection: start lws on the address. */
static void
start_lws(struct ws *w, struct conn *c)
{
	struct dns_job *j = c->dns;
	char addr[INET6_ADDRSTRLEN], err[128];
	pthread_mutex_lock(&j->mu);
	memcpy(addr, j->addr, sizeof addr);
	memcpy(err, j->err, sizeof err);
	pthread_mutex_unlock(&j->mu);
	dns_release(j, 0);
	c->dns = NULL;
	if (err[0] == '\0' && c->tls && w->l->tls_vh == NULL)
		snprintf(err, sizeof err, "wss:// needs the trusted certificates (ws_loop_tls)");
	if (err[0]) {
		gone(c, 1006, err);
		conn_free(c);
		return;
	}
	struct lws_client_connect_info cc;
	memset(&cc, 0, sizeof cc);
	cc.context = w->l->ctx;
	cc.vhost = c->tls ? w->l->tls_vh : w->l->client_vh;
	cc.address = addr;
	cc.port = c->port;
	cc.path = c->path;
	cc.host = c->host; /* Host header, TLS SNI and certificate name */
	cc.origin = c->host;
	cc.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	cc.local_protocol_name = PROTO_NAME;
	cc.opaque_user_data = c;
	c->st = C_CONNECTING;
	c->in_connect = 1;
	struct lws *wsi = lws_client_connect_via_info(&cc);
	c->in_connect = 0;
	if (wsi == NULL || c->destroyed) {
		/* lws gives no callback for this (pitfall 1): report it ourselves */
		gone(c, 1006, "could not start the connection");
		conn_free(c);
		return;
	}
	c->wsi = wsi;
}

static void
check_dns(struct ws *w)
{
	struct conn *c = w->cur;
	if (c == NULL || c->st != C_RESOLVING || c->dns == NULL)
		return;
	pthread_mutex_lock(&c->dns->mu);
	int done = c->dns->done;
	pthread_mutex_unlock(&c->dns->mu);
	if (done)
		start_lws(w, c);
}

/* ---- public --------------------------------------------------------------- */

static void
emit(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	/* a refused certificate: the connection's end names it (tls_failed) */
	if ((level & LLL_ERR) && strncmp(line, "SSL error:", 10) != 0)
		log_warn("lws: %.*s", (int)n, line);
	else
		log_debug("lws: %.*s", (int)n, line);
}

/*
 * lws sizes its tables by the open-file limit and refuses descriptors past
 * it: raise the soft limit towards the hard one if the platforms need more
 * (a systemd unit sets it with LimitNOFILE=, as setrlimit may be filtered).
 */
static int
fd_room(unsigned need, char **cause)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	rlim_t want = rl.rlim_max < need ? rl.rlim_max : need;
	struct rlimit up = {want, rl.rlim_max};
	if (setrlimit(RLIMIT_NOFILE, &up) == 0 && want >= need)
		return 0;
	*cause = xasprintf("the platforms need %u open files but the limit is %llu (raise it: "
			   "ulimit -n, or LimitNOFILE= in the unit)",
			   need, (unsigned long long)(want > rl.rlim_cur ? want : rl.rlim_cur));
	return -1;
}

struct ws_loop *
ws_loop_new(unsigned max_fds, char **cause)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, emit);
	tls_init(); /* before lws's own OpenSSL set-up */
	struct ws_loop *l = xcalloc(1, sizeof *l);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	if (fd_room(max_fds + 64, cause) < 0)
		goto fail;
	info.server_string = "massagebot";
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.gid = -1;
	info.uid = -1;
	info.fd_limit_per_thread = max_fds + 8; /* lws's own: the cancel pipe, ... */
	l->ctx = lws_create_context(&info);
	if (l->ctx == NULL) {
		*cause = xstrdup("cannot create the libwebsockets context");
		goto fail;
	}
	struct lws_context_creation_info vh;
	memset(&vh, 0, sizeof vh);
	vh.vhost_name = "client";
	vh.port = CONTEXT_PORT_NO_LISTEN;
	vh.protocols = protocols;
	/* plain ws:// only: without DO_SSL_GLOBAL_INIT lws gives this vhost no
	 * TLS context, which would load the system's CA bundle (about 1 MB) */
	vh.timeout_secs = 10;         /* websocket handshake */
	vh.connect_timeout_secs = 10; /* TCP connect */
	l->client_vh = lws_create_vhost(l->ctx, &vh);
	if (l->client_vh == NULL) {
		*cause = xstrdup("cannot create the libwebsockets client vhost");
		goto fail;
	}
	return l;
fail:
	if (l->ctx)
		lws_context_destroy(l->ctx);
	free(l);
	return NULL;
}

void
ws_loop_free(struct ws_loop *l)
{
	if (l == NULL)
		return;
	lws_sul_cancel(&l->sul_wake);
	lws_context_destroy(l->ctx); /* callbacks of detached connections find no user */
	tls_ctx_free(l->tls_ctx);    /* lws does not free a provided one */
	while (l->refs) {
		struct srv_ref *r = l->refs;
		l->refs = r->next;
		free(r);
	}
	free(l);
}

int
ws_loop_tls(struct ws_loop *l, struct tls_trust *t, char **cause)
{
	if (l->tls_vh)
		return 0;
	l->tls_ctx = tls_client_ctx(t);
	if (l->tls_ctx == NULL) {
		*cause = xstrdup("cannot create the TLS client context");
		return -1;
	}
	struct lws_context_creation_info vh;
	memset(&vh, 0, sizeof vh);
	vh.vhost_name = "client-tls";
	vh.port = CONTEXT_PORT_NO_LISTEN;
	vh.protocols = protocols;
	vh.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* else wss: "bio_create failed" */
	vh.provided_client_ssl_ctx = l->tls_ctx;           /* one store for every connection */
	vh.timeout_secs = 10;
	vh.connect_timeout_secs = 10;
	l->tls_vh = lws_create_vhost(l->ctx, &vh);
	if (l->tls_vh == NULL) {
		tls_ctx_free(l->tls_ctx);
		l->tls_ctx = NULL;
		*cause = xstrdup("cannot create the libwebsockets TLS client vhost");
		return -1;
	}
	return 0;
}

static void
sul_noop(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

void
ws_loop_service(struct ws_loop *l, unsigned timeout_ms)
{
	for (struct ws *w = l->clients; w; w = w->next) {
		check_dns(w);
		if (w->eq.head)
			timeout_ms = 0; /* its owner has events to read first */
	}
	if (servers_have_events(l))
		timeout_ms = 0;
	lws_sul_schedule(l->ctx, 0, &l->sul_wake, sul_noop, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
	lws_service(l->ctx, 0);
	for (struct ws *w = l->clients; w; w = w->next)
		check_dns(w);
}

void
ws_loop_wake(struct ws_loop *l)
{
	lws_cancel_service(l->ctx);
}

struct ws *
ws_new(struct ws_loop *l, size_t max_message)
{
	struct ws *w = xcalloc(1, sizeof *w);
	w->l = l;
	w->max_message = max_message;
	w->next = l->clients;
	l->clients = w;
	return w;
}

void
ws_free(struct ws *w)
{
	if (w == NULL)
		return;
	for (struct ws **pp = &w->l->clients; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	while (w->all) {
		struct conn *c = w->all;
		if (c->wsi) {
			/* lws keeps the wsi until it is killed: it must not find c */
			lws_set_opaque_user_data(c->wsi, NULL);
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		}
		conn_free(c);
	}
	struct ws_event ev;
	while (ws_next_event(w, &ev))
		ws_event_free(&ev);
	free(w);
}

int
ws_connect(struct ws *w, int tls, const char *host, int port, const char *path)
{
	if (w->cur)
		return -1;
	struct conn *c = xcalloc(1, sizeof *c);
	c->w = w;
	c->serial = ++w->serial;
	c->st = C_RESOLVING;
	c->tls = tls;
	c->port = port;
	snprintf(c->host, sizeof c->host, "%s", host);
	snprintf(c->path, sizeof c->path, "%s", path);
	c->next = w->all;
	w->all = c;
	w->cur = c;
	if (dns_start(w, c) < 0) {
		gone(c, 1006, "cannot start the resolver thread");
		conn_free(c);
	}
	return 0;
}

int
ws_send(struct ws *w, const char *data, size_t len)
{
	struct conn *c = w->cur;
	if (c == NULL || c->st != C_OPEN || c->wsi == NULL)
		return -1;
	struct out_msg *m = xmalloc(sizeof *m + LWS_PRE + len);
	m->len = len;
	memcpy(m->buf + LWS_PRE, data, len);
	queue_push(&c->oq, &m->link);
	lws_callback_on_writable(c->wsi);
	return 0;
}

void
ws_close(struct ws *w, int code, const char *reason)
{
	struct conn *c = w->cur;
	if (c == NULL)
		return;
	w->cur = NULL;
	c->detached = 1;
	c->reported = 1;
	purge(w, c->serial);
	drop_queue(c);
	switch (c->st) {
	case C_RESOLVING:
		conn_free(c);
		break;
	case C_CONNECTING:
		if (c->wsi)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		break;
	case C_OPEN:
		c->close_pending = 1;
		c->close_code = code;
		snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
		if (c->wsi) {
			lws_callback_on_writable(c->wsi);
			/* a peer that stopped reading must not keep it forever */
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 3);
		}
		break;
	}
}

int
ws_active(const struct ws *w)
{
	return w->cur != NULL;
}

int
ws_idle(const struct ws *w)
{
	return w->all == NULL;
}

/* ---- server ---------------------------------------------------------------- */

#define SRV_PROTO_NAME "server"
#define PEER_BUCKETS 1024 /* TCP peer addresses (a hash chain each) */
#define IDLE_SWEEP_MS 1000
#define RESP_HEAD_MAX 2048

/* How many TCP connections one address holds. */
struct peer_addr {
	struct peer_addr *next;
	uint64_t hash;
	unsigned n;
	char ip[INET6_ADDRSTRLEN];
};

struct ws_peer {
	struct ws_server *s;
	struct ws_peer *prev, *next;   /* every TCP connection (s->peers) */
	struct ws_peer *iprev, *inext; /* websockets by their last message, oldest first */
	struct lws *wsi;               /* NULL once lws let it go */
	struct peer_addr *addr;        /* NULL if it is not counted (exempt) */
	char ip[INET6_ADDRSTRLEN];
	int admitted;   /* a websocket the owner knows (user): its CLOSED is owed */
	int open;       /* established */
	int closing;    /* a close is under way: nothing more is queued */
	int close_now;  /* ... and what is queued is not sent either */
	int close_code; /* the close frame's, once the queue is written */
	char close_reason[64];
	void *user;
	uint64_t last_ms;
	struct rx rx;
	struct queue oq; /* of out_msg */
	size_t oq_bytes;
};

struct ws_server {
	struct ws_loop *l;
	struct ws_server *next; /* in l->servers */
	struct srv_ref *ref;
	struct ws_server_config c;
	char *iface, *ws_path;
	struct lws_vhost *vh;
	lws_retry_bo_t retry;
	struct ws_peer *peers;
	struct ws_peer *idle_head, *idle_tail;
	struct peer_addr *buckets[PEER_BUCKETS];
	struct queue eq; /* of ev_node */
	lws_sorted_usec_list_t sul_idle;
	char pending_ip[INET6_ADDRSTRLEN]; /* accepted, its wsi not made yet */
	int pending;
};

static int
servers_have_events(struct ws_loop *l)
{
	for (struct ws_server *s = l->servers; s; s = s->next)
		if (s->eq.head)
			return 1;
	return 0;
}

static struct ws_event *
srv_push(struct ws_server *s, struct ws_peer *p, enum ws_ev_type type)
{
	struct ev_node *n = xcalloc(1, sizeof *n);
	n->ev.type = type;
	n->ev.peer = p;
	n->ev.user = p->user;
	queue_push(&s->eq, &n->link);
	return &n->ev;
}

/* ---- TCP peers --------------------------------------------------------- */

static struct peer_addr **
addr_slot(struct ws_server *s, const char *ip, uint64_t h)
{
	struct peer_addr **pp = &s->buckets[h & (PEER_BUCKETS - 1)];
	while (*pp && ((*pp)->hash != h || strcmp((*pp)->ip, ip) != 0))
		pp = &(*pp)->next;
	return pp;
}

/* Count a new connection from ip: 0, or -1 if that address has too many. */
static int
addr_take(struct ws_server *s, struct ws_peer *p)
{
	if (s->c.max_per_peer == 0 || (s->c.exempt && s->c.exempt(s->c.arg, p->ip)))
		return 0;
	uint64_t h = hmap_hash(p->ip, strlen(p->ip));
	struct peer_addr **pp = addr_slot(s, p->ip, h);
	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof **pp);
		(*pp)->hash = h;
		memcpy((*pp)->ip, p->ip, sizeof p->ip);
	}
	if ((*pp)->n >= s->c.max_per_peer)
		return -1;
	(*pp)->n++;
	p->addr = *pp;
	return 0;
}

static void
addr_put(struct ws_server *s, struct ws_peer *p)
{
	if (p->addr == NULL)
		return;
	if (--p->addr->n == 0) {
		struct peer_addr **pp = addr_slot(s, p->addr->ip, p->addr->hash);
		*pp = p->addr->next;
		free(p->addr);
	}
	p->addr = NULL;
}

/* ---- idle websockets: a list by last message, oldest first ------------- */

static void
idle_unlink(struct ws_server *s, struct ws_peer *p)
{
	if (p->iprev)
		p->iprev->inext = p->inext;
	else if (s->idle_head == p)
		s->idle_head = p->inext;
	if (p->inext)
		p->inext->iprev = p->iprev;
	else if (s->idle_tail == p)
		s->idle_tail = p->iprev;
	p->iprev = p->inext = NULL;
}

static void
idle_touch(struct ws_server *s, struct ws_peer *p, uint64_t now)
{
	idle_unlink(s, p);
	p->last_ms = now;
	p->iprev = s->idle_tail;
	if (s->idle_tail)
		s->idle_tail->inext = p;
	else
		s->idle_head = p;
	s->idle_tail = p;
}

/* Start closing p with code, now or once what is queued is written. */
static void
peer_close(struct ws_peer *p, int code, const char *reason, int now)
{
	if (p->wsi == NULL || (p->closing && !(now && !p->close_now)))
		return;
	p->closing = 1;
	p->close_now |= now;
	idle_unlink(p->s, p);
	p->close_code = code;
	snprintf(p->close_reason, sizeof p->close_reason, "%s", reason ? reason : "");
	lws_callback_on_writable(p->wsi);
	/* a client that stopped reading must not keep it forever */
	lws_set_timeout(p->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

static void
idle_sweep(lws_sorted_usec_list_t *sul)
{
	struct ws_server *s = lws_container_of(sul, struct ws_server, sul_idle);
	uint64_t now = sys_now_ms(), idle = (uint64_t)s->c.idle_s * 1000;
	while (s->idle_head && now - s->idle_head->last_ms >= idle)
		peer_close(s->idle_head, LWS_CLOSE_STATUS_GOINGAWAY, "idle", 1);
	lws_sul_schedule(s->l->ctx, 0, &s->sul_idle, idle_sweep, IDLE_SWEEP_MS * LWS_US_PER_MS);
}

/* ---- connections ---------------------------------------------------------- */

static struct ws_peer *
peer_new(struct ws_server *s, struct lws *wsi, const char *ip)
{
	struct ws_peer *p = xcalloc(1, sizeof *p);
	p->s = s;
	p->wsi = wsi;
	snprintf(p->ip, sizeof p->ip, "%s", ip);
	p->next = s->peers;
	if (s->peers)
		s->peers->prev = p;
	s->peers = p;
	return p;
}

static void
peer_free(struct ws_peer *p)
{
	struct ws_server *s = p->s;
	if (p->prev)
		p->prev->next = p->next;
	else if (s->peers == p)
		s->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	idle_unlink(s, p);
	addr_put(s, p);
	struct qlink *l;
	while ((l = queue_pop(&p->oq)) != NULL)
		free(queue_entry(l, struct out_msg, link));
	sb_free(&p->rx.buf);
	free(p);
}

/* lws let the connection go: an admitted websocket still owes its CLOSED
 * (the owner frees nothing before it), anything else is forgotten now. */
static void
peer_gone(struct ws_peer *p)
{
	p->wsi = NULL;
	addr_put(p->s, p);
	idle_unlink(p->s, p);
	if (p->admitted) {
		p->admitted = 0;
		srv_push(p->s, p, WS_EV_CLOSED)->code = 1006;
	} else {
		peer_free(p);
	}
}

static void
header(struct lws *wsi, enum lws_token_indexes t, char *buf, int len)
{
	if (lws_hdr_copy(wsi, buf, len, t) < 0)
		buf[0] = '\0';
}

/* The request's method, path and headers, in bufs owned by the caller. */
struct req_bufs {
	char path[512], host[256], origin[256], xff[512], inm[128];
};

static void
read_request(struct ws_peer *p, struct lws *wsi, struct ws_request *rq, struct req_bufs *b)
{
	static const char *const methods[] = {
	    [LWSHUMETH_GET] = "GET",         [LWSHUMETH_POST] = "POST",
	    [LWSHUMETH_OPTIONS] = "OPTIONS", [LWSHUMETH_PUT] = "PUT",
	    [LWSHUMETH_PATCH] = "PATCH",     [LWSHUMETH_DELETE] = "DELETE",
	    [LWSHUMETH_CONNECT] = "CONNECT", [LWSHUMETH_HEAD] = "HEAD",
	};
	char *uri = NULL;
	int ulen = 0;
	int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	memset(rq, 0, sizeof *rq);
	rq->method = m >= 0 && (size_t)m < sizeof methods / sizeof methods[0] && methods[m]
			 ? methods[m]
			 : "";
	if (ulen < 0 || uri == NULL)
		ulen = 0;
	snprintf(b->path, sizeof b->path, "%.*s", ulen, uri ? uri : "");
	b->path[strcspn(b->path, "?")] = '\0';
	header(wsi, WSI_TOKEN_HOST, b->host, sizeof b->host);
	header(wsi, WSI_TOKEN_ORIGIN, b->origin, sizeof b->origin);
	header(wsi, WSI_TOKEN_X_FORWARDED_FOR, b->xff, sizeof b->xff);
	header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, b->inm, sizeof b->inm);
	rq->path = b->path;
	rq->peer = p->ip;
	rq->host = b->host;
	rq->origin = b->origin;
	rq->forwarded_for = b->xff;
	rq->if_none_match = b->inm;
}

/* Write the response now (lws keeps what the socket does not take) and,
 * if complete, end the transaction; -1 if the connection must close. */
static int
write_response(struct lws *wsi, const struct ws_response *r, int head_only, int complete)
{
	unsigned char buf[LWS_PRE + RESP_HEAD_MAX], *start = buf + LWS_PRE, *p = start,
						    *end = buf + sizeof buf;
	int status = r->status ? r->status : HTTP_STATUS_INTERNAL_SERVER_ERROR;
	const char *body = r->body ? r->body : "";
	size_t len = r->body ? r->len : 0;
	if (lws_add_http_common_headers(wsi, (unsigned)status,
					r->content_type ? r->content_type : "text/plain", len, &p,
					end))
		return -1;
	for (size_t i = 0; i < WS_RESP_HEADERS && r->headers[i][0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s:", r->headers[i][0]);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)r->headers[i][1],
						(int)strlen(r->headers[i][1]), &p, end))
			return -1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (len && !head_only) {
		unsigned char *m = xmalloc(LWS_PRE + len);
		memcpy(m + LWS_PRE, body, len);
		int n = lws_write(wsi, m + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
		free(m);
		if (n < 0)
			return -1;
	}
	return complete && lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Refuse a websocket upgrade with r (its status and body; no extra
 * headers), written out whole: lws does not know the request's HTTP
 * version yet at this point and would say HTTP/1.0, which websocket
 * clients reject.  Returns 1 (lws ends the transaction) or -1.
 */
static int
refuse_upgrade(struct lws *wsi, const struct ws_response *r)
{
	char buf[LWS_PRE + 1024];
	int n = snprintf(buf + LWS_PRE, sizeof buf - LWS_PRE,
			 "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n"
			 "connection: close\r\n\r\n%.*s",
			 r->status,
			 r->status == 403   ? "Forbidden"
			 : r->status == 404 ? "Not Found"
			 : r->status == 429 ? "Too Many Requests"
					    : "Service Unavailable",
			 r->content_type ? r->content_type : "text/plain", r->body ? r->len : 0,
			 r->body ? (int)r->len : 0, r->body ? r->body : "");
	if (n < 0 || (size_t)n >= sizeof buf - LWS_PRE)
		return -1;
	return lws_write(wsi, (unsigned char *)buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS) < 0
		   ? -1
		   : 1;
}

static int
on_http(struct ws_peer *p, struct lws *wsi)
{
	struct ws_request rq;
	struct req_bufs b;
	struct ws_response r;
	read_request(p, wsi, &rq, &b);
	memset(&r, 0, sizeof r);
	p->s->c.respond(p->s->c.arg, &rq, &r);
	return write_response(wsi, &r, strcmp(rq.method, "HEAD") == 0, 1);
}

/* A websocket upgrade: the owner admits it, or it gets the refusal. */
static int
on_upgrade(struct ws_peer *p, struct lws *wsi)
{
	struct ws_request rq;
	struct req_bufs b;
	struct ws_response r;
	read_request(p, wsi, &rq, &b);
	memset(&r, 0, sizeof r);
	if (strcmp(rq.path, p->s->ws_path) != 0) {
		r.status = HTTP_STATUS_NOT_FOUND;
		r.body = "not found\n";
		r.len = strlen(r.body);
	} else {
		p->user = p->s->c.admit(p->s->c.arg, &rq, p, &r);
		if (p->user) {
			p->admitted = 1;
			return 0;
		}
	}
	return refuse_upgrade(wsi, &r);
}

static void
on_message_part(struct ws_peer *p, struct lws *wsi, const char *in, size_t len)
{
	if (!rx_add(&p->rx, wsi, in, len, p->s->c.max_message))
		return;
	idle_touch(p->s, p, sys_now_ms());
	lws_validity_confirmed(wsi);
	rx_take(&p->rx, srv_push(p->s, p, WS_EV_MESSAGE));
}

static int
on_ws_writeable(struct ws_peer *p, struct lws *wsi)
{
	struct qlink *l = p->close_now ? NULL : queue_pop(&p->oq);
	if (l == NULL) {
		if (!p->closing)
			return 0;
		lws_close_reason(wsi, (enum lws_close_status)p->close_code,
				 (unsigned char *)p->close_reason, strlen(p->close_reason));
		return -1;
	}
	struct out_msg *m = queue_entry(l, struct out_msg, link);
	p->oq_bytes -= m->len;
	int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
	size_t want = m->len;
	free(m);
	if (n < 0 || (size_t)n < want)
		return -1;
	if (p->oq.head || p->closing)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
srv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct lws_vhost *vh = lws_get_vhost(wsi);
	struct srv_ref *ref = vh ? lws_get_vhost_user(vh) : NULL;
	struct ws_server *s = ref ? ref->s : NULL;
	struct ws_peer *p = lws_get_opaque_user_data(wsi);
	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
		/* the listener accepted: the next new connection is from there */
		const struct lws_filter_network_conn_args *f = user;
		char ip[INET6_ADDRSTRLEN] = "?";
		const struct sockaddr *sa = (const struct sockaddr *)&f->cli_addr;
		if (sa->sa_family == AF_INET) {
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
				  sizeof ip);
		} else if (sa->sa_family == AF_INET6) {
			const struct in6_addr *a6 =
			    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
			if (IN6_IS_ADDR_V4MAPPED(a6)) /* a dual-stack socket: say it as IPv4 */
				inet_ntop(AF_INET, a6->s6_addr + 12, ip, sizeof ip);
			else
				inet_ntop(AF_INET6, a6, ip, sizeof ip);
		}
		if (s == NULL)
			return -1;
		memcpy(s->pending_ip, ip, sizeof ip);
		s->pending = 1;
		return 0;
	}
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		if (p)
			return 0;
		if (s == NULL || !s->pending)
			return -1;
		s->pending = 0;
		p = peer_new(s, wsi, s->pending_ip);
		lws_set_opaque_user_data(wsi, p);
		if (addr_take(s, p) < 0) {
			log_debug("web: %s has too many connections; one more refused", p->ip);
			return -1; /* WSI_DESTROY frees p */
		}
		lws_set_timeout(wsi, PENDING_TIMEOUT_ESTABLISH_WITH_SERVER, (int)s->c.handshake_s);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (p) {
			lws_set_opaque_user_data(wsi, NULL);
			peer_gone(p);
		}
		return 0;
	default:
		break;
	}
	if (p == NULL || s == NULL)
		return reason == LWS_CALLBACK_HTTP ? -1 : 0;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(p, wsi);
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return 0; /* request bodies are ignored (every answer is to GET or HEAD) */
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (in == NULL || strcasecmp(in, "websocket") != 0)
			return -1;
		return on_upgrade(p, wsi);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return p->admitted ? 0 : -1;
	case LWS_CALLBACK_ESTABLISHED:
		p->open = 1;
		idle_touch(s, p, sys_now_ms());
		srv_push(s, p, WS_EV_OPEN);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (p->closing)
			return 0;
		if (p->rx.total + len > s->c.max_message) {
			unsigned char why[] = "message too big";
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why,
					 sizeof why - 1);
			p->closing = p->close_now = 1;
			return -1;
		}
		on_message_part(p, wsi, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_ws_writeable(p, wsi);
	default:
		return 0;
	}
}

static const struct lws_protocols srv_protocols[] = {
    {SRV_PROTO_NAME, srv_callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

struct ws_server *
ws_server_new(struct ws_loop *l, const struct ws_server_config *c, char **cause)
{
	struct ws_server *s = xcalloc(1, sizeof *s);
	s->l = l;
	s->c = *c;
	s->iface = xstrdup(c->iface);
	s->ws_path = xstrdup(c->ws_path);
	s->c.iface = s->iface;
	s->c.ws_path = s->ws_path;
	/* the browser answers pings: no pong within a minute means it is gone */
	s->retry.secs_since_valid_ping = 30;
	s->retry.secs_since_valid_hangup = 60;
	struct lws_context_creation_info vh;
	memset(&vh, 0, sizeof vh);
	vh.vhost_name = "server";
	vh.iface = s->iface;
	vh.port = c->port;
	vh.protocols = srv_protocols;
	vh.retry_and_idle_policy = &s->retry;
	vh.keepalive_timeout = 5;
	vh.timeout_secs = (int)c->handshake_s;
	vh.timeout_secs_ah_idle = c->handshake_s; /* lws's own clock on a request's headers */
	s->ref = xcalloc(1, sizeof *s->ref);
	s->ref->s = s;
	s->ref->next = l->refs; /* freed with the loop, whatever happens */
	l->refs = s->ref;
	vh.user = s->ref;
	s->vh = lws_create_vhost(l->ctx, &vh);
	if (s->vh == NULL) {
		*cause = xasprintf("cannot listen on %s port %d", c->iface, c->port);
		s->ref->s = NULL;
		free(s->iface);
		free(s->ws_path);
		free(s);
		return NULL;
	}
	s->next = l->servers;
	l->servers = s;
	lws_sul_schedule(l->ctx, 0, &s->sul_idle, idle_sweep, IDLE_SWEEP_MS * LWS_US_PER_MS);
	return s;
}

int
ws_server_port(const struct ws_server *s)
{
	return lws_get_vhost_listen_port(s->vh);
}

void
ws_server_free(struct ws_server *s)
{
	if (s == NULL)
		return;
	for (struct ws_server **pp = &s->l->servers; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	lws_sul_cancel(&s->sul_idle);
	struct ws_event ev;
	while (ws_server_next_event(s, &ev))
		ws_event_free(&ev);
	while (s->peers) {
		struct ws_peer *p = s->peers;
		if (p->wsi) {
			lws_set_opaque_user_data(p->wsi, NULL);
			lws_set_timeout(p->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		}
		peer_free(p);
	}
	s->ref->s = NULL; /* callbacks from now on find no server */
	lws_vhost_destroy(s->vh);
	for (size_t i = 0; i < PEER_BUCKETS; i++)
		while (s->buckets[i]) {
			struct peer_addr *a = s->buckets[i];
			s->buckets[i] = a->next;
			free(a);
		}
	free(s->iface);
	free(s->ws_path);
	free(s);
}

int
ws_server_next_event(struct ws_server *s, struct ws_event *ev)
{
	struct qlink *l = queue_pop(&s->eq);
	if (l == NULL)
		return 0;
	struct ev_node *n = queue_entry(l, struct ev_node, link);
	*ev = n->ev;
	free(n);
	if (ev->type == WS_EV_CLOSED) {
		peer_free(ev->peer); /* the owner's last word on it */
		ev->peer = NULL;
	}
	return 1;
}

int
ws_peer_send(struct ws_peer *p, const char *data, size_t len)
{
	if (p->wsi == NULL || p->closing || !p->open)
		return -1;
	if (p->oq_bytes + len > p->s->c.max_queued) {
		log_info("web: %s does not read its replies (%zu bytes waiting); closed", p->ip,
			 p->oq_bytes);
		peer_close(p, LWS_CLOSE_STATUS_POLICY_VIOLATION, "not reading", 1);
		return -1;
	}
	struct out_msg *m = xmalloc(sizeof *m + LWS_PRE + len);
	m->len = len;
	memcpy(m->buf + LWS_PRE, data, len);
	queue_push(&p->oq, &m->link);
	p->oq_bytes += len;
	lws_callback_on_writable(p->wsi);
	return 0;
}

void
ws_peer_close(struct ws_peer *p, int code, const char *reason)
{
	peer_close(p, code, reason, 0);
}
