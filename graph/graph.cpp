#include "graph/graph.h"

#include "graph/error.h"

namespace sf {

std::vector<NodeId> Graph::inputs() const {
  std::vector<NodeId> r;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].op == Op::Input) r.push_back(static_cast<NodeId>(i));
  return r;
}

NodeId Graph::input(const std::string& n) const {
  for (NodeId id : inputs())
    if (node(id).attrs.s("name") == n) return id;
  return -1;
}

std::vector<NodeId> Graph::params() const {
  std::vector<NodeId> r;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].op != Op::Param) continue;
    int64_t k = nodes[i].attrs.i("index");
    if (k < 0 || k > static_cast<int64_t>(nodes.size())) fail("param %{} has index {} out of range", i, k);
    if (static_cast<size_t>(k) >= r.size()) r.resize(static_cast<size_t>(k) + 1, -1);
    r[static_cast<size_t>(k)] = static_cast<NodeId>(i);
  }
  return r;
}

std::string node_label(const Graph& g, NodeId id) {
  if (id < 0 || static_cast<size_t>(id) >= g.nodes.size()) return fmt::format("%{}", id);
  const Node& n = g.node(id);
  if (n.op == Op::Input && n.attrs.has("name")) return fmt::format("%{} (input '{}')", id, n.attrs.s("name"));
  return fmt::format("%{} ({})", id, op_name(n.op));
}

const char* record_mode_name(RecordMode m) {
  switch (m) {
    case RecordMode::Stack: return "stack";
    case RecordMode::Sink: return "sink";
    case RecordMode::Events: return "events";
  }
  return "?";
}

bool parse_record_mode(const std::string& s, RecordMode* out) {
  for (RecordMode m : {RecordMode::Stack, RecordMode::Sink, RecordMode::Events})
    if (s == record_mode_name(m)) return *out = m, true;
  return false;
}

ScanInfo scan_info(const Node& n) {
  ScanInfo s;
  s.carry = n.attrs.i("carry");
  s.xs = n.attrs.i("xs");
  s.length = n.attrs.i("length");
  s.every = n.attrs.i("every");
  int64_t operands = static_cast<int64_t>(n.operands.size());
  if (s.carry < 0 || s.xs < 0 || s.carry > operands || s.xs > operands - s.carry)
    fail("scan: carry={} xs={} does not fit its {} operands", s.carry, s.xs, n.operands.size());
  s.captures = operands - s.carry - s.xs;
  if (s.length < 0) fail("scan: negative length {}", s.length);
  if (s.every < 1) fail("scan: every={} must be >= 1", s.every);
  for (auto& r : n.attrs.strs("record")) {
    RecordMode m;
    if (!parse_record_mode(r, &m)) fail("scan: unknown record mode '{}' (stack, sink or events)", r);
    s.record.push_back(m);
  }
  return s;
}

}  // namespace sf
