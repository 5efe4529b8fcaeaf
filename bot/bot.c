/*
 * bot: platform-independent runtime (see bot.h).
 */
#include "bot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "kb.h"
#include "log.h"

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
	char *r = a.reply.text;
	a.reply.text = NULL;
	answer_free(&a);
	b->answered++;
	return r;
}

int
bot_reload(struct bot *b)
{
	struct problems pr = {0};
	char *cause = NULL;
	const char *dir = cfg_get(b->cfg, CFG_KNOWLEDGE_DIR);
	struct knowledge *k = kb_load(b->ac.text, dir, b->dict, &pr, &cause);
	if (k == NULL) {
		log_error("reload: %s; still serving the previous knowledge", cause);
		free(cause);
		problems_free(&pr);
		return -1;
	}
	if (pr.n || k->missing[0]) {
		problems_sort(&pr);
		for (size_t i = 0; i < pr.n; i++)
			log_error("reload: %s:%u:%u: %s", pr.v[i].file, pr.v[i].line, pr.v[i].col,
				  pr.v[i].msg);
		if (k->missing[0])
			log_error("reload: required safety rules missing in %s/safety: %s", dir,
				  k->missing);
		log_warn("reload: %zu problem%s in %s; still serving the previous knowledge (%zu answers)",
			 pr.n + (k->missing[0] != 0), pr.n + (k->missing[0] != 0) == 1 ? "" : "s", dir,
			 b->kb ? b->kb->nentries : 0);
		knowledge_free(k);
		problems_free(&pr);
		return -1;
	}
	problems_free(&pr);
	knowledge_free(b->kb);
	b->kb = k;
	log_info("knowledge loaded: %zu answers, %zu safety rules from %s", k->nentries, k->nrules,
		 dir);
	return 0;
}

void
bot_tick(struct bot *b)
{
	if (bot_reload_requested) {
		bot_reload_requested = 0;
		bot_reload(b);
	}
	sd_notify(0, "WATCHDOG=1");
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
