// Test helpers: run a simulation graph through the interpreter, collecting spikes and sink rows.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "models/model.h"

namespace sf::test {

struct CollectSink : RecordSink {
  std::vector<Event> spikes;
  std::vector<double> streamed;  // sink rows, flattened
  int64_t row_count = 0;
  void events(NodeId, int64_t, const std::vector<Event>& e) override {
    spikes.insert(spikes.end(), e.begin(), e.end());
  }
  void rows(NodeId, int64_t, const Tensor& chunk, int64_t first_row) override {
    if (first_row != row_count) throw std::logic_error("sink rows out of order");
    for (int64_t i = 0; i < chunk.size(); ++i) streamed.push_back(chunk.get(i));
    row_count += chunk.shape()[0];
  }
};

struct SimRun {
  Graph graph;
  SimInfo info;
  std::vector<Tensor> results;
  CollectSink sink;

  const Tensor& initial() const { return results.at(static_cast<size_t>(info.result_initial)); }
  const Tensor& rows() const { return results.at(static_cast<size_t>(info.result_rows)); }
  const Tensor& final_state(const std::string& name) const {
    for (auto& [n, r] : info.final_state)
      if (n == name) return results.at(static_cast<size_t>(r));
    throw std::logic_error("no final state " + name);
  }
  // Value of column `col` at recorded row r, where row 0 is the initial row.
  double at(int64_t r, int64_t col) const {
    int64_t cols = static_cast<int64_t>(info.columns.size());
    return r == 0 ? initial().get(col) : rows().get((r - 1) * cols + col);
  }
};

inline SimRun run_graph(Graph g, const std::map<std::string, Tensor>& inputs = {}) {
  SimRun r;
  r.graph = std::move(g);
  r.info = SimInfo::load(r.graph);
  RunOptions opt;
  opt.sink = &r.sink;
  r.results = interpret(r.graph, inputs, opt);
  return r;
}

inline SimRun run_model(const std::string& name, const RunConfig& rc = {},
                        const std::map<std::string, Tensor>& inputs = {}) {
  return run_graph(find_model(name).build(rc), inputs);
}

}  // namespace sf::test
