// e^x = 2^k * e^r with k = round(x / ln 2) and r = x - k ln 2 in [-ln2/2, ln2/2]:
//  - k comes from adding 1.5 * 2^23: the sum's low mantissa bits are k, rounded to nearest, and
//    k ln 2 is subtracted in two parts (Cody and Waite), the first exact for |k| < 256;
//  - e^r - 1 = r + r^2 c(r), c a degree-4 polynomial fitted to (e^r - 1 - r) / r^2 on the
//    interval (scripts/exp_coefficients.py), evaluated with fused multiply-adds;
//  - exp: 2^k is built in the exponent bits, as two factors 2^(k/2) and 2^(k - k/2) so that
//    results down in the subnormal range are rounded once, as libm rounds them, and overflow
//    gives +inf;
//  - expm1: 2^k (e^r - 1) + (2^k - 1), computed as 2 (t (e^r - 1) + (t - 1/2)) with t = 2^(k-1)
//    so that t stays a normal number up to the overflow threshold. At k = 0 this is e^r - 1
//    itself, exact to the polynomial's error however small x is.
// x is clamped first so that k stays in range; NaN passes the clamps and the arithmetic.
#include "backends/cpu/inline_exp.h"

#include <llvm/IR/Intrinsics.h>

namespace sf::cpu {

using namespace llvm;

namespace {

constexpr float kExpLo = -104.0f;   // e^x rounds to 0 below
constexpr float kExpHi = 89.0f;     // and to +inf above
constexpr float kExpm1Lo = -30.0f;  // e^x - 1 rounds to -1 below
constexpr float kShifter = 0x1.8p23f;
constexpr float kLn2Hi = 0x1.62e4p-1f, kLn2Lo = 0x1.7f7d1cp-20f;  // ln 2 = hi + lo
constexpr float kC[] = {0x1p-1f, 0x1.5554d8p-3f, 0x1.5554e4p-5f, 0x1.121072p-7f, 0x1.6d4926p-10f};

class Emitter {
 public:
  explicit Emitter(IRBuilder<>& b)
      : B(b), fma_(Intrinsic::getDeclaration(b.GetInsertBlock()->getModule(), Intrinsic::fmuladd, {b.getFloatTy()})) {}

  Value* exp(Value* x) {
    Value* k = reduce(clamp(x, kExpLo, kExpHi));
    Value* k1 = B.CreateAShr(k, B.getInt32(1));
    Value* k2 = B.CreateSub(k, k1);
    return B.CreateFMul(B.CreateFMul(B.CreateFAdd(c(1), em1_), pow2(k1)), pow2(k2));
  }

  Value* expm1(Value* x) {
    Value* t = pow2(B.CreateSub(reduce(clamp(x, kExpm1Lo, kExpHi)), B.getInt32(1)));
    return B.CreateFMul(c(2), mad(t, em1_, B.CreateFSub(t, c(0.5f))));
  }

 private:
  Value* c(float v) { return ConstantFP::get(B.getFloatTy(), v); }
  Value* mad(Value* a, Value* b, Value* d) { return B.CreateCall(fma_, {a, b, d}); }
  // Comparisons that are false for NaN, so NaN stays.
  Value* clamp(Value* x, float lo, float hi) {
    x = B.CreateSelect(B.CreateFCmpOGT(x, c(hi)), c(hi), x);
    return B.CreateSelect(B.CreateFCmpOLT(x, c(lo)), c(lo), x);
  }
  // Sets em1_ = e^r - 1 and returns k as an i32.
  Value* reduce(Value* x) {
    Value* kd = mad(x, c(0x1.715476p0f), c(kShifter));  // x / ln 2 + shifter, rounded
    Value* kf = B.CreateFSub(kd, c(kShifter));
    Value* r = mad(B.CreateFNeg(kf), c(kLn2Hi), x);
    r = mad(B.CreateFNeg(kf), c(kLn2Lo), r);
    Value* poly = c(kC[4]);
    for (int i = 3; i >= 0; --i) poly = mad(poly, r, c(kC[i]));
    em1_ = mad(B.CreateFMul(r, r), poly, r);
    return B.CreateSub(B.CreateBitCast(kd, B.getInt32Ty()), B.CreateBitCast(c(kShifter), B.getInt32Ty()));
  }
  Value* pow2(Value* e) {  // 2^e for e in the normal exponent range
    return B.CreateBitCast(B.CreateShl(B.CreateAdd(e, B.getInt32(127)), B.getInt32(23)), B.getFloatTy());
  }

  IRBuilder<>& B;
  Function* fma_;
  Value* em1_ = nullptr;
};

}  // namespace

Value* emit_expf(IRBuilder<>& B, Value* x) { return Emitter(B).exp(x); }
Value* emit_expm1f(IRBuilder<>& B, Value* x) { return Emitter(B).expm1(x); }

}  // namespace sf::cpu
