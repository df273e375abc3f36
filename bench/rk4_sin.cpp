// W2 (rk4-sin): writes the PSST benchmark's ODE as a simulation graph file for `scanflow run`.
// dx_i/dt = sin(x_i t), x_i(0) = 0, i < n, classic RK4 over t = 0, 0.01, .., 4.99 (499 steps), the
// tutorial's Benchmark notebook. Only the final state is recorded (every = steps), as in the
// baselines it is compared with; the solution is identically 0, so the check is max |x| = 0.
//
//   bench_rk4_sin --n 1000000 [--dtype f64|f32] [--steps 499] -o rk4_sin.sfg
//   scanflow run rk4_sin.sfg --backend cpu --stats
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "graph/error.h"
#include "graph/text.h"
#include "models/integrators.h"
#include "models/simulate.h"

using namespace sf;

int main(int argc, char** argv) {
  int64_t n = 1000, steps = 499;
  std::string dtype = "f64", out = "rk4_sin.sfg";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--n") n = std::atoll(v.c_str());
    else if (a == "--steps") steps = std::atoll(v.c_str());
    else if (a == "--dtype") dtype = v;
    else if (a == "-o") out = v;
    else return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  try {
    RunPlan plan;
    plan.dt = 0.01;
    plan.steps = steps;
    plan.integrator = Integrator::RK4;
    plan.dtype = dtype == "f32" ? DType::f32 : DType::f64;
    plan.every = steps;  // rows: the initial state and the final one
    plan.stream = true;
    Builder b("rk4_sin");
    Simulation sim;
    sim.init.set("x", b.fill(0.0, plan.dtype, {n}));  // a fill, not an input: the file stays small
    sim.derivative = [&](const Vars& y, Value t, Value) {
      Vars d;
      d.set("x", sin(y["x"] * cast(t, plan.dtype)));
      return d;
    };
    Graph g = simulate(b, sim, plan);
    std::ofstream f(out);
    f << print_graph(g);
    if (!f) return std::fprintf(stderr, "error: can't write %s\n", out.c_str()), 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
