/*
 * ws: the one event loop of the process (a libwebsockets context) and the
 * websocket clients on it.  The only file that includes libwebsockets.h.
 *
 * The loop (struct ws_loop) is created with explicit vhosts: a client vhost
 * now, and a server vhost beside it when a platform serves websockets (the
 * web chat), so every network platform shares one poll and one thread.
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

#endif
