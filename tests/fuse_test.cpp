// The kernel op (type rule, verify, interpreter, text, DOT) and the fuse pass: .sfg in, a few
// structural assertions (or the expected .sfg) out; then every model through the pipeline.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "backends/interpreter/interpreter.h"
#include "compiler/fuse.h"
#include "compiler/pipeline.h"
#include "compiler/stats.h"
#include "graph/builder.h"
#include "graph/dot.h"
#include "graph/error.h"
#include "graph/kernel.h"
#include "graph/text.h"
#include "graph/verify.h"
#include "models/model.h"
#include "shell.h"

using namespace sf;

namespace {

Graph fuse(const std::string& sfg) {
  Graph f = FusePass().run(parse_graph(sfg, "in.sfg"), {});
  verify(f);
  return f;
}

// The kernel nodes of g (not of its bodies), in order.
std::vector<const Node*> kernels(const Graph& g) {
  std::vector<const Node*> r;
  for (const Node& n : g.nodes)
    if (n.op == Op::Kernel) r.push_back(&n);
  return r;
}

// "add gather mul": the ops a body computes, without its params and consts.
std::string ops(const Graph& g) {
  std::string s;
  for (const Node& n : g.nodes)
    if (n.op != Op::Param && n.op != Op::Const) s += (s.empty() ? "" : " ") + std::string(op_name(n.op));
  return s;
}

size_t outputs(const Node& kernel) { return kernel.body->results.size(); }

std::string parse_error(const std::string& sfg) {
  try {
    parse_graph(sfg, "in.sfg");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Events : RecordSink {
  std::vector<Event> all;
  void events(NodeId, int64_t, const std::vector<Event>& e) override { all.insert(all.end(), e.begin(), e.end()); }
};

}  // namespace

// ---- the kernel op ---------------------------------------------------------------------------

TEST_CASE("fuse: a kernel node runs its body, several outputs and inside a scan, and round-trips") {
  const char* sfg = R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [3], default = f64[3]{1, 2, 3}} : f64[3]
  %1 = scan(%0) {carry = 1, xs = 0, length = 3, every = 1, record = ["stack"]} body @b {
    %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
    %1 = kernel(%0) {name = "k0"} body @k0 {
      %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
      %1 = const {value = f64[]{2}} : f64[]
      %2 = mul(%0, %1) : f64[3]
      %3 = add(%2, %1) : f64[3]
      return %2, %3
    } : (f64[3], f64[3])
    %2 = get(%1) {index = 0} : f64[3]
    %3 = get(%1) {index = 1} : f64[3]
    return %2, %3
  } : (f64[3], f64[3,3])
  %2 = get(%1) {index = 0} : f64[3]
  %3 = get(%1) {index = 1} : f64[3,3]
  %4 = kernel(%2) {name = "k1"} body @k1 {
    %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
    %1 = neg(%0) : f64[3]
    return %1
  } : f64[3]
  return %4, %3
}
)";
  Graph g = parse_graph(sfg);
  CHECK(print_graph(g) == sfg);
  auto r = interpret(g);
  CHECK(r[0].get(0) == -8);
  CHECK(r[0].get(2) == -24);
  CHECK(r[1].get(0) == 4);   // row 0: 2x + 2 with x = 1
  CHECK(r[1].get(8) == 26);  // row 2: x = 12
  CHECK(kernel_loop_size(*g.node(4).body) == 3);
}

