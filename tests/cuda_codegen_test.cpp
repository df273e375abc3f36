// The CUDA backend without a GPU: every built-in model, under every scan strategy that applies,
// and a sample of random fuzz graphs are generated, compiled by NVRTC to PTX for compute_90 and
// assembled by ptxas for sm_90 (rc 0, no warnings).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <set>
#include <thread>

#include "backends/cuda/codegen.h"
#include "backends/cuda/emit.h"
#include "backends/cuda/nvrtc.h"
#include "compiler/pipeline.h"
#include "cuda_check.h"
#include "fuzz/graph_gen.h"
#include "models/model.h"

using namespace sf;

namespace {

// NVRTC (no cache: the test must compile) then ptxas; "" when both are clean.
std::string compile_check(const std::string& source, const std::string& name) {
  cuda::CompiledModule m = cuda::compile_cuda(source, "compute_90", name + ".cu", /*use_cache=*/false);
  if (!m.log.empty()) return "NVRTC log: " + m.log;
  if (m.image.find(".target sm_90") == std::string::npos) return "the PTX does not target sm_90";
  test::PtxasResult r = test::ptxas(m.image, name);
  if (r.rc != 0 || !r.output.empty()) return "ptxas rc " + std::to_string(r.rc) + ": " + r.output;
  return "";
}

const cuda::Strategy kStrategies[] = {cuda::Strategy::Launch, cuda::Strategy::Graph, cuda::Strategy::Persistent,
                                      cuda::Strategy::Elementwise};

}  // namespace

TEST_CASE("cuda: every model's kernels compile with NVRTC and assemble with ptxas for sm_90, under every strategy") {
  auto t0 = std::chrono::steady_clock::now();
  struct Job {
    std::string label, source, name, result;
  };
  std::vector<Job> jobs;
  int combos = 0;
  for (const ModelInfo& m : models()) {
    for (bool stream : {false, true}) {  // stacked rows, and rows and spikes streamed to a sink
      RunConfig rc;
      rc.stream = stream;
      CompileResult c = compile_graph(m.build(rc));
      std::set<std::string> seen;  // sources already listed (a strategy that does not apply falls back)
      for (cuda::Strategy s : kStrategies) {
        cuda::CodegenOptions o;
        o.strategy = cuda::strategy_name(s);
        cuda::CudaCode code = cuda::generate_cuda(c.program, o);
        REQUIRE(!code.regions.empty());
        if (code.regions[0].strategy == s) ++combos;
        if (!seen.insert(code.source).second) continue;
        jobs.push_back({m.name + (stream ? " streamed " : " stacked ") + o.strategy, code.source, m.name, ""});
      }
    }
  }
  // Two workers (NVRTC is thread-safe; ptxas is a process): the checks run in this thread after.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < jobs.size();) jobs[i].result = compile_check(jobs[i].source, jobs[i].name + std::to_string(i));
  };
  std::thread helper(work);
  work();
  helper.join();
  for (const Job& j : jobs) {
    CAPTURE(j.label);
    CHECK(j.result == "");
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(models().size() << " models x {stacked, streamed}: " << combos << " model/strategy pairs that apply, "
                          << jobs.size() << " distinct sources through NVRTC + ptxas in " << s << " s");
  CHECK(combos >= static_cast<int>(models().size()) * 2 * 3);  // launch, graph, persistent apply to all
}

TEST_CASE("cuda: the strategy choice follows the scan's class and falls back where one does not apply") {
  RunConfig rc;
  CompileResult squid = compile_graph(find_model("hh-squid").build(rc));
  CompileResult lobe = compile_graph(find_model("antennal-lobe").build(rc));
  CHECK(cuda::generate_cuda(squid.program).regions.at(0).strategy == cuda::Strategy::Elementwise);
  cuda::CudaCode al = cuda::generate_cuda(lobe.program);
  CHECK(al.regions.at(0).strategy == cuda::Strategy::Persistent);
  CHECK(al.regions.at(0).one_block);  // 120 neurons: barriers are __syncthreads
  cuda::CodegenOptions o;
  o.strategy = "elementwise";  // a coupled network cannot: falls back, saying why
  cuda::CudaCode forced = cuda::generate_cuda(lobe.program, o);
  CHECK(forced.regions.at(0).strategy == cuda::Strategy::Persistent);
  CHECK(forced.regions.at(0).why.find("elementwise does not apply") != std::string::npos);
  o.strategy = "warp";
  CHECK_THROWS_WITH_AS(cuda::generate_cuda(lobe.program, o), doctest::Contains("unknown scan strategy 'warp'"), Error);
  // The persistent kernel puts barriers only between dependent stages.
  CHECK(al.regions.at(0).barriers >= 2);
  CHECK(al.regions.at(0).barriers <= static_cast<int64_t>(al.regions.at(0).body_ops.size()) + 1);
}

TEST_CASE("cuda: the generated source is readable and names its kernels stably") {
  RunConfig rc;
  rc.stream = true;
  CompileResult c = compile_graph(find_model("hh-squid").build(rc));
  cuda::CudaCode code = cuda::generate_cuda(c.program);
  CHECK(code.source.find("extern \"C\" __global__ void __launch_bounds__(256) sf_k1(") != std::string::npos);
  CHECK(code.source.find("sf_r0_elementwise(") != std::string::npos);
  CHECK(code.source.find("const double v49 = exp(v48);") != std::string::npos);
  CHECK(code.source.find("sf_event(") != std::string::npos);  // spikes appended as they are stored
  CHECK(cuda::generate_cuda(c.program).source == code.source);  // deterministic
}

// Constants are written so that NVRTC reads back the same bits: shortest round-trip text that stays a
// floating literal, negatives in parentheses (no "--x"), non-finite values and INT_MIN by their bits.
TEST_CASE("cuda: constants are literals that read back exactly") {
  auto f64 = [](double v) { uint64_t b; std::memcpy(&b, &v, 8); return sf::cuda::const_literal(sf::DType::f64, b); };
  auto f32 = [](float v) { uint32_t b; std::memcpy(&b, &v, 4); return sf::cuda::const_literal(sf::DType::f32, b); };
  CHECK(f64(1) == "1.0");
  CHECK(f64(-2.5) == "(-2.5)");
  CHECK(f64(0.1) == "0.1");
  CHECK(f64(1e300) == "1e+300");
  CHECK(f64(-0.0) == "(-0.0)");
  CHECK(f64(std::numeric_limits<double>::infinity()) == "__longlong_as_double(0x7ff0000000000000LL)");
  CHECK(f32(3) == "3.0f");
  CHECK(f32(-0.25f) == "(-0.25f)");
  CHECK(f32(0.1f) == "0.1f");
  CHECK(f32(std::numeric_limits<float>::quiet_NaN()) == "__int_as_float(0x7fc00000)");
  CHECK(sf::cuda::const_literal(sf::DType::i32, 0x80000000u) == "(-2147483647 - 1)");
}

TEST_CASE("cuda: random fuzz graphs compile with NVRTC and assemble with ptxas") {
  int graphs = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    fuzz::FuzzCase fc = fuzz::generate(seed);
    CompileResult c = compile_graph(fc.graph);
    for (const char* s : {"", "launch"}) {
      cuda::CodegenOptions o;
      o.strategy = s;
      cuda::CudaCode code = cuda::generate_cuda(c.program, o);
      CAPTURE(seed);
      CAPTURE(s);
      CHECK(compile_check(code.source, "fuzz" + std::to_string(seed)) == "");
    }
    ++graphs;
  }
  MESSAGE(graphs << " fuzz graphs, each with the chosen strategies and with launch");
}
