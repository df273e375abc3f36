// A tiny pattern language for one-line rewrite rules over the graph IR (the idea of Halide's
// `rewrite(x * 1, x)`, written as text so a rule table reads like the algebra it encodes):
//
//   term   := var | number | 'true' | 'false' | NAME '(' term (',' term)* ')'
//   var    := x | y | z      any value; a var used twice matches one node twice
//           | c | d          a splat constant (fill, or a const whose elements are all equal)
//   number := a splat constant equal to the number converted to the node's dtype, bit for bit
//             (-0.0 is not 0; for integers they are the same)
//   NAME   := an op of ops/ops.def; an op that commutes exactly (compiler/match.h) matches its two
//             operands in either order
//
// In a replacement, vars stand for what they matched, numbers are constants of the matched node's
// dtype, an op node takes the matched node's attributes when it is the same op (so
// reshape(reshape(x)) -> reshape(x) keeps the outer shape), and `splat(c)` is a fill of the
// matched node's type holding c's value.
#pragma once
#include <array>
#include <functional>
#include <string_view>

#include "graph/builder.h"

namespace sf {

struct Pattern {
  enum Kind { Var, Constant, Number, OpNode, Splat } kind = Var;
  char var = 0;       // Var, Constant, Splat (the constant)
  double number = 0;  // Number
  Op op{};            // OpNode
  std::vector<Pattern> args;
};

// Throws std::logic_error on a malformed pattern (rule tables are code).
Pattern parse_pattern(std::string_view text);

// What a match bound. The root is the node being matched (it need not be in `graph` yet); its
// operands and everything below are nodes of `graph`.
struct Match {
  const Graph* graph = nullptr;
  const Node* root = nullptr;
  std::array<NodeId, 26> vars;  // by letter; -1 where unbound
  Match() { vars.fill(-1); }
  NodeId operator[](char v) const { return vars[static_cast<size_t>(v - 'a')]; }
  const Type& type(char v) const { return graph->type((*this)[v]); }
};

// Whether `root` (whose operands are nodes of `g`) matches `p`; fills `m` when it does.
bool match(const Pattern& p, const Graph& g, const Node& root, Match* m);

// Builds replacement `p` in `b` (the builder of `m.graph`). Op nodes are made through `make`, so a
// caller can simplify or fold them as they appear.
using MakeNode = std::function<Value(Op, const std::vector<Value>&, const Attrs&)>;
Value build(Builder& b, const Pattern& p, const Match& m, const MakeNode& make);

}  // namespace sf
