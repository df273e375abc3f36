#include "compiler/fold.h"

#include <cstring>

#include "backends/interpreter/interpreter.h"
#include "compiler/match.h"
#include "compiler/rewriter.h"
#include "graph/error.h"
#include "ops/type_rules.h"

namespace sf {
namespace {

bool never_folds(Op op) {
  switch (op) {
    case Op::Input:
    case Op::Param:
    case Op::Const:
    case Op::Fill:
    case Op::Iota:
    case Op::Scan:
    case Op::Get:
    case Op::Kernel: return true;
    default: return false;
  }
}

// Whether a fill's float attribute holds element 0 of t exactly (not an i64 above 2^53).
bool fill_holds(const Tensor& t) {
  Tensor first(t.dtype(), {});
  std::memcpy(first.raw(), t.raw(), static_cast<size_t>(dtype_size(t.dtype())));
  return Tensor::scalar(t.dtype(), t.get(0)).bit_equal(first);
}

// The value as a node of `b`: a fill when it is a splat, else a const.
Value emit(Builder& b, Tensor t) {
  if (t.size() >= 2 && t.all_equal_to_first() && fill_holds(t)) return b.fill(t.get(0), t.dtype(), t.shape());
  return b.constant(std::move(t));
}

// Evaluates op on copies of the operand sources; nullopt if evaluation fails at run time.
std::optional<Tensor> evaluate(const std::vector<const Node*>& sources, Op op, const Attrs& attrs) {
  Builder s("fold");
  std::vector<Value> ops;
  for (const Node* n : sources) ops.push_back(s.op(n->op, {}, n->attrs));
  try {
    Value v = s.op(op, ops, attrs);
    return interpret(s.build({v})).at(0);
  } catch (const Error&) {
    return std::nullopt;
  }
}

class Fold : public Rewriter {
 protected:
  Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) override {
    const Node& n = g.node(id);
    if (auto v = fold_node(b, n.op, operands, n.attrs)) return *v;
    return copy(b, n, operands);
  }
};

}  // namespace

std::optional<Value> fold_node(Builder& b, Op op, const std::vector<Value>& operands, const Attrs& attrs) {
  if (never_folds(op) || operands.empty()) return std::nullopt;
  const Graph& g = b.graph();
  std::vector<Type> types;
  for (Value v : operands) {
    if (v.builder() != &b || !is_constant(g, v.id())) return std::nullopt;
    types.push_back(v.type());
  }
  Type type;
  try {
    type = infer_type(Node{op, {}, attrs, {}, nullptr}, types);
  } catch (const Error&) {
    return std::nullopt;
  }

  // Splats in, a splat out: elementwise ops evaluate once, on rank-0 operands; layout ops only
  // move elements. Either way the result is a fill of any size.
  OpClass cls = op_info(op).cls;
  if (op_info(op).elementwise() || (cls == OpClass::Layout && op != Op::Concat)) {
    std::vector<Node> scalars;
    for (Value v : operands) {
      auto s = splat_of(g, v.id());
      if (!s) break;
      Attrs value{{"value", std::make_shared<const Tensor>(std::move(*s))}};
      scalars.push_back(Node{Op::Const, {}, std::move(value), {}, nullptr});
    }
    if (scalars.size() == operands.size()) {
      std::optional<Tensor> t;
      if (op_info(op).elementwise()) {
        std::vector<const Node*> ptrs;
        for (const Node& n : scalars) ptrs.push_back(&n);
        t = evaluate(ptrs, op, attrs);
      } else {
        t = scalars[0].attrs.tensor("value");
      }
      if (!t) return std::nullopt;
      if (type.rank() == 0) return b.constant(std::move(*t));
      if (fill_holds(*t)) return b.fill(t->get(0), type.dtype, type.shape);
      // else: a splat the fill attribute cannot hold; fold it in full below.
    }
  }

  if (type.elements() > kMaxFoldElements) return std::nullopt;
  std::vector<const Node*> sources;
  for (Value v : operands) {
    if (v.type().elements() > kMaxFoldOperand) return std::nullopt;
    sources.push_back(&g.node(v.id()));
  }
  auto t = evaluate(sources, op, attrs);
  if (!t) return std::nullopt;
  return emit(b, std::move(*t));
}

Graph FoldPass::run(const Graph& g, const CompileOptions&) { return Fold().run(g); }

}  // namespace sf
