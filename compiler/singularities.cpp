#include "compiler/singularities.h"

#include <cmath>

#include "compiler/match.h"
#include "compiler/rewriter.h"

namespace sf {
namespace {

// x / (d * (exp(w) - 1)) = a * scale * w/expm1(w), with numerator a*x (a = -1: just x).
struct Rate {
  NodeId a = -1, w = -1;
  double scale = 0;
};

bool is_op(const Graph& g, NodeId id, Op op) { return g.node(id).op == op; }
const std::vector<NodeId>& args(const Graph& g, NodeId id) { return g.node(id).operands; }

bool is_number(const Graph& g, NodeId id, double v) {
  auto s = splat_of(g, id);
  return s && splat_is(*s, v);
}

// exp(w) - 1, exp(w) + -1, -1 + exp(w): d = 1; 1 - exp(w): d = -1. Returns the exp node or -1.
NodeId exp_minus_one(const Graph& g, NodeId den, double* d) {
  const Node& n = g.node(den);
  if (n.operands.size() != 2) return -1;
  NodeId l = n.operands[0], r = n.operands[1];
  if (n.op == Op::Sub && is_op(g, l, Op::Exp) && is_number(g, r, 1)) return *d = 1, l;
  if (n.op == Op::Sub && is_number(g, l, 1) && is_op(g, r, Op::Exp)) return *d = -1, r;
  if (n.op == Op::Add && is_op(g, l, Op::Exp) && is_number(g, r, -1)) return *d = 1, l;
  if (n.op == Op::Add && is_number(g, l, -1) && is_op(g, r, Op::Exp)) return *d = 1, r;
  return -1;
}

// w = x/k, x*c, (-x)/k, (-x)*c, -(x/k), -(x*c) with constant k, c: returns x and sets
// *k_signed = w's x over w (+-k, or +-1/c).
NodeId exponent_base(const Graph& g, NodeId w, double* k_signed) {
  double sign = 1;
  if (is_op(g, w, Op::Neg)) sign = -1, w = args(g, w)[0];
  const Node& n = g.node(w);
  if ((n.op != Op::Div && n.op != Op::Mul) || n.operands.size() != 2) return -1;
  NodeId y = n.operands[0], kc = n.operands[1];
  if (n.op == Op::Mul && !splat_of(g, kc)) std::swap(y, kc);
  auto k = splat_of(g, kc);
  if (!k) return -1;
  double kv = splat_double(*k);
  if (n.op == Op::Mul) kv = 1 / kv;
  if (kv == 0 || !std::isfinite(kv)) return -1;
  if (is_op(g, y, Op::Neg)) sign = -sign, y = args(g, y)[0];
  *k_signed = sign * kv;
  return y;
}

// Whether div(num, den) (operands of g) is a rate with a removable singularity.
bool match_rate(const Graph& g, NodeId num, NodeId den, Rate* r) {
  double d = 0, k = 0;
  NodeId e = exp_minus_one(g, den, &d);
  if (e < 0) return false;
  NodeId w = args(g, e)[0];
  NodeId x = exponent_base(g, w, &k);
  if (x < 0) return false;
  if (num == x) {
    r->a = -1;
  } else if (is_op(g, num, Op::Mul) && args(g, num)[0] == x) {
    r->a = args(g, num)[1];
  } else if (is_op(g, num, Op::Mul) && args(g, num)[1] == x) {
    r->a = args(g, num)[0];
  } else {
    return false;
  }
  r->w = w;
  r->scale = k / d;  // x = k w and den = d (exp(w) - 1)
  return true;
}

class Singularities : public Rewriter {
 protected:
  Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands) override {
    const Node& n = g.node(id);
    Rate r;
    if (n.op != Op::Div || !match_rate(b.graph(), operands[0].id(), operands[1].id(), &r)) return copy(b, n, operands);
    Value w(&b, r.w);
    Value ratio = where(eq(w, like(w, 0)), like(w, 1), w / expm1(w));
    Value out = like(w, r.scale) * ratio;
    if (r.a >= 0) out = Value(&b, r.a) * out;
    if (out.type() != n.type) out = broadcast_to(out, n.type.shape);
    return out;
  }
};

}  // namespace

Graph SingularitiesPass::run(const Graph& g, const CompileOptions& options) {
  if (!options.rewrite_singularities) return g;
  return Singularities().run(g);
}

}  // namespace sf
