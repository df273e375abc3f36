// Compiler speed: every built-in model (default configuration) through the whole pipeline and the
// lowering, N times; prints the median wall time of the compile (passes + lowering + memory plan,
// compile_ms as `scanflow compile --stats` reports it), its CPU time (which other processes on a
// busy machine do not inflate), the lowering's wall time, and each pass's. The target for
// antennal-lobe is under 200 ms.
//
//   bench_compile_speed [N] [MODEL...]      (N defaults to 21)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "compiler/pipeline.h"
#include "models/model.h"

using namespace sf;

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

static double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e3 * double(ts.tv_sec) + 1e-6 * double(ts.tv_nsec);
}

static int64_t count_nodes(const Graph& g) {
  int64_t n = static_cast<int64_t>(g.nodes.size());
  for (const Node& node : g.nodes)
    if (node.body) n += count_nodes(*node.body);
  return n;
}

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 21;
  if (runs < 1) {
    std::fprintf(stderr, "usage: %s [N] [MODEL...]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> only(argv + std::min(argc, 2), argv + argc);
  std::printf("%-14s %6s %11s %8s %9s  %s\n", "model", "nodes", "compile_ms", "cpu_ms", "lower_ms",
              "per pass (median ms)");
  for (const ModelInfo& m : models()) {
    if (!only.empty() && std::find(only.begin(), only.end(), m.name) == only.end()) continue;
    Graph g = m.build(RunConfig{});
    std::vector<double> compile, cpu, lower;
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> passes;
    for (int i = 0; i < runs; ++i) {
      double c0 = thread_cpu_ms();
      CompileResult r = compile_graph(g);
      cpu.push_back(thread_cpu_ms() - c0);
      compile.push_back(r.compile_ms);
      lower.push_back(r.lower_ms);
      for (const PassRecord& p : r.passes) {
        if (i == 0) order.push_back(p.name);
        passes[p.name].push_back(p.ms);
      }
    }
    std::string per_pass;
    for (const std::string& p : order) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%s %.2f", per_pass.empty() ? "" : ", ", p.c_str(), median(passes[p]));
      per_pass += buf;
    }
    std::printf("%-14s %6lld %11.2f %8.2f %9.2f  %s\n", m.name.c_str(), static_cast<long long>(count_nodes(g)),
                median(compile), median(cpu), median(lower), per_pass.c_str());
  }
}
