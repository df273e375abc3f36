// The optimisation pipeline shared by the JIT and the ahead-of-time object.
#include "backends/cpu/optimize.h"

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/IPO/DeadArgumentElimination.h>
#include <llvm/Transforms/IPO/SCCP.h>

#include "backends/cpu/inline_exp.h"

namespace sf::cpu {

using namespace llvm;

namespace {

// libmvec's AVX2 variants of the functions LLVM 14's LIBMVEC_X86 table leaves out (expm1, log1p,
// tanh) and of the ones it maps by their libm names (listed again; duplicates are harmless).
const VecDesc kExtraVecFuncs[] = {
    {"expm1", "_ZGVdN4v_expm1", ElementCount::getFixed(4)}, {"expm1f", "_ZGVdN8v_expm1f", ElementCount::getFixed(8)},
    {"log1p", "_ZGVdN4v_log1p", ElementCount::getFixed(4)}, {"log1pf", "_ZGVdN8v_log1pf", ElementCount::getFixed(8)},
    {"tanh", "_ZGVdN4v_tanh", ElementCount::getFixed(4)},   {"tanhf", "_ZGVdN8v_tanhf", ElementCount::getFixed(8)},
    {"exp", "_ZGVdN4v_exp", ElementCount::getFixed(4)},     {"expf", "_ZGVdN8v_expf", ElementCount::getFixed(8)},
    {"log", "_ZGVdN4v_log", ElementCount::getFixed(4)},     {"logf", "_ZGVdN8v_logf", ElementCount::getFixed(8)},
    {"sin", "_ZGVdN4v_sin", ElementCount::getFixed(4)},     {"sinf", "_ZGVdN8v_sinf", ElementCount::getFixed(8)},
    {"cos", "_ZGVdN4v_cos", ElementCount::getFixed(4)},     {"cosf", "_ZGVdN8v_cosf", ElementCount::getFixed(8)},
    {"llvm.exp.f64", "_ZGVdN4v_exp", ElementCount::getFixed(4)},
    {"llvm.exp.f32", "_ZGVdN8v_expf", ElementCount::getFixed(8)},
    {"llvm.log.f64", "_ZGVdN4v_log", ElementCount::getFixed(4)},
    {"llvm.log.f32", "_ZGVdN8v_logf", ElementCount::getFixed(8)},
    {"llvm.sin.f64", "_ZGVdN4v_sin", ElementCount::getFixed(4)},
    {"llvm.sin.f32", "_ZGVdN8v_sinf", ElementCount::getFixed(8)},
    {"llvm.cos.f64", "_ZGVdN4v_cos", ElementCount::getFixed(4)},
    {"llvm.cos.f32", "_ZGVdN8v_cosf", ElementCount::getFixed(8)},
    // AVX-512 (kernels that prefer 512-bit vectors, kernel_gen.cpp): 8 doubles, 16 floats.
    {"exp", "_ZGVeN8v_exp", ElementCount::getFixed(8)},       {"expf", "_ZGVeN16v_expf", ElementCount::getFixed(16)},
    {"expm1", "_ZGVeN8v_expm1", ElementCount::getFixed(8)},   {"expm1f", "_ZGVeN16v_expm1f", ElementCount::getFixed(16)},
    {"log", "_ZGVeN8v_log", ElementCount::getFixed(8)},       {"logf", "_ZGVeN16v_logf", ElementCount::getFixed(16)},
    {"log1p", "_ZGVeN8v_log1p", ElementCount::getFixed(8)},   {"log1pf", "_ZGVeN16v_log1pf", ElementCount::getFixed(16)},
    {"tanh", "_ZGVeN8v_tanh", ElementCount::getFixed(8)},     {"tanhf", "_ZGVeN16v_tanhf", ElementCount::getFixed(16)},
    {"sin", "_ZGVeN8v_sin", ElementCount::getFixed(8)},       {"sinf", "_ZGVeN16v_sinf", ElementCount::getFixed(16)},
    {"cos", "_ZGVeN8v_cos", ElementCount::getFixed(8)},       {"cosf", "_ZGVeN16v_cosf", ElementCount::getFixed(16)},
    {"llvm.exp.f64", "_ZGVeN8v_exp", ElementCount::getFixed(8)},
    {"llvm.exp.f32", "_ZGVeN16v_expf", ElementCount::getFixed(16)},
    {"llvm.log.f64", "_ZGVeN8v_log", ElementCount::getFixed(8)},
    {"llvm.log.f32", "_ZGVeN16v_logf", ElementCount::getFixed(16)},
    {"llvm.sin.f64", "_ZGVeN8v_sin", ElementCount::getFixed(8)},
    {"llvm.sin.f32", "_ZGVeN16v_sinf", ElementCount::getFixed(16)},
    {"llvm.cos.f64", "_ZGVeN8v_cos", ElementCount::getFixed(8)},
    {"llvm.cos.f32", "_ZGVeN16v_cosf", ElementCount::getFixed(16)},
};

// Our own exp (inline_exp.h): vectorised like a libmvec function, defined after the vectoriser.
const VecDesc kInlineExpFuncs[] = {
    {kExpF64, kExpF64x2, ElementCount::getFixed(2)},  {kExpF64, kExpF64x4, ElementCount::getFixed(4)},
    {kExpF64, kExpF64x8, ElementCount::getFixed(8)},  {kExpF32, kExpF32x4, ElementCount::getFixed(4)},
    {kExpF32, kExpF32x8, ElementCount::getFixed(8)},  {kExpF32, kExpF32x16, ElementCount::getFixed(16)},
};

// The new pass manager's analyses, with libmvec as the vectoriser's math library.
struct Analyses {
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb;
  TargetLibraryInfoImpl tlii;

  Analyses(Module& m, TargetMachine& tm) : pb(&tm, PipelineTuningOptions()), tlii(Triple(m.getTargetTriple())) {
    tlii.addVectorizableFunctionsFromVecLib(TargetLibraryInfoImpl::LIBMVEC_X86);
    tlii.addVectorizableFunctions(kExtraVecFuncs);
    tlii.addVectorizableFunctions(kInlineExpFuncs);
    fam.registerPass([&] { return TargetLibraryAnalysis(tlii); });  // before the defaults
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
  }
};

}  // namespace

void optimize_module(Module& m, TargetMachine& tm) {
  Analyses a(m, tm);
  a.pb.buildPerModuleDefaultPipeline(OptimizationLevel::O3).run(m, a.mam);
  define_exp_functions(m);
}

void propagate_across_calls(Module& m, TargetMachine& tm) {
  Analyses a(m, tm);
  ModulePassManager mpm;
  mpm.addPass(IPSCCPPass());
  mpm.addPass(DeadArgumentEliminationPass());
  mpm.run(m, a.mam);
}

}  // namespace sf::cpu
