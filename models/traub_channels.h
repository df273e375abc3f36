// The Traub-type Hodgkin-Huxley channels of the tutorial's Day 3 (also used on Days 4-5 and by the
// antennal-lobe PNs and LNs), written operation by operation as the tutorial's TensorFlow code so
// float64 runs match it to round-off. psst-models.md section 3.
//
// Rates use the shifted voltage V' = V + 50 and the temperature factor phi = 3^((22 - 36)/10);
// each gate x relaxes to x0 = a/(a + b) with time constant tau = 1/((a + b) * phi).
#pragma once
#include "graph/builder.h"

namespace sf {

// A gate's steady state and time constant at the current voltage.
struct Gate {
  Value x0, tau;
};

Gate traub_m(Value V);  // Na activation
Gate traub_h(Value V);  // Na inactivation
Gate traub_n(Value V);  // K (delayed rectifier) activation

// dx/dt = -(1/tau) * (x - x0), the tutorial's form.
Value relax(Value x, const Gate& g);

// Ionic currents (outward positive), as the tutorial writes them.
Value sodium_current(Value g_Na, Value m, Value h, Value V, Value E_Na);  // g m^3 h (V - E)
Value potassium_current(Value g_K, Value n, Value V, Value E_K);          // g n^4 (V - E)
Value leak_current(Value g_L, Value V, Value E_L);                        // g (V - E)

}  // namespace sf
