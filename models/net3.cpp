#include "models/net3.h"

#include <cmath>

#include "graph/builder.h"
#include "graph/error.h"
#include "models/catalog.h"
#include "models/params.h"
#include "models/simulate.h"
#include "models/synapses.h"
#include "models/traub_channels.h"

namespace sf {
namespace {

constexpr double kTEnd = 700.0, kDt = 0.01;

// The tutorial's current_input: X1 gets 2.5, 5 and 7.5 on [100,200), [300,400), [500,600) ms.
Tensor default_table(int64_t n, int64_t columns, double dt, DType d) {
  Tensor table(d, {n, columns});
  const double pulses[3][3] = {{100, 200, 2.5}, {300, 400, 5.0}, {500, 600, 7.5}};
  for (auto& [on, off, amp] : pulses) {
    auto begin = static_cast<int64_t>(on / dt), end = static_cast<int64_t>(off / dt);  // Python's int()
    for (int64_t j = begin; j < end && j < columns; ++j) table.set(j, amp);            // row 0 = X1
  }
  return table;
}

Tensor converted(const Tensor& t, DType d) {
  Tensor out(d, t.shape());
  for (int64_t i = 0; i < t.size(); ++i) out.set(i, t.get(i));
  return out;
}

// Slices the tutorial's flat initial state into its blocks.
struct Start {
  std::vector<double> V, m, h, n, o_ach, o_gaba, t_spike;
};
Start initial_state(const std::vector<double>& y0, int64_t n, int64_t n_ach, int64_t n_gaba) {
  if (y0.empty()) {
    return {repeat(-71.0, n),   repeat(0.0, n),      repeat(0.0, n),       repeat(0.0, n),
            repeat(0.0, n_ach), repeat(0.0, n_gaba), repeat(-9999999.0, n)};
  }
  int64_t want = 5 * n + n_ach + n_gaba;
  if (static_cast<int64_t>(y0.size()) != want) fail("net3: initial state has {} values, want {}", y0.size(), want);
  auto take = [&, at = size_t{0}](int64_t len) mutable {
    std::vector<double> part(y0.begin() + static_cast<long>(at),
                             y0.begin() + static_cast<long>(at + static_cast<size_t>(len)));
    at += static_cast<size_t>(len);
    return part;
  };
  Start s;
  s.V = take(n), s.m = take(n), s.h = take(n), s.n = take(n);
  s.o_ach = take(n_ach), s.o_gaba = take(n_gaba), s.t_spike = take(n);
  return s;
}

int64_t side_of(const std::vector<double>& mat) {
  auto n = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(mat.size()))));
  if (n * n != static_cast<int64_t>(mat.size())) fail("net3: connectivity has {} entries, not n x n", mat.size());
  return n;
}

}  // namespace

