#include "models/simulate.h"

#include <algorithm>

#include "graph/error.h"
#include "models/integrators.h"

namespace sf {

// ---- Vars ------------------------------------------------------------------------------------

Vars::Vars(std::vector<std::string> names, std::vector<Value> values)
    : names_(std::move(names)), values_(std::move(values)) {
  if (names_.size() != values_.size()) internal_error("Vars: {} names for {} values", names_.size(), values_.size());
}

void Vars::set(const std::string& name, Value v) {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it != names_.end()) {
    values_[static_cast<size_t>(it - names_.begin())] = v;
  } else {
    names_.push_back(name);
    values_.push_back(v);
  }
}

Value Vars::operator[](const std::string& name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) internal_error("no state variable '{}'", name);
  return values_[static_cast<size_t>(it - names_.begin())];
}

bool Vars::has(const std::string& name) const { return std::find(names_.begin(), names_.end(), name) != names_.end(); }

// ---- the plan --------------------------------------------------------------------------------

RunPlan make_plan(const RunConfig& rc, double t_end, double dt, Integrator integrator, int64_t k0) {
  RunPlan p;
  p.dt = rc.dt.value_or(dt);
  p.k0 = k0;
  p.steps = step_count(rc.t_end.value_or(t_end), p.dt) - k0;
  if (p.steps < 0)
    fail("t_end {} is before the start time {}", rc.t_end.value_or(t_end), static_cast<double>(k0) * p.dt);
  p.integrator = rc.integrator.value_or(integrator);
  if (!is_float(rc.dtype)) fail("a simulation runs in f32 or f64, not {}", dtype_name(rc.dtype));
  p.dtype = rc.dtype;
  if (rc.every < 1) fail("every = {} must be at least 1", rc.every);
  p.every = rc.every;
  p.record = rc.record;
  p.stream = rc.stream;
  return p;
}

int64_t population_size(const RunConfig& rc, int64_t default_size) {
  int64_t n = rc.size.value_or(default_size);
  if (n < 1) fail("size = {} must be at least 1", n);
  return n;
}

void reject_size(const RunConfig& rc, const std::string& model) {
  if (rc.size) fail("model '{}' has a fixed size; --size does not apply", model);
}

// ---- the scan --------------------------------------------------------------------------------

namespace {

// Which variables a row holds, in order, checked against what the model has.
std::vector<std::string> recorded_names(const std::vector<std::string>& wanted, const std::vector<std::string>& valid) {
  if (wanted.empty()) return valid;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (std::find(valid.begin(), valid.end(), wanted[i]) == valid.end())
      fail("unknown variable '{}' to record; valid names: {}", wanted[i], fmt::join(valid, ", "));
    if (std::find(wanted.begin(), wanted.begin() + static_cast<long>(i), wanted[i]) !=
        wanted.begin() + static_cast<long>(i))
      fail("variable '{}' is recorded twice", wanted[i]);
  }
  return wanted;
}

// One row: the recorded variables, cast to the run's dtype, end to end.
Value make_row(const Vars& values, const std::vector<std::string>& recorded, DType dtype) {
  std::vector<Value> parts;
  for (auto& name : recorded) parts.push_back(cast(values[name], dtype));
  return concat(parts);
}

// t_spike' = t_k where the neuron fired. float64 runs use the tutorial's arithmetic,
// t_spike + where(fired, t_k - t_spike, 0), whose rounding the reference data carry (109.35999999940395
// for a spike at 109.36 after -9999999). In float32 that sum would round the first spike time to
// whole milliseconds (the ulp of 1e7 is 1) and lose the 0.3 ms ACh pulse, so float32 selects t_k.
Value spike_time(Value fired, Value t, Value t_spike) {
  Value t_here = cast(t, t_spike.dtype());
  if (t_spike.dtype() == DType::f64) return t_spike + where(fired, t_here - t_spike, 0.0);
  return where(fired, t_here, t_spike);
}

// The derivatives in the order of `names`, whatever order the model set them in.
State in_order(const Vars& d, const std::vector<std::string>& names) {
  if (d.names().size() != names.size())
    internal_error("the derivative sets {} variables, the state has {}", d.names().size(), names.size());
  State out;
  for (auto& n : names) out.push_back(d[n]);
  return out;
}

// Column names "VAR[i]" of the recorded variables.
std::vector<std::string> column_names(const Vars& state, const std::vector<std::string>& recorded) {
  std::vector<std::string> columns;
  for (auto& name : recorded)
    for (int64_t i = 0; i < state[name].shape()[0]; ++i) columns.push_back(fmt::format("{}[{}]", name, i));
  return columns;
}

