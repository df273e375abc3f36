// A seeded generator of random valid graphs for differential testing (tests/fuzz/differential.h).
//
// A seed fully determines the graph and its input bindings (models/random.h's Rng, the same on
// every machine). The graphs are built through the Builder, so they are valid by construction, and
// mix every op of the IR: elementwise math on every dtype with scalar and size-1 broadcasting,
// reductions, layout ops, gather and scatter_add with in-range index tables (constants, inputs or
// computed and clamped), both forms of matmul, and scans with carries, xs, captures, every > 1,
// stacked/sink/events outputs and nested scans.
//
// Values are kept mostly tame so results stay informative (exp of a tanh, log of |x|+c, division
// by |x|+0.5, carries squashed by tanh), but the unguarded forms, special values in the data
// (+-inf, NaN, -0, extremes, subnormals) and empty slices appear now and then: both sides of a
// differential check must agree on them too.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "graph/graph.h"

namespace sf::fuzz {

struct GenOptions {
  int ops = 40;        // random ops at top level, at most (bodies draw fewer)
  int scan_depth = 2;  // nesting limit of scans (0: no scans)
  int max_dim = 4;     // dimensions are drawn from 1..max_dim (and 0, rarely)
};

struct FuzzCase {
  uint64_t seed = 0;
  Graph graph;
  std::map<std::string, Tensor> inputs;  // bindings: every input without a default, and a few overrides
};

FuzzCase generate(uint64_t seed, const GenOptions& options = {});

// Adds what `g` exercises (scan bodies included) to `counts`: "op:NAME" per node, "dtype:NAME" per
// node result, "matmul:vector"/"matmul:matrix", and for scans "scan:xs", "scan:captures",
// "scan:every", "scan:nested", "scan:length0", "record:stack|sink|events". Coverage is asserted by
// tests/fuzz_test.cpp and printed by fuzz_driver --coverage.
void count_features(const Graph& g, std::map<std::string, int64_t>& counts);

}  // namespace sf::fuzz
