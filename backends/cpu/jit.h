// The process-wide LLVM JIT of the CPU backend (backends/cpu/jit.cpp): generated modules are
// optimised at O3 for the host CPU (vector math through libmvec) and compiled to machine code, in
// parts on several threads (backends/cpu/parts.h), and linked into one LLJIT.
// Compiled programs are cached by their structural text (print_program), so a program compiled
// twice in one process is generated once.
#pragma once
#include <memory>
#include <string>

#include "backends/cpu/abi.h"
#include "backends/cpu/codegen.h"

namespace sf::cpu {

using EntryFn = void (*)(sf_cpu_args*);

struct Compiled {
  EntryFn entry = nullptr;
  Layout layout;
  double jit_ms = 0;  // code generation, optimisation and machine code (0 when found in the cache)
  std::string ir;     // the optimised module's text, when asked for
};

// Compiles `p` (or finds it in the cache). Throws InternalError when LLVM fails.
// `hit`, when given, tells whether the program was found in the cache.
std::shared_ptr<const Compiled> jit_compile(const KernelProgram& p, const CodegenOptions& o, bool keep_ir = false,
                                            bool* hit = nullptr);

}  // namespace sf::cpu
