// f32 exp and expm1 as straight-line IR instead of libmvec calls: the loop vectoriser widens them
// like any arithmetic, so a vectorised kernel keeps its values in registers across them (a libmvec
// call clobbers every vector register). hh-squid in f32 runs 7-9 % faster than with libmvec's
// expf/expm1f, and the results are within 1-2 ulp of libm instead of 3. f64 keeps libmvec: the
// same construction in f64 (degree-11 polynomial, correctly scaled near under- and overflow) was
// measured no faster on hh-squid and made antennal-lobe's JIT 40 % slower.
//
// Edge cases as libm has them (tests/cpu_vecmath_test.cpp): +inf above the overflow threshold,
// gradual underflow to subnormals and 0, NaN for NaN.
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace sf::cpu {

// e^x for a scalar float x, at the builder's position.
llvm::Value* emit_expf(llvm::IRBuilder<>& B, llvm::Value* x);
// e^x - 1, likewise.
llvm::Value* emit_expm1f(llvm::IRBuilder<>& B, llvm::Value* x);

}  // namespace sf::cpu
