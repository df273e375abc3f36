#include "tests/fuzz/graph_gen.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "graph/builder.h"
#include "models/random.h"

namespace sf::fuzz {
namespace {

constexpr DType f32 = DType::f32, f64 = DType::f64, i32 = DType::i32, i64 = DType::i64, b8 = DType::b8;
constexpr int kMaxGenRank = 4;  // ranks of generated values (stacking in scans may add two)

// Scalars the simplifier's rules look for (x*1, x+0, pow(x, 3), ...), so its rules fire often.
constexpr double kNiceFloat[] = {0.0, -0.0, 1.0, -1.0, 2.0, 3.0, 0.5, 4.0, -2.0, 0.25};
constexpr double kNiceInt[] = {0, 1, -1, 2, 3, 4, -2, 7};

bool numeric(DType d) { return is_float(d) || is_int(d); }

class Generator {
 public:
  Generator(uint64_t seed, const GenOptions& o) : rng_(seed), o_(o) {
    specials_ = chance(0.15);
    empties_ = chance(0.05);
    big_ = chance(0.1);
  }

  FuzzCase run(uint64_t seed) {
    scopes_.push_back(Scope{&top_, {}, 0});
    int64_t n = between(3, std::max(3, o_.ops));
    for (int64_t i = 0; i < n; ++i) keep(op());
    // Results: the last value and a few others; the rest is dead code for DCE.
    const std::vector<Value>& pool = scopes_.back().pool;
    std::vector<Value> results{pool.back()};
    for (int64_t k = between(0, 3); k > 0; --k) {
      Value v = pool[static_cast<size_t>(rng_.below(static_cast<int64_t>(pool.size())))];
      if (std::none_of(results.begin(), results.end(), [&](Value r) { return r.id() == v.id(); })) results.push_back(v);
    }
    FuzzCase c;
    c.seed = seed;
    c.graph = top_.build(results);
    c.inputs = std::move(bind_);
    return c;
  }

 private:
  struct Scope {
    Builder* b;
    std::vector<Value> pool;  // values of this graph the next ops may use
    int depth;                // scan nesting
  };

  // ---- random draws ----------------------------------------------------------------------------

  bool chance(double p) { return rng_.uniform() < p; }
  int64_t between(int64_t lo, int64_t hi) { return lo + rng_.below(hi - lo + 1); }
  template <class T>
  T pick(std::initializer_list<T> xs) {
    return *(xs.begin() + rng_.below(static_cast<int64_t>(xs.size())));
  }

  DType any_dtype() {
    double u = rng_.uniform();
    return u < 0.35 ? f64 : u < 0.6 ? f32 : u < 0.72 ? i32 : u < 0.84 ? i64 : b8;
  }
  DType numeric_dtype() {
    double u = rng_.uniform();
    return u < 0.4 ? f64 : u < 0.7 ? f32 : u < 0.85 ? i32 : i64;
  }
  DType float_dtype() { return chance(0.55) ? f64 : f32; }

  int64_t dim() {
    if (empties_ && chance(0.04)) return 0;
    if (big_ && chance(0.3)) return between(5, 16);  // loops longer than the executor's 128-element chunks
    return chance(0.2) ? 1 : between(1, o_.max_dim);
  }
  Shape shape(int max_rank = 3) {
    Shape s(static_cast<size_t>(between(0, max_rank)));
    for (int64_t& d : s) d = dim();
    return s;
  }
  // A shape that broadcasts to `s`: some dimensions set to 1, leading ones possibly dropped.
  Shape broadcastable_to(const Shape& s) {
    Shape t = s;
    for (int64_t& d : t)
      if (chance(0.4)) d = 1;
    if (!t.empty() && chance(0.3)) t.erase(t.begin(), t.begin() + rng_.below(static_cast<int64_t>(t.size()) + 1));
    return t;
  }
  // `n` elements as a shape of random rank (its dimensions multiply to n).
  Shape factor(int64_t n) {
    if (n == 0) {
      Shape s = shape(3);
      if (s.empty()) s.push_back(0);
      s[static_cast<size_t>(rng_.below(static_cast<int64_t>(s.size())))] = 0;
      return s;
    }
    Shape s(static_cast<size_t>(between(n == 1 ? 0 : 1, 3)), 1);
    for (int64_t p = 2; n > 1;) {
      if (n % p != 0) {
        ++p;
        continue;
      }
      s[static_cast<size_t>(rng_.below(static_cast<int64_t>(s.size())))] *= p;
      n /= p;
    }
    return s;
  }

