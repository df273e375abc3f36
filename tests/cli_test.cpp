// The `scanflow` command line, run as a real process: outputs, round trips, error handling.
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "backends/interpreter/interpreter.h"
#include "files.h"
#include "graph/npy.h"
#include "graph/text.h"
#include "models/model.h"
#include "shell.h"

using namespace sf;

namespace {

using test::read_file;
using test::TempDir;
using test::write_file;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> r;
  std::istringstream s(text);
  for (std::string l; std::getline(s, l);) r.push_back(l);
  return r;
}

using Run = test::ShellRun;

// Runs `scanflow ARGS` in `dir`. A process killed by a signal fails the test right here.
Run scanflow(const TempDir& dir, const std::string& args) {
  Run r = test::shell(fmt::format("cd '{}' && '{}' {}", dir.path.string(), SF_SCANFLOW_BIN, args));
  INFO("scanflow " << args);
  REQUIRE(r.signal == 0);
  REQUIRE(r.code >= 0);   // the shell exited
  REQUIRE(r.code < 128);  // the shell reports a signal as 128 + its number
  return r;
}

Run ok(const TempDir& dir, const std::string& args) {
  Run r = scanflow(dir, args);
  INFO("scanflow " << args << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  return r;
}

// A user error: exit code 1 and one line on stderr.
void user_error(const TempDir& dir, const std::string& args, const std::string& mentions = "") {
  Run r = scanflow(dir, args);
  INFO("scanflow " << args << "\nstderr: " << r.err);
  CHECK(r.code == 1);
  CHECK(r.err.starts_with("scanflow: error: "));
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.ends_with("\n"));
  if (!mentions.empty()) CHECK(r.err.find(mentions) != std::string::npos);
}

// `key: value` lines of --stats.
double stat(const std::string& err, const std::string& key) {
  for (const auto& l : lines(err))
    if (l.starts_with(key + ": ")) return std::stod(l.substr(key.size() + 2));
  FAIL("no '" << key << "' in --stats output:\n" << err);
  return 0;
}

bool has_spikes(const ModelInfo& m) {
  RunConfig c;
  c.t_end = 0;
  c.stream = true;
  return SimInfo::load(m.build(c)).y_spikes >= 0;
}

}  // namespace

TEST_CASE("cli: --help works everywhere") {
  TempDir d;
  CHECK(ok(d, "--help").out.find("run") != std::string::npos);
  for (const char* cmd : {"models", "run", "export", "check", "dot"}) {
    Run r = ok(d, fmt::format("{} --help", cmd));
    CHECK(r.out.find("--help") != std::string::npos);
  }
  CHECK(ok(d, "run --help").out.find("--every") != std::string::npos);
}

TEST_CASE("cli: models lists every built-in model") {
  TempDir d;
  Run r = ok(d, "models");
  std::vector<std::string> ls = lines(r.out);
  CHECK(models().size() == 8);
  REQUIRE(ls.size() == models().size());
  for (size_t i = 0; i < ls.size(); ++i) {
    CHECK(ls[i].starts_with(models()[i].name + " "));
    CHECK(ls[i].find(models()[i].summary) != std::string::npos);
  }
}

TEST_CASE("cli: models MODEL describes the state, inputs, groups and default run") {
  TempDir d;
  Run r = ok(d, "models hh-traub");
  CHECK(r.out.find("state variables: V, m, h, n") != std::string::npos);
  CHECK(r.out.find("I_inj") != std::string::npos);
  CHECK(r.out.find("default run: t_end 200, dt 0.01, rk4") != std::string::npos);
  Run al = ok(d, "models antennal-lobe");
  CHECK(al.out.find("neuron groups: PN [0, 90), LN [90, 120)") != std::string::npos);
  user_error(d, "models nope", "unknown model 'nope'");
}

