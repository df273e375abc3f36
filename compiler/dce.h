// Dead-code elimination: keeps only what the graph's results need, scan bodies included, and
// shrinks scans to what is used:
//   * a carry goes when its final value is unused and no kept body value reads it (found as a
//     fixed point: keeping one carry can make the body read another);
//   * a stacked per-step output goes when its `get` is unused; sink and events outputs always stay
//     (they stream to the run's sink: a side effect), and so does a scan that has one;
//   * xs and captures go when the kept body does not read them;
// renumbering the scan's operands, body params and results, its carry/xs/record attributes and the
// indices of its `get`s. (Graph attributes never name nodes: a simulation finds its scan through
// its results, which every pass preserves.)
//
// The top-level graph's `input` nodes always stay, used or not: they are the graph's interface,
// and a caller that binds an input by name must not get "unknown input" because the compiler
// found it unused.
#pragma once
#include "compiler/pass.h"

namespace sf {

class DcePass : public Pass {
 public:
  const char* name() const override { return "dce"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

}  // namespace sf
