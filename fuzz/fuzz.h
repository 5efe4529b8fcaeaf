/*
 * fuzz.h: what every libFuzzer harness here shares: the invariant check and
 * the mode-byte dispatch (the first input byte picks the entry point, the
 * rest goes to it as an exact-size copy, so over-reads are caught).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

typedef void (*fuzz_mode)(const char *buf, size_t len);

static inline void
fuzz_dispatch(const uint8_t *data, size_t size, const fuzz_mode *modes, size_t nmodes)
{
	if (size < 1)
		return;
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1);
	memcpy(buf, data + 1, len);
	modes[(unsigned char)(data[0] - '0') % nmodes](buf, len);
	free(buf);
}

#endif