TEST_CASE("cli: run --out writes every row and the JSON beside it") {
  TempDir d;
  ok(d, "run exp-growth --out x.npy");
  const ModelInfo& m = find_model("exp-growth");
  Graph g = m.build(RunConfig{});  // the same model, rows stacked in memory
  SimInfo info = SimInfo::load(g);
  std::vector<Tensor> want = interpret(g);
  const Tensor& initial = want[static_cast<size_t>(info.result_initial)];
  const Tensor& rows = want[static_cast<size_t>(info.result_rows)];

  Tensor x = read_npy(d / "x.npy");
  int64_t steps = step_count(m.t_end, m.dt), cols = static_cast<int64_t>(info.columns.size());
  REQUIRE(x.shape() == Shape{1 + steps, cols});
  CHECK(x.dtype() == DType::f64);
  for (int64_t c = 0; c < cols; ++c) CHECK(x.get(c) == initial.get(c));
  for (int64_t i = 0; i < rows.size(); ++i) REQUIRE(x.get(cols + i) == rows.get(i));

  std::string json = read_file(d / "x.json");
  CHECK(json.starts_with("{\"columns\": [\"x[0]\"]"));
  CHECK(json.find(fmt::format("\"t\": [0, {}]", m.dt)) != std::string::npos);
  CHECK(json.find("groups") == std::string::npos);

  // Without --out: a summary on stdout.
  Run r = ok(d, "run exp-growth");
  CHECK(r.out.find("final x: ") != std::string::npos);
}

TEST_CASE("cli: --every K keeps 1 + floor(steps/K) rows, row r = the state after r*K steps") {
  TempDir d;
  ok(d, "run hh-traub --t-end 10.55 --out all.npy --spikes all.csv");
  ok(d, "run hh-traub --t-end 10.55 --every 10 --out ten.npy --spikes ten.csv");
  Tensor all = read_npy(d / "all.npy"), ten = read_npy(d / "ten.npy");
  REQUIRE(all.shape()[0] == 1 + 1055);
  REQUIRE(ten.shape()[0] == 1 + 105);
  int64_t cols = all.shape()[1];
  for (int64_t r = 0; r < ten.shape()[0]; ++r)
    for (int64_t c = 0; c < cols; ++c) REQUIRE(ten.get(r * cols + c) == all.get(r * 10 * cols + c));
  CHECK(read_file(d / "ten.json").find("\"t\": [0, 0.1]") != std::string::npos);
  CHECK(read_file(d / "all.csv") == read_file(d / "ten.csv"));  // spikes are taken at every step
  CHECK(read_npy(d / "all.npy").shape()[1] == cols);

  ok(d, "run hh-traub --t-end 1 --every 1000 --out one.npy");  // fewer steps than K: row 0 only
  CHECK(read_npy(d / "one.npy").shape()[0] == 1);
}

TEST_CASE("cli: --spikes writes one CSV row per spike, in time order") {
  TempDir d;
  Run r = ok(d, "run hh-traub --spikes s.csv --every 100 --out s.npy --stats");
  std::vector<std::string> ls = lines(read_file(d / "s.csv"));
  REQUIRE(ls.size() == 1 + 12);
  CHECK(ls[0] == "neuron,t");
  double last = -1;
  for (size_t i = 1; i < ls.size(); ++i) {
    CHECK(ls[i].starts_with("0,"));
    double t = std::stod(ls[i].substr(2));
    CHECK(t > last);
    CHECK(t < 200);
    last = t;
  }
  CHECK(stat(r.err, "spikes") == 12);
  CHECK(stat(r.err, "steps") == 20000);
  CHECK(stat(r.err, "rows") == 201);
  CHECK(stat(r.err, "kernels_per_step") > 0);
  CHECK(stat(r.err, "launches") >= 20000 * stat(r.err, "kernels_per_step"));
  CHECK(stat(r.err, "kernels") >= stat(r.err, "kernels_per_step"));  // the program's ops, each once
  CHECK(stat(r.err, "kernels") < 1000);
  for (const char* key : {"build_ms", "compile_ms", "jit_ms", "sim_s", "peak_rss_mb"}) CHECK(stat(r.err, key) >= 0);
  user_error(d, "run exp-growth --spikes x.csv", "no spike output");
}

