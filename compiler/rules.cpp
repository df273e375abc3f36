#include "compiler/rules.h"

#include <cmath>

#include "compiler/match.h"

namespace sf {
namespace {

// ---- conditions ------------------------------------------------------------------------------

bool x_varies(const Match& m) { return !is_constant(*m.graph, m['x']); }

// c = +-2^k with 1/c exactly representable in c's dtype: then x/c and x*(1/c) are both the one
// rounding of the same real number x*2^-k, with the same special cases.
bool recip_exact(const Match& m) {
  if (!x_varies(m) || !is_float(m.type('c').dtype)) return false;
  double c = splat_double(*splat_of(*m.graph, m['c']));
  int e = 0;
  if (!std::isfinite(c) || c == 0 || std::abs(std::frexp(c, &e)) != 0.5) return false;
  if (m.type('c').dtype == DType::f32) {
    float r = 1.0f / static_cast<float>(c);
    return std::isfinite(r) && r * static_cast<float>(c) == 1.0f;
  }
  double r = 1.0 / c;
  return std::isfinite(r) && r * c == 1.0;
}

bool same_dtype(const Match& m) { return m.root->type.dtype == m.type('x').dtype; }
bool same_type(const Match& m) { return m.root->type == m.type('x'); }

bool identity_perm(const Match& m) {
  const auto& perm = m.root->attrs.ints("perm");
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// c's value survives the trip through a fill's float attribute (an i64 above 2^53 does not).
bool fill_holds_c(const Match& m) {
  Tensor s = *splat_of(*m.graph, m['c']);
  return Tensor::scalar(s.dtype(), s.get(0)).bit_equal(s);
}

constexpr auto Exact = Exactness::Exact;
constexpr auto IntExact = Exactness::IntExact;
constexpr auto Fast = Exactness::FastMath;

// ---- the table -------------------------------------------------------------------------------
// clang-format off
const Rule kRules[] = {
  // lhs                      rhs                          exactness  when             note
  // Identities. (x+0 is not among them: for floats -0 + 0 = +0, see the IntExact rows.)
  {"mul(x, 1)",              "x",                         Exact,     nullptr,        "x*1 = x, also for +-0, inf, subnormals"},
  {"div(x, 1)",              "x",                         Exact,     nullptr,        "x/1 = x"},
  {"sub(x, 0)",              "x",                         Exact,     nullptr,        "x - +0 = x, and -0 - +0 = -0"},
  {"add(x, -0.0)",           "x",                         Exact,     nullptr,        "x + -0 = x, and +0 + -0 = +0"},
  {"mul(x, -1)",             "neg(x)",                    Exact,     nullptr,        "flips the sign only (ints wrap alike)"},
  {"div(x, -1)",             "neg(x)",                    Exact,     nullptr,        "flips the sign only"},
  {"sub(-0.0, x)",           "neg(x)",                    Exact,     nullptr,        "-0 - x = -x, also for x = +-0"},
  {"add(x, neg(y))",         "sub(x, y)",                 Exact,     nullptr,        "IEEE defines x-y as x+(-y)"},
  {"sub(x, neg(y))",         "add(x, y)",                 Exact,     nullptr,        "x-(-y) = x+y"},
  {"neg(neg(x))",            "x",                         Exact,     nullptr,        "wrapping neg is an involution too"},
  {"abs(neg(x))",            "abs(x)",                    Exact,     nullptr,        "abs drops the sign"},
  {"abs(abs(x))",            "abs(x)",                    Exact,     nullptr,        ""},
  {"min(x, x)",              "x",                         Exact,     nullptr,        "returns its first operand"},
  {"max(x, x)",              "x",                         Exact,     nullptr,        "returns its first operand"},
  {"pow(x, 1)",              "x",                         Exact,     nullptr,        "glibc: checked on every float, 2e7 doubles"},
  {"pow(x, 0)",              "1",                         Exact,     nullptr,        "C Annex F: 1 for every x, NaN included"},
  {"div(x, c)",              "mul(x, div(1, c))",         Exact,     recip_exact,    "c = +-2^k: one rounding of x*2^-k"},
  // Booleans and selects.
  {"not(not(x))",            "x",                         Exact,     nullptr,        ""},
  {"and(x, x)",              "x",                         Exact,     nullptr,        ""},
  {"or(x, x)",               "x",                         Exact,     nullptr,        ""},
  {"and(x, true)",           "x",                         Exact,     nullptr,        ""},
  {"or(x, false)",           "x",                         Exact,     nullptr,        ""},
  {"and(x, false)",          "false",                     Exact,     nullptr,        ""},
  {"or(x, true)",            "true",                      Exact,     nullptr,        ""},
  {"lt(x, x)",               "false",                     Exact,     nullptr,        "false for NaN too"},
  {"gt(x, x)",               "false",                     Exact,     nullptr,        "false for NaN too"},
  {"where(y, x, x)",         "x",                         Exact,     nullptr,        ""},
  {"where(true, x, y)",      "x",                         Exact,     nullptr,        ""},
  {"where(false, x, y)",     "y",                         Exact,     nullptr,        ""},
  {"where(not(z), x, y)",    "where(z, y, x)",            Exact,     nullptr,        ""},
  // Casts and layout.
  {"cast(x)",                "x",                         Exact,     same_dtype,     "to the dtype it has"},
  {"reshape(x)",             "x",                         Exact,     same_type,      "to the shape it has"},
  {"broadcast(x)",           "x",                         Exact,     same_type,      "to the shape it has"},
  {"slice(x)",               "x",                         Exact,     same_type,      "same shape: start 0, stride 1"},
  {"transpose(x)",           "x",                         Exact,     identity_perm,  ""},
  {"reshape(reshape(x))",    "reshape(x)",                Exact,     nullptr,        "row-major order is kept"},
  {"broadcast(broadcast(x))", "broadcast(x)",             Exact,     nullptr,        "broadcasting composes"},
  {"broadcast(c)",           "splat(c)",                  Exact,     fill_holds_c,   "a splat constant, any shape, is a fill"},
  {"reshape(c)",             "splat(c)",                  Exact,     fill_holds_c,   ""},
  // Exact for integers and bools only.
  {"add(x, 0)",              "x",                         IntExact,  nullptr,        "floats: -0 + 0 = +0"},
  {"sub(0, x)",              "neg(x)",                    IntExact,  nullptr,        "floats: 0 - +0 = +0, -(+0) = -0"},
  {"mul(x, 0)",              "0",                         IntExact,  nullptr,        "floats: NaN*0, inf*0 = NaN; -1*0 = -0"},
  {"sub(x, x)",              "0",                         IntExact,  nullptr,        "floats: inf - inf = NaN"},
  {"eq(x, x)",               "true",                      IntExact,  nullptr,        "floats: NaN != NaN"},
  {"le(x, x)",               "true",                      IntExact,  nullptr,        "floats: NaN <= NaN is false"},
  {"ge(x, x)",               "true",                      IntExact,  nullptr,        "floats: NaN >= NaN is false"},
  {"ne(x, x)",               "false",                     IntExact,  nullptr,        "floats: NaN != NaN"},
  {"add(add(x, c), d)",      "add(x, add(c, d))",         IntExact,  x_varies,       "floats: rounds differently"},
  {"mul(mul(x, c), d)",      "mul(x, mul(c, d))",         IntExact,  x_varies,       "floats: rounds differently"},
  // Value-changing: only with fast_math.
  {"pow(x, 2)",              "mul(x, x)",                 Fast,      nullptr,        "glibc: differs for 1 in ~2300 doubles"},
  {"pow(x, 3)",              "mul(mul(x, x), x)",         Fast,      nullptr,        "two roundings instead of one"},
  {"pow(x, 4)",              "mul(mul(x, x), mul(x, x))", Fast,      nullptr,        "two roundings instead of one"},
  {"pow(x, 0.5)",            "sqrt(x)",                   Fast,      nullptr,        "sqrt(-0) = -0, sqrt(-inf) = NaN"},
  {"pow(x, -1)",             "div(1, x)",                 Fast,      nullptr,        "glibc: differs for 1 in ~1200 doubles"},
  {"div(x, c)",              "mul(x, div(1, c))",         Fast,      x_varies,       "1/c rounds: a second rounding"},
  {"div(x, x)",              "1",                         Fast,      nullptr,        "0/0, inf/inf, NaN"},
};
// clang-format on

}  // namespace

const std::vector<CompiledRule>& simplify_rules() {
  static const std::vector<CompiledRule> table = [] {
    std::vector<CompiledRule> t;
    for (const Rule& r : kRules) t.push_back({r, parse_pattern(r.lhs), parse_pattern(r.rhs)});
    return t;
  }();
  return table;
}

bool exact_for(const Rule& r, const Match& m) {
  switch (r.exactness) {
    case Exactness::Exact: return true;
    case Exactness::FastMath: return false;
    case Exactness::IntExact: break;
  }
  if (is_float(m.root->type.dtype)) return false;
  for (NodeId v : m.vars)
    if (v >= 0 && is_float(m.graph->type(v).dtype)) return false;
  return true;
}

bool rule_applies(const Rule& r, const Match& m, bool fast_math) {
  return (!r.when || r.when(m)) && (fast_math || exact_for(r, m));
}

}  // namespace sf
