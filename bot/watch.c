/*
 * watch: the knowledge watcher thread (see watch.h).
 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sys.h"
#include "xmem.h"

#define WATCH_DEPTH_MAX 8

struct watch {
	const char *dir;
	watch_rebuild_fn rebuild;
	void *arg;
	pthread_t thread;
	int efd; /* eventfd: a reload request, or the stop */
	atomic_int stopping;

	/* the rest belongs to the watcher thread once it runs */
	int ifd;           /* inotify; -1 while the folder is missing */
	int root_wd;       /* the folder's own watch */
	int lost;          /* the folder is missing: looking for it again */
	int retry_ms;      /* the next wait before looking again */
	int64_t retry_due; /* when to look again */
	int dirty;         /* a rebuild is due at `due` */
	int64_t due;
};

/* Could a file of this name (inotify gives the name, not the folder) be
 * part of the knowledge: an answer, a rule or message (.md), synonyms.txt,
 * safety/concepts.txt, clinic.yaml?  Editors' swap and backup files are not. */
static int
relevant_name(const char *name)
{
	static const char *const ext[] = {".md", ".txt", ".yaml"};
	size_t n = strlen(name);
	if (n == 0)
		return 1; /* the watched folder itself */
	if (name[0] == '.' || name[n - 1] == '~')
		return 0;
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t e = strlen(ext[i]);
		if (n > e && strcmp(name + n - e, ext[i]) == 0)
			return 1;
	}
	return 0;
}

/* Watch dir and the folders in it (symbolic links are not followed, as
 * the loader does not follow them).  Returns the folder's own watch, or
 * -1 with errno. */
static int
add_watches(int fd, const char *dir, int depth)
{
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
			      IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;
	int wd = inotify_add_watch(fd, dir, mask);
	if (wd < 0 || depth >= WATCH_DEPTH_MAX)
		return wd;
	DIR *d = opendir(dir);
	if (d == NULL)
		return wd;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
		    add_watches(fd, sub, depth + 1) < 0)
			log_warn("knowledge watcher: cannot watch %s: %s", sub, strerror(errno));
		free(sub);
	}
	closedir(d);
	return wd;
}

static void
forget(struct watch *w)
{
	if (w->ifd >= 0)
		close(w->ifd);
	w->ifd = -1;
	w->root_wd = -1;
}

/* Drop every watch and watch the folder as it is now.  On failure the
 * folder counts as missing and is looked for again after a backoff. */
static int
watch_afresh(struct watch *w)
{
	forget(w);
	const char *why = NULL;
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		why = strerror(errno);
	} else if ((w->root_wd = add_watches(w->ifd, w->dir, 0)) < 0) {
		why = strerror(errno);
		forget(w);
	}
	if (why == NULL) {
		if (w->lost)
			log_info("knowledge watcher: %s is there again; watching it", w->dir);
		w->lost = 0;
		return 0;
	}
	if (!w->lost) {
		log_warn("knowledge watcher: cannot watch %s: %s; looking for it again (still "
			 "serving the knowledge loaded before; SIGHUP reloads)",
			 w->dir, why);
		w->lost = 1;
		w->retry_ms = WATCH_RETRY_FIRST_MS;
	}
	w->retry_due = (int64_t)sys_now_ms() + w->retry_ms;
	if ((w->retry_ms *= 2) > WATCH_RETRY_MAX_MS)
		w->retry_ms = WATCH_RETRY_MAX_MS;
	return -1;
}

static void
mark_dirty(struct watch *w, int delay_ms)
{
	w->dirty = 1;
	w->due = (int64_t)sys_now_ms() + delay_ms;
}

static void
read_events(struct watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;
	while (w->ifd >= 0 && (len = read(w->ifd, buf, sizeof buf)) > 0) {
		for (char *q = buf; q < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)(void *)q;
			q += sizeof *ev + ev->len;
			if (ev->wd == w->root_wd &&
			    (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) {
				log_warn("knowledge watcher: %s was moved away or deleted; looking "
					 "for it again (still serving the knowledge loaded before)",
					 w->dir);
				forget(w);
				w->lost = 1; /* it may be back already (replaced): look now */
				w->retry_ms = WATCH_RETRY_FIRST_MS;
				w->retry_due = (int64_t)sys_now_ms();
				w->dirty = 0;
				return;
			}
			/* new folders are watched by the fresh watches every
			 * rebuild starts with */
			if ((ev->mask & (IN_Q_OVERFLOW | IN_ISDIR)) ||
			    relevant_name(ev->len ? ev->name : ""))
				mark_dirty(w, WATCH_DEBOUNCE_MS); /* wait for a quiet spell */
		}
	}
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	struct text_ctx *t = text_ctx_new();
	while (!atomic_load(&w->stopping)) {
		int64_t now = (int64_t)sys_now_ms(), next = -1;
		if (w->dirty && !w->lost)
			next = w->due;
		if (w->lost && (next < 0 || w->retry_due < next))
			next = w->retry_due;
		int timeout = next < 0 ? -1 : next > now ? (int)(next - now) : 0;
		struct pollfd p[2] = {{w->efd, POLLIN, 0}, {w->ifd, POLLIN, 0}};
		int n = poll(p, w->ifd >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (p[0].revents & POLLIN)) {
			uint64_t v;
			if (read(w->efd, &v, sizeof v) == sizeof v && !atomic_load(&w->stopping)) {
				log_info("knowledge watcher: reload requested; watching %s afresh",
					 w->dir);
				if (w->lost && watch_afresh(w) < 0)
					log_warn("knowledge watcher: %s is still missing; still "
						 "serving the knowledge loaded before",
						 w->dir);
				mark_dirty(w, 0);
			}
		}
		if (n > 0 && w->ifd >= 0 && (p[1].revents & POLLIN))
			read_events(w);
		now = (int64_t)sys_now_ms();
		if (w->lost && now >= w->retry_due && watch_afresh(w) == 0)
			mark_dirty(w, 0); /* back: load what is there now */
		if (w->dirty && !w->lost && now >= w->due) {
			w->dirty = 0;
			/* watch afresh before every rebuild: whatever happened to
			 * the folder, later edits are seen */
			if (watch_afresh(w) == 0)
				w->rebuild(w->arg, t);
		}
	}
	forget(w);
	text_ctx_free(t);
	return NULL;
}

struct watch *
watch_start(const char *dir, watch_rebuild_fn rebuild, void *arg, char **cause)
{
	struct watch *w = xcalloc(1, sizeof *w);
	w->dir = dir;
	w->rebuild = rebuild;
	w->arg = arg;
	w->ifd = w->root_wd = -1;
	atomic_init(&w->stopping, 0);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		*cause = xasprintf("eventfd: %s", strerror(errno));
		goto fail;
	}
	/* watch before start-up is reported, so no edit made after READY can
	 * be missed */
	if (watch_afresh(w) == 0)
		log_info("knowledge watcher: watching %s", dir);
	int rc = sys_thread_start(&w->thread, 0, watch_main, w);
	if (rc != 0) {
		*cause = xasprintf("cannot start the knowledge watcher: %s", strerror(rc));
		goto fail;
	}
	return w;
fail:
	forget(w);
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	return NULL;
}

void
watch_request(struct watch *w)
{
	uint64_t one = 1;
	if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("knowledge watcher: cannot pass on the reload request: %s",
			 strerror(errno));
}

void
watch_stop(struct watch *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stopping, 1);
	uint64_t one = 1;
	if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("cannot stop the knowledge watcher: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	close(w->efd);
	free(w);
}
