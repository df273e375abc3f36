// The CUDA backend on a device against the interpreter. These tests need a GPU: without one they
// say why (doctest MESSAGE "no CUDA device: <reason>") and check nothing. bench/gpu_check.sh runs
// them on a lent H100.
//
// Tolerances (the compiler issue's): models - V within 1e-7 mV over the default run, identical
// spike counts, spike times within one step; antennal-lobe within 1e-6 mV over 100 ms; the Day 5
// TensorFlow trajectories within 1e-8. Random graphs: |a-b| <= atol + rtol*|b| with rtol 1e-12,
// atol 1e-300 for f64 and rtol 1e-5, atol 1e-30 for f32 (CUDA's exp/log/pow differ from glibc's
// by an ulp or two; sums run in the reference order, without FMA contraction).
#include <doctest/doctest.h>

#include <cmath>

#include "backends/backend.h"
#include "compiler/pipeline.h"
#include "cuda_check.h"
#include "fuzz/graph_gen.h"
#include "models/model.h"
#include "program_run.h"
#include "tf_reference.h"

using namespace sf;

namespace {

// Skips (with the reason) when there is no device.
#define SF_NEED_DEVICE()                                   \
  std::string no_device = test::no_device_reason();        \
  if (!no_device.empty()) {                                \
    MESSAGE("no CUDA device: " << no_device);              \
    return;                                                \
  }

const char* kStrategies[] = {"", "launch", "graph", "persistent", "elementwise"};

// Largest |a - b| over results and sink chunks; spikes (events calls) must match up to one step.
struct Diff {
  double worst = 0;
  std::string spikes;  // "" when the spike trains agree (same count, times within one step)
};

Diff compare(const std::vector<Tensor>& ra, const test::SinkLog& a, const std::vector<Tensor>& rb, const test::SinkLog& b) {
  Diff d;
  for (size_t i = 0; i < ra.size() && i < rb.size(); ++i)
    for (int64_t k = 0; k < ra[i].size(); ++k) d.worst = std::max(d.worst, std::abs(ra[i].get(k) - rb[i].get(k)));
  for (size_t i = 0; i < a.chunks.size() && i < b.chunks.size(); ++i)
    for (int64_t k = 0; k < a.chunks[i].size(); ++k) d.worst = std::max(d.worst, std::abs(a.chunks[i].get(k) - b.chunks[i].get(k)));
  if (ra.size() != rb.size() || a.chunks.size() != b.chunks.size()) d.worst = INFINITY;
  std::vector<std::pair<int64_t, int64_t>> sa, sb;  // (index, step)
  auto spikes = [](const test::SinkLog& s, std::vector<std::pair<int64_t, int64_t>>& out) {
    for (const std::string& c : s.calls) {
      if (!c.starts_with("events")) continue;
      for (size_t at = c.find('('); at != std::string::npos; at = c.find('(', at + 1)) {
        long long i = 0, k = 0;
        std::sscanf(c.c_str() + at, "(%lld,%lld)", &i, &k);
        out.push_back({i, k});
      }
    }
    std::sort(out.begin(), out.end());
  };
  spikes(a, sa), spikes(b, sb);
  if (sa.size() != sb.size()) {
    d.spikes = "spike counts " + std::to_string(sa.size()) + " and " + std::to_string(sb.size());
  } else {
    for (size_t i = 0; i < sa.size(); ++i)
      if (sa[i].first != sb[i].first || std::abs(sa[i].second - sb[i].second) > 1)
        d.spikes = "spike " + std::to_string(i) + " differs by more than one step";
  }
  return d;
}

}  // namespace

