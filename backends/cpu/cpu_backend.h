// The CPU backend: the whole KernelProgram compiled by LLVM into one function (one OpenMP parallel
// region; scans are loops in the generated code), JIT-compiled for the host CPU. See
// docs/ARCHITECTURE.md ("The CPU backend") and backends/cpu/abi.h for the generated code's ABI.
#pragma once
#include <memory>
#include <string>

#include "backends/backend.h"

namespace sf {

std::unique_ptr<Executable> make_cpu_executable(const KernelProgram& program, const BackendOptions& options);

namespace cpu {
// Interchanged scans of at least this many element-steps get inline exp (see CodegenOptions).
inline constexpr int64_t kInlineExpWork = 100'000'000;
// Code generation thresholds, for tests that want every path exercised on small programs.
struct Tuning {
  int64_t min_parallel = 512;  // kernels with fewer elements run on one thread
  int64_t block = 128;         // elements per block of time-inside-elements scans (a multiple of 8)
  int64_t inline_exp_work = kInlineExpWork;  // see CodegenOptions (backends/cpu/codegen.h)
};
std::unique_ptr<Executable> make_tuned_executable(const KernelProgram& program, const BackendOptions& options,
                                                  const Tuning& tuning);

// For tests: the optimised LLVM IR of `program` as the backend compiles it (to check, e.g., that
// loops call libmvec's vector functions).
std::string optimized_ir(const KernelProgram& program, bool interchange = true,
                         int64_t inline_exp_work = kInlineExpWork);
}  // namespace cpu

}  // namespace sf
