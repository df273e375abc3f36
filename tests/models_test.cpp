// The built-in models: they build, run through the interpreter and reproduce the tutorial's numbers.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <set>

#include "graph/error.h"
#include "graph/verify.h"
#include "model_run.h"
#include "models/antennal_lobe.h"
#include "models/net3.h"
#include "models/random.h"

using namespace sf;
using sf::test::run_model;

namespace {

std::vector<int64_t> spike_counts(const test::SimRun& r) {
  const Tensor& c = r.final_state("spike_count");
  std::vector<int64_t> v;
  for (int64_t i = 0; i < c.size(); ++i) v.push_back(static_cast<int64_t>(c.get(i)));
  return v;
}

// Observed orders log2(e(dt) / e(dt/2)) along a list of halving steps.
std::vector<double> orders(const std::vector<double>& errors) {
  std::vector<double> p;
  for (size_t i = 0; i + 1 < errors.size(); ++i) p.push_back(std::log2(errors[i] / errors[i + 1]));
  return p;
}

double final_value(const std::string& model, Integrator m, double dt, const std::string& var) {
  RunConfig rc;
  rc.integrator = m;
  rc.dt = dt;
  return run_model(model, rc).final_state(var).get(0);
}

// Two graphs are the same: same nodes, attributes and results, bodies included.
bool same_graph(const Graph& a, const Graph& b) {
  if (a.nodes.size() != b.nodes.size() || a.results != b.results || !(a.attrs == b.attrs)) return false;
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    if (x.op != y.op || x.operands != y.operands || !(x.attrs == y.attrs) || !(x.type == y.type)) return false;
    if (bool(x.body) != bool(y.body) || (x.body && !same_graph(*x.body, *y.body))) return false;
  }
  return true;
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.get(i))) return false;
  return true;
}

const Tensor& input_default(const Graph& g, const std::string& name) {
  NodeId id = g.input(name);
  REQUIRE(id >= 0);
  return g.node(id).attrs.tensor("default");
}

}  // namespace

TEST_CASE("models: every model builds, verifies and describes itself") {
  std::set<std::string> names;
  for (const ModelInfo& m : models()) {
    CAPTURE(m.name);
    names.insert(m.name);
    CHECK(!m.summary.empty());
    CHECK(m.description.find("Default run") != std::string::npos);
    RunConfig rc;
    rc.t_end = 1.0;
    if (m.size) rc.size = 5;
    Graph g = m.build(rc);
    verify(g);
    SimInfo info = SimInfo::load(g);
    CHECK(info.steps == 100);
    CHECK(info.dt == m.dt);
    CHECK(!info.columns.empty());
    CHECK(g.node(info.scan).op == Op::Scan);
    for (DType d : {DType::f32, DType::f64}) {
      rc.dtype = d;
      CHECK_NOTHROW(verify(m.build(rc)));
    }
  }
  CHECK(names == std::set<std::string>{"exp-growth", "linear2d", "lorenz", "hh-traub", "hh-fi", "net3", "antennal-lobe",
                                       "hh-squid"});
  CHECK_THROWS_WITH_AS(find_model("nope"), doctest::Contains("known models: exp-growth"), Error);
}

TEST_CASE("models: SimInfo survives the graph attrs, and a plain graph is refused") {
  RunConfig rc;
  rc.t_end = 10;
  rc.every = 5;
  Graph g = find_model("hh-fi").build(rc);
  SimInfo s = SimInfo::load(g);
  CHECK(s.dt == 0.01);
  CHECK(s.k0 == 0);
  CHECK(s.steps == 1000);
  CHECK(s.every == 5);
  CHECK(s.columns.size() == 5 * 20);
  CHECK(s.columns.front() == "V[0]");
  CHECK(s.columns.back() == "t_spike[19]");
  CHECK(s.y_rows == 0);
  CHECK(s.y_spikes == 1);
  REQUIRE(s.final_state.size() == 6);
  CHECK(s.final_state[4].first == "t_spike");
  CHECK(s.final_state[5].first == "spike_count");
  CHECK(s.time(3) == 3 * 0.01);

  Graph al = find_model("antennal-lobe").build(rc);
  SimInfo a = SimInfo::load(al);
  CHECK(a.groups ==
        std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>>{{"PN", {0, 90}}, {"LN", {90, 120}}});

  Graph plain;
  CHECK_THROWS_WITH_AS(SimInfo::load(plain), "not a simulation graph: missing sim.dt", Error);
}

