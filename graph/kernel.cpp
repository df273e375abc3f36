#include "graph/kernel.h"

#include <algorithm>

#include "graph/error.h"

namespace sf {
namespace {

int64_t count(const Graph& g, NodeId id) { return g.type(id).elements(); }

// A concat whose parts are equal-sized and laid end to end in the flat result (every dimension
// before the axis is 1): iteration i writes element i of each part.
bool end_to_end_concat(const Graph& g, const Node& n) {
  if (n.operands.size() < 2) return false;
  const Type& t = n.type;
  int64_t axis = n.attrs.i("axis");
  if (axis < 0) axis += t.rank();
  for (int64_t d = 0; d < axis; ++d)
    if (t.shape[static_cast<size_t>(d)] != 1) return false;
  int64_t part = count(g, n.operands[0]);
  for (NodeId o : n.operands)
    if (count(g, o) != part) return false;
  return true;
}

// A transpose that moves only size-1 dimensions keeps the flat order.
bool keeps_flat_order(const Graph& g, const Node& n) {
  const Shape& in = g.type(n.operands[0]).shape;
  int64_t last = -1;
  for (int64_t a : n.attrs.ints("perm")) {
    if (in[static_cast<size_t>(a)] == 1) continue;
    if (a < last) return false;
    last = a;
  }
  return true;
}

}  // namespace

bool loop_op(Op op) {
  if (op_info(op).elementwise() || source_op(op)) return true;
  switch (op) {
    case Op::Reshape:
    case Op::Broadcast:
    case Op::Slice:
    case Op::Transpose:
    case Op::Concat:
    case Op::Gather:
    case Op::ScatterAdd: return true;
    default: return false;
  }
}

int64_t loop_count(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.type.is_tuple()) return count(g, id);  // not a loop op; callers check loop_op first
  if (n.type.rank() == 0) return kUniform;
  if (n.op == Op::ScatterAdd) return count(g, n.operands[0]);
  if (n.op == Op::Concat && end_to_end_concat(g, n)) return count(g, n.operands[0]);
  return count(g, id);
}

Access operand_access(const Graph& g, NodeId id, size_t k) {
  const Node& n = g.node(id);
  NodeId o = n.operands.at(k);
  if (g.type(o).rank() == 0) return Access::Uniform;
  if (n.type.rank() == 0) return Access::Indexed;  // a uniform value read from a tensor
  bool same_size = count(g, o) == count(g, id);
  switch (n.op) {
    case Op::Reshape: return Access::Same;
    case Op::Broadcast:
    case Op::Slice: return same_size ? Access::Same : Access::Indexed;
    case Op::Transpose: return keeps_flat_order(g, n) ? Access::Same : Access::Indexed;
    case Op::Concat: return end_to_end_concat(g, n) || n.operands.size() == 1 ? Access::Same : Access::Indexed;
    case Op::Gather: return k == 1 && same_size ? Access::Same : Access::Indexed;
    case Op::ScatterAdd: return k == 0 || count(g, o) == count(g, n.operands[0]) ? Access::Same : Access::Indexed;
    default: return op_info(n.op).elementwise() ? Access::Same : Access::Indexed;
  }
}

bool result_in_loop(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.op == Op::ScatterAdd) return false;
  return n.type.rank() == 0 || loop_count(g, id) == count(g, id);
}

void check_kernel_body(const Graph& body) {
  int64_t loop = kUniform;
  NodeId first = -1;
  for (size_t i = 0; i < body.nodes.size(); ++i) {
    const Node& n = body.nodes[i];
    NodeId id = static_cast<NodeId>(i);
    auto bad = [&](const std::string& msg) { fail("kernel body: {}: {}", node_label(body, id), msg); };
    if (n.op == Op::Param) continue;
    if (!loop_op(n.op)) bad("a kernel body computes only what one loop over elements can (see graph/kernel.h)");
    if (source_op(n.op)) continue;
    int64_t l = loop_count(body, id);
    if (l != kUniform) {
      if (first >= 0 && l != loop)
        bad(fmt::format("runs {} iterations, but {} runs {}: a kernel is one loop", l, node_label(body, first), loop));
      loop = l, first = id;
    }
    for (size_t k = 0; k < n.operands.size(); ++k) {
      NodeId o = n.operands[k];
      const Node& on = body.node(o);
      if (on.op == Op::Param || source_op(on.op)) continue;
      Access a = operand_access(body, id, k);
      if (a == Access::Same && !result_in_loop(body, o))
        bad(fmt::format("reads {}, which is complete only after the loop", node_label(body, o)));
      if (a == Access::Indexed)
        bad(fmt::format("reads {} at other elements, so it must be complete before the loop (a kernel operand)",
                        node_label(body, o)));
    }
  }
}

int64_t kernel_loop_size(const Graph& body) {
  int64_t loop = kUniform, sources = kUniform;
  for (size_t i = 0; i < body.nodes.size(); ++i) {
    const Node& n = body.nodes[i];
    if (n.op == Op::Param || !loop_op(n.op)) continue;
    int64_t l = loop_count(body, static_cast<NodeId>(i));
    if (source_op(n.op))
      sources = std::max(sources, l);
    else if (l != kUniform)
      loop = l;
  }
  if (loop != kUniform) return loop;
  return sources != kUniform ? sources : 1;
}

}  // namespace sf
