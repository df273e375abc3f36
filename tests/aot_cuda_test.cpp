// CUDA ahead-of-time objects (backends/cuda/aot.*) run by tests/aot/driver.c against the host
// emulation of the driver (tests/cuda_fake, see cuda_emulation_test.cpp): the object's own host
// runtime (aot_runtime.c) loads it through $SCANFLOW_LIBCUDA and finds the module's source as KEY.cu
// beside KEY.ptx in $SCANFLOW_CACHE_DIR, which the writer's emit options put there.
//
// Tolerance: none. With the host's math the emulated kernels are bit-exact with the reference
// executor, so results, streamed rows and the whole sequence of callbacks (rows chunks, events in
// step order, progress) must equal the reference executor's; errors must carry its messages.
#ifdef SF_HAVE_CUDA
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "backends/backend.h"
#include "backends/cuda/aot.h"
#include "backends/host_cc.h"
#include "compiler/lower.h"
#include "compiler/pipeline.h"
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

// The emulated driver and its module directory, built once per test process.
struct FakeDriver {
  test::TempDir dir;
  fs::path lib, cache;
  std::string error;
  FakeDriver() {
    lib = dir.path / "libfakecuda.so";
    cache = dir.path / "cache";
    fs::create_directories(cache);
    test::ShellRun r = test::shell(std::string("c++ -std=c++17 -O1 -shared -fPIC -I") + SF_CUDA_INCLUDE_DIR + " " +
                                   SF_SOURCE_DIR + "/tests/cuda_fake/fake_cuda.cc -o " + lib.string() + " -ldl 2>&1");
    if (r.code != 0) error = r.out;
  }
  std::string env(const std::string& libcuda = "") const {
    return "SCANFLOW_LIBCUDA=" + (libcuda.empty() ? lib.string() : libcuda) + " SCANFLOW_CACHE_DIR=" + cache.string() +
           " SF_FAKE_SHIM=" + SF_SOURCE_DIR + "/tests/cuda_fake/device_shim.h";
  }
};

const FakeDriver& fake() {
  static FakeDriver f;
  REQUIRE_MESSAGE(f.error.empty(), f.error);
  return f;
}

struct Options {
  std::string strategy;
  int64_t chunk_rows = 256, event_chunk = 4096;
  uint64_t event_cap = 0;
  std::string libcuda;  // "" = the emulation
};
Options opts(const std::string& strategy, int64_t chunk_rows = 256, int64_t event_chunk = 4096, uint64_t event_cap = 0) {
  Options o;
  o.strategy = strategy, o.chunk_rows = chunk_rows, o.event_chunk = event_chunk, o.event_cap = event_cap;
  return o;
}

// Writes NAME.o (its source and PTX into the emulation's module directory), links the driver, runs it.
test::AotRun run_cuda_aot(const KernelProgram& p, const std::string& name, const std::map<std::string, Tensor>& inputs,
                          const Options& o) {
  const FakeDriver& f = fake();
  test::TempDir dir;
  static int n = 0;
  std::string key = fmt::format("aot{}_{}", getpid(), n++);
  cuda::AotOptions a;
  a.object = (dir.path / (name + ".o")).string();
  a.strategy = o.strategy;
  a.emit_cuda = (f.cache / (key + ".cu")).string();
  a.emit_ptx = (f.cache / (key + ".ptx")).string();
  a.event_cap = o.event_cap;
  cuda::write_aot(p, AotNames{name, {}, {}}, a);
  return test::run_driver(p, dir.path, name, inputs, {"-ldl"}, 1, o.chunk_rows, o.event_chunk, f.env(o.libcuda));
}

