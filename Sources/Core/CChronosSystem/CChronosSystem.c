// Linux thread affinity, which Swift cannot reach directly (cpu_set_t and CPU_SET are macros).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include "CChronosSystem.h"

int chronos_pin_current_thread(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int chronos_current_cpu(void) { return sched_getcpu(); }
