#include "models/traub_channels.h"

#include <cmath>

namespace sf {
namespace {

// phi = 3^((T - 36)/10) at T = 22 C: slows the gates, leaves their steady states alone.
const double kPhi = std::pow(3.0, (22.0 - 36.0) / 10.0);

Value shifted(Value V) { return V + 50.0; }  // V' = V - (-50)

Gate gate(Value alpha, Value beta) { return {alpha / (alpha + beta), 1.0 / ((alpha + beta) * kPhi)}; }

}  // namespace

Gate traub_m(Value V) {
  Value v = shifted(V);
  Value alpha = 0.32 * (13.0 - v) / (exp((13.0 - v) / 4.0) - 1.0);
  Value beta = 0.28 * (v - 40.0) / (exp((v - 40.0) / 5.0) - 1.0);
  return gate(alpha, beta);
}

Gate traub_h(Value V) {
  Value v = shifted(V);
  Value alpha = 0.128 * exp((17.0 - v) / 18.0);
  Value beta = 4.0 / (exp((40.0 - v) / 5.0) + 1.0);
  return gate(alpha, beta);
}

Gate traub_n(Value V) {
  Value v = shifted(V);
  Value alpha = 0.02 * (15.0 - v) / (exp((15.0 - v) / 5.0) - 1.0);
  Value beta = 0.5 * exp((10.0 - v) / 40.0);
  return gate(alpha, beta);
}

Value relax(Value x, const Gate& g) { return -(1.0 / g.tau) * (x - g.x0); }

Value sodium_current(Value g_Na, Value m, Value h, Value V, Value E_Na) { return g_Na * pow(m, 3.0) * h * (V - E_Na); }

Value potassium_current(Value g_K, Value n, Value V, Value E_K) { return g_K * pow(n, 4.0) * (V - E_K); }

Value leak_current(Value g_L, Value V, Value E_L) { return g_L * (V - E_L); }

}  // namespace sf
