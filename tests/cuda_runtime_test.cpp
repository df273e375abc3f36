// The CUDA backend's host side without a GPU: the clean no-driver / no-device errors, NVRTC errors
// quoting the generated source, and the module cache.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>

#include "backends/backend.h"
#include "backends/cuda/nvrtc.h"
#include "compiler/pipeline.h"
#include "cuda_check.h"
#include "models/model.h"
#include "shell.h"

using namespace sf;

TEST_CASE("cuda: without a usable driver, make_executable fails with one clean line") {
  std::string reason = test::no_device_reason();
  if (!reason.empty()) {
    RunConfig rc;
    CompileResult c = compile_graph(find_model("lorenz").build(rc));
    try {
      make_executable("cuda", c.program);
      FAIL("make_executable succeeded without a device");
    } catch (const Error& e) {
      std::string m = e.what();
      CHECK(m == reason);
      CHECK((m.starts_with("no CUDA driver (") || m.starts_with("no CUDA device")));
      CHECK(m.find('\n') == std::string::npos);
    }
  } else {
    MESSAGE("a CUDA device is present: the no-driver path is not exercised");
  }
}

TEST_CASE("cuda: the no-driver message names the library and dlopen's reason") {
  // driver() loads once per process; a child process tries a library that does not exist.
  std::string cmd = std::string(SF_SCANFLOW_BIN) + " run lorenz --backend cuda --t-end 1 2>&1";
  test::ShellRun r = test::shell("SCANFLOW_LIBCUDA=/nonexistent/libcuda.so.1 " + cmd);
  CHECK(r.code == 1);
  CHECK(r.out.find("scanflow: error: no CUDA driver (/nonexistent/libcuda.so.1: ") == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  // The toolkit's stub library loads but is no driver.
  std::string stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (std::filesystem::exists(stub)) {
    r = test::shell("SCANFLOW_LIBCUDA=" + stub + " " + cmd);
    CHECK(r.code == 1);
    CHECK(r.out.find("scanflow: error: no CUDA ") == 0);
  }
}

TEST_CASE("cuda: an NVRTC error on generated code is an internal error quoting the source line") {
  std::string src = "extern \"C\" __global__ void broken(double* x) {\n  x[0] = undefined_value + 1.0;\n}\n";
  try {
    cuda::compile_cuda(src, "compute_90", "broken.cu", false);
    FAIL("a broken source compiled");
  } catch (const InternalError& e) {
    std::string m = e.what();
    CHECK(m.find("NVRTC could not compile the generated CUDA source") != std::string::npos);
    CHECK(m.find("broken.cu:2:   x[0] = undefined_value + 1.0;") != std::string::npos);
    CHECK(m.find("identifier \"undefined_value\" is undefined") != std::string::npos);
  }
}

TEST_CASE("cuda: compiled modules are cached in memory and on disk") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sf_cuda_cache_" + std::to_string(getpid()));
  fs::remove_all(dir);
  setenv("SCANFLOW_CACHE_DIR", dir.c_str(), 1);
  // A source no other test compiles (the in-memory cache is per process).
  std::string src = "extern \"C\" __global__ void cached(double* x) { x[0] = " + std::to_string(getpid()) + ".0; }\n";
  cuda::CompiledModule a = cuda::compile_cuda(src, "compute_90", "cached.cu");
  CHECK(!a.from_memory);
  CHECK(!a.from_disk);
  CHECK(fs::exists(dir));
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);  // KEY.ptx, KEY.cu
  cuda::CompiledModule b = cuda::compile_cuda(src, "compute_90", "cached.cu");
  CHECK(b.from_memory);
  CHECK(b.image == a.image);
  cuda::forget_compiled_modules();  // as a fresh process: found on disk
  cuda::CompiledModule c = cuda::compile_cuda(src, "compute_90", "cached.cu");
  CHECK(c.from_disk);
  CHECK(c.image == a.image);
  // The key is the source, options, arch and NVRTC version.
  int ptx = 0;
  for (auto& e : fs::directory_iterator(dir)) ptx += e.path().string().ends_with("-compute_90.ptx");
  CHECK(ptx == 1);
  std::string other_arch = cuda::compile_cuda(src, "compute_80", "cached.cu").image;
  CHECK(other_arch != a.image);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 4);
  unsetenv("SCANFLOW_CACHE_DIR");
  fs::remove_all(dir);
}

TEST_CASE("cuda: scanflow compile --target cuda writes the source and an AOT object with NAME_run") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sf_cuda_aot_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string bin = SF_SCANFLOW_BIN, d = dir.string();
  test::ShellRun aot = test::shell(bin + " compile hh-squid --target cuda --emit-cuda " + d + "/squid.cu --aot -o " +
                                   d + "/squid.o --header " + d + "/squid.h 2>&1");
  CHECK(aot.code == 0);
  CHECK(fs::file_size(dir / "squid.cu") > 1000);
  CHECK(fs::exists(dir / "squid.o"));
  test::ShellRun nm = test::shell("nm " + d + "/squid.o 2>&1");
  CHECK(nm.code == 0);
  CHECK(nm.out.find(" T squid_run") != std::string::npos);
  CHECK(nm.out.find(" U cu") == std::string::npos);  // the driver is dlopen'ed when a run starts
  // A C program links against it without any CUDA library (tests/aot_cuda_test.cpp runs such programs).
  std::ofstream(dir / "main.c") << "#include \"squid.h\"\nint main(void) { return squid_STREAMS == 2 ? 0 : 1; }\n"
                                   "int (*entry)(const squid_inputs*, squid_results*, const sf_aot_options*) = squid_run;\n";
  test::ShellRun cc = test::shell("cc -I" + d + " " + d + "/main.c " + d + "/squid.o -o " + d + "/main -ldl 2>&1 && " + d + "/main");
  CHECK_MESSAGE(cc.code == 0, cc.out);
  // Options that need the target say so.
  test::ShellRun bad = test::shell(bin + " compile lorenz --emit-cuda " + d + "/x.cu 2>&1");
  CHECK(bad.code == 1);
  CHECK(bad.out.find("--emit-cuda needs --target cuda") != std::string::npos);
  test::ShellRun st =
      test::shell(bin + " compile lorenz --target cuda --scan-strategy warp --emit-cuda " + d + "/x.cu 2>&1");
  CHECK(st.code == 1);
  CHECK(st.out.find("unknown scan strategy 'warp'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("cuda: scanflow run --backend cuda --scan-strategy gives one clean line without a device") {
  if (!test::no_device_reason().empty()) {
    test::ShellRun r = test::shell(std::string(SF_SCANFLOW_BIN) +
                                   " run antennal-lobe --backend cuda --scan-strategy persistent --t-end 1 2>&1");
    CHECK(r.code == 1);
    CHECK(r.out.find("scanflow: error: no CUDA ") == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  }
}
