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

#include <libwebsockets.h>

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
	int tls_up;    /* the TLS handshake finished (the HTTP upgrade went out) */
	long cert_err; /* why the server's certificate was refused (X509_V_ERR_*) */
	char host[256];
	char path[512];
	struct dns_job *dns;
	int close_pending, close_code;
	char close_reason[64];
	int peer_code;
	char peer_reason[124];
	struct strbuf rx;
	size_t rx_total;
	const char *rx_problem;
	struct queue oq; /* of out_msg */
};

struct ev_node {
	struct qlink link;
	unsigned serial;
	struct ws_event ev;
};

struct ws_loop {
	struct lws_context *ctx;
	struct lws_vhost *client_vh;
	struct lws_vhost *tls_vh; /* wss: verifies against tls_ctx's store */
	void *tls_ctx;            /* our reference to its SSL_CTX */
	struct ws *clients;
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
	sb_free(&c->rx);
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

static void
on_receive(struct conn *c, struct lws *wsi, const char *in, size_t len)
{
	struct ws *w = c->w;
	if (lws_is_first_fragment(wsi)) {
		sb_reset(&c->rx);
		c->rx_total = 0;
		c->rx_problem =
		    lws_frame_is_binary(wsi) ? "binary frame (only JSON text is expected)" : NULL;
	}
	c->rx_total += len;
	if (c->rx_problem == NULL && c->rx_total > w->max_message) {
		c->rx_problem = "message too large";
		sb_free(&c->rx);
	}
	if (c->rx_problem == NULL)
		sb_add(&c->rx, in, len);
	if (!lws_is_final_fragment(wsi))
		return;
	struct ws_event *ev = push(w, c, WS_EV_MESSAGE);
	ev->len = c->rx_total;
	if (c->rx_problem) {
		ev->problem = c->rx_problem;
	} else {
		ev->data = sb_steal(&c->rx);
	}
	c->rx_total = 0;
	c->rx_problem = NULL;
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
	long err = c->cert_err ? c->cert_err : tls_ssl_verify_result(lws_get_ssl(wsi));
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
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		if (len == 0 && c->cert_err == 0) /* len: OpenSSL's preverify_ok */
			c->cert_err = tls_store_error(user);
		return 0; /* no opinion: OpenSSL's verdict stands */
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

struct ws_loop *
ws_loop_new(unsigned max_fds, char **cause)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, emit);
	struct ws_loop *l = xcalloc(1, sizeof *l);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
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
