// The CUDA target of `scanflow compile`.
//
// --emit-cuda FILE.cu writes the generated CUDA C++ source. --aot writes NAME.o and NAME.h
// (backends/cuda/aot.h): the program's compute_90 PTX, its host schedule as C tables and the plain-C
// host runtime behind the entry point every scanflow AOT object has,
//   int NAME_run(const NAME_inputs* in, NAME_results* out, const sf_aot_options* opt);
// Link with `cc prog.c NAME.o -ldl`: the CUDA driver is loaded at run time, no CUDA library is
// linked, and a run without a driver returns SF_AOT_NO_DEVICE. With --aot, --emit-cuda writes the
// source the object was made from (generated without cuBLAS).
#include "tools/compile_cuda.h"

#ifdef SF_HAVE_CUDA  // (builds without the CUDA toolkit have no CUDA target)
#include "backends/cuda/aot.h"
#include "backends/cuda/codegen.h"
#include "tools/cli.h"

namespace sf::cli {

void compile_cuda_target(const KernelProgram& p, const CudaCompileOptions& o) {
  if (o.aot) {
    cuda::AotOptions a;
    a.object = o.object, a.header = o.header, a.strategy = o.strategy, a.emit_cuda = o.emit_cuda;
    cuda::write_aot(p, o.names, a);
    return;
  }
  cuda::CodegenOptions co;
  co.strategy = o.strategy;
  cuda::CudaCode code = cuda::generate_cuda(p, co);
  if (!o.emit_cuda.empty()) write_text(o.emit_cuda, code.source);
}

}  // namespace sf::cli
#endif  // SF_HAVE_CUDA
