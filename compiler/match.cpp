#include "compiler/match.h"

#include <cstring>

namespace sf {

bool is_constant(const Graph& g, NodeId id) {
  Op op = g.node(id).op;
  return op == Op::Const || op == Op::Fill || op == Op::Iota;
}

std::optional<Tensor> splat_of(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.op == Op::Fill) return Tensor::scalar(n.type.dtype, n.attrs.f("value"));
  if (n.op != Op::Const) return std::nullopt;
  const Tensor& t = n.attrs.tensor("value");
  if (t.size() < 1 || !t.all_equal_to_first()) return std::nullopt;
  Tensor s(t.dtype(), {});
  std::memcpy(s.raw(), t.raw(), static_cast<size_t>(dtype_size(t.dtype())));
  return s;
}

bool splat_is(const Tensor& t, double v) { return t.bit_equal(Tensor::scalar(t.dtype(), v)); }

double splat_double(const Tensor& t) { return t.get(0); }

bool commutes_exactly(Op op, DType dtype) {
  switch (op) {
    case Op::Add:
    case Op::Mul:
    case Op::And:
    case Op::Or:
    case Op::Eq:
    case Op::Ne: return true;
    case Op::Min:
    case Op::Max: return !is_float(dtype);
    default: return false;
  }
}

}  // namespace sf
