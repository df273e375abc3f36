// `scanflow compile --target cuda`: the generated CUDA source (--emit-cuda) and the ahead-of-time
// object (--aot -o NAME.o --header NAME.h).
#pragma once
#include <string>

#include "backends/aot_interface.h"
#include "compiler/kernel_program.h"

namespace sf::cli {

struct CudaCompileOptions {
  std::string emit_cuda;  // write the generated CUDA C++ here
  bool aot = false;
  std::string object, header;  // --aot: the object file and its C header
  std::string strategy;        // scan strategy ("" = chosen per scan)
  AotNames names;              // --aot: the header's names
};

// Without a device: the source is generated for and compiled to compute_90 PTX.
void compile_cuda_target(const KernelProgram& p, const CudaCompileOptions& o);

}  // namespace sf::cli