TEST_CASE("models: hh-traub fires 12 spikes in 200 ms (Day 3)") {
  auto r = run_model("hh-traub");
  CHECK(spike_counts(r) == std::vector<int64_t>{12});
  CHECK(r.sink.spikes.size() == 12);
  CHECK(r.info.columns == std::vector<std::string>{"V[0]", "m[0]", "h[0]", "n[0]", "t_spike[0]"});
  CHECK(r.rows().shape() == Shape{20000, 5});
  CHECK(r.at(0, 0) == -71.0);
}

TEST_CASE("models: hh-fi reproduces the Day 3 F-I curve") {
  auto r = run_model("hh-fi");
  CHECK(spike_counts(r) ==
        std::vector<int64_t>{0, 0, 1, 6, 7, 9, 10, 11, 11, 12, 13, 13, 14, 14, 15, 15, 16, 16, 16, 17});
}

TEST_CASE("models: Euler converges with order 1 and RK4 with order 4") {
  const double e10 = std::exp(10.0);  // exp-growth: x(2) = e^{10}
  std::vector<double> euler, rk4, rk4_lin, euler_lin;
  for (double dt : {0.005, 0.0025, 0.00125, 0.000625})
    euler.push_back(std::abs(final_value("exp-growth", Integrator::Euler, dt, "x") - e10));
  for (double dt : {0.02, 0.01, 0.005, 0.0025})
    rk4.push_back(std::abs(final_value("exp-growth", Integrator::RK4, dt, "x") - e10));
  // linear2d: x - y = e^{2t}, x + y = 1.
  auto lin_error = [&](Integrator m, double dt) {
    RunConfig rc;
    rc.integrator = m;
    rc.dt = dt;
    auto r = run_model("linear2d", rc);
    double x = r.final_state("x").get(0), y = r.final_state("y").get(0);
    CHECK(x + y == doctest::Approx(1.0).epsilon(1e-9));
    return std::abs((x - y) - std::exp(4.0));
  };
  for (double dt : {0.1, 0.05, 0.025, 0.0125}) rk4_lin.push_back(lin_error(Integrator::RK4, dt));
  for (double dt : {0.01, 0.005, 0.0025, 0.00125}) euler_lin.push_back(lin_error(Integrator::Euler, dt));
  for (auto [name, errors, want] :
       {std::tuple{std::string("exp-growth euler"), euler, 1.0}, std::tuple{std::string("exp-growth rk4"), rk4, 4.0},
        std::tuple{std::string("linear2d rk4"), rk4_lin, 4.0},
        std::tuple{std::string("linear2d euler"), euler_lin, 1.0}}) {
    std::vector<double> p = orders(errors);
    MESSAGE(name << ": errors " << errors[0] << " .. " << errors.back() << ", observed orders " << p[0] << " " << p[1]
                 << " " << p[2]);
    for (double q : p) CHECK(q == doctest::Approx(want).epsilon(0.2 / want));
  }
}

