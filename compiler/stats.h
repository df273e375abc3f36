// Fusion statistics of a compiled graph (`scanflow compile --stats`, and the tests that pin them).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace sf {

struct FusionStats {
  int64_t kernels = 0;  // kernel nodes anywhere (top level and every scan body)
  // Kernel launches per step of the main scan (the top-level scan with the most steps): the
  // kernels of its body, plus length x the launches per step of each scan nested in it. -1 when
  // the graph has no top-level scan.
  int64_t kernels_per_step = -1;
  std::vector<std::pair<std::string, int64_t>> kernels_per_body;  // graph name -> its kernel nodes
  std::vector<std::pair<std::string, int64_t>> nodes_per_kernel;  // kernel name -> body nodes (params excluded)
};

FusionStats fusion_stats(const Graph& g);

// "kernels: 3\nkernels_per_step: 1\n..." one `key: value` per line, bodies and kernels indented.
std::string format_fusion_stats(const FusionStats& s);

}  // namespace sf
