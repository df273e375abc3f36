// Constant folding: a node whose operands are all constants (const, fill, iota, or results folded
// before it) is evaluated at compile time and replaced by a `const`, or by a `fill` when every
// element has the same bits. Evaluation runs the node through the interpreter, so the folded bits
// are the interpreter's bits. Not folded: inputs (they bind at run time), params, scans and
// kernels, results above kMaxFoldElements elements (or operands above kMaxFoldOperand, which would
// have to be materialised), and nodes whose evaluation fails (an out-of-range gather index stays
// a run-time error). Splats fold at any size: an elementwise op of splats is evaluated once, on
// scalars, and a layout op of a splat only moves equal elements; either becomes a fill. Scan
// bodies are folded too.
#pragma once
#include <optional>

#include "compiler/pass.h"
#include "graph/builder.h"

namespace sf {

inline constexpr int64_t kMaxFoldElements = 100000;
inline constexpr int64_t kMaxFoldOperand = 1000000;

class FoldPass : public Pass {
 public:
  const char* name() const override { return "fold"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

// `op(operands) {attrs}` folded into a constant of `b`, or nullopt when it does not fold (see
// above). The operands are values of `b`.
std::optional<Value> fold_node(Builder& b, Op op, const std::vector<Value>& operands, const Attrs& attrs);

}  // namespace sf
