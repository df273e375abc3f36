// Ahead-of-time compilation for the CPU: `scanflow compile MODEL --aot -o NAME.o` writes NAME.o, a
// relocatable object holding the generated program, its constants, the run-time helpers
// (runtime.c) and a C entry point, and NAME.h declaring it:
//
//   int NAME_run(const NAME_inputs* in, NAME_results* out, const sf_aot_options* opt);
//
// The object needs libc, libm/libmvec and the OpenMP runtime (and CBLAS when the program calls it),
// never LLVM. The machine code is made by the JIT's own pipeline (codegen.cpp, optimize.cpp) for
// the given CPU; the entry's glue is C text compiled with the host C compiler (aot_c.cpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backends/aot_interface.h"
#include "backends/cpu/codegen.h"

namespace sf::cpu {

using sf::AotNames;

struct AotOptions {
  std::string object;  // NAME.o; NAME (the file's stem as a C identifier) prefixes every symbol
  std::string header;  // default: NAME.h beside the object
  std::string cpu;     // LLVM CPU name (e.g. x86-64-v3); default: this machine's CPU and features
};

// Throws sf::Error when a file cannot be written or the host C compiler fails.
void write_aot(const KernelProgram& p, const AotNames& names, const AotOptions& o);

// ---- the C text (aot_c.cpp) -------------------------------------------------------------------

// The header's fields, the stream order the entry uses (its slots) included.
AotInterface cpu_interface(const KernelProgram& p, const Layout& l, const AotNames& names, const std::string& name);

// NAME.h, and the C glue compiled into the object: NAME_run over the generated entry
// `NAME_entry` and the constants `NAME_data_<b>` the object defines.
std::string cpu_header(const KernelProgram& p, const AotInterface& ai, bool blas);
std::string aot_glue(const KernelProgram& p, const Layout& l, const AotInterface& ai,
                     const std::vector<std::string>& runtime_functions);

// The text of abi.h, runtime.h and runtime.c, for the glue (generated at configure time).
extern const char kRuntimeText[];

}  // namespace sf::cpu
