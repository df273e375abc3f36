// A compiler pass: one entry point that rewrites a graph and says, truthfully, whether it changed.
#pragma once
#include <memory>
#include <string>

#include "graph/graph.h"

namespace sf {

struct CompileOptions {
  bool fast_math = false;             // allow value-changing algebraic rules (see compiler/rules)
  bool rewrite_singularities = true;  // x/(1-exp(-x)) rates -> finite expm1 form (changes values)
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  // Returns the rewritten graph. The pipeline decides "changed" by comparing structure, so a
  // pass cannot misreport it.
  virtual Graph run(const Graph& g, const CompileOptions& options) = 0;
};

// Structural equality: same nodes (op, operands, attrs bit for bit, types, bodies), results, attrs.
bool same_graph(const Graph& a, const Graph& b);

}  // namespace sf