  double special() {
    return pick({std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                 std::numeric_limits<double>::quiet_NaN(), -0.0, 1e300, -3e38, 4e-320, 1e-40});
  }
  void fill_data(Tensor& t) {
    DType d = t.dtype();
    double scale = pick({1.0, 1.0, 0.1, 10.0});
    bool integral = chance(0.2);  // ties for min/max/compare
    for (int64_t i = 0; i < t.size(); ++i) {
      double v;
      if (d == b8) {
        v = static_cast<double>(rng_.below(2));
      } else if (is_int(d)) {
        v = static_cast<double>(between(-5, 5));
        if (specials_ && chance(0.05)) {
          bool wide = d == i64;
          v = chance(0.5) ? (wide ? -9.2e18 : -2147483648.0) : (wide ? 9.2e18 : 2147483647.0);
        }
      } else {
        v = rng_.normal() * scale;
        if (integral) v = std::floor(v);
        if (specials_ && chance(0.06)) v = special();
      }
      t.set(i, v);
    }
  }
  Tensor data(DType d, const Shape& s) {
    Tensor t(d, s);
    fill_data(t);
    return t;
  }
  Tensor index_data(DType d, const Shape& s, int64_t rows) {
    Tensor t(d, s);
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, static_cast<double>(rng_.below(rows)));
    return t;
  }

  // ---- values ----------------------------------------------------------------------------------

  Builder& b() { return *scopes_.back().b; }
  bool in_body() const { return scopes_.size() > 1; }
  Value keep(Value v) {
    scopes_.back().pool.push_back(v);
    return v;
  }

  Value input(DType d, const Shape& s, std::optional<Tensor> def, const std::function<Tensor()>& binding) {
    std::string name = "in" + std::to_string(inputs_++);
    if (!def || chance(0.1)) bind_[name] = binding();
    Value v = top_.input(name, d, s, std::move(def));
    scopes_.front().pool.push_back(v);
    return b().local(v);  // captured when used in a body
  }

  // Shapes are passed by value from here on: a Value's shape() refers into its graph's node list,
  // which the nodes these functions add may reallocate.

  // A new source of this type.
  Value leaf(DType d, Shape s) {
    double u = rng_.uniform();
    if (u < (in_body() ? 0.2 : 0.4)) {
      std::optional<Tensor> def;
      if (chance(0.7)) def = data(d, s);
      return input(d, s, std::move(def), [&] { return data(d, s); });
    }
    if (u < 0.8 || d == b8) {
      if (s.empty() && d != b8 && chance(0.6))
        return b().scalar(is_float(d) ? pick({0.0, 1.0, -1.0, 2.0, 0.5, 3.0}) : pick({0.0, 1.0, -1.0, 2.0}), d);
      return b().constant(data(d, s));
    }
    if (u < 0.9 || s.empty()) return b().fill(is_float(d) ? pick({0.0, 1.0, -0.5, 2.0}) : pick({0.0, 1.0, -3.0}), d, s);
    return b().iota(d, s, rng_.below(static_cast<int64_t>(s.size())));
  }

  // An existing value of this graph (or of an enclosing one, then captured) satisfying `ok`;
  // recent values are preferred so chains get deep. Invalid if there is none.
  Value find(const std::function<bool(const Type&)>& ok) {
    size_t scope = scopes_.size() - 1;
    if (scope > 0 && chance(0.2)) scope = static_cast<size_t>(rng_.below(static_cast<int64_t>(scope)));
    std::vector<Value> c;
    for (Value v : scopes_[scope].pool)
      if (ok(v.type())) c.push_back(v);
    if (c.empty()) return {};
    int64_t n = static_cast<int64_t>(c.size());
    int64_t i = chance(0.5) ? n - 1 - rng_.below(std::min<int64_t>(n, 4)) : rng_.below(n);
    return b().local(c[static_cast<size_t>(i)]);
  }

