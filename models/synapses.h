// Kinetic synapses (Destexhe 1994), psst-models.md sections 5 and 7: each synapse has an open
// fraction o with do/dt = alpha (1 - o) T - beta o, driven by the transmitter T of its presynaptic
// neuron. Only existing synapses are stored, as index vectors pre[s] and post[s] ordered by the
// row-major flatten of the connectivity C[post, pre]; the transmitter is gathered by `pre` and the
// current summed into postsynaptic neurons by `post` (never an n x n matrix).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/builder.h"

namespace sf {

// Existing synapses of a 0/1 connectivity C[post, pre] (n x n, row-major), in flat order post*n + pre.
struct SynapseList {
  std::vector<int64_t> pre, post;
  int64_t size() const { return static_cast<int64_t>(pre.size()); }
};
SynapseList synapses_of(const std::vector<double>& C, int64_t n);

// ACh: A while t_spike + t_delay < t < t_spike + t_max + t_delay (a square pulse after each spike),
// per presynaptic neuron. `t` is the stage time in the state's dtype.
Value ach_transmitter(Value t, Value t_spike, Value A, Value t_max, Value t_delay);

// GABA-A: 1 / (1 + exp(-(V - V0) / sigma)), a graded function of the presynaptic voltage.
Value gaba_transmitter(Value V, Value V0, Value sigma);

// do/dt = alpha (1 - o) T - beta o, with T already gathered per synapse.
Value synapse_rate(Value o, Value T, Value alpha, Value beta);

// Current into each of the n neurons: (sum of o over its synapses) * (V - E) * g, multiplied in the
// tutorial's order (o * (V - E)) * g.
Value synaptic_current(Value o, Value post, int64_t n, Value V, Value E, Value g);

}  // namespace sf
