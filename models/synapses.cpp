#include "models/synapses.h"

#include "graph/error.h"

namespace sf {

SynapseList synapses_of(const std::vector<double>& C, int64_t n) {
  if (static_cast<int64_t>(C.size()) != n * n) fail("connectivity has {} entries, want {} x {}", C.size(), n, n);
  SynapseList s;
  for (int64_t post = 0; post < n; ++post)
    for (int64_t pre = 0; pre < n; ++pre) {
      double c = C[static_cast<size_t>(post * n + pre)];
      if (c != 0.0 && c != 1.0) fail("connectivity entry [{}, {}] is {}, want 0 or 1", post, pre, c);
      if (c == 1.0) {
        s.pre.push_back(pre);
        s.post.push_back(post);
      }
    }
  return s;
}

Value ach_transmitter(Value t, Value t_spike, Value A, Value t_max, Value t_delay) {
  Value open = (t > t_spike + t_delay) & (t < t_spike + t_max + t_delay);
  return where(open, A, 0.0);
}

Value gaba_transmitter(Value V, Value V0, Value sigma) { return 1.0 / (1.0 + exp(-(V - V0) / sigma)); }

Value synapse_rate(Value o, Value T, Value alpha, Value beta) { return alpha * (1.0 - o) * T - beta * o; }

Value synaptic_current(Value o, Value post, int64_t n, Value V, Value E, Value g) {
  Value open = scatter_add(o, post, n);  // sum of o over each neuron's incoming synapses
  return open * (V - E) * g;
}

}  // namespace sf