Graph build_net3(const RunConfig& rc, const Net3Config& cfg) {
  reject_size(rc, "net3");
  RunPlan plan = make_plan(rc, kTEnd, kDt, Integrator::RK4, cfg.k0);
  const DType d = plan.dtype;
  std::vector<double> ach_mat = cfg.ach_mat, gaba_mat = cfg.gaba_mat;
  if (ach_mat.empty()) ach_mat = {0, 0, 0, 1, 0, 0, 0, 0, 0};    // [1, 0]: X1 -> X2
  if (gaba_mat.empty()) gaba_mat = {0, 0, 0, 0, 0, 0, 0, 1, 0};  // [2, 1]: X2 -> X3
  const int64_t n = side_of(ach_mat);
  if (side_of(gaba_mat) != n) fail("net3: ACh and GABA-A connectivity differ in size");
  SynapseList ach = synapses_of(ach_mat, n), gaba = synapses_of(gaba_mat, n);

  Builder b("net3");
  // Neurons (Day 3's Traub neuron).
  Value C_m = param(b, "C_m", 1.0, d);
  Value g_Na = param(b, "g_Na", 100.0, d), E_Na = param(b, "E_Na", 50.0, d);
  Value g_K = param(b, "g_K", 10.0, d), E_K = param(b, "E_K", -95.0, d);
  Value g_L = param(b, "g_L", 0.15, d), E_L = param(b, "E_L", -55.0, d);
  // ACh synapses: a 0.3 ms pulse of transmitter after each presynaptic spike.
  Value ach_A = param(b, "ach_A", 0.5, d), ach_t_max = param(b, "ach_t_max", 0.3, d);
  Value ach_t_delay = param(b, "ach_t_delay", 0.0, d);
  Value ach_alpha = param(b, "ach_alpha", 10.0, d), ach_beta = param(b, "ach_beta", 0.2, d);
  Value g_ach = param(b, "g_ach", 0.35, d), E_ach = param(b, "E_ach", 0.0, d);
  Value ach_pre = index_param(b, "ach_pre", ach.pre), ach_post = index_param(b, "ach_post", ach.post);
  // GABA-A synapses: transmitter graded by the presynaptic voltage.
  Value gaba_V0 = param(b, "gaba_V0", -20.0, d), gaba_sigma = param(b, "gaba_sigma", 1.5, d);
  Value gaba_alpha = param(b, "gaba_alpha", 10.0, d), gaba_beta = param(b, "gaba_beta", 0.16, d);
  Value g_gaba = param(b, "g_gaba", 0.8, d), E_gaba = param(b, "E_gaba", -70.0, d);
  Value gaba_pre = index_param(b, "gaba_pre", gaba.pre), gaba_post = index_param(b, "gaba_post", gaba.post);
  // The injected current, one column per grid point; transposed once so a step gathers a row.
  Tensor table = cfg.I_table ? converted(*cfg.I_table, d) : default_table(n, plan.k0 + plan.steps + 2, plan.dt, d);
  if (table.rank() != 2 || table.shape()[0] != n)
    fail("net3: I_table is {}, want [{}, columns]", type_str(table.type()), n);
  Value I_by_time = transpose(b.input("I_table", table), {1, 0});

  Start s0 = initial_state(cfg.y0, n, ach.size(), gaba.size());
  Simulation sim;
  sim.init.set("V", param(b, "V0", s0.V, d));
  sim.init.set("m", param(b, "m0", s0.m, d));
  sim.init.set("h", param(b, "h0", s0.h, d));
  sim.init.set("n", param(b, "n0", s0.n, d));
  sim.init.set("o_ach", param(b, "o_ach0", s0.o_ach, d));
  sim.init.set("o_gaba", param(b, "o_gaba0", s0.o_gaba, d));
  sim.voltage = std::string("V");
  sim.t_spike0 = param(b, "t_spike0", s0.t_spike, d);

  const double dt = plan.dt;
  sim.derivative = [=](const Vars& s, Value t, Value t_spike) {
    Value V = s["V"], m = s["m"], h = s["h"], k = s["n"], o_ach = s["o_ach"], o_gaba = s["o_gaba"];
    // The table column of stage time t: int(t / dt), truncated as the tutorial's tf.cast.
    Value I_inj = gather(I_by_time, cast(t / dt, DType::i64));
    Value I_ach = synaptic_current(o_ach, ach_post, n, V, E_ach, g_ach);
    Value I_gaba = synaptic_current(o_gaba, gaba_post, n, V, E_gaba, g_gaba);
    Value T_ach = gather(ach_transmitter(cast(t, d), t_spike, ach_A, ach_t_max, ach_t_delay), ach_pre);
    Value T_gaba = gather(gaba_transmitter(V, gaba_V0, gaba_sigma), gaba_pre);
    Vars dt_;
    dt_.set("V", (I_inj - sodium_current(g_Na, m, h, V, E_Na) - potassium_current(g_K, k, V, E_K) -
                  leak_current(g_L, V, E_L) - I_ach - I_gaba) /
                     C_m);
    dt_.set("m", relax(m, traub_m(V)));
    dt_.set("h", relax(h, traub_h(V)));
    dt_.set("n", relax(k, traub_n(V)));
    dt_.set("o_ach", synapse_rate(o_ach, T_ach, ach_alpha, ach_beta));
    dt_.set("o_gaba", synapse_rate(o_gaba, T_gaba, gaba_alpha, gaba_beta));
    return dt_;
  };
  return simulate(b, sim, plan);
}

ModelInfo net3_model() {
  ModelInfo m;
  m.name = "net3";
  m.summary = "three neurons X1 -(ACh)-> X2 -(GABA-A)-> X3 (Days 4-5)";
  m.description =
      "Days 4-5: three Traub neurons (as hh-traub) coupled by kinetic synapses,\n"
      "C_m dV/dt = I_inj - I_Na - I_K - I_L - I_ach - I_gaba, I_syn = g (V - E) sum(o),\n"
      "do/dt = alpha (1 - o) T - beta o; ACh T = A for 0.3 ms after a presynaptic spike,\n"
      "GABA-A T = 1/(1 + exp(-(V_pre - V0)/sigma)).\n"
      "State: V, m, h, n [3], o_ach [1], o_gaba [1], t_spike [3] (the tutorial's 17-entry layout).\n"
      "Inputs: C_m, g_Na, g_K, g_L, E_Na, E_K, E_L (Day 3 values); ach_A = 0.5, ach_t_max = 0.3,\n"
      "ach_t_delay = 0, ach_alpha = 10, ach_beta = 0.2, g_ach = 0.35, E_ach = 0; gaba_V0 = -20,\n"
      "gaba_sigma = 1.5, gaba_alpha = 10, gaba_beta = 0.16, g_gaba = 0.8, E_gaba = -70;\n"
      "ach_pre/ach_post = [0]/[1], gaba_pre/gaba_post = [1]/[2] (synapse index vectors);\n"
      "I_table [3, steps+2]: current at grid index int(t/dt), X1 gets 2.5/5/7.5 on\n"
      "[100,200)/[300,400)/[500,600) ms; V0 = -71, m0 = h0 = n0 = 0, o_ach0 = o_gaba0 = 0,\n"
      "t_spike0 = -9999999.\n"
      "Default run: RK4, dt 0.01, t_end 700 ms.";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.build = [](const RunConfig& rc) { return build_net3(rc); };
  return m;
}

}  // namespace sf
