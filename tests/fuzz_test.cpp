// Differential fuzzing (tests/fuzz): random graphs compiled and run by the KernelProgram executor
// must agree with the interpreter; the generator is deterministic and covers the IR; the check
// itself fails when it should. Long runs: build/fuzz_driver --seeds A:B.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "compiler/pipeline.h"
#include "graph/text.h"
#include "graph/verify.h"
#include "tests/fuzz/differential.h"

using namespace sf;

namespace {

// Graphs per CI run: 3000 take about 10 s in the Release build (~3 ms each). AddressSanitizer
// makes each graph about 5x slower, so the ASan build (__SANITIZE_ADDRESS__) checks the first 1000
// seeds only; an unoptimized build (no NDEBUG) the first 600.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kGraphs = 1000;
#elif !defined(NDEBUG)
constexpr uint64_t kGraphs = 600;
#else
constexpr uint64_t kGraphs = 3000;
#endif

Tensor f64s(std::vector<double> v) { return Tensor::from(DType::f64, {static_cast<int64_t>(v.size())}, v); }
Tensor f32s(std::vector<double> v) { return Tensor::from(DType::f32, {static_cast<int64_t>(v.size())}, v); }

// Turns every add of the program's kernels into a subtraction: a wrong lowering.
void add_to_sub(std::vector<Step>& steps) {
  for (Step& s : steps) {
    for (Inst& i : s.kernel.body)
      if (i.kind == InstKind::Binary && i.op == Op::Add) i.op = Op::Sub;
    add_to_sub(s.scan.prologue);
    add_to_sub(s.scan.body);
  }
}

}  // namespace

TEST_CASE("fuzz: compiled random graphs agree with the interpreter") {
  int failures = 0;
  uint64_t seed = 0;
  for (; seed < kGraphs && failures < 5; ++seed) {
    std::string report = fuzz::check_seed(seed);
    CHECK_MESSAGE(report.empty(), report);
    failures += !report.empty();
  }
  MESSAGE(seed, " random graphs checked (seeds 0:", seed, ")");
}

TEST_CASE("fuzz: every pass's graph verifies and round-trips through .sfg text") {
  for (uint64_t seed = 0; seed < kGraphs / 10; ++seed) {
    Graph g = fuzz::generate(seed).graph;
    CompileOptions opts = fuzz::fuzz_compile_options();
    for (auto& pass : default_passes(opts)) {
      g = pass->run(g, opts);
      INFO("seed ", seed, ", after pass ", pass->name());
      REQUIRE_NOTHROW(verify(g));
      std::string text = print_graph(g);
      CHECK(print_graph(parse_graph(text)) == text);
    }
  }
}

TEST_CASE("fuzz: a seed determines the graph and its input bindings") {
  fuzz::FuzzCase a = fuzz::generate(1234), b = fuzz::generate(1234), c = fuzz::generate(1235);
  CHECK(print_graph(a.graph) == print_graph(b.graph));
  CHECK(print_graph(a.graph) != print_graph(c.graph));
  REQUIRE(a.inputs.size() == b.inputs.size());
  for (auto& [name, t] : a.inputs) CHECK(t.bit_equal(b.inputs.at(name)));
  for (NodeId id : a.graph.inputs()) {  // every input without a default is bound
    const Node& n = a.graph.node(id);
    if (!n.attrs.has("default")) CHECK(a.inputs.count(n.attrs.s("name")) == 1);
  }
}

TEST_CASE("fuzz: the generator covers every op, dtype and scan feature") {
  std::map<std::string, int64_t> counts;
  for (uint64_t seed = 0; seed < 500; ++seed) fuzz::count_features(fuzz::generate(seed).graph, counts);
  for (const OpInfo& info : all_ops()) {
    if (info.op == Op::Kernel) continue;  // made by fusion, not by users
    INFO(info.name);
    CHECK(counts[std::string("op:") + info.name] > 0);
  }
  for (const char* f : {"dtype:f32", "dtype:f64", "dtype:i32", "dtype:i64", "dtype:bool", "matmul:vector",
                        "matmul:matrix", "scan:xs", "scan:captures", "scan:every", "scan:nested", "scan:length0",
                        "record:stack", "record:sink", "record:events"}) {
    INFO(f);
    CHECK(counts[f] > 0);
  }
}

