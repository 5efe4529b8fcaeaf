/*
 * http: HTTP requests with libcurl on one worker thread, so slow REST calls
 * never block the event loop.  The only file that includes curl/curl.h.
 * The worker drives a curl multi handle: up to `parallel` transfers at once
 * (one slow request does not hold up the others), started in submission
 * order, at most `rate` started in any `window_ms` (a budget beside the
 * caller's own rate limits), over one pool of kept-alive connections
 * (HTTP/2 multiplexed where the server speaks it) and one TLS session
 * cache.  https verifies servers against the trusted certificates given
 * (tls.h), the same store the gateway uses.  A caller that needs order
 * submits the next request only after the previous one is done.  A
 * finished request goes to a done queue and the loop is woken through the
 * callback given to http_new().  Knows nothing about Discord: rate limits
 * and retries are the caller's policy.
 * Threading: http_submit/http_done/http_free on the loop thread only; the
 * wake callback runs on the worker thread.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "strbuf.h"

#define HTTP_MAX_HEADERS 8
#define HTTP_PARALLEL 4 /* transfers at once, and connections kept to one host */

struct tls_trust;

struct http_req {
	/* request: set by the caller, owned by the request */
	int post; /* 0 GET, 1 POST */
	char *url;
	char *body; /* POST body */
	size_t body_len;
	char *headers[HTTP_MAX_HEADERS]; /* "Name: value" (may hold secrets: never logged) */
	size_t nheaders;
	long timeout_ms; /* whole transfer; 0 = 15 s */
	void *user;      /* caller's */
	/* result: set by the worker */
	long status;        /* HTTP status; 0 if the transfer failed */
	char err[256];      /* why it failed (secrets masked, fit for the log) */
	struct strbuf resp; /* response body (bounded) */
	struct strbuf hdrs; /* response header lines (bounded) */
	uint64_t ms;        /* time taken */
	struct qlink link;  /* internal */
};

/* A new empty request; free with http_req_free(). */
struct http_req *http_req_new(int post, const char *url);
/* Add a header line (copied). */
void http_req_header(struct http_req *r, const char *line);
void http_req_free(struct http_req *r);

struct http_opts {
	struct tls_trust *trust; /* for https (borrowed: outlives the http); NULL: http:// only */
	unsigned parallel;       /* transfers at once, 1..HTTP_PARALLEL */
	unsigned rate;           /* requests started in any window_ms at most; 0: no cap */
	unsigned window_ms;
};

struct http;

/*
 * Start the worker.  wake(arg) is called from the worker thread after each
 * request finishes.  NULL with *cause (caller frees) on failure.
 */
struct http *http_new(const struct http_opts *o, void (*wake)(void *), void *arg, char **cause);
/* Queue r: it belongs to the module until http_done() hands it back. */
void http_submit(struct http *h, struct http_req *r);
/* One finished request (in completion order), or NULL. */
struct http_req *http_done(struct http *h);
/*
 * Abort the transfers in flight, stop the worker and free it, with every
 * request submitted and not yet handed back by http_done().
 */
void http_free(struct http *h);

#endif
