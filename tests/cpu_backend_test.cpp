// The CPU backend (backends/cpu) against the interpreter and the reference executor: every model,
// the Day 5 TensorFlow trajectories, random graphs, recording and sink call sequences, run-time
// errors, threads 1 and 2, and flush-to-zero.
//
// Tolerances (|a - b| <= atol + rtol*|b|, b the oracle's value):
//   random graphs: f64 rtol 1e-12 / atol 1e-300, f32 rtol 1e-5 / atol 1e-30 (tests/fuzz/differential.h);
//     the backend computes what the executor computes in the same order, except that vectorised exp,
//     log, sin, ... come from libmvec or inline code (a few ulp, see cpu_vecmath_test.cpp) and
//     subnormals flush to 0; f64 results of graphs that compute in f32 anywhere get f32's tolerance;
//   models: V within 1e-7 mV, identical spike counts, spike times within one step (HH models);
//     antennal-lobe within 1e-6 mV over 100 ms; exp-growth, linear2d, lorenz within rtol 1e-12 (f64);
//   the Day 5 TensorFlow trajectories within 1e-8.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <functional>
#include <limits>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "compiler/pipeline.h"
#include "graph/builder.h"
#include "graph/error.h"
#include "models/model.h"
#include "program_run.h"
#include "sample_graphs.h"
#include "shell.h"
#include "tests/fuzz/differential.h"
#include "tf_reference.h"

using namespace sf;

namespace {

constexpr DType f64 = DType::f64, i32 = DType::i32, i64 = DType::i64;

Tensor T(DType d, Shape s, std::vector<double> v) { return Tensor::from(d, std::move(s), v); }

// inline_exp: every interchanged scan computes exp inline (backends/cpu/inline_exp.h), not only
// large ones.
std::vector<Tensor> run_cpu(const KernelProgram& p, int threads, const std::map<std::string, Tensor>& in = {},
                            const RunOptions& o = {}, bool strict_fp = false, const std::string& strategy = "",
                            bool inline_exp = false) {
  BackendOptions bo;
  bo.threads = threads;
  bo.strict_fp = strict_fp;
  bo.scan_strategy = strategy;
  cpu::Tuning t;
  if (inline_exp) t.inline_exp_work = 0;
  return cpu::make_tuned_executable(p, bo, t)->run(in, o);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// "" when every element of every tensor agrees within the tolerance of its dtype.
std::string compare_all(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  if (got.size() != want.size()) return "result count";
  for (size_t i = 0; i < got.size(); ++i)
    if (std::string m = fuzz::compare_tensors(got[i], want[i]); !m.empty()) return "result " + std::to_string(i) + ": " + m;
  return "";
}

// Largest absolute difference between two tensors of the same type (NaN matching NaN).
double max_abs_diff(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t k = 0; k < a.size(); ++k) {
    double x = a.get(k), y = b.get(k);
    if (std::isnan(x) || std::isnan(y)) worst = std::isnan(x) && std::isnan(y) ? worst : INFINITY;
    else worst = std::max(worst, std::abs(x - y));
  }
  return worst;
}

// "" when got matches want: within the dtype's tolerance, or within `atol` when it is given (models).
std::string compare_values(const Tensor& got, const Tensor& want, double atol) {
  if (atol <= 0) return fuzz::compare_tensors(got, want);
  if (got.type() != want.type()) return "type " + type_str(got.type()) + " vs " + type_str(want.type());
  double d = max_abs_diff(got, want);
  return d <= atol ? "" : "max abs difference " + std::to_string(d);
}

// The same sink calls (kinds, outputs, rows, events, progress) and rows within the tolerance.
std::string compare_logs(const test::SinkLog& got, const test::SinkLog& want, double atol = 0) {
  if (got.calls != want.calls) {
    for (size_t i = 0; i < std::min(got.calls.size(), want.calls.size()); ++i)
      if (got.calls[i] != want.calls[i]) return "sink call " + std::to_string(i) + ": " + got.calls[i] + " vs " + want.calls[i];
    return "sink call count " + std::to_string(got.calls.size()) + " vs " + std::to_string(want.calls.size());
  }
  for (size_t i = 0; i < got.chunks.size(); ++i)
    if (std::string m = compare_values(got.chunks[i], want.chunks[i], atol); !m.empty())
      return "sink chunk " + std::to_string(i) + ": " + m;
  return "";
}

// Runs `p` on the executor and on the cpu backend with `threads`; "" when they agree.
// `atol` > 0: values within atol (models, where libmvec's few-ulp differences grow over the run).
std::string versus_executor(const KernelProgram& p, int threads, const std::map<std::string, Tensor>& in = {},
                            int64_t chunk_rows = 256, int64_t event_chunk = 4096, const std::string& strategy = "",
                            double atol = 0) {
  test::SinkLog a, b;
  RunOptions oa, ob;
  oa.sink = &a, ob.sink = &b;
  oa.chunk_rows = ob.chunk_rows = chunk_rows;
  oa.event_chunk = ob.event_chunk = event_chunk;
  std::vector<Tensor> ra = execute(p, in, oa);
  std::vector<Tensor> rb = run_cpu(p, threads, in, ob, false, strategy);
  if (ra.size() != rb.size()) return "result count";
  for (size_t i = 0; i < ra.size(); ++i)
    if (std::string m = compare_values(rb[i], ra[i], atol); !m.empty()) return "result " + std::to_string(i) + ": " + m;
  return compare_logs(b, a, atol);
}

}  // namespace