TEST_CASE("models: lorenz stays on the attractor") {
  auto r = run_model("lorenz");
  const int64_t rows = r.rows().shape()[0];
  REQUIRE(rows == 5000);
  REQUIRE(all_finite(r.rows()));
  double xmin = 1e9, xmax = -1e9, ymax = 0, zmin = 1e9, zmax = -1e9;
  for (int64_t k = 1000; k <= rows; ++k) {  // after the transient
    double x = r.at(k, 0), y = r.at(k, 1), z = r.at(k, 2);
    xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymax = std::max(ymax, std::abs(y));
    zmin = std::min(zmin, z), zmax = std::max(zmax, z);
  }
  CHECK(xmin > -25);
  CHECK(xmax < 25);
  CHECK(ymax < 35);
  CHECK(zmin > 0);
  CHECK(zmax < 55);
  CHECK(xmin < -10);  // it visits both wings, not a fixed point
  CHECK(xmax > 10);
}

TEST_CASE("models: hh-squid runs with finite values and the stronger currents fire") {
  RunConfig rc;
  rc.t_end = 20;
  rc.size = 11;
  auto r = run_model("hh-squid", rc);
  CHECK(all_finite(r.rows()));
  auto counts = spike_counts(r);
  CHECK(counts.size() == 11);
  CHECK(counts.front() == 0);  // I = 0 stays at rest
  CHECK(counts.back() >= 1);   // I = 20 fires
}

TEST_CASE("models: float32 runs keep state in f32 and time in f64") {
  RunConfig rc;
  rc.dtype = DType::f32;
  auto r = run_model("hh-traub", rc);
  CHECK(r.rows().dtype() == DType::f32);
  CHECK(r.final_state("V").dtype() == DType::f32);
  CHECK(spike_counts(r) == std::vector<int64_t>{12});

  // net3 in f32 fires like f64: the first spike time must be exact enough for the 0.3 ms ACh pulse.
  auto n3 = run_model("net3", rc);
  CHECK(all_finite(n3.rows()));
  CHECK(n3.final_state("t_spike").dtype() == DType::f32);
  CHECK(spike_counts(n3) == spike_counts(run_model("net3")));
  CHECK(spike_counts(n3)[1] > 0);  // X2 is driven by X1 through ACh

  rc.t_end = 2;
  rc.integrator = Integrator::Euler;
  auto e = run_model("exp-growth", rc);
  CHECK(e.final_state("x").get(0) == doctest::Approx(std::pow(1.05, 200)).epsilon(1e-4));
}

TEST_CASE("models: --record picks columns, every thins rows, stream sends rows to the sink") {
  RunConfig rc;
  rc.t_end = 120;
  rc.record = {"V", "t_spike"};
  auto r = run_model("net3", rc);
  CHECK(r.info.columns == std::vector<std::string>{"V[0]", "V[1]", "V[2]", "t_spike[0]", "t_spike[1]", "t_spike[2]"});
  CHECK(r.rows().shape() == Shape{12000, 6});
  CHECK(r.at(0, 0) == -71.0);
  CHECK(r.at(0, 3) == -9999999.0);
  // The first spike of X1 is recorded as its step's start time.
  REQUIRE(!r.sink.spikes.empty());
  Event first = r.sink.spikes.front();
  CHECK(first.index == 0);
  CHECK(r.final_state("t_spike").get(0) >= 100.0);
  CHECK(r.at(first.step + 1, 3) == doctest::Approx(static_cast<double>(first.step) * 0.01).epsilon(1e-9));

  rc.record = {"o_ach"};
  rc.every = 100;
  auto thin = run_model("net3", rc);
  CHECK(thin.info.columns == std::vector<std::string>{"o_ach[0]"});
  CHECK(thin.rows().shape() == Shape{120, 1});
  CHECK(thin.rows().get(119) == r.final_state("o_ach").get(0));
  CHECK(thin.sink.spikes.size() == r.sink.spikes.size());  // events are taken at every step

  rc.every = 1;
  rc.stream = true;
  auto streamed = run_model("net3", rc);
  CHECK(streamed.rows().get(0) == 12000);
  CHECK(streamed.sink.row_count == 12000);
  CHECK(streamed.sink.streamed.back() == r.final_state("o_ach").get(0));

  rc.record = {"V", "calcium"};
  CHECK_THROWS_WITH_AS(find_model("net3").build(rc),
                       "unknown variable 'calcium' to record; valid names: V, m, h, n, o_ach, o_gaba, t_spike", Error);
  RunConfig al;
  al.record = {"m_Ca", "Ca"};
  al.t_end = 1;
  auto g = find_model("antennal-lobe").build(al);
  auto cols = SimInfo::load(g).columns;
  REQUIRE(cols.size() == 60);
  CHECK(cols[0] == "m_Ca[0]");
  CHECK(cols[59] == "Ca[29]");
}