  // `v` (any shape) reshaped, sliced, tiled or broadcast to `s`, same dtype.
  Value coerce(Value v, Shape s) {
    if (v.shape() == s) return v;
    int64_t n = num_elements(s), m = v.type().elements();
    if (v.rank() <= static_cast<int>(s.size()) && chance(0.7)) {
      Shape padded(s.size() - static_cast<size_t>(v.rank()), 1);
      padded.insert(padded.end(), v.shape().begin(), v.shape().end());
      bool ok = true;
      for (size_t i = 0; i < s.size(); ++i) ok = ok && (padded[i] == s[i] || padded[i] == 1);
      if (ok) return broadcast_to(v, s);
    }
    if (m == n) return reshape(v, s);
    if (m == 0) return leaf(v.dtype(), s);
    Value flat = reshape(v, {m});
    if (n == 0) {
      flat = slice(flat, 0, 0);
    } else if (m > n) {
      int64_t stride = m >= 2 * n && chance(0.5) ? 2 : 1;
      int64_t start = rng_.below(m - stride * (n - 1));
      flat = slice(flat, {start}, {start + stride * (n - 1) + 1}, {stride});
    } else {
      flat = concat(std::vector<Value>(static_cast<size_t>((n + m - 1) / m), flat));
      flat = slice(flat, 0, n);
    }
    return reshape(flat, s);
  }

  // A value of exactly this type: an existing one (coerced or cast) or a new source.
  Value value_of(DType d, Shape s) {
    double u = rng_.uniform();
    if (u < 0.35)
      if (Value v = find([&](const Type& t) { return t.dtype == d && t.shape == s; }); v.valid()) return v;
    if (u < 0.75)
      if (Value v = find([&](const Type& t) { return t.dtype == d; }); v.valid()) return coerce(v, s);
    if (u < 0.85)
      if (Value v = find([&](const Type& t) { return t.dtype != d; }); v.valid()) return cast(coerce(v, s), d);
    return leaf(d, s);
  }

  // An existing value satisfying `ok`, else a new value of a type `make` draws.
  Value some(const std::function<bool(const Type&)>& ok, const std::function<DType()>& dtype, int min_rank = 0,
             int max_rank = 3) {
    if (chance(0.85))
      if (Value v = find(ok); v.valid()) return v;
    Shape s = shape(std::min(3, max_rank));
    while (static_cast<int>(s.size()) < min_rank) s.push_back(between(1, o_.max_dim));
    return value_of(dtype(), s);
  }
  Value some_float(int min_rank = 0) {
    return some([&](const Type& t) { return is_float(t.dtype) && t.rank() >= min_rank; }, [&] { return float_dtype(); },
                min_rank);
  }
  Value some_numeric(int min_rank = 0) {
    return some([&](const Type& t) { return numeric(t.dtype) && t.rank() >= min_rank; },
                [&] { return numeric_dtype(); }, min_rank);
  }
  Value some_value(int max_rank = kMaxGenRank) {
    return some([&](const Type& t) { return t.rank() <= max_rank; }, [&] { return any_dtype(); }, 0, max_rank);
  }

  // A second operand for an elementwise op with `a`: a nice scalar, `a` itself, or a value of the
  // same or a broadcastable shape.
  Value partner(Value a) {
    double u = rng_.uniform();
    DType d = a.dtype();
    if (u < 0.25) {
      if (d == b8) return b().scalar(static_cast<double>(rng_.below(2)), b8);
      double c = is_float(d) ? kNiceFloat[rng_.below(std::size(kNiceFloat))] : kNiceInt[rng_.below(std::size(kNiceInt))];
      return b().scalar(c, d);
    }
    if (u < 0.35) return a;
    if (u < 0.7) return value_of(d, a.shape());
    return value_of(d, broadcastable_to(a.shape()));
  }

  // ---- ops -------------------------------------------------------------------------------------

