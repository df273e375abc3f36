// The graph -> graph optimisation passes (compiler/cse.h, dce.h, fold.h, simplify.h + rules.h,
// singularities.h, licm.h): .sfg text in, expected .sfg (or a few structural facts) out, and the
// interpreter's results before and after (bit for bit for the exact passes).
#include <doctest/doctest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "backends/interpreter/interpreter.h"
#include "compiler/cse.h"
#include "compiler/dce.h"
#include "compiler/fold.h"
#include "compiler/licm.h"
#include "compiler/match.h"
#include "compiler/pipeline.h"
#include "compiler/rules.h"
#include "compiler/simplify.h"
#include "compiler/singularities.h"
#include "graph/builder.h"
#include "graph/error.h"
#include "graph/text.h"
#include "graph/verify.h"
#include "model_run.h"
#include "sample_graphs.h"

using namespace sf;

namespace {

constexpr DType f32 = DType::f32, f64 = DType::f64, i32 = DType::i32, i64 = DType::i64, b8 = DType::b8;

Graph parse(const std::string& text) { return parse_graph(text, "pass_test.sfg"); }
std::string canon(const std::string& text) { return print_graph(parse(text)); }

// Runs the passes in order, verifying after each.
Graph run(std::initializer_list<Pass*> passes, Graph g, CompileOptions o = {}) {
  for (Pass* p : passes) {
    g = p->run(g, o);
    verify(g);
  }
  return g;
}

// Float test values: signed zeros, infinities, NaN, subnormals, extremes, then random ones.
template <class T>
std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  return {T(0), -T(0), T(1), -T(1), L::infinity(), -L::infinity(), L::quiet_NaN(), L::denorm_min(), -L::denorm_min(),
          L::min() / T(3), L::min(), -L::min(), L::max(), -L::max(), L::epsilon(), T(0.5), T(2), T(-3), T(0.1),
          T(1e-30), T(1e30), T(7.25), T(-1e5)};
}

// Value i of the k-th of several inputs: while i < S^(k+1) (S specials), specials[(i / S^k) % S],
// so the first inputs together take every combination of special values; then random ones.
template <class T, class Random>
T sample(const std::vector<T>& specials, size_t k, int64_t i, Random&& random) {
  size_t S = specials.size(), stride = 1;
  for (size_t j = 0; j < k; ++j) stride *= S;
  if (static_cast<size_t>(i) < stride * S) return specials[(static_cast<size_t>(i) / stride) % S];
  return static_cast<T>(random());
}

// A value for every input of g: combinations of special values, then random ones.
std::map<std::string, Tensor> sample_inputs(const Graph& g, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::map<std::string, Tensor> in;
  size_t k = 0;
  for (NodeId id : g.inputs()) {
    const Node& n = g.node(id);
    Tensor t(n.type.dtype, n.type.shape);
    auto normal = [&] { return std::normal_distribution<double>(0, 10)(rng); };
    auto bits = [&] { return rng(); };
    for (int64_t i = 0; i < t.size(); ++i) {
      switch (t.dtype()) {
        case DType::f64: t.data<double>()[i] = sample(special_values<double>(), k, i, normal); break;
        case DType::f32:
          t.data<float>()[i] = sample(special_values<float>(), k, i, [&] { return static_cast<float>(normal()); });
          break;
        case DType::i32:
          t.data<int32_t>()[i] = sample<int32_t>({0, 1, -1, INT32_MAX, INT32_MIN, 7}, k, i, bits);
          break;
        case DType::i64:
          t.data<int64_t>()[i] = sample<int64_t>({0, 1, -1, INT64_MAX, INT64_MIN, 7}, k, i, bits);
          break;
        case DType::b8: t.data<uint8_t>()[i] = sample<uint8_t>({0, 1}, k, i, [&] { return rng() & 1; }); break;
        case DType::tuple: break;
      }
    }
    in.emplace(n.attrs.s("name"), std::move(t));
    ++k;
  }
  return in;
}

// Element i of a and b have the same bits, or are both NaN (NaN payloads are not semantics).
bool same_element(const Tensor& a, const Tensor& b, int64_t i) {
  switch (a.dtype()) {
    case DType::f64: {
      double x = a.data<double>()[i], y = b.data<double>()[i];
      return (std::isnan(x) && std::isnan(y)) || std::bit_cast<uint64_t>(x) == std::bit_cast<uint64_t>(y);
    }
    case DType::f32: {
      float x = a.data<float>()[i], y = b.data<float>()[i];
      return (std::isnan(x) && std::isnan(y)) || std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
    }
    default: return a.get(i) == b.get(i);
  }
}

// The first element where a and b differ ("" if none).
std::string first_difference(const Tensor& a, const Tensor& b) {
  if (a.type() != b.type()) return "types " + type_str(a.type()) + " vs " + type_str(b.type());
  for (int64_t i = 0; i < a.size(); ++i)
    if (!same_element(a, b, i)) return fmt::format("element {}: {} vs {}", i, a.get(i), b.get(i));
  return "";
}

// The interpreter gives the same bits for `before` and `after` (up to NaN payloads), and sends the
// same events and sink rows.
void check_same_results(const Graph& before, const Graph& after, uint64_t seed = 1) {
  auto in = sample_inputs(before, seed);
  test::CollectSink sa, sb;
  RunOptions oa, ob;
  oa.sink = &sa;
  ob.sink = &sb;
  auto a = interpret(before, in, oa), b = interpret(after, in, ob);
  REQUIRE(a.size() == b.size());
  for (size_t r = 0; r < a.size(); ++r) CHECK_MESSAGE(first_difference(a[r], b[r]) == "", "result ", r);
  REQUIRE(sa.spikes.size() == sb.spikes.size());
  for (size_t i = 0; i < sa.spikes.size(); ++i) {
    CHECK(sa.spikes[i].index == sb.spikes[i].index);
    CHECK(sa.spikes[i].step == sb.spikes[i].step);
  }
  CHECK(sa.row_count == sb.row_count);
  CHECK(sa.streamed.size() == sb.streamed.size());
  for (size_t i = 0; i < std::min(sa.streamed.size(), sb.streamed.size()); ++i)
    CHECK(std::bit_cast<uint64_t>(sa.streamed[i]) == std::bit_cast<uint64_t>(sb.streamed[i]));
}

// How many nodes with op `op` g has, scan bodies included.
int count_op(const Graph& g, Op op) {
  int k = 0;
  for (const Node& n : g.nodes) {
    k += n.op == op;
    if (n.body) k += count_op(*n.body, op);
  }
  return k;
}

CsePass cse;
DcePass dce;
FoldPass fold;
SimplifyPass simplify;
SingularitiesPass singularities;
LicmPass licm;

}  // namespace

// ---- cse ---------------------------------------------------------------------------------------

