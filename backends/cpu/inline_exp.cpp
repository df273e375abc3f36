// e^x = 2^k * e^r with k = round(x / ln 2) and r = x - k ln 2 in [-ln2/2, ln2/2]:
//  - k comes from adding 1.5 * 2^52 (2^23 for f32): the sum's low mantissa bits are k, rounded
//    to nearest, and k ln 2 is subtracted in two parts (Cody and Waite), the first exact;
//  - e^r - 1 = r + r^2 c(r), c a polynomial fitted to (e^r - 1 - r) / r^2 on the interval
//    (scripts/exp_coefficients.py: degree 9 for f64, 4 for f32), evaluated with fused
//    multiply-adds;
//  - exp, exact code: 2^k is built in the exponent bits, as two factors 2^(k/2) and 2^(k - k/2)
//    so that results down in the subnormal range are rounded once, as libm rounds them, and
//    overflow gives +inf;
//  - exp, fast path (|x| <= 708, 86 for f32): e^r and e^x are normal numbers, and k is added to
//    e^r's exponent field, which is the exact product;
//  - expm1: 2^k (e^r - 1) + (2^k - 1), computed as 2 (t (e^r - 1) + (t - 1/2)) with t = 2^(k-1)
//    so that t stays a normal number up to the overflow threshold. At k = 0 this is e^r - 1
//    itself, exact to the polynomial's error however small x is.
// The exact code clamps x first so that k stays in range; NaN passes the clamps and the arithmetic.
#include "backends/cpu/inline_exp.h"

#include <vector>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>

namespace sf::cpu {

using namespace llvm;

namespace {

struct Constants {
  double exp_lo, exp_hi;  // exp's clamp: e^lo rounds to 0, e^hi to +inf
  double expm1_lo;        // expm1's lower clamp: e^lo - 1 rounds to -1
  double fast;            // |x| <= fast: e^x is a normal number with k inside the exponent range
  double shifter;         // 1.5 * 2^(mantissa bits)
  double log2e;
  double ln2_hi, ln2_lo;  // ln 2 = hi + lo, hi with enough trailing zeros that k * hi is exact
  int bias, mantissa;     // exponent bias, explicit mantissa bits
  std::vector<double> c;  // c(r) = c[0] + c[1] r + ...
};

const Constants kF64 = {
    -746.0, 710.0, -50.0, 708.0, 0x1.8p52, 0x1.71547652b82fep0, 0x1.62e42fefa38p-1, 0x1.ef35793c7673p-45, 1023, 52,
    {0x1p-1, 0x1.555555555555p-3, 0x1.5555555553961p-5, 0x1.11111111178a8p-7, 0x1.6c16c179c4e3ep-10,
     0x1.a01a015c36851p-13, 0x1.a019b49f970cep-16, 0x1.71df177dacb8cp-19, 0x1.2896a63e12417p-22,
     0x1.acf3eaebe48a7p-26}};

const Constants kF32 = {-104.0, 89.0, -30.0, 86.0, 0x1.8p23, 0x1.715476p0, 0x1.62e4p-1, 0x1.7f7d1cp-20, 127, 23,
                        {0x1p-1, 0x1.5554d8p-3, 0x1.5554e4p-5, 0x1.121072p-7, 0x1.6d4926p-10}};

class Emitter {
 public:
  Emitter(IRBuilder<>& b, Type* t)
      : B(b), t_(t), k_(t->getScalarType()->isDoubleTy() ? kF64 : kF32),
        fma_(Intrinsic::getDeclaration(b.GetInsertBlock()->getModule(), Intrinsic::fmuladd, {t})) {
    Type* ie = IntegerType::get(b.getContext(), t->getScalarSizeInBits());
    it_ = t->isVectorTy() ? static_cast<Type*>(VectorType::get(ie, cast<VectorType>(t)->getElementCount())) : ie;
  }

  Value* exp(Value* x) {
    Value* k = reduce(clamp(x, k_.exp_lo, k_.exp_hi));
    Value* k1 = B.CreateAShr(k, ci(1));
    Value* k2 = B.CreateSub(k, k1);
    return B.CreateFMul(B.CreateFMul(B.CreateFAdd(c(1), em1_), pow2(k1)), pow2(k2));
  }

  // For |x| <= k_.fast only: e^r and 2^k are both normal, so adding k to e^r's exponent field
  // is the exact product.
  Value* exp_fast(Value* x) {
    reduce(x);
    Value* er = B.CreateBitCast(B.CreateFAdd(c(1), em1_), it_);
    // kd's bits are shifter's plus k, and shifter's low mantissa bits are 0: shifted up to the
    // exponent field, they are k's.
    return B.CreateBitCast(B.CreateAdd(er, B.CreateShl(B.CreateBitCast(kd_, it_), ci(k_.mantissa))), t_);
  }

