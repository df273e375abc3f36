// Turns a model (state variables, their initial values, a derivative function and, for spiking
// models, the membrane voltage) into a simulation graph: one top-level scan over the time grid,
// recording rows and spikes, with SimInfo stored in the graph's attrs.
//
// The scan's carries: the grid index k (i64), every state variable, then for spiking models the
// last-spike times t_spike and a per-neuron spike counter (i64). Each step:
//   t_k = k * dt, dt_k = t_{k+1} - t_k                (float64, as np.arange's grid)
//   y'  = integrator step of the derivative from t_k over dt_k
//   fired   = (V < 0) & (V' >= 0)                     (upward crossing of 0 mV)
//   t_spike' = t_spike + where(fired, t_k - t_spike, 0)   (float32: where(fired, t_k, t_spike))
//   count'   = count + fired
// Per-step outputs: 0 = the recorded row (stack or sink), 1 = `fired` (events, spiking only).
// Graph results: the initial row, the rows (or row count), then the final value of every state
// variable, t_spike and spike_count (SimInfo::final_state names them).
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "graph/builder.h"
#include "models/model.h"

namespace sf {

// Named values in a fixed order: a model's state, or its derivatives.
class Vars {
 public:
  Vars() = default;
  Vars(std::vector<std::string> names, std::vector<Value> values);
  void set(const std::string& name, Value v);  // adds, or replaces an existing name
  Value operator[](const std::string& name) const;
  bool has(const std::string& name) const;
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<std::string> names_;
  std::vector<Value> values_;
};

// A run with the model's defaults filled in.
struct RunPlan {
  double dt = 0.01;
  int64_t k0 = 0;     // first grid index: t_0 = k0 * dt
  int64_t steps = 0;  // grid points k0 .. k0 + steps
  Integrator integrator = Integrator::RK4;
  DType dtype = DType::f64;
  int64_t every = 1;
  std::vector<std::string> record;
  bool stream = false;
};

// The plan of `rc` for a model whose defaults are (t_end, dt, integrator). `t_end` is the end time
// of the grid, so a run that starts at k0 has step_count(t_end, dt) - k0 steps.
RunPlan make_plan(const RunConfig& rc, double t_end, double dt, Integrator integrator, int64_t k0 = 0);

// The population size of a model that has one (--size), checked; and the check for the others.
int64_t population_size(const RunConfig& rc, int64_t default_size);
void reject_size(const RunConfig& rc, const std::string& model);

// dstate/dt at stage time t (float64 scalar). t_spike is the last-spike time carry of a spiking
// model (constant during a step, as in the tutorial), an empty Value otherwise.
using ModelDerivative = std::function<Vars(const Vars& y, Value t, Value t_spike)>;

struct Simulation {
  Vars init;                   // state variables in the spec's order: their initial values [n]
  ModelDerivative derivative;  // must set every state variable
  // Spiking models: the state variable holding V; "" = none. (Assign a std::string: GCC 12 gives a
  // false -Wrestrict warning for `= "V"`.)
  std::string voltage;
  Value t_spike0;  // spiking models: initial last-spike times [n]
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> groups;  // "PN" -> [0, 90)
};

// Builds the simulation in `b` (whose inputs the model has already made) and returns the verified
// graph. sf::Error if plan.record names an unknown variable.
Graph simulate(Builder& b, const Simulation& sim, const RunPlan& plan);

}  // namespace sf