TEST_CASE("pass: cse merges commutative twins, but not float min/max") {
  const char* in = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
    %1 = input {name = "y", dtype = f64, shape = [3]} : f64[3]
    %2 = add(%0, %1) : f64[3]
    %3 = add(%1, %0) : f64[3]
    %4 = mul(%3, %2) : f64[3]
    %5 = exp(%2) : f64[3]
    %6 = exp(%3) : f64[3]
    %7 = min(%0, %1) : f64[3]
    %8 = min(%1, %0) : f64[3]
    %9 = eq(%1, %0) : bool[3]
    %10 = eq(%0, %1) : bool[3]
    return %4, %5, %6, %7, %8, %9, %10
  })";
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
    %1 = input {name = "y", dtype = f64, shape = [3]} : f64[3]
    %2 = add(%0, %1) : f64[3]
    %3 = mul(%2, %2) : f64[3]
    %4 = exp(%2) : f64[3]
    %5 = min(%0, %1) : f64[3]
    %6 = min(%1, %0) : f64[3]   # min(NaN, 1) = NaN but min(1, NaN) = 1: not merged
    %7 = eq(%0, %1) : bool[3]
    return %3, %4, %4, %5, %6, %7, %7
  })";
  Graph g = parse(in);
  Graph c = run({&cse}, g);
  CHECK(print_graph(c) == canon(out));
  check_same_results(g, c);
}

TEST_CASE("pass: cse merges integer min/max twins") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = i32, shape = [3]} : i32[3]
    %1 = input {name = "y", dtype = i32, shape = [3]} : i32[3]
    %2 = max(%0, %1) : i32[3]
    %3 = max(%1, %0) : i32[3]
    return %2, %3
  })");
  Graph c = run({&cse}, g);
  CHECK(c.results[0] == c.results[1]);
  CHECK(count_op(c, Op::Max) == 1);
  check_same_results(g, c);
}

TEST_CASE("pass: cse inside scan bodies, duplicate captures included") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "k", dtype = f64, shape = []} : f64[]
    %2 = scan(%0, %1, %1) {carry = 1, xs = 0, length = 3, every = 1, record = ["stack"]} body @b {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = param {index = 1, dtype = f64, shape = []} : f64[]
      %2 = param {index = 2, dtype = f64, shape = []} : f64[]
      %3 = mul(%0, %1) : f64[2]
      %4 = mul(%2, %0) : f64[2]
      %5 = add(%3, %4) : f64[2]
      return %5, %5
    } : (f64[2], f64[3,2])
    %3 = get(%2) {index = 1} : f64[3,2]
    return %3
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "k", dtype = f64, shape = []} : f64[]
    %2 = scan(%0, %1) {carry = 1, xs = 0, length = 3, every = 1, record = ["stack"]} body @b {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = param {index = 1, dtype = f64, shape = []} : f64[]
      %2 = mul(%0, %1) : f64[2]
      %3 = add(%2, %2) : f64[2]
      return %3, %3
    } : (f64[2], f64[3,2])
    %3 = get(%2) {index = 1} : f64[3,2]
    return %3
  })";
  Graph c = run({&cse}, g);
  CHECK(count_op(c, Op::Mul) == 1);
  Graph d = run({&dce}, c);  // the duplicate capture is now unused
  CHECK(print_graph(d) == canon(out));
  check_same_results(g, d);
}

TEST_CASE("pass: cse merges equal scans, but not ones that stream to the sink") {
  auto scans = [](const char* mode) {
    std::string body = fmt::format(R"(
        %0 = param {{index = 0, dtype = f64, shape = [2]}} : f64[2]
        %1 = exp(%0) : f64[2]
        %2 = gt(%1, %0) : bool[2]
        return %1, %2
      }} : (f64[2], {})
    )", std::string(mode) == "stack" ? "bool[5,2]" : "i64[]");
    return parse(fmt::format(R"(graph @main {{
      %0 = input {{name = "x", dtype = f64, shape = [2]}} : f64[2]
      %1 = scan(%0) {{carry = 1, xs = 0, length = 5, every = 1, record = ["{0}"]}} body @first {{ {1}
      %2 = scan(%0) {{carry = 1, xs = 0, length = 5, every = 1, record = ["{0}"]}} body @second {{ {1}
      %3 = get(%1) {{index = 0}} : f64[2]
      %4 = get(%2) {{index = 0}} : f64[2]
      %5 = add(%3, %4) : f64[2]
      return %5
    }})", mode, body));
  };
  Graph stacked = run({&cse}, scans("stack"));
  CHECK(count_op(stacked, Op::Scan) == 1);
  CHECK(count_op(stacked, Op::Get) == 1);
  check_same_results(scans("stack"), stacked);
  CHECK(count_op(run({&cse}, scans("events")), Op::Scan) == 2);
}

// ---- dce ---------------------------------------------------------------------------------------

TEST_CASE("pass: dce removes dead nodes and keeps unused inputs") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
    %1 = input {name = "unused", dtype = f64, shape = []} : f64[]
    %2 = exp(%0) : f64[3]
    %3 = log(%2) : f64[3]
    %4 = add(%3, %1) : f64[3]
    return %2
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
    %1 = input {name = "unused", dtype = f64, shape = []} : f64[]
    %2 = exp(%0) : f64[3]
    return %2
  })";
  Graph d = run({&dce}, g);
  CHECK(print_graph(d) == canon(out));
  check_same_results(g, d);
}

// Carries: c0 is returned; c1 is not, but c0's update reads it; c2 reads c0 but nobody reads c2;
// c3 reads only itself and the capture `u`. Outputs: y0 (stacked, unused), y1 (stacked, used),
// y2 (events: a side effect, kept though no get reads it).
TEST_CASE("pass: dce removes unused carries, outputs, xs and captures of a scan") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "a", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "drive", dtype = f64, shape = [4,2]} : f64[4,2]
    %2 = input {name = "k", dtype = f64, shape = []} : f64[]
    %3 = input {name = "u", dtype = f64, shape = []} : f64[]
    %4 = scan(%0, %0, %0, %0, %1, %1, %2, %3) {carry = 4, xs = 2, length = 4, every = 1,
                                               record = ["stack", "stack", "events"]} body @b {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = param {index = 1, dtype = f64, shape = [2]} : f64[2]
      %2 = param {index = 2, dtype = f64, shape = [2]} : f64[2]
      %3 = param {index = 3, dtype = f64, shape = [2]} : f64[2]
      %4 = param {index = 4, dtype = f64, shape = [2]} : f64[2]
      %5 = param {index = 5, dtype = f64, shape = [2]} : f64[2]
      %6 = param {index = 6, dtype = f64, shape = []} : f64[]
      %7 = param {index = 7, dtype = f64, shape = []} : f64[]
      %8 = mul(%1, %6) : f64[2]
      %9 = add(%0, %8) : f64[2]
      %10 = add(%1, %5) : f64[2]
      %11 = add(%2, %0) : f64[2]
      %12 = mul(%3, %7) : f64[2]
      %13 = sub(%4, %2) : f64[2]
      %14 = const {value = f64[]{0}} : f64[]
      %15 = gt(%0, %14) : bool[2]
      return %9, %10, %11, %12, %13, %0, %15
    } : (f64[2], f64[2], f64[2], f64[2], f64[4,2], f64[4,2], i64[])
    %5 = get(%4) {index = 0} : f64[2]
    %6 = get(%4) {index = 5} : f64[4,2]
    %7 = get(%4) {index = 3} : f64[2]
    return %5, %6
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "a", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "drive", dtype = f64, shape = [4,2]} : f64[4,2]
    %2 = input {name = "k", dtype = f64, shape = []} : f64[]
    %3 = input {name = "u", dtype = f64, shape = []} : f64[]
    %4 = scan(%0, %0, %1, %2) {carry = 2, xs = 1, length = 4, every = 1, record = ["stack", "events"]} body @b {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = param {index = 1, dtype = f64, shape = [2]} : f64[2]
      %2 = param {index = 2, dtype = f64, shape = [2]} : f64[2]
      %3 = param {index = 3, dtype = f64, shape = []} : f64[]
      %4 = mul(%1, %3) : f64[2]
      %5 = add(%0, %4) : f64[2]
      %6 = add(%1, %2) : f64[2]
      %7 = const {value = f64[]{0}} : f64[]
      %8 = gt(%0, %7) : bool[2]
      return %5, %6, %0, %8
    } : (f64[2], f64[2], f64[4,2], i64[])
    %5 = get(%4) {index = 0} : f64[2]
    %6 = get(%4) {index = 2} : f64[4,2]
    return %5, %6
  })";
  Graph d = run({&dce}, g);
  CHECK(print_graph(d) == canon(out));
  check_same_results(g, d);
  CHECK(same_graph(run({&dce}, d), d));  // a fixed point
}

