// Ahead-of-time objects (backends/cpu/aot.*): built here, linked by the host C compiler into
// plain C programs (examples/aot/hh_squid.c, tests/aot/driver.c), run, and compared with the JIT.
//
// Tolerance: none. The object is the JIT's module compiled by the same pipeline for the same CPU,
// so results, streamed rows and the sequence of callbacks must be identical to the JIT's, bit for
// bit; errors must carry the JIT's messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "backends/backend.h"
#include "backends/cpu/aot.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/host_cc.h"
#include "compiler/lower.h"
#include "compiler/pipeline.h"
#include "graph/builder.h"
#include "graph/error.h"
#include "graph/npy.h"
#include "models/model.h"
#include "aot_run.h"
#include "files.h"
#include "sample_graphs.h"
#include "shell.h"

using namespace sf;
namespace fs = std::filesystem;

namespace {

using test::AotRun;
using test::LogSink;

// Writes NAME.o for `p` (for LLVM's CPU `cpu_name`; "": this machine), links tests/aot/driver.c against
// it and runs it.
AotRun run_aot(const KernelProgram& p, const std::string& name, const std::map<std::string, Tensor>& inputs,
               int threads, int64_t chunk_rows, int64_t event_chunk, const std::string& cpu_name = "") {
  test::TempDir dir;
  cpu::write_aot(p, cpu::AotNames{name, {}, {}}, cpu::AotOptions{(dir.path / (name + ".o")).string(), "", cpu_name});
  return test::run_driver(p, dir.path, name, inputs, {"-fopenmp", "-lmvec", "-lm", "-lopenblas"}, threads, chunk_rows,
                          event_chunk);
}

// The streams' files are numbered by slot; the JIT's rows by output y. The header's stream info maps
// one to the other, and for these programs (one top-level scan) slot order is y order.
void check_same(const KernelProgram& p, const std::string& name, const std::map<std::string, Tensor>& inputs,
                int threads, int64_t chunk_rows, int64_t event_chunk, const std::string& cpu_name = "") {
  CAPTURE(name);
  CAPTURE(threads);
  CAPTURE(chunk_rows);
  LogSink sink;
  RunOptions o;
  o.sink = &sink, o.chunk_rows = chunk_rows, o.event_chunk = event_chunk;
  BackendOptions bo;
  bo.threads = threads;
  std::vector<Tensor> want = make_executable("cpu", p, bo)->run(inputs, o);
  check_same_run(run_aot(p, name, inputs, threads, chunk_rows, event_chunk, cpu_name), want, sink);
}

}  // namespace