TEST_CASE("models: inputs rebind parameters without rebuilding") {
  RunConfig rc;
  rc.t_end = 200;
  Graph g = find_model("hh-traub").build(rc);
  auto quiet = test::run_graph(g, {{"I_inj", Tensor::from(DType::f64, {1}, std::vector<double>{0.0})}});
  CHECK(spike_counts(quiet) == std::vector<int64_t>{0});
  auto louder = test::run_graph(g, {{"I_inj", Tensor::from(DType::f64, {1}, std::vector<double>{10.0})}});
  CHECK(spike_counts(louder)[0] > 12);
}

TEST_CASE("models: the random generator is SplitMix64 and reproducible") {
  Rng zero(0);
  CHECK(zero.next() == 0xE220A8397B1DCDAFULL);  // SplitMix64's well-known first output for seed 0
  Rng a(7), b(7);
  for (int i = 0; i < 100; ++i) CHECK(a.uniform() == b.uniform());
  Rng c(1);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x = c.normal();
    sum += x, sq += x * x;
  }
  CHECK(std::abs(sum / n) < 0.03);
  CHECK(sq / n == doctest::Approx(1.0).epsilon(0.05));
  auto pick = Rng(3).choose(120, 39);
  CHECK(std::set<int64_t>(pick.begin(), pick.end()).size() == 39);
  for (int64_t i : pick) CHECK((i >= 0 && i < 120));
}

