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
#include "shell.h"

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
  ShellRun run = shell(std::string(SF_PTXAS) + " -arch=sm_90 " + base + ".ptx -o " + base + ".cubin 2>&1");
  PtxasResult r{run.code, run.out};
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