  Value* expm1(Value* x) {
    Value* t = pow2(B.CreateSub(reduce(clamp(x, k_.expm1_lo, k_.exp_hi)), ci(1)));
    return B.CreateFMul(c(2), mad(t, em1_, B.CreateFSub(t, c(0.5))));
  }

  // All of x in the fast range (false for NaN).
  Value* all_fast(Value* x) {
    Function* fabs = Intrinsic::getDeclaration(B.GetInsertBlock()->getModule(), Intrinsic::fabs, {t_});
    Value* ok = B.CreateFCmpOLE(B.CreateCall(fabs, {x}), c(k_.fast));
    if (!t_->isVectorTy()) return ok;
    unsigned n = cast<FixedVectorType>(t_)->getNumElements();
    return B.CreateICmpEQ(B.CreateBitCast(ok, B.getIntNTy(n)), ConstantInt::getAllOnesValue(B.getIntNTy(n)));
  }

 private:
  Value* c(double v) { return ConstantFP::get(t_, v); }
  Value* ci(int64_t v) { return ConstantInt::get(it_, static_cast<uint64_t>(v), true); }
  Value* mad(Value* a, Value* b, Value* d) { return B.CreateCall(fma_, {a, b, d}); }
  // Comparisons that are false for NaN, so NaN stays.
  Value* clamp(Value* x, double lo, double hi) {
    x = B.CreateSelect(B.CreateFCmpOGT(x, c(hi)), c(hi), x);
    return B.CreateSelect(B.CreateFCmpOLT(x, c(lo)), c(lo), x);
  }
  // Sets em1_ = e^r - 1 and kd_, and returns k as an integer.
  Value* reduce(Value* x) {
    kd_ = mad(x, c(k_.log2e), c(k_.shifter));  // x / ln 2 + shifter, rounded
    Value* kf = B.CreateFSub(kd_, c(k_.shifter));
    Value* r = mad(B.CreateFNeg(kf), c(k_.ln2_hi), x);
    r = mad(B.CreateFNeg(kf), c(k_.ln2_lo), r);
    Value* poly = c(k_.c.back());
    for (size_t i = k_.c.size() - 1; i-- > 0;) poly = mad(poly, r, c(k_.c[i]));
    em1_ = mad(B.CreateFMul(r, r), poly, r);
    return B.CreateSub(B.CreateBitCast(kd_, it_), B.CreateBitCast(c(k_.shifter), it_));
  }
  Value* pow2(Value* e) {  // 2^e for e in the normal exponent range
    return B.CreateBitCast(B.CreateShl(B.CreateAdd(e, ci(k_.bias)), ci(k_.mantissa)), t_);
  }

