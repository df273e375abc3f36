#include <doctest/doctest.h>

#include "graph/builder.h"
#include "graph/error.h"

using namespace sf;

TEST_CASE("builder infers types and broadcasts scalars") {
  Builder b;
  Value v = b.input("V", DType::f64, {3});
  Value dv = (1.0 - v) * exp(v / 2.0) + 3.0;
  CHECK(dv.shape() == Shape{3});
  CHECK(dv.dtype() == DType::f64);
  Graph g = b.build({dv});
  CHECK(g.results.size() == 1);
}

TEST_CASE("builder hash-conses equal nodes") {
  Builder b;
  Value v = b.input("V", DType::f64, {3});
  CHECK((v * 2.0).id() == (v * 2.0).id());
}

TEST_CASE("shape mismatch names the op and both shapes") {
  Builder b;
  Value a = b.input("a", DType::f64, {3});
  Value c = b.input("c", DType::f64, {4});
  CHECK_THROWS_WITH_AS(a + c, "add: shapes [3] and [4] do not broadcast", Error);
}

TEST_CASE("size-1 dims broadcast explicitly") {
  Builder b;
  Value a = b.input("a", DType::f64, {3, 1});
  Value c = b.input("c", DType::f64, {1, 4});
  CHECK((a * c).shape() == Shape{3, 4});
}

TEST_CASE("scan captures outer values") {
  Builder b;
  Value k = b.input("k", DType::f64, {});
  Value x0 = b.input("x0", DType::f64, {2});
  auto r = b.scan(5, {x0}, {}, [&](Builder&, const std::vector<Value>& c, const std::vector<Value>&) {
    Value nx = c[0] * k;
    return ScanStep{{nx}, {nx}};
  });
  CHECK(r.ys[0].shape() == Shape{5, 2});
  Graph g = b.build({r.carry[0], r.ys[0]});
  CHECK(g.nodes.back().op == Op::Get);
}
