// Day 1-2's linear system dX/dt = [x - y, y - x], X(0) = [1, 0]. x + y stays 1 and x - y = e^{2t}.
#include "models/catalog.h"
#include "models/params.h"
#include "models/simulate.h"

namespace sf {
namespace {

constexpr double kTEnd = 2.0, kDt = 0.01;

Graph build(const RunConfig& rc) {
  reject_size(rc, "linear2d");
  RunPlan plan = make_plan(rc, kTEnd, kDt, Integrator::RK4);
  Builder b("linear2d");
  Simulation sim;
  sim.init.set("x", param(b, "x0", std::vector<double>{1.0}, plan.dtype));
  sim.init.set("y", param(b, "y0", std::vector<double>{0.0}, plan.dtype));
  sim.derivative = [](const Vars& s, Value, Value) {
    Value x = s["x"], y = s["y"];
    Vars d;
    d.set("x", x - y);
    d.set("y", y - x);
    return d;
  };
  return simulate(b, sim, plan);
}

}  // namespace

ModelInfo linear2d_model() {
  ModelInfo m;
  m.name = "linear2d";
  m.summary = "dX/dt = [x - y, y - x] (Days 1-2)";
  m.description =
      "Days 1-2's linear system: dx/dt = x - y, dy/dt = y - x (x + y = 1, x - y = e^{2t}).\n"
      "State: x[0], y[0].\n"
      "Inputs: x0 = [1], y0 = [0].\n"
      "Default run: RK4, dt 0.01, t_end 2.";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.build = build;
  return m;
}

}  // namespace sf