TEST_CASE("pass: dce prunes nested scans and what only they used") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "k", dtype = f64, shape = []} : f64[]
    %2 = scan(%0, %1) {carry = 1, xs = 0, length = 3, every = 1, record = []} body @outer {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = param {index = 1, dtype = f64, shape = []} : f64[]
      %2 = scan(%0, %0, %1) {carry = 2, xs = 0, length = 2, every = 1, record = ["stack"]} body @inner {
        %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
        %1 = param {index = 1, dtype = f64, shape = [2]} : f64[2]
        %2 = param {index = 2, dtype = f64, shape = []} : f64[]
        %3 = exp(%0) : f64[2]
        %4 = mul(%1, %2) : f64[2]
        return %3, %4, %4
      } : (f64[2], f64[2], f64[2,2])
      %3 = get(%2) {index = 0} : f64[2]
      return %3
    } : (f64[2])
    %3 = get(%2) {index = 0} : f64[2]
    return %3
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "k", dtype = f64, shape = []} : f64[]
    %2 = scan(%0) {carry = 1, xs = 0, length = 3, every = 1, record = strs[]} body @outer {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = scan(%0) {carry = 1, xs = 0, length = 2, every = 1, record = strs[]} body @inner {
        %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
        %1 = exp(%0) : f64[2]
        return %1
      } : (f64[2])
      %2 = get(%1) {index = 0} : f64[2]
      return %2
    } : (f64[2])
    %3 = get(%2) {index = 0} : f64[2]
    return %3
  })";
  Graph d = run({&dce}, g);
  CHECK(print_graph(d) == canon(out));
  check_same_results(g, d);
}

TEST_CASE("pass: dce removes a whole unused scan, but not one that streams") {
  auto graph = [](const char* mode, const char* type) {
    return parse(fmt::format(R"(graph @main {{
      %0 = input {{name = "x", dtype = f64, shape = [2]}} : f64[2]
      %1 = scan(%0) {{carry = 1, xs = 0, length = 3, every = 1, record = ["{}"]}} body @b {{
        %0 = param {{index = 0, dtype = f64, shape = [2]}} : f64[2]
        %1 = exp(%0) : f64[2]
        return %1, %1
      }} : (f64[2], {})
      return %0
    }})", mode, type));
  };
  CHECK(count_op(run({&dce}, graph("stack", "f64[3,2]")), Op::Scan) == 0);
  Graph sink = graph("sink", "i64[]");
  Graph d = run({&dce}, sink);
  CHECK(count_op(d, Op::Scan) == 1);
  CHECK(same_graph(d, sink));
  check_same_results(sink, d);
}

// ---- fold --------------------------------------------------------------------------------------

TEST_CASE("pass: fold evaluates constant expressions to const and fill") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3], default = f64[3]{splat 1}} : f64[3]
    %1 = const {value = f64[]{2}} : f64[]
    %2 = const {value = f64[]{3}} : f64[]
    %3 = mul(%1, %2) : f64[]
    %4 = fill {value = 1.5, dtype = f64, shape = [3]} : f64[3]
    %5 = add(%4, %3) : f64[3]
    %6 = iota {dtype = i64, shape = [3], axis = 0} : i64[3]
    %7 = cast(%6) {dtype = f64} : f64[3]
    %8 = exp(%7) : f64[3]
    %9 = mul(%0, %8) : f64[3]
    %10 = add(%9, %5) : f64[3]
    %11 = reduce_sum(%8) {axis = 0} : f64[]
    return %10, %3, %11
  })");
  Graph f = run({&fold, &dce}, g);
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3], default = f64[3]{splat 1}} : f64[3]
    %1 = const {value = f64[]{6}} : f64[]
    %2 = fill {value = 7.5, dtype = f64, shape = [3]} : f64[3]
    %3 = const {value = f64[3]{1, 2.718281828459045, 7.38905609893065}} : f64[3]
    %4 = mul(%0, %3) : f64[3]
    %5 = add(%4, %2) : f64[3]
    %6 = const {value = f64[]{11.107337927389695}} : f64[]
    return %5, %1, %6
  })";
  CHECK(print_graph(f) == canon(out));
  check_same_results(g, f);
  CHECK(same_graph(run({&fold}, f), f));
}

TEST_CASE("pass: fold leaves inputs, scans, huge results and run-time errors alone") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [], default = f64[]{1}} : f64[]
    %1 = exp(%0) : f64[]
    %2 = iota {dtype = f64, shape = [200000], axis = 0} : f64[200000]
    %3 = exp(%2) : f64[200000]
    %4 = fill {value = 2, dtype = f64, shape = [1000,1000]} : f64[1000,1000]
    %5 = sqrt(%4) : f64[1000,1000]
    %6 = const {value = f64[3]{1, 2, 3}} : f64[3]
    %7 = const {value = i64[1]{5}} : i64[1]
    %8 = gather(%6, %7) : f64[1]
    %9 = const {value = f64[2]{0.5, -1}} : f64[2]
    %10 = scan(%9) {carry = 1, xs = 0, length = 2, every = 1, record = []} body @b {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = const {value = f64[]{3}} : f64[]
      %2 = const {value = f64[]{4}} : f64[]
      %3 = mul(%1, %2) : f64[]
      %4 = mul(%0, %3) : f64[2]
      return %4
    } : (f64[2])
    return %1, %3, %5, %8, %10
  })");
  Graph f = run({&fold, &dce}, g);
  CHECK(f.node(f.results[0]).op == Op::Exp);         // inputs bind at run time
  CHECK(f.node(f.results[1]).op == Op::Exp);         // 200000 elements: too big
  CHECK(f.node(f.results[2]).op == Op::Fill);        // a splat: evaluated once, any size
  CHECK(f.node(f.results[2]).attrs.f("value") == std::sqrt(2.0));
  CHECK(f.node(f.results[3]).op == Op::Gather);      // index 5 of 3: stays a run-time error
  CHECK(f.node(f.results[4]).op == Op::Scan);        // scans are not folded ...
  CHECK(count_op(*f.node(f.results[4]).body, Op::Mul) == 1);  // ... but their bodies are
  CHECK_THROWS_AS(interpret(f), Error);
}

