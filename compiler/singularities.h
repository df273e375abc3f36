// Removable singularities of gating rates. Rates such as
//
//   alpha_m = 0.1 (V+40) / (1 - exp(-(V+40)/10))          (hh-squid)
//   alpha_m = 0.32 (13-V') / (exp((13-V')/4) - 1)           (Traub)
//
// are 0/0 at one voltage (V = -40, V' = 13), where the interpreter gives NaN. The pass finds every
// quotient  x / (exp(w) - 1)  or  x / (1 - exp(w))  (also written exp(w) + -1) whose exponent is
// w = +-x/k or +-x*c (c = 1/k) with a constant k, the numerator being x or a product a*x, and
// rewrites it to the closed form that is finite everywhere:
//
//   a * (s * where(w == 0, 1, w / expm1(w)))        s = +-k (the sign from the two +-)
//
// since x / (exp(w) - 1) = (x/w) * w/expm1(w) and x/w = +-k. At w = 0 the value is a*s, the
// analytic limit (0.1*10 = 1 for the alpha_m above), bit for bit the double product a*s. Elsewhere
// it differs from the original by rounding only, and is the more accurate of the two: exp(w) - 1
// cancels catastrophically near w = 0 (the original's error grows like 1e-16/|w|), expm1 does not.
// Measured on the models' five rates over V in [-100, 100] mV plus points 1e-15..0.1 mV and
// 1..50 ulps from each singular point (tests/passes_test.cpp):
//   |w| >= 0.1 (0.4 to 1 mV from the singular V): within 1.2e-15 relative of the original (the
//     test asserts 2e-15);
//   |w| <  0.1: within 4.1 ulp of a long-double evaluation of the same rate (asserted: 8), while
//     the original is off by up to 18 ulp at |w| = 0.05, 2e3 ulp at 1e-4 and 100% next to the
//     singular point, so there "within 2e-15 of the original" is not the right yardstick.
//
// On by default (CompileOptions::rewrite_singularities); it is the one default pass that changes
// values on purpose.
#pragma once
#include "compiler/pass.h"

namespace sf {

class SingularitiesPass : public Pass {
 public:
  const char* name() const override { return "singularities"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

}  // namespace sf
