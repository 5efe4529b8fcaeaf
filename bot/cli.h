/*
 * cli: the subcommands (ask, check, eval, chat, run) behind main().  Each
 * returns the process exit status documented in the README.
 */
#ifndef CLI_H
#define CLI_H

int cli_main(int argc, char **argv);

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,   /* problems found / below a minimum / runtime failure */
	EXIT_CONFIG = 2, /* usage, configuration or unreadable input */
	EXIT_REFUSED = 3 /* the platform refused us for good */
};

#endif