TEST_CASE("models: antennal-lobe connectivity comes from the seed") {
  ALNetwork n1 = draw_antennal_lobe(1), again = draw_antennal_lobe(1), n2 = draw_antennal_lobe(2);
  CHECK(n1.ach.pre == again.ach.pre);
  CHECK(n1.gaba.post == again.gaba.post);
  CHECK(n1.odor_targets == again.odor_targets);
  CHECK(n1.noise == again.noise);
  CHECK((n1.ach.pre != n2.ach.pre || n1.ach.post != n2.ach.post));
  CHECK(n1.odor_targets != n2.odor_targets);
  MESSAGE("seed 1: " << n1.ach.size() << " ACh and " << n1.gaba.size() << " GABA-A synapses");
  for (const ALNetwork* net : {&n1, &n2}) {
    CHECK(net->ach.size() > 1250);  // 2700 candidates at p = 0.5: 1350 +- 26
    CHECK(net->ach.size() < 1450);
    CHECK(net->gaba.size() > 1680);  // 3570 candidates: 1785 +- 30
    CHECK(net->gaba.size() < 1890);
    for (int64_t s = 0; s < net->ach.size(); ++s) {
      REQUIRE(net->ach.pre[static_cast<size_t>(s)] < kPNs);    // PN ->
      REQUIRE(net->ach.post[static_cast<size_t>(s)] >= kPNs);  // -> LN
    }
    for (int64_t s = 0; s < net->gaba.size(); ++s) {
      int64_t pre = net->gaba.pre[static_cast<size_t>(s)], post = net->gaba.post[static_cast<size_t>(s)];
      REQUIRE(pre >= kPNs);  // from LNs
      REQUIRE(pre != post);  // no self-synapses
      if (s > 0) {           // row-major order of C[post, pre]
        int64_t prev =
            net->gaba.post[static_cast<size_t>(s - 1)] * kALNeurons + net->gaba.pre[static_cast<size_t>(s - 1)];
        REQUIRE(prev < post * kALNeurons + pre);
      }
    }
  }

  RunConfig rc;
  rc.t_end = 5;
  Graph g1 = build_antennal_lobe(rc), g1b = build_antennal_lobe(rc);
  rc.seed = 2;
  Graph g2 = build_antennal_lobe(rc);
  CHECK(same_graph(g1, g1b));
  CHECK(!same_graph(g1, g2));
  CHECK(input_default(g1, "ach_pre").size() == n1.ach.size());
  CHECK(input_default(g1, "o_gaba0").size() == n1.gaba.size());
  CHECK(input_default(g2, "ach_pre").size() == n2.ach.size());
  // 1 % noise: V, Ca and t_spike jitter around -70, 2.4e-4 and -1001; gates stay 0.
  const Tensor &V0 = input_default(g1, "V0"), &Ca0 = input_default(g1, "Ca0"), &ts0 = input_default(g1, "t_spike0");
  const Tensor& h0 = input_default(g1, "h_A0");
  double odd = 0;
  for (int64_t i = 0; i < V0.size(); ++i) {
    CHECK(std::abs(V0.get(i) + 70) < 0.05 * 70);
    CHECK(std::abs(ts0.get(i) + 1001) < 0.05 * 1001);
    odd += V0.get(i) != -70.0;
  }
  CHECK(odd == 120);
  for (int64_t i = 0; i < Ca0.size(); ++i) CHECK(std::abs(Ca0.get(i) - 2.4e-4) < 0.05 * 2.4e-4);
  for (int64_t i = 0; i < h0.size(); ++i) CHECK(h0.get(i) == 0.0);
  double mask = 0;
  const Tensor& m = input_default(g1, "odor_mask");
  for (int64_t i = 0; i < m.size(); ++i) mask += m.get(i);
  CHECK(mask == 39);
}

TEST_CASE("models: antennal-lobe LNs depolarise after odor onset, nothing fires before it") {
  RunConfig rc;
  rc.t_end = 150;
  rc.record = {"V"};
  rc.every = 10;
  auto start = std::chrono::steady_clock::now();
  auto r = run_model("antennal-lobe", rc);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("antennal-lobe through the interpreter: " << seconds << " s for 150 ms, " << 1000 * seconds / 150
                                                    << " ms per simulated ms");
  const int64_t rows = r.rows().shape()[0];
  REQUIRE(rows == 1500);
  CHECK(all_finite(r.rows()));
  auto V = [&](double t, int64_t neuron) { return r.at(std::llround(t * 10), neuron); };  // row k: t = 0.1 k ms

  // Before the odor (100 ms) the network settles to rest and nothing fires.
  int64_t early = 0, awake = 0;
  for (const Event& e : r.sink.spikes) early += e.step < 10000;
  for (int64_t i = 0; i < kALNeurons; ++i) awake += V(100, i) >= -50;
  CHECK(early == 0);
  CHECK(awake == 0);

  // The odor ramp depolarises every LN it reaches by more than 15 mV within 30 ms, and LNs
  // start their broad calcium spikes (above -20 mV) before 150 ms.
  ALNetwork net = draw_antennal_lobe(rc.seed);
  int64_t targets = 0, above = 0;
  for (int64_t i : net.odor_targets)
    if (i >= kPNs) {
      ++targets;
      CHECK(V(130, i) - V(100, i) > 15);
    }
  for (int64_t i = kPNs; i < kALNeurons; ++i) {
    double peak = -1e9;
    for (double t = 100; t <= 150; t += 0.1) peak = std::max(peak, V(t, i));
    above += peak > -20;
  }
  MESSAGE(targets << " LNs get the odor; " << above << " LNs go above -20 mV before 150 ms");
  CHECK(targets > 0);
  CHECK(above >= 2);
}
