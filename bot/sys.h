/*
 * sys: the few operating-system services every runtime part shares: the
 * monotonic clock, threads that never take signals, and random bytes for
 * seeds.  Edge module (the pure core never calls it).  No state.
 */
#ifndef SYS_H
#define SYS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds on the monotonic clock (never goes back; not wall time). */
uint64_t sys_now_ms(void);

/*
 * Start fn(arg) on a new thread with every signal blocked, so signals stay
 * with the main thread (whose handlers only set flags).  detached: nobody
 * will join it (t may then be NULL).  Returns 0 or an errno value.
 */
int sys_thread_start(pthread_t *t, int detached, void *(*fn)(void *), void *arg);

/* n bytes from the kernel's random source (getrandom); never fails. */
void sys_random(void *buf, size_t n);

/* Pure helpers for timers and retries (the caller keeps any state). */
/* The earlier of two deadlines, where 0 means none. */
uint64_t sys_sooner(uint64_t a, uint64_t b);
/* Next value of a xorshift32 generator: jitter only, nothing secret. */
uint32_t sys_jitter(uint32_t *state);
/*
 * Delay before the attempt-th consecutive retry (0-based): half of
 * min(60 s, 1 s << attempt) plus a random part (rnd) of the other half.
 */
unsigned sys_backoff_ms(unsigned attempt, uint32_t rnd);

#endif
