// Day 2's exercise: the Lorenz system with sigma 10, beta 8/3, rho 28, from (1, 1, 1).
#include "models/catalog.h"
#include "models/params.h"
#include "models/simulate.h"

namespace sf {
namespace {

constexpr double kTEnd = 50.0, kDt = 0.01;

Graph build(const RunConfig& rc) {
  reject_size(rc, "lorenz");
  RunPlan plan = make_plan(rc, kTEnd, kDt, Integrator::RK4);
  Builder b("lorenz");
  Value sigma = param(b, "sigma", 10.0, plan.dtype);
  Value beta = param(b, "beta", 8.0 / 3.0, plan.dtype);
  Value rho = param(b, "rho", 28.0, plan.dtype);
  Simulation sim;
  sim.init.set("x", param(b, "x0", std::vector<double>{1.0}, plan.dtype));
  sim.init.set("y", param(b, "y0", std::vector<double>{1.0}, plan.dtype));
  sim.init.set("z", param(b, "z0", std::vector<double>{1.0}, plan.dtype));
  sim.derivative = [=](const Vars& s, Value, Value) {
    Value x = s["x"], y = s["y"], z = s["z"];
    Vars d;
    d.set("x", sigma * (y - x));
    d.set("y", x * (rho - z) - y);
    d.set("z", x * y - beta * z);
    return d;
  };
  return simulate(b, sim, plan);
}

}  // namespace

ModelInfo lorenz_model() {
  ModelInfo m;
  m.name = "lorenz";
  m.summary = "the Lorenz system (Day 2 exercise)";
  m.description =
      "dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z.\n"
      "State: x[0], y[0], z[0].\n"
      "Inputs: sigma = 10, beta = 8/3, rho = 28, x0 = y0 = z0 = [1].\n"
      "Default run: RK4, dt 0.01, t_end 50.";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.build = build;
  return m;
}

}  // namespace sf
