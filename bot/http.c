/*
 * http: one libcurl worker thread driving a multi handle (see http.h).
 * Only this file includes curl/curl.h.  The request and done queues are
 * guarded by one mutex; the loop wakes the worker with curl_multi_wakeup.
 * The multi handle holds the connection pool; a share handle holds the TLS
 * sessions; every TLS context libcurl makes gets the one trusted store
 * (tls_ctx_setup) instead of reading the CA bundle again.
 */
#include "http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "sys.h"
#include "tls.h"
#include "xmem.h"

#define RESP_MAX (1u << 20) /* response body bytes */
#define HDRS_MAX (64u << 10)
#define IDLE_POLL_MS 1000

/* One transfer slot: an easy handle reused from request to request. */
struct slot {
	CURL *easy;
	struct http_req *r; /* NULL: free */
	struct curl_slist *hl;
	uint64_t t0;
	struct http *h;
	unsigned start_at; /* its entry in h->starts, while h->o.rate */
	char errbuf[CURL_ERROR_SIZE];
};

struct http {
	struct http_opts o;
	CURLM *multi; /* the connection pool */
	CURLSH *share;
	struct slot slots[HTTP_PARALLEL];
	unsigned busy;
	uint64_t *starts; /* ring of the last o.rate start times */
	unsigned nstarts, next_start;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
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

/* Every TLS context libcurl makes verifies against the one store. */
static CURLcode
on_ssl_ctx(CURL *c, void *ssl_ctx, void *arg)
{
	(void)c;
	return tls_ctx_setup(arg, ssl_ctx) == 0 ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

/*
 * libcurl as Debian builds it links GnuTLS (through librtmp and libldap)
 * although our transfers use only OpenSSL, and GnuTLS sets itself up as
 * soon as it is loaded: about 0.8 MB for nothing.  GnuTLS's documented way
 * out (GNUTLS_SKIP_GLOBAL_INIT in <gnutls/gnutls.h>) is this function in
 * the program, which the Makefile exports so that GnuTLS finds it.  Should
 * anything use GnuTLS after all, its gnutls_global_init() still works.
 */
int _gnutls_global_init_skip(void);
int
_gnutls_global_init_skip(void)
{
	return 1;
}

/* ---- the worker ------------------------------------------------------------ */

/*
 * The request is about to go out (its connection made or reused): its
 * entry in the rate window moves from when it was started to now, so that
 * a connection slow to open (a TLS handshake on a loaded machine) does not
 * let the window's next requests arrive within the same second.  Runs on
 * the worker thread, inside curl_multi_perform.
 */
static int
on_prereq(void *data, char *ip, char *local_ip, int port, int local_port)
{
	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	struct slot *s = data;
	uint64_t now = sys_now_ms(), *at = &s->h->starts[s->start_at];
	if (*at < now)
		*at = now;
	return CURL_PREREQFUNC_OK;
}

static void
setup(struct http *h, struct slot *s, struct http_req *r)
{
	CURL *c = s->easy;
	curl_easy_reset(c);
	s->r = r;
	s->errbuf[0] = '\0';
	s->hl = NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		s->hl = curl_slist_append(s->hl, r->headers[i]);
	s->hl = curl_slist_append(s->hl, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, s);
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : 15000L);
	curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L); /* HTTP/2: share the connection */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hl);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	if (h->o.rate) {
		curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(c, CURLOPT_PREREQDATA, s);
	}
	if (h->o.trust) {
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		/* not libcurl's own bundle and cache: the shared store only */
		curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h->o.trust);
	} else {
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	}
	if (r->post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	s->t0 = sys_now_ms();
	curl_multi_add_handle(h->multi, c);
	h->busy++;
}

/*
 * Why a transfer failed, in r->err, as the gateway's lines say it for TLS
 * (ws.c): masked before it is cut (log_clean).
 */
