// Host emulation of the CUDA device builtins the generated source uses, for the cuda: emulation
// test. The emulated threads of a launch run one after the other (fake_cuda.cc sets the indices),
// so barriers are no-ops: kernels with barriers are run as one thread. Math is the host's <cmath>.
#pragma once
#include <cmath>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__
#define __noinline__
#define __launch_bounds__(x)

struct SfFakeDim {
  unsigned x;
};
// Thread t of n: block t of n blocks of one thread.
static SfFakeDim blockIdx{0}, threadIdx{0}, blockDim{1}, gridDim{1};
extern "C" void fake_set_thread(unsigned t, unsigned n) { blockIdx.x = t, gridDim.x = n; }

inline void __syncthreads() {}
inline void __threadfence() {}
inline unsigned atomicCAS(unsigned* a, unsigned compare, unsigned value) {
  unsigned old = *a;
  if (old == compare) *a = value;
  return old;
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  unsigned long long old = *a;
  *a += v;
  return old;
}
inline double __longlong_as_double(long long x) {
  double d;
  std::memcpy(&d, &x, 8);
  return d;
}
inline float __int_as_float(int x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
namespace cooperative_groups {
struct grid_group {
  void sync() {}
};
inline grid_group this_grid() { return {}; }
}  // namespace cooperative_groups
