// Code generation of a whole KernelProgram as one LLVM module (backends/cpu/codegen.cpp). Only the
// CPU backend's own files include this; LLVM types are forward-declared so it stays cheap.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "compiler/kernel_program.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace sf::cpu {

struct CodegenOptions {
  // Elementwise scans run time-inside-elements (each thread integrates a block of elements for a
  // block of steps); off: every scan runs step by step with barriers between stages.
  bool interchange = true;
  int64_t min_parallel = 512;  // kernels with fewer elements run on thread 0 (a split would cost more)
  int64_t block = 128;         // interchanged scans: elements per block (a multiple of 8)
  // Interchanged scans of at least this many element-steps compute exp and expm1 inline rather
  // than through libmvec (backends/cpu/inline_exp.h): faster per step, but the larger loop costs
  // about 100 ms more JIT, which pays off from about 10^8 element-steps. 0: every interchanged scan.
  int64_t inline_exp_work = kInlineExpWork;
};

// What the host needs to interpret the generated code's calls (see backends/cpu/abi.h).
struct CheckInfo {
  std::string what;          // the node an out-of-range error names
  int64_t limit = 0;         // the valid range is [0, limit)
  std::vector<int> regions;  // enclosing scan regions, outermost first
};
struct SlotInfo {  // a sink or events output of a top-level scan
  int region = -1;
  int64_t y = 0;
  int value = -1;  // the per-step value buffer
  RecordMode mode = RecordMode::Sink;
  int64_t length = 0, every = 1;  // the scan's (a sink chunk needs no more rows than it records)
};
struct RegionInfo {  // copied, so a cached compilation outlives the program it was made from
  std::string label;
  NodeId node = -1;
};
struct Layout {
  std::vector<CheckInfo> checks;
  std::vector<SlotInfo> slots;
  std::vector<RegionInfo> regions;  // pre-order
  int interchanged = 0;             // scans compiled time-inside-elements
  bool parallel = false;            // some step is split over threads (else one thread runs it all)
};

// Builds the module: `void ENTRY(sf_cpu_args*)` runs the program; everything else is internal.
// Fills `layout` (numbering of checks, slots and regions the entry uses).
std::unique_ptr<llvm::Module> generate(const KernelProgram& p, const CodegenOptions& o, llvm::LLVMContext& ctx,
                                       const std::string& entry, Layout& layout);

}  // namespace sf::cpu
