// Scan classification: sets `class` and `stages` on every scan (nested ones included), for the
// backends. Runs after licm, so loop invariants are already outside the bodies.
//
//   class = "elementwise": every carried element depends only on its own past and on invariants,
//           so a backend may move the time loop inside the element loop and keep the state in
//           registers. Rank-0 carries (the step counter) are fine when their update reads only
//           rank-0 values (every element can recompute them), and so are table lookups (a gather
//           from an invariant table). The per-step outputs may lay element vectors end to end
//           (concat) for recording: recording writes, it does not couple.
//   class = "coupled": some step reads carry-dependent values of other elements: a gather from
//           them, a scatter_add, matmul or reduction of them, a layout op that moves them, a
//           rank-0 value computed from them, or a nested scan over them.
//   stages = the barrier-separated phases of one step (compiler/phases.h): 1 for an elementwise
//           scan; for a coupled one, 1 + the number of barriers the body needs (each between a
//           value computed across elements and the elementwise part that reads it).
#pragma once
#include "compiler/pass.h"

namespace sf {

struct ScanClass {
  bool elementwise = true;
  int64_t stages = 1;
};

// The class of scan node `id` of `g` (its body as it is now).
ScanClass classify_scan(const Graph& g, NodeId id);

class ClassifyPass : public Pass {
 public:
  const char* name() const override { return "classify"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

}  // namespace sf
