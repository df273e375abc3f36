#include "compiler/stats.h"

#include <fmt/format.h>

namespace sf {
namespace {

// Kernel launches per run of `g`: its kernels, plus length x launches for each nested scan.
int64_t launches(const Graph& g) {
  int64_t n = 0;
  for (const Node& node : g.nodes) {
    if (node.op == Op::Kernel) ++n;
    if (node.op == Op::Scan && node.body) n += scan_info(node).length * launches(*node.body);
  }
  return n;
}

void collect(const Graph& g, FusionStats& s) {
  int64_t here = 0;
  for (const Node& node : g.nodes) {
    if (node.op == Op::Kernel) {
      ++here;
      int64_t nodes = 0;
      for (const Node& b : node.body->nodes) nodes += b.op != Op::Param;
      s.nodes_per_kernel.push_back({node.attrs.s("name"), nodes});
    }
    if (node.op == Op::Scan && node.body) collect(*node.body, s);
  }
  s.kernels += here;
  s.kernels_per_body.push_back({g.name, here});
}

}  // namespace

FusionStats fusion_stats(const Graph& g) {
  FusionStats s;
  collect(g, s);
  const Node* main = nullptr;
  for (const Node& node : g.nodes)
    if (node.op == Op::Scan && (!main || scan_info(node).length > scan_info(*main).length)) main = &node;
  if (main) s.kernels_per_step = launches(*main->body);
  return s;
}

std::string format_fusion_stats(const FusionStats& s) {
  std::string out = fmt::format("kernels: {}\nkernels_per_step: {}\nkernels_per_body:\n", s.kernels, s.kernels_per_step);
  for (auto& [name, n] : s.kernels_per_body) out += fmt::format("  {}: {}\n", name, n);
  out += "nodes_per_kernel:\n";
  for (auto& [name, n] : s.nodes_per_kernel) out += fmt::format("  {}: {}\n", name, n);
  return out;
}

}  // namespace sf
