// The built-in models, one file each; registry.cpp lists them for `scanflow models`.
#pragma once
#include "models/model.h"

namespace sf {

ModelInfo exp_growth_model();     // Day 1: dx/dt = 5x
ModelInfo linear2d_model();       // Day 1-2: dX/dt = [x - y, y - x]
ModelInfo lorenz_model();         // Day 2 exercise
ModelInfo hh_traub_model();       // Day 3: one Traub neuron
ModelInfo hh_fi_model();          // Day 3: 20 neurons, an F-I curve
ModelInfo net3_model();           // Day 4-5: three neurons, ACh and GABA-A
ModelInfo antennal_lobe_model();  // Day 6: locust antennal lobe, 90 PNs + 30 LNs
ModelInfo hh_squid_model();       // Hodgkin & Huxley 1952, a population with graded currents

}  // namespace sf