TEST_CASE("pass: fold gives the interpreter's bits on special values, every dtype") {
  // Constants holding +-0, +-inf, NaN, subnormals and extremes, through ops of every kind.
  auto consts = [](DType d) {
    Graph in = parse(fmt::format(R"(graph @main {{
      %0 = input {{name = "a", dtype = {0}, shape = [23]}} : {0}[23]
      %1 = input {{name = "b", dtype = {0}, shape = [23]}} : {0}[23]
      return %0, %1
    }})", dtype_name(d)));
    auto values = sample_inputs(in, 3);
    return std::make_pair(values.at("a"), values.at("b"));
  };
  for (DType d : {f64, f32, i32, i64}) {
    std::string dtype = dtype_name(d);
    CAPTURE(dtype);
    auto [a, b] = consts(d);
    Builder bl;
    Value x = bl.constant(a), y = bl.constant(b);
    std::vector<Value> out = {x + y, x - y, x * y, minimum(x, y), maximum(x, y), neg(x), abs(y), x < y, eq(x, y),
                              where(x < y, x, y), cast(x, f32), cast(y, i32), sum(x), max(y), reshape(x, {23, 1})};
    if (is_float(d))
      for (Value v : {x / y, pow(x, y), exp(x), expm1(y), log(x), log1p(y), sqrt(x), sin(y), cos(x), tanh(y),
                      sigmoid(x), floor(y)})
        out.push_back(v);
    Graph g = bl.build(out);
    Graph f = run({&fold, &dce}, g);
    for (NodeId r : f.results) CHECK(is_constant(f, r));
    check_same_results(g, f);
  }
}

// ---- simplify ----------------------------------------------------------------------------------

namespace {

// A rule whose left side is made of elementwise ops only can be tested generically: its vars
// become inputs of test values (every combination of specials, then random values), its constants
// take a list of values, and the graph is simplified and interpreted.
struct RuleProbe {
  bool testable = true;
  std::set<DType> dtypes = {f64, f32, i32, i64};  // for the non-bool positions
  bool any_numeric = false;                        // some position takes the rule's dtype
  bool constants = false;                          // uses c or d
};

void probe(const Pattern& p, bool want_bool, RuleProbe* r) {
  if (p.kind == Pattern::Splat) r->testable = false;
  if (p.kind == Pattern::Constant) r->constants = true;
  if (p.kind != Pattern::OpNode) {
    if (!want_bool) r->any_numeric = true;
    return;
  }
  const OpInfo& info = op_info(p.op);
  if (!info.elementwise() || p.op == Op::Cast) r->testable = false;
  if (info.dtypes == kFloat) r->dtypes.erase(i32), r->dtypes.erase(i64);
  for (size_t k = 0; k < p.args.size(); ++k) {
    bool arg_bool = info.dtypes == kBool || (p.op == Op::Where && k == 0);
    probe(p.args[k], arg_bool, r);
  }
}

constexpr int64_t kProbeSize = 16384;

Value build_probe(Builder& b, const Pattern& p, DType t, bool want_bool, const std::map<char, double>& consts) {
  DType d = want_bool ? b8 : t;
  switch (p.kind) {
    case Pattern::Var: {
      std::string name(1, p.var);
      NodeId id = b.graph().input(name);
      return id >= 0 ? Value(&b, id) : b.input(name, d, {kProbeSize});
    }
    case Pattern::Constant: return b.scalar(consts.at(p.var), t);
    case Pattern::Number: return b.scalar(p.number, d);
    default: break;
  }
  const OpInfo& info = op_info(p.op);
  std::vector<Value> args;
  for (size_t k = 0; k < p.args.size(); ++k)
    args.push_back(build_probe(b, p.args[k], t, info.dtypes == kBool || (p.op == Op::Where && k == 0), consts));
  return b.op(p.op, args);
}

// Constant values the probes try, powers of two at the edges of the exponent range included.
const std::vector<std::pair<double, double>> kProbeConsts = {
    {2, 0.3}, {0.5, 3}, {-4, 0.1}, {0.1, 0.7}, {3, -5}, {0x1p-126, 1}, {0x1p127, 1}, {0x1p-1022, 1}, {0x1p1023, 1}};

}  // namespace

TEST_CASE("pass: simplify: every rule, bit for bit where exact, value-changing only with fast_math") {
  const auto& rules = simplify_rules();
  int tested = 0;
  for (size_t k = 0; k < rules.size(); ++k) {
    const Rule& rule = rules[k].rule;
    RuleProbe info;
    probe(rules[k].lhs, false, &info);
    if (!info.testable) continue;
    std::set<DType> dtypes = info.any_numeric ? info.dtypes : std::set<DType>{b8};
    ++tested;
    for (DType t : dtypes) {
      std::string what = fmt::format("{} -> {} on {}", rule.lhs, rule.rhs, dtype_name(t));
      CAPTURE(what);
      bool exact = rule.exactness == Exactness::Exact || (rule.exactness == Exactness::IntExact && !is_float(t));
      int64_t fired_exact = 0, fired_fast = 0, fired_earlier = 0;
      bool changed_a_value = false;
      auto choices = info.constants ? kProbeConsts : std::vector<std::pair<double, double>>{{0, 0}};
      for (auto [c, d] : choices) {
        Builder b;
        Graph g = b.build({build_probe(b, rules[k].lhs, t, false, {{'c', c}, {'d', d}})});
        SimplifyPass s;
        Graph out = run({&s, &dce}, g);
        fired_exact += s.fired()[k];
        for (size_t j = 0; j < k; ++j) fired_earlier += s.fired()[j];
        check_same_results(g, out);  // whatever fires by default is exact
        CompileOptions fast;
        fast.fast_math = true;
        Graph out_fast = run({&s, &dce}, g, fast);
        fired_fast += s.fired()[k];
        auto in = sample_inputs(g);
        changed_a_value = changed_a_value || first_difference(interpret(g, in)[0], interpret(out_fast, in)[0]) != "";
      }
      if (exact) {
        // (or an earlier rule did the same: on integers add(x, -0.0) is add(x, 0))
        CHECK((fired_exact > 0 || fired_earlier > 0));
      } else {
        CHECK(fired_exact == 0);
        CHECK(fired_fast > 0);
        CHECK_MESSAGE(changed_a_value, "a value-changing rule that changed no value: is it exact after all?");
      }
    }
  }
  CHECK(tested >= 45);
}