TEST_CASE("cli: every model round-trips through .sfg bit-identically") {
  TempDir d;
  for (const ModelInfo& m : models()) {
    INFO("model " << m.name);
    std::string opts = fmt::format("--t-end {} --every 3", 50 * m.dt);
    bool spikes = has_spikes(m);
    ok(d, fmt::format("export {} {} -o {}.sfg", m.name, opts, m.name));
    ok(d, fmt::format("run {} {} --out direct.npy{}", m.name, opts, spikes ? " --spikes direct.csv" : ""));
    ok(d, fmt::format("run {}.sfg --out file.npy{}", m.name, spikes ? " --spikes file.csv" : ""));
    CHECK(read_npy(d / "file.npy").shape()[0] == 1 + 50 / 3);
    CHECK(read_file(d / "file.npy") == read_file(d / "direct.npy"));
    CHECK(read_file(d / "file.json") == read_file(d / "direct.json"));
    if (spikes) CHECK(read_file(d / "file.csv") == read_file(d / "direct.csv"));
    // Options that match the file are accepted; others are baked in.
    ok(d, fmt::format("run {}.sfg {} --dt {} --dtype f64 --out again.npy", m.name, opts, m.dt));
    CHECK(read_file(d / "again.npy") == read_file(d / "direct.npy"));
    user_error(d, fmt::format("run {}.sfg --t-end {}", m.name, 60 * m.dt), "--t-end");
  }
  // float32 too.
  ok(d, "export hh-traub --t-end 5 --dtype f32 -o f32.sfg");
  ok(d, "run hh-traub --t-end 5 --dtype f32 --out direct.npy");
  ok(d, "run f32.sfg --out file.npy");
  CHECK(read_npy(d / "file.npy").dtype() == DType::f32);
  CHECK(read_file(d / "file.npy") == read_file(d / "direct.npy"));
}

TEST_CASE("cli: a graph file that stacks its rows writes the same output as one that streams them") {
  TempDir d;
  RunConfig c;
  c.t_end = 20;
  c.every = 7;
  c.stream = false;
  write_file(d / "stacked.sfg", print_graph(find_model("hh-traub").build(c)));
  ok(d, "run stacked.sfg --out stacked.npy --spikes stacked.csv");
  ok(d, "run hh-traub --t-end 20 --every 7 --out streamed.npy --spikes streamed.csv");
  CHECK(read_npy(d / "stacked.npy").shape()[0] == 1 + 2000 / 7);
  CHECK(read_file(d / "stacked.npy") == read_file(d / "streamed.npy"));
  CHECK(read_file(d / "stacked.csv") == read_file(d / "streamed.csv"));
}

TEST_CASE("cli: --set and --input bind graph inputs") {
  TempDir d;
  ok(d, "run hh-traub --t-end 50 --spikes on.csv");
  CHECK(lines(read_file(d / "on.csv")).size() > 1);
  ok(d, "run hh-traub --t-end 50 --set I_inj=0 --spikes off.csv");
  CHECK(lines(read_file(d / "off.csv")) == std::vector<std::string>{"neuron,t"});

  write_npy(d / "zero.npy", Tensor::filled(DType::f64, {1}, 0.0));
  ok(d, "run hh-traub --t-end 50 --input I_inj=zero.npy --spikes file.csv");
  CHECK(read_file(d / "file.csv") == read_file(d / "off.csv"));

  write_npy(d / "three.npy", Tensor::filled(DType::f64, {3}, 0.0));
  user_error(d, "run hh-traub --input I_inj=three.npy", "f64[3]");
  user_error(d, "run hh-traub --input I_inj=missing.npy", "missing.npy");
  user_error(d, "run hh-traub --input nope=zero.npy", "I_inj");
  user_error(d, "run hh-traub --set nope=1", "I_inj");  // lists the inputs
  user_error(d, "run hh-traub --set I_inj=abc", "not a number");
  user_error(d, "run hh-traub --set I_inj", "NAME=VALUE");
  user_error(d, "run hh-traub --set I_inj=1 --set I_inj=2", "twice");
}

TEST_CASE("cli: check parses and verifies a graph file") {
  TempDir d;
  ok(d, "export exp-growth -o g.sfg");
  Run r = ok(d, "check g.sfg");
  CHECK(r.out.starts_with("ok: "));
  CHECK(r.out.find(" nodes, 2 inputs\n") != std::string::npos);
  write_file(d / "bad.sfg", "graph @main {\n  this is not a graph\n}\n");
  user_error(d, "check bad.sfg", "bad.sfg:");
  user_error(d, "check missing.sfg", "missing.sfg");
}

