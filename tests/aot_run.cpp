#include "aot_run.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "backends/host_cc.h"
#include "models/model.h"
#include "files.h"
#include "shell.h"

namespace sf::test {

namespace fs = std::filesystem;

void LogSink::rows(NodeId, int64_t y, const Tensor& chunk, int64_t first_row) {
  log += fmt::format("rows {} {} {}\n", y, first_row, chunk.shape()[0]);
  rows_of[y].append(static_cast<const char*>(chunk.raw()), static_cast<size_t>(chunk.bytes()));
}
void LogSink::events(NodeId, int64_t y, const std::vector<Event>& ev) {
  log += fmt::format("events {}", y);
  for (const Event& e : ev) log += fmt::format(" {}:{}", e.index, e.step);
  log += "\n";
}
void LogSink::progress(NodeId, int64_t step, int64_t length) { log += fmt::format("progress {}/{}\n", step, length); }

AotRun run_driver(const KernelProgram& p, const fs::path& d, const std::string& name,
                  const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& libs, int threads,
                  int64_t chunk_rows, int64_t event_chunk, const std::string& env) {
  std::vector<std::string> args = {"-std=c11", "-O1", "-DPREFIX=" + name, "-include", (d / (name + ".h")).string(),
                                   std::string(SF_SOURCE_DIR) + "/tests/aot/driver.c", (d / (name + ".o")).string()};
  args.insert(args.end(), libs.begin(), libs.end());
  args.insert(args.end(), {"-o", (d / "driver").string()});
  run_host_cc(args, "the AOT test driver");
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    auto it = inputs.find(p.buffers[static_cast<size_t>(p.inputs[i])].input);
    if (it == inputs.end()) continue;
    std::ofstream f(d / fmt::format("in{}.bin", i), std::ios::binary);
    f.write(static_cast<const char*>(it->second.raw()), it->second.bytes());
  }
  ShellRun run = shell(fmt::format("{} {} {} {} {} {} 2>&1", env, (d / "driver").string(), d.string(), threads, chunk_rows, event_chunk));
  REQUIRE_MESSAGE(run.code == 0, run.out);
  AotRun r;
  std::istringstream code(read_file(d / "code.txt"));
  code >> r.code;
  code.get();
  std::getline(code, r.message, '\0');
  r.log = read_file(d / "log.txt");
  for (size_t i = 0; i < p.results.size(); ++i) r.results.push_back(read_file(d / fmt::format("r{}.bin", i)));
  for (const auto& e : fs::directory_iterator(d)) {
    std::string f = e.path().filename().string();
    if (f.size() > 5 && f[0] == 's' && f.substr(f.size() - 4) == ".bin") r.rows[std::stoll(f.substr(1))] = read_file(e.path());
  }
  return r;
}

Graph model_graph(const std::string& name, int64_t size, double t_end) {
  RunConfig cfg;
  if (size > 0) cfg.size = size;
  cfg.t_end = t_end;
  cfg.stream = true;
  return find_model(name).build(cfg);
}

void check_same_run(const AotRun& got, const std::vector<Tensor>& want, const LogSink& sink) {
  CHECK(got.code == 0);
  CHECK(got.message == "");
  REQUIRE(got.results.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got.results[i] == std::string(static_cast<const char*>(want[i].raw()), static_cast<size_t>(want[i].bytes())));
  }
  CHECK(got.log == sink.log);
  std::vector<std::string> want_rows, got_rows;
  for (auto& [y, bytes] : sink.rows_of) want_rows.push_back(bytes);
  for (auto& [s, bytes] : got.rows) got_rows.push_back(bytes);
  CHECK(got_rows == want_rows);
}

}  // namespace sf::test
