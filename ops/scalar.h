// Reference scalar semantics of the elementwise ops (named by ops/ops.def). Every evaluator of the
// IR (interpreter, constant folding) computes through these, so they agree bit for bit.
// Integer arithmetic wraps (two's complement) instead of being undefined; float -> int casts
// saturate and send NaN to 0 (LLVM's fptosi.sat), so no input makes the reference undefined.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/op.h"

namespace sf {

template <class T>
inline constexpr bool is_fp_v = std::is_floating_point_v<T>;

// Converts a value of any element type to T with the IR's cast semantics.
template <class T, class F>
T convert(F v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return v != F(0) ? 1 : 0;
  } else if constexpr (std::is_integral_v<T> && is_fp_v<F>) {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<F>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v >= static_cast<F>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

namespace sm {
template <class T>
using U = std::make_unsigned_t<T>;

template <class T> T add(T a, T b) { if constexpr (is_fp_v<T>) return a + b; else return T(U<T>(a) + U<T>(b)); }
template <class T> T sub(T a, T b) { if constexpr (is_fp_v<T>) return a - b; else return T(U<T>(a) - U<T>(b)); }
template <class T> T mul(T a, T b) { if constexpr (is_fp_v<T>) return a * b; else return T(U<T>(a) * U<T>(b)); }
template <class T> T neg(T a) { if constexpr (is_fp_v<T>) return -a; else return T(U<T>(0) - U<T>(a)); }
template <class T> T abs(T a) { if constexpr (is_fp_v<T>) return std::fabs(a); else return a < 0 ? neg(a) : a; }
// min/max return the first operand when the comparison is false (NaN in b is dropped, NaN in a kept).
template <class T> T min(T a, T b) { return b < a ? b : a; }
template <class T> T max(T a, T b) { return b > a ? b : a; }
template <class T> T lnot(T a) { return a ? 0 : 1; }
template <class T> T land(T a, T b) { return (a && b) ? 1 : 0; }
template <class T> T lor(T a, T b) { return (a || b) ? 1 : 0; }

#define SF_FLOAT_FN(name, expr) \
  template <class T>            \
  T name(T a) {                 \
    if constexpr (is_fp_v<T>)   \
      return expr;              \
    else                        \
      return a;                 \
  }
SF_FLOAT_FN(exp, std::exp(a))
SF_FLOAT_FN(expm1, std::expm1(a))
SF_FLOAT_FN(log, std::log(a))
SF_FLOAT_FN(log1p, std::log1p(a))
SF_FLOAT_FN(sqrt, std::sqrt(a))
SF_FLOAT_FN(sin, std::sin(a))
SF_FLOAT_FN(cos, std::cos(a))
SF_FLOAT_FN(tanh, std::tanh(a))
SF_FLOAT_FN(sigmoid, T(1) / (T(1) + std::exp(-a)))
SF_FLOAT_FN(floor, std::floor(a))
#undef SF_FLOAT_FN
template <class T> T div(T a, T b) { if constexpr (is_fp_v<T>) return a / b; else return a; }
template <class T> T pow(T a, T b) { if constexpr (is_fp_v<T>) return std::pow(a, b); else return a; }
}  // namespace sm

// The scalar function of an elementwise op, selected once per node so hot loops call it directly.
// constexpr, so a loop instantiated for one op can take it as a constant and inline it.
template <class T>
using UnaryFn = T (*)(T);
template <class T>
using BinaryFn = T (*)(T, T);
template <class T>
using CompareFn = bool (*)(T, T);

template <class T>
constexpr UnaryFn<T> unary_fn(Op op) {
  switch (op) {
#define SF_UNARY(E, name, dt, expr) \
  case Op::E: return [](T a) -> T { return expr; };
#include "ops/ops.def"
    default: return nullptr;
  }
}

template <class T>
constexpr BinaryFn<T> binary_fn(Op op) {
  switch (op) {
#define SF_BINARY(E, name, dt, comm, expr) \
  case Op::E: return [](T a, T b) -> T { return expr; };
#include "ops/ops.def"
    default: return nullptr;
  }
}

template <class T>
constexpr CompareFn<T> compare_fn(Op op) {
  switch (op) {
#define SF_COMPARE(E, name, expr) \
  case Op::E: return [](T a, T b) -> bool { return expr; };
#include "ops/ops.def"
    default: return nullptr;
  }
}

}  // namespace sf