TEST_CASE("cpu: recording modes make the executor's sink calls, threads 1 and 2") {
  Graph g = test::neuron();
  std::map<std::string, Tensor> in = {{"I", T(f64, {2}, {20, 5})}};
  KernelProgram p = lower(g);
  for (int threads : {1, 2})
    for (int64_t chunk : {1, 7, 256})
      for (int64_t ev : {1, 3, 4096}) {
        CAPTURE(threads);
        CAPTURE(chunk);
        CAPTURE(ev);
        CHECK(versus_executor(p, threads, in, chunk, ev) == "");
      }
  // Sink and events modes need a sink, as in the executor.
  std::string no_sink = error_of([&] { run_cpu(p, 1, in); });
  CHECK(no_sink == error_of([&] { execute(p, in); }));
  CHECK(no_sink.find("needs a sink") != std::string::npos);

  // every = K, an unrecorded tail, and a stacked output of a nested scan.
  Graph h = test::strided_nested_scan();
  for (int threads : {1, 2}) CHECK(versus_executor(lower(h), threads, {{"x", T(f64, {3}, {1, -2, 0.5})}}, 2) == "");
}

TEST_CASE("cpu: run-time errors give the executor's messages; bindings are checked") {
  Graph g = test::gather_past_end();
  KernelProgram p = lower(g);
  std::string err = error_of([&] { execute(p); });
  CHECK(err.find("step 3") != std::string::npos);
  for (int threads : {1, 2}) CHECK(error_of([&] { run_cpu(p, threads); }) == err);

  Graph sg = test::scatter_into_two();
  KernelProgram sp = lower(sg);
  std::map<std::string, Tensor> bad = {{"src", T(f64, {3}, {1, 2, 3})}, {"idx", T(i64, {3}, {0, 2, 1})}};
  CHECK(error_of([&] { run_cpu(sp, 2, bad); }) == error_of([&] { execute(sp, bad); }));
  CHECK(error_of([&] { run_cpu(sp, 1, bad); }).find("(scatter_add): index 2 out of range [0, 2) at position 1") !=
        std::string::npos);
  std::map<std::string, Tensor> good = {{"src", T(f64, {3}, {1, 2, 3})}, {"idx", T(i64, {3}, {0, 1, 1})}};
  CHECK(versus_executor(sp, 2, good) == "");

  for (auto in : std::vector<std::map<std::string, Tensor>>{
           {{"src", T(f64, {3}, {1, 2, 3})}},                                       // idx has no value
           {{"src", T(f64, {2}, {1, 2})}, {"idx", T(i64, {3}, {0, 0, 0})}},          // wrong shape
           {{"nope", T(f64, {3}, {1, 2, 3})}, {"idx", T(i64, {3}, {0, 0, 0})}}}) {  // unknown name
    std::string e = error_of([&] { run_cpu(sp, 1, in); });
    CHECK(!e.empty());
    CHECK(e == error_of([&] { execute(sp, in); }));
  }
}

