#include "models/al_channels.h"

#include <cmath>

namespace sf {
namespace {

const double kPhiA = std::pow(3.0, (36.0 - 23.5) / 10.0);
const double kPhiKCa = std::pow(2.3, (26.0 - 23.0) / 10.0);

Value sigmoid_of(Value x) { return 1.0 / (1.0 + exp(x)); }  // 1/(1 + e^x), as written in the tutorial

}  // namespace

Gate a_current_m(Value V) {
  Value m0 = sigmoid_of(-(V + 60.0) / 8.5);
  Value tau = 1.0 / (exp((V + 35.82) / 19.69) + exp(-(V + 79.69) / 12.7) + 0.37) / kPhiA;
  return {m0, tau};
}

Gate a_current_h(Value V) {
  Value h0 = sigmoid_of((V + 78.0) / 6.0);
  Value below = 1.0 / (exp((V + 46.05) / 5.0) + exp(-(V + 238.4) / 37.45)) / kPhiA;
  return {h0, where(V < -63.0, below, like(V, 19.0 / kPhiA))};
}

Gate calcium_m(Value V) { return {sigmoid_of(-(V + 20.0) / 6.5), like(V, 1.5)}; }

Gate calcium_h(Value V) {
  Value h0 = sigmoid_of((V + 25.0) / 12.0);
  Value tau = 0.3 * exp((V - 40.0) / 13.0) + 0.002 * exp((60.0 - V) / 29.0);
  return {h0, tau};
}

Gate kca_m(Value Ca) {
  Value alpha = 0.01 * Ca;
  Value beta = like(Ca, 0.02);
  return {alpha / (alpha + beta), 1.0 / ((alpha + beta) * kPhiKCa)};
}

Value a_current(Value g_A, Value m, Value h, Value V, Value E_A) { return g_A * pow(m, 4.0) * h * (V - E_A); }

Value calcium_current(Value g_Ca, Value m, Value h, Value V, Value E_Ca) { return g_Ca * pow(m, 2.0) * h * (V - E_Ca); }

Value kca_current(Value g_KCa, Value m, Value phi_I, Value V, Value E_KCa) { return g_KCa * m * phi_I * (V - E_KCa); }

}  // namespace sf
