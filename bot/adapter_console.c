/*
 * adapter_console: the bot in a terminal.  Reads one question per line from
 * standard input and prints the reply; reloads the knowledge on SIGHUP and
 * when asked with "/reload".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "log.h"

static int
console_run(struct bot *b)
{
	int tty = isatty(STDIN_FILENO);
	if (tty)
		printf("massagebot %s: ask me about massage for back pain (type quit to leave).\n\n",
		       MB_VERSION);
	char *line = NULL;
	size_t cap = 0;
	bot_ready(b);
	while (!bot_stop_requested) {
		if (tty) {
			printf("you> ");
			fflush(stdout);
		}
		errno = 0;
		ssize_t n = getline(&line, &cap, stdin);
		if (n < 0) {
			if (errno == EINTR && !bot_stop_requested) {
				clearerr(stdin);
				bot_tick(b); /* SIGHUP while waiting for input */
				continue;
			}
			break;
		}
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		line[len] = '\0';
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
		char *r = bot_answer(b, line, len);
		printf("%s%s\n\n", tty ? "bot> " : "", r);
		fflush(stdout);
		free(r);
	}
	free(line);
	if (tty)
		printf("\nbye!\n");
	return 0;
}

const struct adapter_ops adapter_console = {"console", console_run};
