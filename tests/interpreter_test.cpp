#include <doctest/doctest.h>

#include <ctime>
#include <cmath>
#include <cstdio>
#include <limits>

#include "backends/interpreter/interpreter.h"
#include "graph/builder.h"
#include "graph/error.h"
#include "ops/scalar.h"

using namespace sf;

namespace {

constexpr DType f32 = DType::f32, f64 = DType::f64, i32 = DType::i32, i64 = DType::i64, b8 = DType::b8;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tensor T(DType d, Shape s, std::vector<double> v) { return Tensor::from(d, std::move(s), v); }

std::vector<double> vals(const Tensor& t) {
  std::vector<double> r;
  for (int64_t i = 0; i < t.size(); ++i) r.push_back(t.get(i));
  return r;
}

// The value of `op` applied to constant operands.
Tensor apply(Op op, const std::vector<Tensor>& xs, Attrs attrs = {}) {
  Builder b;
  std::vector<Value> vs;
  for (auto& x : xs) vs.push_back(b.constant(x));
  return interpret(b.build({b.op(op, vs, std::move(attrs))}))[0];
}

Tensor eval(Builder& b, Value v, const std::map<std::string, Tensor>& inputs = {}, const RunOptions& o = {}) {
  return interpret(b.build({v}), inputs, o)[0];
}

// Records everything a run sends to its sink.
struct CollectSink : RecordSink {
  struct Chunk {
    NodeId scan;
    int64_t y, first_row;
    Tensor rows;
  };
  std::vector<Chunk> chunks;
  std::vector<std::vector<Event>> event_calls;
  std::vector<std::pair<int64_t, int64_t>> progress_calls;

  void rows(NodeId scan, int64_t y, const Tensor& chunk, int64_t first_row) override {
    chunks.push_back({scan, y, first_row, chunk});
  }
  void events(NodeId, int64_t, const std::vector<Event>& ev) override { event_calls.push_back(ev); }
  void progress(NodeId, int64_t step, int64_t length) override { progress_calls.emplace_back(step, length); }

  // All rows of output y, concatenated.
  std::vector<double> all_rows(int64_t y) const {
    std::vector<double> r;
    for (auto& c : chunks)
      if (c.y == y)
        for (double v : vals(c.rows)) r.push_back(v);
    return r;
  }
  std::vector<Event> all_events() const {
    std::vector<Event> r;
    for (auto& c : event_calls) r.insert(r.end(), c.begin(), c.end());
    return r;
  }
};

bool same_events(const std::vector<Event>& a, const std::vector<std::pair<int64_t, int64_t>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].index != b[i].first || a[i].step != b[i].second) return false;
  return true;
}

ScanBody cumsum_body = [](Builder&, const std::vector<Value>& c, const std::vector<Value>& x) {
  Value s = c[0] + x[0];
  return ScanStep{{s}, {s}};
};

}  // namespace

// ---- elementwise -----------------------------------------------------------------------------

TEST_CASE("interp: unary float ops match the C library, f64 and f32") {
  std::vector<double> x = {-1.5, -0.25, 0.0, 0.5, 2.0};
  std::vector<double> pos = {0.25, 0.5, 1.0, 2.0, 9.0};
  struct Case {
    Op op;
    double (*ref)(double);
    const std::vector<double>* in;
  };
  Case cases[] = {{Op::Exp, [](double a) { return std::exp(a); }, &x},
                  {Op::Expm1, [](double a) { return std::expm1(a); }, &x},
                  {Op::Log, [](double a) { return std::log(a); }, &pos},
                  {Op::Log1p, [](double a) { return std::log1p(a); }, &pos},
                  {Op::Sqrt, [](double a) { return std::sqrt(a); }, &pos},
                  {Op::Sin, [](double a) { return std::sin(a); }, &x},
                  {Op::Cos, [](double a) { return std::cos(a); }, &x},
                  {Op::Tanh, [](double a) { return std::tanh(a); }, &x},
                  {Op::Sigmoid, [](double a) { return 1.0 / (1.0 + std::exp(-a)); }, &x},
                  {Op::Floor, [](double a) { return std::floor(a); }, &x},
                  {Op::Neg, [](double a) { return -a; }, &x},
                  {Op::Abs, [](double a) { return std::fabs(a); }, &x}};
  for (auto& c : cases) {
    CAPTURE(op_name(c.op));
    Tensor r = apply(c.op, {T(f64, {5}, *c.in)});
    Tensor r32 = apply(c.op, {T(f32, {5}, *c.in)});
    CHECK(r.dtype() == f64);
    CHECK(r32.dtype() == f32);
    for (int i = 0; i < 5; ++i) {
      double a = (*c.in)[static_cast<size_t>(i)];
      CHECK(r.get(i) == c.ref(a));
      float a32 = static_cast<float>(a);
      CHECK(r32.data<float>()[i] == static_cast<float>(unary_fn<float>(c.op)(a32)));
    }
  }
}

TEST_CASE("interp: integer neg/abs wrap and not on bool") {
  Tensor x(i32, {3});
  x.data<int32_t>()[0] = std::numeric_limits<int32_t>::min();
  x.data<int32_t>()[1] = -7;
  x.data<int32_t>()[2] = 5;
  CHECK(vals(apply(Op::Neg, {x})) == std::vector<double>{-2147483648.0, 7, -5});
  CHECK(vals(apply(Op::Abs, {x})) == std::vector<double>{-2147483648.0, 7, 5});
  CHECK(vals(apply(Op::Neg, {T(i64, {2}, {3, -4})})) == std::vector<double>{-3, 4});
  Tensor n = apply(Op::Not, {T(b8, {3}, {1, 0, 1})});
  CHECK(n.dtype() == b8);
  CHECK(vals(n) == std::vector<double>{0, 1, 0});
}

