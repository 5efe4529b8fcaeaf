/*
 * main: entry point; everything happens in cli.c, after the process's
 * hash key is drawn (the one thing done before any other code runs).
 */
#include "cli.h"
#include "hmap.h"
#include "sys.h"

int
main(int argc, char **argv)
{
	unsigned char key[16];
	sys_random(key, sizeof key);
	hmap_seed(key);
	return cli_main(argc, argv);
}
