// Helpers for the cuda: tests: assembling PTX with ptxas (the toolkit's, found at configure time)
// and finding out whether this machine can run the device tests.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

#include "backends/cuda/driver.h"
#include "graph/error.h"

namespace sf::test {

struct PtxasResult {
  int rc = -1;
  std::string output;  // its messages (warnings, errors); empty when clean
};

// Assembles `ptx` for sm_90 (`ptxas -arch=sm_90`), as the driver would for an H100.
inline PtxasResult ptxas(const std::string& ptx, const std::string& name) {
  std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  std::string base = dir + "/sf_ptxas_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(base + ".ptx") << ptx;
  std::string cmd = std::string(SF_PTXAS) + " -arch=sm_90 " + base + ".ptx -o " + base + ".cubin 2>&1";
  PtxasResult r;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, f)) r.output.append(buf, n);
    int status = pclose(f);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::remove((base + ".ptx").c_str());
  std::remove((base + ".cubin").c_str());
  return r;
}

// "" when a CUDA device can run the device tests, else why not ("no CUDA driver (...)").
inline std::string no_device_reason() {
  try {
    cuda::device();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace sf::test
