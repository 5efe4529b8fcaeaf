/*
 * web_proto: the web chat's frames (README "Web chat protocol") and the
 * small policies that are pure functions of a request: the WEB_LISTEN
 * address, the Origin allow-list, the trusted proxies and the client
 * address behind them.  Pure: no I/O, no clock, no environment.  Strings
 * it returns are new (caller frees); a web_frame owns its text.
 */
#ifndef WEB_PROTO_H
#define WEB_PROTO_H

#include <stddef.h>

#include "answer.h"

#define WEB_ID_MAX 33    /* an ask's id: 1-32 characters, NUL included */
#define WEB_HOST_MAX 256 /* the host part of WEB_LISTEN, an Origin or a Host header */
#define WEB_ADDR_MAX 46  /* a textual IPv4 or IPv6 address, NUL included */

/* ---- configuration ---------------------------------------------------------- */

/*
 * WEB_LISTEN: "ADDRESS:PORT", the address an IPv4 literal, an IPv6 literal
 * in brackets, or "localhost".  Returns 0 with the address (without
 * brackets; localhost as 127.0.0.1) and the port, or -1 with why.
 */
int web_parse_listen(const char *s, char *addr, size_t addr_len, int *port, char *why,
		     size_t why_len);
/* WEB_ALLOWED_ORIGINS: comma-separated origins (http[s]://host[:port]),
 * "self" (the bot's own origin) or "*" (any).  0, or -1 with why. */
int web_check_origins(const char *list, char *why, size_t why_len);
/*
 * May a page from origin open a chat?  host is the request's Host header:
 * "self" allows an origin whose host[:port] is it (the scheme is not
 * compared: a proxy in front may terminate TLS).  An absent origin is
 * refused (browsers always send one).
 */
int web_origin_allowed(const char *list, const char *origin, const char *host);
/* WEB_TRUSTED_PROXY: comma-separated IP addresses.  0, or -1 with why. */
int web_check_proxies(const char *list, char *why, size_t why_len);
/* Is ip one of the trusted proxies (list may be NULL: none)? */
int web_is_proxy(const char *list, const char *ip);
/*
 * The client's address: peer, unless peer is a trusted proxy and the
 * request has X-Forwarded-For: then the right-most address in it that is
 * not itself a trusted proxy (each proxy appends the address it saw; what
 * is further left was written by the client and proves nothing).
 */
void web_client_addr(const char *proxies, const char *peer, const char *xff, char *out,
		     size_t out_len);

/* ---- frames ------------------------------------------------------------------- */

enum web_frame_type {
	WEB_FRAME_ASK,
	WEB_FRAME_FEEDBACK,
	WEB_FRAME_OTHER /* a type this version does not know: ignored */
};

struct web_frame {
	enum web_frame_type type;
	char id[WEB_ID_MAX]; /* "" if it had no valid id */
	char *text;          /* ask: the question, no NUL inside; owned */
	size_t len;
	int helpful; /* feedback */
};

/*
 * Parse one frame from the widget.  Returns 0, or -1 with why (then id
 * holds the frame's id if it had a valid one, for the error reply).
 */
int web_parse_frame(const char *data, size_t len, struct web_frame *f, char *why, size_t why_len);
void web_frame_free(struct web_frame *f);

/* The frames to the widget (one JSON object each; caller frees). */
char *web_hello_json(const char *version, size_t max_frame);
char *web_typing_json(const char *id);
char *web_reply_json(const char *id, const struct chat_reply *r);
/* id NULL: about the connection; retry_ms 0: none given. */
char *web_error_json(const char *id, const char *error, const char *message, unsigned retry_ms);
char *web_feedback_ok_json(const char *id);

#endif
