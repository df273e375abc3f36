// Figures for `scanflow run --stats`.
#pragma once
#include <cstdint>

#include "graph/graph.h"

namespace sf::cli {

// The process's peak resident set size so far, in MiB.
double peak_rss_mb();

// Ops evaluated per step of scan node `scan`. The interpreter launches every body node each step
// (params are bindings, not work), and a nested scan runs its body `length` times.
int64_t ops_per_step(const Graph& g, NodeId scan);

// Ops evaluated at top level, outside the scan (inputs are bindings, not work).
int64_t top_level_ops(const Graph& g, NodeId scan);

// Ops in the graph and its bodies, each counted once: the interpreter's program (inputs and params
// are bindings; scan node `scan` is the loop).
int64_t program_ops(const Graph& g, NodeId scan);

}  // namespace sf::cli
