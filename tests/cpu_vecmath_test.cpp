// Accuracy of the CPU backend's vectorised math (libmvec's variants, mapped for LLVM's loop
// vectoriser in backends/cpu/optimize.cpp; f32 exp and expm1 are inline IR, backends/cpu/inline_exp.h):
// for each function and dtype, 10^6 arguments (the ranges HH rate functions use, and near 0 for
// expm1/log1p) through a one-op graph, compared with the scalar libm function of the same dtype.
// Maximum error: 4 ulp for f64 and for f32 (libmvec documents its functions as within 4 ulp; the
// inline f32 functions are held to 2). The optimised IR must be vectorised and call the vector
// function (or, inline, no function at all), or the figures would only measure libm against itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <regex>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "compiler/lower.h"
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

template <class T>
void check_function(const Fn& f, DType dtype) {
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
  Builder b;
  Value in = b.input("x", dtype, {kArgs});
  Graph g = b.build({b.op(f.op, {in})});
  KernelProgram p = lower(g);
  BackendOptions o;
  o.strict_fp = true;  // measure the functions, not flush-to-zero
  Tensor y = make_executable("cpu", p, o)->run({{"x", x}}, {}).at(0);
  double worst = 0;
  T worst_x = 0;
  for (int64_t i = 0; i < kArgs; ++i) {
    double e = ulps(y.data<T>()[i], reference<T>(f.op, xs[i]));
    if (e > worst) worst = e, worst_x = xs[i];
  }
  MESSAGE(std::string(f.name) << " " << std::string(dtype_name(dtype)) << ": max error " << worst << " ulp (at x = " << worst_x << ") over "
                 << kArgs << " arguments in [" << f.lo << ", " << f.hi << "]"
                 << std::string(f.near0 > 0 ? " and near 0" : ""));
  // The loop calls libmvec's vector variant (sigmoid through exp), or for the inline functions
  // is vectorised and calls no exp at all.
  std::string base = f.op == Op::Sigmoid ? "exp" : f.name;
  std::string ir = cpu::optimized_ir(p);
  if (dtype == DType::f32 && (base == "exp" || base == "expm1")) {
    CHECK(worst <= (f.op == Op::Sigmoid ? 4 : 2));  // sigmoid: 1 / (1 + exp(-x)) rounds twice more
    CHECK_MESSAGE(ir.find("\nvector.body:") != std::string::npos, f.name, " f32 is not vectorised");
    std::regex call("call [^@]*@(_ZGV[a-zA-Z0-9]*_)?(llvm\\.)?" + base + "(f|\\.f32|\\.v[0-9]+f32)\\(");
    CHECK_MESSAGE(!std::regex_search(ir, call), f.name, " f32 still calls a library function");
  } else {
    CHECK(worst <= 4);
    std::regex call("call <[0-9]+ x (double|float)> @_ZGV[bcde]N[0-9]+v_" + base + (dtype == DType::f32 ? "f" : "") + "\\(");
    CHECK_MESSAGE(std::regex_search(ir, call), f.name, " ", dtype_name(dtype), " is not vectorised");
  }
}

}  // namespace

// The inline f32 functions where libm has its special cases: results that overflow to +inf or
// underflow through the subnormals to 0 (without flush-to-zero), NaN, +-inf, +-0, subnormal
// arguments, and a dense sweep over the whole range where the result is neither 0 nor inf.
TEST_CASE("cpu: inline f32 exp and expm1 keep libm's edge cases") {
  std::vector<float> xs = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, -1e-38f,
                           FLT_MAX, -FLT_MAX, 88.72283f, 88.72284f, 89.0f, 89.5f, -87.33654f, -87.4f,
                           -103.27893f, -103.97208f, -104.0f, -200.0f, -17.0f, -17.4f, -30.0f, -31.0f, 1e-7f, -1e-7f};
  for (int i = 0; i <= 200000; ++i) xs.push_back(-110.0f + 205.0f * static_cast<float>(i) / 200000.0f);
  auto n = static_cast<int64_t>(xs.size());
  Tensor x(DType::f32, {n});
  std::copy(xs.begin(), xs.end(), x.data<float>());
  for (Op op : {Op::Exp, Op::Expm1}) {
    Builder b;
    Graph g = b.build({b.op(op, {b.input("x", DType::f32, {n})})});
    BackendOptions o;
    o.strict_fp = true;  // gradual underflow, as libm
    Tensor y = make_executable("cpu", lower(g), o)->run({{"x", x}}, {}).at(0);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
      float want = reference<float>(op, xs[static_cast<size_t>(i)]), got = y.data<float>()[i];
      double e = ulps(got, want);
      if (std::isnan(want) || std::isinf(want) || want == 0 || std::abs(want) < FLT_MIN)  // exact cases
        CHECK_MESSAGE(e <= (std::abs(want) < FLT_MIN && want != 0 ? 1 : 0), std::string(op_name(op)), "(", xs[static_cast<size_t>(i)],
                      ") = ", got, ", libm ", want);
      worst = std::max(worst, e);
    }
    MESSAGE(std::string(op_name(op)) << " f32 edges: max error " << worst << " ulp over " << n << " arguments");
    CHECK(worst <= 2);
  }
}

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
