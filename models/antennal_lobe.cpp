#include "models/antennal_lobe.h"

#include "graph/builder.h"
#include "models/al_channels.h"
#include "models/catalog.h"
#include "models/params.h"
#include "models/random.h"
#include "models/simulate.h"

namespace sf {
namespace {

constexpr double kTEnd = 1000.0, kDt = 0.01;
constexpr int64_t kOdorTargets = 39;  // int(0.33 * 120)

// The initial state before noise, as the tutorial's state_vector (t_spike = -(sim_time + 1)).
struct InitialValue {
  const char* name;
  int64_t size;  // -1: the ACh synapse count, -2: the GABA-A synapse count
  double value;
};
const InitialValue kInitial[] = {{"V", kALNeurons, -70.0},
                                 {"n", kALNeurons, 0.0},
                                 {"m_Na", kPNs, 0.0},
                                 {"h_Na", kPNs, 0.0},
                                 {"m_A", kPNs, 0.0},
                                 {"h_A", kPNs, 0.0},
                                 {"m_Ca", kLNs, 0.0},
                                 {"h_Ca", kLNs, 0.0},
                                 {"m_KCa", kLNs, 0.0},
                                 {"Ca", kLNs, 2.4e-4},
                                 {"o_ach", -1, 0.0},
                                 {"o_gaba", -2, 0.0},
                                 {"t_spike", kALNeurons, -1001.0}};

int64_t size_of(const InitialValue& v, const ALNetwork& net) {
  return v.size == -1 ? net.ach.size() : v.size == -2 ? net.gaba.size() : v.size;
}

// Bernoulli(0.5) connectivity on the block [post0, post1) x [pre0, pre1) of a 120 x 120 C[post, pre].
void draw_block(Rng& rng, std::vector<double>& C, int64_t post0, int64_t post1, int64_t pre0, int64_t pre1) {
  for (int64_t post = post0; post < post1; ++post)
    for (int64_t pre = pre0; pre < pre1; ++pre)
      C[static_cast<size_t>(post * kALNeurons + pre)] = rng.uniform() < 0.5 ? 1.0 : 0.0;
}

}  // namespace

ALNetwork draw_antennal_lobe(uint64_t seed) {
  Rng rng(seed);
  ALNetwork net;
  std::vector<double> ach(kALNeurons * kALNeurons, 0.0), gaba(kALNeurons * kALNeurons, 0.0);
  draw_block(rng, ach, kPNs, kALNeurons, 0, kPNs);         // PN -> LN
  draw_block(rng, gaba, 0, kALNeurons, kPNs, kALNeurons);  // LN -> PN and LN -> LN
  for (int64_t i = kPNs; i < kALNeurons; ++i) gaba[static_cast<size_t>(i * kALNeurons + i)] = 0.0;  // no self-synapses
  net.ach = synapses_of(ach, kALNeurons);
  net.gaba = synapses_of(gaba, kALNeurons);
  net.odor_targets = rng.choose(kALNeurons, kOdorTargets);
  for (const InitialValue& v : kInitial)
    for (int64_t i = 0; i < size_of(v, net); ++i) net.noise.push_back(rng.normal());
  return net;
}

Graph build_antennal_lobe(const RunConfig& rc) {
  reject_size(rc, "antennal-lobe");
  RunPlan plan = make_plan(rc, kTEnd, kDt, Integrator::RK4);
  const DType d = plan.dtype;
  const int64_t n = kALNeurons;
  ALNetwork net = draw_antennal_lobe(rc.seed);
  Builder b("antennal_lobe");

  // Currents every neuron has (the first 90 values are the PNs', the last 30 the LNs').
  Value C_m = param(b, "C_m", 1.0, d);
  Value g_K = param(b, "g_K", 10.0, d), E_K = param(b, "E_K", -95.0, d);
  Value g_L = param(b, "g_L", 0.15, d), E_L = param(b, "E_L", join(repeat(-55.0, kPNs), repeat(-50.0, kLNs)), d);
  Value g_KL = param(b, "g_KL", join(repeat(0.05, kPNs), repeat(0.02, kLNs)), d), E_KL = param(b, "E_KL", -95.0, d);
  // PN-only: Na and transient K (A).
  Value g_Na = param(b, "g_Na", 100.0, d), E_Na = param(b, "E_Na", 50.0, d);
  Value g_A = param(b, "g_A", 10.0, d), E_A = param(b, "E_A", -95.0, d);
  // LN-only: Ca, Ca-dependent K and the calcium pool.
  Value g_Ca = param(b, "g_Ca", 3.0, d), E_Ca = param(b, "E_Ca", 140.0, d);
  Value g_KCa = param(b, "g_KCa", 0.3, d), E_KCa = param(b, "E_KCa", -90.0, d);
  Value phi_I = param(b, "KCa_phi", 1.0, d);  // 2.3^((23-23)/10): the current code's factor
  Value A_Ca = param(b, "A_Ca", 2e-4, d), Ca_rest = param(b, "Ca_rest", 2.4e-4, d),
        tau_Ca = param(b, "tau_Ca", 150.0, d);
  // Synapses: ACh PN -> LN, GABA-A LN -> all; conductances by postsynaptic neuron.
  Value ach_A = param(b, "ach_A", 0.5, d), ach_t_max = param(b, "ach_t_max", 0.3, d);
  Value ach_t_delay = param(b, "ach_t_delay", 0.0, d);
  Value ach_alpha = param(b, "ach_alpha", 10.0, d), ach_beta = param(b, "ach_beta", 0.2, d);
  Value g_ach = param(b, "g_ach", join(repeat(0.35, kPNs), repeat(0.3, kLNs)), d), E_ach = param(b, "E_ach", 0.0, d);
  Value ach_pre = index_param(b, "ach_pre", net.ach.pre), ach_post = index_param(b, "ach_post", net.ach.post);
  Value gaba_V0 = param(b, "gaba_V0", -20.0, d), gaba_sigma = param(b, "gaba_sigma", 1.5, d);
  Value gaba_alpha = param(b, "gaba_alpha", 10.0, d), gaba_beta = param(b, "gaba_beta", 0.16, d);
  Value g_gaba = param(b, "g_gaba", 0.8, d), E_gaba = param(b, "E_gaba", -70.0, d);
  Value gaba_pre = index_param(b, "gaba_pre", net.gaba.pre), gaba_post = index_param(b, "gaba_post", net.gaba.post);
  // The odor: amp * y(t) into the neurons of odor_mask; its time course is float64 time math.
  std::vector<double> mask(static_cast<size_t>(n), 0.0);
  for (int64_t i : net.odor_targets) mask[static_cast<size_t>(i)] = 1.0;
  Value odor_mask = param(b, "odor_mask", mask, d);
  Value odor_amp = param(b, "odor_amp", 10.0, DType::f64);
  Value odor_on = param(b, "odor_on", 100.0, DType::f64), odor_off = param(b, "odor_off", 600.0, DType::f64);
  Value tau_rise = param(b, "odor_tau_rise", 75.0, DType::f64),
        tau_decay = param(b, "odor_tau_decay", 150.0, DType::f64);
  Value decay_peak = param(b, "odor_decay_peak", 0.9996, DType::f64);

  // Initial state with the seed's 1 % noise.
  Simulation sim;
  size_t drawn = 0;
  for (const InitialValue& v : kInitial) {
    std::vector<double> x = repeat(v.value, size_of(v, net));
    for (double& xi : x) xi = xi + 0.01 * xi * net.noise[drawn++];
    Value init = param(b, std::string(v.name) + "0", x, d);
    if (std::string(v.name) == "t_spike")
      sim.t_spike0 = init;
    else
      sim.init.set(v.name, init);
  }
  sim.voltage = std::string("V");
  sim.groups = {{"PN", {0, kPNs}}, {"LN", {kPNs, n}}};

  const double dt = plan.dt;
  sim.derivative = [=](const Vars& s, Value t, Value t_spike) {
    Value V = s["V"], V_p = slice(V, 0, kPNs), V_l = slice(V, kPNs, n);
    Value m_Na = s["m_Na"], h_Na = s["h_Na"], m_A = s["m_A"], h_A = s["h_A"];
    Value m_Ca = s["m_Ca"], h_Ca = s["h_Ca"], m_KCa = s["m_KCa"], Ca = s["Ca"];
    Value o_ach = s["o_ach"], o_gaba = s["o_gaba"];

    // Odor at the grid point int(t/dt) (the tutorial's table lookup, computed instead of stored):
    // 0 before onset, 1 - e^{-(t-on)/tau_rise} until offset, peak * e^{-(t-off)/tau_decay} after.
    Value t_j = cast(cast(t / dt, DType::i64), DType::f64) * dt;
    Value y =
        where(t_j < odor_off, 1.0 - exp(-(t_j - odor_on) / tau_rise), decay_peak * exp(-(t_j - odor_off) / tau_decay));
    y = where(t_j < odor_on, 0.0, y);
    Value I_stim = odor_mask * cast(odor_amp * y, d);

    Value I_Ca = calcium_current(g_Ca, m_Ca, h_Ca, V_l, E_Ca);
    Value own_p = -sodium_current(g_Na, m_Na, h_Na, V_p, E_Na) - a_current(g_A, m_A, h_A, V_p, E_A);
    Value own_l = -I_Ca - kca_current(g_KCa, m_KCa, phi_I, V_l, E_KCa);
    Value I_ach = synaptic_current(o_ach, ach_post, n, V, E_ach, g_ach);
    Value I_gaba = synaptic_current(o_gaba, gaba_post, n, V, E_gaba, g_gaba);
    Value T_ach = gather(ach_transmitter(cast(t, d), t_spike, ach_A, ach_t_max, ach_t_delay), ach_pre);
    Value T_gaba = gather(gaba_transmitter(V, gaba_V0, gaba_sigma), gaba_pre);

    Vars r;
    r.set("V", (I_stim + concat({own_p, own_l}) - potassium_current(g_K, s["n"], V, E_K) - leak_current(g_L, V, E_L) -
                leak_current(g_KL, V, E_KL) - I_ach - I_gaba) /
                   C_m);
    r.set("n", relax(s["n"], traub_n(V)));
    r.set("m_Na", relax(m_Na, traub_m(V_p)));
    r.set("h_Na", relax(h_Na, traub_h(V_p)));
    r.set("m_A", relax(m_A, a_current_m(V_p)));
    r.set("h_A", relax(h_A, a_current_h(V_p)));
    r.set("m_Ca", relax(m_Ca, calcium_m(V_l)));
    r.set("h_Ca", relax(h_Ca, calcium_h(V_l)));
    r.set("m_KCa", relax(m_KCa, kca_m(Ca)));
    r.set("Ca", -A_Ca * I_Ca - (Ca - Ca_rest) / tau_Ca);
    r.set("o_ach", synapse_rate(o_ach, T_ach, ach_alpha, ach_beta));
    r.set("o_gaba", synapse_rate(o_gaba, T_gaba, gaba_alpha, gaba_beta));
    return r;
  };
  return simulate(b, sim, plan);
}

ModelInfo antennal_lobe_model() {
  ModelInfo m;
  m.name = "antennal-lobe";
  m.summary = "locust antennal lobe: 90 PNs + 30 LNs, random ACh/GABA-A synapses, odor ramp (Day 6)";
  m.description =
      "The tutorial's locust antennal lobe (after Bazhenov et al. 2001b). Groups: PN [0,90), LN [90,120).\n"
      "PN: C dV/dt = I_stim - I_L - I_Na - I_K - I_A - I_KL - I_GABA - I_ACh.\n"
      "LN: C dV/dt = I_stim - I_L - I_Ca - I_K - I_KCa - I_KL - I_GABA - I_ACh, calcium pool\n"
      "    d[Ca]/dt = -A_Ca I_Ca - ([Ca] - Ca_rest)/tau_Ca.\n"
      "Synapses: ACh PN -> LN and GABA-A LN -> PN/LN, each with probability 0.5 from --seed.\n"
      "Odor: 10 y(t) into 39 random neurons; y = 0 before 100 ms, 1 - e^{-(t-100)/75} until 600 ms,\n"
      "0.9996 e^{-(t-600)/150} after. Initial state with 1 % multiplicative noise from the seed.\n"
      "State: V, n [120]; m_Na, h_Na, m_A, h_A [90] (PNs); m_Ca, h_Ca, m_KCa, Ca [30] (LNs);\n"
      "o_ach, o_gaba [synapses]; t_spike [120].\n"
      "Inputs: C_m, g_K, E_K, g_L, E_L[120], g_KL[120], E_KL, g_Na, E_Na, g_A, E_A, g_Ca, E_Ca, g_KCa,\n"
      "E_KCa, KCa_phi = 1, A_Ca, Ca_rest, tau_Ca; ach_A, ach_t_max, ach_t_delay, ach_alpha, ach_beta,\n"
      "g_ach[120], E_ach, ach_pre, ach_post; gaba_V0, gaba_sigma, gaba_alpha, gaba_beta, g_gaba, E_gaba,\n"
      "gaba_pre, gaba_post; odor_mask[120], odor_amp, odor_on, odor_off, odor_tau_rise, odor_tau_decay,\n"
      "odor_decay_peak; initial values V0, n0, m_Na0, ..., Ca0, o_ach0, o_gaba0, t_spike0.\n"
      "Default run: RK4, dt 0.01, t_end 1000 ms, seed 1.";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.build = build_antennal_lobe;
  return m;
}

}  // namespace sf
