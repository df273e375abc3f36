#include "tests/fuzz/reduce.h"

#include <exception>
#include <memory>

#include "backends/interpreter/interpreter.h"
#include "graph/verify.h"
#include "tests/fuzz/differential.h"

namespace sf::fuzz {
namespace {

// How a case fails: the report's stage line ("first differs: after pass 'dce' ...", "fails in:
// pass 'fuse'"), or its first line without the seed when it has none. "" when it passes.
std::string failure_kind(const std::string& report) {
  if (report.empty()) return "";
  size_t at = report.find("\nfirst differs: ");
  if (at == std::string::npos) at = report.find("\nfails in: ");
  if (at != std::string::npos) return report.substr(at, report.find_first_of("(:\n", report.find(": ", at) + 2) - at);
  size_t colon = report.find(": ");
  return report.substr(colon, report.find('\n') - colon);
}

bool streams(const Node& n) {
  if (n.op != Op::Scan) return false;
  for (RecordMode m : scan_info(n).record)
    if (m != RecordMode::Stack) return true;
  return false;
}

// `g` without the nodes no result needs. Streaming scans stay unless `drop_streams` (their rows are
// part of the output); a body keeps its params (the scan passes them all).
Graph prune(const Graph& g, bool drop_streams = false) {
  std::vector<bool> live(g.nodes.size(), false);
  for (NodeId r : g.results) live[static_cast<size_t>(r)] = true;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    live[i] = live[i] || (streams(g.nodes[i]) && !drop_streams) || g.nodes[i].op == Op::Param;
  for (size_t i = g.nodes.size(); i-- > 0;)
    if (live[i])
      for (NodeId o : g.nodes[i].operands) live[static_cast<size_t>(o)] = true;
  Graph out;
  out.name = g.name;
  std::vector<NodeId> id(g.nodes.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!live[i]) continue;
    Node n = g.nodes[i];
    for (NodeId& o : n.operands) o = id[static_cast<size_t>(o)];
    id[i] = static_cast<NodeId>(out.nodes.size());
    out.nodes.push_back(std::move(n));
  }
  for (NodeId r : g.results) out.results.push_back(id[static_cast<size_t>(r)]);
  return out;
}

// Replaces the k-th replaceable node, counted depth-first through scan bodies, by a fill of its
// type (changing values, which is fine while the case fails the same way). False if there are
// fewer; k is then decreased by the number there are.
bool replaceable(const Node& n) {
  bool source = n.op == Op::Param || n.op == Op::Input || n.op == Op::Const || n.op == Op::Fill;
  return !source && !n.type.is_tuple();
}

int64_t fill_sites(const Graph& g) {
  int64_t n = 0;
  for (const Node& x : g.nodes) n += x.op == Op::Scan ? fill_sites(*x.body) : replaceable(x);
  return n;
}

bool replace_by_fill(Graph& g, int64_t& k) {
  for (Node& n : g.nodes) {
    if (n.op == Op::Scan) {
      Graph body = *n.body;
      if (!replace_by_fill(body, k)) continue;
      n.body = std::make_shared<const Graph>(prune(body));
      return true;
    }
    if (!replaceable(n) || k-- > 0) continue;
    n = Node{Op::Fill, {}, Attrs{{"value", 1.0}, {"dtype", n.type.dtype}, {"shape", n.type.shape}}, n.type, nullptr};
    return true;
  }
  return false;
}

// The value node `id` of `c` has in the interpreter.
Tensor value_of(const FuzzCase& c, NodeId id) {
  Graph g = c.graph;
  g.results = {id};
  RecordSink ignore;
  RunOptions o;
  o.sink = &ignore;
  return interpret(g, c.inputs, o).at(0);
}

class Reducer {
 public:
  explicit Reducer(const FuzzCase& c) : best_(c), kind_(failure_kind(check_case(c))) {}

  FuzzCase run() {
    if (kind_.empty()) return best_;
    for (bool progress = true; progress;) {
      progress = false;
      for (size_t r = best_.graph.results.size(); r-- > 0 && best_.graph.results.size() > 1;) {
        FuzzCase t = best_;
        t.graph.results.erase(t.graph.results.begin() + static_cast<long>(r));
        t.graph = prune(t.graph);
        progress |= keep_if_failing(std::move(t));
      }
      for (size_t i = best_.graph.nodes.size(); i-- > 0;) {
        if (i >= best_.graph.nodes.size()) continue;  // the graph shrank
        const Node& n = best_.graph.nodes[i];
        if (n.op == Op::Input || n.op == Op::Const || n.type.is_tuple()) continue;
        FuzzCase t = best_;
        try {
          Node cut{Op::Input, {}, Attrs{{"name", "cut" + std::to_string(cuts_++)}, {"dtype", n.type.dtype}, {"shape", n.type.shape}}, n.type, nullptr};
          cut.attrs.set("default", std::make_shared<const Tensor>(value_of(best_, static_cast<NodeId>(i))));
          t.graph.nodes[i] = std::move(cut);
        } catch (const std::exception&) {
          continue;
        }
        t.graph = prune(t.graph);
        progress |= keep_if_failing(std::move(t));
      }
      FuzzCase quiet = best_;  // without the streaming scans no result reads
      quiet.graph = prune(quiet.graph, true);
      if (quiet.graph.nodes.size() < best_.graph.nodes.size()) progress |= keep_if_failing(std::move(quiet));
      for (int64_t k = fill_sites(best_.graph); k-- > 0;) {  // nodes by fills, scan bodies included, last first
        FuzzCase t = best_;
        int64_t site = k;
        if (!replace_by_fill(t.graph, site)) continue;
        t.graph = prune(t.graph);
        progress |= keep_if_failing(std::move(t));
      }
    }
    return best_;
  }

 private:
  bool keep_if_failing(FuzzCase t) {
    try {
      verify(t.graph);
    } catch (const std::exception&) {
      return false;
    }
    for (auto it = t.inputs.begin(); it != t.inputs.end();)  // bindings of inputs that went
      it = t.graph.input(it->first) < 0 ? t.inputs.erase(it) : std::next(it);
    if (failure_kind(check_case(t)) != kind_) return false;
    best_ = std::move(t);
    return true;
  }

  FuzzCase best_;
  std::string kind_;
  int cuts_ = 0;
};

}  // namespace

FuzzCase reduce_case(const FuzzCase& failing) { return Reducer(failing).run(); }

}  // namespace sf::fuzz
