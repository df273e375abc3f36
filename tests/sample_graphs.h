// Graphs shared by the tests (text format, DOT, the executor and backends): together they use every
// op, every attribute kind, nested scans with captures, every record mode, and tensors of every
// dtype with special values.
#pragma once
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>

#include "graph/builder.h"

namespace sf::test {

inline const double kNan = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();

inline TensorPtr share(Tensor t) { return std::make_shared<const Tensor>(std::move(t)); }

// f64 values whose text is tricky: signed zero, infinities, NaNs with payloads and signs,
// subnormals, the extremes, and decimals that need 17 digits.
inline Tensor tricky_f64() {
  std::vector<uint64_t> bits = {0x0000000000000000, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
                                0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000000000001, 0x7ff0000000000001,
                                0x0000000000000001, 0x000fffffffffffff, 0x7fefffffffffffff, 0x3fb999999999999a,
                                0x3ff0000000000001, 0xc05e000000000000};
  Tensor t(DType::f64, {static_cast<int64_t>(bits.size())});
  for (size_t i = 0; i < bits.size(); ++i) t.data<double>()[i] = std::bit_cast<double>(bits[i]);
  return t;
}

inline Tensor tricky_f32() {
  std::vector<uint32_t> bits = {0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
                                0x7fc00001, 0x7f800001, 0x00000001, 0x7f7fffff, 0x3dcccccd, 0x3f800001};
  Tensor t(DType::f32, {3, 4});
  for (size_t i = 0; i < bits.size(); ++i) t.data<float>()[i] = std::bit_cast<float>(bits[i]);
  return t;
}

inline Tensor int_tensor(DType d, std::vector<int64_t> v) {
  Tensor t(d, {static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) {
    if (d == DType::i64)
      t.data<int64_t>()[i] = v[i];
    else if (d == DType::i32)
      t.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
    else
      t.data<uint8_t>()[i] = static_cast<uint8_t>(v[i]);
  }
  return t;
}

// Every op of ops.def, every attribute kind, three levels of scans.
inline Graph kitchen_sink() {
  Builder b;
  Value x = b.input("x", tricky_f64().reshaped({14}));
  Value xf = b.input("xf", DType::f32, {2, 3});
  Value idx = b.input("idx", int_tensor(DType::i64, {0, 13, 2}));
  Value sidx = b.input("sidx", DType::i32, {14});
  Value flag = b.input("flag", DType::b8, {14}, Tensor::filled(DType::b8, {14}, 1));
  Value row = b.input("row", DType::f64, {1, 3});
  Value k = b.input("k", DType::f64, {}, Tensor::scalar(DType::f64, -0.0));
  Value xs = b.input("drive", DType::f64, {6, 2}, Tensor::filled(DType::f64, {6, 2}, 0.1));

  Value u = neg(abs(exp(expm1(log(log1p(sqrt(sin(cos(tanh(sigmoid(floor(x))))))))))));
  Value arith = pow(minimum(x + u, x - u), maximum(x * u, x / u));
  Value cmp = ((x < u) & (x <= u) & (x > u)) | (x >= u) | eq(x, u) | ne(x, u);
  Value sel = where(cmp & !flag, arith, u);
  Value f32 = cast(sel, DType::f32);
  Value fill = b.fill(-0.0, DType::f64, {2, 2});
  Value fill_nan = b.fill(kNan, DType::f64, {3});
  Value iota = b.iota(DType::i32, {2, 3}, 1);
  Value re = reshape(xf, {3, 2});
  Value bc = broadcast_to(row, {2, 3});
  Value tr = transpose(xf, {1, 0});
  Value sl = slice(x, {1}, {14}, {2});
  Value cc = concat({x, sel}, 0);
  Value red = sum(fill, 0) + max(fill, 1) + min(fill, 0);
  Value mm = matmul(matmul(fill, fill), red);
  Value ga = gather(x, idx);
  Value sa = scatter_add(x, sidx, 5);
  Value c32 = b.constant(tricky_f32());
  Value ci32 = b.constant(
      int_tensor(DType::i32, {std::numeric_limits<int32_t>::min(), -1, 0, std::numeric_limits<int32_t>::max()}));
  Value ci64 = b.constant(
      int_tensor(DType::i64, {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 42}));
  Value cb = b.constant(int_tensor(DType::b8, {1, 0, 0, 1}));
  Value splat = b.constant(Tensor::filled(DType::f64, {1000}, 0.5));
  Value splat_nan = b.constant(Tensor::filled(DType::f32, {2, 2}, kNan));
  Value empty = b.constant(Tensor(DType::f64, {0, 3}));
  Value one = b.constant(Tensor::filled(DType::f64, {1}, 3.0));

  // A fused kernel with two outputs, as compiler/fuse makes them.
  auto kernel = [](Builder& at, Value a, Value c) {
    Builder body("fused");
    auto param = [&](int64_t i, Value v) {
      return body.op(Op::Param, {}, Attrs{{"index", i}, {"dtype", v.dtype()}, {"shape", v.shape()}});
    };
    Value p0 = param(0, a), p1 = param(1, c);
    Graph g = body.take({p0 * p1 + p0, exp(p0)});
    Value k = at.op(Op::Kernel, {a, c}, Attrs{{"name", std::string("fused0")}}, std::make_shared<const Graph>(g));
    return get(k, 0) + get(k, 1);
  };
  Value fused = kernel(b, x, u);

  ScanOptions opts;
  opts.every = 2;
  opts.record = {RecordMode::Stack, RecordMode::Sink, RecordMode::Events};
  auto r = b.scan(
      6, {x}, {xs},
      [&](Builder& body, const std::vector<Value>& c, const std::vector<Value>& xt) {
        Value nx = c[0] * 0.5 + sum(xt[0], 0) * k;  // k is captured
        auto inner = body.scan(3, {nx}, {}, [&](Builder& ib, const std::vector<Value>& c2, const std::vector<Value>&) {
          Value y = c2[0] + k;  // captured through two bodies
          auto innermost = ib.scan(2, {y}, {}, [&](Builder&, const std::vector<Value>& c3, const std::vector<Value>&) {
            return ScanStep{{c3[0] * fill_nan.builder()->scalar(2.0)}, {}};
          });
          return ScanStep{{innermost.carry[0]}, {y, cast(y, DType::i32)}};
        });
        Value ev = inner.carry[0] > 0.0;
        return ScanStep{{inner.carry[0]}, {nx, nx, ev}};
      },
      opts);

  Graph g =
      b.build({fused, u,   arith, f32,  fill_nan, iota,  re,        bc,    tr,  sl,         cc,      mm,      ga,
               sa,    c32, ci32,  ci64, cb,       splat, splat_nan, empty, one, r.carry[0], r.ys[0], r.ys[1], r.ys[2]});
  for (Node& n : g.nodes) {  // the attributes the classify pass adds
    if (n.op != Op::Scan) continue;
    n.attrs.set("class", std::string("coupled"));
    n.attrs.set("stages", int64_t{2});
  }
  g.attrs.set("sim.dt", 0.01);
  g.attrs.set("sim.t0", -0.0);
  g.attrs.set("sim.nan", kNan);
  g.attrs.set("sim.steps", int64_t{-9007199254740993});
  g.attrs.set("sim.columns", std::vector<std::string>{"V[0]", "V[1]", "say \"hi\"\\n", "µs"});
  g.attrs.set("sim.none", std::vector<std::string>{});
  g.attrs.set("sim.shape", std::vector<int64_t>{});
  g.attrs.set("sim.dims", std::vector<int64_t>{3, -4});
  g.attrs.set("sim.dtype", DType::b8);
  g.attrs.set("sim.table", share(tricky_f64()));
  g.attrs.set("weird key\n\t\"", std::string("bytes \xff\x01\x7f end"));
  return g;
}

// A small Hodgkin-Huxley-like neuron: the shape of a real model.
inline Graph neuron() {
  Builder b;
  Value v0 = b.input("V0", Tensor::filled(DType::f64, {2}, -65.0));
  Value i = b.input("I", DType::f64, {2});
  auto r = b.scan(
      100, {v0}, {},
      [&](Builder&, const std::vector<Value>& c, const std::vector<Value>&) {
        Value v = c[0];
        Value dv = (i - 0.3 * (v + 54.4)) / 1.0;
        Value nv = v + 0.01 * dv;
        return ScanStep{{nv}, {nv, nv > -50.0}};
      },
      ScanOptions{1, {RecordMode::Stack, RecordMode::Events}});
  Graph g = b.build({r.carry[0], r.ys[0], r.ys[1]});
  g.attrs.set("sim.dt", 0.01);
  g.attrs.set("sim.columns", std::vector<std::string>{"V[0]", "V[1]"});
  return g;
}

// A graph with `depth` scans, each inside the previous one's body.
inline Graph nested_scans(int depth) {
  Builder b;
  Value x = b.input("x", DType::f64, {});
  std::function<Value(Builder&, Value, int)> nest = [&](Builder& at, Value v, int left) -> Value {
    if (left == 0) return v + 1.0;
    auto r = at.scan(2, {v}, {}, [&](Builder& inner, const std::vector<Value>& c, const std::vector<Value>&) {
      return ScanStep{{nest(inner, c[0], left - 1)}, {}};
    });
    return r.carry[0];
  };
  return b.build({nest(b, x, depth)});
}

// Input x: f64[3]. A scan of 10 steps recorded every 3 (an unrecorded tail), with a Stack and a
// Sink output; the stacked one is a nested scan's output.
inline Graph strided_nested_scan() {
  Builder b;
  Value x = b.input("x", DType::f64, {3});
  ScanOptions opts;
  opts.every = 3;
  opts.record = {RecordMode::Stack, RecordMode::Sink};
  auto r = b.scan(
      10, {x}, {},
      [&](Builder& body, const std::vector<Value>& c, const std::vector<Value>&) {
        auto inner = body.scan(4, {c[0]}, {}, [&](Builder&, const std::vector<Value>& c2, const std::vector<Value>&) {
          return ScanStep{{c2[0] * 1.5 - 0.25}, {c2[0]}};
        });
        return ScanStep{{inner.carry[0] * 0.5}, {inner.ys[0], c[0]}};
      },
      opts);
  return b.build({r.carry[0], r.ys[0], r.ys[1]});
}

// A scan whose gather index (the step counter) leaves the 3-element table at step 3: the run-time
// error "%N (scan) step 3: %M (gather): index 3 out of range [0, 3) ...".
inline Graph gather_past_end() {
  Builder b;
  Value table = b.constant(Tensor::from(DType::f64, {3}, std::vector<double>{1, 2, 3}));
  auto r = b.scan(5, {b.scalar(0, DType::i32)}, {}, [&](Builder&, auto& c, auto&) {
    Value g = gather(table, c[0]);
    return ScanStep{{c[0] + c[0].builder()->scalar(1, DType::i32)}, {g}};
  });
  return b.build({r.ys[0]});
}

// scatter_add of input "src" (f64[3]) into 2 elements at input "idx" (i64[3], no default).
inline Graph scatter_into_two() {
  Builder s;
  Value src = s.input("src", DType::f64, {3});
  Value idx = s.input("idx", DType::i64, {3});
  return s.build({scatter_add(src, idx, 2)});
}

// Which ops a graph uses, bodies included.
inline void collect_ops(const Graph& g, std::set<Op>& ops) {
  for (auto& n : g.nodes) {
    ops.insert(n.op);
    if (n.body) collect_ops(*n.body, ops);
  }
}

// Attribute equality, bit for bit (Tensor::bit_equal is not used: it passes the null data pointer of
// an empty tensor to memcmp).
inline bool same_attrs(const Attrs& a, const Attrs& b) {
  if (a.items().size() != b.items().size()) return false;
  for (size_t i = 0; i < a.items().size(); ++i) {
    auto& [ka, va] = a.items()[i];
    auto& [kb, vb] = b.items()[i];
    if (ka != kb || va.index() != vb.index()) return false;
    if (auto* ta = std::get_if<TensorPtr>(&va)) {
      const Tensor &x = **ta, &y = *std::get<TensorPtr>(vb);
      if (x.type() != y.type() || (x.bytes() && std::memcmp(x.raw(), y.raw(), static_cast<size_t>(x.bytes()))))
        return false;
    } else if (auto* da = std::get_if<double>(&va)) {
      if (std::bit_cast<uint64_t>(*da) != std::bit_cast<uint64_t>(std::get<double>(vb))) return false;
    } else if (va != vb) {
      return false;
    }
  }
  return true;
}

// "" if a and b are the same graph (attributes bit for bit), else where they differ.
inline std::string graph_diff(const Graph& a, const Graph& b, const std::string& where = "graph") {
  if (a.name != b.name) return where + ": name";
  if (!same_attrs(a.attrs, b.attrs)) return where + ": graph attrs";
  if (a.results != b.results) return where + ": results";
  if (a.nodes.size() != b.nodes.size()) return where + ": node count";
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &m = a.nodes[i], &n = b.nodes[i];
    std::string at = fmt::format("{} %{}", where, i);
    if (m.op != n.op) return at + ": op";
    if (m.operands != n.operands) return at + ": operands";
    if (!same_attrs(m.attrs, n.attrs)) return at + ": attrs";
    if (m.type != n.type) return at + ": type";
    if (!m.body != !n.body) return at + ": body";
    if (m.body)
      if (std::string d = graph_diff(*m.body, *n.body, at + ".body"); !d.empty()) return d;
  }
  return "";
}

}  // namespace sf::test
