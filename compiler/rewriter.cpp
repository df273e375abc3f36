#include "compiler/rewriter.h"

#include "compiler/pass.h"

namespace sf {

Graph Rewriter::run(const Graph& g) { return rebuild(g); }

Graph Rewriter::rebuild(const Graph& g) {
  Builder b(g.name);
  std::vector<Value> map(g.nodes.size());
  std::vector<Value> ops;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ops.clear();
    for (NodeId o : g.nodes[i].operands) ops.push_back(map[static_cast<size_t>(o)]);
    map[i] = rewrite(b, g, static_cast<NodeId>(i), ops);
  }
  std::vector<Value> results;
  for (NodeId r : g.results) results.push_back(map[static_cast<size_t>(r)]);
  Graph out = b.take(results);
  out.attrs = g.attrs;
  return out;
}

Value Rewriter::rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) {
  return copy(b, g.node(id), operands);
}

Value Rewriter::copy(Builder& b, const Node& n, const std::vector<Value>& operands) {
  std::shared_ptr<const Graph> body = n.body ? rewrite_body(*n.body) : nullptr;
  return b.op(n.op, operands, n.attrs, std::move(body));
}

std::shared_ptr<const Graph> Rewriter::rewrite_body(const Graph& body) {
  ++depth_;
  auto out = std::make_shared<const Graph>(rebuild(body));
  --depth_;
  return out;
}

static bool same_node(const Node& a, const Node& b) {
  if (a.op != b.op || a.operands != b.operands || a.type != b.type || !(a.attrs == b.attrs)) return false;
  if (!a.body || !b.body) return a.body == b.body;
  return a.body == b.body || same_graph(*a.body, *b.body);
}

bool same_graph(const Graph& a, const Graph& b) {
  if (a.name != b.name || a.results != b.results || a.nodes.size() != b.nodes.size() || !(a.attrs == b.attrs))
    return false;
  for (size_t i = 0; i < a.nodes.size(); ++i)
    if (!same_node(a.nodes[i], b.nodes[i])) return false;
  return true;
}

}  // namespace sf
