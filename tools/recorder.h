// What a simulation records, taken as it streams out of the engine: rows to a .npy file, spikes to
// a CSV file and per-neuron counts. Memory stays constant however long the run is.
#pragma once
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "graph/npy.h"
#include "models/model.h"
#include "tools/progress.h"

namespace sf::cli {

class Recorder : public RecordSink {
 public:
  // `neurons`: the length of the spike output (0 if the graph has none).
  Recorder(const SimInfo& info, bool rows_streamed, int64_t neurons);
  ~Recorder() override;

  void write_rows(const std::string& path, DType dtype);  // before the run
  void write_spikes(const std::string& path);              // before the run

  void rows(NodeId scan, int64_t y, const Tensor& chunk, int64_t first_row) override;
  void events(NodeId scan, int64_t y, const std::vector<Event>& events) override;
  void progress(NodeId scan, int64_t step, int64_t length) override;

  // After the run: row 0 (the state at t_0) and, for a graph that stacks its rows instead of
  // streaming them, the rest. Closes the files.
  void finish(const Tensor& initial, const Tensor* stacked);

  int64_t rows_recorded() const { return 1 + streamed_rows_ + stacked_rows_; }
  int64_t spikes() const { return spikes_; }
  const std::vector<int64_t>& spike_counts() const { return counts_; }

 private:
  void patch_first_row(const Tensor& initial);

  const SimInfo& info_;
  bool rows_streamed_;
  std::string rows_path_, spikes_path_;
  std::optional<NpyRowWriter> npy_;
  std::FILE* csv_ = nullptr;
  int64_t streamed_rows_ = 0, stacked_rows_ = 0, spikes_ = 0;
  std::vector<int64_t> counts_;
  ProgressBar bar_;
};

}  // namespace sf::cli
