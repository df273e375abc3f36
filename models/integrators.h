// One integration step, built as graph nodes inside a scan body. Generic over a list of state
// values (each its own tensor) and a derivative function f(state, t) -> d(state)/dt.
//
// Time is float64 whatever the state's dtype; dt is cast to the state's dtype where it meets it,
// as the tutorial's `dt_cast`. Both steps follow the tutorial's TensorFlow code operation by
// operation (Day 2 and tf_integrator.py), so float64 runs reproduce it to round-off.
#pragma once
#include <functional>
#include <vector>

#include "graph/builder.h"
#include "models/model.h"

namespace sf {

using State = std::vector<Value>;
using Derivative = std::function<State(const State& y, Value t)>;

// y + dt * f(y, t)
State euler_step(const Derivative& f, const State& y, Value t, Value dt);

// Classic RK4 with the tutorial's expression order:
//   k1 = f(y, t)
//   k2 = f(y + dt*k1/2, t + dt/2)
//   k3 = f(y + dt*k2/2, t + dt/2)
//   k4 = f(y + dt*k3,   t + dt)
//   y + add_n([k1, 2*k2, 2*k3, k4]) * (dt/6)     (add_n sums left to right)
State rk4_step(const Derivative& f, const State& y, Value t, Value dt);

State integrate_step(Integrator method, const Derivative& f, const State& y, Value t, Value dt);

}  // namespace sf
