// compile_in_parts (backends/cpu/parts.h): a module cut into parts compiled on several threads
// links into one JIT and computes what the whole module computes, with calls and a global that
// cross from one part into another.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>

#include "backends/cpu/optimize.h"
#include "backends/cpu/parts.h"

namespace {

using namespace llvm;

// i64 entry(i64 x) = sum over k of kernel_k(x), kernel_k(x) = (k + 1) * x + offset, where the
// kernels and the constant `offset` are internal: after the cut they live in other parts.
std::unique_ptr<Module> make_module(LLVMContext& ctx, int kernels) {
  auto m = std::make_unique<Module>("prog", ctx);
  IRBuilder<> b(ctx);
  Type* i64 = b.getInt64Ty();
  auto* offset = new GlobalVariable(*m, i64, /*isConstant=*/true, GlobalValue::InternalLinkage, b.getInt64(1000),
                                    "offset");
  FunctionType* ft = FunctionType::get(i64, {i64}, false);
  Function* entry = Function::Create(ft, GlobalValue::ExternalLinkage, "entry", m.get());
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", entry));
  Value* sum = b.getInt64(0);
  for (int k = 0; k < kernels; ++k) {
    Function* f = Function::Create(ft, GlobalValue::InternalLinkage, "kernel_k" + std::to_string(k), m.get());
    f->addFnAttr(Attribute::NoInline);
    IRBuilder<> kb(BasicBlock::Create(ctx, "entry", f));
    kb.CreateRet(kb.CreateAdd(kb.CreateMul(f->getArg(0), kb.getInt64(k + 1)), kb.CreateLoad(i64, offset)));
    sum = b.CreateAdd(sum, b.CreateCall(f, {entry->getArg(0)}));
  }
  b.CreateRet(sum);
  return m;
}

int64_t expected(int kernels, int64_t x) {
  int64_t s = 0;
  for (int k = 0; k < kernels; ++k) s += (k + 1) * x + 1000;
  return s;
}

// Compiles the module in parts, links the objects into a fresh LLJIT and calls entry(7).
int64_t run_in_parts(int kernels, const sf::cpu::PartsOptions& o, size_t* objects) {
  LLVMContext ctx;
  std::unique_ptr<Module> m = make_module(ctx, kernels);
  auto jtmb = orc::JITTargetMachineBuilder::detectHost();
  REQUIRE(static_cast<bool>(jtmb));
  auto tm = jtmb->createTargetMachine();
  REQUIRE(static_cast<bool>(tm));
  m->setDataLayout((*tm)->createDataLayout());
  m->setTargetTriple((*tm)->getTargetTriple().str());
  auto jit = orc::LLJITBuilder().setJITTargetMachineBuilder(*jtmb).create();
  REQUIRE(static_cast<bool>(jit));
  std::vector<std::unique_ptr<MemoryBuffer>> objs = sf::cpu::compile_in_parts(*m, "prog", *jtmb, o);
  *objects = objs.size();
  m.reset();  // the objects are all the JIT needs
  for (auto& obj : objs) REQUIRE(!(*jit)->addObjectFile(std::move(obj)));
  auto sym = (*jit)->lookup("entry");
  REQUIRE(static_cast<bool>(sym));
  auto fn = reinterpret_cast<int64_t (*)(int64_t)>(static_cast<uintptr_t>(sym->getAddress()));
  return fn(7);
}

}  // namespace

TEST_CASE("cpu: a module compiled in parts on several threads links and computes what it did whole") {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  InitializeNativeTargetAsmParser();
  for (int kernels : {1, 5})
    for (int threads : {1, 2, 3, 8})
      for (bool o3 : {false, true}) {
        CAPTURE(kernels);
        CAPTURE(threads);
        CAPTURE(o3);
        sf::cpu::PartsOptions o;
        o.threads = threads;
        o.cold = {"entry"};
        if (o3) o.optimize = sf::cpu::optimize_module;
        std::string ir;
        o.ir = &ir;
        size_t objects = 0;
        CHECK(run_in_parts(kernels, o, &objects) == expected(kernels, 7));
        // The kernels over min(threads, kernels) parts; the entry in a part of its own.
        CHECK(objects >= 2);
        CHECK(objects <= static_cast<size_t>(std::min(threads, kernels)) + 1);
        // Internal symbols became external ones under unique names, each defined in one part.
        CHECK(ir.find("@prog.kernel_k0(") != std::string::npos);
        CHECK(ir.find("define i64 @entry(") != std::string::npos);
      }
}
