#include "compiler/simplify.h"

#include "compiler/fold.h"
#include "compiler/rewriter.h"
#include "compiler/rules.h"
#include "graph/error.h"
#include "ops/type_rules.h"

namespace sf {
namespace {

// Rules rewrite into smaller or more canonical forms, so chains are short; the cap only guards
// against a table that would loop.
constexpr int kMaxDepth = 32;

// The indices of the rules whose left side is rooted at `op`, in table order.
const std::vector<size_t>& rules_for(Op op) {
  static const auto index = [] {
    std::vector<std::vector<size_t>> by_op(all_ops().size());
    const auto& rules = simplify_rules();
    for (size_t k = 0; k < rules.size(); ++k) by_op[static_cast<size_t>(rules[k].lhs.op)].push_back(k);
    return by_op;
  }();
  return index[static_cast<size_t>(op)];
}

class Simplify : public Rewriter {
 public:
  Simplify(bool fast_math, std::vector<int64_t>* fired) : fast_math_(fast_math), fired_(fired) {}

 protected:
  Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) override {
    const Node& n = g.node(id);
    if (n.body || operands.empty()) return copy(b, n, operands);
    return simplify(b, n.op, operands, n.attrs, 0);
  }

 private:
  // op(operands) {attrs} in b, after the first rule that applies (and whatever applies to its
  // replacement).
  Value simplify(Builder& b, Op op, const std::vector<Value>& operands, const Attrs& attrs, int depth) {
    if (depth > kMaxDepth) internal_error("simplify: the rules do not terminate on {}", op_name(op));
    Node root{op, {}, attrs, {}, nullptr};
    std::vector<Type> types;
    for (Value v : operands) {
      root.operands.push_back(v.id());
      types.push_back(v.type());
    }
    root.type = infer_type(root, types);
    Match m;
    const auto& rules = simplify_rules();
    for (size_t k : rules_for(op)) {
      const CompiledRule& r = rules[k];
      if (!match(r.lhs, b.graph(), root, &m) || !rule_applies(r.rule, m, fast_math_)) continue;
      ++(*fired_)[k];
      Value out = build(b, r.rhs, m, [&](Op o, const std::vector<Value>& ops, const Attrs& a) {
        if (auto folded = fold_node(b, o, ops, a)) return *folded;
        return simplify(b, o, ops, a, depth + 1);
      });
      // A rank-0 value standing for a shaped one (x*1 with x a scalar and 1 a fill) is broadcast.
      if (out.type() != root.type && out.rank() == 0 && out.dtype() == root.type.dtype)
        out = simplify(b, Op::Broadcast, {out}, Attrs{{"shape", root.type.shape}}, depth + 1);
      if (out.type() != root.type)
        internal_error("simplify: rule {} -> {} changed type {} to {}", r.rule.lhs, r.rule.rhs, type_str(root.type),
                       type_str(out.type()));
      return out;
    }
    return b.op(op, operands, attrs);
  }

  bool fast_math_;
  std::vector<int64_t>* fired_;
};

}  // namespace

Graph SimplifyPass::run(const Graph& g, const CompileOptions& options) {
  fired_.assign(simplify_rules().size(), 0);
  return Simplify(options.fast_math, &fired_).run(g);
}

}  // namespace sf