// One step of the scan body: carries (k, state..., [t_spike, count]) -> new carries and outputs.
ScanStep sim_step(const Simulation& sim, const RunPlan& plan, const std::vector<std::string>& recorded,
                  const std::vector<Value>& c) {
  const std::vector<std::string>& names = sim.init.names();
  const size_t nv = names.size();
  const bool spiking = !sim.voltage.empty();
  Value k = c[0];
  State y(c.begin() + 1, c.begin() + 1 + static_cast<long>(nv));
  Value t_spike = spiking ? c[1 + nv] : Value();
  // The grid: t_k = k * dt in float64 (np.arange's values), and the tutorial's dt_k = t_{k+1} - t_k.
  Value t = cast(k, DType::f64) * plan.dt;
  Value dt_k = cast(k + 1.0, DType::f64) * plan.dt - t;
  Derivative f = [&](const State& s, Value stage_t) {
    return in_order(sim.derivative(Vars(names, s), stage_t, t_spike), names);
  };
  State y1 = integrate_step(plan.integrator, f, y, t, dt_k);

  ScanStep step;
  step.carry.push_back(k + 1.0);
  step.carry.insert(step.carry.end(), y1.begin(), y1.end());
  Vars after(names, y1);
  Value fired;
  if (spiking) {
    Value v0 = Vars(names, y)[sim.voltage], v1 = after[sim.voltage];
    fired = (v0 < 0.0) & (v1 >= 0.0);
    Value t_spike1 = spike_time(fired, t, t_spike);
    step.carry.push_back(t_spike1);
    step.carry.push_back(c[2 + nv] + cast(fired, DType::i64));
    after.set("t_spike", t_spike1);
  }
  step.ys.push_back(make_row(after, recorded, plan.dtype));
  if (spiking) step.ys.push_back(fired);
  return step;
}

void check_model(const Simulation& sim, DType dtype) {
  for (size_t i = 0; i < sim.init.names().size(); ++i) {
    Value v = sim.init.values()[i];
    if (v.rank() != 1 || v.dtype() != dtype)
      internal_error("state '{}' starts as {}, want a {} vector", sim.init.names()[i], type_str(v.type()),
                     dtype_name(dtype));
  }
  if (!sim.voltage.empty() && (!sim.init.has(sim.voltage) || !sim.t_spike0.valid()))
    internal_error("spiking model without voltage '{}' or t_spike0", sim.voltage);
}

}  // namespace

Graph simulate(Builder& b, const Simulation& sim, const RunPlan& plan) {
  check_model(sim, plan.dtype);
  const std::vector<std::string>& names = sim.init.names();
  const bool spiking = !sim.voltage.empty();
  Vars init_all = sim.init;  // the recordable variables' initial values
  if (spiking) init_all.set("t_spike", sim.t_spike0);
  std::vector<std::string> recorded = recorded_names(plan.record, init_all.names());

  std::vector<Value> carry0{b.scalar(static_cast<double>(plan.k0), DType::i64)};
  carry0.insert(carry0.end(), sim.init.values().begin(), sim.init.values().end());
  if (spiking) {
    carry0.push_back(sim.t_spike0);
    carry0.push_back(b.fill(0, DType::i64, sim.t_spike0.shape()));
  }
  ScanOptions options;
  options.every = plan.every;
  options.record = {plan.stream ? RecordMode::Sink : RecordMode::Stack};
  if (spiking) options.record.push_back(RecordMode::Events);
  ScanResult r = b.scan(
      plan.steps, carry0, {},
      [&](Builder&, const std::vector<Value>& c, const std::vector<Value>&) {
        return sim_step(sim, plan, recorded, c);
      },
      options);

  SimInfo info;
  info.dt = plan.dt;
  info.k0 = plan.k0;
  info.steps = plan.steps;
  info.every = plan.every;
  info.columns = column_names(init_all, recorded);
  info.groups = sim.groups;
  info.y_rows = 0;
  info.y_spikes = spiking ? 1 : -1;
  info.result_initial = 0;
  info.result_rows = 1;
  std::vector<Value> results{make_row(init_all, recorded, plan.dtype), r.ys[0]};
  std::vector<std::string> finals = names;
  if (spiking) finals.insert(finals.end(), {"t_spike", "spike_count"});
  for (size_t i = 0; i < finals.size(); ++i) {  // carries after k: the state, then t_spike and the count
    info.final_state.push_back({finals[i], static_cast<int64_t>(results.size())});
    results.push_back(r.carry[1 + i]);
  }
  Graph g = b.build(results);
  info.scan = g.node(r.carry[0].id()).operands[0];  // carry 0 is a `get` of the scan
  info.store(g);
  return g;
}

}  // namespace sf
