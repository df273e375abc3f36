// Day 3: one Traub neuron with a constant 5 uA/cm^2 current fires tonically (12 spikes in 200 ms).
#include "models/catalog.h"
#include "models/traub_neurons.h"

namespace sf {
namespace {

constexpr double kTEnd = 200.0, kDt = 0.01;

Graph build(const RunConfig& rc) {
  reject_size(rc, "hh-traub");
  return build_traub_neurons("hh_traub", make_plan(rc, kTEnd, kDt, Integrator::RK4), {5.0});
}

}  // namespace

ModelInfo hh_traub_model() {
  ModelInfo m;
  m.name = "hh-traub";
  m.summary = "one Traub-type Hodgkin-Huxley neuron, I_inj = 5 (Day 3)";
  m.description = std::string(kTraubDescription) +
                  "One neuron, I_inj = [5].\n"
                  "Default run: RK4, dt 0.01, t_end 200 ms (tonic firing, 12 spikes).";
  m.t_end = kTEnd;
  m.dt = kDt;
  m.integrator = Integrator::RK4;
  m.build = build;
  return m;
}

}  // namespace sf