TEST_CASE("interp: binary arithmetic on every numeric dtype") {
  for (DType d : {f32, f64, i32, i64}) {
    CAPTURE(dtype_name(d));
    Tensor a = T(d, {4}, {1, -2, 7, 10}), b = T(d, {4}, {3, 5, -2, 4});
    CHECK(vals(apply(Op::Add, {a, b})) == std::vector<double>{4, 3, 5, 14});
    CHECK(vals(apply(Op::Sub, {a, b})) == std::vector<double>{-2, -7, 9, 6});
    CHECK(vals(apply(Op::Mul, {a, b})) == std::vector<double>{3, -10, -14, 40});
    CHECK(vals(apply(Op::Min, {a, b})) == std::vector<double>{1, -2, -2, 4});
    CHECK(vals(apply(Op::Max, {a, b})) == std::vector<double>{3, 5, 7, 10});
    CHECK(apply(Op::Add, {a, b}).dtype() == d);
  }
  Tensor a = T(f64, {3}, {1, 2, 9}), b = T(f64, {3}, {4, 0.5, 0.5});
  CHECK(vals(apply(Op::Div, {a, b})) == std::vector<double>{0.25, 4, 18});
  CHECK(vals(apply(Op::Pow, {a, b})) == std::vector<double>{1, std::pow(2.0, 0.5), 3});
  CHECK(vals(apply(Op::Div, {T(f32, {2}, {1, 3}), T(f32, {2}, {4, 2})})) == std::vector<double>{0.25, 1.5});
}

TEST_CASE("interp: integer arithmetic wraps around") {
  int32_t mx = std::numeric_limits<int32_t>::max(), mn = std::numeric_limits<int32_t>::min();
  Tensor a(i32, {3}), b(i32, {3});
  a.data<int32_t>()[0] = mx, b.data<int32_t>()[0] = 1;
  a.data<int32_t>()[1] = mn, b.data<int32_t>()[1] = 1;
  a.data<int32_t>()[2] = 65536, b.data<int32_t>()[2] = 65536;
  Tensor s = apply(Op::Add, {a, b}), d = apply(Op::Sub, {a, b}), m = apply(Op::Mul, {a, b});
  CHECK(s.data<int32_t>()[0] == mn);
  CHECK(d.data<int32_t>()[1] == mx);
  CHECK(m.data<int32_t>()[2] == 0);  // 2^32 wraps to 0
  Tensor x(i64, {1}), y(i64, {1});
  x.data<int64_t>()[0] = std::numeric_limits<int64_t>::max();
  y.data<int64_t>()[0] = 2;
  CHECK(apply(Op::Add, {x, y}).data<int64_t>()[0] == std::numeric_limits<int64_t>::min() + 1);
  CHECK(apply(Op::Mul, {x, y}).data<int64_t>()[0] == -2);
}

TEST_CASE("interp: min/max NaN rule (the first operand wins when the comparison is false)") {
  Tensor a = T(f64, {3}, {kNaN, 1, kNaN}), b = T(f64, {3}, {1, kNaN, kNaN});
  for (Op op : {Op::Min, Op::Max}) {
    std::vector<double> r = vals(apply(op, {a, b}));
    CHECK(std::isnan(r[0]));  // NaN in a is kept
    CHECK(r[1] == 1);         // NaN in b is dropped
    CHECK(std::isnan(r[2]));
  }
}

TEST_CASE("interp: logical and/or") {
  Tensor a = T(b8, {4}, {0, 0, 1, 1}), b = T(b8, {4}, {0, 1, 0, 1});
  CHECK(vals(apply(Op::And, {a, b})) == std::vector<double>{0, 0, 0, 1});
  CHECK(vals(apply(Op::Or, {a, b})) == std::vector<double>{0, 1, 1, 1});
}

TEST_CASE("interp: comparisons on every dtype, NaN compares false except ne") {
  for (DType d : {f32, f64, i32, i64, b8}) {
    CAPTURE(dtype_name(d));
    Tensor a = T(d, {3}, {0, 1, 1}), b = T(d, {3}, {1, 1, 0});
    CHECK(vals(apply(Op::Lt, {a, b})) == std::vector<double>{1, 0, 0});
    CHECK(vals(apply(Op::Le, {a, b})) == std::vector<double>{1, 1, 0});
    CHECK(vals(apply(Op::Gt, {a, b})) == std::vector<double>{0, 0, 1});
    CHECK(vals(apply(Op::Ge, {a, b})) == std::vector<double>{0, 1, 1});
    CHECK(vals(apply(Op::Eq, {a, b})) == std::vector<double>{0, 1, 0});
    CHECK(vals(apply(Op::Ne, {a, b})) == std::vector<double>{1, 0, 1});
    CHECK(apply(Op::Eq, {a, b}).dtype() == b8);
  }
  Tensor n = T(f64, {1}, {kNaN});
  for (Op op : {Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq}) CHECK(vals(apply(op, {n, n})) == std::vector<double>{0});
  CHECK(vals(apply(Op::Ne, {n, n})) == std::vector<double>{1});
}

TEST_CASE("interp: rank-0 operands broadcast") {
  Tensor v = T(f64, {3}, {1, 2, 3}), s = Tensor::scalar(f64, 10);
  CHECK(vals(apply(Op::Sub, {v, s})) == std::vector<double>{-9, -8, -7});
  CHECK(vals(apply(Op::Sub, {s, v})) == std::vector<double>{9, 8, 7});
  Tensor ss = apply(Op::Mul, {s, s});
  CHECK(ss.shape() == Shape{});
  CHECK(ss.get(0) == 100);
  CHECK(vals(apply(Op::Lt, {s, T(f64, {2}, {5, 20})})) == std::vector<double>{0, 1});
  // where with each operand a scalar or a vector
  Tensor c = T(b8, {3}, {1, 0, 1}), cs = Tensor::scalar(b8, 0);
  CHECK(vals(apply(Op::Where, {c, v, s})) == std::vector<double>{1, 10, 3});
  CHECK(vals(apply(Op::Where, {c, s, v})) == std::vector<double>{10, 2, 10});
  CHECK(vals(apply(Op::Where, {cs, v, s})) == std::vector<double>{10, 10, 10});
  CHECK(vals(apply(Op::Where, {cs, s, Tensor::scalar(f64, 4)})) == std::vector<double>{4});
  Builder b;
  Value x = b.input("x", f64, {3});
  CHECK(vals(eval(b, 2.0 * x + 1.0, {{"x", v}})) == std::vector<double>{3, 5, 7});
}

