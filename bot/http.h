/*
 * http: HTTP requests on worker threads with libcurl, so slow REST calls
 * never block the event loop.  The only file that includes curl/curl.h.
 * HTTP_WORKERS threads take requests in submission order, each on its own
 * reused handle (keep-alive), so one slow request does not hold up the
 * others; a caller that needs order submits the next request only after
 * the previous one is done.  A finished request goes to a done queue and
 * the loop is woken through the callback given to http_new().  Knows
 * nothing about Discord: rate limits and retries are the caller's policy.
 * Threading: http_submit/http_done/http_free on the loop thread only;
 * the wake callback runs on a worker thread.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "strbuf.h"

#define HTTP_MAX_HEADERS 8
#define HTTP_WORKERS 4

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
	char err[256];      /* why it failed (no secrets) */
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

struct http;

/*
 * Start the worker.  wake(arg) is called from the worker thread after each
 * request finishes.  NULL with *cause (caller frees) on failure.
 */
struct http *http_new(void (*wake)(void *), void *arg, char **cause);
/* Queue r: it belongs to the module until http_done() hands it back. */
void http_submit(struct http *h, struct http_req *r);
/* One finished request (in completion order), or NULL. */
struct http_req *http_done(struct http *h);
/*
 * Abort the transfers in flight, stop the workers and free it, with every
 * request submitted and not yet handed back by http_done().
 */
void http_free(struct http *h);

#endif
