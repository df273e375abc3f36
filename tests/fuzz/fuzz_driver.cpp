// fuzz_driver: long differential-fuzzing runs (tests/fuzz/differential.h) over a seed range.
//
//   fuzz_driver --seeds 0:100000 [--jobs 2] [--ops 24] [--scan-depth 2] [--max-failures 20]
//   fuzz_driver --print 1234        the graph of one seed (.sfg) and its input bindings
//   fuzz_driver --reduce 1234       shrink the failing graph of a seed (tests/fuzz/reduce.h)
//   fuzz_driver --file g.sfg        check one graph (e.g. a hand-reduced failing one)
//   fuzz_driver --seeds A:B --coverage   what the graphs of a range exercise
//
// Prints progress to stderr, every mismatch's report to stdout, and a summary; exits 1 if any seed
// failed.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "compiler/pipeline.h"
#include "graph/text.h"
#include "tests/fuzz/differential.h"
#include "tests/fuzz/reduce.h"

using namespace sf;

// Features of the generated graphs, of the compiled graphs (how often each pass changed something,
// kernels made), and how informative the results are (finite float elements).
static int print_coverage(uint64_t a, uint64_t b, const fuzz::GenOptions& gen) {
  std::map<std::string, int64_t> in, out, changed;
  int64_t elems = 0, finite = 0, nodes = 0;
  for (uint64_t s = a; s < b; ++s) {
    fuzz::FuzzCase c = fuzz::generate(s, gen);
    fuzz::count_features(c.graph, in);
    nodes += static_cast<int64_t>(c.graph.nodes.size());
    CompileResult r = compile_graph(c.graph, fuzz::fuzz_compile_options());
    fuzz::count_features(r.graph, out);
    for (const PassRecord& p : r.passes) changed[p.name] += p.changed;
    RunOptions o;
    RecordSink sink;
    o.sink = &sink;
    for (const Tensor& t : interpret(c.graph, c.inputs, o)) {
      if (!is_float(t.dtype())) continue;
      elems += t.size();
      for (int64_t i = 0; i < t.size(); ++i) finite += std::isfinite(t.get(i));
    }
  }
  double n = static_cast<double>(b - a);
  fmt::print("{} graphs, {:.1f} top-level nodes each; {:.1f}% of float result elements finite\n", b - a,
             static_cast<double>(nodes) / n, 100.0 * static_cast<double>(finite) / static_cast<double>(std::max<int64_t>(elems, 1)));
  fmt::print("generated (nodes, bodies included):\n");
  for (auto& [k, v] : in) fmt::print("  {:<20} {}\n", k, v);
  fmt::print("compiled: kernel nodes {}, scans classified elementwise {} / coupled {}\n", out["op:kernel"],
             out["class:elementwise"], out["class:coupled"]);
  fmt::print("graphs a pass changed:\n");
  for (auto& [k, v] : changed) fmt::print("  {:<14} {:.1f}%\n", k, 100.0 * static_cast<double>(v) / n);
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"Differential fuzzing: random graphs, compiled vs interpreted"};
  std::string seeds = "0:1000";
  int jobs = 1, max_failures = 20;
  int64_t print_seed = -1;
  fuzz::GenOptions gen;
  app.add_option("--seeds", seeds, "seed range A:B (B excluded)");
  app.add_option("--jobs", jobs, "worker threads")->check(CLI::Range(1, 64));
  app.add_option("--ops", gen.ops, "random ops per top-level graph, at most");
  app.add_option("--scan-depth", gen.scan_depth, "scan nesting limit");
  app.add_option("--max-dim", gen.max_dim, "largest dimension");
  app.add_option("--max-failures", max_failures, "stop after this many failing seeds");
  app.add_option("--print", print_seed, "print the graph and input bindings of one seed and exit");
  std::string file;
  app.add_option("--file", file, "check one .sfg file (inputs without a default get a ramp) and exit");
  int64_t reduce_seed = -1;
  app.add_option("--reduce", reduce_seed, "shrink the failing graph of one seed and print its report");
  bool coverage = false;
  app.add_flag("--coverage", coverage, "instead of checking, print what the graphs of the range exercise");
  CLI11_PARSE(app, argc, argv);

  if (!file.empty()) {
    fuzz::FuzzCase c;
    c.graph = load_graph(file);
    for (NodeId id : c.graph.inputs()) {
      const Node& n = c.graph.node(id);
      if (n.attrs.has("default")) continue;
      Tensor t(n.type.dtype, n.type.shape);
      for (int64_t i = 0; i < t.size(); ++i) t.set(i, static_cast<double>(i % 3));
      c.inputs[n.attrs.s("name")] = t;
    }
    std::string report = fuzz::check_case(c);
    fmt::print("{}\n", report.empty() ? "agree" : report);
    return report.empty() ? 0 : 1;
  }
  if (reduce_seed >= 0) {
    fuzz::FuzzCase c = fuzz::reduce_case(fuzz::generate(static_cast<uint64_t>(reduce_seed), gen));
    std::string report = fuzz::check_case(c);
    fmt::print("{}\n", report.empty() ? "agree" : report);
    for (auto& [name, t] : c.inputs) {
      fmt::print("# binding {} : {} =", name, type_str(t.type()));
      for (int64_t i = 0; i < t.size(); ++i) fmt::print(" {}", t.get(i));
      fmt::print("\n");
    }
    return report.empty() ? 0 : 1;
  }
  if (print_seed >= 0) {
    fuzz::FuzzCase c = fuzz::generate(static_cast<uint64_t>(print_seed), gen);
    fmt::print("{}", print_graph(c.graph));
    for (auto& [name, t] : c.inputs) {
      fmt::print("# binding {} : {} =", name, type_str(t.type()));
      for (int64_t i = 0; i < t.size(); ++i) fmt::print(" {}", t.get(i));
      fmt::print("\n");
    }
    return 0;
  }

  uint64_t a = 0, b = 0;
  if (std::sscanf(seeds.c_str(), "%lu:%lu", &a, &b) != 2 || b < a) {
    fmt::print(stderr, "--seeds: expected A:B with A <= B, got '{}'\n", seeds);
    return 2;
  }
  if (coverage) return print_coverage(a, b, gen);
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::atomic<uint64_t> next{a}, done{0};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::vector<uint64_t> failed;
  const uint64_t total = b - a, every = std::max<uint64_t>(1, total / 100);

  auto worker = [&] {
    for (;;) {
      if (failures.load() >= max_failures) return;
      uint64_t s = next.fetch_add(1);
      if (s >= b) return;
      std::string report = fuzz::check_seed(s, gen);
      uint64_t n = done.fetch_add(1) + 1;
      std::lock_guard<std::mutex> lock(mu);
      if (!report.empty()) {
        failures.fetch_add(1);
        failed.push_back(s);
        fmt::print("{}\n", report);
        std::fflush(stdout);
      }
      if (n % every == 0 || n == total)
        fmt::print(stderr, "{}/{} graphs, {} failing, {:.1f} s\n", n, total, failed.size(), elapsed());
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  std::sort(failed.begin(), failed.end());
  fmt::print("seeds {}:{}: {} graphs checked, {} failing{}{}, {:.1f} s wall ({} jobs)\n", a, b, done.load(),
             failed.size(), failed.empty() ? "" : " (seeds ", failed.empty() ? "" : fmt::format("{})", fmt::join(failed, " ")),
             elapsed(), jobs);
  return failed.empty() ? 0 : 1;
}
