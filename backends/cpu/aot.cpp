// The object side of ahead-of-time compilation (see aot.h): the JIT's module, with the program's
// constants as data and every symbol prefixed by NAME, compiled by a TargetMachine to an object
// file; the C glue compiled by the host C compiler; both joined into one relocatable NAME.o.
#include "backends/cpu/aot.h"

#include <cctype>
#include <filesystem>

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/SubtargetFeature.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include "backends/cpu/optimize.h"
#include "backends/host_cc.h"
#include "graph/error.h"

namespace sf::cpu {
namespace {

namespace fs = std::filesystem;
using namespace llvm;

std::unique_ptr<TargetMachine> target_machine(const std::string& cpu) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  auto jtmb = orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) internal_error("aot: detecting the host: {}", toString(jtmb.takeError()));
  if (!cpu.empty()) {  // a named CPU: its own features, not this machine's
    auto host = jtmb->createTargetMachine();  // (asked first: LLVM only warns about unknown CPUs)
    if (!host) internal_error("aot: creating a target machine: {}", toString(host.takeError()));
    if (!(*host)->getMCSubtargetInfo()->isCPUStringValid(cpu)) fail("--cpu {}: not a CPU LLVM knows", cpu);
    jtmb->setCPU(cpu);
    jtmb->getFeatures() = SubtargetFeatures();
  }
  jtmb->setRelocationModel(Reloc::PIC_);  // linkable into position-independent executables and libraries
  jtmb->setCodeGenOptLevel(CodeGenOpt::Aggressive);
  auto tm = jtmb->createTargetMachine();
  if (!tm) internal_error("aot: creating a target machine: {}", toString(tm.takeError()));
  return std::move(*tm);
}

}  // namespace

void write_aot(const KernelProgram& p, const AotNames& names, const AotOptions& o) {
  if (o.object.empty()) fail("--aot needs -o NAME.o");
  std::string n = aot_name(o.object);
  std::string header = o.header.empty() ? fs::path(o.object).replace_extension(".h").string() : o.header;

  LLVMContext ctx;
  Layout layout;
  std::unique_ptr<Module> m = generate(p, CodegenOptions{}, ctx, n + "_entry", layout);
  m->getFunction(n + "_entry")->setVisibility(GlobalValue::HiddenVisibility);
  // Constants and input defaults as read-only data the glue points the buffer table at.
  for (size_t b = 0; b < p.buffers.size(); ++b) {
    const Buffer& x = p.buffers[b];
    if (!((x.role == BufferRole::Const || (x.role == BufferRole::Input && x.value)) && x.bytes() > 0)) continue;
    auto* init = ConstantDataArray::getRaw(StringRef(static_cast<const char*>(x.value->raw()), static_cast<size_t>(x.bytes())),
                                          static_cast<uint64_t>(x.bytes()), llvm::Type::getInt8Ty(ctx));
    auto* g = new GlobalVariable(*m, init->getType(), /*isConstant=*/true, GlobalValue::ExternalLinkage, init,
                                 fmt::format("{}_data_{}", n, b));
    g->setAlignment(Align(64));
    g->setVisibility(GlobalValue::HiddenVisibility);
  }
  // The run-time helpers get the object's prefix (the glue defines them under the same names).
  std::vector<std::string> runtime;
  bool blas = false;
  for (Function& f : *m) {
    if (!f.isDeclaration()) continue;
    std::string name = f.getName().str();
    if (name.rfind("sf_cpu_", 0) == 0) runtime.push_back(name), f.setName(n + "_" + name);
    if (name.rfind("cblas_", 0) == 0) blas = true;
  }

  std::unique_ptr<TargetMachine> tm = target_machine(o.cpu);
  m->setDataLayout(tm->createDataLayout());
  m->setTargetTriple(tm->getTargetTriple().str());
  optimize_module(*m, *tm);
  SmallVector<char, 0> code;
  {
    raw_svector_ostream os(code);
    legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, CGFT_ObjectFile)) internal_error("aot: the target cannot emit objects");
    pm.run(*m);
  }

  AotInterface ai = cpu_interface(p, layout, names, n);
  fs::path base = fs::path(o.object);
  fs::path code_o = base, glue_c = base, glue_o = base;
  code_o += ".code.o", glue_c += ".glue.c", glue_o += ".glue.o";
  write_file(code_o, std::string_view(code.data(), code.size()));
  std::string glue = aot_glue(p, layout, ai, runtime);
  write_file(glue_c, glue);
  auto cleanup = [&] {
    std::error_code ec;
    for (const fs::path& f : {code_o, glue_c, glue_o}) fs::remove(f, ec);
  };
  try {
    run_host_cc({"-c", "-std=c11", "-O2", "-fPIC", glue_c.string(), "-o", glue_o.string()}, "the AOT glue");
    run_host_cc({"-r", "-nostdlib", code_o.string(), glue_o.string(), "-o", o.object}, "joining the AOT object");
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
  std::string h = cpu_header(p, ai, blas);
  write_file(header, h);
}

}  // namespace sf::cpu
