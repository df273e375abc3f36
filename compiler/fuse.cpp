#include "compiler/fuse.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "compiler/phases.h"
#include "graph/builder.h"
#include "graph/error.h"
#include "graph/kernel.h"

namespace sf {
namespace {

constexpr int kRecomputeLimit = 4;

// Ops worth recomputing in a second kernel rather than storing and loading (see fuse.h).
bool cheap_op(Op op) {
  switch (op) {
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Neg:
    case Op::Abs:
    case Op::Min:
    case Op::Max:
    case Op::And:
    case Op::Or:
    case Op::Not:
    case Op::Floor:
    case Op::Where:
    case Op::Cast:
    case Op::Reshape:
    case Op::Broadcast: return true;
    default: return op_info(op).cls == OpClass::Compare;
  }
}

// What fusion does with a node.
enum class Kind : uint8_t {
  Keep,    // stays a node of the graph (params, consts, matmul, reductions, scans, get, kernels)
  Source,  // fill / iota: copied into every kernel that reads it
  Scalar,  // a rank-0 loop node: copied into every kernel that reads it
  Loop,    // a loop node with elements: belongs to the kernel of its (phase, loop count)
};

struct Group {
  int phase = 0;
  int64_t loop = 0;
  NodeId segments = -1;  // the index of its scatter_adds (one per kernel: one segment structure)
  int main = -1;         // a group split off for another scatter index: the group it came from
  std::vector<NodeId> outputs;   // values others read; the kernel's results in node order
  std::vector<NodeId> members;   // what the body computes (outputs, their in-loop inputs, copies)
  std::vector<NodeId> operands;  // what the body reads as params, in param order
};

class GraphFuser {
 public:
  GraphFuser(const Graph& g, int* counter) : g_(g), counter_(counter) {}
  Graph run();

 private:
  size_t size() const { return g_.nodes.size(); }
  Kind kind(NodeId id) const { return kind_[static_cast<size_t>(id)]; }
  int home(NodeId id) const { return home_[static_cast<size_t>(id)]; }
  int group_for(int phase, int64_t loop, NodeId split = -1);
  int owner_for(NodeId id);
  void demand(NodeId id);
  bool cheap(NodeId id);
  bool inside(int gi, NodeId user, size_t k);
  void close(int gi);
  void emit_all();
  void emit(size_t item);
  Value value_of(NodeId id);
  Value emit_kernel(int gi);

  const Graph& g_;
  int* counter_;
  Phases ph_;
  std::vector<Kind> kind_;
  std::vector<int> home_;        // the group computing (and outputting) a node; -1 = none yet
  std::vector<bool> is_output_;  // the node is an output of its home group
  std::vector<int8_t> cheap_;    // memo for cheap(): -1 unknown
  std::vector<Group> groups_;
  std::map<std::tuple<int, int64_t, NodeId>, int> group_of_;

