// exp and expm1 as straight-line IR instead of libmvec calls, for the element loops of
// time-inside-elements scans (kernel_gen.cpp): there the state of a block of elements stays in
// registers for many steps, and a libmvec call clobbers every vector register (hh-squid's RK4 step
// makes 24 per vector of neurons, each with its spills). Within 2 ulp of libm, with libm's edge
// cases: +inf above the overflow threshold, gradual underflow to subnormals and 0, NaN for NaN
// (tests/cpu_vecmath_test.cpp).
//
//  - expm1 is emitted inline, and the vectoriser widens it like any arithmetic.
//  - exp is a call of `sf.exp.f64` (`sf.exp.f32`), which the vectoriser widens like a libmvec
//    function; define_exp_functions then defines the vector variants and inlines them: a fast
//    path for |x| <= 708 (86 for f32), where 2^k can be added to the exponent bits, and, only
//    when some lane is outside, a call of the exact code with its clamps and two scaling factors.
//    Plain inline code would pay for those on every call; it was measured no faster than libmvec.
//
// On hh-squid with 10^4 neurons, f64: about 10 % less time per step, but about 100 ms more JIT
// (the loop's machine code roughly doubles), so it is used only for scans of at least
// CodegenOptions::inline_exp_work element-steps.
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace sf::cpu {

// e^x - 1 for x of any float type (f32, f64, scalar or vector), at the builder's position.
llvm::Value* emit_expm1(llvm::IRBuilder<>& B, llvm::Value* x);

// A call of `sf.exp.f64(double)` or `sf.exp.f32(float)`, declared for the vectoriser
// (optimize.cpp maps them to their vector variants). define_exp_functions must run after the
// vectoriser: it defines and inlines the vector variants, and sends the scalar calls that remain
// to libm.
llvm::Value* call_exp(llvm::IRBuilder<>& B, llvm::Value* x);
// A call of the unary float function `name` (libm's, libmvec's or ours) that reads no memory, as
// the vectoriser needs (errno is never looked at); mark_pure gives a function those attributes.
llvm::Value* call_pure(llvm::IRBuilder<>& B, llvm::StringRef name, llvm::Value* x);
void mark_pure(llvm::Function* f);
void define_exp_functions(llvm::Module& m);

// The functions' names, for the vectoriser's table.
inline constexpr const char* kExpF64 = "sf.exp.f64";
inline constexpr const char* kExpF64x2 = "sf.exp.v2f64";
inline constexpr const char* kExpF64x4 = "sf.exp.v4f64";
inline constexpr const char* kExpF64x8 = "sf.exp.v8f64";
inline constexpr const char* kExpF32 = "sf.exp.f32";
inline constexpr const char* kExpF32x4 = "sf.exp.v4f32";
inline constexpr const char* kExpF32x8 = "sf.exp.v8f32";
inline constexpr const char* kExpF32x16 = "sf.exp.v16f32";

}  // namespace sf::cpu
