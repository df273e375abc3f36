// Fusion: groups the loop ops of every graph (scan bodies included) into `kernel` nodes whose
// bodies are one element loop each (graph/kernel.h), like XLA's fusion computations.
//
// The rule (see compiler/phases.h for phases):
//   * Every loop node (elementwise ops, fill/iota, layout ops, gather, scatter_add) goes to the
//     kernel of its (phase, loop count): all the work of one phase over one element space is one
//     loop, so producer-consumer chains fuse, and so do independent computations over the same
//     elements (an RK4 step of a neuron population is one kernel, with its spike test, counters and
//     recorded row). A gather's index computation and epilogue, and a scatter_add's per-element
//     prologue, sit in the loop of their elements; the value a gather reads, and the sum a
//     scatter_add makes, are complete only across a barrier.
//   * A kernel's scatter_adds share one index (a segment sum has one segment structure): a
//     scatter_add by another index of the same phase and elements gets a kernel of its own.
//   * Rank-0 values (t_k, dt_k, the step counter) are computed in every kernel that uses them
//     (once per launch, not per element). When something outside kernels needs one (a new carry),
//     a kernel of its phase outputs it, else a kernel of its own.
//   * A value used by a later kernel is recomputed there when that is cheap: at most
//     kRecomputeLimit = 4 ops of its own kernel, all of them add/sub/mul/neg/abs/min/max,
//     comparisons, logic, where, cast, floor, reshape or broadcast (no division, no
//     transcendental, no memory-moving op). Otherwise its kernel outputs it (multi-output kernels).
//   * Matmul, reductions, scans and existing kernels stay nodes of their own (a matmul is a library
//     call; its elementwise epilogue is a kernel of the next phase, merged with whatever else runs
//     there). Consts stay outside too: rank-0 consts are copied into the kernels that read them,
//     others become kernel operands.
#pragma once
#include "compiler/pass.h"

namespace sf {

class FusePass : public Pass {
 public:
  const char* name() const override { return "fuse"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

}  // namespace sf