  Value op() {
    double u = rng_.uniform() * 100;
    bool scans = scopes_.back().depth < o_.scan_depth;
    if (u < 14) return unary();
    if (u < 32) return binary();
    if (u < 38) return compare();
    if (u < 42) return logic();
    if (u < 47) return select();
    if (u < 52) return convert();
    if (u < 58) return reduce();
    if (u < 70) return layout();
    if (u < 75) return gather_op();
    if (u < 80) return scatter_op();
    if (u < 85) return matmul_op();
    if (u < 93 && scans) return scan_op();
    return binary();
  }

  Value unary() {
    if (chance(0.2)) {
      Value x = some_numeric();
      return chance(0.5) ? neg(x) : abs(x);
    }
    Value x = some_float();
    bool raw = chance(0.12);  // unguarded: overflow, NaN for negatives, -inf at 0
    switch (rng_.below(10)) {
      case 0: return raw ? exp(x) : exp(tanh(x) * 3.0);
      case 1: return raw ? expm1(x) : expm1(tanh(x) * 2.0);
      case 2: return raw ? log(x) : log(abs(x) + 0.5);
      case 3: return raw ? log1p(x) : log1p(abs(x));
      case 4: return raw ? sqrt(x) : sqrt(abs(x));
      case 5: return sin(x);
      case 6: return cos(x);
      case 7: return tanh(x);
      case 8: return sigmoid(x);
      default: return floor(x);
    }
  }

  Value binary() {
    Value a = some_numeric();
    Value c = partner(a);
    if (chance(0.5)) std::swap(a, c);
    bool raw = chance(0.1);
    int64_t k = rng_.below(is_float(a.dtype()) ? 7 : 5);
    switch (k) {
      case 0: return a + c;
      case 1: return a - c;
      case 2: return a * c;
      case 3: return minimum(a, c);
      case 4: return maximum(a, c);
      case 5: return raw ? a / c : a / (abs(c) + 0.5);
      default: {
        Value base = raw ? a : abs(a) + 0.25;
        if (chance(0.5)) return pow(base, kNiceFloat[rng_.below(std::size(kNiceFloat))]);
        return pow(base, raw ? c : tanh(c) * 2.0);
      }
    }
  }

  Value compare() {
    Value a = some([](const Type&) { return true; }, [&] { return any_dtype(); });
    Value c = partner(a);
    if (chance(0.5)) std::swap(a, c);
    switch (rng_.below(6)) {
      case 0: return a < c;
      case 1: return a <= c;
      case 2: return a > c;
      case 3: return a >= c;
      case 4: return eq(a, c);
      default: return ne(a, c);
    }
  }

  Value some_bool() {
    if (chance(0.3)) return compare();
    return some([](const Type& t) { return t.dtype == b8; }, [] { return b8; });
  }

  Value logic() {
    Value a = some_bool();
    if (chance(0.25)) return !a;
    Value c = partner(a);
    return chance(0.5) ? (a & c) : (a | c);
  }

  Value select() {
    Value a = some_value();
    Value c = partner(a);
    Shape s = chance(0.2) ? Shape{} : chance(0.7) ? a.shape() : broadcastable_to(a.shape());
    Value cond = chance(0.3) ? compare_on(a) : value_of(b8, s);
    if (chance(0.2)) cond = !cond;
    return chance(0.5) ? where(cond, a, c) : where(cond, c, a);
  }
  Value compare_on(Value a) { return a > partner(a); }

  Value convert() {
    Value x = some_value();
    DType d = any_dtype();
    if (d == x.dtype()) d = x.dtype() == f64 ? f32 : f64;
    return cast(x, d);
  }

  Value reduce() {
    Value x = some_numeric(1);
    int64_t r = x.rank(), axis = between(-r, r - 1);
    switch (rng_.below(3)) {
      case 0: return sum(x, axis);
      case 1: return max(x, axis);
      default: return min(x, axis);
    }
  }

