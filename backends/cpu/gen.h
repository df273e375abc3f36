// The code generator's state, shared by its parts (codegen.cpp: steps, kernels, scans;
// interchange.cpp: elementwise scans with the time loop inside the element loop). Private to
// backends/cpu: it includes the LLVM headers.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "backends/cpu/codegen.h"

namespace sf::cpu {

// sf_cpu_args fields (backends/cpu/abi.h), in order.
enum Field {
  kBuffers, kThreads, kFtz, kCtx, kSinkChunks, kChunkRows, kEventChunk, kRows, kEvents, kProgress, kFail, kError, kScanK, kRt
};

// How one step touches one buffer (for placing barriers).
struct Use {
  bool read = false, write = false;
  bool at_o = true;  // every access is at the step's own element index o
};
// What a step touches, and how its work is split over threads.
struct Footprint {
  bool serial = false;  // thread 0 does all of it
  int64_t n = -1;       // chunked steps: the element count the chunks split (-1: not element-wise)
  std::map<int, Use> uses;
};

class Gen {
 public:
  Gen(const KernelProgram& p, const CodegenOptions& o, llvm::LLVMContext& c, llvm::Module& m, Layout& l);
  void run(const std::string& entry);
  llvm::Value* g_table();  // loads this thread's buffer table; FTZ on when asked
  void ftz_exit();          // MXCSR as it was

  // ---- shared helpers (codegen.cpp) ----
  llvm::Type* ssa_type(DType d);  // bool is i1
  llvm::Type* mem_type(DType d);  // bool is i8 in memory
  llvm::Value* i64(int64_t v) { return B.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value* i32(int32_t v) { return B.getInt32(static_cast<uint32_t>(v)); }
  llvm::Value* field(int i);                        // args->field i (loaded)
  llvm::Value* field_ptr(int i);                    // &args->field i
  llvm::Value* buf_ptr(int b);                      // the current i8* of buffer b (this thread's table)
  llvm::Value* typed(llvm::Value* raw, DType d);    // i8* -> element pointer
  llvm::AllocaInst* entry_alloca(llvm::Type* t, const char* name);
  // for (i = lo; i < hi; ++i) body(i), at the builder's position.
  // no_unroll: the loop gets llvm.loop.unroll.disable (element loops: vectorised, but neither
  // unrolled nor fully unrolled at constant trip counts, which costs compile time for no speed).
  // vector_width > 0: the loop gets llvm.loop.vectorize.width (see kernel_gen.cpp).
  void loop(llvm::Value* lo, llvm::Value* hi, const std::function<void(llvm::Value*)>& body, const char* name,
            bool no_unroll = false, int vector_width = 0, bool fold_tail = false);
  void if_then(llvm::Value* cond, const std::function<void()>& then, const char* name);
  void barrier();                 // all threads meet; then stop if a run-time error was recorded
  void sync_if_needed(const Footprint& f);  // a barrier when f conflicts with the steps since the last one
  void sync();                    // an unconditional barrier (clears the pending steps)
  void serial(const std::function<void()>& body);  // thread 0 only (no barrier)
  void call_fail(llvm::Value* args, int check, llvm::Value* value, llvm::Value* pos);
  // [begin, end) of this thread's static chunk of n elements.
  std::pair<llvm::Value*, llvm::Value*> chunk(int64_t n);
  bool run_serially(int64_t n) const;
  // A kernel as a function void(i64 begin, i64 end, i8* buffers..., args*); call with the buffers.
  // once_per_call: the kernel's once-stores happen in the first iteration of every call (element
  // blocks of an interchanged scan), not only in iteration 0.
  llvm::Function* kernel_function(const Kernel& k, bool* serial, bool once_per_call = false);
  std::vector<int> kernel_buffers(const Kernel& k) const;
  bool same_place(int a, int b) const;
  int param_index(int b, const std::vector<int>& bufs) const;  // the parameter holding buffer b
  void call_kernel(const Kernel& k, llvm::Value* begin, llvm::Value* end, bool once_per_call = false);
  void set_rows(const ScanRegion& r, llvm::Value* k);
  llvm::FunctionCallee runtime(const char* name);  // a helper of backends/cpu/runtime.h
  int add_check(const std::string& what, int64_t limit);
  bool may_overlap(int a, int b) const;

  // ---- interchange.cpp ----
  bool can_interchange(const ScanRegion& r) const;
  void interchanged_scan(const ScanRegion& r, int region);
  bool inline_exp = false;  // while emitting an interchanged scan of opt.inline_exp_work element-steps or more

  const KernelProgram& P;
  const CodegenOptions& opt;
  llvm::LLVMContext& C;
  llvm::Module& M;
  Layout& L;
  llvm::IRBuilder<> B;

  llvm::StructType* args_type = nullptr;
  llvm::Type *i8p = nullptr, *i64t = nullptr, *i32t = nullptr;
  llvm::Function* body_fn = nullptr;  // the parallel region's function
  llvm::Value* args = nullptr;        // sf_cpu_args* in body_fn
  llvm::Value *tid = nullptr, *nthreads = nullptr;
  llvm::BasicBlock* exit_bb = nullptr;
  llvm::AllocaInst* mxcsr = nullptr;  // the thread's MXCSR at region start
  std::vector<llvm::AllocaInst*> slots;  // per buffer: this thread's pointer
  std::vector<int> region_stack;         // enclosing regions, outermost first
  std::vector<Footprint> pending;        // steps since the last barrier
  // Inside a scan that thread 0 runs alone (StepGen::scan): tid is 0 and nthreads 1 as constants,
  // barriers only check for errors, and an error leaves for solo_exit (where all threads meet).
  bool solo = false;
  llvm::BasicBlock* solo_exit = nullptr;
  std::map<std::pair<const Kernel*, bool>, llvm::Function*> kernel_fns;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> ranges;  // per buffer: arena byte ranges it may occupy
  std::vector<int> partner;                                      // double-buffered carries: the other buffer
  int next_region = 0;
  int vector_bits = 256;  // 512 where the host has AVX-512 (kernels prefer its registers)
  llvm::Function *f_parallel = nullptr, *f_thread_num = nullptr, *f_num_threads = nullptr;
};

}  // namespace sf::cpu