TEST_CASE("interp: where on every dtype") {
  Tensor c = T(b8, {2}, {1, 0});
  for (DType d : {f32, f64, i32, i64, b8})
    CHECK(vals(apply(Op::Where, {c, T(d, {2}, {1, 1}), T(d, {2}, {0, 0})})) == std::vector<double>{1, 0});
}

TEST_CASE("interp: cast saturates, sends NaN to 0, truncates toward zero") {
  Tensor x = T(f64, {8}, {1e10, -1e10, kNaN, 2.7, -2.7, kInf, -kInf, 0.0});
  Tensor r = apply(Op::Cast, {x}, Attrs{{"dtype", i32}});
  CHECK(r.dtype() == i32);
  const int32_t* p = r.data<int32_t>();
  CHECK(p[0] == std::numeric_limits<int32_t>::max());
  CHECK(p[1] == std::numeric_limits<int32_t>::min());
  CHECK(p[2] == 0);
  CHECK(p[3] == 2);
  CHECK(p[4] == -2);
  CHECK(p[5] == std::numeric_limits<int32_t>::max());
  CHECK(p[6] == std::numeric_limits<int32_t>::min());
  Tensor r64 = apply(Op::Cast, {T(f32, {2}, {1e30, kNaN})}, Attrs{{"dtype", i64}});
  CHECK(r64.data<int64_t>()[0] == std::numeric_limits<int64_t>::max());
  CHECK(r64.data<int64_t>()[1] == 0);
  CHECK(vals(apply(Op::Cast, {T(f64, {3}, {0.5, 0, -2})}, Attrs{{"dtype", b8}})) == std::vector<double>{1, 0, 1});
  CHECK(vals(apply(Op::Cast, {T(b8, {2}, {1, 0})}, Attrs{{"dtype", f64}})) == std::vector<double>{1, 0});
  CHECK(vals(apply(Op::Cast, {T(i64, {2}, {-3, 1 << 20})}, Attrs{{"dtype", f32}})) == std::vector<double>{-3, 1 << 20});
  Tensor big(i64, {1});
  big.data<int64_t>()[0] = (int64_t{1} << 32) + 5;
  CHECK(apply(Op::Cast, {big}, Attrs{{"dtype", i32}}).data<int32_t>()[0] == 5);  // int -> int wraps
  CHECK(apply(Op::Cast, {T(f64, {1}, {0.1})}, Attrs{{"dtype", f32}}).data<float>()[0] == 0.1f);
}

// ---- sources and layout ----------------------------------------------------------------------

TEST_CASE("interp: const, fill and iota") {
  Builder b;
  CHECK(vals(eval(b, b.constant(T(i32, {2}, {4, 5})))) == std::vector<double>{4, 5});
  Builder b2;
  Tensor f = eval(b2, b2.fill(2.5, i32, {2, 2}));
  CHECK(f.dtype() == i32);
  CHECK(vals(f) == std::vector<double>{2, 2, 2, 2});
  for (DType d : {f32, f64, i32, i64}) {
    Builder b3;
    CHECK(vals(eval(b3, b3.iota(d, {2, 3}, 0))) == std::vector<double>{0, 0, 0, 1, 1, 1});
    Builder b4;
    CHECK(vals(eval(b4, b4.iota(d, {2, 3}, 1))) == std::vector<double>{0, 1, 2, 0, 1, 2});
    Builder b5;
    CHECK(vals(eval(b5, b5.iota(d, {2, 3}, -1))) == std::vector<double>{0, 1, 2, 0, 1, 2});
  }
  Builder b6;
  CHECK(vals(eval(b6, b6.fill(1, b8, {2}))) == std::vector<double>{1, 1});
  Builder b7;
  CHECK(eval(b7, b7.iota(f64, {3, 0}, 0)).size() == 0);
}