TEST_CASE("cpu: a sink that throws stops the run with its exception") {
  struct Throwing : RecordSink {
    void events(NodeId, int64_t, const std::vector<Event>&) override { throw Error("disk full"); }
  } sink;
  RunOptions o;
  o.sink = &sink;
  o.chunk_rows = 1;
  KernelProgram p = lower(test::neuron());
  CHECK(error_of([&] { run_cpu(p, 2, {{"I", T(f64, {2}, {20, 5})}}, o); }) == "disk full");
}

// Elementwise scans run time-inside-elements in blocks of 128 neurons: the sink, events and
// progress calls are still the executor's, for any chunk sizes, recording interval and threads.
TEST_CASE("cpu: time-inside-elements scans make the executor's sink calls") {
  for (int64_t every : {1, 3}) {
    RunConfig rc;
    rc.t_end = 20;
    rc.size = 300;
    rc.every = every;
    rc.stream = true;
    rc.record = {"V", "m"};
    CompileResult c = compile_graph(find_model("hh-squid").build(rc));
    BackendOptions o;
    std::map<std::string, std::string> stats;
    for (auto& [k, v] : make_executable("cpu", c.program, o)->stats()) stats[k] = v;
    REQUIRE(stats["interchanged_scans"] == "1");
    for (int threads : {1, 2})
      for (int64_t chunk : {1, 7, 256})
        for (int64_t ev : {1, 5, 4096}) {
          CAPTURE(every);
          CAPTURE(threads);
          CAPTURE(chunk);
          CAPTURE(ev);
          CHECK(versus_executor(c.program, threads, {}, chunk, ev, "", 1e-7) == "");  // V within 1e-7 mV
        }
  }
}

// Random graphs: compiled, then run by the cpu backend, against the interpreter. With threads 2,
// every kernel is split over the threads (min_parallel 1) and interchanged scans use blocks of 8
// elements and inline exp, so the barrier placement, the blocked scans and inline_exp.h meet the
// small random programs too.
TEST_CASE("cpu: compiled random graphs agree with the interpreter, threads 1 and 2") {
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kGraphs = 150;
#else
  constexpr uint64_t kGraphs = 400;
#endif
  for (int threads : {1, 2}) {
    int failures = 0;
    auto runner = [&](const KernelProgram& p, const std::map<std::string, Tensor>& in, const RunOptions& o) {
      BackendOptions bo;
      bo.threads = threads;
      cpu::Tuning t;
      if (threads > 1) t.min_parallel = 1, t.block = 8, t.inline_exp_work = 0;
      return cpu::make_tuned_executable(p, bo, t)->run(in, o);
    };
    for (uint64_t seed = 0; seed < kGraphs && failures < 5; ++seed) {
      std::string report = fuzz::check_case(fuzz::generate(seed), {}, runner);
      CHECK_MESSAGE(report.empty(), "threads ", threads, ": ", report);
      failures += !report.empty();
    }
  }
}