  Value layout() {
    switch (rng_.below(5)) {
      case 0: {
        Value x = some_value();
        return reshape(x, factor(x.type().elements()));
      }
      case 1: {
        Value x = some([](const Type& t) { return t.rank() >= 2 && t.rank() <= kMaxGenRank; }, [&] { return any_dtype(); }, 2);
        std::vector<int64_t> perm(static_cast<size_t>(x.rank()));
        for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
        for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[static_cast<size_t>(rng_.below(static_cast<int64_t>(i)))]);
        return transpose(x, perm);
      }
      case 2: {
        Value x = some([](const Type& t) { return t.rank() >= 1; }, [&] { return any_dtype(); }, 1);
        std::vector<int64_t> start, limit, stride;
        for (int64_t d : x.shape()) {
          int64_t s0 = d == 0 ? 0 : rng_.below(d), l = (empties_ && chance(0.1)) ? s0 : between(std::min(d, s0 + 1), d);
          start.push_back(s0);
          limit.push_back(l);
          stride.push_back(chance(0.6) ? 1 : between(2, 3));
        }
        return slice(x, start, limit, stride);
      }
      case 3: {
        Value x = some([](const Type& t) { return t.rank() >= 1 && t.rank() <= kMaxGenRank; }, [&] { return any_dtype(); }, 1);
        int64_t r = x.rank(), axis = between(-r, r - 1);
        std::vector<Value> parts{x};
        for (int64_t k = between(1, 2); k > 0; --k) {
          Shape s = x.shape();
          s[static_cast<size_t>(axis < 0 ? axis + r : axis)] = between(1, 3);
          parts.push_back(value_of(x.dtype(), s));
        }
        if (chance(0.5)) std::swap(parts[0], parts.back());
        return concat(parts, axis);
      }
      default: {
        Value x = some_value(2);
        Shape s;
        for (int64_t k = between(x.rank() == 0 ? 1 : 0, 2); k > 0; --k) s.push_back(between(1, 3));
        for (int64_t d : x.shape()) s.push_back(d == 1 && chance(0.6) ? between(2, 3) : d);
        return broadcast_to(x, s);
      }
    }
  }

  // An index tensor of this shape with values in [0, rows): a constant, an input (whose binding
  // is in range too) or computed from other values and clamped.
  Value index(const Shape s, int64_t rows) {
    DType d = chance(0.5) ? i32 : i64;
    double u = rng_.uniform();
    if (u < 0.35) return b().constant(index_data(d, s, rows));
    if (u < 0.6) return input(d, s, index_data(d, s, rows), [&] { return index_data(d, s, rows); });
    Value k;
    if (chance(0.6)) {
      Value f = value_of(float_dtype(), s);
      k = cast(floor(sigmoid(f) * static_cast<double>(rows)), d);
    } else {
      k = value_of(d, s);
    }
    return minimum(maximum(k, b().scalar(0, d)), b().scalar(static_cast<double>(rows - 1), d));
  }

  Value gather_op() {
    Value x = some([](const Type& t) { return t.rank() >= 1 && t.rank() <= 3 && t.shape[0] > 0; }, [&] { return any_dtype(); }, 1);
    if (x.shape()[0] == 0) x = value_of(x.dtype(), {between(1, 4)});
    Shape s = shape(std::min(2, kMaxGenRank + 1 - x.rank()));
    return gather(x, index(s, x.shape()[0]));
  }

  Value scatter_op() {
    Value src = some([](const Type& t) { return numeric(t.dtype) && t.rank() >= 1 && t.rank() <= 3; }, [&] { return numeric_dtype(); }, 1);
    int64_t size = between(1, 5);
    if (empties_ && chance(0.1) && src.shape()[0] == 0) size = 0;
    return scatter_add(src, index({src.shape()[0]}, std::max<int64_t>(size, 1)), size);
  }

  Value matmul_op() {
    Value a = some([](const Type& t) { return numeric(t.dtype) && t.rank() == 2; }, [&] { return numeric_dtype(); }, 2);
    if (a.rank() != 2) a = coerce(a, {dim(), dim()});
    int64_t k = a.shape()[1];
    Value x = chance(0.5) ? value_of(a.dtype(), {k}) : value_of(a.dtype(), {k, dim()});
    if (is_float(a.dtype()) && chance(0.5)) a = tanh(a);  // keeps chained products tame
    return matmul(a, x);
  }

