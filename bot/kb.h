/*
 * kb: loads a knowledge folder from disk: scans it (sorted paths; symbolic
 * links are reported as problems, never followed), reads each file
 * (size-capped) and builds a knowledge version.  The only knowledge I/O;
 * everything else is in knowledge.c.
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

/*
 * The knowledge folder a file belongs to: the nearest folder above it
 * with a safety/ folder or a synonyms.txt.  Returns a new string (caller
 * frees), or NULL if there is none.
 */
char *kb_find_root(const char *file);

/*
 * One file on its own (an answer, a rule, synonyms.txt or the clinic
 * profile, told by its name and folder), without the checks across files.
 */
struct knowledge *kb_load_file(struct text_ctx *t, const char *file, const struct wordset *dict,
			       struct problems *pr, char **cause);

#endif
