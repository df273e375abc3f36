// When each node of a graph can be computed, in barrier-separated phases. A phase is a set of
// element loops that may all run at once; a barrier separates phases. A loop op (graph/kernel.h)
// runs in the phase of the values it reads at its own element (Same, Uniform), and after the
// phase that completes the values it reads at other elements (Indexed) or that are complete only
// after their loop (scatter_add, end-to-end concat). Other ops (matmul, reductions, scans, kernels)
// run once all their operands are complete, and their results are complete one phase later.
//
// Fusion puts the loop nodes of one phase and one loop count into one kernel; classification
// counts a coupled scan's stages as its body's phases.
#pragma once
#include <vector>

#include "graph/graph.h"

namespace sf {

struct Phases {
  std::vector<bool> loop_node;  // computed by an element loop: a loop_op other than const
  std::vector<int64_t> loop;    // loop nodes: loop_count (kUniform for rank-0 nodes)
  std::vector<int> phase;       // the phase that computes the node (0 for params and sources)
  std::vector<int> ready;       // the first phase that may read any element of it

  // Whether loop node `n` reads its operand `k` inside its own loop (in the same phase when
  // fused): at its own element or as a rank-0 value, from a loop node other than a source.
  bool in_loop(const Graph& g, NodeId n, size_t k) const;
};

// `early` (optional, one flag per node): nodes known before the graph runs (a scan body's loop
// invariants), which count as complete from phase 0.
Phases compute_phases(const Graph& g, const std::vector<bool>& early = {});

}  // namespace sf
