#include "backends/backend.h"

#include "compiler/program_executor.h"
#include "graph/error.h"

#ifdef SF_HAVE_CPU
#include "backends/cpu/cpu_backend.h"
#endif
#ifdef SF_HAVE_CUDA
#include "backends/cuda/cuda_backend.h"
#endif

namespace sf {
namespace {

class RefExecutable : public Executable {
 public:
  explicit RefExecutable(const KernelProgram& p) : p_(p) {}
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) override {
    return execute(p_, inputs, options);
  }

 private:
  const KernelProgram& p_;
};

}  // namespace

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
#ifdef SF_HAVE_CPU
  names.push_back("cpu");
#endif
#ifdef SF_HAVE_CUDA
  names.push_back("cuda");
#endif
  names.push_back("ref");
  return names;
}

std::unique_ptr<Executable> make_executable(const std::string& name, const KernelProgram& program,
                                            const BackendOptions& options) {
  (void)options;
  if (name == "ref") return std::make_unique<RefExecutable>(program);
#ifdef SF_HAVE_CPU
  if (name == "cpu") return make_cpu_executable(program, options);
#endif
#ifdef SF_HAVE_CUDA
  if (name == "cuda") return make_cuda_executable(program, options);
#else
  if (name == "cuda") fail("backend 'cuda': this build has no CUDA backend (the CUDA toolkit was not found at configure time)");
#endif
  std::string known;
  for (const std::string& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown backend '{}' (available: interp, {})", name, known);
}

}  // namespace sf