// Every built-in model, compiled, on the cpu backend against the interpreter on the model's graph.
TEST_CASE("cpu: every model runs as the interpreter runs it, threads 1 and 2") {
  for (const ModelInfo& m : models()) {
    RunConfig rc;
    rc.t_end = m.name == "antennal-lobe" ? 100.0 : m.name == "net3" || m.name == "hh-traub" ? 60.0 : 10.0;
    if (m.name == "hh-squid") rc.size = 700;
    rc.stream = true;
    Graph g = m.build(rc);
    SimInfo info = SimInfo::load(g);
    CompileResult c = compile_graph(g);
    test::SinkLog want;
    RunOptions ow;
    ow.sink = &want;
    std::vector<Tensor> rw = interpret(g, {}, ow);
    bool neurons = info.y_spikes >= 0;
    struct Config {
      int threads;
      const char* strategy;
      bool inline_exp = false;
    };
    for (Config cfg : {Config{1, ""}, Config{2, ""}, Config{2, "steps"}, Config{2, "", true}}) {
      int threads = cfg.threads;
      CAPTURE(m.name);
      CAPTURE(threads);
      CAPTURE(std::string(cfg.strategy));
      CAPTURE(cfg.inline_exp);
      test::SinkLog got;
      RunOptions og;
      og.sink = &got;
      std::vector<Tensor> rg = run_cpu(c.program, threads, {}, og, false, cfg.strategy, cfg.inline_exp);
      REQUIRE(rg.size() == rw.size());
      // Largest absolute and relative differences over results and streamed rows.
      double worst = 0, worst_rel = 0;
      auto diff = [&](const Tensor& x, const Tensor& y) {
        REQUIRE(x.type() == y.type());
        for (int64_t k = 0; k < x.size(); ++k) {
          double d = std::abs(x.get(k) - y.get(k));
          if (std::isnan(x.get(k)) != std::isnan(y.get(k))) d = INFINITY;
          if (std::isnan(d)) d = 0;
          worst = std::max(worst, d);
          worst_rel = std::max(worst_rel, d / std::max(std::abs(y.get(k)), 1e-300));
        }
      };
      for (size_t i = 0; i < rw.size(); ++i) diff(rg[i], rw[i]);
      REQUIRE(got.chunks.size() == want.chunks.size());
      for (size_t i = 0; i < want.chunks.size(); ++i) diff(got.chunks[i], want.chunks[i]);
      MESSAGE(m.name << " threads " << threads << " " << std::string(cfg.strategy) << std::string(cfg.inline_exp ? " inline exp" : "")
                     << ": max abs difference " << worst
                     << ", max rel " << worst_rel);
      if (m.name == "antennal-lobe") CHECK(worst <= 1e-6);
      else if (neurons) CHECK(worst <= 1e-7);
      else CHECK(worst_rel <= 1e-12);
      // Spikes: the same count per neuron, each within one step.
      std::vector<Event> eg, ew;
      auto events = [](const test::SinkLog& l, std::vector<Event>& out) {
        for (const std::string& s : l.calls) {
          if (!s.starts_with("events")) continue;
          size_t at = 0;
          while ((at = s.find('(', at)) != std::string::npos) {
            int64_t i = 0, k = 0;
            std::sscanf(s.c_str() + at, "(%ld,%ld)", &i, &k);
            out.push_back(Event{i, k});
            ++at;
          }
        }
      };
      events(got, eg), events(want, ew);
      REQUIRE(eg.size() == ew.size());
      std::map<int64_t, std::vector<int64_t>> tg, tw;
      for (const Event& e : eg) tg[e.index].push_back(e.step);
      for (const Event& e : ew) tw[e.index].push_back(e.step);
      REQUIRE(tg.size() == tw.size());
      for (auto& [i, steps] : tw) {
        REQUIRE(tg[i].size() == steps.size());
        for (size_t j = 0; j < steps.size(); ++j) CHECK(std::abs(tg[i][j] - steps[j]) <= 1);
      }
    }
  }
}

