// Backends: what runs a compiled KernelProgram. `ref` is the reference executor
// (compiler/program_executor.h), `cpu` the LLVM/OpenMP backend (backends/cpu), `cuda` the generated
// CUDA kernels (backends/cuda; absent from builds without the CUDA toolkit). All of them take the
// same inputs and run options as the interpreter and tell the sink the same things.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "compiler/kernel_program.h"

namespace sf {

struct BackendOptions {
  int threads = 0;            // cpu: worker threads; 0 = all cores
  bool strict_fp = false;     // cpu: keep subnormals (no flush-to-zero in worker threads)
  std::string scan_strategy;  // cuda: "" (chosen from the scan's class and size), or a named strategy
};

// A program made ready to run by one backend (code generated, modules loaded). Runs may repeat.
class Executable {
 public:
  virtual ~Executable() = default;
  virtual std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) = 0;
  // Figures for `--stats`, as "key: value" lines (jit_ms, threads, ...).
  virtual std::vector<std::pair<std::string, std::string>> stats() const { return {}; }
};

// The backends this build has, in the order `scanflow run --backend` lists them.
std::vector<std::string> backend_names();

// Prepares `program` (which must outlive the result) for backend `name`. Throws sf::Error for an
// unknown backend, or one this build or machine lacks (no CUDA toolkit, driver or device).
std::unique_ptr<Executable> make_executable(const std::string& name, const KernelProgram& program,
                                            const BackendOptions& options = {});

}  // namespace sf
