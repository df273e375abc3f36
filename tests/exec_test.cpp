// The reference executor of KernelPrograms against the interpreter: every op (unfused and inside
// kernel nodes), every recording mode, run-time errors and input bindings, and every model
// compiled through the full pipeline (with the Day 5 TensorFlow trajectories).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "compiler/pipeline.h"
#include "graph/builder.h"
#include "graph/error.h"
#include "graph/text.h"
#include "models/model.h"
#include "program_run.h"
#include "sample_graphs.h"
#include "tf_reference.h"

using namespace sf;

namespace {

constexpr DType f32 = DType::f32, f64 = DType::f64, i32 = DType::i32, i64 = DType::i64;

Tensor T(DType d, Shape s, std::vector<double> v) { return Tensor::from(d, std::move(s), v); }

// Values for every input without a default: small indices for integers, a ramp otherwise.
std::map<std::string, Tensor> some_inputs(const Graph& g) {
  std::map<std::string, Tensor> in;
  for (NodeId id : g.inputs()) {
    const Node& n = g.node(id);
    if (n.attrs.has("default")) continue;
    Tensor t(n.type.dtype, n.type.shape);
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, is_int(n.type.dtype) ? double(i % 5) : 0.5 + 0.25 * double(i));
    in[n.attrs.s("name")] = t;
  }
  return in;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A graph that applies `op` (with `attrs`) to inputs of the given types inside one kernel node.
Graph in_kernel(Op op, const std::vector<Type>& types, Attrs attrs = {}) {
  Builder body("k");
  std::vector<Value> params;
  for (size_t i = 0; i < types.size(); ++i)
    params.push_back(body.op(Op::Param, {},
                             Attrs{{"index", int64_t(i)}, {"dtype", types[i].dtype}, {"shape", types[i].shape}}));
  Value r = body.op(op, params, std::move(attrs));
  auto kbody = std::make_shared<const Graph>(body.take({r}));
  Builder b;
  std::vector<Value> ins;
  for (size_t i = 0; i < types.size(); ++i) ins.push_back(b.input("x" + std::to_string(i), types[i].dtype, types[i].shape));
  return b.build({b.op(Op::Kernel, ins, Attrs{{"name", std::string("k")}}, kbody)});
}

}  // namespace

TEST_CASE("exec: every op, unfused, is bit-exact with the interpreter") {
  Graph g = test::kitchen_sink();
  std::map<std::string, Tensor> in = some_inputs(g);
  CHECK(test::compare_runs(g, lower(g), in) == "");
  CHECK(test::compare_runs(g, lower(g), in, 1) == "");  // sink rows one by one
}

TEST_CASE("exec: elementwise ops on every dtype inside kernel nodes") {
  Tensor f = T(f64, {6}, {-1.5, -0.0, 0.0, 0.5, 2.0, std::numeric_limits<double>::quiet_NaN()});
  Tensor g = T(f64, {6}, {2.0, 0.0, -0.0, 0.5, std::numeric_limits<double>::infinity(), 1.0});
  Tensor a = T(i32, {6}, {-2147483648.0, -7, 0, 5, 2147483647.0, 3});
  Tensor b = T(i32, {6}, {-1, 7, 0, -5, 1, 3});
  for (const OpInfo& info : all_ops()) {
    if (!info.elementwise() || info.op == Op::Where || info.op == Op::Cast) continue;
    for (DType d : {f32, f64, i32, i64, DType::b8}) {
      bool ok = info.dtypes == kAny || (info.dtypes == kNum && d != DType::b8) || (info.dtypes == kFloat && is_float(d)) ||
                (info.dtypes == kBool && d == DType::b8);
      if (!ok) continue;
      CAPTURE(std::string(info.name));
      CAPTURE(std::string(dtype_name(d)));
      int arity = info.cls == OpClass::Unary ? 1 : 2;
      Graph k = in_kernel(info.op, std::vector<Type>(static_cast<size_t>(arity), Type::tensor(d, {6})));
      auto conv = [&](const Tensor& x) {
        Tensor t(d, {6});
        for (int64_t i = 0; i < 6; ++i) t.set(i, d == DType::b8 ? double(i % 2) : x.get(i));
        return t;
      };
      std::map<std::string, Tensor> in = {{"x0", conv(is_int(d) ? a : f)}};
      if (arity == 2) in["x1"] = conv(is_int(d) ? b : g);
      CHECK(test::compare_runs(k, lower(k), in) == "");
    }
  }
  // where and cast between every pair of dtypes.
  for (DType from : {f32, f64, i32, i64, DType::b8})
    for (DType to : {f32, f64, i32, i64, DType::b8}) {
      Graph k = in_kernel(Op::Cast, {Type::tensor(from, {6})}, Attrs{{"dtype", to}});
      Tensor x(from, {6});
      for (int64_t i = 0; i < 6; ++i) x.set(i, is_float(from) ? f.get(i) * 1e10 : a.get(i));
      CHECK(test::compare_runs(k, lower(k), {{"x0", x}}) == "");
    }
  Graph w = in_kernel(Op::Where, {Type::tensor(DType::b8, {6}), Type::tensor(f64, {}), Type::tensor(f64, {6})});
  CHECK(test::compare_runs(w, lower(w), {{"x0", T(DType::b8, {6}, {1, 0, 1, 1, 0, 0})}, {"x1", T(f64, {}, {7})}, {"x2", f}}) == "");
}

