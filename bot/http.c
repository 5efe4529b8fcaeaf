/*
 * http: libcurl worker threads (see http.h).  Only this file includes
 * curl/curl.h.  The request queue and done queue are guarded by one mutex;
 * the quit flag is atomic so curl's progress callback can abort a transfer.
 */
#include "http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sys.h"
#include "xmem.h"

#define RESP_MAX (1u << 20) /* response body bytes */
#define HDRS_MAX (64u << 10)

struct worker {
	struct http *h;
	pthread_t thread;
	CURL *curl; /* reused: keep-alive connections */
	int started;
};

struct http {
	struct worker w[HTTP_WORKERS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue q;    /* waiting */
	struct queue done; /* finished, not yet taken */
	atomic_int quit;
	void (*wake)(void *);
	void *arg;
};

struct http_req *
http_req_new(int post, const char *url)
{
	struct http_req *r = xcalloc(1, sizeof *r);
	r->post = post;
	r->url = xstrdup(url);
	return r;
}

void
http_req_header(struct http_req *r, const char *line)
{
	if (r->nheaders < HTTP_MAX_HEADERS)
		r->headers[r->nheaders++] = xstrdup(line);
}

void
http_req_free(struct http_req *r)
{
	if (r == NULL)
		return;
	free(r->url);
	free(r->body);
	for (size_t i = 0; i < r->nheaders; i++) {
		/* headers may hold the token: wipe before freeing */
		memset(r->headers[i], 0, strlen(r->headers[i]));
		free(r->headers[i]);
	}
	sb_free(&r->resp);
	sb_free(&r->hdrs);
	free(r);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;
	if (r->resp.len + len > RESP_MAX)
		return 0; /* curl fails the transfer with a write error */
	sb_add(&r->resp, p, len);
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		sb_reset(&r->hdrs); /* a new response (after 100 Continue) */
	if (r->hdrs.len + len <= HDRS_MAX)
		sb_add(&r->hdrs, p, len);
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	struct http *h = arg;
	return atomic_load(&h->quit) ? 1 : 0; /* non-zero aborts the transfer */
}

static void
perform(struct http *h, CURL *c, struct http_req *r)
{
	curl_easy_reset(c);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		hl = curl_slist_append(hl, r->headers[i]);
	hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : 15000L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (r->post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	uint64_t t0 = sys_now_ms();
	CURLcode rc = curl_easy_perform(c);
	r->ms = sys_now_ms() - t0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		r->status = 0;
		snprintf(r->err, sizeof r->err, "%.100s%s%.140s", curl_easy_strerror(rc),
			 errbuf[0] ? ": " : "", errbuf);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct http *h = w->h;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		while (!atomic_load(&h->quit) && h->q.head == NULL)
			pthread_cond_wait(&h->cv, &h->mu);
		if (atomic_load(&h->quit)) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		struct http_req *r = queue_entry(queue_pop(&h->q), struct http_req, link);
		pthread_mutex_unlock(&h->mu);

		perform(h, w->curl, r);

		pthread_mutex_lock(&h->mu);
		queue_push(&h->done, &r->link);
		pthread_mutex_unlock(&h->mu);
		if (!atomic_load(&h->quit))
			h->wake(h->arg);
	}
	return NULL;
}

struct http *
http_new(void (*wake)(void *), void *arg, char **cause)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*cause = xstrdup("cannot initialise libcurl");
		return NULL;
	}
	struct http *h = xcalloc(1, sizeof *h);
	h->wake = wake;
	h->arg = arg;
	atomic_init(&h->quit, 0);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	for (int i = 0; i < HTTP_WORKERS; i++) {
		struct worker *w = &h->w[i];
		w->h = h;
		w->curl = curl_easy_init();
		if (w->curl == NULL) {
			*cause = xstrdup("cannot create a libcurl handle");
			goto fail;
		}
		/* workers (and curl's resolver threads, which inherit the mask)
		 * never take signals */
		if (sys_thread_start(&w->thread, 0, worker_main, w) != 0) {
			*cause = xstrdup("cannot start an HTTP worker thread");
			goto fail;
		}
		w->started = 1;
	}
	return h;
fail:
	http_free(h);
	return NULL;
}

void
http_submit(struct http *h, struct http_req *r)
{
	pthread_mutex_lock(&h->mu);
	queue_push(&h->q, &r->link);
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

struct http_req *
http_done(struct http *h)
{
	pthread_mutex_lock(&h->mu);
	struct qlink *l = queue_pop(&h->done);
	pthread_mutex_unlock(&h->mu);
	return l ? queue_entry(l, struct http_req, link) : NULL;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->quit, 1);
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < HTTP_WORKERS; i++) {
		if (h->w[i].started)
			pthread_join(h->w[i].thread, NULL);
		if (h->w[i].curl)
			curl_easy_cleanup(h->w[i].curl);
	}
	/* every request left is in one of the queues now: they are ours */
	struct queue *qs[] = {&h->q, &h->done};
	for (size_t i = 0; i < 2; i++) {
		struct qlink *l;
		while ((l = queue_pop(qs[i])) != NULL)
			http_req_free(queue_entry(l, struct http_req, link));
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
	curl_global_cleanup();
}
