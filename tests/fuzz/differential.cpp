#include "tests/fuzz/differential.h"

#include <fmt/format.h>

#include <cmath>
#include <exception>
#include <optional>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "compiler/pipeline.h"
#include "compiler/program_executor.h"
#include "graph/error.h"
#include "graph/text.h"
#include "graph/verify.h"

namespace sf::fuzz {
namespace {

// What a run sends to its sink, in order. Scan ids and output numbers are left out: compilation
// renumbers them (DCE drops unused outputs), and a random graph has at most one streaming output.
// Progress calls are left out too.
struct Log : RecordSink {
  struct Call {
    bool is_rows;
    int64_t first_row;
    Tensor chunk;
    std::vector<Event> events;
  };
  std::vector<Call> calls;
  void rows(NodeId, int64_t, const Tensor& chunk, int64_t first_row) override {
    calls.push_back({true, first_row, chunk, {}});
  }
  void events(NodeId, int64_t, const std::vector<Event>& ev) override { calls.push_back({false, 0, {}, ev}); }
};

struct Run {
  std::vector<Tensor> results;
  Log log;
  std::optional<std::string> error;  // a run-time sf::Error
};

template <class F>
Run run_with(F&& f, int64_t chunk_rows) {
  Run r;
  RunOptions o;
  o.sink = &r.log;
  o.chunk_rows = chunk_rows;
  try {
    r.results = f(o);
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

std::string index_str(const Shape& s, int64_t flat) {
  std::vector<int64_t> idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = s[d] == 0 ? 0 : flat % s[d];
    flat = s[d] == 0 ? 0 : flat / s[d];
  }
  return shape_str(idx);
}

template <class T>
std::string value_str(T v) {
  if constexpr (std::is_floating_point_v<T>) return fmt::format("{}", v);
  return fmt::format("{}", static_cast<int64_t>(v));
}

// Whether any node of g or of its scan bodies has an f32 value.
bool computes_in_f32(const Graph& g) {
  for (const Node& n : g.nodes)
    if (n.type.dtype == DType::f32 || (n.body && computes_in_f32(*n.body))) return true;
  return false;
}

// "" when `a` (compiled) and `b` (oracle) agree; f32_math: see compare_tensors.
std::string compare_runs(const Run& a, const Run& b, bool f32_math = false) {
  if (a.error || b.error) {
    if (a.error && b.error) return "";  // both stop with a run-time error (messages name different nodes)
    return fmt::format("run-time error only in the {}: {}", a.error ? "compiled run" : "interpreter",
                       a.error ? *a.error : *b.error);
  }
  if (a.results.size() != b.results.size())
    return fmt::format("{} results vs {}", a.results.size(), b.results.size());
  for (size_t i = 0; i < a.results.size(); ++i)
    if (std::string m = compare_tensors(a.results[i], b.results[i], f32_math); !m.empty())
      return fmt::format("result {} ({}): {}", i, type_str(b.results[i].type()), m);
  if (a.log.calls.size() != b.log.calls.size())
    return fmt::format("{} sink calls vs {}", a.log.calls.size(), b.log.calls.size());
  for (size_t i = 0; i < a.log.calls.size(); ++i) {
    const Log::Call &x = a.log.calls[i], &y = b.log.calls[i];
    if (x.is_rows != y.is_rows || x.first_row != y.first_row)
      return fmt::format("sink call {}: {} from row {} vs {} from row {}", i, x.is_rows ? "rows" : "events",
                         x.first_row, y.is_rows ? "rows" : "events", y.first_row);
    if (x.is_rows) {
      if (std::string m = compare_tensors(x.chunk, y.chunk, f32_math); !m.empty())
        return fmt::format("sink call {} (rows from row {}): {}", i, x.first_row, m);
    } else {
      bool same = x.events.size() == y.events.size();
      for (size_t k = 0; same && k < x.events.size(); ++k)
        same = x.events[k].index == y.events[k].index && x.events[k].step == y.events[k].step;
      if (!same) return fmt::format("sink call {}: the events differ", i);
    }
  }
  return "";
}

std::string round_trip(const Graph& g, const char* what) {
  std::string t1 = print_graph(g);
  std::string t2 = print_graph(parse_graph(t1, what));
  if (t1 != t2) return fmt::format("the {} does not round-trip through .sfg text", what);
  return "";
}

// The pass (or lowering) at which compiling `g` throws, and the graph it was given.
std::string failing_stage(const Graph& g, const CompileOptions& opts) {
  Graph s = g;
  std::string last = "input";
  for (auto& pass : default_passes(opts)) {
    try {
      Graph next = pass->run(s, opts);
      verify(next);
      s = std::move(next);
      last = pass->name();
    } catch (const std::exception& e) {
      return fmt::format("pass '{}': {}\n--- graph given to '{}' (after '{}') ---\n{}", pass->name(), e.what(),
                         pass->name(), last, print_graph(s));
    }
  }
  return "lowering (every pass ran)";
}

}  // namespace

CompileOptions fuzz_compile_options() {
  CompileOptions o;
  o.rewrite_singularities = false;
  o.fast_math = false;
  return o;
}

std::string compare_tensors(const Tensor& got, const Tensor& want, bool f32_math) {
  if (got.type() != want.type()) return fmt::format("type {} vs {}", type_str(got.type()), type_str(want.type()));
  return visit_dtype(want.dtype(), [&](auto zero) -> std::string {
    using T = decltype(zero);
    const T *a = got.data<T>(), *b = want.data<T>();
    for (int64_t i = 0; i < want.size(); ++i) {
      bool ok;
      if constexpr (std::is_floating_point_v<T>) {
        const bool f64 = std::is_same_v<T, double> && !f32_math;
        const double rtol = f64 ? 1e-12 : 1e-5, atol = f64 ? 1e-300 : 1e-30;
        double x = a[i], y = b[i];
        if (std::isnan(y) || std::isnan(x))
          ok = std::isnan(x) && std::isnan(y);
        else if (std::isinf(y) || std::isinf(x))
          ok = x == y;
        else
          ok = std::fabs(x - y) <= atol + rtol * std::fabs(y);
      } else {
        ok = a[i] == b[i];
      }
      if (!ok)
        return fmt::format("element {} {}: {} vs {} (compiled vs interpreter)", i, index_str(want.shape(), i),
                           value_str(a[i]), value_str(b[i]));
    }
    return "";
  });
}

std::string check_case(const FuzzCase& c, const std::function<void(KernelProgram&)>& tamper, const ProgramRunner& run) {
  const Graph& g = c.graph;
  const CompileOptions opts = fuzz_compile_options();
  const int64_t chunk_rows = c.seed % 3 == 0 ? 1 : c.seed % 3 == 1 ? 2 : 256;
  auto report = [&](const std::string& what, const std::string& stage) {
    std::string s = fmt::format("fuzz seed {}: {}\n", c.seed, what);
    if (!stage.empty()) s += stage + "\n";
    return s + "--- graph (.sfg) ---\n" + print_graph(g);
  };
  std::string where = "round trip";
  try {
    if (std::string m = round_trip(g, "generated graph"); !m.empty()) return report(m, "");
    where = "interpreter";
    Run want = run_with([&](const RunOptions& o) { return interpret(g, c.inputs, o); }, chunk_rows);
    where = "compile_graph";
    CompileResult cr;
    try {
      cr = compile_graph(g, opts);
    } catch (const std::exception& e) {
      return report(fmt::format("compile_graph failed: {}", e.what()), "fails in: " + failing_stage(g, opts));
    }
    if (std::string m = round_trip(cr.graph, "compiled graph"); !m.empty()) return report(m, "");
    if (tamper) tamper(cr.program);
    where = "executor";
    Run got = run_with([&](const RunOptions& o) { return run ? run(cr.program, c.inputs, o) : execute(cr.program, c.inputs, o); },
                       chunk_rows);
    // A backend computes f32 exp, log, ... with its own functions (a last bit apart from libm's);
    // through a cast, such a difference reaches f64 results at f32's size.
    std::string m = compare_runs(got, want, run && computes_in_f32(g));
    if (m.empty()) return "";
    // Find the first stage that differs: interpret the graph after each pass.
    where = "bisection";
    std::string stage = "lowering or the KernelProgram executor (the compiled graph interprets correctly)";
    Graph s = g;
    for (auto& pass : default_passes(opts)) {
      s = pass->run(s, opts);
      Run r = run_with([&](const RunOptions& o) { return interpret(s, c.inputs, o); }, chunk_rows);
      if (std::string d = compare_runs(r, want); !d.empty()) {
        stage = fmt::format("after pass '{}' ({})\n--- graph after '{}' ---\n{}", pass->name(), d, pass->name(),
                            print_graph(s));
        break;
      }
    }
    return report(m, "first differs: " + stage);
  } catch (const std::exception& e) {
    return report(fmt::format("exception in {}: {}", where, e.what()), "");
  }
}

}  // namespace sf::fuzz
