// The golden check on the interpreter: net3 rebuilt from the tutorial's Day 5 files reproduces
// TensorFlow's float64 trajectories row for row, within 1e-8 (tests/tf_reference.h).
#include <doctest/doctest.h>

#include "tf_reference.h"

using namespace sf;

TEST_CASE("reference: net3 reproduces the TensorFlow Day 5 trajectories to 1e-8") {
  test::check_tf_reference([](const Graph& g, const RunOptions& o) { return interpret(g, {}, o); });
}