TEST_CASE("fuse: verify accepts only kernel bodies that one element loop computes") {
  auto kernel = [](const std::string& params, const std::string& body, const std::string& type) {
    return "graph @main {\n"
           "  %0 = input {name = \"a\", dtype = f64, shape = [3]} : f64[3]\n"
           "  %1 = input {name = \"i\", dtype = i64, shape = [3]} : i64[3]\n"
           "  %2 = kernel(" + params + ") {name = \"k\"} body @k {\n"
           "    %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]\n"
           "    %1 = param {index = 1, dtype = i64, shape = [3]} : i64[3]\n" + body +
           "  } : " + type + "\n  return %2\n}\n";
  };
  std::string ok = kernel("%0, %1", "    %2 = gather(%0, %1) : f64[3]\n    %3 = neg(%2) : f64[3]\n    return %3\n", "f64[3]");
  CHECK(parse_error(ok) == "");
  CHECK(parse_error(kernel("%0, %1", "    %2 = neg(%0) : f64[3]\n    %3 = gather(%2, %1) : f64[3]\n    return %3\n", "f64[3]"))
            .find("reads %2 (neg) at other elements") != std::string::npos);
  CHECK(parse_error(kernel("%0, %1",
                           "    %2 = scatter_add(%0, %1) {size = 3} : f64[3]\n    %3 = neg(%2) : f64[3]\n    return %3\n",
                           "f64[3]"))
            .find("complete only after the loop") != std::string::npos);
  CHECK(parse_error(kernel("%0, %1", "    %2 = slice(%0) {start = [1], limit = [3], stride = [1]} : f64[2]\n"
                                     "    %3 = neg(%0) : f64[3]\n    %4 = neg(%2) : f64[2]\n    return %3, %4\n",
                           "(f64[3], f64[2])"))
            .find("a kernel is one loop") != std::string::npos);
  CHECK(parse_error(kernel("%0, %1", "    %2 = reduce_sum(%0) {axis = 0} : f64[]\n    return %2\n", "f64[]"))
            .find("computes only what one loop") != std::string::npos);
  CHECK(parse_error(kernel("%1, %0", "    %2 = neg(%0) : f64[3]\n    return %2\n", "f64[3]"))
            .find("kernel: body param 0 is f64[3] but operand 0 is i64[3]") != std::string::npos);
}

// ---- the fuse pass ---------------------------------------------------------------------------

TEST_CASE("fuse: an elementwise chain becomes one kernel") {
  Graph f = fuse(R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [4]} : f64[4]
  %1 = const {value = f64[]{2}} : f64[]
  %2 = mul(%0, %1) : f64[4]
  %3 = add(%2, %1) : f64[4]
  %4 = exp(%3) : f64[4]
  %5 = neg(%4) : f64[4]
  return %5
})");
  CHECK(print_graph(f) == R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [4]} : f64[4]
  %1 = kernel(%0) {name = "k0"} body @k0 {
    %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
    %1 = const {value = f64[]{2}} : f64[]
    %2 = mul(%0, %1) : f64[4]
    %3 = add(%2, %1) : f64[4]
    %4 = exp(%3) : f64[4]
    %5 = neg(%4) : f64[4]
    return %5
  } : f64[4]
  return %1
}
)");
  CHECK(same_graph(FusePass().run(f, {}), f));  // nothing left to fuse
}

TEST_CASE("fuse: a cheap shared producer is recomputed, an expensive one becomes a second output") {
  // %6 reads %5 at other elements, so %7 and %8 run after a barrier and read %3 and %4 again.
  Graph f = fuse(R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [4]} : f64[4]
  %1 = input {name = "i", dtype = i64, shape = [4]} : i64[4]
  %2 = const {value = f64[]{1}} : f64[]
  %3 = add(%0, %2) : f64[4]
  %4 = exp(%0) : f64[4]
  %5 = mul(%3, %4) : f64[4]
  %6 = gather(%5, %1) : f64[4]
  %7 = add(%6, %3) : f64[4]
  %8 = mul(%7, %4) : f64[4]
  return %8
})");
  auto k = kernels(f);
  REQUIRE(k.size() == 2);
  CHECK(ops(*k[0]->body) == "add exp mul");
  CHECK(outputs(*k[0]) == 2);                         // exp for later, mul for the gather
  CHECK(ops(*k[1]->body) == "add gather add mul");  // x + 1 again, no exp
  CHECK(outputs(*k[1]) == 1);
}

TEST_CASE("fuse: a shared producer in one phase is one multi-output kernel") {
  Graph f = fuse(R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [4]} : f64[4]
  %1 = exp(%0) : f64[4]
  %2 = neg(%1) : f64[4]
  %3 = sqrt(%1) : f64[4]
  return %2, %3, %1
})");
  auto k = kernels(f);
  REQUIRE(k.size() == 1);
  CHECK(ops(*k[0]->body) == "exp neg sqrt");
  CHECK(outputs(*k[0]) == 3);
}