TEST_CASE("exec: layout ops, gather and scatter_add inside kernel nodes") {
  Type m = Type::tensor(f64, {3, 4});
  Tensor x(f64, {3, 4});
  for (int64_t i = 0; i < 12; ++i) x.set(i, 1.0 + double(i));
  struct Case {
    Op op;
    std::vector<Type> types;
    Attrs attrs;
    std::map<std::string, Tensor> in;
  };
  std::vector<Case> cases = {
      {Op::Reshape, {m}, Attrs{{"shape", Shape{2, 6}}}, {{"x0", x}}},
      {Op::Broadcast, {Type::tensor(f64, {1, 4})}, Attrs{{"shape", Shape{3, 3, 4}}}, {{"x0", T(f64, {1, 4}, {1, 2, 3, 4})}}},
      {Op::Transpose, {m}, Attrs{{"perm", Shape{1, 0}}}, {{"x0", x}}},
      {Op::Slice, {m}, Attrs{{"start", Shape{1, 0}}, {"limit", Shape{3, 4}}, {"stride", Shape{1, 3}}}, {{"x0", x}}},
      {Op::Concat, {m, Type::tensor(f64, {3, 2})}, Attrs{{"axis", int64_t{1}}}, {{"x0", x}, {"x1", T(f64, {3, 2}, {-1, -2, -3, -4, -5, -6})}}},
      {Op::Gather, {m, Type::tensor(i32, {2, 2})}, {}, {{"x0", x}, {"x1", T(i32, {2, 2}, {2, 0, 1, 2})}}},
      {Op::ScatterAdd, {Type::tensor(f64, {5, 2}), Type::tensor(i64, {5})}, Attrs{{"size", int64_t{3}}},
       {{"x0", T(f64, {5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})}, {"x1", T(i64, {5}, {2, 0, 2, 2, 1})}}},
      {Op::ScatterAdd, {Type::tensor(f32, {4}), Type::tensor(i32, {4})}, Attrs{{"size", int64_t{6}}},
       {{"x0", T(f32, {4}, {0.1, 0.2, -0.0, 0.3})}, {"x1", T(i32, {4}, {5, 5, 0, 5})}}},
  };
  for (Case& c : cases) {
    CAPTURE(std::string(op_name(c.op)));
    Graph k = in_kernel(c.op, c.types, c.attrs);
    CHECK(test::compare_runs(k, lower(k), c.in) == "");
  }
}

TEST_CASE("exec: reductions and matmul on every numeric dtype, in the interpreter's order") {
  for (DType d : {f32, f64, i32, i64}) {
    CAPTURE(std::string(dtype_name(d)));
    Tensor x(d, {2, 3, 4});
    for (int64_t i = 0; i < 24; ++i) x.set(i, is_float(d) ? 0.1 * double(i * 7 % 11) - 0.3 : double(i * 7 % 11) - 3);
    if (is_float(d)) x.set(5, std::numeric_limits<double>::quiet_NaN());
    for (Op op : {Op::ReduceSum, Op::ReduceMax, Op::ReduceMin})
      for (int64_t axis : {0, 1, 2, -1}) {
        Builder b;
        Value v = b.input("x", d, {2, 3, 4});
        Graph g = b.build({b.op(op, {v}, Attrs{{"axis", axis}})});
        CHECK(test::compare_runs(g, lower(g), {{"x", x}}) == "");
      }
    Builder b;
    Value v = b.input("x", d, {2, 3, 4});
    Value e = b.op(Op::ReduceMax, {b.input("empty", d, {3, 0})}, Attrs{{"axis", int64_t{1}}});
    Value mm = matmul(reshape(v, {6, 4}), transpose(reshape(v, {6, 4}), {1, 0}));
    Value mv = matmul(reshape(v, {4, 6}), slice(reshape(v, {24}), 0, 6));
    Graph g = b.build({e, mm, mv});
    CHECK(test::compare_runs(g, lower(g), {{"x", x}, {"empty", Tensor(d, {3, 0})}}) == "");
  }
}

TEST_CASE("exec: recording modes make the interpreter's sink calls") {
  Graph g = test::neuron();
  std::map<std::string, Tensor> in = {{"I", T(f64, {2}, {20, 5})}};
  KernelProgram p = lower(g);
  for (int64_t chunk : {1, 7, 256}) CHECK(test::compare_runs(g, p, in, chunk) == "");
  // Sink and events modes need a sink, as in the interpreter.
  std::string no_sink = error_of([&] { execute(p, in); });
  CHECK(no_sink == error_of([&] { interpret(g, in); }));
  CHECK(no_sink.find("needs a sink") != std::string::npos);

  // every = K, an unrecorded tail, and a stacked output of a nested scan.
  Graph h = test::strided_nested_scan();
  CHECK(test::compare_runs(h, lower(h), {{"x", T(f64, {3}, {1, -2, 0.5})}}, 2) == "");
}

