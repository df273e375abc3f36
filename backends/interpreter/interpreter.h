// The reference interpreter: a plain evaluator of every op, the oracle all backends are tested
// against. Straight loops over contiguous buffers; a scan body's buffers are allocated once and
// reused every step.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace sf {

// A spike (or any true element of an `events` output): flat element index and the 0-based step.
struct Event {
  int64_t index;
  int64_t step;
};

// Receives what top-level scans record in `sink` and `events` mode, in step order.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Rows [first_row, first_row + chunk.shape()[0]) of per-step output `y` of scan node `scan`.
  virtual void rows(NodeId scan, int64_t y, const Tensor& chunk, int64_t first_row) {
    (void)scan, (void)y, (void)chunk, (void)first_row;
  }
  // Events of per-step output `y`, in step order (ties by index).
  virtual void events(NodeId scan, int64_t y, const std::vector<Event>& events) { (void)scan, (void)y, (void)events; }
  // Called about every 1% of a top-level scan's steps (progress bars); `step` steps are done.
  virtual void progress(NodeId scan, int64_t step, int64_t length) { (void)scan, (void)step, (void)length; }
};

struct RunOptions {
  RecordSink* sink = nullptr;  // required when a scan records in sink or events mode
  int64_t chunk_rows = 256;    // rows buffered per sink call (memory stays bounded)
  int64_t event_chunk = 4096;  // events buffered per sink call
};

// The rows one run of a scan of `length` steps records, one every `every` steps; at least 1, so that
// a chunk sized by it is never empty.
inline int64_t recorded_rows(int64_t length, int64_t every) {
  int64_t rows = every > 0 ? length / every : length;
  return rows < 1 ? 1 : rows;
}

// The rows a sink chunk is allocated with: chunk_rows, or all the rows the scan records when they
// are fewer (a population of 10^5 neurons took 256 rows, 205 MB zeroed, for a run that records 2).
inline int64_t sink_chunk_rows(const RunOptions& o, int64_t length, int64_t every) {
  int64_t rows = recorded_rows(length, every);
  return rows < o.chunk_rows ? rows : o.chunk_rows;
}

// Evaluates the graph's results. Sums run in a fixed order (see backends/interpreter/kernels.cpp),
// so results are reproducible bit for bit. `inputs` binds inputs by name; an unbound input takes its
// default, and one without a default is an error. Run-time errors (an out-of-range gather or
// scatter index, a wrong-typed binding, an unknown input name) throw sf::Error naming the node.
std::vector<Tensor> interpret(const Graph& g, const std::map<std::string, Tensor>& inputs = {},
                              const RunOptions& options = {});

}  // namespace sf
