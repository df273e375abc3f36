// Algebraic simplification: applies the rule table of compiler/rules.h to every node (scan
// bodies included). Rules marked exact always apply; the value-changing ones only with
// CompileOptions::fast_math. A replacement is simplified in turn, and the constant parts it makes
// (the 1/c of x/c -> x*(1/c)) are folded at once, with the interpreter's bits (compiler/fold.h).
#pragma once
#include <vector>

#include "compiler/pass.h"

namespace sf {

class SimplifyPass : public Pass {
 public:
  const char* name() const override { return "simplify"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
  // How often each rule of simplify_rules() fired in the last run (tests, statistics).
  const std::vector<int64_t>& fired() const { return fired_; }

 private:
  std::vector<int64_t> fired_;
};

}  // namespace sf
