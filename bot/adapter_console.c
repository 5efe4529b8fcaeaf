/*
 * adapter_console: the bot in a terminal.  Reads one question per line from
 * standard input and prints the reply (on a terminal wrapped to its width,
 * with bold and emphasis; piped, as plain text: see tty.h); reloads the
 * knowledge on SIGHUP and when asked with "/reload".  The terminal is one
 * conversation: follow-ups and "did you mean" choices work as on the
 * chat platforms (the same ten minutes of memory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "convo.h"
#include "linein.h"
#include "log.h"
#include "sys.h"
#include "tty.h"

static int
console_run(struct bot *b)
{
	int tty = isatty(STDIN_FILENO);
	struct tty_out out;
	tty_detect(STDOUT_FILENO, &out);
	if (tty)
		printf(
		    "massagebot %s: ask me about massage for back pain (type quit to leave).\n\n",
		    MB_VERSION);
	struct linein in = LINEIN_INIT(STDIN_FILENO);
	struct convo *conv = convo_new(1, CONVO_TTL_MS);
	static const char key[] = "console";
	bot_ready(b);
	while (!bot_stop_requested) {
		if (tty) {
			printf("you> ");
			fflush(stdout);
		}
		size_t len;
		char *line = linein_next(&in, &len);
		if (line == NULL) {
			if (errno == EINTR && !bot_stop_requested) {
				bot_tick(b); /* SIGHUP while waiting for input */
				continue;
			}
			if (in.err)
				log_error("reading standard input: %s", strerror(in.err));
			break;
		}
		const char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strcmp(s, "quit") == 0 || strcmp(s, "exit") == 0)
			break;
		if (strcmp(s, "/reload") == 0) {
			bot_reload(b);
			continue;
		}
		if (*s == '\0')
			continue;
		bot_tick(b);
		struct convo_memory mem;
		uint64_t now = sys_now_ms();
		convo_get(conv, key, sizeof key - 1, now, &mem);
		struct chat_reply r;
		bot_answer(b, &b->ac, &mem, line, len, NULL, &r);
		convo_put(conv, key, sizeof key - 1, &mem, now);
		tty_print(stdout, &out, tty ? "bot> " : "", r.text);
		putchar('\n');
		fflush(stdout);
		chat_reply_free(&r);
	}
	linein_free(&in);
	convo_free(conv);
	if (tty)
		printf("\nbye!\n");
	return 0;
}

const struct adapter_ops adapter_console = {
    .name = "console",
    .auto_var = -1,
    .run = console_run,
};