TEST_CASE("fuzz: the comparison allows the tolerance and nothing more") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  // f64: rtol 1e-12, atol 1e-300.
  CHECK(fuzz::compare_tensors(f64s({1.0 + 5e-13, -2.0, 0.0}), f64s({1.0, -2.0, -0.0})) == "");
  CHECK(fuzz::compare_tensors(f64s({1.0 + 5e-12}), f64s({1.0})) != "");
  CHECK(fuzz::compare_tensors(f64s({1e-301}), f64s({0.0})) == "");
  CHECK(fuzz::compare_tensors(f64s({1e-299}), f64s({0.0})) != "");
  // f32: rtol 1e-5, atol 1e-30.
  CHECK(fuzz::compare_tensors(f32s({1.000001}), f32s({1.0})) == "");
  CHECK(fuzz::compare_tensors(f32s({1.0001}), f32s({1.0})) != "");
  // NaN matches NaN only; infinities match exactly.
  CHECK(fuzz::compare_tensors(f64s({nan, inf, -inf}), f64s({-nan, inf, -inf})) == "");
  CHECK(fuzz::compare_tensors(f64s({nan}), f64s({1.0})) != "");
  CHECK(fuzz::compare_tensors(f64s({1.0}), f64s({nan})) != "");
  CHECK(fuzz::compare_tensors(f64s({inf}), f64s({-inf})) != "");
  CHECK(fuzz::compare_tensors(f64s({1e308}), f64s({inf})) != "");
  CHECK(fuzz::compare_tensors(f64s({inf}), f64s({1e308})) != "");
  // Integers and bools exactly; the type must match.
  CHECK(fuzz::compare_tensors(Tensor::from(DType::i64, {2}, std::vector<int64_t>{1, 2}),
                              Tensor::from(DType::i64, {2}, std::vector<int64_t>{1, 3})) ==
        "element 1 [1]: 2 vs 3 (compiled vs interpreter)");
  CHECK(fuzz::compare_tensors(f32s({1.0}), f64s({1.0})) != "");
  CHECK(fuzz::compare_tensors(Tensor(DType::f64, {2, 1}), f64s({0, 0})) != "");
}

TEST_CASE("fuzz: a wrong compiled result is reported with its seed, element, stage and graph") {
  fuzz::FuzzCase c;
  c.seed = 42;
  c.graph = parse_graph(R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [3], default = f64[3]{1, 2, 3}} : f64[3]
  %1 = const {value = f64[]{0.5}} : f64[]
  %2 = add(%0, %1) : f64[3]
  return %2
})");
  CHECK(fuzz::check_case(c) == "");
  // Lowering that computes x - 0.5 instead.
  std::string report = fuzz::check_case(c, [](KernelProgram& p) { add_to_sub(p.steps); });
  CHECK(report.find("fuzz seed 42: result 0 (f64[3]): element 0 [0]: 0.5 vs 1.5") != std::string::npos);
  CHECK(report.find("first differs: lowering or the KernelProgram executor") != std::string::npos);
  CHECK(report.find("%2 = add(%0, %1) : f64[3]") != std::string::npos);
}

