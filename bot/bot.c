/*
 * bot: platform-independent runtime (see bot.h).
 */
#include "bot.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "kb.h"
#include "log.h"
#include "unanswered.h"
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

char *
bot_answer(struct bot *b, const char *text, size_t len)
{
	struct answer a;
	answer_question(b->kb, &b->ac, &b->mp, text, len, &a);
	log_debug("answered: intent=%s score=%.2f safety=%zu", a.intent_id ? a.intent_id : "-",
		  a.mr.score, a.reply.nshown);
	if (b->unanswered)
		unanswered_note(b->unanswered, b->kb, &a, LOW_MARGIN_LOG, time(NULL));
	char *r = a.reply.text;
	a.reply.text = NULL;
	answer_free(&a);
	b->answered++;
	return r;
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
	knowledge_free(b->kb);
	b->kb = k;
	log_info("knowledge reloaded: now serving %zu answers, %zu safety rules", k->nentries,
		 k->nrules);
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
	if (b->watch) {
		pthread_mutex_lock(&b->lock);
		struct knowledge *k = b->pending;
		b->pending = NULL;
		pthread_mutex_unlock(&b->lock);
		if (k) {
			knowledge_free(b->kb);
			b->kb = k;
			malloc_trim(0); /* give the old version's pages back */
			log_info("knowledge reloaded: now serving %zu answers, %zu safety rules",
				 k->nentries, k->nrules);
			sd_notifyf(0, "STATUS=knowledge reloaded, %zu answers", k->nentries);
		}
	}
	sd_notify(0, "WATCHDOG=1");
}

/* The watcher's callback: build a new version in its thread; hand it over
 * if it is good. */
static void
rebuild(void *arg, struct text_ctx *t)
{
	struct bot *b = arg;
	struct knowledge *k = load_checked(b, t);
	if (k == NULL)
		return;
	log_info("knowledge rebuilt: %zu answers, %zu safety rules; in use from the next message",
		 k->nentries, k->nrules);
	pthread_mutex_lock(&b->lock);
	knowledge_free(b->pending);
	b->pending = k;
	pthread_mutex_unlock(&b->lock);
	bot_wake(b);
}

int
bot_start(struct bot *b, char **cause)
{
	const char *path = cfg_get(b->cfg, CFG_UNANSWERED_LOG);
	if (path) {
		b->unanswered = unanswered_open(path, UNANSWERED_MAX_BYTES, cause);
		if (b->unanswered == NULL)
			return -1;
		log_info("unanswered questions are logged to %s", path);
	}
	pthread_mutex_init(&b->lock, NULL);
	b->watch = watch_start(cfg_get(b->cfg, CFG_KNOWLEDGE_DIR), rebuild, b, cause);
	if (b->watch == NULL) {
		pthread_mutex_destroy(&b->lock);
		return -1;
	}
	return 0;
}

void
bot_stop(struct bot *b)
{
	if (b->watch) {
		watch_stop(b->watch);
		b->watch = NULL;
		knowledge_free(b->pending);
		b->pending = NULL;
		pthread_mutex_destroy(&b->lock);
	}
	unanswered_close(b->unanswered);
	b->unanswered = NULL;
}

void
bot_wake(struct bot *b)
{
	if (b->wake)
		b->wake(b->wake_arg);
}

void
bot_ready(struct bot *b)
{
	if (b->ready_sent)
		return;
	b->ready_sent = 1;
	sd_notifyf(0, "READY=1\nSTATUS=starting, %zu answers", b->kb ? b->kb->nentries : 0);
}

void
bot_status(struct bot *b, const char *fmt, ...)
{
	(void)b;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
	log_info("%s", msg);
}
