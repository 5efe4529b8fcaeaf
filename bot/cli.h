/*
 * cli: the subcommands (ask, check, eval, chat, run) behind main().  Each
 * returns the process exit status documented in the README.
 */
#ifndef CLI_H
#define CLI_H

#include "bot.h" /* the exit statuses */

int cli_main(int argc, char **argv);

#endif
