// Lowering to a KernelProgram and its memory plan: .sfg in, the program's structure (and, for
// each, the reference executor's agreement with the interpreter) out.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "compiler/lower.h"
#include "graph/npy.h"
#include "graph/text.h"
#include "models/model.h"
#include "files.h"
#include "program_run.h"
#include "shell.h"

using namespace sf;

namespace {

// The steps of a list (not nested ones) of one kind.
std::vector<const Step*> steps_of(const std::vector<Step>& steps, StepKind kind) {
  std::vector<const Step*> r;
  for (const Step& s : steps)
    if (s.kind == kind) r.push_back(&s);
  return r;
}

const ScanRegion& only_scan(const KernelProgram& p) {
  auto scans = steps_of(p.steps, StepKind::Scan);
  REQUIRE(scans.size() == 1);
  return scans[0]->scan;
}

int count_insts(const Kernel& k, InstKind kind) {
  int n = 0;
  for (auto* list : {&k.body, &k.inner})
    for (const Inst& in : *list) n += in.kind == kind;
  return n;
}

Tensor values(DType d, Shape s, std::vector<double> v) { return Tensor::from(d, std::move(s), v); }

}  // namespace

TEST_CASE("lower: a chain of one-op kernels runs in one buffer") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "x", dtype = f64, shape = [100]} : f64[100]
      %1 = exp(%0) : f64[100]
      %2 = neg(%1) : f64[100]
      %3 = abs(%2) : f64[100]
      return %3
    })");
  KernelProgram p = lower(g);
  REQUIRE(steps_of(p.steps, StepKind::Kernel).size() == 3);
  // Each kernel reads its operand only at the element it writes, and the operand dies there.
  CHECK(p.plan.arena_buffers == 3);
  CHECK(p.plan.unshared_bytes == 3 * 832);
  CHECK(p.plan.peak_bytes == 832);  // one buffer, 64-byte aligned
  CHECK(p.plan.input_bytes == 800);
  CHECK(test::compare_runs(g, p, {{"x", Tensor::filled(DType::f64, {100}, 0.5)}}) == "");
}

TEST_CASE("lower: a kernel reading other elements does not write over its operand") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "x", dtype = f64, shape = [4, 4]} : f64[4,4]
      %1 = exp(%0) : f64[4,4]
      %2 = transpose(%1) {perm = [1, 0]} : f64[4,4]
      %3 = neg(%2) : f64[4,4]
      %4 = matmul(%3, %1) : f64[4,4]
      return %4
    })");
  KernelProgram p = lower(g);
  // exp; neg reads exp's buffer through the transpose's index map (no copy of its own); matmul.
  CHECK(steps_of(p.steps, StepKind::Kernel).size() == 2);
  CHECK(steps_of(p.steps, StepKind::Matmul).size() == 1);
  std::string text = print_program(p);
  CHECK(text.find("kernel transpose") == std::string::npos);
  CHECK(text.find("rem") != std::string::npos);
  // exp's result is still needed by the matmul: three live buffers at the matmul.
  CHECK(p.plan.peak_bytes == 3 * 128);
  Tensor x(DType::f64, {4, 4});
  for (int64_t i = 0; i < 16; ++i) x.set(i, 0.1 * static_cast<double>(i));
  CHECK(test::compare_runs(g, p, {{"x", x}}) == "");
}

TEST_CASE("lower: broadcasts, slices and iota are index expressions; results get buffers") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "row", dtype = f32, shape = [3]} : f32[3]
      %1 = input {name = "m", dtype = f32, shape = [4, 6]} : f32[4,6]
      %2 = broadcast(%0) {shape = [4, 3]} : f32[4,3]
      %3 = slice(%1) {start = [0, 1], limit = [4, 6], stride = [1, 2]} : f32[4,3]
      %4 = iota {dtype = f32, shape = [4, 3], axis = 0} : f32[4,3]
      %5 = mul(%2, %3) : f32[4,3]
      %6 = add(%5, %4) : f32[4,3]
      return %6, %4
    })");
  KernelProgram p = lower(g);
  // mul, add, and a copy of the iota (a result needs a buffer).
  CHECK(steps_of(p.steps, StepKind::Kernel).size() == 3);
  Tensor m(DType::f32, {4, 6});
  for (int64_t i = 0; i < 24; ++i) m.set(i, 0.25 * static_cast<double>(i));
  CHECK(test::compare_runs(g, p, {{"row", values(DType::f32, {3}, {1, -2, 3})}, {"m", m}}) == "");
}

