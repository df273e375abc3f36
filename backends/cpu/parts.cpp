// The module is written once as bitcode; each part reads it back lazily into a context of its own
// (an LLVMContext must not be used by two threads), keeps the bodies of its own functions and
// turns every other function into a declaration. Kernels are spread over the threads by size
// (largest first, onto the least loaded thread); the cold functions form one more part, compiled
// at a lower level.
#include "backends/cpu/parts.h"

#include <time.h>

#include <algorithm>
#include <system_error>
#include <thread>

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include "graph/error.h"

namespace sf::cpu {

using namespace llvm;
using llvm::Error;  // not sf::Error

namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

struct Part {
  std::set<std::string> functions;  // the definitions it keeps
  bool cold = false;
};

// Every local symbol becomes an external one, so that a part can call what another defines.
void externalize(Module& m, const std::string& unique) {
  for (GlobalValue& g : m.global_values()) {
    if (g.isDeclaration() || !g.hasLocalLinkage() || g.getName().startswith("llvm.")) continue;
    if (!g.getName().startswith(unique)) g.setName(unique + "." + (g.hasName() ? g.getName().str() : "anon"));
    g.setLinkage(GlobalValue::ExternalLinkage);
    g.setVisibility(GlobalValue::DefaultVisibility);
    g.setDSOLocal(false);  // may end up in another object
  }
}

// Functions spread over the threads, largest first onto the least loaded thread (by instruction
// count; the cold functions as one item, weighed at `cold_weight`: their code generator is
// cheaper). Each thread gets one part of kernels and perhaps the cold part: work[t] lists them.
std::vector<Part> partition(const Module& m, const PartsOptions& o, std::vector<std::vector<size_t>>& work) {
  std::vector<std::pair<double, std::string>> items;  // (weight, function); "" stands for the cold part
  Part cold;
  cold.cold = true;
  double cold_size = 0;
  for (const Function& f : m) {
    if (f.isDeclaration()) continue;
    if (o.cold.count(f.getName().str())) {
      cold.functions.insert(f.getName().str());
      cold_size += f.getInstructionCount();
    } else {
      items.emplace_back(f.getInstructionCount(), f.getName().str());
    }
  }
  // Global variables (the generated code has none today) live in the cold part.
  for (const GlobalVariable& g : m.globals())
    if (!g.isDeclaration() && !g.getName().startswith("llvm.")) cold.functions.insert(g.getName().str());
  if (!cold.functions.empty()) items.emplace_back(cold_size * o.cold_weight, "");
  std::sort(items.rbegin(), items.rend());

  size_t n = std::min(items.size(), static_cast<size_t>(std::max(1, o.threads)));
  std::vector<Part> parts(n);  // parts[t]: thread t's kernels
  std::vector<double> load(n, 0);
  work.assign(n, {});
  for (const auto& [weight, name] : items) {
    size_t t = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[t] += weight;
    if (!name.empty()) {
      parts[t].functions.insert(name);
    } else {
      work[t].push_back(parts.size());
      parts.push_back(cold);
    }
  }
  for (size_t t = 0; t < n; ++t)
    if (!parts[t].functions.empty()) work[t].push_back(t);
  return parts;
}

// The part's module: the bitcode read back with only the part's definitions.
Expected<std::unique_ptr<Module>> read_part(MemoryBufferRef bitcode, LLVMContext& ctx, const Part& part) {
  auto m = getLazyBitcodeModule(bitcode, ctx);
  if (!m) return m.takeError();
  for (Function& f : **m)
    if (!f.isDeclaration() && !part.functions.count(f.getName().str())) {
      f.deleteBody();
      f.setIsMaterializable(false);  // its body stays unread
    }
  for (GlobalVariable& g : (*m)->globals())
    if (!g.isDeclaration() && !g.getName().startswith("llvm.") && !part.functions.count(g.getName().str())) {
      g.setInitializer(nullptr);
      g.setComdat(nullptr);
    }
  if (Error e = (*m)->materializeAll()) return e;
  return m;
}

Expected<std::unique_ptr<MemoryBuffer>> compile_part(MemoryBufferRef bitcode, const Part& part,
                                                     orc::JITTargetMachineBuilder jtmb, const PartsOptions& o,
                                                     std::string* ir) {
  LLVMContext ctx;
  auto m = read_part(bitcode, ctx, part);
  if (!m) return m.takeError();
  jtmb.setCodeGenOptLevel(part.cold ? o.cold_level : o.level);
  auto tm = jtmb.createTargetMachine();
  if (!tm) return tm.takeError();
  if (o.optimize) o.optimize(**m, **tm);
  if (ir) {
    raw_string_ostream os(*ir);
    (*m)->print(os, nullptr);
  }
  orc::SimpleCompiler compile(**tm);
  return compile(**m);
}

}  // namespace

std::vector<std::unique_ptr<MemoryBuffer>> compile_in_parts(Module& m, const std::string& unique,
                                                           const orc::JITTargetMachineBuilder& jtmb,
                                                           const PartsOptions& o) {
  externalize(m, unique);
  std::vector<std::vector<size_t>> work;
  std::vector<Part> parts = partition(m, o, work);
  SmallVector<char, 0> bitcode;
  {
    raw_svector_ostream os(bitcode);
    WriteBitcodeToFile(m, os);
  }
  MemoryBufferRef ref(StringRef(bitcode.data(), bitcode.size()), "module");

  std::vector<std::unique_ptr<MemoryBuffer>> objects(parts.size());  // null for an empty part
  std::vector<std::string> errors(parts.size()), ir(parts.size());
  std::vector<double> cpu(work.size());
  auto run = [&](size_t t) {
    double start = thread_cpu_ms();
    for (size_t i : work[t]) {
      auto obj = compile_part(ref, parts[i], jtmb, o, o.ir ? &ir[i] : nullptr);
      if (obj) objects[i] = std::move(*obj);
      else errors[i] = toString(obj.takeError());
    }
    cpu[t] += thread_cpu_ms() - start;
  };
  std::vector<std::thread> pool;
  std::vector<size_t> here = {0};  // this thread's share, and any a new thread could not take
  for (size_t t = 1; t < work.size(); ++t) {
    try {
      pool.emplace_back(run, t);
    } catch (const std::system_error&) {
      here.push_back(t);
    }
  }
  for (size_t t : here) run(t);
  for (std::thread& th : pool) th.join();
  if (o.thread_cpu_ms) *o.thread_cpu_ms = cpu;
  if (o.ir)
    for (const std::string& text : ir) *o.ir += text;
  for (const std::string& e : errors)
    if (!e.empty()) internal_error("cpu backend: compiling to machine code: {}", e);
  objects.erase(std::remove(objects.begin(), objects.end(), nullptr), objects.end());
  return objects;
}

}  // namespace sf::cpu
