// Test-only malloc counter: defining malloc & co. in the test executable makes the dynamic
// linker bind every allocation in the process (libswiftCore's included) to these, which
// forward to glibc's __libc_* entry points and count per thread.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "AllocCounter.h"
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ALLOC_COUNTER_OFF 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOC_COUNTER_OFF 1
#endif
#ifndef ALLOC_COUNTER_OFF
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static _Thread_local int armed;
static _Thread_local int64_t count;
#define NOTE() do { if (armed) count++; } while (0)
void *malloc(size_t n) { NOTE(); return __libc_malloc(n); }
void *calloc(size_t k, size_t n) { NOTE(); return __libc_calloc(k, n); }
void *realloc(void *p, size_t n) { NOTE(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { NOTE(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { NOTE(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    NOTE();
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void alloc_counter_begin(void) { count = 0; armed = 1; }
int64_t alloc_counter_end(void) { armed = 0; return count; }
int alloc_counter_available(void) { return 1; }
#else
void alloc_counter_begin(void) {}
int64_t alloc_counter_end(void) { return -1; }
int alloc_counter_available(void) { return 0; }
#endif
