#include "models/traub_neurons.h"

#include "models/params.h"
#include "models/traub_channels.h"

namespace sf {

const char* const kTraubDescription =
    "Traub-type Hodgkin-Huxley neurons (Day 3): C_m dV/dt = I_inj - I_Na - I_K - I_L,\n"
    "I_Na = g_Na m^3 h (V - E_Na), I_K = g_K n^4 (V - E_K), I_L = g_L (V - E_L); rates with V' = V + 50\n"
    "and phi = 3^((22-36)/10). Spikes are upward crossings of 0 mV.\n"
    "State: V, m, h, n (one entry per neuron), t_spike (time of the last spike).\n"
    "Inputs: C_m = 1, g_Na = 100, g_K = 10, g_L = 0.15, E_Na = 50, E_K = -95, E_L = -55 (scalars),\n"
    "I_inj [n], V0 [n] = -71, m0 = h0 = n0 = [n] zeros, t_spike0 [n] = -9999999.\n";

Graph build_traub_neurons(const std::string& name, const RunPlan& plan, const std::vector<double>& I_inj) {
  const DType d = plan.dtype;
  const auto n = static_cast<int64_t>(I_inj.size());
  Builder b(name);
  Value C_m = param(b, "C_m", 1.0, d);
  Value g_Na = param(b, "g_Na", 100.0, d), E_Na = param(b, "E_Na", 50.0, d);
  Value g_K = param(b, "g_K", 10.0, d), E_K = param(b, "E_K", -95.0, d);
  Value g_L = param(b, "g_L", 0.15, d), E_L = param(b, "E_L", -55.0, d);
  Value I = param(b, "I_inj", I_inj, d);

  Simulation sim;
  sim.init.set("V", param(b, "V0", repeat(-71.0, n), d));
  sim.init.set("m", param(b, "m0", repeat(0.0, n), d));
  sim.init.set("h", param(b, "h0", repeat(0.0, n), d));
  sim.init.set("n", param(b, "n0", repeat(0.0, n), d));
  sim.voltage = std::string("V");
  sim.t_spike0 = param(b, "t_spike0", repeat(-9999999.0, n), d);
  sim.derivative = [=](const Vars& s, Value, Value) {
    Value V = s["V"], m = s["m"], h = s["h"], k = s["n"];
    Vars dt;
    dt.set("V",
           (I - sodium_current(g_Na, m, h, V, E_Na) - potassium_current(g_K, k, V, E_K) - leak_current(g_L, V, E_L)) /
               C_m);
    dt.set("m", relax(m, traub_m(V)));
    dt.set("h", relax(h, traub_h(V)));
    dt.set("n", relax(k, traub_n(V)));
    return dt;
  };
  return simulate(b, sim, plan);
}

}  // namespace sf
