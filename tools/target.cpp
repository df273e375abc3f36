// MODEL or FILE.sfg -> a simulation graph, with the options that shape it.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/ranges.h>

#include "graph/error.h"
#include "graph/text.h"
#include "tools/cli.h"

namespace sf::cli {

void add_target_options(CLI::App& cmd, TargetOptions& o) {
  cmd.add_option("target", o.target, "A built-in model (see `scanflow models`) or a graph file FILE.sfg")
      ->required()
      ->type_name("MODEL|FILE.sfg");
  o.o_t_end = cmd.add_option("--t-end", o.t_end, "Simulated time (model units, usually ms)");
  o.o_dt = cmd.add_option("--dt", o.dt, "Time step");
  o.o_dtype = cmd.add_option("--dtype", o.dtype, "Floating-point type (default f64)")->type_name("f32|f64");
  o.o_integrator = cmd.add_option("--integrator", o.integrator, "Integrator (default: the model's)")->type_name("euler|rk4");
  o.o_seed = cmd.add_option("--seed", o.seed, "Random seed (connectivity, jitter)");
  o.o_size = cmd.add_option("--size", o.size, "Population size, for models that have one");
  o.o_record = cmd.add_option("--record", o.record, "State variables to record (default all)")
                   ->type_name("VAR,...")
                   ->delimiter(',')
                   ->allow_extra_args(false);
  o.o_every = cmd.add_option("--every", o.every, "Record every K-th step (row r = the state after r*K steps)");
}

bool is_graph_file(const std::string& target) {
  std::error_code ec;
  return target.ends_with(".sfg") || std::filesystem::is_regular_file(target, ec);
}

namespace {

DType parse_float_dtype(const std::string& s) {
  DType d;
  if (!parse_dtype(s, &d) || !is_float(d)) fail("--dtype must be f32 or f64, not '{}'", s);
  return d;
}

Integrator parse_integrator(const std::string& s) {
  for (Integrator i : {Integrator::Euler, Integrator::RK4})
    if (s == integrator_name(i)) return i;
  fail("--integrator must be euler or rk4, not '{}'", s);
}

RunConfig run_config(const TargetOptions& o, bool stream) {
  RunConfig c;
  if (*o.o_t_end) {
    if (!std::isfinite(o.t_end) || o.t_end < 0) fail("--t-end must be a finite number >= 0, not {}", o.t_end);
    c.t_end = o.t_end;
  }
  if (*o.o_dt) {
    if (!std::isfinite(o.dt) || o.dt <= 0) fail("--dt must be a finite number > 0, not {}", o.dt);
    c.dt = o.dt;
  }
  c.dtype = parse_float_dtype(o.dtype);
  if (*o.o_integrator) c.integrator = parse_integrator(o.integrator);
  c.seed = o.seed;
  if (*o.o_size) {
    if (o.size < 1) fail("--size must be >= 1, not {}", o.size);
    c.size = o.size;
  }
  if (o.every < 1) fail("--every must be >= 1, not {}", o.every);
  c.every = o.every;
  c.record = o.record;
  c.stream = stream;
  return c;
}

// The variables a file records: the distinct names of its columns ("V[3]" -> "V").
std::set<std::string> recorded_variables(const SimInfo& info) {
  std::set<std::string> r;
  for (const auto& c : info.columns) r.insert(c.substr(0, c.find('[')));
  return r;
}

[[noreturn]] void baked(const std::string& flag, const std::string& path, const std::string& file_value) {
  fail("{} can't be applied to graph file '{}': it is fixed when the graph is exported{}; export the model again "
       "with {}",
       flag, path, file_value.empty() ? "" : fmt::format(" (the file has {})", file_value), flag);
}

// An option given with a graph file must agree with the graph.
void check_file_options(const TargetOptions& o, const Graph& g) {
  bool any = *o.o_t_end || *o.o_dt || *o.o_dtype || *o.o_integrator || *o.o_seed || *o.o_size || *o.o_every ||
             *o.o_record;
  if (!any) return;
  SimInfo info = SimInfo::load(g);
  const std::string& path = o.target;
  if (*o.o_dt && o.dt != info.dt) baked("--dt", path, fmt::format("dt {}", info.dt));
  double dt = *o.o_dt ? o.dt : info.dt;
  if (*o.o_t_end && (!std::isfinite(o.t_end) || o.t_end < 0 || step_count(o.t_end, dt) != info.steps))
    baked("--t-end", path, fmt::format("t_end {}", info.time(info.steps)));
  if (*o.o_every && o.every != info.every) baked("--every", path, fmt::format("every {}", info.every));
  if (*o.o_dtype) {
    DType d = g.type(g.results.at(static_cast<size_t>(info.result_initial))).dtype;
    if (parse_float_dtype(o.dtype) != d) baked("--dtype", path, dtype_name(d));
  }
  if (*o.o_record) {
    std::set<std::string> want(o.record.begin(), o.record.end()), have = recorded_variables(info);
    if (want != have) baked("--record", path, fmt::format("{}", fmt::join(have, ",")));
  }
  // Not recoverable from the graph: the integrator, seed and population size are baked into it.
  if (*o.o_integrator) baked("--integrator", path, "");
  if (*o.o_seed) baked("--seed", path, "");
  if (*o.o_size) baked("--size", path, "");
}

}  // namespace

Target load_target(const TargetOptions& o, bool stream) {
  auto start = std::chrono::steady_clock::now();
  Target t;
  t.label = o.target;
  if (is_graph_file(o.target)) {
    t.graph = load_graph(o.target);
    t.from_file = true;
    check_file_options(o, t.graph);
  } else {
    const ModelInfo& m = find_model(o.target);
    t.graph = m.build(run_config(o, stream));
  }
  t.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return t;
}

}  // namespace sf::cli
