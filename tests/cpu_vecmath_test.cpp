// Accuracy of the CPU backend's vectorised math, compared with the scalar libm function of the same
// dtype:
//  - libmvec's variants (mapped for LLVM's loop vectoriser in backends/cpu/optimize.cpp): for each
//    function and dtype, 10^6 arguments (the ranges HH rate functions use, and near 0 for
//    expm1/log1p) through a one-op graph. At most 4 ulp (libmvec documents its functions as within
//    4 ulp). The optimised IR must call the vector function, or the figures would only measure
//    libm against itself.
//  - the inline exp and expm1 of large time-inside-elements scans (backends/cpu/inline_exp.h): the
//    same arguments, and libm's edge cases, through a one-step scan compiled with the threshold at
//    0. At most 2 ulp (sigmoid 4: it rounds twice more), no libmvec call left.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
#include <regex>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "compiler/pipeline.h"
#include "graph/builder.h"
#include "models/model.h"

using namespace sf;

namespace {

constexpr int64_t kArgs = 1'000'000;

// Distance in units in the last place, through the ordered integer image of the floats.
template <class T>
double ulps(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INFINITY;
  if (a == b) return 0;
  using I = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
  I ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  // Negative floats count down from the sign bit; the difference in 128 bits cannot overflow.
  auto ordered = [](I v) -> __int128 { return v < 0 ? static_cast<__int128>(std::numeric_limits<I>::min()) - v : v; };
  __int128 d = ordered(ia) - ordered(ib);
  return static_cast<double>(d < 0 ? -d : d);
}

struct Fn {
  const char* name;
  Op op;
  double lo, hi;          // main range (uniform)
  double near0;           // a second range [-near0, near0] (0: none)
  bool positive = false;  // log: arguments log-uniform in [lo, hi]
};

template <class T>
T reference(Op op, T x) {
  switch (op) {
    case Op::Exp: return std::exp(x);
    case Op::Expm1: return std::expm1(x);
    case Op::Log: return std::log(x);
    case Op::Log1p: return std::log1p(x);
    case Op::Tanh: return std::tanh(x);
    case Op::Sigmoid: return T(1) / (T(1) + std::exp(-x));
    case Op::Sin: return std::sin(x);
    case Op::Cos: return std::cos(x);
    default: return x;
  }
}

// y = f(x) on the cpu backend, without flush-to-zero: a one-op graph (libmvec), or with
// `inline_exp` a one-step scan whose carry x is also f's argument, interchanged (time inside the
// elements) and with the inline functions whatever the scan's size. Also returns the optimised IR.
Tensor run_op(Op op, const Tensor& x, bool inline_exp, std::string* ir) {
  int64_t n = x.size();
  Builder b;
  Value in = b.input("x", x.dtype(), {n});
  Value y;
  if (inline_exp) {
    ScanResult r = b.scan(1, {in}, {}, [&](Builder& body, const std::vector<Value>& c, const std::vector<Value>&) {
      return ScanStep{{c[0] + c[0]}, {body.op(op, {c[0]})}};
    });
    y = reshape(r.ys[0], {n});
  } else {
    y = b.op(op, {in});
  }
  KernelProgram p = compile_graph(b.build({y})).program;
  BackendOptions o;
  o.strict_fp = true;  // measure the functions, not flush-to-zero
  cpu::Tuning t;
  if (inline_exp) t.inline_exp_work = 0;
  auto exe = cpu::make_tuned_executable(p, o, t);
  if (inline_exp) {
    std::map<std::string, std::string> stats;
    for (auto& [k, v] : exe->stats()) stats[k] = v;
    CHECK(stats["interchanged_scans"] == "1");
  }
  *ir = cpu::optimized_ir(p, true, t.inline_exp_work);
  return exe->run({{"x", x}}, {}).at(0);
}

template <class T>
void check_function(const Fn& f, DType dtype, bool inline_exp = false) {
  // Arguments: a deterministic spread over the ranges.
  Tensor x(dtype, {kArgs});
  T* xs = x.data<T>();
  for (int64_t i = 0; i < kArgs; ++i) {
    double u = (static_cast<double>(i) + 0.5) / static_cast<double>(kArgs / 2);
    double v;
    if (i < kArgs / 2 || f.near0 == 0) {
      double w = i < kArgs / 2 ? u : u - 1;
      v = f.positive ? std::exp(std::log(f.lo) + (std::log(f.hi) - std::log(f.lo)) * w) : f.lo + (f.hi - f.lo) * w;
    } else {
      v = -f.near0 + 2 * f.near0 * (u - 1);
    }
    xs[i] = static_cast<T>(v);
  }
  std::string ir;
  Tensor y = run_op(f.op, x, inline_exp, &ir);
  double worst = 0;
  T worst_x = 0;
  for (int64_t i = 0; i < kArgs; ++i) {
    double e = ulps(y.data<T>()[i], reference<T>(f.op, xs[i]));
    if (e > worst) worst = e, worst_x = xs[i];
  }
  MESSAGE(std::string(inline_exp ? "inline " : "") << std::string(f.name) << " " << std::string(dtype_name(dtype)) << ": max error "
                 << worst << " ulp (at x = " << worst_x << ") over " << kArgs << " arguments in [" << f.lo << ", "
                 << f.hi << "]" << std::string(f.near0 > 0 ? " and near 0" : ""));
  std::string base = f.op == Op::Sigmoid ? "exp" : f.name;  // sigmoid goes through exp
  std::string suffix = dtype == DType::f32 ? "f" : "";
  if (inline_exp) {
    CHECK(worst <= (f.op == Op::Sigmoid ? 4 : 2));
    CHECK_MESSAGE(ir.find("\nvector.body:") != std::string::npos, "inline ", f.name, " is not vectorised");
    std::regex call("call [^@]*@_ZGV[bcde]N[0-9]+v_" + base + suffix + "\\(");
    CHECK_MESSAGE(!std::regex_search(ir, call), "inline ", f.name, " still calls libmvec");
  } else {
    CHECK(worst <= 4);
    // The loop calls libmvec's vector variant.
    std::regex call("call <[0-9]+ x (double|float)> @_ZGV[bcde]N[0-9]+v_" + base + suffix + "\\(");
    CHECK_MESSAGE(std::regex_search(ir, call), f.name, " ", dtype_name(dtype), " is not vectorised");
  }
}

// The inline functions where libm has its special cases: results that overflow to +inf or
// underflow through the subnormals to 0 (without flush-to-zero), NaN, +-inf, +-0, subnormal
// arguments, the ends of exp's fast path, and a dense sweep over the range where the result is
// neither 0 nor inf. Exact where libm's result is 0, inf, NaN; within 1 ulp where it is subnormal.
template <class T>
void check_edges(DType dtype) {
  constexpr bool f64 = sizeof(T) == 8;
  const T big = std::numeric_limits<T>::max(), tiny = std::numeric_limits<T>::denorm_min();
  std::vector<T> xs = {T(NAN), T(-NAN), T(INFINITY), T(-INFINITY), T(0), T(-0.0), tiny, -tiny,
                       std::numeric_limits<T>::min(), big, -big, T(1e-7), T(-1e-7), T(-17.4), T(-30), T(-31), T(-50)};
  const std::vector<double> ends = f64 ? std::vector<double>{708, 708.0001, 709.78, 709.7827, 709.79, 710, 711, -708,
                                                            -708.0001, -708.39, -708.4, -744.4, -745.1, -745.2, -746, -800}
                                       : std::vector<double>{86, 86.001, 88.72, 88.7229, 88.73, 89, 90, -86, -86.001,
                                                            -87.33, -87.34, -103.27, -103.97, -104, -105};
  for (double e : ends) xs.push_back(static_cast<T>(e));
  const double lo = f64 ? -760 : -110, hi = f64 ? 720 : 95;
  for (int i = 0; i <= 200000; ++i) xs.push_back(static_cast<T>(lo + (hi - lo) * i / 200000.0));
  auto n = static_cast<int64_t>(xs.size());
  Tensor x(dtype, {n});
  std::copy(xs.begin(), xs.end(), x.data<T>());
  for (Op op : {Op::Exp, Op::Expm1}) {
    std::string ir;
    Tensor y = run_op(op, x, true, &ir);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
      T want = reference<T>(op, xs[static_cast<size_t>(i)]), got = y.data<T>()[i];
      double e = ulps(got, want);
      bool special = std::isnan(want) || std::isinf(want) || want == 0, subnormal = !special && std::abs(want) < std::numeric_limits<T>::min();
      if (special || subnormal)
        CHECK_MESSAGE(e <= (subnormal ? 1 : 0), std::string(op_name(op)), "(", xs[static_cast<size_t>(i)], ") = ", got,
                      ", libm ", want);
      worst = std::max(worst, e);
    }
    MESSAGE("inline " << std::string(op_name(op)) << " " << std::string(dtype_name(dtype)) << " edges: max error "
                      << worst << " ulp over " << n << " arguments");
    CHECK(worst <= 2);
  }
}

}  // namespace