TEST_CASE("cuda: device runs of every model match the interpreter under every strategy") {
  SF_NEED_DEVICE();
  for (const ModelInfo& m : models()) {
    RunConfig rc;
    rc.stream = true;
    if (m.name == "antennal-lobe") rc.t_end = 100.0;
    Graph g = m.build(rc);
    CompileResult c = compile_graph(g);
    test::SinkLog a;
    RunOptions oa;
    oa.sink = &a;
    std::vector<Tensor> ra = interpret(g, {}, oa);
    for (const char* s : kStrategies) {
      CAPTURE(m.name);
      CAPTURE(s);
      BackendOptions bo;
      bo.scan_strategy = s;
      auto exe = make_executable("cuda", c.program, bo);
      test::SinkLog b;
      RunOptions ob;
      ob.sink = &b;
      std::vector<Tensor> rb = exe->run({}, ob);
      Diff d = compare(ra, a, rb, b);
      MESSAGE(m.name << " [" << std::string(*s ? s : "chosen") << "]: max difference " << d.worst);
      CHECK(d.worst <= (m.name == "antennal-lobe" ? 1e-6 : 1e-7));
      CHECK(d.spikes == "");
      // The sink sees the same sequence of calls (rows, events and progress, in order).
      std::vector<std::string> ca, cb;
      for (auto& x : a.calls) ca.push_back(x.substr(0, x.find(' ', x.find(' ') + 1)));
      for (auto& x : b.calls) cb.push_back(x.substr(0, x.find(' ', x.find(' ') + 1)));
      CHECK(ca.size() == cb.size());
    }
  }
}

TEST_CASE("cuda: device runs reproduce the TensorFlow Day 5 trajectories to 1e-8") {
  SF_NEED_DEVICE();
  for (const char* s : kStrategies) {
    CAPTURE(s);
    auto run = [&](const Graph& g, const RunOptions& o) {
      BackendOptions bo;
      bo.scan_strategy = s;
      return make_executable("cuda", compile_graph(g).program, bo)->run({}, o);
    };
    // The first batch only: five strategies, each a 35k-step run on the device.
    test::check_tf_reference(run, *s ? s : "chosen", test::TfBatches::First);
  }
}

TEST_CASE("cuda: device runs of random graphs match the reference executor") {
  SF_NEED_DEVICE();
  int checked = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    fuzz::FuzzCase fc = fuzz::generate(seed);
    CompileResult c = compile_graph(fc.graph);
    test::SinkLog a;
    RunOptions oa;
    oa.sink = &a;
    std::vector<Tensor> ra;
    std::string ea, eb;
    try {
      ra = execute(c.program, fc.inputs, oa);
    } catch (const Error& e) {
      ea = e.what();
    }
    for (const char* s : {"", "launch"}) {
      CAPTURE(seed);
      CAPTURE(s);
      BackendOptions bo;
      bo.scan_strategy = s;
      auto exe = make_executable("cuda", c.program, bo);
      test::SinkLog b;
      RunOptions ob;
      ob.sink = &b;
      std::vector<Tensor> rb;
      eb.clear();
      try {
        rb = exe->run(fc.inputs, ob);
      } catch (const Error& e) {
        eb = e.what();
      }
      // Errors: the same check fails (on the device, any failing element may be the one named).
      CHECK(ea.empty() == eb.empty());
      if (!ea.empty() || !eb.empty()) continue;
      REQUIRE(ra.size() == rb.size());
      for (size_t i = 0; i < ra.size(); ++i) {
        bool f32 = ra[i].dtype() == DType::f32;
        double rtol = f32 ? 1e-5 : 1e-12, atol = f32 ? 1e-30 : 1e-300;
        for (int64_t k = 0; k < ra[i].size(); ++k) {
          double x = rb[i].get(k), y = ra[i].get(k);
          bool same = (std::isnan(x) && std::isnan(y)) || x == y || std::abs(x - y) <= atol + rtol * std::abs(y);
          if (!same) {
            CAPTURE(i);
            CAPTURE(k);
            CHECK(x == doctest::Approx(y));
            break;
          }
        }
      }
      CHECK(a.calls.size() == b.calls.size());
    }
    ++checked;
  }
  MESSAGE(checked << " fuzz graphs run on the device");
}
