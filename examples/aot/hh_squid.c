/* The hh-squid model compiled ahead of time and run from plain C: no scanflow and no LLVM at run
 * time, only the object, libc, libm/libmvec and the OpenMP runtime.
 *
 *   scanflow compile hh-squid --aot -o hh_squid.o      (writes hh_squid.o and hh_squid.h)
 *   cc -O2 -I. examples/aot/hh_squid.c hh_squid.o -fopenmp -lmvec -lm -o hh_squid
 *   ./hh_squid [THREADS]
 *
 * The CUDA target's object has the same entry point; only the link line differs:
 *   scanflow compile hh-squid --target cuda --aot -o hh_squid.o
 *   cc -O2 -I. examples/aot/hh_squid.c hh_squid.o -ldl -o hh_squid      (THREADS is not used)
 *
 * 1000 squid-axon neurons driven by currents 0..20 uA/cm^2 for 100 ms (the model's defaults).
 * It prints V of neuron 0 every 10 ms from the streamed rows, the number of spikes from the
 * streamed spike events, and the final V of three neurons from the results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hh_squid.h"

enum { N = 1000 };

struct trace {
  long long spikes;
};

/* A recorded row holds V[0..N), then m, h, n and t_spike; streamed row r is the state after r + 1
 * steps of 0.01 ms (the state at t = 0 is the result initial_row). */
static int on_rows(void* ctx, int32_t stream, const void* data, int64_t nrows, int64_t first_row) {
  (void)ctx, (void)stream;
  const double* rows = (const double*)data;
  for (int64_t r = 0; r < nrows; ++r) {
    int64_t steps = first_row + r + 1;
    if (steps % 1000 == 0) printf("t %5.1f ms  V[0] %.17g\n", steps * 0.01, rows[r * 5 * N]);
  }
  return 0; /* non-zero would stop the run */
}

static int on_events(void* ctx, int32_t stream, const int64_t* pairs, int64_t n) {
  (void)stream, (void)pairs; /* pairs: (neuron, step) */
  ((struct trace*)ctx)->spikes += n;
  return 0;
}

int main(int argc, char** argv) {
  static double final_V[N];
  hh_squid_results out;
  memset(&out, 0, sizeof out);
  out.final_V = final_V; /* the other results are not wanted */

  struct trace tr = {0};
  char error[512];
  sf_aot_options opt;
  memset(&opt, 0, sizeof opt);
  opt.threads = argc > 1 ? atoi(argv[1]) : 0; /* 0: all cores */
  opt.ctx = &tr;
  opt.rows = on_rows;
  opt.events = on_events;
  opt.error = error;
  opt.error_size = sizeof error;

  if (hh_squid_run(NULL, &out, &opt) != SF_AOT_OK) { /* NULL inputs: every input takes its default */
    fprintf(stderr, "hh_squid: %s\n", error);
    return 1;
  }
  printf("spikes: %lld\n", tr.spikes);
  int show[] = {0, 500, N - 1};
  for (int i = 0; i < 3; ++i) printf("final V[%d]: %.17g\n", show[i], final_V[show[i]]);
  return 0;
}