TEST_CASE("cpu: vectorised math is within 4 ulp of libm (f64, f32) and really vectorised") {
  const Fn f64s[] = {
      {"exp", Op::Exp, -50, 50, 0},          {"exp", Op::Exp, -700, 700, 0},
      {"expm1", Op::Expm1, -50, 50, 1e-3},   {"log", Op::Log, 1e-300, 1e300, 0, true},
      {"log1p", Op::Log1p, -0.999, 1e3, 1e-3}, {"tanh", Op::Tanh, -20, 20, 1e-3},
      {"sigmoid", Op::Sigmoid, -50, 50, 0},  {"sin", Op::Sin, -100, 100, 0},
      {"cos", Op::Cos, -100, 100, 0},
  };
  for (const Fn& f : f64s) check_function<double>(f, DType::f64);
  const Fn f32s[] = {
      {"exp", Op::Exp, -50, 50, 0},          {"exp", Op::Exp, -87, 88, 0},
      {"expm1", Op::Expm1, -50, 50, 1e-3},   {"log", Op::Log, 1e-30f, 1e30f, 0, true},
      {"log1p", Op::Log1p, -0.999, 1e3, 1e-3}, {"tanh", Op::Tanh, -20, 20, 1e-3},
      {"sigmoid", Op::Sigmoid, -50, 50, 0},  {"sin", Op::Sin, -100, 100, 0},
      {"cos", Op::Cos, -100, 100, 0},
  };
  for (const Fn& f : f32s) check_function<float>(f, DType::f32);
}

