// scanflow run MODEL|FILE.sfg: simulates, streaming rows to a .npy file and spikes to a CSV file.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "backends/backend.h"
#include "backends/interpreter/interpreter.h"
#include "compiler/pipeline.h"
#include "graph/error.h"
#include "tools/cli.h"
#include "tools/recorder.h"
#include "tools/stats.h"

namespace sf::cli {

namespace {

struct RunArgs {
  TargetOptions target;
  std::vector<std::string> sets, inputs;
  std::string out, spikes, backend = "interp";
  BackendOptions backend_options;
  bool stats = false;
};

std::string json_string(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\', r += c;
    else if (static_cast<unsigned char>(c) < 0x20) r += fmt::format("\\u{:04x}", c);
    else r += c;
  }
  return r + "\"";
}

// FILE.json beside FILE.npy: what the columns are and when the rows were taken.
void write_json(const std::string& npy_path, const SimInfo& info) {
  std::string j = "{\"columns\": [";
  for (size_t i = 0; i < info.columns.size(); ++i) j += (i ? ", " : "") + json_string(info.columns[i]);
  j += fmt::format("], \"t\": [{}, {}]", info.time(0), static_cast<double>(info.every) * info.dt);
  if (!info.groups.empty()) {
    j += ", \"groups\": {";
    for (size_t i = 0; i < info.groups.size(); ++i) {
      const auto& [name, range] = info.groups[i];
      j += fmt::format("{}{}: [{}, {}]", i ? ", " : "", json_string(name), range.first, range.second);
    }
    j += "}";
  }
  j += "}\n";
  std::string path = std::filesystem::path(npy_path).replace_extension(".json").string();
  write_text(path, j);
}

// Forwards to a sink, telling it scan `to` where the run says `from`.
class RenamedScanSink : public RecordSink {
 public:
  RenamedScanSink(RecordSink& sink, NodeId from, NodeId to) : sink_(sink), from_(from), to_(to) {}
  void rows(NodeId scan, int64_t y, const Tensor& chunk, int64_t first_row) override {
    sink_.rows(id(scan), y, chunk, first_row);
  }
  void events(NodeId scan, int64_t y, const std::vector<Event>& e) override { sink_.events(id(scan), y, e); }
  void progress(NodeId scan, int64_t step, int64_t length) override { sink_.progress(id(scan), step, length); }