TEST_CASE("exec: run-time errors name the node and the step; bindings are checked") {
  Graph g = test::gather_past_end();
  KernelProgram p = lower(g);
  std::string err = error_of([&] { execute(p); });
  CHECK(err == error_of([&] { interpret(g); }));  // "%N (scan) step 3: %M (gather): index 3 out of range [0, 3) ..."
  CHECK(err.find("step 3") != std::string::npos);

  Graph sg = test::scatter_into_two();
  KernelProgram sp = lower(sg);
  std::map<std::string, Tensor> bad = {{"src", T(f64, {3}, {1, 2, 3})}, {"idx", T(i64, {3}, {0, 2, 1})}};
  CHECK(error_of([&] { execute(sp, bad); }) == error_of([&] { interpret(sg, bad); }));
  CHECK(error_of([&] { execute(sp, bad); }).find("(scatter_add): index 2 out of range [0, 2) at position 1") !=
        std::string::npos);

  for (auto in : std::vector<std::map<std::string, Tensor>>{
           {{"src", T(f64, {3}, {1, 2, 3})}},                                              // idx has no value
           {{"src", T(f64, {2}, {1, 2})}, {"idx", T(i64, {3}, {0, 0, 0})}},                 // wrong shape
           {{"nope", T(f64, {3}, {1, 2, 3})}, {"idx", T(i64, {3}, {0, 0, 0})}}}) {         // unknown name
    std::string e = error_of([&] { execute(sp, in); });
    CHECK(!e.empty());
    CHECK(e == error_of([&] { interpret(sg, in); }));
  }
}

TEST_CASE("exec: the memory plan changes no result") {
  // The same programs with every buffer in storage of its own.
  auto unshared = [](KernelProgram p) {
    int64_t at = 0;
    for (Buffer& b : p.buffers)
      if (b.in_arena()) {
        b.offset = at;
        at += (b.bytes() + 63) / 64 * 64;
      }
    p.plan.peak_bytes = at;
    return p;
  };
  Graph g = test::kitchen_sink();
  std::map<std::string, Tensor> in = some_inputs(g);
  CHECK(test::compare_runs(g, unshared(lower(g)), in) == "");
  RunConfig rc;
  rc.t_end = 20;
  Graph net = find_model("net3").build(rc);
  CompileResult c = compile_graph(net);
  CHECK(c.program.plan.peak_bytes < unshared(c.program).plan.peak_bytes);
  CHECK(test::compare_runs(c.graph, unshared(c.program)) == "");
  CHECK(test::compare_runs(c.graph, c.program) == "");
}

// Every built-in model through the full pipeline: the program agrees bit for bit with the
// interpreter on the compiled graph, and with the interpreter on the model's own graph to 1e-7
// (the pipeline may change values on purpose, e.g. at removable singularities), with the same spikes.
TEST_CASE("exec: every model compiles and runs as the interpreter runs it") {
  for (const ModelInfo& m : models()) {
    CAPTURE(m.name);
    RunConfig rc;
    rc.t_end = m.name == "antennal-lobe" ? 5.0 : m.name == "net3" || m.name == "hh-traub" ? 60.0 : 10.0;
    if (m.name == "hh-squid") rc.size = 40;
    rc.stream = true;
    Graph g = m.build(rc);
    CompileResult c = compile_graph(g);
    CHECK(test::compare_runs(c.graph, c.program) == "");

    test::SinkLog a, b;
    RunOptions oa, ob;
    oa.sink = &a, ob.sink = &b;
    std::vector<Tensor> ra = interpret(g, {}, oa), rb = execute(c.program, {}, ob);
    REQUIRE(ra.size() == rb.size());
    double worst = 0;
    for (size_t i = 0; i < ra.size(); ++i)
      for (int64_t k = 0; k < ra[i].size(); ++k) worst = std::max(worst, std::abs(ra[i].get(k) - rb[i].get(k)));
    for (size_t i = 0; i < a.chunks.size() && i < b.chunks.size(); ++i)
      for (int64_t k = 0; k < a.chunks[i].size(); ++k)
        worst = std::max(worst, std::abs(a.chunks[i].get(k) - b.chunks[i].get(k)));
    MESSAGE(m.name << ": max difference " << worst);
    CHECK(worst <= 1e-7);
    std::vector<std::string> ea, eb;  // the spikes: every events call
    for (auto& s : a.calls)
      if (s.starts_with("events")) ea.push_back(s);
    for (auto& s : b.calls)
      if (s.starts_with("events")) eb.push_back(s);
    CHECK(ea == eb);
  }
}

TEST_CASE("exec: compiled net3 reproduces the TensorFlow Day 5 trajectories to 1e-8") {
  test::check_tf_reference(
      [](const Graph& g, const RunOptions& o) { return execute(compile_graph(g).program, {}, o); });
}
