// Running ahead-of-time objects from tests: tests/aot/driver.c linked against NAME.o, run, and what
// it did read back; and the same record of callbacks from a JIT or the reference executor.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"

namespace sf::test {

// What an executable does with the sink, in tests/aot/driver.c's log format.
struct LogSink : RecordSink {
  std::string log;
  std::map<int64_t, std::string> rows_of;  // per output y: the rows' bytes, in order
  void rows(NodeId, int64_t y, const Tensor& chunk, int64_t first_row) override;
  void events(NodeId, int64_t y, const std::vector<Event>& ev) override;
  void progress(NodeId, int64_t step, int64_t length) override;
};

struct AotRun {
  int code = -1;
  std::string message, log;
  std::vector<std::string> results;     // bytes
  std::map<int64_t, std::string> rows;  // per stream
};

// Links tests/aot/driver.c against DIR/NAME.o (and `libs`), writes the given inputs, runs the driver
// with `env` before the command (VAR=value ...) and reads back what it wrote.
AotRun run_driver(const KernelProgram& p, const std::filesystem::path& dir, const std::string& name,
                  const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& libs, int threads,
                  int64_t chunk_rows, int64_t event_chunk, const std::string& env = "");

// A built-in model that streams its recordings (size 0: the model's own), as the AOT tests run them.
Graph model_graph(const std::string& name, int64_t size, double t_end);

// Checks that an object's run did what an executable's did: code 0, the same result bytes, the same
// log of callbacks and the same rows (one top-level scan: stream order is y order).
void check_same_run(const AotRun& got, const std::vector<Tensor>& want, const LogSink& sink);

}  // namespace sf::test
