// The elementwise scan strategy: which buffers of a scan body a thread can keep in registers for
// all steps, and the kernel that does so.
//
// A body qualifies when every step is a map kernel over the same N elements and every buffer the
// body writes is one of:
//   Private   - read and written only at the thread's own element o (a register per thread);
//   Scalar    - read and written only at element 0, with a value every thread computes alike
//               (the step counter: each thread keeps its own copy);
//   WriteOnly - written, never read in the body (per-step outputs: recorded as they are stored,
//               written to memory at the last step).
// Buffers the body only reads are ReadOnly. Double-buffered carries must be Private or Scalar.
#pragma once
#include <map>
#include <string>

#include "backends/cuda/emit.h"
#include "compiler/kernel_program.h"

namespace sf::cuda {

enum class Residence { ReadOnly, Private, Scalar, WriteOnly };

struct ElementwisePlan {
  int64_t n = 0;                       // elements (threads)
  std::map<int, Residence> buffers;    // every buffer the body touches
  std::string blocker;                 // why the region does not qualify ("" when it does)
};

ElementwisePlan plan_elementwise(const KernelProgram& p, const ScanRegion& r);

}  // namespace sf::cuda
