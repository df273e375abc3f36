// Type inference: the result type of a node from its op, attributes and operand types.
#pragma once
#include <vector>

#include "graph/graph.h"

namespace sf {

// Checks the node's attributes against the op's schema and its operands against the op's type
// rule; returns the result type. Throws sf::Error with "<op>: <problem>" (the caller adds which
// node). `node.type` is not read, except by source ops whose type is their attributes'.
Type infer_type(const Node& node, const std::vector<Type>& operands);

// NumPy broadcasting of two shapes; throws naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace sf
