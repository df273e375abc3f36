// The classic Hodgkin-Huxley (1952) squid axon, a population of N independent neurons with
// graded currents I_i = 20 i / (N - 1): a benchmark-sized model (default N = 1000).
// The rates are written as plain formulas; their 0/0 points (V = -40 for alpha_m, V = -55 for
// alpha_n) are left for a compiler pass to rewrite.
#include "models/catalog.h"
#include "models/params.h"
#include "models/simulate.h"

namespace sf {
namespace {

constexpr double kTEnd = 100.0, kDt = 0.01;
constexpr int64_t kSize = 1000;

Graph build(const RunConfig& rc) {
  RunPlan plan = make_plan(rc, kTEnd, kDt, Integrator::RK4);
  const DType d = plan.dtype;
  const int64_t n = population_size(rc, kSize);
  std::vector<double> I(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; n > 1 && i < n; ++i)
    I[static_cast<size_t>(i)] = 20.0 * static_cast<double>(i) / static_cast<double>(n - 1);

  Builder b("hh_squid");
  Value C_m = param(b, "C_m", 1.0, d);
  Value g_Na = param(b, "g_Na", 120.0, d), E_Na = param(b, "E_Na", 50.0, d);
  Value g_K = param(b, "g_K", 36.0, d), E_K = param(b, "E_K", -77.0, d);
  Value g_L = param(b, "g_L", 0.3, d), E_L = param(b, "E_L", -54.387, d);
  Value I_inj = param(b, "I_inj", I, d);

  Simulation sim;
  sim.init.set("V", param(b, "V0", repeat(-65.0, n), d));
  sim.init.set("m", param(b, "m0", repeat(0.05, n), d));
  sim.init.set("h", param(b, "h0", repeat(0.6, n), d));
  sim.init.set("n", param(b, "n0", repeat(0.32, n), d));
  sim.voltage = std::string("V");
  sim.t_spike0 = param(b, "t_spike0", repeat(-9999999.0, n), d);
  sim.derivative = [=](const Vars& s, Value, Value) {
    Value V = s["V"], m = s["m"], h = s["h"], k = s["n"];
    Value alpha_m = 0.1 * (V + 40.0) / (1.0 - exp(-(V + 40.0) / 10.0));
    Value beta_m = 4.0 * exp(-(V + 65.0) / 18.0);
    Value alpha_h = 0.07 * exp(-(V + 65.0) / 20.0);
    Value beta_h = 1.0 / (1.0 + exp(-(V + 35.0) / 10.0));
    Value alpha_n = 0.01 * (V + 55.0) / (1.0 - exp(-(V + 55.0) / 10.0));
    Value beta_n = 0.125 * exp(-(V + 65.0) / 80.0);
    Value I_Na = g_Na * pow(m, 3.0) * h * (V - E_Na);
    Value I_K = g_K * pow(k, 4.0) * (V - E_K);
    Value I_L = g_L * (V - E_L);
    Vars r;
    r.set("V", (I_inj - I_Na - I_K - I_L) / C_m);
    r.set("m", alpha_m * (1.0 - m) - beta_m * m);
    r.set("h", alpha_h * (1.0 - h) - beta_h * h);
    r.set("n", alpha_n * (1.0 - k) - beta_n * k);
    return r;
  };
  return simulate(b, sim, plan);
}

}  // namespace

ModelInfo hh_squid_model() {
  ModelInfo m;
  m.name = "hh-squid";
  m.summary = "Hodgkin-Huxley 1952 squid axon, N neurons with currents 0..20 (default N = 1000)";
  m.description =
      "Classic Hodgkin-Huxley: C_m dV/dt = I_inj - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L),\n"
      "dx/dt = alpha_x (1 - x) - beta_x x with alpha_m = 0.1(V+40)/(1-exp(-(V+40)/10)),\n"
      "beta_m = 4exp(-(V+65)/18), alpha_h = 0.07exp(-(V+65)/20), beta_h = 1/(1+exp(-(V+35)/10)),\n"
      "alpha_n = 0.01(V+55)/(1-exp(-(V+55)/10)), beta_n = 0.125exp(-(V+65)/80).\n"
      "State: V, m, h, n [N], t_spike [N].\n"
      "Inputs: C_m = 1, g_Na = 120, g_K = 36, g_L = 0.3, E_Na = 50, E_K = -77, E_L = -54.387,\n"
      "I_inj [N] = 20 i/(N-1), V0 = -65, m0 = 0.05, h0 = 0.6, n0 = 0.32, t_spike0 = -9999999.\n"
      "Default run: RK4, dt 0.01, t_end 100 ms, N = 1000 (--size).";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.size = kSize;
  m.build = build;
  return m;
}

}  // namespace sf