// antennal-lobe's RK stages write their outputs where the memory plan reuses their inputs' bytes;
// each such kernel must still vectorise (one pointer per arena place, so LLVM sees the in-place
// update), not call exp one element at a time. Scalar calls may remain before the loop for values
// every element shares (then the loop is vectorised). Its step kernels run over 30, 90 or 4060
// elements: the last partial vector is masked, so no vectorised kernel keeps a scalar remainder
// loop (the element loop is "o"; LLVM names its vector copy "vector.body").
TEST_CASE("cpu: every exp-calling kernel of antennal-lobe is vectorised, without a scalar remainder") {
  RunConfig cfg;
  cfg.t_end = 1;
  std::string ir = cpu::optimized_ir(compile_graph(find_model("antennal-lobe").build(cfg)).program);
  std::regex define("\ndefine [^@]*@([A-Za-z0-9_.]*kernel_k[0-9]+)\\(");  // (JIT parts prefix the names)
  std::regex scalar("call (fast )?double @(llvm\\.exp\\.f64|exp|expm1)\\(");
  std::regex vector("call [^@]*@_ZGV[a-zA-Z0-9]*_(exp|expm1)\\(");
  int kernels = 0, vectorised_loops = 0;
  for (auto it = std::sregex_iterator(ir.begin(), ir.end(), define); it != std::sregex_iterator(); ++it) {
    size_t end = ir.find("\n}\n", static_cast<size_t>(it->position()));
    std::string body = ir.substr(static_cast<size_t>(it->position()), end - static_cast<size_t>(it->position()));
    std::string name = (*it)[1].str();
    bool vectorised = body.find("\nvector.body:") != std::string::npos;
    if (vectorised) {
      ++vectorised_loops;
      CHECK_MESSAGE(body.find("\no.body:") == std::string::npos, name, " keeps a scalar remainder loop");
    }
    bool scalar_calls = std::regex_search(body, scalar);
    if (!scalar_calls && !std::regex_search(body, vector)) continue;
    ++kernels;
    if (scalar_calls) CHECK_MESSAGE(vectorised, name, " calls exp only as a scalar, in a scalar loop");
  }
  CHECK(kernels >= 10);
  CHECK(vectorised_loops >= 15);
}

TEST_CASE("cpu: inline exp and expm1 of large interchanged scans are within 2 ulp of libm (f64, f32)") {
  const Fn fns[] = {
      {"exp", Op::Exp, -50, 50, 0},        {"exp", Op::Exp, -700, 700, 0},
      {"expm1", Op::Expm1, -50, 50, 1e-3}, {"sigmoid", Op::Sigmoid, -50, 50, 0},
  };
  for (const Fn& f : fns) check_function<double>(f, DType::f64, true);
  for (const Fn& f : fns)
    if (f.hi < 100) check_function<float>(f, DType::f32, true);
}

TEST_CASE("cpu: inline exp and expm1 keep libm's edge cases (f64, f32)") {
  check_edges<double>(DType::f64);
  check_edges<float>(DType::f32);
}