TEST_CASE("lower: carries update in place unless the old value is needed after the update") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "v", dtype = f64, shape = [4]} : f64[4]
      %1 = const {value = i64[4]{3, 2, 1, 0}} : i64[4]
      %2 = scan(%0, %0, %0, %0, %0, %1) {carry = 5, xs = 0, length = 5, every = 1, record = ["stack"]} body @b {
        %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
        %1 = param {index = 1, dtype = f64, shape = [4]} : f64[4]
        %2 = param {index = 2, dtype = f64, shape = [4]} : f64[4]
        %3 = param {index = 3, dtype = f64, shape = [4]} : f64[4]
        %4 = param {index = 4, dtype = f64, shape = [4]} : f64[4]
        %5 = param {index = 5, dtype = i64, shape = [4]} : i64[4]
        %6 = const {value = f64[]{0.5}} : f64[]
        %7 = mul(%0, %6) : f64[4]
        %8 = add(%1, %6) : f64[4]
        %9 = gather(%3, %5) : f64[4]
        %10 = sub(%4, %6) : f64[4]
        return %7, %2, %8, %9, %10, %4
      } : (f64[4], f64[4], f64[4], f64[4], f64[4], f64[5,4])
      %3 = get(%2) {index = 0} : f64[4]
      %4 = get(%2) {index = 1} : f64[4]
      %5 = get(%2) {index = 2} : f64[4]
      %6 = get(%2) {index = 3} : f64[4]
      %7 = get(%2) {index = 4} : f64[4]
      %8 = get(%2) {index = 5} : f64[5,4]
      return %3, %4, %5, %6, %7, %8
    })");
  KernelProgram p = lower(g);
  const ScanRegion& r = only_scan(p);
  REQUIRE(r.carries.size() == 5);
  CHECK(r.carries[0].next < 0);   // v * 0.5: read and written at the same element
  CHECK(r.carries[1].next >= 0);  // carries 1 and 2 trade values: each needs the other's old one
  CHECK(r.carries[2].next >= 0);
  CHECK(r.carries[3].next >= 0);  // the gather reads other elements of the carry it replaces
  CHECK(r.carries[4].next >= 0);  // the old value is recorded after the update
  // Only carry 1 (given carry 2's old value) needs a copy: the others' kernels write the second
  // buffer directly.
  CHECK(steps_of(r.body, StepKind::Copy).size() == 1);
  CHECK(test::compare_runs(g, p, {{"v", values(DType::f64, {4}, {1, 2, 3, 4})}}) == "");
}

