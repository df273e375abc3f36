#include "models/integrators.h"

#include "graph/error.h"

namespace sf {
namespace {

// f(y, t), checking that it returns one derivative per state value with the same type.
State eval(const Derivative& f, const State& y, Value t) {
  State d = f(y, t);
  if (d.size() != y.size()) internal_error("derivative returned {} values for {} state values", d.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i)
    if (d[i].type() != y[i].type())
      internal_error("derivative {} is {} but its state is {}", i, type_str(d[i].type()), type_str(y[i].type()));
  return d;
}

Value dt_as(Value dt, Value like_this) { return cast(dt, like_this.dtype()); }

}  // namespace

State euler_step(const Derivative& f, const State& y, Value t, Value dt) {
  State k = eval(f, y, t);
  State out;
  for (size_t i = 0; i < y.size(); ++i) out.push_back(y[i] + dt_as(dt, y[i]) * k[i]);
  return out;
}

State rk4_step(const Derivative& f, const State& y, Value t, Value dt) {
  // y + dt*k*scale, written as the tutorial does: y + dt_cast * k / 2 and y + dt_cast * k.
  auto shifted = [&](const State& k, bool half) {
    State s;
    for (size_t i = 0; i < y.size(); ++i) {
      Value dk = dt_as(dt, y[i]) * k[i];
      s.push_back(y[i] + (half ? dk / 2.0 : dk));
    }
    return s;
  };
  Value half_step = t + dt / 2.0;
  State k1 = eval(f, y, t);
  State k2 = eval(f, shifted(k1, true), half_step);
  State k3 = eval(f, shifted(k2, true), half_step);
  State k4 = eval(f, shifted(k3, false), t + dt);
  State out;
  for (size_t i = 0; i < y.size(); ++i) {
    Value sum = k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i];
    out.push_back(y[i] + sum * (dt_as(dt, y[i]) / 6.0));
  }
  return out;
}

State integrate_step(Integrator method, const Derivative& f, const State& y, Value t, Value dt) {
  return method == Integrator::Euler ? euler_step(f, y, t, dt) : rk4_step(f, y, t, dt);
}

}  // namespace sf
