// Test helpers for KernelPrograms: run a graph through the interpreter and through lowering + the
// reference executor, recording everything each run sends to its sink.
#pragma once
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "compiler/lower.h"
#include "compiler/program_executor.h"

namespace sf::test {

// Every call a run makes to its sink, in order.
struct SinkLog : RecordSink {
  std::vector<std::string> calls;  // "rows y first_row shape", "events y (i,k)...", "progress k/n"
  std::vector<Tensor> chunks;
  void rows(NodeId, int64_t y, const Tensor& chunk, int64_t first_row) override {
    calls.push_back("rows " + std::to_string(y) + " " + std::to_string(first_row) + " " + type_str(chunk.type()));
    chunks.push_back(chunk);
  }
  void events(NodeId, int64_t y, const std::vector<Event>& ev) override {
    std::string s = "events " + std::to_string(y);
    for (const Event& e : ev) s += " (" + std::to_string(e.index) + "," + std::to_string(e.step) + ")";
    calls.push_back(s);
  }
  void progress(NodeId, int64_t step, int64_t length) override {
    calls.push_back("progress " + std::to_string(step) + "/" + std::to_string(length));
  }
};

// Same type and the same bits.
inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.type() == b.type() && (a.bytes() == 0 || std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.bytes())) == 0);
}

// "" when both runs return the same bits and make the same sink calls with the same rows, else
// what differs.
inline std::string compare_runs(const Graph& g, const KernelProgram& p, const std::map<std::string, Tensor>& inputs = {},
                                int64_t chunk_rows = 256) {
  SinkLog a, b;
  RunOptions oa, ob;
  oa.sink = &a, ob.sink = &b;
  oa.chunk_rows = ob.chunk_rows = chunk_rows;
  std::vector<Tensor> ra = interpret(g, inputs, oa), rb = execute(p, inputs, ob);
  if (ra.size() != rb.size()) return "result count";
  for (size_t i = 0; i < ra.size(); ++i)
    if (!same_bits(ra[i], rb[i])) return "result " + std::to_string(i);
  if (a.calls != b.calls) return "sink calls";
  for (size_t i = 0; i < a.chunks.size(); ++i)
    if (!same_bits(a.chunks[i], b.chunks[i])) return "sink chunk " + std::to_string(i);
  return "";
}

inline std::string compare_runs(const Graph& g, const std::map<std::string, Tensor>& inputs = {}) {
  return compare_runs(g, lower(g), inputs);
}

}  // namespace sf::test
