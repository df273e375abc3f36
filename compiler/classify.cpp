#include "compiler/classify.h"

#include <algorithm>

#include "compiler/phases.h"
#include "compiler/rewriter.h"
#include "graph/kernel.h"

namespace sf {
namespace {

// Which nodes of `g` change from step to step, given which params do (by param index).
std::vector<bool> varying_nodes(const Graph& g, const std::vector<bool>& varying_params) {
  std::vector<bool> v(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == Op::Param) {
      size_t k = static_cast<size_t>(n.attrs.i("index"));
      v[i] = k < varying_params.size() && varying_params[k];
    }
    for (NodeId o : n.operands) v[i] = v[i] || v[static_cast<size_t>(o)];
  }
  return v;
}

// Whether a step of `g` reads varying values across elements. `in_cone[r]` says whether result r
// feeds the carries; what only feeds per-step outputs may be laid end to end for recording.
bool couples(const Graph& g, const std::vector<bool>& varying_params, const std::vector<bool>& in_cone) {
  std::vector<bool> varying = varying_nodes(g, varying_params);
  std::vector<bool> cone(g.nodes.size(), false);
  for (size_t r = 0; r < g.results.size(); ++r)
    if (r < in_cone.size() && in_cone[r]) cone[static_cast<size_t>(g.results[r])] = true;
  for (size_t i = g.nodes.size(); i-- > 0;)
    if (cone[i])
      for (NodeId o : g.nodes[i].operands) cone[static_cast<size_t>(o)] = true;

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    NodeId id = static_cast<NodeId>(i);
    if (!varying[i] || n.op == Op::Param || n.op == Op::Get) continue;
    auto varying_tensor = [&](NodeId o) { return varying[static_cast<size_t>(o)] && g.type(o).rank() > 0; };
    if (n.op == Op::Kernel) {  // look inside, with its outputs in the cone where their users are
      std::vector<bool> params, outs(n.body->results.size(), !n.type.is_tuple() && cone[i]);
      for (NodeId o : n.operands) params.push_back(varying[static_cast<size_t>(o)]);
      for (size_t u = i + 1; u < g.nodes.size(); ++u)
        if (g.nodes[u].op == Op::Get && g.nodes[u].operands[0] == id && cone[u])
          outs[static_cast<size_t>(g.nodes[u].attrs.i("index"))] = true;
      if (couples(*n.body, params, outs)) return true;
      continue;
    }
    if (!loop_op(n.op)) {  // matmul, reductions, nested scans
      if (std::any_of(n.operands.begin(), n.operands.end(), varying_tensor)) return true;
      continue;
    }
    if (n.op == Op::ScatterAdd) return true;
    if (n.op == Op::Concat) {
      if (cone[i]) return true;
      continue;
    }
    for (size_t k = 0; k < n.operands.size(); ++k)
      if (varying_tensor(n.operands[k]) && operand_access(g, id, k) == Access::Indexed) return true;
  }
  return false;
}

ScanClass classify_node(const Node& scan) {
  ScanInfo s = scan_info(scan);
  const Graph& body = *scan.body;
  std::vector<bool> params(static_cast<size_t>(s.carry + s.xs), true);  // carries and xs rows vary
  std::vector<bool> carries(static_cast<size_t>(s.carry), true);
  ScanClass c;
  c.elementwise = !couples(body, params, carries);
  if (c.elementwise) return c;
  // Stages: the body's phases, with loop invariants complete from the start.
  std::vector<bool> varying = varying_nodes(body, params);
  std::vector<bool> invariant(varying.size());
  for (size_t i = 0; i < varying.size(); ++i) invariant[i] = !varying[i];
  Phases ph = compute_phases(body, invariant);
  int last = 0;
  for (size_t i = 0; i < body.nodes.size(); ++i)
    if (varying[i]) last = std::max(last, ph.phase[i]);
  c.stages = last + 1;
  return c;
}

class Classifier : public Rewriter {
 protected:
  Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) override {
    const Node& n = g.node(id);
    if (n.op != Op::Scan) return copy(b, n, operands);
    Node scan = n;
    scan.body = rewrite_body(*n.body);  // nested scans first
    ScanClass c = classify_node(scan);
    scan.attrs.set("class", std::string(c.elementwise ? "elementwise" : "coupled"));
    scan.attrs.set("stages", c.stages);
    return b.op(Op::Scan, operands, scan.attrs, scan.body);
  }
};

}  // namespace

ScanClass classify_scan(const Graph& g, NodeId id) { return classify_node(g.node(id)); }

Graph ClassifyPass::run(const Graph& g, const CompileOptions&) { return Classifier().run(g); }

}  // namespace sf
