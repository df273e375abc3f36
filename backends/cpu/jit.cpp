// One LLJIT per process, created on first use. Every LLVM Error/Expected is checked: this LLVM has
// no assertions, so an unchecked error is undefined behaviour rather than an abort.
#include "backends/cpu/jit.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include "backends/cpu/optimize.h"
#include "backends/cpu/blas.h"
#include "backends/cpu/parts.h"
#include "backends/cpu/runtime.h"
#include "graph/error.h"

// libgomp's entry points that the generated code calls (what an OpenMP compiler emits).
extern "C" void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);

namespace sf::cpu {
namespace {

using namespace llvm;
using llvm::Error;  // not sf::Error

std::string message(Error e) { return toString(std::move(e)); }

template <class T>
T take(Expected<T> v, const char* what) {
  if (!v) internal_error("cpu backend: {}: {}", what, message(v.takeError()));
  return std::move(*v);
}

void check(Error e, const char* what) {
  if (e) internal_error("cpu backend: {}: {}", what, message(std::move(e)));
}

class Jit {
 public:
  Jit() {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
    jtmb_ = std::make_unique<orc::JITTargetMachineBuilder>(
        take(orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU"));
    jtmb_->setCodeGenOptLevel(CodeGenOpt::Aggressive);
    tm_ = take(jtmb_->createTargetMachine(), "creating the target machine");
    orc::LLJITBuilder lb;
    lb.setJITTargetMachineBuilder(*jtmb_);
    lb.setNumCompileThreads(2);  // a thread-safe compile layer (the default one is not)
    jit_ = take(lb.create(), "creating the JIT");
    char prefix = jit_->getDataLayout().getGlobalPrefix();
    orc::JITDylib& lib = jit_->getMainJITDylib();
    lib.addGenerator(take(orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix), "searching the process"));
    lib.addGenerator(take(orc::DynamicLibrarySearchGenerator::Load("libmvec.so.1", prefix), "loading libmvec.so.1"));
    // The OpenMP runtime, by address: found even when the executable exports no symbols.
    orc::SymbolMap omp;
    auto def = [&](const char* name, void* addr) {
      omp[jit_->mangleAndIntern(name)] = JITEvaluatedSymbol(pointerToJITTargetAddress(addr), JITSymbolFlags::Exported);
    };
    def("GOMP_parallel", reinterpret_cast<void*>(&GOMP_parallel));
    def("omp_get_thread_num", reinterpret_cast<void*>(&omp_get_thread_num));
    def("omp_get_num_threads", reinterpret_cast<void*>(&omp_get_num_threads));
    def("cblas_dgemm", blas_dgemm_entry());  // (blas.h: the library is loaded when a program calls it)
    def("cblas_sgemm", blas_sgemm_entry());
    def("sf_cpu_rt_begin", reinterpret_cast<void*>(&sf_cpu_rt_begin));
    def("sf_cpu_rt_end", reinterpret_cast<void*>(&sf_cpu_rt_end));
    def("sf_cpu_barrier", reinterpret_cast<void*>(&sf_cpu_barrier));
    def("sf_cpu_event_push", reinterpret_cast<void*>(&sf_cpu_event_push));
    def("sf_cpu_event_merge", reinterpret_cast<void*>(&sf_cpu_event_merge));
    def("sf_cpu_event_emit", reinterpret_cast<void*>(&sf_cpu_event_emit));
    def("sf_cpu_event_finish", reinterpret_cast<void*>(&sf_cpu_event_finish));
    check(lib.define(orc::absoluteSymbols(std::move(omp))), "defining the OpenMP symbols");
  }

  std::shared_ptr<const Compiled> compile(const KernelProgram& p, const CodegenOptions& o, bool keep_ir, bool* hit) {
    std::string key = fmt::format("interchange={} min_parallel={} block={} inline_exp_work={} ir={}\n", o.interchange,
                                  o.min_parallel, o.block, o.inline_exp_work, keep_ir) +
                      print_program(p);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (hit) *hit = it != cache_.end();
    if (it != cache_.end()) return it->second;

    auto start = std::chrono::steady_clock::now();
    auto out = std::make_shared<Compiled>();
    std::string entry = fmt::format("sf_program_{}", cache_.size());
    auto ctx = std::make_unique<LLVMContext>();
    std::unique_ptr<Module> m = generate(p, o, *ctx, entry, out->layout);
    if (m->getFunction("cblas_dgemm") || m->getFunction("cblas_sgemm")) load_blas();
    m->setDataLayout(tm_->createDataLayout());
    m->setTargetTriple(tm_->getTargetTriple().str());
    auto t_gen = std::chrono::steady_clock::now();
    // Optimisation and machine code in parts, on several threads: only what crosses calls is done
    // on the whole module.
    propagate_across_calls(*m, *tm_);
    auto t_prop = std::chrono::steady_clock::now();
    PartsOptions po;
    po.threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    po.cold = {entry, entry + ".body"};  // the entry and the per-thread orchestration (codegen.cpp)
    if (const char* e = std::getenv("SF_CPU_JIT_THREADS")) po.threads = std::max(1, std::atoi(e));  // debugging aid
    po.optimize = optimize_module;
    bool dump = keep_ir || std::getenv("SF_CPU_DUMP_IR");  // SF_CPU_DUMP_IR=FILE: debugging aid
    if (dump) po.ir = &out->ir;
    std::vector<double> thread_cpu;
    bool times = std::getenv("SF_CPU_JIT_TIMES");
    if (times) po.thread_cpu_ms = &thread_cpu;
    for (auto& obj : compile_in_parts(*m, entry, *jtmb_, po))
      check(jit_->addObjectFile(std::move(obj)), "adding an object");
    auto t_parts = std::chrono::steady_clock::now();
    if (const char* path = std::getenv("SF_CPU_DUMP_IR"))
      if (FILE* f = std::fopen(path, "w")) std::fputs(out->ir.c_str(), f), std::fclose(f);
    auto sym = take(jit_->lookup(entry), "compiling the program");
    out->entry = reinterpret_cast<EntryFn>(static_cast<uintptr_t>(sym.getAddress()));
    auto end = std::chrono::steady_clock::now();
    out->jit_ms = std::chrono::duration<double, std::milli>(end - start).count();
    if (times) {  // debugging aid: where jit_ms goes (wall clock), and each compile thread's CPU time
      auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
      std::string cpu;
      for (double t : thread_cpu) cpu += fmt::format(" {:.1f}", t);
      std::fprintf(stderr,
                   "jit: generate %.1f ms, propagate %.1f ms, optimise + machine code %.1f ms (CPU ms per thread:%s), "
                   "link %.1f ms\n",
                   ms(start, t_gen), ms(t_gen, t_prop), ms(t_prop, t_parts), cpu.c_str(), ms(t_parts, end));
    }
    cache_[key] = out;
    return out;
  }

 private:
  std::unique_ptr<orc::JITTargetMachineBuilder> jtmb_;
  std::unique_ptr<TargetMachine> tm_;
  std::unique_ptr<orc::LLJIT> jit_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Compiled>> cache_;
};

Jit& the_jit() {
  static Jit j;  // thread-safe initialisation
  return j;
}

}  // namespace

std::shared_ptr<const Compiled> jit_compile(const KernelProgram& p, const CodegenOptions& o, bool keep_ir, bool* hit) {
  return the_jit().compile(p, o, keep_ir, hit);
}

}  // namespace sf::cpu