 private:
  NodeId id(NodeId scan) const { return scan == from_ ? to_ : scan; }
  RecordSink& sink_;
  NodeId from_, to_;
};

// The scan node of a program's main region (the top-level one with the most steps).
NodeId main_scan(const KernelProgram& p) {
  const ScanRegion* main = nullptr;
  for (const Step& s : p.steps)
    if (s.kind == StepKind::Scan && (!main || s.scan.length > main->length)) main = &s.scan;
  if (!main) internal_error("the compiled simulation has no scan");
  return main->node;
}

// Without --out: the final state's ranges and the spike counts.
void print_summary(const Target& t, const SimInfo& info, const std::vector<Tensor>& results, const Recorder& rec) {
  fmt::print("{}: {} steps of {} (t = {} .. {}), {} rows recorded\n", t.label, info.steps, info.dt, info.time(0),
             info.time(info.steps), rec.rows_recorded());
  for (const auto& [var, index] : info.final_state) {
    const Tensor& x = results.at(static_cast<size_t>(index));
    if (x.size() == 0) continue;
    double lo = x.get(0), hi = lo;
    for (int64_t i = 1; i < x.size(); ++i) lo = std::min(lo, x.get(i)), hi = std::max(hi, x.get(i));
    if (lo == hi) fmt::print("final {}: {:.6g}\n", var, lo);
    else fmt::print("final {}: {:.6g} .. {:.6g}\n", var, lo, hi);
  }
  if (info.y_spikes < 0) return;
  auto line = [&](const std::string& what, int64_t begin, int64_t end) {
    int64_t total = 0, active = 0;
    for (int64_t i = begin; i < end; ++i) {
      int64_t n = rec.spike_counts().at(static_cast<size_t>(i));
      total += n, active += n > 0;
    }
    fmt::print("{}: {} from {} of {} neurons\n", what, total, active, end - begin);
  };
  line("spikes", 0, static_cast<int64_t>(rec.spike_counts().size()));
  for (const auto& [name, range] : info.groups) line(fmt::format("spikes {}", name), range.first, range.second);
}

void run(const RunArgs& a) {
  // Rows always stream (memory stays constant); without --out the recorder just drops them.
  Target t = load_target(a.target, /*stream=*/true);
  const Graph& g = t.graph;
  SimInfo info = SimInfo::load(g);
  std::map<std::string, Tensor> bindings = parse_bindings(g, a.sets, a.inputs);

  const Node& scan = g.node(info.scan);
  ScanInfo si = scan_info(scan);
  bool streamed = si.record.at(static_cast<size_t>(info.y_rows)) == RecordMode::Sink;
  int64_t neurons = 0;
  if (info.y_spikes >= 0) neurons = scan.body->type(scan.body->results.at(static_cast<size_t>(si.carry + info.y_spikes))).elements();
  else if (!a.spikes.empty()) fail("--spikes: '{}' has no spike output", t.label);

  Recorder rec(info, streamed, neurons);
  DType row_dtype = g.type(g.results.at(static_cast<size_t>(info.result_initial))).dtype;
  if (!a.out.empty()) rec.write_rows(a.out, row_dtype);
  if (!a.spikes.empty()) rec.write_spikes(a.spikes);

  RunOptions options;
  options.sink = &rec;
  // Every backend but the interpreter runs the compiled program. Its sink calls name the compiled
  // graph's scan, which the recorder knows by the original's id.
  std::optional<CompileResult> compiled;
  std::optional<RenamedScanSink> renamed;
  std::unique_ptr<Executable> exe;
  if (a.backend != "interp") {
    compiled = compile_graph(g);
    exe = make_executable(a.backend, compiled->program, a.backend_options);
    renamed.emplace(rec, main_scan(compiled->program), info.scan);
    options.sink = &*renamed;
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<Tensor> results = exe ? exe->run(bindings, options) : interpret(g, bindings, options);
  double sim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const Tensor& rows = results.at(static_cast<size_t>(info.result_rows));
  rec.finish(results.at(static_cast<size_t>(info.result_initial)), streamed ? nullptr : &rows);
  int64_t expected_rows = 1 + info.steps / info.every;
  if (rec.rows_recorded() != expected_rows || (streamed && rows.get(0) != static_cast<double>(expected_rows - 1)))
    internal_error("recorded {} rows, expected {}", rec.rows_recorded(), expected_rows);
  if (!a.out.empty()) write_json(a.out, info);
  else print_summary(t, info, results, rec);

  if (a.stats) {
    int64_t per_step = ops_per_step(g, info.scan), launches = per_step * info.steps + top_level_ops(g, info.scan);
    int64_t kernels = program_ops(g, info.scan);
    if (compiled) {
      ProgramStats ps = program_stats(compiled->program);
      per_step = ps.kernels_per_step, launches = ps.launches, kernels = ps.kernels;
    }
    fmt::print(stderr, "build_ms: {:.3f}\n", t.build_ms);
    fmt::print(stderr, "compile_ms: {:.3f}\n", compiled ? compiled->compile_ms : 0.0);
    std::vector<std::pair<std::string, std::string>> extra;
    if (exe) extra = exe->stats();
    // Backends that generate code report jit_ms; the interpreter and the reference executor make none.
    if (std::none_of(extra.begin(), extra.end(), [](const auto& kv) { return kv.first == "jit_ms"; }))
      fmt::print(stderr, "jit_ms: 0\n");
    for (const auto& [key, value] : extra) fmt::print(stderr, "{}: {}\n", key, value);
    fmt::print(stderr, "sim_s: {:.6f}\n", sim_s);
    fmt::print(stderr, "steps: {}\n", info.steps);
    fmt::print(stderr, "rows: {}\n", rec.rows_recorded());
    fmt::print(stderr, "spikes: {}\n", rec.spikes());
    // For the interpreter a "kernel" is one op, and it launches every op of the scan body each
    // step; compiled backends launch the program's kernels. kernels counts them in the program,
    // launches over the whole run. A backend that reports a figure itself (it launches what it
    // generated) has the last word.
    auto count = [&](const char* key, int64_t value) {
      if (std::none_of(extra.begin(), extra.end(), [&](const auto& kv) { return kv.first == key; }))
        fmt::print(stderr, "{}: {}\n", key, value);
    };
    count("kernels", kernels);
    count("kernels_per_step", per_step);
    count("launches", launches);
    fmt::print(stderr, "peak_rss_mb: {:.1f}\n", peak_rss_mb());
  }
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Simulate a built-in model or a graph file");
  add_target_options(*cmd, a->target);
  cmd->add_option("--set", a->sets, "Bind input NAME to VALUE, broadcast to its shape (repeatable)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("--input", a->inputs, "Bind input NAME to the array in FILE.npy (repeatable)")
      ->type_name("NAME=FILE.npy")
      ->allow_extra_args(false);
  cmd->add_option("--out", a->out, "Write the recorded rows to FILE.npy (and the columns and times to FILE.json)")
      ->type_name("FILE.npy");
  cmd->add_option("--spikes", a->spikes, "Write the spikes to FILE.csv (neuron,t), in time order")
      ->type_name("FILE.csv");
  std::string names = "interp";
  for (const std::string& n : backend_names()) names += ", " + n;
  // The CPU backend (generated machine code) is the default where this build has it.
  std::vector<std::string> built = backend_names();
  if (std::find(built.begin(), built.end(), "cpu") != built.end()) a->backend = "cpu";
  cmd->add_option("--backend", a->backend,
                  "Execution backend (" + names + "): interp is the interpreter, ref the compiled program on the "
                  "reference executor, cpu generated machine code (default: " + a->backend + ")");
  cmd->add_option("--threads", a->backend_options.threads, "cpu backend: worker threads (default: all cores)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--strict-fp", a->backend_options.strict_fp,
                "cpu backend: keep subnormal numbers (by default worker threads flush them to zero, FTZ/DAZ, so "
                "decaying conductances cannot slow a run down)");
  cmd->add_option("--scan-strategy", a->backend_options.scan_strategy,
                  "cuda backend: how scans run (elementwise, persistent, graph, launch; default: chosen per scan)")
      ->type_name("S");
  cmd->add_flag("--stats", a->stats, "Print timings, counts and peak memory to stderr");
  return {cmd, [a] { run(*a); }};
}

}  // namespace sf::cli