TEST_CASE("pass: simplify: casts and layout") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2,3]} : f64[2,3]
    %1 = cast(%0) {dtype = f64} : f64[2,3]
    %2 = reshape(%1) {shape = [3,2]} : f64[3,2]
    %3 = reshape(%2) {shape = [6]} : f64[6]
    %4 = reshape(%0) {shape = [2,3]} : f64[2,3]
    %5 = transpose(%4) {perm = [0, 1]} : f64[2,3]
    %6 = slice(%5) {start = [0, 0], limit = [2, 3], stride = [1, 1]} : f64[2,3]
    %7 = broadcast(%6) {shape = [4,2,3]} : f64[4,2,3]
    %8 = broadcast(%7) {shape = [5,4,2,3]} : f64[5,4,2,3]
    %9 = const {value = f32[]{0.5}} : f32[]
    %10 = broadcast(%9) {shape = [4,4]} : f32[4,4]
    %11 = const {value = i32[2]{7, 7}} : i32[2]
    %12 = reshape(%11) {shape = [2,1]} : i32[2,1]
    return %3, %8, %10, %12
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2,3]} : f64[2,3]
    %1 = reshape(%0) {shape = [6]} : f64[6]
    %2 = broadcast(%0) {shape = [5,4,2,3]} : f64[5,4,2,3]
    %3 = fill {value = 0.5, dtype = f32, shape = [4,4]} : f32[4,4]
    %4 = fill {value = 7, dtype = i32, shape = [2,1]} : i32[2,1]
    return %1, %2, %3, %4
  })";
  Graph s = run({&simplify, &dce}, g);
  CHECK(print_graph(s) == canon(out));
  check_same_results(g, s);
}

TEST_CASE("pass: simplify: value-changing rules wait for fast_math") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
    %1 = const {value = f64[]{3}} : f64[]
    %2 = pow(%0, %1) : f64[3]
    %3 = const {value = f64[]{10}} : f64[]
    %4 = div(%2, %3) : f64[3]
    return %4
  })");
  CHECK(same_graph(run({&simplify, &dce}, g), run({&dce}, g)));
  CompileOptions fast;
  fast.fast_math = true;
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
    %1 = mul(%0, %0) : f64[3]
    %2 = mul(%1, %0) : f64[3]
    %3 = const {value = f64[]{0.1}} : f64[]
    %4 = mul(%2, %3) : f64[3]
    return %4
  })";
  CHECK(print_graph(run({&simplify, &dce}, g, fast)) == canon(out));
}

TEST_CASE("pass: simplify: x/2^k becomes an exact multiply; a scalar standing for a shape is broadcast") {
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f32, shape = [3]} : f32[3]
    %1 = input {name = "s", dtype = f32, shape = []} : f32[]
    %2 = const {value = f32[]{4}} : f32[]
    %3 = div(%0, %2) : f32[3]
    %4 = fill {value = 1, dtype = f32, shape = [3]} : f32[3]
    %5 = mul(%1, %4) : f32[3]
    %6 = scan(%3, %1) {carry = 1, xs = 0, length = 2, every = 1, record = []} body @b {
      %0 = param {index = 0, dtype = f32, shape = [3]} : f32[3]
      %1 = param {index = 1, dtype = f32, shape = []} : f32[]
      %2 = neg(%0) : f32[3]
      %3 = neg(%2) : f32[3]
      %4 = const {value = f32[]{-0.0}} : f32[]
      %5 = add(%4, %3) : f32[3]
      %6 = sub(%5, %1) : f32[3]
      return %6
    } : (f32[3])
    %7 = get(%6) {index = 0} : f32[3]
    return %5, %7
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "x", dtype = f32, shape = [3]} : f32[3]
    %1 = input {name = "s", dtype = f32, shape = []} : f32[]
    %2 = const {value = f32[]{0.25}} : f32[]
    %3 = mul(%0, %2) : f32[3]
    %4 = broadcast(%1) {shape = [3]} : f32[3]
    %5 = scan(%3, %1) {carry = 1, xs = 0, length = 2, every = 1, record = strs[]} body @b {
      %0 = param {index = 0, dtype = f32, shape = [3]} : f32[3]
      %1 = param {index = 1, dtype = f32, shape = []} : f32[]
      %2 = sub(%0, %1) : f32[3]
      return %2
    } : (f32[3])
    %6 = get(%5) {index = 0} : f32[3]
    return %4, %6
  })";
  Graph s = run({&simplify, &dce}, g);
  CHECK(print_graph(s) == canon(out));
  check_same_results(g, s);
  CHECK(same_graph(run({&simplify}, run({&simplify}, g)), run({&simplify}, g)));  // idempotent
}

TEST_CASE("pass: simplify: the value-changing claims, measured") {
  // pow(x, 2) and x*x differ for some x (glibc's pow is not correctly rounded), pow(x, 1) never.
  Builder b;
  const int64_t n = 200000;
  Value x = b.input("x", f64, {n});
  Graph g = b.build({pow(x, 2.0), x * x, pow(x, 1.0), pow(x, 3.0), x * x * x});
  std::mt19937_64 rng(11);
  Tensor xs(f64, {n});
  for (int64_t i = 0; i < n; ++i)
    xs.data<double>()[i] =
        std::ldexp(1.0 + static_cast<double>(rng() >> 12) * 0x1p-52, static_cast<int>(rng() % 200) - 100);
  auto r = interpret(g, {{"x", xs}});
  int64_t sq = 0, one = 0, cube = 0;
  for (int64_t i = 0; i < n; ++i) {
    sq += r[0].data<double>()[i] != r[1].data<double>()[i];
    one += r[2].data<double>()[i] != xs.data<double>()[i];
    cube += r[3].data<double>()[i] != r[4].data<double>()[i];
  }
  MESSAGE("of ", n, " doubles: pow(x,2) != x*x for ", sq, ", pow(x,3) != x*x*x for ", cube,
          ", pow(x,1) != x for ", one);
  CHECK(sq > 0);
  CHECK(cube > n / 10);
  CHECK(one == 0);
}

// ---- singularities -----------------------------------------------------------------------------