  Builder* b_ = nullptr;
  std::vector<Value> kept_;     // emitted Keep nodes
  std::vector<Value> kernels_;  // emitted kernel nodes, per group
};

int GraphFuser::group_for(int phase, int64_t loop, NodeId split) {
  auto [it, fresh] = group_of_.try_emplace({phase, loop, split}, static_cast<int>(groups_.size()));
  if (fresh) groups_.push_back(Group{phase, loop, split, -1, {}, {}, {}});
  return it->second;
}

// The group that outputs a rank-0 value or a source needed outside kernels: for a source, the
// group of its elements in phase 0; for a rank-0 value, the widest group that runs once it can be
// computed and before the kept nodes that read it (the earliest such, on a tie), else its own.
int GraphFuser::owner_for(NodeId id) {
  int phase = ph_.phase[static_cast<size_t>(id)];
  if (kind(id) == Kind::Source && g_.type(id).rank() > 0) return group_for(0, g_.type(id).elements());
  int last = std::numeric_limits<int>::max();
  for (size_t u = static_cast<size_t>(id) + 1; u < size(); ++u)
    if (kind_[u] == Kind::Keep && std::count(g_.nodes[u].operands.begin(), g_.nodes[u].operands.end(), id))
      last = std::min(last, ph_.phase[u] - 1);
  int best = -1;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& grp = groups_[gi];
    if (grp.phase < phase || grp.phase > last || grp.main >= 0) continue;
    const Group* b = best < 0 ? nullptr : &groups_[static_cast<size_t>(best)];
    if (!b || grp.loop > b->loop || (grp.loop == b->loop && grp.phase < b->phase)) best = static_cast<int>(gi);
  }
  return best >= 0 ? best : group_for(phase, kUniform);
}

void GraphFuser::demand(NodeId id) {
  size_t i = static_cast<size_t>(id);
  if (is_output_[i]) return;
  if (home_[i] < 0) home_[i] = owner_for(id);
  is_output_[i] = true;
  groups_[static_cast<size_t>(home_[i])].outputs.push_back(id);
}

// Whether a Loop node, with the nodes of its own group it needs, is cheap enough to recompute.
bool GraphFuser::cheap(NodeId id) {
  int8_t& memo = cheap_[static_cast<size_t>(id)];
  if (memo >= 0) return memo;
  std::vector<NodeId> cone{id}, stack{id};
  bool ok = true;
  while (ok && !stack.empty()) {
    NodeId x = stack.back();
    stack.pop_back();
    if (!cheap_op(g_.node(x).op)) ok = false;
    for (NodeId o : g_.node(x).operands)
      if (kind(o) == Kind::Loop && home(o) == home(id) && std::find(cone.begin(), cone.end(), o) == cone.end()) {
        cone.push_back(o);
        stack.push_back(o);
      }
    if (static_cast<int>(cone.size()) > kRecomputeLimit) ok = false;
  }
  memo = ok;
  return ok;
}

// Whether the kernel of group `gi`, computing `user`, computes its operand k too (else it reads
// it as a param).
bool GraphFuser::inside(int gi, NodeId user, size_t k) {
  NodeId o = g_.node(user).operands[k];
  switch (kind(o)) {
    case Kind::Keep: return g_.node(o).op == Op::Const && g_.type(o).rank() == 0;
    case Kind::Source:
    case Kind::Scalar: return true;
    case Kind::Loop:
      if (home(o) == gi) return true;
      return ph_.in_loop(g_, user, k) && cheap(o);
  }
  return false;
}

// The members of group gi: its outputs and everything they need that the kernel computes itself.
// The values it reads from other groups become their outputs; its operands are what it reads.
void GraphFuser::close(int gi) {
  std::vector<bool> member(size(), false);
  std::vector<NodeId> work;
  for (NodeId o : groups_[static_cast<size_t>(gi)].outputs) member[static_cast<size_t>(o)] = true, work.push_back(o);
  while (!work.empty()) {
    NodeId x = work.back();
    work.pop_back();
    const Node& n = g_.node(x);
    for (size_t k = 0; k < n.operands.size(); ++k) {
      NodeId o = n.operands[k];
      if (inside(gi, x, k)) {
        if (!member[static_cast<size_t>(o)]) member[static_cast<size_t>(o)] = true, work.push_back(o);
      } else if (kind(o) == Kind::Loop) {
        const Group &from = groups_[static_cast<size_t>(home(o))], &to = groups_[static_cast<size_t>(gi)];
        if (from.phase >= to.phase && to.main != home(o))
          internal_error("fuse: {} reads {} from a kernel of the same or a later phase", node_label(g_, x),
                         node_label(g_, o));
        demand(o);
      }
    }
  }
  Group& grp = groups_[static_cast<size_t>(gi)];
  std::sort(grp.outputs.begin(), grp.outputs.end());
  for (size_t i = 0; i < size(); ++i) {
    if (!member[i]) continue;
    NodeId x = static_cast<NodeId>(i);
    grp.members.push_back(x);
    const Node& n = g_.node(x);
    for (size_t k = 0; k < n.operands.size(); ++k)
      if (!inside(gi, x, k) && std::find(grp.operands.begin(), grp.operands.end(), n.operands[k]) == grp.operands.end())
        grp.operands.push_back(n.operands[k]);
  }
}

Graph GraphFuser::run() {
  size_t n = size();
  ph_ = compute_phases(g_);
  kind_.assign(n, Kind::Keep);
  home_.assign(n, -1);
  is_output_.assign(n, false);
  cheap_.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g_.nodes[i];
    if (!ph_.loop_node[i]) continue;
    kind_[i] = source_op(node.op) ? Kind::Source : node.type.rank() == 0 ? Kind::Scalar : Kind::Loop;
    if (kind_[i] != Kind::Loop) continue;
    int gi = group_for(ph_.phase[i], ph_.loop[i]);
    // A kernel sums by one index (a segment sum has one segment structure): a scatter_add by
    // another index gets a kernel of its own, reading the shared prologue from this one.
    if (node.op == Op::ScatterAdd) {
      NodeId idx = node.operands[1];
      if (groups_[static_cast<size_t>(gi)].segments < 0) groups_[static_cast<size_t>(gi)].segments = idx;
      if (groups_[static_cast<size_t>(gi)].segments != idx) {
        int split = group_for(ph_.phase[i], ph_.loop[i], idx);
        groups_[static_cast<size_t>(split)].main = gi;
        gi = split;
      }
    }
    home_[i] = gi;
  }
  // What must leave the kernels: operands of kept nodes, and the graph's results.
  for (size_t i = 0; i < n; ++i)
    if (kind_[i] == Kind::Keep)
      for (NodeId o : g_.nodes[i].operands)
        if (kind(o) != Kind::Keep) demand(o);
  for (NodeId r : g_.results)
    if (kind(r) != Kind::Keep) demand(r);
  // Later phases first: a kernel only asks earlier phases for values.
  std::vector<int> order(groups_.size());
  for (size_t gi = 0; gi < order.size(); ++gi) order[gi] = static_cast<int>(gi);
  // Groups split off for a scatter index read their main group in the same phase: first.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const Group &x = groups_[static_cast<size_t>(a)], &y = groups_[static_cast<size_t>(b)];
    return x.phase != y.phase ? x.phase > y.phase : (x.main >= 0) > (y.main >= 0);
  });
  for (int gi : order)
    if (!groups_[static_cast<size_t>(gi)].outputs.empty()) close(gi);

  Builder b(g_.name);
  b_ = &b;
  kept_.assign(n, Value());
  kernels_.assign(groups_.size(), Value());
  emit_all();
  std::vector<Value> results;
  for (NodeId r : g_.results) results.push_back(value_of(r));
  Graph out = b.take(results);
  out.attrs = g_.attrs;
  return out;
}

