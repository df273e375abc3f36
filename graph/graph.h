// The graph IR: a list of immutable nodes in topological order (operands precede users).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "graph/attrs.h"
#include "ops/op.h"

namespace sf {

using NodeId = int32_t;
struct Graph;

struct Node {
  Op op;
  std::vector<NodeId> operands;
  Attrs attrs;
  Type type;
  std::shared_ptr<const Graph> body;  // scan bodies only
};

struct Graph {
  std::string name = "main";
  std::vector<Node> nodes;
  std::vector<NodeId> results;  // a scan body: new carries, then per-step outputs
  Attrs attrs;                  // graph-level metadata (e.g. a simulation's columns and time grid)

  const Node& node(NodeId id) const { return nodes.at(static_cast<size_t>(id)); }
  const Type& type(NodeId id) const { return node(id).type; }
  // The graph's `input` nodes in order, and one by name (-1 if none).
  std::vector<NodeId> inputs() const;
  NodeId input(const std::string& name) const;
  // The `param` nodes of a body, indexed by their `index` attribute.
  std::vector<NodeId> params() const;
};

// Name of node `id` for error messages: "%12 (exp)".
std::string node_label(const Graph& g, NodeId id);

// How a scan records a per-step output.
//   stack : the scan's result holds the rows, shape [length/every, ...] (tf.scan's default)
//   sink  : rows stream to the run's sink in chunks; the result is the row count (i64[])
//   events: a bool output; every true element is sent to the sink as (index, step); the result is
//           the event count (i64[]). Events are taken at every step, whatever `every` says.
enum class RecordMode { Stack, Sink, Events };
const char* record_mode_name(RecordMode m);
bool parse_record_mode(const std::string& s, RecordMode* out);

// A read-only view of a scan node's attributes.
struct ScanInfo {
  int64_t carry = 0, xs = 0, captures = 0, length = 0, every = 1;
  std::vector<RecordMode> record;  // one per per-step output
  int64_t rows() const { return length / every; }
  int64_t ys() const { return static_cast<int64_t>(record.size()); }
};
ScanInfo scan_info(const Node& scan);  // throws sf::Error on bad attributes

}  // namespace sf
