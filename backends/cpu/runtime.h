/* Run-time helpers the generated code calls (backends/cpu/runtime.cpp). They need only libc, so an
 * ahead-of-time object can carry them. Spike events of time-inside-elements scans: each thread
 * pushes the events of its element blocks to its own buffer; at the end of a time block thread 0
 * merges them into step order (ties by index) and hands them to the `events` callback in chunks
 * of event_chunk, exactly as the step-by-step order would. */
#ifndef SF_CPU_RUNTIME_H
#define SF_CPU_RUNTIME_H
#include <stdint.h>

#include "backends/cpu/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called by the entry around its parallel region: state for `slots` event outputs and `threads` threads. */
void sf_cpu_rt_begin(sf_cpu_args* a, int32_t slots, int32_t threads);
void sf_cpu_rt_end(sf_cpu_args* a);
/* All `nthreads` threads of the region meet (instead of GOMP_barrier): a short spin, then the waiting
 * threads sleep in the kernel, so a thread descheduled by another process on its core costs the
 * others a sleep, not a timeslice of spinning. */
void sf_cpu_barrier(sf_cpu_args* a, int32_t nthreads);
/* Thread `thread` saw element `index` true at step `step` of events output `slot`. */
void sf_cpu_event_push(sf_cpu_args* a, int32_t slot, int32_t thread, int64_t index, int64_t step);
/* Thread 0, after a barrier: merges the threads' buffers into step order. */
void sf_cpu_event_merge(sf_cpu_args* a, int32_t slot);
/* Thread 0: hands the merged events of `step` on (a callback each time event_chunk are buffered). */
void sf_cpu_event_emit(sf_cpu_args* a, int32_t slot, int64_t step);
/* Thread 0, at the end of the scan: the last partial chunk; returns how many events there were. */
int64_t sf_cpu_event_finish(sf_cpu_args* a, int32_t slot);

#ifdef __cplusplus
}
#endif
#endif
