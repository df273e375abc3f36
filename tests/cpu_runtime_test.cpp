// The CPU backend's own barrier (backends/cpu/runtime.cpp: spin briefly, then sleep in the
// kernel). Speed itself is measured in bench/, not here.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "backends/cpu/runtime.h"


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
