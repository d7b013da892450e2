#pragma once
/// Pins the calling thread to one CPU (pthread_setaffinity_np). Returns 0 or an errno value.
int chronos_pin_current_thread(int cpu);
/// The CPU the calling thread last ran on (sched_getcpu), or -1.
int chronos_current_cpu(void);