TEST_CASE("lower: a kernel node with scatter_add is one atomic-free segment sum") {
  // A synapse population: gather the presynaptic voltage, compute each synapse's current, sum the
  // currents per postsynaptic neuron. The per-synapse currents are an output too.
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "V", dtype = f64, shape = [4]} : f64[4]
      %1 = input {name = "pre", dtype = i64, shape = [6], default = i64[6]{0, 1, 2, 3, 0, 1}} : i64[6]
      %2 = input {name = "post", dtype = i32, shape = [6], default = i32[6]{3, 3, 0, 1, 1, 3}} : i32[6]
      %3 = input {name = "g", dtype = f64, shape = [6]} : f64[6]
      %4 = scan(%0, %1, %2, %3) {carry = 1, xs = 0, length = 3, every = 1, record = ["stack"]} body @b {
        %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
        %1 = param {index = 1, dtype = i64, shape = [6]} : i64[6]
        %2 = param {index = 2, dtype = i32, shape = [6]} : i32[6]
        %3 = param {index = 3, dtype = f64, shape = [6]} : f64[6]
        %4 = kernel(%0, %1, %2, %3) {name = "syn"} body @syn {
          %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
          %1 = param {index = 1, dtype = i64, shape = [6]} : i64[6]
          %2 = param {index = 2, dtype = i32, shape = [6]} : i32[6]
          %3 = param {index = 3, dtype = f64, shape = [6]} : f64[6]
          %4 = gather(%0, %1) : f64[6]
          %5 = const {value = f64[]{-70}} : f64[]
          %6 = sub(%4, %5) : f64[6]
          %7 = mul(%3, %6) : f64[6]
          %8 = scatter_add(%7, %2) {size = 4} : f64[4]
          return %8, %7
        } : (f64[4], f64[6])
        %5 = get(%4) {index = 0} : f64[4]
        %6 = get(%4) {index = 1} : f64[6]
        %7 = kernel(%0, %5) {name = "upd"} body @upd {
          %0 = param {index = 0, dtype = f64, shape = [4]} : f64[4]
          %1 = param {index = 1, dtype = f64, shape = [4]} : f64[4]
          %2 = const {value = f64[]{0.01}} : f64[]
          %3 = mul(%1, %2) : f64[4]
          %4 = sub(%0, %3) : f64[4]
          return %4
        } : f64[4]
        return %7, %6
      } : (f64[4], f64[3,6])
      %5 = get(%4) {index = 0} : f64[4]
      %6 = get(%4) {index = 1} : f64[3,6]
      return %5, %6
    })");
  KernelProgram p = lower(g);
  // The synapse lists are fixed for the run: their segments are built once, before the scan.
  REQUIRE(steps_of(p.steps, StepKind::Segments).size() == 1);
  const ScanRegion& r = only_scan(p);
  CHECK(steps_of(r.body, StepKind::Segments).empty());
  auto kernels = steps_of(r.body, StepKind::Kernel);
  REQUIRE(kernels.size() == 2);  // one launch per kernel node
  const Kernel& syn = kernels[0]->kernel;
  CHECK(syn.name == "syn");
  CHECK(syn.kind == KernelKind::SegmentSum);
  CHECK(syn.accs == 1);
  CHECK(count_insts(syn, InstKind::Check) == 1);  // the gather's bounds check
  CHECK(count_insts(syn, InstKind::Store) == 2);  // the sums, and each synapse's current as it is visited
  CHECK(kernels[1]->kernel.kind == KernelKind::Map);
  CHECK(r.carries[0].next < 0);
  CHECK(test::compare_runs(g, p, {{"V", values(DType::f64, {4}, {-65, -50, -70, 20})},
                                  {"g", values(DType::f64, {6}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.25})}}) == "");

  std::string text = print_program(p);
  for (const char* part : {"buffers:", "input", "state", "record", "segments", "scan %4 (scan) length 3",
                           "kernel syn segment_sum n=4", "inner:", "yield 0", "acc 0", "check", "kernel upd map n=4",
                           "carry 0:", "in place", "record stack", "memory plan: peak"})
    CHECK_MESSAGE(text.find(part) != std::string::npos, part);
}

TEST_CASE("lower: a kernel's rank-0 results are stored once by its loop") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "k", dtype = i64, shape = []} : i64[]
      %1 = input {name = "v", dtype = f64, shape = [5]} : f64[5]
      %2 = kernel(%0, %1) {name = "k0"} body @k0 {
        %0 = param {index = 0, dtype = i64, shape = []} : i64[]
        %1 = param {index = 1, dtype = f64, shape = [5]} : f64[5]
        %2 = const {value = i64[]{1}} : i64[]
        %3 = add(%0, %2) : i64[]
        %4 = cast(%3) {dtype = f64} : f64[]
        %5 = mul(%1, %4) : f64[5]
        return %3, %5
      } : (i64[], f64[5])
      %3 = get(%2) {index = 0} : i64[]
      %4 = get(%2) {index = 1} : f64[5]
      return %3, %4
    })");
  KernelProgram p = lower(g);
  auto kernels = steps_of(p.steps, StepKind::Kernel);
  REQUIRE(kernels.size() == 1);
  CHECK(kernels[0]->kernel.n == 5);
  auto& body = kernels[0]->kernel.body;
  CHECK(std::any_of(body.begin(), body.end(), [](const Inst& in) { return in.kind == InstKind::Store && in.a < 0; }));
  CHECK(test::compare_runs(g, p, {{"k", values(DType::i64, {}, {41})}, {"v", values(DType::f64, {5}, {1, 2, 3, 4, 5})}}) == "");
}