  // A scan with random carries, xs, captures (whatever the body takes from outside), recording
  // modes and `every`; its body is random ops too, possibly another scan.
  Value scan_op() {
    Builder& outer = b();
    int depth = scopes_.back().depth;
    bool top = !in_body();
    int64_t length = empties_ && chance(0.1) ? 0 : between(1, 6);
    std::vector<Value> init, xs;
    for (int64_t k = between(0, 3); k > 0; --k) init.push_back(some_value(3));
    for (int64_t k = chance(0.5) ? between(1, 2) : 0; k > 0; --k) {
      DType d = any_dtype();
      Shape s = shape(2);
      s.insert(s.begin(), length);
      xs.push_back(value_of(d, s));
    }
    int64_t ys = between(init.empty() ? 1 : 0, 2);
    ScanOptions opts;
    opts.every = chance(0.3) ? between(2, 3) : 1;
    opts.record.assign(static_cast<size_t>(ys), RecordMode::Stack);
    // At most one scan per graph streams (sinks are told scan ids, which compilation renumbers).
    if (top && ys > 0 && !streamed_ && chance(0.3)) {
      streamed_ = true;
      opts.record[static_cast<size_t>(rng_.below(ys))] = chance(0.5) ? RecordMode::Sink : RecordMode::Events;
    }
    auto body = [&](Builder& bb, const std::vector<Value>& carry, const std::vector<Value>& x) {
      std::vector<Value> pool = carry;
      pool.insert(pool.end(), x.begin(), x.end());
      scopes_.push_back(Scope{&bb, pool, depth + 1});
      for (int64_t k = between(1, std::max(2, o_.ops / 3)); k > 0; --k) keep(op());
      ScanStep step;
      for (Value c : carry) {
        Value v = value_of(c.dtype(), c.shape());
        // Squash float carries so long scans stay finite (most of the time).
        if (is_float(c.dtype()) && chance(0.7)) v = chance(0.5) ? tanh(v) : c * 0.5 + tanh(v);
        step.carry.push_back(v);
      }
      for (RecordMode m : opts.record) {
        if (m == RecordMode::Events)
          step.ys.push_back(some_bool());
        else
          step.ys.push_back(some_value(3));
      }
      scopes_.pop_back();
      return step;
    };
    ScanResult r = outer.scan(length, init, xs, body, opts);
    for (Value v : r.carry) keep(v);
    for (size_t j = 0; j + 1 < r.ys.size(); ++j) keep(r.ys[j]);
    if (!r.ys.empty()) return r.ys.back();
    return r.carry.back();
  }

  Rng rng_;
  GenOptions o_;
  bool specials_ = false, empties_ = false, big_ = false, streamed_ = false;
  Builder top_;
  std::vector<Scope> scopes_;
  std::map<std::string, Tensor> bind_;
  int inputs_ = 0;
};

void count_graph(const Graph& g, int depth, std::map<std::string, int64_t>& counts) {
  for (const Node& n : g.nodes) {
    ++counts[std::string("op:") + op_name(n.op)];
    if (!n.type.is_tuple()) ++counts[std::string("dtype:") + dtype_name(n.type.dtype)];
    if (n.op == Op::Matmul) ++counts[g.type(n.operands[1]).rank() == 1 ? "matmul:vector" : "matmul:matrix"];
    if (n.op == Op::Scan) {
      ScanInfo s = scan_info(n);
      if (s.xs > 0) ++counts["scan:xs"];
      if (static_cast<int64_t>(n.operands.size()) > s.carry + s.xs) ++counts["scan:captures"];
      if (s.every > 1) ++counts["scan:every"];
      if (depth > 0) ++counts["scan:nested"];
      if (s.length == 0) ++counts["scan:length0"];
      if (n.attrs.has("class")) ++counts["class:" + n.attrs.s("class")];
      for (RecordMode m : s.record) ++counts[std::string("record:") + record_mode_name(m)];
    }
    if (n.body) count_graph(*n.body, depth + 1, counts);
  }
}

}  // namespace

void count_features(const Graph& g, std::map<std::string, int64_t>& counts) { count_graph(g, 0, counts); }

FuzzCase generate(uint64_t seed, const GenOptions& options) { return Generator(seed, options).run(seed); }

}  // namespace sf::fuzz
