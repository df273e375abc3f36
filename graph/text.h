// The .sfg text format: prints and parses every graph (scan bodies and input defaults included).
// print(parse(print(g))) == print(g). See docs/SFG.md for the grammar.
#pragma once
#include <string>
#include <string_view>

#include "graph/graph.h"

namespace sf {

std::string print_graph(const Graph& g);

// Parses and verifies. Errors throw sf::Error "file:line:col: message".
Graph parse_graph(std::string_view text, const std::string& filename = "<input>");
Graph load_graph(const std::string& path);  // reads the file (sf::Error if unreadable) and parses

}  // namespace sf
