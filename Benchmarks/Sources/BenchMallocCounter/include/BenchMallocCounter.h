#ifndef TENANTKIT_BENCH_MALLOC_COUNTER_H
#define TENANTKIT_BENCH_MALLOC_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, aligned variants) made by this process so far.
uint64_t tk_bench_allocations(void);

#endif