static void
describe_failure(struct slot *s, CURLcode rc)
{
	char buf[512], problem[160], peer[80] = "the server";
	char *ip = NULL;
	long port = 0, v = 0;
	size_t el = strlen(s->errbuf);
	while (el && (s->errbuf[el - 1] == ' ' || s->errbuf[el - 1] == '\n'))
		s->errbuf[--el] = '\0';
	if (curl_easy_getinfo(s->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip &&
	    curl_easy_getinfo(s->easy, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
		snprintf(peer, sizeof peer, "%.46s:%ld", ip, port);
	if (rc == CURLE_PEER_FAILED_VERIFICATION) {
		curl_easy_getinfo(s->easy, CURLINFO_SSL_VERIFYRESULT, &v);
		/* libcurl checks the host name itself, after OpenSSL's checks */
		if (strstr(s->errbuf, "subject name") || strstr(s->errbuf, "match target host"))
			v = TLS_ERR_HOSTNAME;
	}
	if (v != 0) {
		tls_cert_problem(v, problem, sizeof problem);
		snprintf(buf, sizeof buf, "TLS certificate of %s refused: %s", peer, problem);
	} else if (rc == CURLE_SSL_CONNECT_ERROR) {
		snprintf(buf, sizeof buf, "TLS handshake with %s broke off (%s)", peer, s->errbuf);
	} else if (rc == CURLE_OPERATION_TIMEDOUT && strstr(s->errbuf, "SSL")) {
		snprintf(buf, sizeof buf, "TLS handshake with %s did not finish (timed out)", peer);
	} else {
		snprintf(buf, sizeof buf, "%s%s%s", curl_easy_strerror(rc), el ? ": " : "",
			 s->errbuf);
	}
	log_clean(s->r->err, sizeof s->r->err, buf, strlen(buf));
}

static void
finish(struct http *h, struct slot *s, CURLcode rc)
{
	struct http_req *r = s->r;
	r->ms = sys_now_ms() - s->t0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		r->status = 0;
		describe_failure(s, rc);
	}
	curl_multi_remove_handle(h->multi, s->easy);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(s->hl);
	s->hl = NULL;
	s->r = NULL;
	h->busy--;
	pthread_mutex_lock(&h->mu);
	queue_push(&h->done, &r->link);
	pthread_mutex_unlock(&h->mu);
	if (!atomic_load(&h->quit))
		h->wake(h->arg);
}

/* 0 if one more request may start now, else ms until one may. */
static uint64_t
rate_wait(const struct http *h, uint64_t now)
{
	if (h->o.rate == 0 || h->nstarts < h->o.rate)
		return 0;
	uint64_t oldest = h->starts[h->next_start]; /* the ring is full: next is oldest */
	return oldest + h->o.window_ms > now ? oldest + h->o.window_ms - now : 0;
}

/* Note a start at now in the window; its entry's index. */
static unsigned
note_start(struct http *h, uint64_t now)
{
	if (h->o.rate == 0)
		return 0;
	unsigned at = h->next_start;
	h->starts[h->next_start] = now;
	h->next_start = (h->next_start + 1) % h->o.rate;
	if (h->nstarts < h->o.rate)
		h->nstarts++;
	return at;
}

/* Start waiting requests while slots and the rate allow; returns ms until
 * the rate lets the next one go (0: none waits for it). */
static uint64_t
start_some(struct http *h)
{
	for (;;) {
		if (h->busy >= h->o.parallel)
			return 0;
		uint64_t now = sys_now_ms(), wait = rate_wait(h, now);
		pthread_mutex_lock(&h->mu);
		struct qlink *l = wait ? NULL : queue_pop(&h->q);
		int more = h->q.head != NULL;
		pthread_mutex_unlock(&h->mu);
		if (l == NULL)
			return more ? wait : 0;
		struct slot *s = NULL;
		for (unsigned i = 0; i < h->o.parallel && s == NULL; i++)
			if (h->slots[i].r == NULL)
				s = &h->slots[i];
		s->h = h;
		s->start_at = note_start(h, now);
		setup(h, s, queue_entry(l, struct http_req, link));
	}
}

static void *
worker_main(void *arg)
{
	struct http *h = arg;
	while (!atomic_load(&h->quit)) {
		uint64_t wait = start_some(h);
		int running = 0;
		curl_multi_perform(h->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct slot *s = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			finish(h, s, m->data.result);
		}
		if (h->busy < h->o.parallel && wait == 0) {
			/* a slot came free: start what waits before sleeping */
			pthread_mutex_lock(&h->mu);
			int waiting = h->q.head != NULL;
			pthread_mutex_unlock(&h->mu);
			if (waiting)
				continue;
		}
		curl_multi_poll(h->multi, NULL, 0, wait ? (int)wait : IDLE_POLL_MS, NULL);
	}
	/* stopping: what is in flight goes back unfinished, for http_free */
	for (unsigned i = 0; i < h->o.parallel; i++)
		if (h->slots[i].r)
			finish(h, &h->slots[i], CURLE_ABORTED_BY_CALLBACK);
	return NULL;
}

/* ---- the loop's side --------------------------------------------------------- */

struct http *
http_new(const struct http_opts *o, void (*wake)(void *), void *arg, char **cause)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*cause = xstrdup("cannot initialise libcurl");
		return NULL;
	}
	struct http *h = xcalloc(1, sizeof *h);
	h->o = *o;
	if (h->o.parallel == 0 || h->o.parallel > HTTP_PARALLEL)
		h->o.parallel = HTTP_PARALLEL;
	if (h->o.rate)
		h->starts = xcalloc(h->o.rate, sizeof *h->starts);
	h->wake = wake;
	h->arg = arg;
	atomic_init(&h->quit, 0);
	pthread_mutex_init(&h->mu, NULL);
	h->multi = curl_multi_init();
	h->share = curl_share_init();
	if (h->multi == NULL || h->share == NULL) {
		*cause = xstrdup("cannot create the libcurl handles");
		goto fail;
	}
	/* one thread uses them: no locks needed */
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->o.parallel);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->o.parallel);
	for (unsigned i = 0; i < h->o.parallel; i++) {
		h->slots[i].easy = curl_easy_init();
		if (h->slots[i].easy == NULL) {
			*cause = xstrdup("cannot create a libcurl handle");
			goto fail;
		}
	}
	/* the worker (and curl's resolver threads, which inherit the mask)
	 * never takes signals */
	if (sys_thread_start(&h->thread, 0, worker_main, h) != 0) {
		*cause = xstrdup("cannot start the HTTP worker thread");
		goto fail;
	}
	h->started = 1;
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
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
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
	atomic_store(&h->quit, 1);
	if (h->started) {
		curl_multi_wakeup(h->multi);
		pthread_join(h->thread, NULL);
	}
	for (unsigned i = 0; i < HTTP_PARALLEL; i++)
		if (h->slots[i].easy)
			curl_easy_cleanup(h->slots[i].easy);
	curl_multi_cleanup(h->multi);
	curl_share_cleanup(h->share);
	/* every request left is in one of the queues now: they are ours */
	struct queue *qs[] = {&h->q, &h->done};
	for (size_t i = 0; i < 2; i++) {
		struct qlink *l;
		while ((l = queue_pop(qs[i])) != NULL)
			http_req_free(queue_entry(l, struct http_req, link));
	}
	pthread_mutex_destroy(&h->mu);
	free(h->starts);
	free(h);
	curl_global_cleanup();
}