TEST_CASE("pass: singularities rewrites x/(1-exp(-x/k)) and x/(exp(x/k)-1) to an expm1 form") {
  // hh-squid's alpha_m = 0.1 (V+40) / (1 - exp(-(V+40)/10)), as the builder writes it.
  Graph g = parse(R"(graph @main {
    %0 = input {name = "V", dtype = f64, shape = [3], default = f64[3]{-40, -39, 20}} : f64[3]
    %1 = const {value = f64[]{40}} : f64[]
    %2 = add(%0, %1) : f64[3]
    %3 = neg(%2) : f64[3]
    %4 = const {value = f64[]{10}} : f64[]
    %5 = div(%3, %4) : f64[3]
    %6 = exp(%5) : f64[3]
    %7 = const {value = f64[]{1}} : f64[]
    %8 = sub(%7, %6) : f64[3]
    %9 = const {value = f64[]{0.1}} : f64[]
    %10 = mul(%9, %2) : f64[3]
    %11 = div(%10, %8) : f64[3]
    return %11
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "V", dtype = f64, shape = [3], default = f64[3]{-40, -39, 20}} : f64[3]
    %1 = const {value = f64[]{40}} : f64[]
    %2 = add(%0, %1) : f64[3]
    %3 = neg(%2) : f64[3]
    %4 = const {value = f64[]{10}} : f64[]
    %5 = div(%3, %4) : f64[3]                 # w
    %6 = const {value = f64[]{1}} : f64[]
    %7 = const {value = f64[]{0.1}} : f64[]
    %8 = expm1(%5) : f64[3]
    %9 = div(%5, %8) : f64[3]
    %10 = const {value = f64[]{0}} : f64[]
    %11 = eq(%5, %10) : bool[3]
    %12 = where(%11, %6, %9) : f64[3]         # w/expm1(w), 1 at w = 0
    %13 = mul(%4, %12) : f64[3]               # s = k = 10
    %14 = mul(%7, %13) : f64[3]               # a = 0.1
    return %14
  })";
  Graph s = run({&singularities, &dce}, g);
  CHECK(print_graph(s) == canon(out));
  Tensor before = interpret(g)[0], after = interpret(s)[0];
  CHECK(std::isnan(before.get(0)));
  CHECK(after.get(0) == 1.0);  // the limit 0.1 * 10
  CHECK(std::fabs(after.get(1) - before.get(1)) <= 2e-15 * before.get(1));

  // Off: nothing changes.
  CompileOptions off;
  off.rewrite_singularities = false;
  CHECK(same_graph(run({&singularities}, g, off), g));
}

TEST_CASE("pass: singularities on the models' rates: the limit at the singular point, accuracy elsewhere") {
  struct Rate {
    const char* name;
    Value (*f)(Value);
    double a, k, sign, shift, singular_V;  // the numerator's x = sign * (V + shift)
    bool minus_x;                          // the exponent is -x/k (else x/k)
  };
  // hh: x = V + 40, exponent -x/k. Traub: x = 13 - (V+50) = -(V + 37), exponent x/k.
  const Rate rates[] = {
      {"hh alpha_m", [](Value V) { return 0.1 * (V + 40.0) / (1.0 - exp(-(V + 40.0) / 10.0)); },
       0.1, 10, 1, 40, -40, true},
      {"hh alpha_n", [](Value V) { return 0.01 * (V + 55.0) / (1.0 - exp(-(V + 55.0) / 10.0)); },
       0.01, 10, 1, 55, -55, true},
      {"traub alpha_m", [](Value V) { Value v = V + 50.0; return 0.32 * (13.0 - v) / (exp((13.0 - v) / 4.0) - 1.0); },
       0.32, 4, -1, 37, -37, false},
      {"traub beta_m", [](Value V) { Value v = V + 50.0; return 0.28 * (v - 40.0) / (exp((v - 40.0) / 5.0) - 1.0); },
       0.28, 5, 1, 10, -10, false},
      {"traub alpha_n", [](Value V) { Value v = V + 50.0; return 0.02 * (15.0 - v) / (exp((15.0 - v) / 5.0) - 1.0); },
       0.02, 5, -1, 35, -35, false},
  };
  // V in [-100, 100] every 0.005 mV, and points 1e-15..0.1 mV and 1..50 ulps from each singular V.
  std::vector<double> Vs;
  for (int i = -20000; i <= 20000; ++i) Vs.push_back(i * 0.005);
  for (const Rate& r : rates) {
    for (int e = 1; e <= 15; ++e) {
      Vs.push_back(r.singular_V + std::pow(10.0, -e));
      Vs.push_back(r.singular_V - std::pow(10.0, -e));
    }
    double up = r.singular_V, down = r.singular_V;
    for (int j = 0; j < 50; ++j) {
      Vs.push_back(up = std::nextafter(up, 1e9));
      Vs.push_back(down = std::nextafter(down, -1e9));
    }
  }
  const int64_t n = static_cast<int64_t>(Vs.size());
  Tensor V = Tensor::from(f64, {n}, Vs);
  for (const Rate& r : rates) {
    std::string name = r.name;
    CAPTURE(name);
    Builder b;
    Graph g = b.build({r.f(b.input("V", f64, {n}))});
    Graph s = run({&simplify, &singularities, &dce}, g);
    REQUIRE(count_op(s, Op::Expm1) == 1);
    REQUIRE(count_op(s, Op::Exp) == 0);
    Tensor before = interpret(g, {{"V", V}})[0], after = interpret(s, {{"V", V}})[0];
    double far = 0, near_ulps = 0;
    int singular_points = 0;
    for (int64_t i = 0; i < n; ++i) {
      // Reference: the same rate of the same double V in long double, through expm1l.
      long double v = Vs[static_cast<size_t>(i)];
      long double x = r.sign * (v + r.shift), w = (r.minus_x ? -x : x) / r.k;
      long double ref = w == 0 ? static_cast<long double>(r.a) * r.k
                               : r.a * x / (r.minus_x ? -std::expm1(w) : std::expm1(w));
      double got = after.get(i), orig = before.get(i);
      if (w == 0) {
        ++singular_points;
        CHECK(std::isnan(orig));
        CHECK(got == r.a * r.k);  // the analytic limit, exactly
      } else if (std::fabs(static_cast<double>(w)) >= 0.1) {
        far = std::max(far, std::fabs(got - orig) / std::fabs(orig));
      } else {
        double ulp = std::nextafter(std::fabs(static_cast<double>(ref)), 1e308) - std::fabs(static_cast<double>(ref));
        near_ulps = std::max(near_ulps, static_cast<double>(std::fabs(got - ref) / ulp));
      }
    }
    MESSAGE(name, ": |w| >= 0.1: max relative deviation from the original ", far,
            "; |w| < 0.1: max error ", near_ulps, " ulp of a long-double reference");
    CHECK(singular_points >= 1);
    CHECK(far <= 2e-15);
    CHECK(near_ulps <= 8);
  }
}

TEST_CASE("pass: singularities on hh-squid: V within 1e-7 mV of the original, same spikes") {
  RunConfig rc;
  rc.t_end = 30;
  rc.size = 24;
  Graph g = find_model("hh-squid").build(rc);
  Graph s = run({&cse, &simplify, &singularities, &dce}, g);
  CHECK(count_op(s, Op::Expm1) == count_op(g, Op::Exp) - count_op(s, Op::Exp));
  CHECK(count_op(s, Op::Expm1) >= 8);  // alpha_m and alpha_n in each of the 4 RK4 stages
  auto a = test::run_graph(g), b = test::run_graph(s);
  double worst = 0;
  for (int64_t i = 0; i < a.rows().size(); ++i) worst = std::max(worst, std::fabs(a.rows().get(i) - b.rows().get(i)));
  MESSAGE("hh-squid, 24 neurons, 30 ms: max |V - V'| over every recorded value ", worst);
  CHECK(worst <= 1e-7);
  REQUIRE(a.sink.spikes.size() == b.sink.spikes.size());
  CHECK(a.sink.spikes.size() > 10);
  for (size_t i = 0; i < a.sink.spikes.size(); ++i) {
    CHECK(a.sink.spikes[i].index == b.sink.spikes[i].index);
    CHECK(a.sink.spikes[i].step == b.sink.spikes[i].step);
  }
}

