// Days 4-5: three Traub neurons X1 -(ACh)-> X2 -(GABA-A)-> X3, X1 driven by a current table
// (psst-models.md section 5). Everything the tutorial's Day 5 run varies is configurable here, so
// the TensorFlow reference trajectories can be rebuilt exactly (tests/reference_test.cpp).
#pragma once
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "graph/tensor.h"
#include "models/model.h"

namespace sf {

struct Net3Config {
  // Connectivity C[post, pre], n x n row-major 0/1; empty = ACh X1->X2 and GABA-A X2->X3 (n = 3).
  std::vector<double> ach_mat, gaba_mat;
  // Injected current [n, columns], read at grid index int(t / dt) of each RK4 stage time t;
  // unset = the tutorial's protocol (X1: 2.5, 5, 7.5 on [100,200), [300,400), [500,600) ms).
  std::optional<Tensor> I_table;
  // Initial state in the tutorial's layout [V(n), m(n), h(n), n(n), o_ach, o_gaba, t_spike(n)];
  // empty = V -71, gates and synapses 0, t_spike -9999999.
  std::vector<double> y0;
  // First grid index: the run covers t = k0*dt .. t_end (the end time, not a duration).
  int64_t k0 = 0;
};

Graph build_net3(const RunConfig& rc, const Net3Config& config = {});

}  // namespace sf
