#pragma once
#include <stdint.h>
/// Start counting this thread's heap allocations (malloc, calloc, realloc, memalign & co.).
void alloc_counter_begin(void);
/// Stop counting and return the count since alloc_counter_begin.
int64_t alloc_counter_end(void);
/// 0 under ASan/TSan (they own malloc; the override is compiled out), 1 otherwise.
int alloc_counter_available(void);
