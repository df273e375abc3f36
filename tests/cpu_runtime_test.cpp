// The CPU backend's run-time pieces that decide its speed on a shared machine: its own barrier
// (backends/cpu/runtime.cpp: spin briefly, then sleep in the kernel) and the width of the vectors
// f32 kernels get (backends/cpu/kernel_gen.cpp). Speed itself is measured in bench/, not here.
#include <doctest/doctest.h>

#include <atomic>
#include <regex>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/runtime.h"
#include "compiler/pipeline.h"
#include "models/catalog.h"

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
