/*
 * keysort: sorting the small arrays of 64-bit keys the answering core
 * builds per message (the matcher's term order, the learned readers'
 * features), without qsort's call per comparison.  Pure, no allocation.
 */
#ifndef KEYSORT_H
#define KEYSORT_H

#include <stddef.h>
#include <stdint.h>

/* Sort n keys ascending; tmp: room for n keys (scratch). */
void keysort(uint64_t *v, uint64_t *tmp, size_t n);

#endif