// ---- licm --------------------------------------------------------------------------------------

TEST_CASE("pass: licm moves invariant work out of a scan body") {
  // g_L * (2 * E) is invariant (captures and a constant); the carry's update is not. A broadcast
  // of an invariant also moves (its work is done once); the fill stays (a constant).
  Graph g = parse(R"(graph @main {
    %0 = input {name = "V0", dtype = f64, shape = [4]} : f64[4]
    %1 = input {name = "g_L", dtype = f64, shape = []} : f64[]
    %2 = input {name = "E", dtype = f64, shape = []} : f64[]
    %3 = scan(%0, %1, %2) {carry = 1, xs = 0, length = 5, every = 1, record = []} body @b {
      %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
      %1 = param {index = 1, dtype = f64, shape = []} : f64[]
      %2 = param {index = 2, dtype = f64, shape = []} : f64[]
      %3 = const {value = f64[]{2}} : f64[]
      %4 = mul(%3, %2) : f64[]
      %5 = mul(%1, %4) : f64[]
      %6 = broadcast(%5) {shape = [4]} : f64[4]
      %7 = fill {value = 0.5, dtype = f64, shape = [4]} : f64[4]
      %8 = mul(%0, %7) : f64[4]
      %9 = sub(%8, %6) : f64[4]
      return %9
    } : (f64[4])
    %4 = get(%3) {index = 0} : f64[4]
    return %4
  })");
  const char* out = R"(graph @main {
    %0 = input {name = "V0", dtype = f64, shape = [4]} : f64[4]
    %1 = input {name = "g_L", dtype = f64, shape = []} : f64[]
    %2 = input {name = "E", dtype = f64, shape = []} : f64[]
    %3 = const {value = f64[]{2}} : f64[]
    %4 = mul(%3, %2) : f64[]
    %5 = mul(%1, %4) : f64[]
    %6 = broadcast(%5) {shape = [4]} : f64[4]
    %7 = scan(%0, %6) {carry = 1, xs = 0, length = 5, every = 1, record = strs[]} body @b {
      %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
      %1 = param {index = 1, dtype = f64, shape = [4]} : f64[4]
      %2 = fill {value = 0.5, dtype = f64, shape = [4]} : f64[4]
      %3 = mul(%0, %2) : f64[4]
      %4 = sub(%3, %1) : f64[4]
      return %4
    } : (f64[4])
    %8 = get(%7) {index = 0} : f64[4]
    return %8
  })";
  Graph l = run({&licm, &dce}, g);
  CHECK(print_graph(l) == canon(out));
  check_same_results(g, l);
  Graph once = run({&licm}, g);
  CHECK(same_graph(run({&licm}, once), once));  // idempotent
}

TEST_CASE("pass: licm through nested scans, whole invariant scans, reused captures") {
  // Inner body: exp(k) is invariant in both loops and goes to the top; neg(k) is already
  // captured by the outer scan, so the hoisted value reuses that capture; the inner scan over
  // the invariant `k` only is invariant in the outer body and moves out whole.
  Graph g = parse(R"(graph @main {
    %0 = input {name = "x", dtype = f64, shape = [2]} : f64[2]
    %1 = input {name = "k", dtype = f64, shape = []} : f64[]
    %2 = neg(%1) : f64[]
    %3 = scan(%0, %1, %2) {carry = 1, xs = 0, length = 3, every = 1, record = []} body @outer {
      %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
      %1 = param {index = 1, dtype = f64, shape = []} : f64[]
      %2 = param {index = 2, dtype = f64, shape = []} : f64[]
      %3 = scan(%0, %1) {carry = 1, xs = 0, length = 2, every = 1, record = []} body @inner {
        %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
        %1 = param {index = 1, dtype = f64, shape = []} : f64[]
        %2 = exp(%1) : f64[]
        %3 = neg(%1) : f64[]
        %4 = add(%2, %3) : f64[]
        %5 = mul(%0, %4) : f64[2]
        return %5
      } : (f64[2])
      %4 = get(%3) {index = 0} : f64[2]
      %5 = scan(%1) {carry = 1, xs = 0, length = 4, every = 1, record = []} body @counter {
        %0 = param {index = 0, dtype = f64, shape = []} : f64[]
        %1 = sqrt(%0) : f64[]
        return %1
      } : (f64[])
      %6 = get(%5) {index = 0} : f64[]
      %7 = mul(%4, %6) : f64[2]
      %8 = add(%7, %2) : f64[2]
      return %8
    } : (f64[2])
    %4 = get(%3) {index = 0} : f64[2]
    return %4
  })");
  Graph l = run({&licm, &dce}, g);
  check_same_results(g, l);
  const Graph& outer = *l.node(l.node(l.results[0]).operands[0]).body;
  CHECK(count_op(l, Op::Scan) == 3);
  CHECK(count_op(outer, Op::Scan) == 1);  // the counter scan moved out
  CHECK(count_op(outer, Op::Exp) == 0);   // exp(k) moved out of both loops
  CHECK(count_op(outer, Op::Neg) == 0);
  CHECK(count_op(outer, Op::Add) == 1);   // only the carry's update: add(%7, captured neg(k))
  int top_scans = 0;
  for (const Node& n : l.nodes) top_scans += n.op == Op::Scan;
  CHECK(top_scans == 2);
  Graph once = run({&licm}, g);
  CHECK(same_graph(run({&licm}, once), once));
}

TEST_CASE("pass: licm leaves big broadcasts, constants and length-0 scans inside") {
  auto graph = [](int64_t length, int64_t n) {
    return parse(fmt::format(R"(graph @main {{
      %0 = input {{name = "x", dtype = f32, shape = [{1}]}} : f32[{1}]
      %1 = input {{name = "k", dtype = f32, shape = []}} : f32[]
      %2 = scan(%0, %1) {{carry = 1, xs = 0, length = {0}, every = 1, record = []}} body @b {{
        %0 = param {{index = 0, dtype = f32, shape = [{1}]}} : f32[{1}]
        %1 = param {{index = 1, dtype = f32, shape = []}} : f32[]
        %2 = broadcast(%1) {{shape = [{1}]}} : f32[{1}]
        %3 = iota {{dtype = f32, shape = [{1}], axis = 0}} : f32[{1}]
        %4 = add(%0, %2) : f32[{1}]
        %5 = add(%4, %3) : f32[{1}]
        return %5
      }} : (f32[{1}])
      %3 = get(%2) {{index = 0}} : f32[{1}]
      return %3
    }})", length, n));
  };
  Graph big = graph(3, kMaxHoistBroadcast + 1);
  CHECK(same_graph(run({&licm}, big), big));
  Graph empty = graph(0, 8);
  CHECK(same_graph(run({&licm}, empty), empty));
  Graph small = graph(3, 8);
  Graph l = run({&licm}, small);
  CHECK(count_op(l, Op::Broadcast) == 1);
  CHECK(l.node(l.results[0]).op == Op::Get);
  CHECK(count_op(*l.node(l.node(l.results[0]).operands[0]).body, Op::Broadcast) == 0);
  CHECK(count_op(*l.node(l.node(l.results[0]).operands[0]).body, Op::Iota) == 1);
  check_same_results(small, l);
}

