#include "compiler/dce.h"

#include <map>

#include "compiler/rewriter.h"

namespace sf {
namespace {

// How a live scan shrinks.
struct ScanPlan {
  std::vector<bool> keep_operand;      // per operand of the scan
  std::vector<int64_t> new_index;      // per element of the scan's tuple: its new index, or -1
  Attrs attrs;                         // carry, xs and record updated
  std::shared_ptr<const Graph> body;   // pruned, params renumbered
};

struct Liveness {
  std::vector<bool> live;
  std::map<NodeId, ScanPlan> scans;  // the live scans
};

bool streams(const Node& n) {
  if (n.op != Op::Scan) return false;
  for (RecordMode m : scan_info(n).record)
    if (m != RecordMode::Stack) return true;
  return false;
}

ScanPlan plan_scan(const Graph& g, NodeId id, const std::vector<bool>& used);

// What `roots` need in g (inputs always stay), planning the live scans on the way. One backward
// sweep suffices: users follow what they use, so a scan's gets are all seen before the scan.
Liveness analyse(const Graph& g, const std::vector<NodeId>& roots) {
  Liveness l;
  l.live.assign(g.nodes.size(), false);
  for (NodeId r : roots) l.live[static_cast<size_t>(r)] = true;
  std::map<NodeId, std::vector<bool>> used;  // scan -> which tuple elements live gets read
  auto use_all = [&](NodeId scan) { used[scan].assign(g.type(scan).elems.size(), true); };
  for (NodeId r : roots)
    if (g.node(r).op == Op::Scan) use_all(r);  // a tuple result: every element is returned
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const Node& n = g.nodes[i];
    NodeId id = static_cast<NodeId>(i);
    if (n.op == Op::Input || streams(n)) l.live[i] = true;
    if (!l.live[i]) continue;
    if (n.op == Op::Get && g.node(n.operands[0]).op == Op::Scan) {
      auto& u = used[n.operands[0]];
      u.resize(g.type(n.operands[0]).elems.size(), false);
      u[static_cast<size_t>(n.attrs.i("index"))] = true;
    }
    if (n.op == Op::Scan) {
      auto& u = used[id];
      u.resize(n.type.elems.size(), false);
      ScanPlan plan = plan_scan(g, id, u);
      for (size_t k = 0; k < n.operands.size(); ++k)
        if (plan.keep_operand[k]) l.live[static_cast<size_t>(n.operands[k])] = true;
      l.scans.emplace(id, std::move(plan));
      continue;
    }
    for (NodeId o : n.operands) {
      l.live[static_cast<size_t>(o)] = true;
      if (g.node(o).op == Op::Scan && n.op != Op::Get) use_all(o);  // a user of the whole tuple
    }
  }
  return l;
}

// The live part of g, with body params renumbered by `param_index` (old index -> new).
Graph rebuild(const Graph& g, const Liveness& l, const std::vector<NodeId>& roots,
              const std::vector<int64_t>& param_index) {
  Builder b(g.name);
  std::vector<Value> map(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!l.live[i]) continue;
    const Node& n = g.nodes[i];
    std::vector<Value> ops;
    for (NodeId o : n.operands) ops.push_back(map[static_cast<size_t>(o)]);
    if (n.op == Op::Param) {
      Attrs a = n.attrs;
      a.set("index", param_index.at(static_cast<size_t>(n.attrs.i("index"))));
      map[i] = b.op(Op::Param, {}, std::move(a));
    } else if (n.op == Op::Scan) {
      const ScanPlan& p = l.scans.at(static_cast<NodeId>(i));
      std::vector<Value> kept;
      for (size_t k = 0; k < ops.size(); ++k)
        if (p.keep_operand[k]) kept.push_back(ops[k]);
      map[i] = b.op(Op::Scan, kept, p.attrs, p.body);
    } else if (n.op == Op::Get && l.scans.count(n.operands[0])) {
      int64_t index = l.scans.at(n.operands[0]).new_index.at(static_cast<size_t>(n.attrs.i("index")));
      map[i] = b.op(Op::Get, ops, Attrs{{"index", index}});
    } else {
      map[i] = b.op(n.op, ops, n.attrs, n.body);
    }
  }
  std::vector<Value> results;
  for (NodeId r : roots) results.push_back(map[static_cast<size_t>(r)]);
  Graph out = b.take(results);
  out.attrs = g.attrs;
  return out;
}

ScanPlan plan_scan(const Graph& g, NodeId id, const std::vector<bool>& used) {
  const Node& n = g.node(id);
  const Graph& body = *n.body;
  ScanInfo s = scan_info(n);
  std::vector<NodeId> params = body.params();
  const size_t nc = static_cast<size_t>(s.carry), ny = static_cast<size_t>(s.ys());

  std::vector<bool> carry(nc), y(ny);
  for (size_t i = 0; i < nc; ++i) carry[i] = used[i];
  for (size_t j = 0; j < ny; ++j) y[j] = used[nc + j] || s.record[j] != RecordMode::Stack;

  // A carry whose param a kept body value reads must stay too; that can keep more: iterate.
  std::vector<NodeId> roots;
  Liveness l;
  for (bool grew = true; grew;) {
    roots.clear();
    for (size_t i = 0; i < nc; ++i)
      if (carry[i]) roots.push_back(body.results[i]);
    for (size_t j = 0; j < ny; ++j)
      if (y[j]) roots.push_back(body.results[nc + j]);
    l = analyse(body, roots);
    grew = false;
    for (size_t i = 0; i < nc; ++i)
      if (!carry[i] && l.live[static_cast<size_t>(params[i])]) carry[i] = grew = true;
  }

  // A kept carry keeps its param even where no kept body value reads it: the body needs one param
  // per carry.
  for (size_t i = 0; i < nc; ++i)
    if (carry[i]) l.live[static_cast<size_t>(params[i])] = true;

  ScanPlan p;
  std::vector<int64_t> param_index(params.size(), -1);
  int64_t next = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    bool keep = k < nc ? carry[k] : l.live[static_cast<size_t>(params[k])];
    p.keep_operand.push_back(keep);
    if (keep) param_index[k] = next++;
  }
  int64_t kept_carries = 0, kept_xs = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    if (!p.keep_operand[k]) continue;
    if (k < nc) ++kept_carries;
    else if (k < nc + static_cast<size_t>(s.xs)) ++kept_xs;
  }
  std::vector<std::string> record;
  int64_t out = 0;
  for (size_t i = 0; i < nc; ++i) p.new_index.push_back(carry[i] ? out++ : -1);
  for (size_t j = 0; j < ny; ++j) {
    p.new_index.push_back(y[j] ? out++ : -1);
    if (y[j]) record.push_back(record_mode_name(s.record[j]));
  }
  p.attrs = n.attrs;
  p.attrs.set("carry", kept_carries);
  p.attrs.set("xs", kept_xs);
  p.attrs.set("record", record);
  p.body = std::make_shared<const Graph>(rebuild(body, l, roots, param_index));
  return p;
}

}  // namespace

Graph DcePass::run(const Graph& g, const CompileOptions&) {
  Liveness l = analyse(g, g.results);
  std::vector<int64_t> no_params;
  return rebuild(g, l, g.results, no_params);
}

}  // namespace sf
