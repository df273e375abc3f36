// The golden check, for any way of running a graph: net3 rebuilt from the tutorial's Day 5 files
// reproduces TensorFlow's float64 trajectories (tests/data/reference/psst-tf, README there) row for
// row. Tolerance (f64, the only dtype the files have): |ours - TF| <= 1e-8 on every entry.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "graph/graph.h"

namespace sf::test {

// Runs a simulation graph on the backend under test (compiling it first where that backend needs
// a KernelProgram) and returns its results.
using GraphRunner = std::function<std::vector<Tensor>(const Graph&, const RunOptions&)>;

// Which of the tutorial's two batches to run: both, or the first alone (half the time; it holds the
// spike the README quotes).
enum class TfBatches { Both, First };

// Runs the tutorial's batches through `run` and checks: the step count and the 17-column state
// layout, every row of each batch's two part files within 1e-8, and X1's first spike time. `label`
// goes into the messages (e.g. a strategy's name).
void check_tf_reference(const GraphRunner& run, const std::string& label = "", TfBatches batches = TfBatches::Both);

}  // namespace sf::test
