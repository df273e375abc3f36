// The CUDA backend end to end without a GPU: `scanflow run --backend cuda` against a host emulation
// of the driver (tests/cuda_fake: memory is host memory, a module is the generated source compiled
// for the host, each launch runs on one thread so its elements run in order). This exercises the
// runtime, the recorder (time blocks, rings, event buffers, the replay of sink calls) and the
// generated code of every strategy; with the host's math the results must equal the reference
// executor's bit for bit. It says nothing about parallel execution or speed on a GPU (the device
// tests and bench/gpu_check.sh do).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "files.h"
#include "shell.h"

using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

// The emulated driver, built once per test process; "" if the host compiler cannot build it.
struct Emulation {
  fs::path dir, lib, cache;
  std::string error;
  Emulation() {
    dir = fs::temp_directory_path() / ("sf_cuda_emulation_" + std::to_string(getpid()));
    fs::create_directories(dir);
    lib = dir / "libfakecuda.so";
    cache = dir / "cache";
    sf::test::ShellRun r = sf::test::shell("c++ -std=c++17 -O1 -shared -fPIC -I/usr/local/cuda/include "s +
                                           SF_SOURCE_DIR + "/tests/cuda_fake/fake_cuda.cc -o " + lib.string() +
                                           " -ldl 2>&1");
    if (r.code != 0) error = r.out;
  }
  ~Emulation() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // `scanflow run ARGS` with the backend given; its exit status and output files' bytes.
  struct Run {
    int rc;
    std::string out, rows, spikes;
  };
  Run run(const std::string& args, const std::string& backend, bool spikes) const {
    fs::path rows = dir / "rows.npy", csv = dir / "spikes.csv";
    fs::remove(rows), fs::remove(csv);
    std::string env = "SCANFLOW_LIBCUDA=" + lib.string() + " SCANFLOW_CACHE_DIR=" + cache.string() +
                      " SF_FAKE_SHIM=" + SF_SOURCE_DIR + "/tests/cuda_fake/device_shim.h ";
    sf::test::ShellRun r = sf::test::shell(env + SF_SCANFLOW_BIN + " run " + args + " --backend " + backend +
                                           " --out " + rows.string() + (spikes ? " --spikes " + csv.string() : "") +
                                           " 2>&1");
    return {r.code, r.out, sf::test::read_file(rows), spikes ? sf::test::read_file(csv) : ""};
  }
};

const Emulation& emulation() {
  static Emulation e;
  return e;
}

struct Case {
  const char* args;
  bool spikes;
  std::vector<const char*> strategies;
};

}  // namespace

TEST_CASE("cuda: under a host emulation of the driver, every strategy gives the reference executor's bits") {
  const Emulation& e = emulation();
  REQUIRE_MESSAGE(e.error.empty(), e.error);
  const std::vector<const char*> all = {"", "launch", "graph", "persistent", "elementwise"};
  // Long enough for several time blocks (1024 steps; 8192 for elementwise), with every > 1 too.
  const Case cases[] = {
      {"lorenz --t-end 30", false, all},
      {"hh-squid --size 30 --t-end 100", true, all},
      {"hh-squid --size 30 --t-end 100 --every 7 --record V,n", true, {"", "persistent", "graph"}},
      {"hh-fi --t-end 30", true, {"", "persistent"}},
      {"antennal-lobe --t-end 15", true, {"", "graph", "launch"}},
      {"net3 --t-end 25", true, {"", "launch"}},
  };
  int runs = 0;
  for (const Case& c : cases) {
    Emulation::Run ref = e.run(c.args, "ref", c.spikes);
    REQUIRE_MESSAGE(ref.rc == 0, ref.out);
    for (const char* s : c.strategies) {
      CAPTURE(c.args);
      CAPTURE(s);
      Emulation::Run r = e.run(c.args + " --scan-strategy "s + (*s ? s : "\"\""), "cuda", c.spikes);
      REQUIRE_MESSAGE(r.rc == 0, r.out);
      CHECK(r.rows.size() > 100);
      CHECK(r.rows == ref.rows);
      CHECK(r.spikes == ref.spikes);
      ++runs;
    }
  }
  MESSAGE(runs << " emulated runs equal to the reference executor's");
}

TEST_CASE("cuda: under the host emulation, a run-time index error gives the reference's message") {
  const Emulation& e = emulation();
  REQUIRE_MESSAGE(e.error.empty(), e.error);
  std::string args = "antennal-lobe --t-end 5 --set ach_pre=200";
  Emulation::Run ref = e.run(args, "ref", false);
  CHECK(ref.rc == 1);
  CHECK(ref.out.find("index 200 out of range [0, 120)") != std::string::npos);
  for (const char* s : {"persistent", "graph", "launch"}) {
    CAPTURE(s);
    Emulation::Run r = e.run(args + " --scan-strategy " + s, "cuda", false);
    CHECK(r.rc == 1);
    CHECK(r.out == ref.out);
  }
}