TEST_CASE("fuse: a gather fuses its index prologue and epilogue; a computed source is a barrier") {
  const char* sfg = R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [5]} : f64[5]
  %1 = input {name = "i", dtype = i64, shape = [3]} : i64[3]
  %2 = const {value = i64[]{1}} : i64[]
  %3 = add(%1, %2) : i64[3]
  %4 = gather(%0, %3) : f64[3]
  %5 = const {value = f64[]{2}} : f64[]
  %6 = mul(%4, %5) : f64[3]
  %7 = exp(%0) : f64[5]
  %8 = gather(%7, %3) : f64[3]
  return %6, %8
})";
  Graph f = fuse(sfg);
  auto k = kernels(f);
  REQUIRE(k.size() == 3);
  CHECK(ops(*k[0]->body) == "add gather mul");  // index prologue, gather, epilogue: one loop
  CHECK(ops(*k[1]->body) == "exp");             // a computed source is complete first...
  CHECK(ops(*k[2]->body) == "add gather");      // ...and gathered after a barrier
}

TEST_CASE("fuse: scatter_add fuses its prologue; its sum is read after a barrier; one index per kernel") {
  Graph f = fuse(R"(graph @main {
  %0 = input {name = "src", dtype = f64, shape = [6]} : f64[6]
  %1 = input {name = "idx", dtype = i64, shape = [6]} : i64[6]
  %2 = input {name = "idx2", dtype = i64, shape = [6]} : i64[6]
  %3 = const {value = f64[]{2}} : f64[]
  %4 = mul(%0, %3) : f64[6]
  %5 = scatter_add(%4, %1) {size = 3} : f64[3]
  %6 = scatter_add(%0, %1) {size = 3} : f64[3]
  %7 = scatter_add(%4, %2) {size = 3} : f64[3]
  %8 = add(%5, %6) : f64[3]
  %9 = add(%8, %7) : f64[3]
  return %9
})");
  auto k = kernels(f);
  REQUIRE(k.size() == 3);
  CHECK(ops(*k[0]->body) == "mul scatter_add scatter_add");  // both sums by idx
  CHECK(ops(*k[1]->body) == "mul scatter_add");  // by idx2, its prologue recomputed (cheap)
  CHECK(ops(*k[2]->body) == "add add");
  CHECK(kernel_loop_size(*k[0]->body) == 6);
  CHECK(kernel_loop_size(*k[2]->body) == 3);
}

TEST_CASE("fuse: matmul stays a node; its elementwise epilogue is a kernel of the next phase") {
  Graph f = fuse(R"(graph @main {
  %0 = input {name = "a", dtype = f64, shape = [2, 3]} : f64[2,3]
  %1 = input {name = "v", dtype = f64, shape = [3]} : f64[3]
  %2 = const {value = f64[]{2}} : f64[]
  %3 = mul(%1, %2) : f64[3]
  %4 = matmul(%0, %3) : f64[2]
  %5 = add(%4, %2) : f64[2]
  return %5
})");
  CHECK(ops(f) == "input input kernel matmul kernel");
}

TEST_CASE("fuse: scan bodies fuse, nested ones too, and rank-0 carries come out of a kernel") {
  Builder b;
  Value x0 = b.input("x0", DType::f64, {3}, Tensor::from(DType::f64, {3}, std::vector<double>{0.1, 0.2, 0.3}));
  ScanResult r = b.scan(4, {b.scalar(0, DType::i64), x0}, {}, [&](Builder&, const std::vector<Value>& c, const std::vector<Value>&) {
    ScanResult in = c[1].builder()->scan(2, {c[1]}, {}, [&](Builder&, const std::vector<Value>& c2, const std::vector<Value>&) {
      return ScanStep{{exp(c2[0]) * 0.5}, {}};
    });
    Value t = cast(c[0], DType::f64) * 0.25;
    Value y = in.carry[0] + t;
    return ScanStep{{c[0] + like(c[0], 1), y}, {y}};
  });
  Graph g = b.build({r.carry[1], r.ys[0]});
  Graph f = FusePass().run(g, {});
  verify(f);
  const Node* outer = nullptr;
  for (const Node& n : f.nodes)
    if (n.op == Op::Scan) outer = &n;
  REQUIRE(outer);
  CHECK(ops(*outer->body) == "scan get kernel get get");  // one kernel: y and the counter k + 1
  for (const Node& n : outer->body->nodes)
    if (n.op == Op::Scan) CHECK(ops(*n.body) == "kernel");
  FusionStats s = fusion_stats(f);
  CHECK(s.kernels == 2);
  CHECK(s.kernels_per_step == 1 + 2 * 1);
  auto want = interpret(g), got = interpret(f);
  for (size_t i = 0; i < want.size(); ++i)
    for (int64_t e = 0; e < want[i].size(); ++e) CHECK(got[i].get(e) == want[i].get(e));
}

