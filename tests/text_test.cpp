#include "graph/text.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

#include "files.h"
#include "graph/error.h"
#include "sample_graphs.h"

using namespace sf;
using namespace sf::test;

namespace {

// Prints, parses, prints again: the graph and the text must both come back unchanged.
void check_round_trip(const Graph& g) {
  std::string text = print_graph(g);
  Graph back = parse_graph(text, "round_trip.sfg");
  CHECK(graph_diff(g, back) == "");
  CHECK(print_graph(back) == text);
}

}  // namespace

TEST_CASE("text: the kitchen-sink graph uses every op and every attribute kind") {
  Graph g = kitchen_sink();
  std::set<Op> used;
  collect_ops(g, used);
  for (auto& info : all_ops()) CHECK_MESSAGE(used.count(info.op), "kitchen_sink() does not use op ", std::string(info.name));
  std::set<size_t> kinds;
  for (auto& [k, v] : g.attrs.items()) kinds.insert(v.index());
  CHECK(kinds.size() == std::variant_size_v<AttrValue>);
}

TEST_CASE("text: round trip of every op, attribute kind, dtype and special float") {
  check_round_trip(kitchen_sink());
  check_round_trip(neuron());
  check_round_trip(nested_scans(5));
}

TEST_CASE("text: round trip of small graphs") {
  SUBCASE("no results") {
    Builder b;
    b.input("x", DType::f64, {});
    check_round_trip(b.build({}));
  }
  SUBCASE("the same value returned twice, a scan with no carries and no outputs") {
    Builder b;
    Value x = b.input("x", DType::i32, {0});
    auto r = b.scan(0, {}, {}, [](Builder&, auto&, auto&) { return ScanStep{}; });
    (void)r;
    check_round_trip(b.build({x, x}));
  }
  SUBCASE("a graph name that needs quotes") {
    Builder b("my graph \"1\"");
    check_round_trip(b.build({b.scalar(1.0, DType::f32)}));
  }
  SUBCASE("f64 scalars of every special value") {
    for (double v : {0.0, -0.0, kNan, -kNan, kInf, -kInf, 1e-320, 1e308, 0.1, 1.0 / 3.0, 123456789.0, 1e21}) {
      Builder b;
      Graph g = b.build({b.scalar(v), b.fill(v, DType::f64, {2})});
      g.attrs.set("v", v);
      check_round_trip(g);
    }
  }
}

TEST_CASE("text: exact spelling of values") {
  Builder b;
  b.constant(Tensor::from(DType::f64, {3}, std::vector<double>{1, 2.5, -0.0}));
  b.constant(Tensor::filled(DType::f64, {1000}, 0.5));
  b.constant(int_tensor(DType::b8, {1, 0}));
  b.fill(1.0, DType::f32, {2});
  b.constant(tricky_f64());
  Graph g = b.build({});
  g.attrs.set("e", std::vector<std::string>{});
  std::string t = print_graph(g);
  CHECK(t.find("f64[3]{1, 2.5, -0}") != std::string::npos);
  CHECK(t.find("f64[1000]{splat 0.5}") != std::string::npos);
  CHECK(t.find("bool[2]{true, false}") != std::string::npos);
  CHECK(t.find("{value = 1.0, dtype = f32, shape = [2]}") != std::string::npos);
  CHECK(t.find("{0, -0, inf, -inf, nan, -nan, nan(0x7ff8000000000001), nan(0x7ff0000000000001), 5e-324, ") !=
        std::string::npos);
  CHECK(t.find("e = strs[]") != std::string::npos);
}

TEST_CASE("text: the example of docs/SFG.md parses") {
  std::string doc = read_file(SF_SOURCE_DIR "/docs/SFG.md");
  size_t start = doc.find("```sfg\n");
  REQUIRE(start != std::string::npos);
  start += 7;
  size_t end = doc.find("```", start);
  REQUIRE(end != std::string::npos);
  Graph g = parse_graph(doc.substr(start, end - start), "SFG.md");
  CHECK(g.nodes.size() > 3);
  CHECK(print_graph(parse_graph(print_graph(g))) == print_graph(g));
}

TEST_CASE("text: nodes may be written in any order and with any ids") {
  const char* text = R"(# comments are allowed
graph @g {
  %20 = add(%7, %3) : f64[2]   // trailing comment
  %3 = input {name = "b", dtype = f64, shape = [2]} : f64[2]
  %7 = input {shape = [2], dtype = f64, name = "a"} : f64[2]
  return %20, %7
}
)";
  Graph g = parse_graph(text);
  REQUIRE(g.nodes.size() == 3);
  CHECK(g.nodes[0].attrs.s("name") == "a");  // %7 comes first: the add's first operand
  CHECK(g.nodes[1].attrs.s("name") == "b");
  CHECK(g.nodes[2].op == Op::Add);
  CHECK(g.nodes[2].operands == std::vector<NodeId>{0, 1});
  CHECK(g.results == std::vector<NodeId>{2, 0});
}

TEST_CASE("text: convenience spellings") {
  // An int for a float attribute, an empty list for a string list, 0/1 for bools, CRLF lines.
  const char* text =
      "graph @g {\r\n"
      "  %0 = fill {value = 2, dtype = f64, shape = []} : f64[]\r\n"
      "  %1 = const {value = bool[3]{1, 0, true}} : bool[3]\r\n"
      "  %2 = scan() {carry = 0, xs = 0, length = 1, every = 1, record = []} body @b {\r\n"
      "    return\r\n"
      "  } : ()\r\n"
      "  return %0, %1, %2\r\n"
      "}";
  Graph g = parse_graph(text);
  CHECK(g.nodes[0].attrs.f("value") == 2.0);
  CHECK(g.nodes[1].attrs.tensor("value").get(0) == 1.0);
  CHECK(g.nodes[2].attrs.strs("record").empty());
}

TEST_CASE("text: large tensors print and parse quickly and exactly") {
  std::mt19937_64 rng(7);
  Tensor t(DType::f64, {210000});
  for (int64_t i = 0; i < t.size(); ++i) t.data<double>()[i] = std::bit_cast<double>(rng());
  Builder b;
  Value w = b.input("w", t);
  b.constant(Tensor::filled(DType::f64, {210000}, 0.25));
  Graph g = b.build({w});
  auto start = std::chrono::steady_clock::now();
  std::string text = print_graph(g);
  Graph back = parse_graph(text);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(graph_diff(g, back) == "");
  CHECK(text.find("f64[210000]{splat 0.25}") != std::string::npos);
  CHECK(seconds < 20);  // linear time; generous for sanitizer builds
}

TEST_CASE("text: load_graph reads files and names them in errors") {
  std::string path = "/tmp/scanflow_text_test_" + std::to_string(::getpid()) + ".sfg";
  {
    std::ofstream f(path);
    f << print_graph(neuron());
  }
  CHECK(graph_diff(load_graph(path), neuron()) == "");
  {
    std::ofstream f(path);
    f << "graph @g {\n  return %1\n}\n";
  }
  CHECK_THROWS_WITH_AS(load_graph(path), (path + ":2:10: use of undefined value %1").c_str(), Error);
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(load_graph(path), ("cannot read " + path + ": No such file or directory").c_str(), Error);
  CHECK_THROWS_WITH_AS(load_graph("/tmp"), "cannot read /tmp: it is a directory", Error);
}
