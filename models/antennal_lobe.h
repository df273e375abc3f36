// The tutorial's locust antennal lobe (Day 6 Example, psst-models.md section 7): 90 projection
// neurons (PNs, 0..89) and 30 local interneurons (LNs, 90..119), random ACh (PN -> LN) and GABA-A
// (LN -> PN, LN -> LN) synapses, a ramp "odor" current into 39 random neurons.
#pragma once
#include <cstdint>
#include <vector>

#include "models/model.h"
#include "models/synapses.h"

namespace sf {

inline constexpr int64_t kPNs = 90, kLNs = 30, kALNeurons = kPNs + kLNs;

// What the seed decides, drawn from one Rng(seed) stream in this order:
//   1. ACh connectivity: for post = 90..119, pre = 0..89 (row-major): synapse if uniform() < 0.5
//   2. GABA-A connectivity: for post = 0..119, pre = 90..119 (row-major): synapse if uniform() < 0.5;
//      then LN self-synapses (post == pre) are removed (their draws still happen)
//   3. odor targets: 39 of the 120 neurons, Rng::choose (partial Fisher-Yates)
//   4. initial noise: one normal() per initial state value, in the order of the state variables
//      (V, n, m_Na, h_Na, m_A, h_A, m_Ca, h_Ca, m_KCa, Ca, o_ach, o_gaba, t_spike), applied as
//      x + 0.01 * x * N (the tutorial's 1 %), so values that start at 0 stay 0.
struct ALNetwork {
  SynapseList ach, gaba;              // in flat order post * 120 + pre
  std::vector<int64_t> odor_targets;  // in draw order
  std::vector<double> noise;          // the normals of step 4, in state order
};
ALNetwork draw_antennal_lobe(uint64_t seed);

Graph build_antennal_lobe(const RunConfig& rc);

}  // namespace sf
