// Day 1's first ODE: dx/dt = 5x, x(0) = 1, whose exact solution is e^{5t}. Euler by default.
#include "models/catalog.h"
#include "models/params.h"
#include "models/simulate.h"

namespace sf {
namespace {

constexpr double kTEnd = 2.0, kDt = 0.01;

Graph build(const RunConfig& rc) {
  reject_size(rc, "exp-growth");
  RunPlan plan = make_plan(rc, kTEnd, kDt, Integrator::Euler);
  Builder b("exp_growth");
  Value rate = param(b, "rate", 5.0, plan.dtype);
  Simulation sim;
  sim.init.set("x", param(b, "x0", std::vector<double>{1.0}, plan.dtype));
  sim.derivative = [=](const Vars& y, Value, Value) {
    Vars d;
    d.set("x", rate * y["x"]);
    return d;
  };
  return simulate(b, sim, plan);
}

}  // namespace

ModelInfo exp_growth_model() {
  ModelInfo m;
  m.name = "exp-growth";
  m.summary = "dx/dt = 5x (Day 1), exact solution e^{5t}";
  m.description =
      "Day 1's first ODE: dx/dt = rate * x.\n"
      "State: x[0].\n"
      "Inputs: rate = 5, x0 = [1].\n"
      "Default run: Euler, dt 0.01, t_end 2.";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::Euler;
  m.build = build;
  return m;
}

}  // namespace sf