TEST_CASE("cpu: compiled net3 reproduces the TensorFlow Day 5 trajectories to 1e-8") {
  test::check_tf_reference(
      [](const Graph& g, const RunOptions& o) { return run_cpu(compile_graph(g).program, 2, {}, o); });
}

// A value that is subnormal in f64: flushed to zero by default, kept with strict_fp.
TEST_CASE("cpu: worker threads flush subnormals to zero unless strict_fp") {
  Builder b;
  Value x = b.input("x", f64, {1024});
  Graph g = b.build({x * 1e-300});
  KernelProgram p = lower(g);
  std::map<std::string, Tensor> in = {{"x", Tensor::filled(f64, {1024}, 1e-10)}};
  for (int threads : {1, 2}) {
    double flushed = run_cpu(p, threads, in).at(0).get(1000);
    double kept = run_cpu(p, threads, in, {}, /*strict_fp=*/true).at(0).get(1000);
    CHECK(flushed == 0.0);
    CHECK(kept == doctest::Approx(1e-310).epsilon(1e-6));
    CHECK(std::fpclassify(kept) == FP_SUBNORMAL);
  }
}

TEST_CASE("cpu: stats report jit_ms, threads and ftz") {
  KernelProgram p = lower(test::neuron());
  BackendOptions o;
  o.threads = 2;
  auto exe = make_executable("cpu", p, o);
  std::map<std::string, std::string> s;
  for (auto& [k, v] : exe->stats()) s[k] = v;
  CHECK(s.count("jit_ms") == 1);
  CHECK(s["threads"] == "2");
  CHECK(s["ftz"] == "on");
  // The same program again: from the cache.
  std::map<std::string, std::string> again;
  for (auto& [k, v] : make_executable("cpu", lower(test::neuron()), o)->stats()) again[k] = v;
  CHECK(again["jit_cache"] == "hit");
}

// OpenBLAS starts worker threads that spin when it is loaded; scanflow loads it only when a compiled
// program calls CBLAS (backends/cpu/blas.h), so neither the command line tool nor the tests need it
// at start-up. (The test below runs a matmul through CBLAS.)
TEST_CASE("cpu: BLAS is loaded when a program needs it, not linked") {
  for (std::string bin : {std::string(SF_SCANFLOW_BIN), "/proc/" + std::to_string(getpid()) + "/exe"}) {
    test::ShellRun needed = test::shell("readelf -d " + bin);
    REQUIRE(needed.code == 0);
    CHECK_MESSAGE(needed.out.find("blas") == std::string::npos, bin, " needs ", needed.out);
  }
}

// Small matmuls are generated loops in the interpreter's order (bit for bit); from 64^3 multiply-adds
// on they call CBLAS, whose summation order differs (f64 within rtol 1e-12 for these positive data).
TEST_CASE("cpu: matmul, small as loops in the interpreter's order, large through CBLAS") {
  for (int64_t size : {5, 96}) {
    for (DType d : {DType::f64, DType::f32, DType::i64}) {
      Builder b;
      Value x = b.input("a", d, {size, size + 1});
      Value y = b.input("b", d, {size + 1, size - 1});
      Graph g = b.build({b.op(Op::Matmul, {x, y})});
      KernelProgram p = lower(g);
      std::map<std::string, Tensor> in;
      for (const char* name : {"a", "b"}) {
        Shape s = name[0] == 'a' ? Shape{size, size + 1} : Shape{size + 1, size - 1};
        Tensor t(d, s);
        for (int64_t i = 0; i < t.size(); ++i) t.set(i, static_cast<double>((i * 7919) % 101) / (d == DType::i64 ? 1 : 97.0));
        in[name] = t;
      }
      CAPTURE(size);
      CAPTURE(dtype_name(d));
      std::vector<Tensor> want = execute(p, in), got = run_cpu(p, 2, in);
      CHECK(compare_all(got, want) == "");
      if (size == 5 || d == DType::i64) CHECK(test::same_bits(got.at(0), want.at(0)));
    }
  }
}