TEST_CASE("cli: dot output renders with Graphviz") {
  TempDir d;
  ok(d, "export exp-growth --t-end 1 -o g.sfg");
  ok(d, "dot g.sfg -o g.dot");
  ok(d, "dot lorenz --t-end 1 -o l.dot");
  CHECK(read_file(d / "g.dot").starts_with("digraph"));
  // Graphviz takes minutes to lay out a neuron model's graph: render only the small ones.
  ok(d, "dot antennal-lobe --t-end 1 -o al.dot");
  CHECK(read_file(d / "al.dot").starts_with("digraph"));
  if (test::shell("command -v dot").code != 0) {
    MESSAGE("Graphviz `dot` is not installed; skipping the rendering check");
    return;
  }
  for (const char* name : {"g", "l"}) {
    Run r = test::shell(fmt::format("cd '{}' && dot -Tsvg {}.dot -o {}.svg", d.path.string(), name, name));
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(read_file(d / fmt::format("{}.svg", name)).find("<svg") != std::string::npos);
  }
}

TEST_CASE("cli: user errors exit 1 with one line on stderr") {
  TempDir d;
  write_file(d / "bad.sfg", "graph @main {\n  %0 = frobnicate()\n}\n");
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 7919) & 0xff);
  write_file(d / "binary.sfg", binary);
  write_file(d / "binary.npy", binary);
  ok(d, "export exp-growth -o g.sfg");

  user_error(d, "", "subcommand");
  user_error(d, "frobnicate");
  user_error(d, "run nope", "unknown model 'nope'");
  user_error(d, "run exp-growth --nope", "--nope");
  user_error(d, "run exp-growth --dtype f16", "f16");
  user_error(d, "run exp-growth --dtype i32", "i32");
  user_error(d, "run exp-growth --integrator leapfrog", "leapfrog");
  user_error(d, "run exp-growth --every 0", "--every");
  user_error(d, "run exp-growth --every x");
  user_error(d, "run exp-growth --t-end -1", "--t-end");
  user_error(d, "run exp-growth --t-end=-1", "--t-end");
  user_error(d, "run exp-growth --t-end nan", "--t-end");
  user_error(d, "run exp-growth --dt 0", "--dt");
  user_error(d, "run exp-growth --dt 1e-300 --t-end 1e300", "too many");
  user_error(d, "run exp-growth --size 5", "size");
  user_error(d, "run missing.sfg", "missing.sfg");
  user_error(d, "run bad.sfg", "bad.sfg:");
  user_error(d, "run binary.sfg", "binary.sfg");
  user_error(d, "check binary.sfg", "binary.sfg");
  user_error(d, "run hh-traub --input I_inj=binary.npy", "binary.npy");
  user_error(d, "run exp-growth --record nope", "nope");
  user_error(d, "run exp-growth --set nope=1", "nope");
  user_error(d, "run exp-growth --set rate=1x", "1x");
  user_error(d, "run exp-growth --backend tpu", "unknown backend 'tpu' (available: interp, ");
  user_error(d, "run g.sfg --seed 3", "--seed");
  user_error(d, "run g.sfg --every 2", "--every");
  user_error(d, "run exp-growth --out no/such/dir/x.npy", "no/such/dir");
  user_error(d, "export exp-growth -o no/such/dir/x.sfg", "no/such/dir");
}

TEST_CASE("cli: a run's memory does not grow with its length (rows stream to the file)") {
  TempDir d;
  // 250 columns (V, m, h, n, t_spike); held in memory, the long run's 1250 rows would take
  // 1250 * 250 * 8 B = 2.5 MB, about half the process's baseline.
  const int64_t n = 12500;
  Run short_run = ok(d, fmt::format("run hh-squid --size 50 --dt 0.01 --t-end {} --every 100 --out a.npy --stats", n / 100));
  Run long_run = ok(d, fmt::format("run hh-squid --size 50 --dt 0.01 --t-end {} --every 100 --out b.npy --stats", 10 * n / 100));
  CHECK(read_npy(d / "a.npy").shape()[0] == 1 + n / 100);
  CHECK(read_npy(d / "b.npy").shape()[0] == 1 + 10 * n / 100);
  double a = stat(short_run.err, "peak_rss_mb"), b = stat(long_run.err, "peak_rss_mb");
  MESSAGE("peak RSS: " << a << " MB for " << n << " steps, " << b << " MB for " << 10 * n << " steps");
  CHECK(b <= a * 1.10);
}
