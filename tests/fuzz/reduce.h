// Test-case reduction for the differential fuzzer: shrinks a failing case to a small graph that
// still fails, so a mismatch can be read (fuzz_driver --reduce SEED).
//
// Each step cuts one top-level node: it becomes an `input` whose default is the value the
// interpreter computes for it, which keeps the graph's meaning and makes everything only it used
// dead; dead nodes and unused inputs are then dropped. Results are dropped one at a time too, and
// streaming scans no result reads; then nodes, scan bodies' included, are replaced by fills (which
// changes values, but a bug that survives it is still the same bug). A step is kept when the case still fails the same way (the same first line of the report, less the
// seed); the nodes are tried from the last to the first until nothing more can go.
#pragma once
#include "tests/fuzz/graph_gen.h"

namespace sf::fuzz {

FuzzCase reduce_case(const FuzzCase& failing);

}  // namespace sf::fuzz