// ---- models ----------------------------------------------------------------------------------

// A short run of every model: long enough for the spiking ones to spike.
RunConfig short_run(const ModelInfo& m) {
  RunConfig rc;
  if (m.name == "antennal-lobe") rc.t_end = 5;
  else if (m.name.rfind("hh", 0) == 0 || m.name == "net3") rc.t_end = 25;
  if (m.name == "hh-squid") rc.size = 20;
  return rc;
}

TEST_CASE("fuse: every model compiles, and the interpreter runs the fused graph as the original") {
  std::vector<std::pair<const ModelInfo*, DType>> runs;
  for (auto& m : models()) runs.push_back({&m, DType::f64});
  runs.push_back({&find_model("hh-traub"), DType::f32});
  for (auto [mp, dtype] : runs) {
    const ModelInfo& m = *mp;
    CAPTURE(m.name);
    CAPTURE(dtype_name(dtype));
    RunConfig rc = short_run(m);
    rc.dtype = dtype;
    Graph g = m.build(rc);
    for (bool exact : {true, false}) {
      if (!exact && dtype == DType::f32) continue;  // the 1e-7 bound is for float64
      CompileOptions o;
      o.rewrite_singularities = !exact;  // exact passes only: the same bits
      Graph f = compile_graph(g, o).graph;
      CHECK(fusion_stats(f).kernels > 0);
      Events want_ev, got_ev;
      RunOptions wo, go;
      wo.sink = &want_ev, go.sink = &got_ev;
      auto want = interpret(g, {}, wo), got = interpret(f, {}, go);
      REQUIRE(want.size() == got.size());
      for (size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        REQUIRE(want[i].type() == got[i].type());
        if (exact) {
          CHECK(std::memcmp(want[i].raw(), got[i].raw(), static_cast<size_t>(want[i].bytes())) == 0);
          continue;
        }
        double worst = 0;
        for (int64_t e = 0; e < want[i].size(); ++e) worst = std::max(worst, std::abs(want[i].get(e) - got[i].get(e)));
        CHECK(worst <= 1e-7);
      }
      CHECK(want_ev.all.size() == got_ev.all.size());
    }
  }
}

TEST_CASE("fuse: an RK4 step of hh-squid is one kernel; coupled networks are pinned") {
  auto stats = [](const std::string& name) {
    RunConfig rc;
    rc.t_end = 1;
    return fusion_stats(compile_graph(find_model(name).build(rc)).graph);
  };
  FusionStats squid = stats("hh-squid");
  CHECK(squid.kernels_per_step == 1);
  FusionStats net3 = stats("net3"), al = stats("antennal-lobe");
  MESSAGE("net3:\n" << format_fusion_stats(net3));
  MESSAGE("antennal-lobe:\n" << format_fusion_stats(al));
  // Per RK4 step, net3: 3 neurons and 1+1 synapses over 6 phases; the antennal lobe: 90 PNs,
  // 30 LNs, 1371 ACh and 1849 GABA-A synapses over 9 phases (compiler/phases.h), one kernel per
  // element space in each phase where it has work, plus the recorded row.
  CHECK(net3.kernels_per_step == 13);
  CHECK(al.kernels_per_step == 21);
  CHECK(squid.kernels == 2);  // the step, and the spike counter's initial zeros
  CHECK(net3.kernels == 16);
  CHECK(al.kernels == 23);
}

TEST_CASE("fuse: fused models print, parse back and verify; their DOT renders cleanly") {
  for (auto& m : models()) {
    CAPTURE(m.name);
    RunConfig rc;
    rc.t_end = 1;
    Graph f = compile_graph(m.build(rc)).graph;
    std::string text = print_graph(f);
    Graph back = parse_graph(text, m.name + ".sfg");
    CHECK(print_graph(back) == text);
  }
  // Graphviz needs half a minute for an HH step; the Lorenz step shows the same clusters.
  RunConfig rc;
  rc.t_end = 1;
  Graph f = compile_graph(find_model("lorenz").build(rc)).graph;
  std::string dot = to_dot(f);
  CHECK(dot.find("label=\"kernel k0 of %") != std::string::npos);  // the step's kernel, a cluster
  CHECK(dot.find("elementwise, 1 stage") != std::string::npos);
  CHECK(test::render_dot(dot) == "");
}
