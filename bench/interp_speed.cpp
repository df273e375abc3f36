// Interpreter throughput on a wide elementwise scan body: steps per second of CPU time for a body
// of 500 nodes over f64[120] (multiply-adds, and with every tenth node a tanh). A regression
// check for the oracle's speed, reported, never asserted.
#include <cstdio>
#include <ctime>

#include "backends/interpreter/interpreter.h"
#include "graph/builder.h"

using namespace sf;

static Graph wide_body_scan(int64_t length, int64_t n_ops, int64_t width, bool transcendental) {
  Builder b;
  Value v0 = b.fill(0.5, DType::f64, {width});
  auto r = b.scan(length, {v0}, {}, [&](Builder& body, auto& c, auto&) {
    Value x = c[0];
    for (int64_t i = 0; i < n_ops / 2; ++i) {
      Value k = body.scalar(1.0 - 1e-6 * double(i));
      x = (transcendental && i % 5 == 0 ? tanh(x * k) : x * k) + body.scalar(1e-7 * double(i));
    }
    return ScanStep{{x * 0.5}, {}};
  });
  return b.build({r.carry[0]});
}

static double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

int main() {
  for (bool transcendental : {false, true}) {
    const int64_t steps = 3000;
    Graph g = wide_body_scan(steps, 500, 120, transcendental);
    double t0 = cpu_seconds();
    Tensor r = interpret(g)[0];
    double dt = cpu_seconds() - t0;
    std::printf("500 elementwise nodes over f64[120]%s: %.0f steps/s (checksum %g)\n",
                transcendental ? " (50 of them tanh)" : "", double(steps) / dt, r.get(0));
  }
}
