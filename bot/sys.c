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

uint64_t
sys_sooner(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

uint32_t
sys_jitter(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

unsigned
sys_backoff_ms(unsigned attempt, uint32_t rnd)
{
	unsigned base = 60000;
	if (attempt < 6)
		base = 1000u << attempt; /* 1, 2, 4, 8, 16, 32 s */
	unsigned half = base / 2;
	return half + (unsigned)(rnd % (half + 1));
}
