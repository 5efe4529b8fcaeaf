/*
 * kb: knowledge folder scanning and reading (see kb.h).
 */
#include "kb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wordset.h"
#include "xmem.h"

#define MAX_FILES 100000
#define MAX_DEPTH 8
#define DICT_FILE_MAX (16 * 1024 * 1024) /* an English word list: about 1 MB */

struct scan {
	char **rel;
	size_t n, cap;
	struct problems skipped; /* what is not read, and why (file = rel path) */
};

/* The most bytes read of a file: more for the word lists. */
static size_t
file_cap(const char *rel)
{
	enum kb_file_kind k = knowledge_file_kind(rel);
	return k == KBF_CLASSIFIER || k == KBF_RULE_WORDS ? KB_MODEL_MAX
	       : k == KBF_CONCEPTS                        ? KB_CONCEPTS_MAX
							  : KB_FILE_MAX;
}

static int
scan_dir(const char *root, const char *rel, int depth, struct scan *s, char **cause)
{
	char *path = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(path);
	if (d == NULL) {
		*cause = xasprintf("cannot read knowledge folder %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ., .., editor swap and hidden files */
		char *r = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		char *full = xasprintf("%s/%s", root, r);
		struct stat st;
		mode_t mode = lstat(full, &st) == 0 ? st.st_mode : 0;
		int wanted = knowledge_file_kind(r) != KBF_IGNORED;
		if (S_ISLNK(mode)) {
			/* never followed (a link may lead out of the folder, or in a
			 * loop); said, so a linked answer is not silently missing */
			int to_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
			if (to_dir || wanted)
				problems_add(
				    &s->skipped, r, 1, 1,
				    "is a symbolic link%s; links are not followed: put the "
				    "%s itself here",
				    to_dir ? " to a folder" : "", to_dir ? "folder" : "file");
		} else if (S_ISDIR(mode) && depth >= MAX_DEPTH) {
			problems_add(&s->skipped, r, 1, 1,
				     "folders nested more than %d deep are not read", MAX_DEPTH);
		} else if (S_ISDIR(mode)) {
			if (scan_dir(root, r, depth + 1, s, cause) < 0) {
				free(r);
				free(full);
				closedir(d);
				free(path);
				return -1;
			}
		} else if (S_ISREG(mode) && wanted && s->n >= MAX_FILES) {
			if (s->n == MAX_FILES)
				problems_add(
				    &s->skipped, r, 1, 1,
				    "more than %d files: this one and the rest are not read",
				    MAX_FILES);
		} else if (S_ISREG(mode) && wanted) {
			s->rel = xgrow(s->rel, &s->cap, s->n + 1, sizeof *s->rel);
			s->rel[s->n++] = r;
			r = NULL;
		}
		free(r);
		free(full);
	}
	closedir(d);
	free(path);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
read_file(const char *path, size_t limit, size_t *len, long long *mtime, char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = xstrdup(strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > limit) {
		*err = xasprintf("file is too large (%lld bytes, limit %zu): split it",
				 (long long)st.st_size, limit);
		close(fd);
		return NULL;
	}
	if (mtime)
		*mtime = (long long)st.st_mtime;
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = xstrdup(strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			if (cap > limit) {
				*err = xasprintf("file is too large (limit %zu bytes): split it",
						 limit);
				free(buf);
				close(fd);
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct knowledge *
kb_load(struct text_ctx *t, const char *dir, const struct wordset *dict, struct problems *pr,
	char **cause)
{
	struct scan s = {0};
	char *root = xstrdup(dir);
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		root[--rl] = '\0';
	if (scan_dir(root, "", 0, &s, cause) < 0) {
		for (size_t i = 0; i < s.n; i++)
			free(s.rel[i]);
		free(s.rel);
		problems_free(&s.skipped);
		free(root);
		return NULL;
	}
	for (size_t i = 0; i < s.skipped.n; i++) {
		char *path = xasprintf("%s/%s", root, s.skipped.v[i].file);
		problems_add(pr, path, 1, 1, "%s", s.skipped.v[i].msg);
		free(path);
	}
	problems_free(&s.skipped);
	if (s.n > 1)
		qsort(s.rel, s.n, sizeof *s.rel, cmp_str);
	struct kb_file *files = xcalloc(s.n ? s.n : 1, sizeof *files);
	size_t nf = 0;
	for (size_t i = 0; i < s.n; i++) {
		char *path = xasprintf("%s/%s", root, s.rel[i]);
		char *err = NULL;
		size_t len = 0;
		long long mtime = 0;
		size_t cap = file_cap(s.rel[i]);
		char *data = read_file(path, cap, &len, &mtime, &err);
		if (data == NULL) {
			problems_add(pr, path, 1, 1, "%s", err);
			free(err);
			free(path);
			free(s.rel[i]);
			continue;
		}
		files[nf].path = path;
		files[nf].rel = s.rel[i];
		files[nf].data = data;
		files[nf].len = len;
		files[nf].mtime = mtime;
		nf++;
	}
	free(s.rel);
	struct knowledge *k = knowledge_build(t, files, nf, dict, pr);
	knowledge_check_folder(k, files, nf, root, pr);
	for (size_t i = 0; i < nf; i++) {
		free(files[i].path);
		free(files[i].rel);
		free(files[i].data);
	}
	free(files);
	free(root);
	return k;
}

char *
kb_find_root(const char *file)
{
	char *dir = xstrdup(file);
	for (int up = 0; up <= MAX_DEPTH + 1; up++) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL) {
			free(dir);
			dir = xstrdup(".");
		} else if (slash == dir) {
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
		struct stat st;
		char *safety = xasprintf("%s/safety", dir),
		     *syn = xasprintf("%s/synonyms.txt", dir);
		int found = (stat(safety, &st) == 0 && S_ISDIR(st.st_mode)) ||
			    (stat(syn, &st) == 0 && S_ISREG(st.st_mode));
		free(safety);
		free(syn);
		if (found)
			return dir;
		if (strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0)
			break;
	}
	free(dir);
	return NULL;
}

struct knowledge *
kb_load_file(struct text_ctx *t, const char *file, const struct wordset *dict, struct problems *pr,
	     char **cause)
{
	struct kb_file f = {0};
	char *err = NULL;
	/* its kind from its name and its folder's: safety/x.md is a rule */
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	int in_safety = (base - file >= 7 && strncmp(base - 7, "safety/", 7) == 0 &&
			 (base - file == 7 || base[-8] == '/'));
	char *rel = in_safety ? xasprintf("safety/%s", base) : xstrdup(base);
	size_t cap = file_cap(rel);
	f.data = read_file(file, cap, &f.len, &f.mtime, &err);
	if (f.data == NULL) {
		*cause = xasprintf("cannot read %s: %s", file, err);
		free(err);
		free(rel);
		return NULL;
	}
	f.path = (char *)(uintptr_t)file;
	f.rel = rel;
	struct problems all = {0};
	struct knowledge *k = knowledge_build(t, &f, 1, dict, &all);
	/* alone, every related id is missing: not this file's problem */
	for (size_t i = 0; i < all.n; i++)
		if (strncmp(all.v[i].msg, KNOWLEDGE_RELATED_MISSING,
			    strlen(KNOWLEDGE_RELATED_MISSING)) != 0)
			problems_add(pr, all.v[i].file, all.v[i].line, all.v[i].col, "%s",
				     all.v[i].msg);
	problems_free(&all);
	free(f.rel);
	free(f.data);
	return k;
}

struct wordset *
kb_load_dictionary(struct text_ctx *t)
{
	static const char *const paths[] = {"/usr/share/dict/american-english",
					    "/usr/share/dict/british-english", NULL};
	struct wordset *h = NULL;
	struct tokens tk = {0};
	for (const char *const *p = paths; *p; p++) {
		size_t len;
		char *err = NULL, *data = read_file(*p, DICT_FILE_MAX, &len, NULL, &err);
		if (data == NULL) {
			free(err);
			continue;
		}
		if (h == NULL) {
			h = xcalloc(1, sizeof *h);
			/* about 9.5 bytes a line, over a quarter of the lines with an
			 * apostrophe, and the second list mostly repeats the first:
			 * 75,000 words in all, one table of 131,072 slots */
			wordset_reserve(h, len / 12, len);
		}
		for (char *line = data, *end = data + len, *nl; line < end; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(end - line));
			if (nl == NULL)
				nl = end; /* data[len] is a NUL */
			size_t n = (size_t)(nl - line);
			if (n && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			if (n == 0 || n >= 128 || memchr(line, '\'', n))
				continue;
			/* plain ASCII letters: fold the case here; anything else
			 * is folded exactly as questions are (accents, case) */
			size_t i = 0;
			for (; i < n; i++) {
				char c = line[i];
				if (c >= 'A' && c <= 'Z')
					line[i] = (char)(c + 32);
				else if (c < 'a' || c > 'z')
					break;
			}
			if (i == n && n < TEXT_WORD_MAX) {
				wordset_add(h, line, n);
				continue;
			}
			text_tokenize(t, line, n, &tk);
			if (tk.n == 1)
				wordset_add(h, tk.v[0].surf, tk.v[0].surf_len);
		}
		free(data);
	}
	tokens_free(&tk);
	if (h)
		wordset_seal(h);
	return h;
}
