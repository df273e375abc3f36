// Rebuilds a graph node by node through a Builder, so every pass gets type inference and
// hash-consing (equal nodes merge) for free. A pass overrides `rewrite` for the nodes it changes;
// everything else is copied with its operands remapped. Scan bodies are rebuilt by the same
// rewriter, recursively (Halide's IRMutator, on a graph).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "graph/builder.h"

namespace sf {

class Rewriter {
 public:
  virtual ~Rewriter() = default;
  Graph run(const Graph& g);

 protected:
  // The replacement for node `id` of `g`, built in `b` from the already rewritten operands.
  virtual Value rewrite(Builder& b, const Graph& g, NodeId id, const std::vector<Value>& operands);
  // `n` copied into `b` with new operands (and its body, for scan, rewritten).
  Value copy(Builder& b, const Node& n, const std::vector<Value>& operands);
  std::shared_ptr<const Graph> rewrite_body(const Graph& body);
  int depth() const { return depth_; }  // 0 at top level, 1 inside a scan body, ...

 private:
  Graph rebuild(const Graph& g);
  int depth_ = 0;
};

}  // namespace sf
