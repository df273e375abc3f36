// Ahead-of-time compilation for CUDA: `scanflow compile MODEL --target cuda --aot -o NAME.o` writes
// NAME.o and NAME.h with the same C entry point as the CPU target's (backends/aot_interface.h):
//
//   int NAME_run(const NAME_inputs* in, NAME_results* out, const sf_aot_options* opt);
//
// The object holds the program's kernels as compute_90 PTX (the driver JIT-compiles them for the
// device when a run loads them), the host schedule as C tables (ops with their slots, scan regions
// with their strategies, carries, recordings, error sites) and the plain-C host runtime that
// follows them (aot_runtime.c). It needs libc and libdl only: the driver is loaded with dlopen at
// run time (libcuda.so.1, or $SCANFLOW_LIBCUDA), so a program linking it starts without one and a
// run without a driver or device returns SF_AOT_NO_DEVICE. Kernels are generated without cuBLAS.
#pragma once
#include <cstdint>
#include <string>

#include "backends/aot_interface.h"
#include "compiler/kernel_program.h"

namespace sf::cuda {

struct AotOptions {
  std::string object;     // NAME.o; NAME (the file's stem as a C identifier) prefixes every symbol
  std::string header;     // default: NAME.h beside the object
  std::string strategy;   // scan strategy ("" = the JIT's choice on an sm_90 device with cooperative launch)
  std::string emit_cuda;  // also write the generated CUDA source here
  std::string emit_ptx;   // also write the PTX the object embeds here
  uint64_t event_cap = 0; // events a block's buffer holds at first (0: the JIT's guess); tests force overflows
};

// Throws sf::Error for bad requests, when a file cannot be written or the host C compiler fails.
void write_aot(const KernelProgram& p, const AotNames& names, const AotOptions& o);

// The text of aot_runtime.c (generated at configure time).
extern const char kAotRuntimeText[];

}  // namespace sf::cuda
