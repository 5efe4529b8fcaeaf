/*
 * web_assets: the files of bot/web/ (the demo page and the widget), built
 * into the binary by the Makefile (build/web_assets.c, generated), so that
 * the installed bot serves them without any file beside it.
 */
#ifndef WEB_ASSETS_H
#define WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *name; /* the file's name in bot/web/ */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif
