// Graphviz DOT export: ops coloured by class, scan and kernel bodies as clusters, each node
// labelled with its operands and type; scalar constants and parameters are written into the
// labels of their users instead of being drawn (see dot.cpp).
#pragma once
#include <string>

#include "graph/graph.h"

namespace sf {

std::string to_dot(const Graph& g);

}  // namespace sf
