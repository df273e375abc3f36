// verify(graph): the IR's invariants. Run after building, after parsing, after every pass.
#pragma once
#include "graph/graph.h"

namespace sf {

// Checks types and shapes (every node's type is what its type rule infers), operand counts,
// acyclicity (operands precede their users), scan-body signatures, unique input names, and that
// `input` appears only at top level and `param` only in bodies, and that every kernel body is one
// element loop (graph/kernel.h). Throws sf::Error naming the node.
void verify(const Graph& g);

}  // namespace sf
