// Day 3: independent Traub neurons (psst-models.md sections 3 and 4), each driven by its own
// constant current: C_m dV/dt = I_inj - I_Na - I_K - I_L.
#pragma once
#include <string>
#include <vector>

#include "models/simulate.h"

namespace sf {

// One neuron per entry of I_inj. Inputs: C_m, g_Na, g_K, g_L, E_Na, E_K, E_L (scalars), I_inj [n],
// V0 [n] = -71, m0 = h0 = n0 = [n] zeros. State: V, m, h, n, t_spike.
Graph build_traub_neurons(const std::string& name, const RunPlan& plan, const std::vector<double>& I_inj);

// The text shared by hh-traub's and hh-fi's descriptions.
extern const char* const kTraubDescription;

}  // namespace sf
