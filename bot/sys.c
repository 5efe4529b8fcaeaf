/*
 * sys: clock, threads, randomness (see sys.h).
 */
#include "sys.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t
sys_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int
sys_thread_start(pthread_t *t, int detached, void *(*fn)(void *), void *arg)
{
	pthread_t tmp;
	pthread_attr_t at;
	pthread_attr_init(&at);
	if (detached)
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits it */
	int rc = pthread_create(t ? t : &tmp, &at, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	return rc;
}

void
sys_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t k = getrandom(p, n, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* Linux >= 3.17 always has it */
		}
		p += k;
		n -= (size_t)k;
	}
}