TEST_CASE("lower: concat in a kernel: end to end part by part, unequal parts element by element") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "a", dtype = f64, shape = [3]} : f64[3]
      %1 = input {name = "b", dtype = f64, shape = [2]} : f64[2]
      %2 = kernel(%0) {name = "e2e"} body @e2e {
        %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
        %1 = exp(%0) : f64[3]
        %2 = neg(%0) : f64[3]
        %3 = concat(%1, %2) {axis = 0} : f64[6]
        return %3
      } : f64[6]
      %3 = kernel(%0, %1) {name = "row"} body @row {
        %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
        %1 = param {index = 1, dtype = f64, shape = [2]} : f64[2]
        %2 = concat(%1, %0, %1) {axis = 0} : f64[7]
        return %2
      } : f64[7]
      return %2, %3
    })");
  KernelProgram p = lower(g);
  auto kernels = steps_of(p.steps, StepKind::Kernel);
  REQUIRE(kernels.size() == 2);
  CHECK(kernels[0]->kernel.n == 3);  // each iteration stores one element of each part
  CHECK(count_insts(kernels[0]->kernel, InstKind::Store) == 2);
  CHECK(kernels[1]->kernel.n == 7);  // each iteration selects its element's part
  CHECK(count_insts(kernels[1]->kernel, InstKind::Select) == 2);
  CHECK(test::compare_runs(g, p, {{"a", values(DType::f64, {3}, {1, 2, 3})}, {"b", values(DType::f64, {2}, {-1, -2})}}) ==
        "");
}

TEST_CASE("lower: loop-invariant steps of a scan run once, in its prologue") {
  Graph g = parse_graph(R"(
    graph @main {
      %0 = input {name = "x", dtype = f64, shape = [3]} : f64[3]
      %1 = input {name = "w", dtype = f64, shape = [3]} : f64[3]
      %2 = scan(%0, %1) {carry = 1, xs = 0, length = 4, every = 2, record = ["stack"]} body @b {
        %0 = param {index = 0, dtype = f64, shape = [3]} : f64[3]
        %1 = param {index = 1, dtype = f64, shape = [3]} : f64[3]
        %2 = exp(%1) : f64[3]
        %3 = mul(%0, %2) : f64[3]
        return %3, %3
      } : (f64[3], f64[2,3])
      %3 = get(%2) {index = 0} : f64[3]
      %4 = get(%2) {index = 1} : f64[2,3]
      return %3, %4
    })");
  KernelProgram p = lower(g);
  const ScanRegion& r = only_scan(p);
  CHECK(steps_of(r.prologue, StepKind::Kernel).size() == 1);  // exp(w)
  CHECK(steps_of(r.body, StepKind::Kernel).size() == 1);      // the multiply, in place
  CHECK(r.carries[0].next < 0);
  CHECK(test::compare_runs(g, p, {{"x", values(DType::f64, {3}, {1, 2, 3})}, {"w", values(DType::f64, {3}, {0.1, 0, -1})}}) ==
        "");
}

// ---- the command line ------------------------------------------------------------------------

namespace {

namespace fs = std::filesystem;

using Shell = test::ShellRun;

// Runs a shell command in `dir`; returns its exit code, stdout and stderr.
Shell shell(const fs::path& dir, const std::string& command) {
  Shell r = test::shell(fmt::format("cd '{}' && {}", dir.string(), command));
  INFO(command);
  REQUIRE(r.code >= 0);  // the shell exited
  return r;
}

std::string scanflow(const std::string& args) { return fmt::format("'{}' {}", SF_SCANFLOW_BIN, args); }

// The value of `key: value` in text (-1 if absent).
double stat(const std::string& text, const std::string& key) {
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);)
    if (line.starts_with(key + ": ")) return std::stod(line.substr(key.size() + 2));
  return -1;
}

