/*
 * kb: loads a knowledge folder from disk: scans it (sorted paths, symlinks
 * not followed), reads each file (size-capped) and builds a knowledge
 * version.  The only knowledge I/O; everything else is in knowledge.c.
 */
#ifndef KB_H
#define KB_H

#include "knowledge.h"
#include "wordset.h"

/*
 * Returns a knowledge version, or NULL with *cause (caller frees) if the
 * folder cannot be read at all.  File problems are added to pr; a
 * knowledge built with problems must not be served.
 */
struct knowledge *kb_load(struct text_ctx *t, const char *dir, const struct wordset *dict,
			  struct problems *pr, char **cause);

/*
 * The system's English word lists (/usr/share/dict/american-english and
 * british-english, Debian's wamerican and wbritish), folded to lowercase.
 * Returns NULL if neither exists.  Free with wordset_free + free.
 */
struct wordset *kb_load_dictionary(struct text_ctx *t);

#endif
