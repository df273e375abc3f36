// Day 3's F-I curve: 20 uncoupled Traub neurons with currents linspace(0, 10, 20).
#include "models/catalog.h"
#include "models/traub_neurons.h"

namespace sf {
namespace {

constexpr double kTEnd = 200.0, kDt = 0.01;
constexpr int64_t kSize = 20;

// np.linspace(0, top, n): i * (top / (n - 1)), the last one exactly `top`.
std::vector<double> linspace(double top, int64_t n) {
  std::vector<double> v(static_cast<size_t>(n), 0.0);
  if (n < 2) return v;
  double step = top / static_cast<double>(n - 1);
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>(i) * step;
  v.back() = top;
  return v;
}

Graph build(const RunConfig& rc) {
  return build_traub_neurons("hh_fi", make_plan(rc, kTEnd, kDt, Integrator::RK4),
                             linspace(10.0, population_size(rc, kSize)));
}

}  // namespace

ModelInfo hh_fi_model() {
  ModelInfo m;
  m.name = "hh-fi";
  m.summary = "20 Traub neurons with currents 0..10, an F-I curve (Day 3)";
  m.description =
      std::string(kTraubDescription) +
      "N neurons (default 20, --size), I_inj = linspace(0, 10, N).\n"
      "Default run: RK4, dt 0.01, t_end 200 ms; spike counts 0,0,1,6,7,9,10,11,11,12,13,13,14,14,15,15,16,16,16,17.";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.size = kSize;
  m.build = build;
  return m;
}

}  // namespace sf
