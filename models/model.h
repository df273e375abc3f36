// Built-in models: each builds a simulation graph (a top-level scan over the time grid) plus the
// metadata a runner needs to name its columns and times. The metadata lives in the graph's attrs,
// so an exported .sfg file runs exactly like the built-in model.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace sf {

enum class Integrator { Euler, RK4 };
const char* integrator_name(Integrator i);

// What `scanflow run` can change; unset fields take the model's defaults.
struct RunConfig {
  std::optional<double> t_end, dt;
  DType dtype = DType::f64;
  std::optional<Integrator> integrator;
  uint64_t seed = 1;
  std::optional<int64_t> size;      // population size, for models that have one
  int64_t every = 1;                // record every K-th step
  std::vector<std::string> record;  // state variables to record; empty = all
  bool stream = false;              // rows go to the sink (constant memory) instead of a stacked result
};

// How to read a simulation graph. Stored in / read from graph.attrs (keys "sim.*").
struct SimInfo {
  double dt = 0.01;
  int64_t k0 = 0;     // t_k = (k0 + k) * dt, k = 0..steps
  int64_t steps = 0;  // the scan's length
  int64_t every = 1;
  std::vector<std::string> columns;                                    // "V[0]", "m_Na[3]", ...
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> groups;  // "PN" -> [0, 90)
  // Derived by load() from the rows result (never stored: passes renumber nodes).
  NodeId scan = -1;               // the top-level scan node
  int64_t y_rows = 0;             // its per-step output holding a recorded row [columns]
  int64_t y_spikes = -1;          // its first `events` output (spikes [neurons]), -1 if none
  int64_t result_initial = 0;     // graph result: the recorded row at t_0 [columns]
  int64_t result_rows = 1;        // graph result: stacked rows [steps/every, columns] or row count
  std::vector<std::pair<std::string, int64_t>> final_state;  // variable -> graph result of its final value

  void store(Graph& g) const;
  static SimInfo load(const Graph& g);  // sf::Error if the graph is not a simulation
  double time(int64_t k) const { return static_cast<double>(k0 + k) * dt; }
};

struct ModelInfo {
  std::string name;
  std::string summary;      // one line for `scanflow models`
  std::string description;  // state variables, neuron groups, default run (`scanflow models NAME`)
  double t_end = 0, dt = 0.01;
  Integrator integrator = Integrator::RK4;
  std::optional<int64_t> size;  // default population size where the model has one
  std::function<Graph(const RunConfig&)> build;  // the simulation graph with SimInfo stored
};

const std::vector<ModelInfo>& models();
const ModelInfo& find_model(const std::string& name);  // sf::Error listing the known names

// steps = round(t_end / dt), as the CLI defines it.
int64_t step_count(double t_end, double dt);

}  // namespace sf
