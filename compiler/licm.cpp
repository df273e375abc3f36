#include "compiler/licm.h"

#include <map>

#include "compiler/match.h"
#include "compiler/rewriter.h"

namespace sf {
namespace {

class Licm : public Rewriter {
 protected:
  Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) override {
    const Node& n = g.node(id);
    if (n.op != Op::Scan) return copy(b, n, operands);
    auto body = rewrite_body(*n.body);  // inner scans first: their invariants come up into this body
    return hoist(b, n, operands, std::move(body));
  }

 private:
  Value hoist(Builder& b, const Node& scan, std::vector<Value> ops, std::shared_ptr<const Graph> body_ptr);
};

Value Licm::hoist(Builder& b, const Node& scan, std::vector<Value> ops, std::shared_ptr<const Graph> body_ptr) {
  const Graph& body = *body_ptr;
  ScanInfo s = scan_info(scan);
  const int64_t first_capture = s.carry + s.xs;
  const size_t n = body.nodes.size();

  // Which body nodes are invariant, and which of those move out.
  std::vector<bool> invariant(n, false), moves(n, false);
  for (size_t i = 0; i < n; ++i) {
    const Node& node = body.nodes[i];
    if (node.op == Op::Param) {
      invariant[i] = node.attrs.i("index") >= first_capture;
    } else if (is_constant(body, static_cast<NodeId>(i))) {
      invariant[i] = true;
    } else {
      invariant[i] = node.op != Op::Input;
      for (NodeId o : node.operands) invariant[i] = invariant[i] && invariant[static_cast<size_t>(o)];
      bool big_broadcast = node.op == Op::Broadcast && node.type.elements() > kMaxHoistBroadcast;
      moves[i] = invariant[i] && !big_broadcast && s.length > 0;
    }
  }

  // The moved values that the body still needs: used by a node that stays, or returned.
  std::vector<bool> needed_inside(n, false);
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    any = any || moves[i];
    if (!moves[i])
      for (NodeId o : body.nodes[i].operands) needed_inside[static_cast<size_t>(o)] = true;
  }
  if (!any) return b.op(Op::Scan, ops, scan.attrs, std::move(body_ptr));
  for (NodeId r : body.results) needed_inside[static_cast<size_t>(r)] = true;

  // Outside: the moved nodes, built from the scan's capture operands and copies of constants.
  std::vector<Value> outer(n);
  auto outside = [&](NodeId id) {
    Value& v = outer[static_cast<size_t>(id)];
    if (v.valid()) return v;
    const Node& node = body.node(id);
    if (node.op == Op::Param) return v = ops[static_cast<size_t>(node.attrs.i("index"))];
    return v = b.op(node.op, {}, node.attrs);  // a constant
  };
  for (size_t i = 0; i < n; ++i) {
    if (!moves[i]) continue;
    const Node& node = body.nodes[i];
    std::vector<Value> args;
    for (NodeId o : node.operands) args.push_back(outside(o));
    outer[i] = b.op(node.op, args, node.attrs, node.body);
  }

  // Inside: the params first (so a capture reused for a moved value is defined before its uses),
  // then the nodes that stay, with the needed moved values read from captures.
  Builder nb(body.name);
  std::vector<Value> inner(n);
  std::vector<NodeId> params = body.params();
  for (NodeId p : params) inner[static_cast<size_t>(p)] = nb.op(Op::Param, {}, body.node(p).attrs);
  // Outer value -> the param that holds it inside (existing captures, then new ones).
  std::map<NodeId, Value> capture_of;
  for (size_t j = static_cast<size_t>(first_capture); j < ops.size(); ++j)
    capture_of.emplace(ops[j].id(), inner[static_cast<size_t>(params[j])]);
  int64_t next_index = static_cast<int64_t>(params.size());
  for (size_t i = 0; i < n; ++i) {
    const Node& node = body.nodes[i];
    if (node.op == Op::Param) continue;
    if (moves[i]) {
      if (!needed_inside[i]) continue;
      auto [it, fresh] = capture_of.emplace(outer[i].id(), Value());
      if (fresh) {
        Attrs a{{"index", next_index++}, {"dtype", node.type.dtype}, {"shape", node.type.shape}};
        it->second = nb.op(Op::Param, {}, std::move(a));
        ops.push_back(outer[i]);
      }
      inner[i] = it->second;
      continue;
    }
    std::vector<Value> args;
    for (NodeId o : node.operands) args.push_back(inner[static_cast<size_t>(o)]);
    inner[i] = nb.op(node.op, args, node.attrs, node.body);
  }
  std::vector<Value> results;
  for (NodeId r : body.results) results.push_back(inner[static_cast<size_t>(r)]);
  Graph out = nb.take(results);
  out.attrs = body.attrs;
  return b.op(Op::Scan, ops, scan.attrs, std::make_shared<const Graph>(std::move(out)));
}

}  // namespace

Graph LicmPass::run(const Graph& g, const CompileOptions&) { return Licm().run(g); }

}  // namespace sf
