#include "compiler/phases.h"

#include <algorithm>

#include "graph/kernel.h"

namespace sf {

bool Phases::in_loop(const Graph& g, NodeId n, size_t k) const {
  NodeId o = g.node(n).operands[k];
  size_t oi = static_cast<size_t>(o);
  if (!loop_node[oi] || source_op(g.node(o).op)) return false;
  switch (operand_access(g, n, k)) {
    case Access::Uniform: return true;
    case Access::Same: return result_in_loop(g, o);
    case Access::Indexed: return false;
  }
  return false;
}

Phases compute_phases(const Graph& g, const std::vector<bool>& early) {
  size_t n = g.nodes.size();
  Phases p;
  p.loop_node.assign(n, false);
  p.loop.assign(n, kUniform);
  p.phase.assign(n, 0);
  p.ready.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.nodes[i];
    NodeId id = static_cast<NodeId>(i);
    bool loop = loop_op(node.op) && node.op != Op::Const;
    p.loop_node[i] = loop;
    if (loop) p.loop[i] = loop_count(g, id);
    if (node.op == Op::Param || node.op == Op::Input || source_op(node.op) || (i < early.size() && early[i]))
      continue;  // complete from the start
    if (node.op == Op::Get) {  // an element of its scan's or kernel's result
      p.phase[i] = p.phase[static_cast<size_t>(node.operands[0])];
      p.ready[i] = p.ready[static_cast<size_t>(node.operands[0])];
      continue;
    }
    int ph = 0;
    for (size_t k = 0; k < node.operands.size(); ++k) {
      size_t o = static_cast<size_t>(node.operands[k]);
      ph = std::max(ph, loop && p.in_loop(g, id, k) ? p.phase[o] : p.ready[o]);
    }
    p.phase[i] = ph;
    p.ready[i] = ph + 1;
  }
  return p;
}

}  // namespace sf
