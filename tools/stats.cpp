#include "tools/stats.h"

#include <sys/resource.h>

namespace sf::cli {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

namespace {

int64_t body_ops(const Graph& body) {
  int64_t n = 0;
  for (const Node& node : body.nodes) {
    if (node.op == Op::Param) continue;
    ++n;
    if (node.op == Op::Scan && node.body) n += scan_info(node).length * body_ops(*node.body);
  }
  return n;
}

}  // namespace

int64_t ops_per_step(const Graph& g, NodeId scan) { return body_ops(*g.node(scan).body); }

int64_t top_level_ops(const Graph& g, NodeId scan) {
  int64_t n = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& node = g.nodes[i];
    if (node.op == Op::Input || static_cast<NodeId>(i) == scan) continue;
    ++n;
    if (node.op == Op::Scan && node.body) n += scan_info(node).length * body_ops(*node.body);
  }
  return n;
}

int64_t program_ops(const Graph& g, NodeId scan) {
  int64_t n = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& node = g.nodes[i];
    if (node.op != Op::Input && node.op != Op::Param && static_cast<NodeId>(i) != scan) ++n;
    if (node.body) n += program_ops(*node.body, -1);
  }
  return n;
}

}  // namespace sf::cli
