/* Event buffers of time-inside-elements scans and the threads' barrier (see runtime.h). C, with
 * malloc, realloc, qsort and the futex system call only: the same text is compiled into every
 * ahead-of-time object (backends/cpu/aot.cpp). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall() */
#endif
#include "backends/cpu/runtime.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct Pair {
  int64_t index, step;
} Pair;

typedef struct Vec {
  Pair* data;
  int64_t size, cap;
} Vec;

static void push(Vec* v, Pair p) {
  if (v->size == v->cap) {
    int64_t cap = v->cap ? 2 * v->cap : 256;
    Pair* d = (Pair*)realloc(v->data, (size_t)cap * sizeof(Pair));
    if (!d) abort();
    v->data = d, v->cap = cap;
  }
  v->data[v->size++] = p;
}

typedef struct Slot {
  Vec* threads;     // per thread, this time block's events
  Vec merged;       // in step order, ties by index
  int64_t cursor;   // next merged event to hand on
  int64_t filled;   // events in the callback chunk
  int64_t sent;     // events so far
} Slot;

/* A counting barrier with a generation number: the last thread to arrive resets the count and
 * bumps `gen`, which the others watch. They spin briefly (a barrier between two running threads
 * takes well under a microsecond), then sleep on `gen` in the kernel. libgomp's barrier spins for
 * as long as OMP_WAIT_POLICY / GOMP_SPINCOUNT say, read when the library loads; a waiter spinning
 * behind a thread that another process has descheduled burns its own core for a whole timeslice.
 * The fields that arriving and waiting threads touch are on separate cache lines. */
typedef struct Barrier {
  _Alignas(64) int32_t arrived;
  _Alignas(64) int32_t gen;
  int32_t sleepers; /* threads in (or about to enter) futex_wait */
} Barrier;

enum { kSpins = 1000 }; /* pause instructions before sleeping: some tens of microseconds */

static void futex_wait(int32_t* addr, int32_t expected) { /* returns at once unless *addr == expected */
  syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
static void futex_wake_all(int32_t* addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0); }

static void barrier_wait(Barrier* b, int32_t n) {
  /* gen can only move on once this thread has arrived, so g is this barrier's generation. */
  int32_t g = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
  if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == n) {
    __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED); /* published by the release of gen */
    __atomic_store_n(&b->gen, g + 1, __ATOMIC_SEQ_CST);
    /* seq_cst with the sleepers' increment-then-check: a sleeper sees the new gen or is woken. */
    if (__atomic_load_n(&b->sleepers, __ATOMIC_SEQ_CST) > 0) futex_wake_all(&b->gen);
    return;
  }
  for (int i = 0; i < kSpins; ++i) {
    if (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) != g) return;
    __builtin_ia32_pause();
  }
  __atomic_add_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&b->gen, __ATOMIC_SEQ_CST) == g) futex_wait(&b->gen, g);
  __atomic_sub_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
}

typedef struct Runtime {
  int32_t slots, threads;
  Slot* slot;
  Barrier* barrier;
} Runtime;

static Runtime* rt(sf_cpu_args* a) { return (Runtime*)a->rt; }

static int by_step_then_index(const void* x, const void* y) {
  const Pair *p = (const Pair*)x, *q = (const Pair*)y;
  if (p->step != q->step) return p->step < q->step ? -1 : 1;
  return p->index < q->index ? -1 : p->index > q->index ? 1 : 0;
}

static void flush(sf_cpu_args* a, int32_t s, Slot* sl) {
  if (sl->filled == 0) return;
  a->events(a->ctx, s, (const int64_t*)a->sink_chunks[s], sl->filled);
  sl->filled = 0;
}

void sf_cpu_rt_begin(sf_cpu_args* a, int32_t slots, int32_t threads) {
  Runtime* r = (Runtime*)calloc(1, sizeof(Runtime));
  if (!r) abort();
  r->slots = slots, r->threads = threads;
  r->barrier = (Barrier*)aligned_alloc(64, sizeof(Barrier));
  if (!r->barrier) abort();
  memset(r->barrier, 0, sizeof(Barrier));
  r->slot = (Slot*)calloc((size_t)(slots > 0 ? slots : 1), sizeof(Slot));
  for (int32_t s = 0; s < slots; ++s) r->slot[s].threads = (Vec*)calloc((size_t)threads, sizeof(Vec));
  a->rt = r;
}

void sf_cpu_rt_end(sf_cpu_args* a) {
  Runtime* r = rt(a);
  for (int32_t s = 0; s < r->slots; ++s) {
    for (int32_t t = 0; t < r->threads; ++t) free(r->slot[s].threads[t].data);
    free(r->slot[s].threads);
    free(r->slot[s].merged.data);
  }
  free(r->slot);
  free(r->barrier);
  free(r);
  a->rt = NULL;
}

void sf_cpu_barrier(sf_cpu_args* a, int32_t nthreads) {
  if (nthreads > 1) barrier_wait(rt(a)->barrier, nthreads);
}

void sf_cpu_event_push(sf_cpu_args* a, int32_t slot, int32_t thread, int64_t index, int64_t step) {
  Pair p = {index, step};
  push(&rt(a)->slot[slot].threads[thread], p);
}

void sf_cpu_event_merge(sf_cpu_args* a, int32_t slot) {
  Runtime* r = rt(a);
  Slot* sl = &r->slot[slot];
  sl->merged.size = 0;
  sl->cursor = 0;
  for (int32_t t = 0; t < r->threads; ++t) {
    Vec* v = &sl->threads[t];
    for (int64_t i = 0; i < v->size; ++i) push(&sl->merged, v->data[i]);
    v->size = 0;
  }
  if (sl->merged.size > 1)
    qsort(sl->merged.data, (size_t)sl->merged.size, sizeof(Pair), by_step_then_index);
}

void sf_cpu_event_emit(sf_cpu_args* a, int32_t slot, int64_t step) {
  Slot* sl = &rt(a)->slot[slot];
  int64_t* chunk = (int64_t*)a->sink_chunks[slot];
  while (sl->cursor < sl->merged.size && sl->merged.data[sl->cursor].step == step) {
    Pair p = sl->merged.data[sl->cursor++];
    chunk[2 * sl->filled] = p.index;
    chunk[2 * sl->filled + 1] = p.step;
    ++sl->sent;
    if (++sl->filled == a->event_chunk) flush(a, slot, sl);
  }
}

int64_t sf_cpu_event_finish(sf_cpu_args* a, int32_t slot) {
  Slot* sl = &rt(a)->slot[slot];
  flush(a, slot, sl);
  return sl->sent;
}
