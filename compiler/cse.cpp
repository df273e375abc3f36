#include "compiler/cse.h"

#include <map>

#include "compiler/match.h"
#include "compiler/rewriter.h"

namespace sf {
namespace {

// Structural equality of two bodies, ignoring their names (which say where they were built).
bool same_body(const Graph& a, const Graph& b) {
  if (a.results != b.results || a.nodes.size() != b.nodes.size() || !(a.attrs == b.attrs)) return false;
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &m = a.nodes[i], &n = b.nodes[i];
    if (m.op != n.op || m.operands != n.operands || m.type != n.type || !(m.attrs == n.attrs)) return false;
    if (!m.body != !n.body || (m.body && m.body != n.body && !same_body(*m.body, *n.body))) return false;
  }
  return true;
}

bool streams(const Node& scan) {
  for (RecordMode m : scan_info(scan).record)
    if (m != RecordMode::Stack) return true;
  return false;
}

// The scan's body with the uses of a duplicate xs or capture param (one whose operand is also
// another xs or capture operand) sent to its twin, the one defined first in the body. The unused
// param stays (dce drops it), so the scan's signature is unchanged here.
Graph redirect_duplicate_params(const Node& scan, const std::vector<Value>& ops) {
  ScanInfo s = scan_info(scan);
  Graph body = *scan.body;
  std::vector<NodeId> params = body.params();
  std::vector<NodeId> to(body.nodes.size());
  for (size_t i = 0; i < to.size(); ++i) to[i] = static_cast<NodeId>(i);
  // Group the params by (kind, operand); every param of a group goes to the group's first node.
  std::map<std::pair<bool, NodeId>, NodeId> first;
  for (size_t k = static_cast<size_t>(s.carry); k < ops.size(); ++k) {
    auto key = std::make_pair(static_cast<int64_t>(k) < s.carry + s.xs, ops[k].id());
    auto [it, fresh] = first.emplace(key, params[k]);
    if (!fresh) it->second = std::min(it->second, params[k]);
  }
  for (size_t k = static_cast<size_t>(s.carry); k < ops.size(); ++k)
    to[static_cast<size_t>(params[k])] = first[{static_cast<int64_t>(k) < s.carry + s.xs, ops[k].id()}];
  for (Node& n : body.nodes)
    for (NodeId& o : n.operands) o = to[static_cast<size_t>(o)];
  for (NodeId& r : body.results) r = to[static_cast<size_t>(r)];
  return body;
}

class Cse : public Rewriter {
 protected:
  Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) override {
    const Node& n = g.node(id);
    std::vector<Value> ops = operands;
    if (ops.size() == 2 && commutes_exactly(n.op, ops[0].dtype()) && ops[1].id() < ops[0].id())
      std::swap(ops[0], ops[1]);
    if (n.op != Op::Scan) return copy(b, n, ops);

    // The Builder never merges scans (their bodies are compared here, structurally).
    auto body = rewrite_body(redirect_duplicate_params(n, ops));
    if (!streams(n)) {
      const Graph& out = b.graph();
      for (size_t j = 0; j < out.nodes.size(); ++j) {
        const Node& m = out.nodes[j];
        if (m.op != Op::Scan || !(m.attrs == n.attrs) || !same_body(*m.body, *body)) continue;
        bool same_operands = m.operands.size() == ops.size();
        for (size_t k = 0; same_operands && k < ops.size(); ++k) same_operands = m.operands[k] == ops[k].id();
        if (same_operands) return Value(&b, static_cast<NodeId>(j));
      }
    }
    return b.op(Op::Scan, ops, n.attrs, std::move(body));
  }
};

}  // namespace

Graph CsePass::run(const Graph& g, const CompileOptions&) { return Cse().run(g); }

}  // namespace sf