TEST_CASE("aot: objects run models exactly as the JIT does (results, streamed rows, events, progress)") {
  KernelProgram squid = compile_graph(test::model_graph("hh-squid", 300, 20)).program;  // elementwise, interchanged
  check_same(squid, "squid", {}, 1, 256, 4096);
  check_same(squid, "squid", {}, 2, 7, 3);
  KernelProgram net3 = compile_graph(test::model_graph("net3", 0, 50)).program;  // coupled: synapses
  check_same(net3, "net3", {}, 2, 64, 5);
  KernelProgram lorenz = compile_graph(test::model_graph("lorenz", 0, 5)).program;
  check_same(lorenz, "lorenz", {}, 1, 1, 1);
  // Inputs given (not defaults), stacked rows and events; nested scans.
  KernelProgram neuron = compile_graph(test::neuron()).program;
  check_same(neuron, "neuron", {{"I", Tensor::from(DType::f64, {2}, std::vector<double>{20, 5})}}, 2, 3, 2);
  KernelProgram nested = compile_graph(test::nested_scans(3)).program;
  check_same(nested, "nested", {{"x", Tensor::from(DType::f64, {}, std::vector<double>{0.5})}}, 2, 256, 4096);
  // 10^4 neurons x 10^4 steps: enough element-steps for the inline exp (backends/cpu/inline_exp.h).
  // Also as an object for haswell (AVX2: 4 doubles per vector where this machine may have 8): the
  // inline exp computes each lane alike at any width, so the numbers are the same bit for bit.
  RunConfig big;
  big.size = 10000;
  big.t_end = 100;
  big.every = 10000;
  big.record = {"V"};
  big.stream = true;
  KernelProgram large = compile_graph(find_model("hh-squid").build(big)).program;
  CHECK(cpu::optimized_ir(large).find("@sf.exp.v") != std::string::npos);
  check_same(large, "large", {}, 2, 256, 4096);
  REQUIRE_MESSAGE((__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")),
                  "this machine cannot run a haswell object (no AVX2/FMA)");
  check_same(large, "avx2", {}, 2, 256, 4096, "haswell");
}

TEST_CASE("aot: run-time errors and missing inputs come back as codes with the JIT's messages") {
  KernelProgram sp = lower(test::scatter_into_two());
  std::map<std::string, Tensor> bad = {{"src", Tensor::from(DType::f64, {3}, std::vector<double>{1, 2, 3})},
                                       {"idx", Tensor::from(DType::i64, {3}, std::vector<double>{0, 2, 1})}};
  std::string jit_error;
  try {
    make_executable("cpu", sp, {})->run(bad, {});
  } catch (const Error& e) {
    jit_error = e.what();
  }
  REQUIRE(jit_error.find("out of range") != std::string::npos);
  AotRun r = run_aot(sp, "scatter", bad, 2, 256, 4096);
  CHECK(r.code == 1);  // SF_AOT_INDEX_ERROR
  CHECK(r.message == jit_error);

  AotRun missing = run_aot(sp, "scatter_missing", {{"src", bad.at("src")}}, 1, 256, 4096);
  CHECK(missing.code == 3);  // SF_AOT_MISSING_INPUT
  CHECK(missing.message == "input 'idx' was not given (it has no default)");
}

TEST_CASE("aot: the example program, linked without LLVM, runs hh-squid as `scanflow run` does") {
  test::TempDir dir;
  fs::path d = dir.path;
  std::string bin = SF_SCANFLOW_BIN;
  test::ShellRun aot = test::shell(bin + " compile hh-squid --aot -o " + (d / "hh_squid.o").string() + " 2>&1");
  REQUIRE_MESSAGE(aot.code == 0, aot.out);
  run_host_cc({"-O2", "-I" + d.string(), std::string(SF_SOURCE_DIR) + "/examples/aot/hh_squid.c",
               (d / "hh_squid.o").string(), "-fopenmp", "-lmvec", "-lm", "-o", (d / "hh_squid").string()},
              "examples/aot/hh_squid.c");
  test::ShellRun needed = test::shell("readelf -d " + (d / "hh_squid").string());  // the libraries it needs
  REQUIRE(needed.code == 0);
  CHECK(needed.out.find("LLVM") == std::string::npos);
  CHECK(needed.out.find("libgomp") != std::string::npos);

  test::ShellRun example = test::shell((d / "hh_squid").string() + " 2");
  REQUIRE_MESSAGE(example.code == 0, example.err);
  const std::string& printed = example.out;
  test::ShellRun jit = test::shell(bin + " run hh-squid --out " + (d / "rows.npy").string() + " --spikes " +
                                   (d / "spikes.csv").string() + " 2>&1");
  REQUIRE_MESSAGE(jit.code == 0, jit.out);
  Tensor rows = read_npy((d / "rows.npy").string());  // [10001, 5000], row k = the state after k steps
  REQUIRE(rows.shape() == Shape{10001, 5000});
  const double* v = static_cast<const double*>(rows.raw());
  std::string want;
  for (int k = 1000; k <= 10000; k += 1000) want += fmt::format("t {:5.1f} ms  V[0] {:.17g}\n", k * 0.01, v[k * 5000]);
  std::string csv = test::read_file(d / "spikes.csv");  // a header line, then one line per spike
  want += fmt::format("spikes: {}\n", std::count(csv.begin(), csv.end(), '\n') - 1);
  for (int i : {0, 500, 999}) want += fmt::format("final V[{}]: {:.17g}\n", i, v[10000 * 5000 + i]);
  CHECK(printed == want);
}

// Kernels realign their frames: the vector registers spilled around libmvec calls (which clobber
// them all) get 64-byte-aligned slots. With the ABI's 16-byte stack alignment most of hh-squid's
// 64-byte spills crossed a cache line. Checked on the machine code of an object for an AVX-512 CPU
// (whatever this machine is): every zmm store to or load from the stack is at a multiple of 64.
TEST_CASE("aot: the kernels' vector spill slots are 64-byte aligned") {
  test::TempDir dir;
  fs::path obj = dir.path / "squid.o";
  KernelProgram p = compile_graph(test::model_graph("hh-squid", 1000, 1)).program;
  cpu::write_aot(p, cpu::AotNames{"squid", {}, {}}, cpu::AotOptions{obj.string(), "", "skylake-avx512"});
  test::ShellRun dis = test::shell("objdump -d --no-show-raw-insn " + obj.string());
  REQUIRE_MESSAGE(dis.code == 0, dis.err);
  std::regex slot("vmov[au]p[sd]\\s+(%zmm[0-9]+,(-?0x[0-9a-f]+)\\(%rsp\\)|(-?0x[0-9a-f]+)\\(%rsp\\),%zmm[0-9]+)");
  int slots = 0;
  std::istringstream lines(dis.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, slot)) continue;
    ++slots;
    long offset = std::stol(m[2].matched ? m[2].str() : m[3].str(), nullptr, 16);
    CHECK_MESSAGE(offset % 64 == 0, line);
  }
  CHECK(slots >= 50);  // hh-squid's step keeps dozens of vectors across its 24 exp/expm1 calls
}

TEST_CASE("aot: bad requests are errors") {
  KernelProgram p = compile_graph(test::model_graph("lorenz", 0, 1)).program;
  test::TempDir dir;
  fs::path d = dir.path;
  CHECK_THROWS_WITH_AS(cpu::write_aot(p, {}, cpu::AotOptions{"", "", ""}), "--aot needs -o NAME.o", Error);
  CHECK_THROWS_WITH_AS(cpu::write_aot(p, {}, cpu::AotOptions{(d / "x.o").string(), "", "no-such-cpu"}),
                       "--cpu no-such-cpu: not a CPU LLVM knows", Error);
  std::string bin = SF_SCANFLOW_BIN;
  test::ShellRun r = test::shell(bin + " compile lorenz --cpu x86-64-v3 -o " + (d / "x.txt").string() + " 2>&1");
  CHECK(r.code == 1);
  CHECK(r.out.find("--cpu needs --aot") != std::string::npos);
  // A named CPU: an object for another machine of the family still builds and runs here.
  test::ShellRun generic = test::shell(bin + " compile lorenz --aot --cpu x86-64 -o " + (d / "generic.o").string() + " 2>&1");
  CHECK_MESSAGE(generic.code == 0, generic.out);
}
