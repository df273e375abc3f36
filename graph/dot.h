// Graphviz DOT export: ops coloured by class, scan bodies as clusters, edges labelled with shapes.
#pragma once
#include <string>

#include "graph/graph.h"

namespace sf {

std::string to_dot(const Graph& g);

}  // namespace sf
