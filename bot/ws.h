/*
 * ws: the one event loop of the process (a libwebsockets context) and the
 * websocket clients on it.  The only file that includes libwebsockets.h.
 *
 * The loop (struct ws_loop) is created with explicit vhosts: a client vhost,
 * and a server vhost beside it for each platform that serves HTTP and
 * websockets (the web chat), so every network platform shares one poll and
 * one thread.
 * A client (struct ws) holds one connection at a time: host names are
 * resolved in a thread (lws 4.1.6 resolves synchronously and reports nothing
 * when that fails), every way a connection can end becomes exactly one
 * WS_EV_CLOSED event, and messages are reassembled up to a size cap.
 * Callbacks only record events in their client's queue; its owner drains
 * them with ws_next_event() after ws_loop_service() returns, so no platform
 * code runs inside lws.
 * Threading: everything on the loop thread, except ws_loop_wake().
 */
#ifndef WS_H
#define WS_H

#include <stddef.h>

struct ws_loop;
struct ws;
struct tls_trust;

enum ws_ev_type {
	WS_EV_OPEN,    /* handshake done */
	WS_EV_MESSAGE, /* one complete message (or a problem with one) */
	WS_EV_CLOSED   /* the connection is gone; connect again when you like */
};

struct ws_event {
	enum ws_ev_type type;
	char *data; /* MESSAGE: NUL-terminated text, owned by the event */
	size_t len;
	const char *problem; /* MESSAGE: static reason it was dropped (data NULL) */
	int code;            /* CLOSED: close code from the peer, 1006 if none */
	char reason[160];    /* CLOSED: peer reason or local error, may be "" */
	/* server events: the connection and the owner's pointer for it (from
	 * admit); after CLOSED the connection is gone and must not be used */
	struct ws_peer *peer;
	void *user;
};

/*
 * The loop: max_fds bounds the sockets it may hold (all platforms).
 * Returns NULL with *cause (caller frees) on failure.  Free it after every
 * client on it.
 */
struct ws_loop *ws_loop_new(unsigned max_fds, char **cause);
void ws_loop_free(struct ws_loop *l);
/*
 * Let clients on l connect with TLS (wss://), verifying servers against t
 * (the loop keeps what it needs: t may be freed after).  Once; later calls
 * do nothing.  0, or -1 with *cause (caller frees).
 */
int ws_loop_tls(struct ws_loop *l, struct tls_trust *t, char **cause);
/* Wait for network activity, ws_loop_wake() or timeout_ms, then return. */
void ws_loop_service(struct ws_loop *l, unsigned timeout_ms);
/* Any thread (not a signal handler): make ws_loop_service return soon. */
void ws_loop_wake(struct ws_loop *l);

/* A websocket client on l; max_message bounds a reassembled message. */
struct ws *ws_new(struct ws_loop *l, size_t max_message);
/* Drops its connections at once (no close handshake) and frees it. */
void ws_free(struct ws *w);

/*
 * Start connecting to ws[s]://host:port/path (path includes the query).
 * Resolution runs in a thread; the outcome is WS_EV_OPEN or WS_EV_CLOSED
 * (a TLS failure's reason names its cause: the certificate's problem, or
 * the handshake that broke off or timed out).
 * Returns -1 if a connection is already current.
 */
int ws_connect(struct ws *w, int tls, const char *host, int port, const char *path);
/* Queue one text message on the open connection; -1 if none is open. */
int ws_send(struct ws *w, const char *data, size_t len);
/*
 * Close the current connection with code (a Close frame when open) and
 * forget it: it yields no more events; queued ones are dropped.
 */
void ws_close(struct ws *w, int code, const char *reason);
/* 1 while a connection is current (resolving, connecting or open). */
int ws_active(const struct ws *w);
/* 1 when no connection, current or closing, is left. */
int ws_idle(const struct ws *w);

/* Next recorded event: 1 and *ev filled (free with ws_event_free), or 0. */
int ws_next_event(struct ws *w, struct ws_event *ev);
void ws_event_free(struct ws_event *ev);

/* ---- server ----------------------------------------------------------------- */

/*
 * A server (one vhost on the loop) answers HTTP requests and accepts
 * websockets on one path.  Two decisions are the owner's and are made at
 * once, inside the loop (so they must only look things up and format, and
 * must not call ws functions): the response to an HTTP request (respond),
 * and whether a websocket upgrade is let in (admit).  Everything a
 * websocket does after that is recorded as events the owner drains with
 * ws_server_next_event(): WS_EV_OPEN, WS_EV_MESSAGE (one whole message, or
 * a problem with one), and exactly one WS_EV_CLOSED for every admitted
 * connection, whether it got as far as OPEN or not.
 * What an untrusted peer can hold is bounded here: TCP connections per
 * address (max_per_peer), the request's headers (lws), the time to send
 * them (handshake_s), a message's size (a bigger one closes with 1009),
 * the replies it does not read (max_queued bytes: then it is closed), and
 * silence (no message for idle_s: closed with 1001).
 */
struct ws_server;
struct ws_peer;

struct ws_request {
	const char *method; /* "GET", "HEAD", "POST", ... ("" if unknown) */
	const char *path;   /* without the query */
	const char *peer;   /* the TCP peer's address */
	/* request headers, "" when absent */
	const char *host, *origin, *forwarded_for, *if_none_match;
};

#define WS_RESP_HEADERS 8

struct ws_response {
	int status;
	const char *content_type;
	const char *body; /* copied; not sent for HEAD */
	size_t len;
	/* extra headers: name (without ':') and value; the first NULL name ends them */
	const char *headers[WS_RESP_HEADERS][2];
};

struct ws_server_config {
	const char *iface; /* address to listen on ("127.0.0.1", "::", ...) */
	int port;          /* 0: any free port (ws_server_port) */
	const char *ws_path;
	size_t max_message;    /* bytes in one message from a client */
	size_t max_queued;     /* bytes of messages to one client not yet written */
	unsigned handshake_s;  /* to send the request headers */
	unsigned idle_s;       /* a websocket with no message from its client */
	unsigned max_per_peer; /* TCP connections from one address (0: no limit) */
	/* Is this TCP peer exempt from max_per_peer (a trusted proxy)? May be NULL. */
	int (*exempt)(void *arg, const char *peer);
	/* Fill *out for the request (a status 0 or a NULL body: 500). */
	void (*respond)(void *arg, const struct ws_request *rq, struct ws_response *out);
	/* A websocket upgrade on ws_path: the owner's pointer for the new
	 * connection (never NULL), or NULL with *out a refusal to send. */
	void *(*admit)(void *arg, const struct ws_request *rq, struct ws_peer *peer,
		       struct ws_response *out);
	void *arg;
};

/* Listen as configured; NULL with *cause (caller frees) if it cannot. */
struct ws_server *ws_server_new(struct ws_loop *l, const struct ws_server_config *c, char **cause);
/* Stops listening and drops every connection at once (no events follow). */
void ws_server_free(struct ws_server *s);
/* The port it listens on. */
int ws_server_port(const struct ws_server *s);
/* Next recorded event: 1 and *ev filled (free with ws_event_free), or 0. */
int ws_server_next_event(struct ws_server *s, struct ws_event *ev);
/*
 * Queue one text message to an open websocket.  -1 if it is closing or
 * gone, or if the client has not read max_queued bytes already (it is
 * then closed with 1008: a client that does not read holds no memory).
 */
int ws_peer_send(struct ws_peer *p, const char *data, size_t len);
/* Close it with code and reason (after what is queued); its CLOSED follows. */
void ws_peer_close(struct ws_peer *p, int code, const char *reason);

#endif