TEST_CASE("interp: reshape and broadcast") {
  Tensor x = T(f64, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor r = apply(Op::Reshape, {x}, Attrs{{"shape", Shape{3, 2}}});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(vals(r) == vals(x));
  CHECK(vals(apply(Op::Broadcast, {T(i32, {3}, {1, 2, 3})}, Attrs{{"shape", Shape{2, 3}}})) ==
        std::vector<double>{1, 2, 3, 1, 2, 3});
  CHECK(vals(apply(Op::Broadcast, {T(f32, {2, 1}, {1, 2})}, Attrs{{"shape", Shape{2, 3}}})) ==
        std::vector<double>{1, 1, 1, 2, 2, 2});
  CHECK(vals(apply(Op::Broadcast, {Tensor::scalar(b8, 1)}, Attrs{{"shape", Shape{2, 2}}})) ==
        std::vector<double>{1, 1, 1, 1});
  CHECK(vals(apply(Op::Broadcast, {T(i64, {1, 2}, {7, 8})}, Attrs{{"shape", Shape{2, 2, 2}}})) ==
        std::vector<double>{7, 8, 7, 8, 7, 8, 7, 8});
}

TEST_CASE("interp: transpose, every permutation of a 3-D tensor") {
  Shape sh = {2, 3, 4};
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[static_cast<size_t>(i)] = i;
  Tensor x = T(i64, sh, v);
  // A hand-checked case: [2,3] transposed.
  CHECK(vals(apply(Op::Transpose, {T(f64, {2, 3}, {1, 2, 3, 4, 5, 6})}, Attrs{{"perm", Shape{1, 0}}})) ==
        std::vector<double>{1, 4, 2, 5, 3, 6});
  std::vector<int64_t> perm = {0, 1, 2};
  do {
    CAPTURE(shape_str(perm));
    Tensor r = apply(Op::Transpose, {x}, Attrs{{"perm", perm}});
    Shape os = {sh[size_t(perm[0])], sh[size_t(perm[1])], sh[size_t(perm[2])]};
    REQUIRE(r.shape() == os);
    for (int64_t a = 0; a < os[0]; ++a)
      for (int64_t b = 0; b < os[1]; ++b)
        for (int64_t c = 0; c < os[2]; ++c) {
          int64_t idx[3];
          idx[perm[0]] = a, idx[perm[1]] = b, idx[perm[2]] = c;
          CHECK(r.get((a * os[1] + b) * os[2] + c) == double(idx[0] * 12 + idx[1] * 4 + idx[2]));
        }
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST_CASE("interp: strided slice") {
  Tensor x = T(f64, {3, 5}, {0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24});
  Tensor r = apply(Op::Slice, {x}, Attrs{{"start", Shape{0, 1}}, {"limit", Shape{3, 5}}, {"stride", Shape{2, 2}}});
  CHECK(r.shape() == Shape{2, 2});
  CHECK(vals(r) == std::vector<double>{1, 3, 21, 23});
  Tensor r2 = apply(Op::Slice, {x}, Attrs{{"start", Shape{1, 0}}, {"limit", Shape{2, 5}}, {"stride", Shape{1, 3}}});
  CHECK(vals(r2) == std::vector<double>{10, 13});
  Tensor e = apply(Op::Slice, {x}, Attrs{{"start", Shape{2, 2}}, {"limit", Shape{2, 5}}, {"stride", Shape{1, 1}}});
  CHECK(e.shape() == Shape{0, 3});
  Tensor b = apply(Op::Slice, {T(b8, {4}, {1, 0, 0, 1})}, Attrs{{"start", Shape{1}}, {"limit", Shape{4}}, {"stride", Shape{2}}});
  CHECK(vals(b) == std::vector<double>{0, 1});
}

TEST_CASE("interp: concat along each axis") {
  Tensor a = T(i32, {2, 2}, {1, 2, 3, 4}), b = T(i32, {2, 1}, {5, 6}), c = T(i32, {1, 2}, {7, 8});
  CHECK(vals(apply(Op::Concat, {a, c}, Attrs{{"axis", int64_t{0}}})) == std::vector<double>{1, 2, 3, 4, 7, 8});
  Tensor r = apply(Op::Concat, {a, b, a}, Attrs{{"axis", int64_t{1}}});
  CHECK(r.shape() == Shape{2, 5});
  CHECK(vals(r) == std::vector<double>{1, 2, 5, 1, 2, 3, 4, 6, 3, 4});
  CHECK(vals(apply(Op::Concat, {a, b}, Attrs{{"axis", int64_t{-1}}})) == std::vector<double>{1, 2, 5, 3, 4, 6});
  CHECK(vals(apply(Op::Concat, {T(f64, {1}, {1.5}), T(f64, {0}, {}), T(f64, {2}, {2, 3})}, Attrs{{"axis", int64_t{0}}})) ==
        std::vector<double>{1.5, 2, 3});
}

// ---- reductions and matmul -------------------------------------------------------------------

TEST_CASE("interp: reductions over each axis of a 3-D tensor") {
  // x[a, b, c] = 6a + 2b + c, shape [2, 3, 2]
  std::vector<double> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  for (DType d : {f32, f64, i32, i64}) {
    CAPTURE(dtype_name(d));
    Tensor x = T(d, {2, 3, 2}, v);
    auto red = [&](Op op, int64_t axis) { return apply(op, {x}, Attrs{{"axis", axis}}); };
    CHECK(red(Op::ReduceSum, 0).shape() == Shape{3, 2});
    CHECK(vals(red(Op::ReduceSum, 0)) == std::vector<double>{6, 8, 10, 12, 14, 16});
    CHECK(vals(red(Op::ReduceSum, 1)) == std::vector<double>{6, 9, 24, 27});
    CHECK(vals(red(Op::ReduceSum, 2)) == std::vector<double>{1, 5, 9, 13, 17, 21});
    CHECK(vals(red(Op::ReduceSum, -1)) == std::vector<double>{1, 5, 9, 13, 17, 21});
    CHECK(vals(red(Op::ReduceMax, 0)) == std::vector<double>{6, 7, 8, 9, 10, 11});
    CHECK(vals(red(Op::ReduceMax, 1)) == std::vector<double>{4, 5, 10, 11});
    CHECK(vals(red(Op::ReduceMax, 2)) == std::vector<double>{1, 3, 5, 7, 9, 11});
    CHECK(vals(red(Op::ReduceMin, 0)) == std::vector<double>{0, 1, 2, 3, 4, 5});
    CHECK(vals(red(Op::ReduceMin, 1)) == std::vector<double>{0, 1, 6, 7});
    CHECK(vals(red(Op::ReduceMin, 2)) == std::vector<double>{0, 2, 4, 6, 8, 10});
    CHECK(red(Op::ReduceSum, 1).dtype() == d);
  }
  Tensor s = apply(Op::ReduceSum, {T(f64, {3}, {5, -1, 2})}, Attrs{{"axis", int64_t{0}}});
  CHECK(s.shape() == Shape{});
  CHECK(s.get(0) == 6);
}

TEST_CASE("interp: reduction order, NaN, wraparound and empty axes") {
  // Summed in order from index 0: (1e16 + 1) - 1e16 == 0 in f64.
  CHECK(vals(apply(Op::ReduceSum, {T(f64, {3}, {1e16, 1, -1e16})}, Attrs{{"axis", int64_t{0}}})) ==
        std::vector<double>{0});
  CHECK(vals(apply(Op::ReduceSum, {T(f64, {3}, {1, 1e16, -1e16})}, Attrs{{"axis", int64_t{0}}})) ==
        std::vector<double>{0});
  CHECK(vals(apply(Op::ReduceSum, {T(f64, {3}, {1e16, -1e16, 1})}, Attrs{{"axis", int64_t{0}}})) ==
        std::vector<double>{1});
  Tensor w(i32, {2});
  w.data<int32_t>()[0] = std::numeric_limits<int32_t>::max(), w.data<int32_t>()[1] = 1;
  CHECK(apply(Op::ReduceSum, {w}, Attrs{{"axis", int64_t{0}}}).data<int32_t>()[0] == std::numeric_limits<int32_t>::min());
  CHECK(std::isnan(apply(Op::ReduceMax, {T(f64, {2}, {kNaN, 1})}, Attrs{{"axis", int64_t{0}}}).get(0)));
  CHECK(apply(Op::ReduceMax, {T(f64, {3}, {1, kNaN, 0})}, Attrs{{"axis", int64_t{0}}}).get(0) == 1);
  CHECK(apply(Op::ReduceMin, {T(f64, {3}, {1, kNaN, 0})}, Attrs{{"axis", int64_t{0}}}).get(0) == 0);
  Tensor e = T(f64, {2, 0}, {});
  CHECK(vals(apply(Op::ReduceSum, {e}, Attrs{{"axis", int64_t{1}}})) == std::vector<double>{0, 0});
  CHECK(vals(apply(Op::ReduceMax, {e}, Attrs{{"axis", int64_t{1}}})) == std::vector<double>{-kInf, -kInf});
  CHECK(vals(apply(Op::ReduceMin, {e}, Attrs{{"axis", int64_t{1}}})) == std::vector<double>{kInf, kInf});
  CHECK(apply(Op::ReduceMax, {T(i32, {0}, {})}, Attrs{{"axis", int64_t{0}}}).data<int32_t>()[0] ==
        std::numeric_limits<int32_t>::min());
}

TEST_CASE("interp: matmul, matrix and vector forms") {
  Tensor a = T(f64, {2, 3}, {1, 2, 3, 4, 5, 6}), b = T(f64, {3, 2}, {7, 8, 9, 10, 11, 12});
  Tensor m = apply(Op::Matmul, {a, b});
  CHECK(m.shape() == Shape{2, 2});
  CHECK(vals(m) == std::vector<double>{58, 64, 139, 154});
  Tensor v = apply(Op::Matmul, {a, T(f64, {3}, {1, 0, -1})});
  CHECK(v.shape() == Shape{2});
  CHECK(vals(v) == std::vector<double>{-2, -2});
  CHECK(vals(apply(Op::Matmul, {T(i32, {1, 2}, {2, 3}), T(i32, {2, 3}, {1, 2, 3, 4, 5, 6})})) ==
        std::vector<double>{14, 19, 24});
  CHECK(vals(apply(Op::Matmul, {T(f32, {2, 2}, {1, 2, 3, 4}), T(f32, {2}, {1, 1})})) == std::vector<double>{3, 7});
  // k summed in order: 1e16 + 1 - 1e16
  CHECK(vals(apply(Op::Matmul, {T(f64, {1, 3}, {1e16, 1, -1e16}), T(f64, {3}, {1, 1, 1})})) == std::vector<double>{0});
  CHECK(vals(apply(Op::Matmul, {T(f64, {2, 0}, {}), T(f64, {0, 2}, {})})) == std::vector<double>{0, 0, 0, 0});
}

// ---- index ops -------------------------------------------------------------------------------

TEST_CASE("interp: gather with 1-D and 2-D indices") {
  Tensor x = T(f64, {3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor r = apply(Op::Gather, {x, T(i32, {4}, {2, 0, 2, 1})});
  CHECK(r.shape() == Shape{4, 2});
  CHECK(vals(r) == std::vector<double>{5, 6, 1, 2, 5, 6, 3, 4});
  Tensor r2 = apply(Op::Gather, {x, T(i64, {2, 2}, {1, 1, 0, 2})});
  CHECK(r2.shape() == Shape{2, 2, 2});
  CHECK(vals(r2) == std::vector<double>{3, 4, 3, 4, 1, 2, 5, 6});
  CHECK(vals(apply(Op::Gather, {T(b8, {3}, {0, 1, 0}), T(i32, {2}, {1, 2})})) == std::vector<double>{1, 0});
  Tensor s = apply(Op::Gather, {T(i64, {3}, {7, 8, 9}), Tensor::scalar(i32, 2)});
  CHECK(s.shape() == Shape{});
  CHECK(s.get(0) == 9);
}

TEST_CASE("interp: gather and scatter_add check their indices") {
  Builder b;
  Value x = b.constant(T(f64, {3, 2}, {1, 2, 3, 4, 5, 6}));
  Value idx = b.input("idx", i32, {3});
  Value g = gather(x, idx);
  Graph graph = b.build({g});
  CHECK_THROWS_WITH_AS(interpret(graph, {{"idx", T(i32, {3}, {0, 1, 7})}}),
                       fmt::format("%{} (gather): index 7 out of range [0, 3) at position 2", g.id()).c_str(), Error);
  CHECK_THROWS_WITH_AS(interpret(graph, {{"idx", T(i32, {3}, {-1, 1, 2})}}),
                       fmt::format("%{} (gather): index -1 out of range [0, 3) at position 0", g.id()).c_str(), Error);
  Builder b2;
  Value src = b2.constant(T(f64, {2}, {1, 2}));
  Value j = b2.input("j", i64, {2});
  Value s = scatter_add(src, j, 4);
  Graph g2 = b2.build({s});
  CHECK_THROWS_WITH_AS(interpret(g2, {{"j", T(i64, {2}, {4, 0})}}),
                       fmt::format("%{} (scatter_add): index 4 out of range [0, 4) at position 0", s.id()).c_str(), Error);
  CHECK(vals(interpret(g2, {{"j", T(i64, {2}, {3, 0})}})[0]) == std::vector<double>{2, 0, 0, 1});
}

TEST_CASE("interp: scatter_add with repeated indices, in order") {
  Tensor src = T(f64, {4, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
  Tensor r = apply(Op::ScatterAdd, {src, T(i32, {4}, {1, 3, 1, 1})}, Attrs{{"size", int64_t{5}}});
  CHECK(r.shape() == Shape{5, 2});
  CHECK(vals(r) == std::vector<double>{0, 0, 8, 80, 0, 0, 2, 20, 0, 0});
  CHECK(vals(apply(Op::ScatterAdd, {T(i64, {3}, {5, 6, 7}), T(i64, {3}, {0, 0, 0})}, Attrs{{"size", int64_t{2}}})) ==
        std::vector<double>{18, 0});
  // rows added in order: (1e16 + 1) - 1e16 == 0
  CHECK(vals(apply(Op::ScatterAdd, {T(f64, {3}, {1e16, 1, -1e16}), T(i32, {3}, {0, 0, 0})}, Attrs{{"size", int64_t{1}}})) ==
        std::vector<double>{0});
}

// ---- inputs ----------------------------------------------------------------------------------

TEST_CASE("interp: input bindings and defaults") {
  Builder b;
  Value x = b.input("x", f64, {2});
  Value k = b.input("k", Tensor::scalar(f64, 3));
  Graph g = b.build({x * k});
  CHECK(vals(interpret(g, {{"x", T(f64, {2}, {1, 2})}})[0]) == std::vector<double>{3, 6});
  CHECK(vals(interpret(g, {{"x", T(f64, {2}, {1, 2})}, {"k", Tensor::scalar(f64, -1)}})[0]) == std::vector<double>{-1, -2});
  CHECK_THROWS_WITH_AS(interpret(g), "input 'x' has no value and no default", Error);
  CHECK_THROWS_WITH_AS(interpret(g, {{"x", T(f32, {2}, {1, 2})}}),
                       "input 'x' is f64[2] but the value bound to it is f32[2]", Error);
  CHECK_THROWS_WITH_AS(interpret(g, {{"x", T(f64, {3}, {1, 2, 3})}}),
                       "input 'x' is f64[2] but the value bound to it is f64[3]", Error);
  CHECK_THROWS_WITH_AS(interpret(g, {{"x", T(f64, {2}, {1, 2})}, {"y", Tensor::scalar(f64, 1)}}),
                       "unknown input 'y' (the graph's inputs: x, k)", Error);
  // A result that is an input is returned as bound.
  Builder b2;
  Graph g2 = b2.build({b2.input("z", T(i32, {2}, {4, 5}))});
  CHECK(vals(interpret(g2)[0]) == std::vector<double>{4, 5});
}

// ---- scan ------------------------------------------------------------------------------------

TEST_CASE("interp: scan cumulative sum (the tf.scan examples)") {
  for (double init : {0.0, 5.0}) {
    Builder b;
    Value xs = b.constant(T(f64, {6}, {1, 2, 3, 4, 5, 6}));
    auto r = b.scan(6, {b.scalar(init)}, {xs}, cumsum_body);
    auto out = interpret(b.build({r.ys[0], r.carry[0]}));
    if (init == 0)
      CHECK(vals(out[0]) == std::vector<double>{1, 3, 6, 10, 15, 21});
    else
      CHECK(vals(out[0]) == std::vector<double>{6, 8, 11, 15, 20, 26});
    CHECK(out[1].get(0) == init + 21);
  }
}

TEST_CASE("interp: scan every=K keeps the rows of steps k with (k+1) % K == 0") {
  for (int64_t every : {1, 2, 3, 4, 6, 7}) {
    CAPTURE(every);
    Builder b;
    Value xs = b.constant(T(i64, {6}, {1, 2, 3, 4, 5, 6}));
    auto r = b.scan(6, {b.scalar(0, i64)}, {xs}, cumsum_body, ScanOptions{every, {}});
    Tensor y = interpret(b.build({r.ys[0]}))[0];
    std::vector<double> all = {1, 3, 6, 10, 15, 21}, want;
    for (int64_t k = 0; k < 6; ++k)
      if ((k + 1) % every == 0) want.push_back(all[static_cast<size_t>(k)]);
    CHECK(y.shape() == Shape{static_cast<int64_t>(want.size())});
    CHECK(vals(y) == want);
  }
}

TEST_CASE("interp: scan slices 2-D xs by rows and stacks 1-D outputs") {
  Builder b;
  Value xs = b.constant(T(f64, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  Value ws = b.constant(T(i32, {4}, {1, 0, 1, 0}));
  auto r = b.scan(4, {b.fill(0, f64, {2})}, {xs, ws}, [](Builder&, auto& c, auto& x) {
    Value acc = c[0] + x[0];
    return ScanStep{{acc}, {x[0] * 2.0, x[1], acc}};
  });
  auto out = interpret(b.build({r.ys[0], r.ys[1], r.ys[2], r.carry[0]}));
  CHECK(out[0].shape() == Shape{4, 2});
  CHECK(vals(out[0]) == std::vector<double>{2, 4, 6, 8, 10, 12, 14, 16});
  CHECK(vals(out[1]) == std::vector<double>{1, 0, 1, 0});
  CHECK(vals(out[2]) == std::vector<double>{1, 2, 4, 6, 9, 12, 16, 20});
  CHECK(vals(out[3]) == std::vector<double>{16, 20});
}

TEST_CASE("interp: scan captures outer values") {
  Builder b;
  Value k = b.input("k", f64, {});
  Value x0 = b.input("x0", f64, {2});
  auto r = b.scan(3, {x0}, {}, [&](Builder&, auto& c, auto&) {
    Value nx = c[0] * k;
    return ScanStep{{nx}, {nx}};
  });
  Graph g = b.build({r.carry[0], r.ys[0]});
  auto out = interpret(g, {{"k", Tensor::scalar(f64, 2)}, {"x0", T(f64, {2}, {1, -1})}});
  CHECK(vals(out[0]) == std::vector<double>{8, -8});
  CHECK(vals(out[1]) == std::vector<double>{2, -2, 4, -4, 8, -8});
  // Loop-invariant work on captures (exp(k) here) is the same at every step.
  Builder b2;
  Value k2 = b2.input("k", f64, {});
  auto r2 = b2.scan(3, {b2.scalar(0)}, {}, [&](Builder&, auto& c, auto&) {
    Value nx = c[0] + exp(k2) * 2.0;
    return ScanStep{{nx}, {}};
  });
  CHECK(interpret(b2.build({r2.carry[0]}), {{"k", Tensor::scalar(f64, 0)}})[0].get(0) == 6);
}

TEST_CASE("interp: scan carries may be permuted and passed through") {
  Builder b;
  auto r = b.scan(3, {b.scalar(1), b.scalar(2), b.scalar(7)}, {}, [](Builder&, auto& c, auto&) {
    return ScanStep{{c[1], c[0], c[2]}, {c[0]}};  // swap the first two, keep the third
  });
  auto out = interpret(b.build({r.carry[0], r.carry[1], r.carry[2], r.ys[0]}));
  CHECK(out[0].get(0) == 2);
  CHECK(out[1].get(0) == 1);
  CHECK(out[2].get(0) == 7);
  CHECK(vals(out[3]) == std::vector<double>{1, 2, 1});  // a per-step output of the entering carry
}

TEST_CASE("interp: nested scan") {
  // Outer step k: the inner scan adds c (the outer carry) four times to 0 and records the partial
  // sums; the outer carry then grows by 1.
  Builder b;
  auto r = b.scan(3, {b.scalar(1)}, {}, [](Builder& body, auto& c, auto&) {
    auto inner = body.scan(4, {body.scalar(0)}, {}, [&](Builder&, auto& ic, auto&) {
      Value s = ic[0] + c[0];  // c[0] is captured from the outer body
      return ScanStep{{s}, {s}};
    });
    return ScanStep{{c[0] + 1.0}, {inner.carry[0], inner.ys[0]}};
  });
  auto out = interpret(b.build({r.ys[0], r.ys[1], r.carry[0]}));
  CHECK(vals(out[0]) == std::vector<double>{4, 8, 12});
  CHECK(out[1].shape() == Shape{3, 4});
  CHECK(vals(out[1]) == std::vector<double>{1, 2, 3, 4, 2, 4, 6, 8, 3, 6, 9, 12});
  CHECK(out[2].get(0) == 4);
}

TEST_CASE("interp: scan of length 0") {
  CollectSink sink;
  RunOptions o;
  o.sink = &sink;
  Builder b;
  Value xs = b.constant(T(f64, {0, 2}, {}));
  auto r = b.scan(0, {b.scalar(5)}, {xs}, [](Builder&, auto& c, auto& x) {
    return ScanStep{{c[0] + 1.0}, {x[0], x[0], x[0] > 0.0}};
  }, ScanOptions{1, {RecordMode::Stack, RecordMode::Sink, RecordMode::Events}});
  auto out = interpret(b.build({r.carry[0], r.ys[0], r.ys[1], r.ys[2]}), {}, o);
  CHECK(out[0].get(0) == 5);
  CHECK(out[1].shape() == Shape{0, 2});
  CHECK(out[2].data<int64_t>()[0] == 0);
  CHECK(out[3].data<int64_t>()[0] == 0);
  CHECK(sink.chunks.empty());
  CHECK(sink.event_calls.empty());
}

// A scan over 10 steps whose per-step output is [k, 10k] (k = 1..10), recorded in `mode`.
static Graph ten_step_scan(RecordMode mode, int64_t every) {
  Builder b;
  auto r = b.scan(10, {b.scalar(0)}, {}, [](Builder&, auto& c, auto&) {
    Value k = c[0] + 1.0;
    return ScanStep{{k}, {concat({reshape(k, {1}), reshape(k * 10.0, {1})})}};
  }, ScanOptions{every, {mode}});
  return b.build({r.ys[0]});
}

TEST_CASE("interp: sink mode sends the stacked rows in chunks") {
  for (int64_t every : {1, 3}) {
    for (int64_t chunk : {1, 2, 4, 256}) {
      CAPTURE(every);
      CAPTURE(chunk);
      Tensor stacked = interpret(ten_step_scan(RecordMode::Stack, every))[0];
      CollectSink sink;
      RunOptions o;
      o.sink = &sink;
      o.chunk_rows = chunk;
      Graph g = ten_step_scan(RecordMode::Sink, every);
      Tensor count = interpret(g, {}, o)[0];
      CHECK(count.dtype() == i64);
      CHECK(count.data<int64_t>()[0] == stacked.shape()[0]);
      CHECK(sink.all_rows(0) == vals(stacked));
      int64_t next = 0;
      for (auto& c : sink.chunks) {
        CHECK(c.scan == g.node(g.results[0]).operands[0]);
        CHECK(c.first_row == next);
        CHECK(c.rows.shape()[0] <= chunk);
        CHECK(c.rows.shape()[1] == 2);
        next += c.rows.shape()[0];
      }
      CHECK(next == stacked.shape()[0]);
      CHECK(sink.chunks.size() == static_cast<size_t>((stacked.shape()[0] + chunk - 1) / chunk));
    }
  }
}

TEST_CASE("interp: sink and events need a sink") {
  for (RecordMode m : {RecordMode::Sink, RecordMode::Events}) {
    Builder b;
    auto r = b.scan(2, {b.scalar(0)}, {}, [](Builder&, auto& c, auto&) { return ScanStep{{c[0]}, {c[0] > 0.0}}; },
                    ScanOptions{1, {m}});
    CHECK_THROWS_AS(interpret(b.build({r.ys[0]})), Error);
  }
}

TEST_CASE("interp: events mode reports every true element at every step, in order") {
  // x[k] are the per-step rows; events are taken whatever `every` says.
  Tensor xs = T(f64, {4, 3}, {1, 0, 1,  //
                              0, 0, 0,  //
                              0, 1, 1,  //
                              1, 1, 1});
  for (int64_t chunk : {1, 2, 100}) {
    CAPTURE(chunk);
    Builder b;
    auto r = b.scan(4, {}, {b.constant(xs)}, [](Builder&, auto&, auto& x) { return ScanStep{{}, {x[0] > 0.5, x[0]}}; },
                    ScanOptions{3, {RecordMode::Events, RecordMode::Stack}});
    CollectSink sink;
    RunOptions o;
    o.sink = &sink;
    o.event_chunk = chunk;
    auto out = interpret(b.build({r.ys[0], r.ys[1]}), {}, o);
    CHECK(out[0].data<int64_t>()[0] == 7);
    CHECK(same_events(sink.all_events(), {{0, 0}, {2, 0}, {1, 2}, {2, 2}, {0, 3}, {1, 3}, {2, 3}}));
    for (auto& call : sink.event_calls) CHECK(static_cast<int64_t>(call.size()) <= chunk);
    CHECK(sink.event_calls.size() == static_cast<size_t>((7 + chunk - 1) / chunk));
    CHECK(vals(out[1]) == std::vector<double>{0, 1, 1});  // stacked row of step 2 only (every = 3)
  }
}

TEST_CASE("interp: events of a bool param and progress reports") {
  std::vector<double> v(2 * 300, 0);
  v[2 * 150 + 1] = 1;
  Builder b;
  auto r = b.scan(300, {}, {b.constant(T(b8, {300, 2}, v))}, [](Builder&, auto&, auto& x) { return ScanStep{{}, {x[0]}}; },
                  ScanOptions{1, {RecordMode::Events}});
  CollectSink sink;
  RunOptions o;
  o.sink = &sink;
  Tensor n = interpret(b.build({r.ys[0]}), {}, o)[0];
  CHECK(n.data<int64_t>()[0] == 1);
  CHECK(same_events(sink.all_events(), {{1, 150}}));
  REQUIRE(!sink.progress_calls.empty());
  CHECK(sink.progress_calls.size() == 100);
  CHECK(sink.progress_calls.back() == std::pair<int64_t, int64_t>{300, 300});
}

TEST_CASE("interp: a run-time error in a body names the scan and the step") {
  Builder b;
  Value table = b.constant(T(f64, {3}, {1, 2, 3}));
  NodeId gather_id = -1;
  auto r = b.scan(5, {b.scalar(0, i32)}, {}, [&](Builder&, auto& c, auto&) {
    Value g = gather(table, c[0]);
    gather_id = g.id();
    return ScanStep{{c[0] + c[0].builder()->scalar(1, i32)}, {g}};
  });
  Graph g = b.build({r.ys[0]});
  NodeId scan_id = g.node(g.results[0]).operands[0];
  CHECK_THROWS_WITH_AS(interpret(g),
                       fmt::format("%{} (scan) step 3: %{} (gather): index 3 out of range [0, 3) at position 0", scan_id,
                                   gather_id)
                           .c_str(),
                       Error);
}

// ---- performance and memory ------------------------------------------------------------------

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
static constexpr bool kOptimized = false;
#else
static constexpr bool kOptimized = true;
#endif

// Resident set size in bytes (Linux).
static int64_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return int64_t{resident} * 4096;
}

TEST_CASE("interp: sink mode runs in bounded memory") {
  struct CountSink : RecordSink {
    int64_t rows_seen = 0;
    void rows(NodeId, int64_t, const Tensor& chunk, int64_t) override { rows_seen += chunk.shape()[0]; }
  } sink;
  auto graph_of = [](int64_t length) {
    Builder b;
    auto r = b.scan(length, {b.fill(0, f64, {4})}, {}, [](Builder&, auto& c, auto&) {
      Value x = c[0] + 1.0;
      return ScanStep{{x}, {x, x * 2.0}};
    }, ScanOptions{1, {RecordMode::Sink, RecordMode::Sink}});
    return b.build({r.ys[0], r.carry[0]});
  };
  RunOptions o;
  o.sink = &sink;
  interpret(graph_of(10000), {}, o);
  int64_t before = rss_bytes();
  int64_t n = kOptimized ? 1000000 : 200000;
  auto out = interpret(graph_of(n), {}, o);
  int64_t growth = rss_bytes() - before;
  CHECK(out[0].data<int64_t>()[0] == n);
  CHECK(out[1].get(0) == double(n));
  CHECK(sink.rows_seen == 2 * (10000 + n));
  // Stacking would need 2 * 32 bytes per step (64 MB for 10^6 steps); the sink needs two chunks.
  CHECK(growth < 4 * 1024 * 1024);
}

TEST_CASE("interp: a value returned twice is returned whole both times") {
  Builder b;
  Value x = b.input("x", T(f64, {2}, {1, 2}));
  Value y = x * 3.0;
  auto r = b.scan(2, {y}, {}, [](Builder&, auto& c, auto&) { return ScanStep{{c[0] + 1.0}, {c[0]}}; });
  auto out = interpret(b.build({y, y, r.carry[0], r.ys[0], r.carry[0], x, x}));
  CHECK(vals(out[0]) == std::vector<double>{3, 6});
  CHECK(vals(out[1]) == std::vector<double>{3, 6});
  CHECK(vals(out[2]) == std::vector<double>{5, 8});
  CHECK(vals(out[3]) == std::vector<double>{3, 6, 4, 7});
  CHECK(vals(out[4]) == std::vector<double>{5, 8});
  CHECK(vals(out[5]) == std::vector<double>{1, 2});
  CHECK(vals(out[6]) == std::vector<double>{1, 2});
}

// A sink chunk is allocated for the rows a run can record, at most chunk_rows (every backend sizes
// its chunks with this).
TEST_CASE("interp: sink chunks hold no more rows than the scan records") {
  RunOptions o;
  o.chunk_rows = 256;
  CHECK(sink_chunk_rows(o, 10000, 1) == 256);
  CHECK(sink_chunk_rows(o, 10000, 5000) == 2);
  CHECK(sink_chunk_rows(o, 10000, 10000) == 1);
  CHECK(sink_chunk_rows(o, 9, 10) == 1);  // no row recorded: still a valid (one-row) chunk
  CHECK(sink_chunk_rows(o, 0, 1) == 1);
  o.chunk_rows = 7;
  CHECK(sink_chunk_rows(o, 100, 1) == 7);
  CHECK(recorded_rows(10000, 5000) == 2);
  CHECK(recorded_rows(9, 10) == 1);
}
