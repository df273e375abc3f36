// The classify pass: elementwise vs coupled scans, and the stages of coupled ones.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "compiler/classify.h"
#include "graph/builder.h"
#include "graph/text.h"
#include "graph/verify.h"
#include "models/model.h"

using namespace sf;

namespace {

constexpr DType f64 = DType::f64, i64 = DType::i64;

// "elementwise 1", "coupled 3": the class and stages the pass gives the first top-level scan.
std::string classify(const Graph& g) {
  Graph c = ClassifyPass().run(g, {});
  verify(c);
  for (const Node& n : c.nodes)
    if (n.op == Op::Scan) return n.attrs.s("class") + " " + std::to_string(n.attrs.i("stages"));
  return "no scan";
}

// A one-carry scan over v (f64[4], with index input idx and table input tab) whose step is `f`.
std::string classify_step(const std::function<ScanStep(Value v, Value k, Value idx, Value tab)>& f) {
  Builder b;
  Value v0 = b.input("v0", f64, {4}), idx = b.input("idx", i64, {4}), tab = b.input("tab", f64, {10, 4});
  ScanResult r = b.scan(5, {b.scalar(0, i64), v0}, {}, [&](Builder&, const std::vector<Value>& c, const std::vector<Value>&) {
    ScanStep s = f(c[1], c[0], idx, tab);
    s.carry.insert(s.carry.begin(), c[0] + like(c[0], 1));
    return s;
  });
  std::vector<Value> results{r.carry[1]};
  results.insert(results.end(), r.ys.begin(), r.ys.end());
  return classify(b.build(results));
}

}  // namespace

TEST_CASE("classify: the built-in models") {
  std::map<std::string, std::string> want = {
      {"exp-growth", "elementwise 1"}, {"linear2d", "elementwise 1"}, {"lorenz", "elementwise 1"},
      {"hh-traub", "elementwise 1"},   {"hh-fi", "elementwise 1"},    {"hh-squid", "elementwise 1"},
      {"net3", "coupled 6"},           {"antennal-lobe", "coupled 9"}};
  for (auto& m : models()) {
    CAPTURE(m.name);
    RunConfig rc;
    rc.t_end = 1;
    CHECK(classify(m.build(rc)) == want.at(m.name));
  }
}

TEST_CASE("classify: a step counter, a table lookup and a recording concat keep a scan elementwise") {
  CHECK(classify_step([](Value v, Value k, Value idx, Value tab) {
          Value t = cast(k, f64) * 0.5;             // rank-0 carry, rank-0 arithmetic
          Value drive = gather(tab, k);             // row k of an invariant table
          Value lut = gather(reshape(tab, {40}), cast(abs(v), i64) + idx);  // invariant table, index per element
          Value v1 = v * 0.5 + drive * t + lut;
          return ScanStep{{v1}, {concat({v1, v, v1 * 2.0})}};  // rows laid end to end
        }) == "elementwise 1");
}

TEST_CASE("classify: reading carries across elements couples; stages count the barriers") {
  // Reading the carry itself at other elements needs no barrier inside the step...
  CHECK(classify_step([](Value v, Value, Value idx, Value) { return ScanStep{{v + gather(v, idx)}, {}}; }) ==
        "coupled 1");
  // ...reading a value computed in the step does: one barrier, two stages.
  CHECK(classify_step([](Value v, Value, Value idx, Value) { return ScanStep{{v + gather(exp(v), idx)}, {}}; }) ==
        "coupled 2");
  // scatter_add, then its sum read by the update: two stages.
  CHECK(classify_step([](Value v, Value, Value idx, Value) {
          return ScanStep{{v + scatter_add(v * 2.0, idx, 4)}, {}};
        }) == "coupled 2");
  // A reduction feeding the carries, through a rank-0 value.
  CHECK(classify_step([](Value v, Value, Value, Value) { return ScanStep{{v - sum(v) * 0.25}, {}}; }) == "coupled 2");
  // A matmul of the state with an invariant matrix.
  CHECK(classify_step([](Value v, Value, Value, Value tab) {
          return ScanStep{{v + matmul(transpose(slice(tab, 0, 4), {1, 0}), v)}, {}};
        }) == "coupled 2");
  // Layout ops moving carry elements (a rotation): the slices, then the concat.
  CHECK(classify_step([](Value v, Value, Value, Value) {
          return ScanStep{{concat({slice(v, 1, 4), slice(v, 0, 1)})}, {}};
        }) == "coupled 2");
  // Recording one element as a rank-0 value.
  CHECK(classify_step([](Value v, Value, Value, Value) { return ScanStep{{v * 0.5}, {reshape(slice(v, 0, 1), {})}}; }) ==
        "coupled 2");
  // Only recorded, but a reduction still needs every element at every step.
  CHECK(classify_step([](Value v, Value, Value, Value) { return ScanStep{{v * 0.5}, {max(v)}}; }) == "coupled 1");
}

TEST_CASE("classify: nested scans get their own class; the attributes print and parse") {
  Graph g = parse_graph(R"(graph @main {
  %0 = input {name = "v0", dtype = f64, shape = [3]} : f64[3]
  %1 = scan(%0) {carry = 1, xs = 0, length = 4, every = 1, record = []} body @outer {
    %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
    %1 = scan(%0) {carry = 1, xs = 0, length = 2, every = 1, record = []} body @inner {
      %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
      %1 = exp(%0) : f64[3]
      return %1
    } : (f64[3])
    %2 = get(%1) {index = 0} : f64[3]
    %3 = reduce_sum(%2) {axis = 0} : f64[]
    %4 = sub(%2, %3) : f64[3]
    return %4
  } : (f64[3])
  %2 = get(%1) {index = 0} : f64[3]
  return %2
})");
  Graph c = ClassifyPass().run(g, {});
  const Node& outer = c.node(1);
  CHECK(outer.attrs.s("class") == "coupled");
  CHECK(outer.attrs.i("stages") == 3);  // the inner scan, the sum, the update
  const Node& inner = outer.body->node(1);
  CHECK(inner.attrs.s("class") == "elementwise");
  CHECK(inner.attrs.i("stages") == 1);
  std::string text = print_graph(c);
  CHECK(text.find("class = \"coupled\", stages = 3}") != std::string::npos);
  CHECK(print_graph(parse_graph(text)) == text);
  CHECK(print_graph(ClassifyPass().run(c, {})) == text);  // running again changes nothing
}