// The object's run equals the reference executor's, bit for bit and call for call.
void check_same(const KernelProgram& p, const std::string& name, const std::map<std::string, Tensor>& inputs, const Options& o) {
  CAPTURE(name);
  CAPTURE(o.strategy);
  CAPTURE(o.chunk_rows);
  CAPTURE(o.event_cap);
  test::LogSink sink;
  RunOptions ro;
  ro.sink = &sink, ro.chunk_rows = o.chunk_rows, ro.event_chunk = o.event_chunk;
  std::vector<Tensor> want = make_executable("ref", p, {})->run(inputs, ro);
  test::check_same_run(run_cuda_aot(p, name, inputs, o), want, sink);
}

std::string ref_error(const KernelProgram& p, const std::map<std::string, Tensor>& inputs) {
  try {
    test::LogSink sink;
    RunOptions ro;
    ro.sink = &sink;
    make_executable("ref", p, {})->run(inputs, ro);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("aot: cuda objects run models as the reference executor does (emulated driver)") {
  // hh-squid: elementwise, events; small chunks split rows and events mid-block.
  KernelProgram squid = compile_graph(test::model_graph("hh-squid", 30, 20)).program;
  check_same(squid, "squid", {}, {});
  check_same(squid, "squid", {}, opts("", 7, 3));
  // net3 (coupled: synapses) with every strategy that applies to it.
  KernelProgram net3 = compile_graph(test::model_graph("net3", 0, 25)).program;
  for (const char* s : {"launch", "graph", "persistent"}) check_same(net3, "net3", {}, opts(s, 64, 5));
  KernelProgram lorenz = compile_graph(test::model_graph("lorenz", 0, 5)).program;
  check_same(lorenz, "lorenz", {}, opts("", 1, 1));
  KernelProgram lobe = compile_graph(test::model_graph("antennal-lobe", 0, 3)).program;  // matmuls, segment sums
  check_same(lobe, "lobe", {}, {});
  // Nested scans (launch inside a region) with an input given, and stacked rows and events.
  KernelProgram nested = compile_graph(test::nested_scans(3)).program;
  check_same(nested, "nested", {{"x", Tensor::from(DType::f64, {}, std::vector<double>{0.5})}}, {});
  KernelProgram neuron = compile_graph(test::neuron()).program;
  check_same(neuron, "neuron", {{"I", Tensor::from(DType::f64, {2}, std::vector<double>{20, 5})}}, opts("", 3, 2));
}

TEST_CASE("aot: cuda objects rerun a block whose events overflow their buffer") {
  // Two events per buffer: blocks halve down to one step, then the buffers grow; the calls must
  // still be the reference's.
  KernelProgram squid = compile_graph(test::model_graph("hh-squid", 30, 20)).program;
  check_same(squid, "squid", {}, opts("", 256, 4096, 2));
  check_same(squid, "squid", {}, opts("persistent", 5, 7, 3));
}

TEST_CASE("aot: cuda objects give the reference's errors as codes") {
  // Out of range inside a scan: the message names the scan and its step.
  KernelProgram gather = lower(test::gather_past_end());
  std::string want = ref_error(gather, {});
  REQUIRE(want.find("out of range") != std::string::npos);
  test::AotRun r = run_cuda_aot(gather, "gather", {}, {});
  CHECK(r.code == 1);  // SF_AOT_INDEX_ERROR
  CHECK(r.message == want);

  // A scatter's segments index at top level, and a missing input.
  KernelProgram sp = lower(test::scatter_into_two());
  std::map<std::string, Tensor> bad = {{"src", Tensor::from(DType::f64, {3}, std::vector<double>{1, 2, 3})},
                                       {"idx", Tensor::from(DType::i64, {3}, std::vector<double>{0, 2, 1})}};
  want = ref_error(sp, bad);
  REQUIRE(want.find("out of range") != std::string::npos);
  r = run_cuda_aot(sp, "scatter", bad, {});
  CHECK(r.code == 1);
  CHECK(r.message == want);
  test::AotRun missing = run_cuda_aot(sp, "scatter_missing", {{"src", bad.at("src")}}, {});
  CHECK(missing.code == 3);  // SF_AOT_MISSING_INPUT
  CHECK(missing.message == "input 'idx' was not given (it has no default)");

  // No driver: a code and a message, no crash.
  KernelProgram lorenz = compile_graph(test::model_graph("lorenz", 0, 1)).program;
  Options none;
  none.libcuda = "/nonexistent/libcuda.so.1";
  test::AotRun nodrv = run_cuda_aot(lorenz, "lorenz", {}, none);
  CHECK(nodrv.code == 5);  // SF_AOT_NO_DEVICE
  CHECK(nodrv.message.rfind("no CUDA driver (/nonexistent/libcuda.so.1: ", 0) == 0);
  CHECK(nodrv.log == "");
}

TEST_CASE("aot: cuda objects are linked with -ldl alone; bad requests are errors") {
  KernelProgram p = compile_graph(test::model_graph("lorenz", 0, 1)).program;
  test::TempDir dir;
  cuda::AotOptions a;
  CHECK_THROWS_WITH_AS(cuda::write_aot(p, {}, a), "--aot needs -o NAME.o", Error);
  a.object = dir / "x.o";
  a.strategy = "sideways";
  CHECK_THROWS_WITH_AS(cuda::write_aot(p, {}, a), doctest::Contains("unknown scan strategy 'sideways'"), Error);
  // The CLI writes the same entry point; the program needs no CUDA library to link or start.
  std::string bin = SF_SCANFLOW_BIN;
  test::ShellRun r = test::shell(bin + " compile lorenz --target cuda --aot -o " + (dir / "lorenz.o") + " 2>&1");
  REQUIRE_MESSAGE(r.code == 0, r.out);
  std::string h = test::read_file(dir.path / "lorenz.h");
  CHECK(h.find("int lorenz_run(const lorenz_inputs* in, lorenz_results* out, const sf_aot_options* opt);") != std::string::npos);
  CHECK(h.find("SF_AOT_NO_DEVICE = 5") != std::string::npos);
  CHECK(h.find("cc prog.c lorenz.o -ldl") != std::string::npos);
  test::ShellRun nm = test::shell("nm -g --defined-only " + (dir / "lorenz.o"));
  CHECK(nm.out.find(" T lorenz_run") != std::string::npos);
  CHECK(nm.out.find("sfc_") == std::string::npos);  // the runtime is static: two objects link together

  // One program with a CPU and a CUDA object: both headers (one set of sf_aot_* types), both run
  // (lorenz's final x after 1 time unit: the same up to the CPU code's rounding, rtol 1e-12 as in f64 checks).
  std::string env = fake().env() + " ";
  r = test::shell(env + bin + " compile lorenz --t-end 1 --target cuda --aot -o " + (dir / "gpu.o") + " 2>&1 && " + bin +
                  " compile lorenz --t-end 1 --aot -o " + (dir / "cpu.o") + " 2>&1");
  REQUIRE_MESSAGE(r.code == 0, r.out);
  test::write_file(dir.path / "both.c",
                   "#include \"cpu.h\"\n#include \"gpu.h\"\n#include <stdio.h>\n"
                   "int main(void) {\n  double a = 0, b = 1;\n  cpu_results x = {0};\n  gpu_results y = {0};\n"
                   "  x.final_x = &a, y.final_x = &b;\n"
                   "  int c = cpu_run(0, &x, 0), g = gpu_run(0, &y, 0);\n"
                   "  printf(\"%d %d %d\\n\", c, g, a - b <= 1e-12 * (b < 0 ? -b : b) && b - a <= 1e-12 * (b < 0 ? -b : b));\n}\n");
  run_host_cc({"-I" + dir.path.string(), dir / "both.c", dir / "cpu.o", dir / "gpu.o", "-fopenmp", "-lmvec", "-lm", "-ldl",
               "-o", dir / "both"},
              "a program with both objects");
  test::ShellRun both = test::shell(env + (dir / "both"));
  CHECK_MESSAGE(both.out == "0 0 1\n", (both.out + both.err));

  // A callback that returns non-zero stops the run: SF_AOT_STOPPED, as the CPU object.
  test::write_file(dir.path / "stop.c",
                   "#include \"gpu.h\"\n#include <stdio.h>\n"
                   "static int rows(void* c, int32_t s, const void* d, int64_t n, int64_t f) {\n"
                   "  (void)c, (void)s, (void)d, (void)n;\n  return f > 0;\n}\n"
                   "int main(void) {\n  char e[256] = \"\";\n  sf_aot_options o = {0};\n"
                   "  o.chunk_rows = 10, o.rows = rows, o.error = e, o.error_size = sizeof e;\n"
                   "  int code = gpu_run(0, 0, &o);\n  printf(\"%d %s\\n\", code, e);\n}\n");
  run_host_cc({"-I" + dir.path.string(), dir / "stop.c", dir / "gpu.o", "-ldl", "-o", dir / "stop"}, "the stop program");
  test::ShellRun stop = test::shell(env + (dir / "stop"));
  CHECK_MESSAGE(stop.out == "2 stopped by the rows callback\n", (stop.out + stop.err));
}

TEST_CASE("aot: cuda the example program, linked with -ldl alone, prints what the emulated JIT's run gives") {
  const FakeDriver& f = fake();
  test::TempDir dir;
  std::string bin = SF_SCANFLOW_BIN, env = f.env() + " ";
  // (the compile leaves the module's PTX and source in the emulation's directory, as NVRTC's cache)
  test::ShellRun aot = test::shell(env + bin + " compile hh-squid --target cuda --aot -o " + (dir / "hh_squid.o") + " 2>&1");
  REQUIRE_MESSAGE(aot.code == 0, aot.out);
  run_host_cc({"-O2", "-I" + dir.path.string(), std::string(SF_SOURCE_DIR) + "/examples/aot/hh_squid.c", dir / "hh_squid.o",
               "-ldl", "-o", dir / "hh_squid"},
              "examples/aot/hh_squid.c");
  test::ShellRun needed = test::shell("readelf -d " + (dir / "hh_squid"));
  REQUIRE(needed.code == 0);
  CHECK(needed.out.find("libcuda") == std::string::npos);
  CHECK(needed.out.find("nvrtc") == std::string::npos);

  test::ShellRun example = test::shell(env + (dir / "hh_squid"));
  REQUIRE_MESSAGE(example.code == 0, example.err);
  test::ShellRun jit = test::shell(env + bin + " run hh-squid --backend cuda --out " + (dir / "rows.npy") + " --spikes " +
                                   (dir / "spikes.csv") + " 2>&1");
  REQUIRE_MESSAGE(jit.code == 0, jit.out);
  Tensor rows = read_npy(dir / "rows.npy");  // [10001, 5000], row k = the state after k steps
  REQUIRE(rows.shape() == Shape{10001, 5000});
  const double* v = static_cast<const double*>(rows.raw());
  std::string want;
  for (int k = 1000; k <= 10000; k += 1000) want += fmt::format("t {:5.1f} ms  V[0] {:.17g}\n", k * 0.01, v[k * 5000]);
  std::string csv = test::read_file(dir.path / "spikes.csv");  // a header line, then one line per spike
  want += fmt::format("spikes: {}\n", std::count(csv.begin(), csv.end(), '\n') - 1);
  for (int i : {0, 500, 999}) want += fmt::format("final V[{}]: {:.17g}\n", i, v[10000 * 5000 + i]);
  CHECK(example.out == want);

  // Without a driver the example reports it and fails; it does not crash.
  test::ShellRun none = test::shell("SCANFLOW_LIBCUDA=/nonexistent " + (dir / "hh_squid"));
  CHECK(none.code == 1);
  CHECK(none.err.rfind("hh_squid: no CUDA driver (/nonexistent", 0) == 0);
}
#endif  // SF_HAVE_CUDA