// `scanflow compile MODEL --dump-dir d`: NN-stage.sfg + NN-stage.dot for the input and every pass,
// then NN-lower.txt; every .sfg parses and verifies, and (with `render`) Graphviz renders every
// .dot without a warning.
void check_dump(const std::string& model, bool render) {
  CAPTURE(model);
  test::TempDir dir;
  Shell r = shell(dir.path, scanflow("compile " + model + " --t-end 5 --dump-dir d"));
  REQUIRE(r.code == 0);
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(dir.path / "d")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() % 2 == 1);
  REQUIRE(names.size() >= 5);
  CHECK(names.front() == "00-input.dot");
  CHECK(names.back() == fmt::format("{:02}-lower.txt", names.size() / 2));
  for (size_t i = 0; i + 1 < names.size(); i += 2) {
    std::string stage = names[i].substr(0, names[i].size() - 4);
    CHECK(names[i] == stage + ".dot");
    CHECK(names[i + 1] == stage + ".sfg");
    CHECK(stage.starts_with(fmt::format("{:02}-", i / 2)));
    CHECK_NOTHROW(load_graph((dir.path / "d" / names[i + 1]).string()));
    if (!render) continue;
    Shell d = shell(dir.path, fmt::format("dot -Tsvg '{}' -o /dev/null", (dir.path / "d" / names[i]).string()));
    CHECK_MESSAGE(d.code == 0, names[i]);
    CHECK_MESSAGE(d.err.empty(), names[i] << ": " << d.err);
  }
  std::string lowered = test::read_file(dir.path / "d" / names.back());
  CHECK(lowered.find("scan %") != std::string::npos);
  CHECK(lowered.find("memory plan: peak") != std::string::npos);
}

}  // namespace

TEST_CASE("lower: scanflow compile --dump-dir writes every stage; each .sfg parses, each .dot renders") {
  // Every model's stages parse and verify; Graphviz renders a small model's here (a second per
  // stage of the larger models: scripts/check-dumps.sh renders them all).
  for (const ModelInfo& m : models()) check_dump(m.name, m.name == "lorenz");
}

TEST_CASE("lower: scanflow compile --stats, dot --stage and run --backend ref") {
  test::TempDir dir;
  Shell s = shell(dir.path, scanflow("compile hh-squid --size 10 --t-end 1 --stats"));
  REQUIRE(s.code == 0);
  CHECK(stat(s.out, "kernels_per_step") == 1);
  CHECK(stat(s.out, "program_kernels_per_step") == 1);
  CHECK(stat(s.out, "compile_ms") >= 0);
  CHECK(stat(s.out, "passes") >= 1);
  CHECK(stat(s.out, "peak_bytes") > 0);
  CHECK(s.out.find("  fuse: changed") != std::string::npos);

  Shell d = shell(dir.path, scanflow("dot --stage fuse net3 --t-end 1 -o fused.dot"));
  REQUIRE(d.code == 0);
  CHECK(test::read_file(dir.path / "fused.dot").find("cluster") != std::string::npos);
  Shell bad = shell(dir.path, scanflow("dot --stage nope net3"));
  CHECK(bad.code == 1);
  CHECK(bad.err.find("no compiler stage 'nope'") != std::string::npos);

  // The compiled program on the reference executor records what the interpreter records (to
  // 1e-7: the pipeline rewrites removable singularities on purpose).
  Shell a = shell(dir.path, scanflow("run net3 --t-end 30 --out a.npy --spikes a.csv"));
  Shell b = shell(dir.path, scanflow("run net3 --t-end 30 --out b.npy --spikes b.csv --backend ref --stats"));
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  Tensor ta = read_npy((dir.path / "a.npy").string()), tb = read_npy((dir.path / "b.npy").string());
  REQUIRE(ta.type() == tb.type());
  double worst = 0;
  for (int64_t i = 0; i < ta.size(); ++i) worst = std::max(worst, std::abs(ta.get(i) - tb.get(i)));
  CHECK(worst <= 1e-7);
  CHECK(test::read_file(dir.path / "a.csv") == test::read_file(dir.path / "b.csv"));
  CHECK(stat(b.err, "compile_ms") > 0);
  double per_step = stat(b.err, "kernels_per_step");
  CHECK(per_step >= 1);
  CHECK(stat(b.err, "launches") >= 3000 * per_step);
  CHECK(stat(b.err, "kernels") >= per_step);  // the program's kernels, each once
  CHECK(stat(b.err, "kernels") < 100);
}