// ---- every pass on every model -----------------------------------------------------------------

namespace {

// 20 ms (spikes in hh-traub, hh-fi, hh-squid); the antennal lobe, 50 times the work per step,
// for 2 ms.
RunConfig short_run(const ModelInfo& m) {
  RunConfig rc;
  rc.t_end = std::min(m.t_end, m.name == "antennal-lobe" ? 2.0 : 20.0);
  if (m.size) rc.size = std::min<int64_t>(*m.size, 12);
  return rc;
}

}  // namespace

TEST_CASE("pass: the exact passes keep every model's results bit for bit; each is idempotent") {
  std::vector<Pass*> exact = {&cse, &simplify, &fold, &licm, &dce};
  for (const ModelInfo& m : models()) {
    std::string name = m.name;
    CAPTURE(name);
    Graph g = m.build(short_run(m));
    Graph out = g;
    for (Pass* p : exact) {
      std::string pass = p->name();
      CAPTURE(pass);
      Graph once = p->run(out, {});
      verify(once);
      CHECK(same_graph(p->run(once, {}), once));
      out = std::move(once);
    }
    CHECK(out.nodes.size() <= g.nodes.size());
    auto a = test::run_graph(g), b = test::run_graph(out);  // SimInfo::load must accept the output
    REQUIRE(a.results.size() == b.results.size());
    for (size_t r = 0; r < a.results.size(); ++r) CHECK(first_difference(a.results[r], b.results[r]) == "");
    REQUIRE(a.sink.spikes.size() == b.sink.spikes.size());
    for (size_t i = 0; i < a.sink.spikes.size(); ++i) {
      CHECK(a.sink.spikes[i].index == b.sink.spikes[i].index);
      CHECK(a.sink.spikes[i].step == b.sink.spikes[i].step);
    }
  }
}

TEST_CASE("pass: with singularities too, every model stays within 1e-7 with the same spike counts") {
  std::vector<Pass*> passes = {&cse, &simplify, &singularities, &fold, &licm, &dce};
  for (const ModelInfo& m : models()) {
    std::string name = m.name;
    CAPTURE(name);
    Graph g = m.build(short_run(m));
    Graph out = run({&cse, &simplify, &singularities, &fold, &licm, &dce}, g);
    CHECK(same_graph(run({&singularities}, out), out));
    auto a = test::run_graph(g), b = test::run_graph(out);
    double worst = 0;
    for (size_t r = 0; r < a.results.size(); ++r) {
      REQUIRE(a.results[r].type() == b.results[r].type());
      for (int64_t i = 0; i < a.results[r].size(); ++i)
        worst = std::max(worst, std::fabs(a.results[r].get(i) - b.results[r].get(i)));
    }
    CHECK(worst <= 1e-7);
    CHECK(a.sink.spikes.size() == b.sink.spikes.size());
    MESSAGE(name, ": ", count_op(out, Op::Expm1), " rates rewritten, max deviation ", worst, ", ",
            a.sink.spikes.size(), " spikes");
  }
}

TEST_CASE("pass: in the pipeline, 'changed' means changed, and a second run changes nothing") {
  const std::set<std::string> mine = {"cse", "simplify", "singularities", "fold", "licm", "dce"};
  auto dir = std::filesystem::temp_directory_path() / fmt::format("sf_passes_test_{}", ::getpid());
  for (const char* model : {"hh-squid", "net3"}) {
    std::string name = model;
    CAPTURE(name);
    std::filesystem::remove_all(dir);
    RunConfig rc;
    rc.t_end = 1;
    CompileResult r = compile_graph(find_model(model).build(rc), {}, dir.string());
    auto stage = [&](size_t i) {  // the graph after pass i (0: the input), from its dump
      const std::string pass = i == 0 ? "input" : r.passes[i - 1].name;
      return load_graph((dir / fmt::format("{:02}-{}.sfg", i, pass)).string());
    };
    int seen = 0;
    for (size_t i = 1; i <= r.passes.size(); ++i) {
      const PassRecord& rec = r.passes[i - 1];
      if (!mine.count(rec.name)) continue;
      ++seen;
      CAPTURE(rec.name);
      Graph before = stage(i - 1), after = stage(i);
      CHECK(rec.changed == (print_graph(before) != print_graph(after)));
      std::unique_ptr<Pass> again;
      for (auto& p : default_passes({}))
        if (p->name() == rec.name) again = std::move(p);
      REQUIRE(again);
      CHECK(same_graph(again->run(after, {}), after));
    }
    CHECK(seen == 6);
    // On these models each of cse... changes something except fold (no constant expressions).
    for (const PassRecord& rec : r.passes)
      if (rec.name == "singularities" || rec.name == "dce" || rec.name == "simplify") CHECK(rec.changed);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("pass: every pass on graphs that use every op, every record mode and nested scans") {
  std::vector<Pass*> all = {&cse, &simplify, &singularities, &fold, &licm, &dce};
  for (Graph g : {test::kitchen_sink(), test::neuron(), test::nested_scans(5)}) {
    auto inputs = sample_inputs(g);
    if (inputs.count("sidx"))  // scatter_add indices in range
      for (int64_t i = 0; i < inputs.at("sidx").size(); ++i) inputs.at("sidx").set(i, static_cast<double>(i % 5));
    if (inputs.count("I")) inputs.at("I") = Tensor::filled(f64, {2}, 20.0);
    auto results = [&](const Graph& h) {
      test::CollectSink s;
      RunOptions o;
      o.sink = &s;
      auto r = interpret(h, inputs, o);
      return std::make_tuple(r, s.spikes.size(), s.streamed);
    };
    auto [want, spikes, rows] = results(g);
    Graph out = g;
    for (Pass* p : all) {
      std::string pass = p->name();
      CAPTURE(pass);
      out = p->run(out, {});
      REQUIRE_NOTHROW(verify(out));
      auto [got, got_spikes, got_rows] = results(out);
      REQUIRE(got.size() == want.size());
      for (size_t r = 0; r < want.size(); ++r) CHECK_MESSAGE(first_difference(want[r], got[r]) == "", "result ", r);
      CHECK(got_spikes == spikes);
      CHECK(got_rows.size() == rows.size());
    }
    CHECK(print_graph(parse(print_graph(out))) == print_graph(out));  // still prints and parses
  }
}
