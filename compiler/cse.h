// Common-subexpression elimination, for graphs that come from text or from other passes (the
// Builder already makes each expression once). Rebuilding through a Builder merges structurally
// equal nodes; before that, the operands of ops that commute exactly (compiler/match.h) are put in
// a canonical order (lower operand id first), so add(%1, %2) and add(%2, %1) become one node.
// Two scans with the same operands, attributes and (structurally equal) bodies merge too, unless
// they stream to the sink (a side effect each must keep). Scan bodies are processed recursively.
#pragma once
#include "compiler/pass.h"

namespace sf {

class CsePass : public Pass {
 public:
  const char* name() const override { return "cse"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

}  // namespace sf