// Emits every kept node (dead ones too: removing them is DCE's job) except consts, which only
// go where something still reads them, and every kernel something reads, each after what it
// reads. Items: node ids for kept nodes, size() + group for kernels.
void GraphFuser::emit_all() {
  size_t n = size();
  std::vector<uint8_t> state(n + groups_.size(), 0);  // 0 new, 1 on the stack, 2 emitted
  auto item_of = [&](NodeId o) { return kind(o) == Kind::Keep ? static_cast<size_t>(o) : n + static_cast<size_t>(home(o)); };
  auto deps = [&](size_t item) -> const std::vector<NodeId>& {
    return item < n ? g_.nodes[item].operands : groups_[item - n].operands;
  };
  std::vector<size_t> roots;
  for (size_t i = 0; i < n; ++i)
    if (kind_[i] == Kind::Keep && g_.nodes[i].op != Op::Const) roots.push_back(i);
  for (NodeId r : g_.results) roots.push_back(item_of(r));
  std::vector<std::pair<size_t, size_t>> stack;  // (item, next dependency)
  for (size_t root : roots) {
    if (state[root]) continue;
    stack.push_back({root, 0});
    state[root] = 1;
    while (!stack.empty()) {
      auto& [item, k] = stack.back();
      const std::vector<NodeId>& d = deps(item);
      if (k == d.size()) {
        emit(item);
        state[item] = 2;
        stack.pop_back();
        continue;
      }
      size_t next = item_of(d[k++]);
      if (state[next] == 1) internal_error("fuse: kernels of {} depend on each other", g_.name);
      if (state[next] == 0) {
        state[next] = 1;
        stack.push_back({next, 0});
      }
    }
  }
}

void GraphFuser::emit(size_t item) {
  if (item >= size()) {
    kernels_[item - size()] = emit_kernel(static_cast<int>(item - size()));
    return;
  }
  const Node& node = g_.nodes[item];
  std::vector<Value> ops;
  for (NodeId o : node.operands) ops.push_back(value_of(o));
  std::shared_ptr<const Graph> body = node.body;
  if (node.op == Op::Scan) body = std::make_shared<const Graph>(GraphFuser(*node.body, counter_).run());
  kept_[item] = b_->op(node.op, ops, node.attrs, std::move(body));
}

Value GraphFuser::value_of(NodeId id) {
  if (kind(id) == Kind::Keep) return kept_[static_cast<size_t>(id)];
  const Group& grp = groups_[static_cast<size_t>(home(id))];
  Value k = kernels_[static_cast<size_t>(home(id))];
  if (!k.valid()) internal_error("fuse: {} is read before its kernel is built", node_label(g_, id));
  if (grp.outputs.size() == 1) return k;
  auto at = std::find(grp.outputs.begin(), grp.outputs.end(), id) - grp.outputs.begin();
  return get(k, static_cast<int64_t>(at));
}

// Builds the body of group gi (params for its operands, then its members in node order) and the
// kernel node reading them.
Value GraphFuser::emit_kernel(int gi) {
  const Group& grp = groups_[static_cast<size_t>(gi)];
  std::string name = fmt::format("k{}", (*counter_)++);
  Builder kb(name);
  std::vector<Value> local(size());
  std::vector<Value> params, ops;
  for (size_t p = 0; p < grp.operands.size(); ++p) {
    const Type& t = g_.type(grp.operands[p]);
    params.push_back(kb.op(Op::Param, {}, Attrs{{"index", static_cast<int64_t>(p)}, {"dtype", t.dtype}, {"shape", t.shape}}));
    ops.push_back(value_of(grp.operands[p]));
  }
  auto param_of = [&](NodeId o) {
    return params[static_cast<size_t>(std::find(grp.operands.begin(), grp.operands.end(), o) - grp.operands.begin())];
  };
  for (NodeId x : grp.members) {
    const Node& node = g_.node(x);
    std::vector<Value> in;
    for (size_t k = 0; k < node.operands.size(); ++k) {
      NodeId o = node.operands[k];
      in.push_back(inside(gi, x, k) ? local[static_cast<size_t>(o)] : param_of(o));
    }
    local[static_cast<size_t>(x)] = kb.op(node.op, in, node.attrs);
  }
  std::vector<Value> results;
  for (NodeId o : grp.outputs) results.push_back(local[static_cast<size_t>(o)]);
  auto body = std::make_shared<const Graph>(kb.take(results));
  return b_->op(Op::Kernel, ops, Attrs{{"name", name}}, std::move(body));
}

}  // namespace

Graph FusePass::run(const Graph& g, const CompileOptions&) {
  int counter = 0;
  return GraphFuser(g, &counter).run();
}

}  // namespace sf
