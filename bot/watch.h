/*
 * watch: the knowledge watcher.  A thread watches the knowledge folder and
 * every folder in it with inotify, waits for a quiet spell after a change
 * and calls the rebuild callback in its own thread.  It keeps watching
 * whatever happens to the folder: when the folder is moved away, deleted or
 * replaced (a deploy, a `git checkout` of a parent, an editor's safe-save
 * of a folder) it looks for it again with a backoff and rebuilds once it is
 * back; every reload request (SIGHUP) and every rebuild sets the watches up
 * afresh.  Each change of state is logged.
 * Threading: watch_start/watch_stop from one thread; watch_request from
 * any thread.  The callback runs on the watcher thread.
 */
#ifndef WATCH_H
#define WATCH_H

#include "text.h"

/* Debounce: a rebuild waits for this long without changes. */
#define WATCH_DEBOUNCE_MS 300
/* Looking for a missing folder: first retry, doubled up to the last. */
#define WATCH_RETRY_FIRST_MS 250
#define WATCH_RETRY_MAX_MS 8000

struct watch;

/* Called on the watcher thread with its own text context. */
typedef void (*watch_rebuild_fn)(void *arg, struct text_ctx *t);

/*
 * Watch dir (borrowed: valid until watch_stop) and start the thread; the
 * watches are in place when it returns, so no later edit is missed.  A
 * folder that cannot be watched is logged and looked for again.  Returns
 * NULL with *cause (caller frees) if the thread cannot start.
 */
struct watch *watch_start(const char *dir, watch_rebuild_fn rebuild, void *arg, char **cause);

/* Watch afresh, then rebuild at once (SIGHUP).  Any thread; never blocks. */
void watch_request(struct watch *w);

/* Stop the thread (waits for a rebuild in progress) and free w; NULL is
 * fine. */
void watch_stop(struct watch *w);

#endif