  IRBuilder<>& B;
  Type* t_;
  const Constants& k_;
  Type* it_ = nullptr;  // the integer type of t_'s shape
  Function* fma_;
  Value* em1_ = nullptr;
  Value* kd_ = nullptr;
};

// The body of sf.exp.*: the fast path when every lane allows it, else a call of the exact path,
// a function of its own: on the cold path only, so the register allocator puts the spills the call
// needs there, and the exact code exists once rather than at every exp.
void define_exp(Function* f) {
  LLVMContext& ctx = f->getContext();
  Module& m = *f->getParent();
  Type* t = f->getReturnType();
  Function* exact = Function::Create(f->getFunctionType(), GlobalValue::InternalLinkage, f->getName() + ".exact", m);
  mark_pure(exact);
  exact->addFnAttr(Attribute::NoInline);
  exact->addFnAttr(Attribute::Cold);
  // A vector argument: both sides must agree on how it travels whatever width the target prefers,
  // so both are marked as clang marks functions with 512-bit vector arguments.
  if (t->isVectorTy()) {
    uint64_t bits = t->getPrimitiveSizeInBits().getFixedSize();
    exact->addFnAttr("min-legal-vector-width", std::to_string(bits));
    for (User* u : f->users())
      if (auto* call = dyn_cast<CallInst>(u)) {
        Function* caller = call->getFunction();
        Attribute a = caller->getFnAttribute("min-legal-vector-width");
        uint64_t have = 0;
        if (a.isValid()) a.getValueAsString().getAsInteger(10, have);
        if (have < bits) caller->addFnAttr("min-legal-vector-width", std::to_string(bits));
      }
  }
  {
    IRBuilder<> B(BasicBlock::Create(ctx, "entry", exact));
    B.CreateRet(Emitter(B, t).exp(exact->getArg(0)));
  }
  f->setLinkage(GlobalValue::InternalLinkage);
  mark_pure(f);
  BasicBlock* entry = BasicBlock::Create(ctx, "entry", f);
  BasicBlock* fast = BasicBlock::Create(ctx, "fast", f);
  BasicBlock* slow = BasicBlock::Create(ctx, "slow", f);
  IRBuilder<> B(entry);
  Value* x = f->getArg(0);
  Emitter e(B, t);
  B.CreateCondBr(e.all_fast(x), fast, slow, MDBuilder(ctx).createBranchWeights(1 << 20, 1));
  B.SetInsertPoint(fast);
  B.CreateRet(e.exp_fast(x));
  B.SetInsertPoint(slow);
  CallInst* call = B.CreateCall(exact, {x});
  call->setDoesNotAccessMemory();
  B.CreateRet(call);
}

// The vectoriser lists every variant it declares in llvm.compiler.used; the ones defined here
// must leave the list, or their unused bodies would stay.
void drop_from_compiler_used(Module& m, const std::vector<Function*>& fs) {
  GlobalVariable* used = m.getGlobalVariable("llvm.compiler.used");
  if (!used || !used->hasInitializer()) return;
  auto* list = dyn_cast<ConstantArray>(used->getInitializer());
  if (!list) return;
  std::vector<Constant*> keep;
  for (Use& u : list->operands()) {
    auto* c = cast<Constant>(u.get());
    bool ours = false;
    for (Function* f : fs) ours |= c->stripPointerCasts() == f;
    if (!ours) keep.push_back(c);
  }
  if (keep.size() == list->getNumOperands()) return;
  used->eraseFromParent();
  list->destroyConstant();  // it still counts as a user of the functions
  if (keep.empty()) return;
  auto* at = ArrayType::get(keep[0]->getType(), keep.size());
  auto* g = new GlobalVariable(m, at, false, GlobalValue::AppendingLinkage, ConstantArray::get(at, keep), "llvm.compiler.used");
  g->setSection("llvm.metadata");
}

}  // namespace

Value* emit_expm1(IRBuilder<>& B, Value* x) { return Emitter(B, x->getType()).expm1(x); }

void mark_pure(Function* f) {
  f->setDoesNotAccessMemory();
  f->setDoesNotThrow();
  f->addFnAttr(Attribute::WillReturn);
}

Value* call_pure(IRBuilder<>& B, StringRef name, Value* x) {
  Type* t = x->getType();
  FunctionCallee c = B.GetInsertBlock()->getModule()->getOrInsertFunction(name, FunctionType::get(t, {t}, false));
  if (auto* f = dyn_cast<Function>(c.getCallee())) mark_pure(f);
  CallInst* call = B.CreateCall(c, {x});
  call->setDoesNotAccessMemory();
  return call;
}

Value* call_exp(IRBuilder<>& B, Value* x) { return call_pure(B, x->getType()->isDoubleTy() ? kExpF64 : kExpF32, x); }

void define_exp_functions(Module& m) {
  const std::vector<std::vector<const char*>> families = {{kExpF64, kExpF64x2, kExpF64x4, kExpF64x8},
                                                          {kExpF32, kExpF32x4, kExpF32x8, kExpF32x16}};
  for (const auto& names : families) {
    Function* scalar = m.getFunction(names[0]);
    if (!scalar) continue;
    std::vector<Function*> vectors;
    for (size_t i = 1; i < names.size(); ++i)
      if (Function* f = m.getFunction(names[i])) vectors.push_back(f);
    std::vector<Function*> ours = vectors;
    ours.push_back(scalar);
    drop_from_compiler_used(m, ours);
    // Scalar calls that remain (remainder loops, loops the vectoriser left) go to libm's exp.
    scalar->replaceAllUsesWith(Intrinsic::getDeclaration(&m, Intrinsic::exp, {scalar->getReturnType()}));
    scalar->eraseFromParent();
    for (Function* f : vectors) {
      f->removeDeadConstantUsers();
      if (f->use_empty()) {
        f->eraseFromParent();
        continue;
      }
      define_exp(f);
      std::vector<CallInst*> calls;
      for (User* u : f->users())
        if (auto* call = dyn_cast<CallInst>(u)) calls.push_back(call);
      for (CallInst* call : calls) {
        InlineFunctionInfo info;
        InlineFunction(*call, info);
      }
      f->removeDeadConstantUsers();
      if (f->use_empty()) f->eraseFromParent();
    }
  }
}

}  // namespace sf::cpu
