// The antennal-lobe channels beyond Day 3's Na and K (psst-models.md section 7), written as the
// tutorial's Example notebook computes them.
#pragma once
#include "models/traub_channels.h"

namespace sf {

// PNs: transient K (A) current, phi_A = 3^((36 - 23.5)/10), V unshifted.
Gate a_current_m(Value V);
Gate a_current_h(Value V);  // tau: the exponential form below -63 mV, 19/phi_A above

// LNs: calcium current (tau_m = 1.5 ms) and the calcium-dependent K current's gate,
// alpha = 0.01 [Ca], beta = 0.02, phi_KCa = 2.3^((26 - 23)/10).
Gate calcium_m(Value V);
Gate calcium_h(Value V);
Gate kca_m(Value Ca);

Value a_current(Value g_A, Value m, Value h, Value V, Value E_A);            // g m^4 h (V - E)
Value calcium_current(Value g_Ca, Value m, Value h, Value V, Value E_Ca);    // g m^2 h (V - E)
Value kca_current(Value g_KCa, Value m, Value phi_I, Value V, Value E_KCa);  // g m phi_I (V - E)

}  // namespace sf
