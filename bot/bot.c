/*
 * bot: platform-independent runtime (see bot.h).
 */
#include "bot.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "feedback.h"
#include "followup.h"
#include "kb.h"
#include "log.h"
#include "unanswered.h"
#include "utf8.h"
#include "watch.h"
#include "xmem.h"

#define LOW_MARGIN_LOG 0.05

volatile sig_atomic_t bot_stop_requested;
volatile sig_atomic_t bot_reload_requested;

static void
on_stop(int sig)
{
	(void)sig;
	bot_stop_requested = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	bot_reload_requested = 1;
}

void
bot_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* A knowledge version and the threads still reading it (guarded by b->lock). */
struct kb_hold {
	struct kb_hold *next;
	struct knowledge *k;
	unsigned refs; /* readers, plus one while it is the version in use */
};

const struct knowledge *
bot_knowledge(struct bot *b)
{
	pthread_mutex_lock(&b->lock);
	struct kb_hold *h = b->held;
	h->refs++;
	pthread_mutex_unlock(&b->lock);
	return h->k;
}

/* Drop one reference to h; the caller holds b->lock.  Returns what to free. */
static struct knowledge *
unhold(struct bot *b, struct kb_hold *h)
{
	if (--h->refs)
		return NULL;
	for (struct kb_hold **pp = &b->held; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	struct knowledge *k = h->k;
	free(h);
	return k;
}

static void
free_version(struct knowledge *k)
{
	if (k == NULL)
		return;
	knowledge_free(k);
	malloc_trim(0); /* give the old version's pages back */
}

void
bot_knowledge_put(struct bot *b, const struct knowledge *k)
{
	struct knowledge *gone = NULL;
	pthread_mutex_lock(&b->lock);
	for (struct kb_hold *h = b->held; h; h = h->next)
		if (h->k == k) {
			gone = unhold(b, h);
			break;
		}
	pthread_mutex_unlock(&b->lock);
	free_version(gone);
}

void
bot_publish(struct bot *b, struct knowledge *k)
{
	size_t na = k->nentries, nr = k->nrules; /* k may be gone once published */
	struct kb_hold *h = xcalloc(1, sizeof *h);
	h->k = k;
	h->refs = 1;
	pthread_mutex_lock(&b->lock);
	struct kb_hold *old = b->held;
	h->next = old;
	b->held = h; /* the head is the version in use */
	struct knowledge *gone = old ? unhold(b, old) : NULL;
	pthread_mutex_unlock(&b->lock);
	free_version(gone);
	log_info("knowledge reloaded: now serving %zu answers, %zu safety rules", na, nr);
	sd_notifyf(0, "STATUS=knowledge reloaded, %zu answers", na);
}

size_t
bot_answers(struct bot *b)
{
	pthread_mutex_lock(&b->lock);
	size_t n = b->held ? b->held->k->nentries : 0;
	pthread_mutex_unlock(&b->lock);
	return n;
}

void
bot_answer(struct bot *b, struct answer_ctx *ac, struct convo_memory *mem, const char *text,
	   size_t len, const char *log_text, struct chat_reply *out)
{
	const struct knowledge *k = bot_knowledge(b);
	struct answer a;
	enum followup_how how = followup_answer(k, ac, &b->mp, mem, text, len, &a);
	if (mem)
		followup_remember(k, &a, mem);
	log_debug("answered: intent=%s score=%.2f safety=%zu read=%s",
		  a.intent_id ? a.intent_id : "-", a.mr.score, a.reply.nshown,
		  followup_how_name(how));
	if (b->unanswered) {
		/* the platform's copy for the log, repaired and cut like the question */
		char *q = NULL;
		if (log_text) {
			size_t n;
			q = utf8_repair(log_text, strlen(log_text), &n);
			q[utf8_cut(q, n, ANSWER_INPUT_MAX)] = '\0';
		}
		pthread_mutex_lock(&b->log_lock);
		unanswered_note(b->unanswered, k, &a, q ? q : a.question, LOW_MARGIN_LOG,
				time(NULL));
		pthread_mutex_unlock(&b->log_lock);
		free(q);
	}
	answer_chat(k, &a, out);
	answer_free(&a);
	bot_knowledge_put(b, k);
}

void
bot_feedback(struct bot *b, const char *answer_id, int helpful, const char *platform)
{
	log_debug("feedback: %s on %s from %s", helpful ? "helpful" : "not helpful", answer_id,
		  platform);
	if (b->feedback == NULL)
		return;
	pthread_mutex_lock(&b->log_lock);
	feedback_note(b->feedback, answer_id, helpful, platform, time(NULL));
	pthread_mutex_unlock(&b->log_lock);
}

/*
 * Load KNOWLEDGE_DIR into a new version; NULL (after logging every problem
 * with its file:line:col) if it cannot be served.  Any thread, with its own
 * text context.
 */
static struct knowledge *
load_checked(struct bot *b, struct text_ctx *t)
{
	struct problems pr = {0};
	char *cause = NULL;
	const char *dir = cfg_get(b->cfg, CFG_KNOWLEDGE_DIR);
	struct knowledge *k = kb_load(t, dir, b->dict, &pr, &cause);
	if (k == NULL) {
		log_error("reload: %s; still serving the previous knowledge", cause);
		free(cause);
	} else if (pr.n || k->missing[0]) {
		problems_sort(&pr);
		for (size_t i = 0; i < pr.n; i++)
			log_error("reload: %s:%u:%u: %s", pr.v[i].file, pr.v[i].line, pr.v[i].col,
				  pr.v[i].msg);
		if (k->missing[0])
			log_error("reload: required safety rules missing in %s/safety: %s", dir,
				  k->missing);
		log_warn("reload: the knowledge in %s has problems; still serving the previous "
			 "version",
			 dir);
		knowledge_free(k);
		k = NULL;
	}
	problems_free(&pr);
	return k;
}

int
bot_reload(struct bot *b)
{
	struct knowledge *k = load_checked(b, b->ac.text);
	if (k == NULL)
		return -1;
	bot_publish(b, k);
	return 0;
}

void
bot_tick(struct bot *b)
{
	if (bot_reload_requested) {
		bot_reload_requested = 0;
		if (b->watch) {
			watch_request(b->watch); /* rebuilds off the loop */
		} else {
			bot_reload(b);
		}
	}
	sd_notify(0, "WATCHDOG=1");
}

/* The watcher's callback: build a new version on its thread; publish it
 * if it is good. */
static void
rebuild(void *arg, struct text_ctx *t)
{
	struct bot *b = arg;
	struct knowledge *k = load_checked(b, t);
	if (k == NULL)
		return;
	size_t na = k->nentries, nr = k->nrules;
	bot_publish(b, k); /* first: a message read after the line below gets it */
	log_info("knowledge rebuilt: %zu answers, %zu safety rules; in use from the next message",
		 na, nr);
}

int
bot_start(struct bot *b, char **cause)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->log_lock, NULL);
	b->held = xcalloc(1, sizeof *b->held);
	b->held->k = b->kb; /* the serving copy from now on */
	b->held->refs = 1;
	b->kb = NULL;
	const char *path = cfg_get(b->cfg, CFG_UNANSWERED_LOG);
	if (path) {
		b->unanswered =
		    unanswered_open(path, UNANSWERED_MAX_BYTES,
				    atoi(cfg_get(b->cfg, CFG_UNANSWERED_DAYS)), time(NULL), cause);
		if (b->unanswered == NULL)
			return -1;
		log_info("unanswered questions are logged to %s", path);
	}
	path = cfg_get(b->cfg, CFG_FEEDBACK_LOG);
	if (path) {
		b->feedback = feedback_open(path, atoi(cfg_get(b->cfg, CFG_UNANSWERED_DAYS)),
					    time(NULL), cause);
		if (b->feedback == NULL)
			return -1;
		log_info("thumbs up and down are logged to %s", path);
	}
	b->watch = watch_start(cfg_get(b->cfg, CFG_KNOWLEDGE_DIR), rebuild, b, cause);
	return b->watch ? 0 : -1;
}

void
bot_stop(struct bot *b)
{
	watch_stop(b->watch);
	b->watch = NULL;
	unanswered_close(b->unanswered);
	b->unanswered = NULL;
	feedback_close(b->feedback);
	b->feedback = NULL;
	/* every reader is gone: only the version in use is left */
	if (b->held) {
		knowledge_free(b->held->k);
		free(b->held);
		b->held = NULL;
	}
	pthread_mutex_destroy(&b->log_lock);
	pthread_mutex_destroy(&b->lock);
}

void
bot_ready(struct bot *b)
{
	if (b->ready_sent)
		return;
	b->ready_sent = 1;
	sd_notifyf(0, "READY=1\nSTATUS=starting, %zu answers", bot_answers(b));
}
