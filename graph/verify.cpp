#include "graph/verify.h"

#include <set>

#include "graph/error.h"
#include "graph/kernel.h"
#include "ops/type_rules.h"

namespace sf {
namespace {

void verify_graph(const Graph& g, const std::string& where, bool top) {
  std::set<std::string> input_names;
  std::vector<Type> ops;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    NodeId id = static_cast<NodeId>(i);
    auto bad = [&](const std::string& msg) { fail("{}: {}: {}", where, node_label(g, id), msg); };
    ops.clear();
    for (NodeId o : n.operands) {
      if (o < 0 || o >= id)
        bad(o >= id && static_cast<size_t>(o) < g.nodes.size()
                ? fmt::format("operand %{} is not defined before its use (a cycle or a forward reference)", o)
                : fmt::format("operand %{} does not exist", o));
      ops.push_back(g.nodes[static_cast<size_t>(o)].type);
    }
    if (n.op == Op::Input && !top) bad("an input may appear only in the top-level graph (bodies use param)");
    if (n.op == Op::Param && top) bad("a param may appear only in a scan body");
    if (n.op == Op::Input && !input_names.insert(n.attrs.has("name") ? n.attrs.s("name") : "").second)
      bad("duplicate input name");
    Type t;
    try {
      t = infer_type(n, ops);
    } catch (const Error& e) {
      bad(e.what());
    }
    if (t != n.type) bad(fmt::format("has type {} but its operands give {}", type_str(n.type), type_str(t)));
    if (n.op == Op::Scan) {
      ScanInfo s = scan_info(n);
      if (!top)
        for (RecordMode m : s.record)
          if (m != RecordMode::Stack) bad("a nested scan may only stack its outputs (sink and events are top-level)");
      verify_graph(*n.body, where + "/" + fmt::format("%{}.body", id), false);
    }
    if (n.op == Op::Kernel) {
      std::string inner = where + "/" + fmt::format("%{}.body", id);
      verify_graph(*n.body, inner, false);
      try {
        check_kernel_body(*n.body);
      } catch (const Error& e) {
        fail("{}: {}", inner, e.what());
      }
    }
  }
  for (NodeId r : g.results)
    if (r < 0 || static_cast<size_t>(r) >= g.nodes.size()) fail("{}: result %{} does not exist", where, r);
}

}  // namespace

void verify(const Graph& g) { verify_graph(g, "graph '" + g.name + "'", true); }

}  // namespace sf
