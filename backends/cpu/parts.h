// One generated module optimised and compiled to machine code in parts, at the same time on
// several threads (backends/cpu/parts.cpp). The kernels are independent functions (noinline), and
// O3 and code generation work function by function, so once what crosses calls is done on the
// whole module (propagate_across_calls, optimize.h) a module cut along function boundaries
// compiles to the same code in about 1/threads of the time. The threads never touch the LLJIT
// (which is not safe to compile in from several threads, toolchain notes): each has its own
// LLVMContext and TargetMachine and returns an object file; the caller links them.
#pragma once
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <llvm/Support/CodeGen.h>

namespace llvm {
class MemoryBuffer;
class Module;
class TargetMachine;
namespace orc {
class JITTargetMachineBuilder;
}
}  // namespace llvm

namespace sf::cpu {

struct PartsOptions {
  int threads = 1;  // compile threads (the calling thread is one of them)
  // Functions that run once per step or once per run (the entry, the orchestration), not once per
  // element: compiled in a part of their own at `cold_level`. Any other function is a kernel.
  std::set<std::string> cold;
  // None: FastISel and the fast register allocator, a fifth of the Aggressive code generator's
  // time for the orchestration; no slower runs were measured (hh-squid, antennal-lobe, net3, hh-fi).
  llvm::CodeGenOpt::Level cold_level = llvm::CodeGenOpt::None;
  double cold_weight = 0.5;  // the cold part's compile time per instruction, relative to a kernel's
  llvm::CodeGenOpt::Level level = llvm::CodeGenOpt::Aggressive;  // the kernels
  // Run on each part before its machine code (in that part's thread, with its TargetMachine): the
  // IR optimisation, which also works function by function once calls have been looked across.
  std::function<void(llvm::Module&, llvm::TargetMachine&)> optimize;
  std::string* ir = nullptr;  // when given: the parts' IR as compiled, one after the other
  std::vector<double>* thread_cpu_ms = nullptr;  // when given: each thread's CPU time (a debugging aid)
};

// One relocatable object per part; their symbols resolve against each other when linked into one
// JITDylib. `m` keeps its code but its internal symbols become external, renamed with the prefix
// `unique` (the parts reference each other's functions; another module's must not clash). Throws
// InternalError when LLVM fails.
std::vector<std::unique_ptr<llvm::MemoryBuffer>> compile_in_parts(llvm::Module& m, const std::string& unique,
                                                                 const llvm::orc::JITTargetMachineBuilder& jtmb,
                                                                 const PartsOptions& o);

}  // namespace sf::cpu