// Reduced graphs of seeds that failed, one per bug, checked like generated ones.
TEST_CASE("fuzz: regressions") {
  auto check = [](const char* text) {
    fuzz::FuzzCase c;
    c.graph = parse_graph(text);
    return fuzz::check_case(c);
  };
  // DCE kept carry 1 (its final value is returned) but dropped its param, which the body never
  // reads: the body lost a param (seed 9).
  CHECK(check(R"(graph @main {
  %0 = input {name = "a", dtype = f64, shape = [2], default = f64[2]{1, 2}} : f64[2]
  %1 = input {name = "b", dtype = f64, shape = [2], default = f64[2]{3, 4}} : f64[2]
  %2 = scan(%0, %1) {carry = 2, xs = 0, length = 3, every = 1, record = []} body @main.body {
    %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
    %1 = param {index = 1, dtype = f64, shape = [2]} : f64[2]
    %2 = const {value = f64[]{0.5}} : f64[]
    %3 = mul(%0, %2) : f64[2]
    return %3, %0
  } : (f64[2], f64[2])
  %3 = get(%2) {index = 1} : f64[2]
  return %3
})") == "");
  // A scan that streams to the sink runs even when no result reads it: here simplify makes it dead
  // (x*0 -> 0 for integers), and the interpreter and lowering used to skip it (seed 245).
  CHECK(check(R"(graph @main {
  %0 = input {name = "a", dtype = f64, shape = [2], default = f64[2]{1, 2}} : f64[2]
  %1 = scan(%0) {carry = 1, xs = 0, length = 3, every = 1, record = ["sink"]} body @main.body {
    %0 = param {index = 0, dtype = f64, shape = [2]} : f64[2]
    %1 = const {value = f64[]{2}} : f64[]
    %2 = mul(%0, %1) : f64[2]
    return %2, %2
  } : (f64[2], i64[])
  %2 = get(%1) {index = 1} : i64[]
  %3 = const {value = i64[]{0}} : i64[]
  %4 = mul(%2, %3) : i64[]
  return %4
})") == "");
  // A rank-0 kernel result computed in a segment sum's source loop was stored at every source
  // element, past its one-element buffer (seed 5524; seen under ASan).
  CHECK(check(R"(graph @main {
  %0 = input {name = "x", dtype = f64, shape = [4, 3]} : f64[4,3]
  %1 = input {name = "i", dtype = i32, shape = [4], default = i32[4]{0, 1, 0, 1}} : i32[4]
  %2 = input {name = "s", dtype = f64, shape = []} : f64[]
  %3 = kernel(%0, %1, %2) {name = "k"} body @k {
    %0 = param {index = 0, dtype = f64, shape = [4, 3]} : f64[4,3]
    %1 = param {index = 1, dtype = i32, shape = [4]} : i32[4]
    %2 = param {index = 2, dtype = f64, shape = []} : f64[]
    %3 = scatter_add(%0, %1) {size = 2} : f64[2,3]
    %4 = neg(%2) : f64[]
    %5 = mul(%0, %0) : f64[4,3]
    return %3, %4, %5
  } : (f64[2,3], f64[], f64[4,3])
  %4 = get(%3) {index = 1} : f64[]
  return %4
})") == "");
  // The scatter's CSR order buffer was sized through a reference that adding the offsets buffer
  // invalidated (seed 6982).
  CHECK(check(R"(graph @main {
  %0 = const {value = bool[4,1,1]{false, true, true, false}} : bool[4,1,1]
  %1 = input {name = "in0", dtype = bool, shape = [4, 1, 1], default = bool[4,1,1]{true, false, true, false}} : bool[4,1,1]
  %2 = or(%0, %1) : bool[4,1,1]
  %3 = reshape(%1) {shape = [2, 2, 1]} : bool[2,2,1]
  %4 = cast(%3) {dtype = f32} : f32[2,2,1]
  %5 = input {name = "cut27", dtype = bool, shape = [2, 1, 1], default = bool[2,1,1]{splat true}} : bool[2,1,1]
  %6 = cast(%5) {dtype = f32} : f32[2,1,1]
  %7 = broadcast(%6) {shape = [2, 2, 1]} : f32[2,2,1]
  %8 = mul(%4, %7) : f32[2,2,1]
  %9 = input {name = "cut21", dtype = f64, shape = [3, 2], default = f64[3,2]{splat 1}} : f64[3,2]
  %10 = reduce_max(%8) {axis = -1} : f32[2,2]
  %11 = eq(%10, %10) : bool[2,2]
  %12 = reshape(%9) {shape = [6]} : f64[6]
  %13 = slice(%12) {start = [1], limit = [6], stride = [2]} : f64[3]
  %14 = scan(%11, %11, %2, %13, %11) {carry = 3, xs = 1, length = 3, every = 1, record = ["stack", "stack"]} body @main.body29 {
    %0 = param {index = 0, dtype = bool, shape = [2, 2]} : bool[2,2]
    %1 = param {index = 1, dtype = bool, shape = [2, 2]} : bool[2,2]
    %2 = param {index = 2, dtype = bool, shape = [4, 1, 1]} : bool[4,1,1]
    %3 = param {index = 3, dtype = f64, shape = []} : f64[]
    %4 = param {index = 4, dtype = bool, shape = [2, 2]} : bool[2,2]
    %5 = reshape(%4) {shape = [4]} : bool[4]
    %6 = slice(%5) {start = [2], limit = [4], stride = [1]} : bool[2]
    %7 = const {value = bool[2]{splat false}} : bool[2]
    %8 = le(%6, %7) : bool[2]
    %9 = slice(%8) {start = [1], limit = [2], stride = [2]} : bool[1]
    %10 = cast(%9) {dtype = i64} : i64[1]
    %11 = reduce_sum(%10) {axis = 0} : i64[]
    %12 = reshape(%3) {shape = [1]} : f64[1]
    %13 = concat(%12, %12, %12, %12) {axis = 0} : f64[4]
    %14 = slice(%13) {start = [0], limit = [4], stride = [1]} : f64[4]
    %15 = reshape(%14) {shape = [1, 4]} : f64[1,4]
    %16 = const {value = f64[]{0}} : f64[]
    %17 = add(%16, %15) : f64[1,4]
    %18 = cos(%3) : f64[]
    %19 = neg(%18) : f64[]
    %20 = const {value = bool[2,2]{false, true, true, true}} : bool[2,2]
    return %0, %20, %2, %17, %0
  } : (bool[2,2], bool[2,2], bool[4,1,1], f64[3,1,4], bool[3,2,2])
  %15 = get(%14) {index = 3} : f64[3,1,4]
  %16 = reshape(%15) {shape = [4, 1, 3]} : f64[4,1,3]
  %17 = const {value = f64[]{0.5}} : f64[]
  %18 = sub(%16, %17) : f64[4,1,3]
  %19 = reshape(%18) {shape = [12]} : f64[12]
  %20 = input {name = "in1", dtype = i32, shape = [12], default = i32[12]{0, 2, 0, 2, 2, 1, 2, 0, 0, 0, 2, 0}} : i32[12]
  %21 = scatter_add(%19, %20) {size = 5} : f64[5]
  %22 = reshape(%10) {shape = [4]} : f32[4]
  %23 = slice(%22) {start = [1], limit = [4], stride = [1]} : f32[3]
  %24 = reshape(%23) {shape = [1, 3]} : f32[1,3]
  %25 = cast(%24) {dtype = i64} : i64[1,3]
  %26 = const {value = i64[]{1}} : i64[]
  %27 = max(%25, %26) : i64[1,3]
  return %27, %21
})") == "");
  // The memory plan let a kernel write an f32 output over the bool buffer it reads at the same
  // element: element i of the two lies at different bytes (seed 1930).
  CHECK(check(R"(graph @main {
  %2 = input {name = "cut6", dtype = f32, shape = [2, 3, 2, 12], default = f32[2,3,2,12]{splat 3}} : f32[2,3,2,12]
  %3 = input {name = "cut9", dtype = bool, shape = [12], default = bool[12]{false, false, true, false, true, true, true, true, true, true, true, true}} : bool[12]
  %4 = concat(%3, %3, %3, %3, %3, %3, %3, %3, %3, %3, %3, %3) {axis = 0} : bool[144]
  %6 = reshape(%4) {shape = [2, 3, 2, 12]} : bool[2,3,2,12]
  %7 = cast(%6) {dtype = f32} : f32[2,3,2,12]
  %8 = sub(%7, %2) : f32[2,3,2,12]
  return %8
})") == "");
  // ... and placed such an output at a shifted offset over the buffer it reads, so the writes of
  // the first chunk clobbered elements of a later one (seed 736).
  CHECK(check(R"(graph @main {
  %0 = input {name = "cut14", dtype = f64, shape = [6], default = f64[6]{-0.038231306979747914, -0.038231306979747914, -0.038231306979747914, -0.038231306979747914, -0.038231306979747914, 0.08171361608411609}} : f64[6]
  %1 = broadcast(%0) {shape = [2, 6]} : f64[2,6]
  %2 = input {name = "in2", dtype = i64, shape = [6], default = i64[6]{1, 0, 2, 0, 2, 0}} : i64[6]
  %3 = input {name = "cut12", dtype = f64, shape = [3], default = f64[3]{-0.038231306979747914, 0.005251002124620263, -0.07646261395949583}} : f64[3]
  %4 = scan(%2, %1, %1, %3) {carry = 2, xs = 0, length = 4, every = 1, record = ["stack"]} body @main.body14 {
    %0 = param {index = 0, dtype = i64, shape = [6]} : i64[6]
    %1 = param {index = 1, dtype = f64, shape = [2, 6]} : f64[2,6]
    %2 = reshape(%1) {shape = [12]} : f64[12]
    %3 = param {index = 2, dtype = f64, shape = [2, 6]} : f64[2,6]
    %4 = param {index = 3, dtype = f64, shape = [3]} : f64[3]
    %5 = concat(%2, %2, %2, %2, %2) {axis = 0} : f64[60]
    %6 = slice(%5) {start = [0], limit = [55], stride = [1]} : f64[55]
    %7 = reshape(%6) {shape = [5, 11]} : f64[5,11]
    %8 = cast(%7) {dtype = f32} : f32[5,11]
    %9 = abs(%8) : f32[5,11]
    %10 = const {value = f32[]{0.25}} : f32[]
    %11 = add(%9, %10) : f32[5,11]
    %12 = const {value = f32[]{-2}} : f32[]
    %13 = pow(%11, %12) : f32[5,11]
    %14 = const {value = i64[6]{-2, 4, -2, 2, 2, 3}} : i64[6]
    %15 = fill {value = 1.0, dtype = f64, shape = [2, 6]} : f64[2,6]
    return %14, %15, %13
  } : (i64[6], f64[2,6], f32[4,5,11])
  %5 = get(%4) {index = 2} : f32[4,5,11]
  %6 = const {value = f32[]{0}} : f32[]
  %7 = add(%5, %6) : f32[4,5,11]
  %8 = reshape(%5) {shape = [220]} : f32[220]
  %9 = slice(%8) {start = [79], limit = [86], stride = [2]} : f32[4]
  %10 = reshape(%9) {shape = [4, 1, 1]} : f32[4,1,1]
  %11 = input {name = "cut5", dtype = f32, shape = [4, 1, 1], default = f32[4,1,1]{2.6258967, 1.4224882, 2.797006, 1.2117009}} : f32[4,1,1]
  %12 = div(%10, %11) : f32[4,1,1]
  %13 = reshape(%12) {shape = [4]} : f32[4]
  %14 = slice(%13) {start = [2], limit = [3], stride = [2]} : f32[1]
  %15 = reshape(%14) {shape = [1, 1]} : f32[1,1]
  %16 = mul(%15, %15) : f32[1,1]
  return %16, %7
})") == "");
}
