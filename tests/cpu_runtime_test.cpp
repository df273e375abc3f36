// The CPU backend's pieces that decide its speed: its own barrier (backends/cpu/runtime.cpp: spin
// briefly, then sleep in the kernel), the width of the vectors f32 kernels get and the
// multiplications that replace divisions by powers of two (backends/cpu/kernel_gen.cpp). Speed
// itself is measured in bench/, not here.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <regex>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/runtime.h"
#include "compiler/pipeline.h"
#include "compiler/program_executor.h"
#include "models/catalog.h"
#include "program_run.h"

using namespace sf;

// Every thread writes its round number, meets the others, and must then see every thread's write
// of that round; a second barrier keeps the next round's writes out of the reads. With 8 threads
// on this machine's 2 cores, waiters run out of spins and sleep, so the futex path is exercised.
TEST_CASE("cpu: the threads' barrier keeps threads in step, also with more threads than cores") {
  for (int n : {1, 2, 3, 8}) {
    sf_cpu_args a{};
    sf_cpu_rt_begin(&a, 0, n);
    constexpr int kRounds = 2000;
    std::vector<int> seen(static_cast<size_t>(n), 0);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t)
      threads.emplace_back([&, t] {
        for (int r = 1; r <= kRounds; ++r) {
          seen[static_cast<size_t>(t)] = r;  // a plain write: the barrier must publish it
          sf_cpu_barrier(&a, n);
          for (int u = 0; u < n; ++u)
            if (seen[static_cast<size_t>(u)] != r) ++wrong;
          sf_cpu_barrier(&a, n);
        }
      });
    for (std::thread& t : threads) t.join();
    sf_cpu_rt_end(&a);
    CAPTURE(n);
    CHECK(wrong.load() == 0);
  }
}

// hh-squid in f32 has an i64 spike count in its step kernel. The vectoriser sizes vectors by the
// widest type, which gave 4 floats per vector, and libmvec has expm1f only at 8 (AVX2) or 16
// (AVX-512) lanes: the calls stayed scalar. The kernel must call the full-width vector expm1f.
TEST_CASE("cpu: f32 kernels beside i64 values use full-width float vectors (libmvec expm1f)") {
  RunConfig rc;
  rc.t_end = 1;
  rc.size = 256;
  rc.dtype = DType::f32;
  CompileResult c = compile_graph(find_model("hh-squid").build(rc));
  std::string ir = cpu::optimized_ir(c.program);
  CHECK(std::regex_search(ir, std::regex(R"(call <(8|16) x float> @_ZGV[de]N(8|16)v_expm1f\()")));
  CHECK_FALSE(std::regex_search(ir, std::regex(R"(call <4 x float> @_ZGVbN4v_expf\()")));
}

// hh-squid's step kernel divides by the input C_m. At C_m = 1 and 0.5 (powers of two) the loop
// multiplies by 1/C_m, at 3 it divides; all three must match the reference executor (results and
// recorded rows within 1e-7, the same spike events), and C_m must still matter.
TEST_CASE("cpu: divisions by a per-launch power of two agree with the executor, and other divisors too") {
  RunConfig rc;
  rc.t_end = 30;
  rc.size = 100;
  CompileResult c = compile_graph(find_model("hh-squid").build(rc));
  const KernelProgram& p = c.program;
  std::string name;
  Shape shape;
  for (int i : p.inputs)
    if (p.buffers[static_cast<size_t>(i)].input == "C_m") name = "C_m", shape = p.buffers[static_cast<size_t>(i)].shape;
  REQUIRE(name == "C_m");
  std::vector<double> first_v;
  for (double cm : {1.0, 0.5, 3.0}) {
    Tensor t(DType::f64, shape);
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, cm);
    std::map<std::string, Tensor> in = {{name, t}};
    test::SinkLog log_want, log_got;
    RunOptions ow, og;
    ow.sink = &log_want, og.sink = &log_got;
    std::vector<Tensor> want = execute(p, in, ow);
    std::vector<Tensor> got = make_executable("cpu", p, BackendOptions{})->run(in, og);
    CHECK(log_got.calls == log_want.calls);  // the same spikes, at the same steps
    REQUIRE(log_got.chunks.size() == log_want.chunks.size());
    REQUIRE(got.size() == want.size());
    double worst = 0;
    for (size_t r = 0; r < got.size(); ++r)
      for (int64_t i = 0; i < got[r].size(); ++i) worst = std::max(worst, std::abs(got[r].get(i) - want[r].get(i)));
    for (size_t r = 0; r < log_got.chunks.size(); ++r)
      for (int64_t i = 0; i < log_got.chunks[r].size(); ++i)
        worst = std::max(worst, std::abs(log_got.chunks[r].get(i) - log_want.chunks[r].get(i)));
    CAPTURE(cm);
    CHECK(worst <= 1e-7);
    std::vector<double> v;
    for (const Tensor& x : got)
      for (int64_t i = 0; i < x.size(); ++i) v.push_back(x.get(i));
    if (first_v.empty()) first_v = v;
    else CHECK(v != first_v);
  }
}
