// The interpreter's op kernels. A node is prepared once into a Step (its kernel, operand values
// and output buffer resolved); running the Step computes the node's value in place.
#pragma once
#include <cstring>
#include <vector>

#include "graph/graph.h"

namespace sf::interp {

struct Step;
using Kernel = void (*)(const Step&);

struct Step {
  const Graph* graph = nullptr;  // for error messages
  NodeId id = -1;
  const Node* node = nullptr;
  std::vector<const Tensor*> in;  // operand values
  Tensor* out = nullptr;          // the node's buffer, already shaped by its static type
  Kernel kernel = nullptr;
};

// The kernel computing node `id` of `g`; null for the nodes that only name a value (input, param,
// const, get) and for scan and kernel, which the evaluator runs itself.
Kernel select_kernel(const Graph& g, NodeId id);

// The kernel of an elementwise op (unary, binary, compare, where, cast) for its dtypes.
Kernel select_elementwise(const Graph& g, NodeId id);

// memcpy that accepts the null pointers of empty tensors.
inline void copy_bytes(void* dst, const void* src, int64_t n) {
  if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n));
}

}  // namespace sf::interp
