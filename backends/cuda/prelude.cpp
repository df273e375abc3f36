// The fixed part of every generated source: the context kernels receive (step numbers, the error
// record, the event buffers) and the helpers of the scalar semantics. The host mirrors these
// structures in runtime.h; their layouts must agree.
#include "backends/cuda/prelude.h"

namespace sf::cuda {

const char* prelude() {
  return R"(// The run context: which step each enclosing scan is at, where errors and events go.
struct SfErr { unsigned int flag; int id; long long value, pos; long long k[8]; };
struct SfEvent { long long step, index; };
struct SfEvBuf { unsigned long long count, cap; SfEvent* data; };
struct SfDev { long long step, ring_rows; int half, use_step; };
struct SfCtx { long long k[8]; SfDev* dev; SfErr* err; SfEvBuf* ev; long long nev; };

#define SF_TID (blockIdx.x * (long long)blockDim.x + threadIdx.x)
#define SF_NT ((long long)gridDim.x * blockDim.x)

// The step of the enclosing scan at nesting depth d (a CUDA graph reads it from device memory).
__device__ __forceinline__ long long sf_step(const SfCtx& c, int d) {
  return d == 0 && c.dev->use_step ? c.dev->step : c.k[d];
}

// The first failing check wins; the host turns it into the error message.
__device__ __noinline__ void sf_fail(const SfCtx& c, int id, long long v, long long pos) {
  if (atomicCAS(&c.err->flag, 0u, 1u) != 0u) return;
  c.err->id = id;
  c.err->value = v;
  c.err->pos = pos;
  for (int d = 0; d < 8; ++d) c.err->k[d] = sf_step(c, d);
  __threadfence();
}

// An index checked against [0, limit): out of range, it is reported and element 0 is used instead,
// so no access leaves its buffer.
__device__ __forceinline__ long long sf_check(const SfCtx& c, int id, long long v, long long limit, long long pos) {
  if (v < 0 || v >= limit) {
    sf_fail(c, id, v, pos);
    return 0;
  }
  return v;
}

__device__ __forceinline__ bool sf_error_raised(const SfCtx& c) { return *(volatile unsigned int*)&c.err->flag != 0u; }

// Events: appended with an atomic; the host sorts them into step order (ties by index).
__device__ __forceinline__ SfEvBuf* sf_events(const SfCtx& c, int j) { return c.ev + c.dev->half * c.nev + j; }
__device__ __forceinline__ void sf_event(SfEvBuf* q, long long k, long long i) {
  unsigned long long at = atomicAdd(&q->count, 1ull);
  if (at < q->cap) q->data[at] = SfEvent{k, i};
}

// Float -> integer casts saturate and send NaN to 0 (ops/scalar.h convert).
template <class T> struct SfLim;
template <> struct SfLim<int> { static constexpr int lo = -2147483647 - 1, hi = 2147483647; };
template <> struct SfLim<long long> { static constexpr long long lo = -9223372036854775807LL - 1, hi = 9223372036854775807LL; };
template <class T, class F>
__device__ __forceinline__ T sf_sat(F v) {
  if (v != v) return 0;
  if (v <= (F)SfLim<T>::lo) return SfLim<T>::lo;
  if (v >= (F)SfLim<T>::hi) return SfLim<T>::hi;
  return (T)v;
}

// The last node of a captured step: the graph's next replay runs the next step.
extern "C" __global__ void sf_advance(SfCtx c) {
  if (threadIdx.x == 0 && blockIdx.x == 0) c.dev->step += 1;
}
)";
}

}  // namespace sf::cuda
