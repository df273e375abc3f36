// W4 (matmul): C = A B for two N x N graph inputs, compiled and run on a backend; prints the median
// wall time of the runs (the executable is prepared once, outside the timing) and GFLOP/s.
// A and B are uniform in [0, 1) from a fixed LCG; the check compares 64 entries of C with a
// float64 dot product (relative error printed; f32 accumulates in f32, so expect ~1e-6 there).
//
//   bench_matmul --n 2048 [--dtype f64|f32] [--backend cpu] [--threads 0] [--repeats 5]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "compiler/pipeline.h"
#include "graph/builder.h"
#include "graph/error.h"

using namespace sf;

static Tensor uniform(DType d, int64_t n, uint64_t seed) {
  Tensor t(d, {n, n});
  for (int64_t i = 0; i < n * n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    t.set(i, static_cast<double>(seed >> 11) * 0x1.0p-53);
  }
  return t;
}

int main(int argc, char** argv) {
  int64_t n = 512;
  int repeats = 5;
  std::string dtype = "f64", backend = "cpu";
  BackendOptions bo;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--n") n = std::atoll(v.c_str());
    else if (a == "--dtype") dtype = v;
    else if (a == "--backend") backend = v;
    else if (a == "--threads") bo.threads = std::atoi(v.c_str());
    else if (a == "--repeats") repeats = std::atoi(v.c_str());
    else return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  try {
    DType d = dtype == "f32" ? DType::f32 : DType::f64;
    Builder b("matmul");
    Value A = b.input("A", d, {n, n}), B = b.input("B", d, {n, n});
    Graph g = b.build({matmul(A, B)});
    std::map<std::string, Tensor> inputs{{"A", uniform(d, n, 1)}, {"B", uniform(d, n, 2)}};
    std::vector<double> times;
    Tensor C;
    if (backend == "interp") {
      for (int r = 0; r < repeats; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        C = interpret(g, inputs)[0];
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    } else {
      CompileResult compiled = compile_graph(g);
      auto exe = make_executable(backend, compiled.program, bo);
      for (int r = 0; r < repeats; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        C = exe->run(inputs, {})[0];
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    std::sort(times.begin(), times.end());
    double med = times[times.size() / 2];
    double max_rel = 0;
    for (int k = 0; k < 64; ++k) {
      int64_t i = (k * 7919) % n, j = (k * 104729) % n;
      double ref = 0;
      for (int64_t l = 0; l < n; ++l) ref += inputs["A"].get(i * n + l) * inputs["B"].get(l * n + j);
      max_rel = std::max(max_rel, std::fabs(C.get(i * n + j) - ref) / std::fabs(ref));
    }
    std::printf("sim_s: %.6f\ngflops: %.2f\nmax_rel_err: %.3g\n", med, 2.0 * double(n) * double(n) * double(n) / med * 1e-9,
                max_rel);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
