#include "graph/dot.h"

#include <doctest/doctest.h>

#include <sstream>

#include "sample_graphs.h"
#include "shell.h"

using namespace sf;
using namespace sf::test;

namespace {

// Renders the graph's DOT with Graphviz; returns "" on success, else what went wrong.
std::string render(const Graph& g) { return render_dot(to_dot(g)); }

bool have_graphviz() { return shell("dot -V").code == 0; }

}  // namespace

TEST_CASE("dot: graphviz is installed") {
  REQUIRE_MESSAGE(have_graphviz(),
                  "Graphviz 'dot' is not installed: run scripts/install-deps.sh (graphviz is a dependency)");
}

TEST_CASE("dot: graphs render without warnings") {
  if (!have_graphviz()) return;  // reported by the test above
  CHECK(render(neuron()) == "");
  CHECK(render(kitchen_sink()) == "");
  CHECK(render(nested_scans(4)) == "");
  Builder b("empty");
  CHECK(render(b.build({})) == "");
}

TEST_CASE("dot: labels, colours, clusters and edges") {
  std::string dot = to_dot(neuron());
  CHECK(dot.rfind("digraph \"main\" {", 0) == 0);
  CHECK(dot.find("n0 [label=\"%0 input\\nV0\\nf64[2]\", fillcolor=\"#cfe8fc\"]") != std::string::npos);
  CHECK(dot.find("subgraph cluster_s2_ {") != std::string::npos);
  CHECK(dot.find("length 100") != std::string::npos);
  // Params say what they bind; body results say what they become.
  CHECK(dot.find("s2_n0 [label=\"%0 param\\ncarry 0\\nf64[2]\"") != std::string::npos);
  CHECK(dot.find("[label=\"%5 param\\ncapture 0\\nf64[2]\"") != std::string::npos);
  CHECK(dot.find("\\nresult: carry 0\\nresult: y 0\"") != std::string::npos);
  CHECK(dot.find("\\nresult: y 1\"") != std::string::npos);
  // Operands in order, scalar constants inlined into their users and not drawn.
  CHECK(dot.find("[label=\"%6 sub(%5, %4)\\nf64[2]\"") != std::string::npos);
  CHECK(dot.find("[label=\"%2 add(%0, 54.4)\\nf64[2]\"") != std::string::npos);
  CHECK(dot.find(" const") == std::string::npos);
  CHECK(dot.find("  n0 -> s2_n0 [style=dashed];") != std::string::npos);  // operand -> param
  CHECK(dot.find("  s2_n13 -> n2 [style=dashed];") != std::string::npos);  // body result -> scan
  CHECK(dot.find("  s2_n4 -> s2_n6;") != std::string::npos);
  CHECK(dot.find("  n3 -> ret [label=\"0\"];") != std::string::npos);
  // No edge carries a label but those into `ret` (labels make dot's layout slow).
  std::istringstream all(to_dot(kitchen_sink()) + dot);
  for (std::string line; std::getline(all, line);)
    if (line.find(" -> ") != std::string::npos && line.find(" -> ret ") == std::string::npos)
      CHECK_MESSAGE(line.find("label") == std::string::npos, line);

  // Node names are unique across clusters.
  std::set<std::string> names;
  std::istringstream lines(to_dot(kitchen_sink()));
  for (std::string line; std::getline(lines, line);) {
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || line.find(" [label=", start) == std::string::npos) continue;
    if (line.find(" -> ") != std::string::npos) continue;
    std::string name = line.substr(start, line.find(' ', start) - start);
    CHECK_MESSAGE(names.insert(name).second, "duplicate DOT node ", name);
  }
  CHECK(names.size() > 80);
}

TEST_CASE("dot: scalar inputs and constants are inlined where they are used") {
  // A scalar input that starts a carry: its name is on the carry's param, no node or edge of its own.
  std::string nested = to_dot(nested_scans(2));
  CHECK(nested.find("[label=\"%0 param\\ncarry 0 = x\\nf64[]\"") != std::string::npos);
  CHECK(nested.find("input") == std::string::npos);
  CHECK(nested.find("[label=\"%2 add(%0, 1)\\nf64[]\\nresult: carry 0\"") != std::string::npos);

  // A scalar input captured by a scan is named inside the body, through the param.
  auto captures = [](bool return_g) {
    Builder b("captures");
    Value g = b.input("g_K", DType::f64, {});
    Value v0 = b.input("V0", DType::f64, {3});
    auto r = b.scan(4, {v0}, {}, [&](Builder&, const std::vector<Value>& c, const std::vector<Value>&) {
      return ScanStep{{c[0] * g - 2.5}, {}};
    });
    return return_g ? b.build({r.carry[0], g}) : b.build({r.carry[0]});
  };
  std::string dot = to_dot(captures(false));
  CHECK(dot.find("mul(%0, g_K)") != std::string::npos);
  CHECK(dot.find(", 2.5)\\nf64[3]\\nresult: carry 0") != std::string::npos);
  CHECK(dot.find("capture 0") == std::string::npos);  // the param is not drawn
  CHECK(dot.find("g_K\\n") == std::string::npos);  // nor is the input
  if (have_graphviz()) CHECK(render(captures(false)) == "");
  // A graph result is drawn even when scalar (an edge leaves it), and then so is the param.
  dot = to_dot(captures(true));
  CHECK(dot.find("[label=\"%0 input\\ng_K\\nf64[]\"") != std::string::npos);
  CHECK(dot.find("\\ncapture 0\\nf64[]\"") != std::string::npos);
  CHECK(dot.find("mul(%0, %") != std::string::npos);
}

TEST_CASE("dot: large graphs get cheap layout hints, small ones the full layout") {
  const char* hints = "splines=line, nslimit=1";
  CHECK(to_dot(neuron()).find(hints) == std::string::npos);
  Builder b("chain");
  Value x = b.input("x", DType::f64, {4});
  for (int i = 0; i < 500; ++i) x = exp(x);
  CHECK(to_dot(b.build({x})).find(hints) != std::string::npos);
}

TEST_CASE("dot: special characters in names are escaped") {
  Builder b("quote \" backslash \\ newline \n bytes \xff\x01");
  Value x = b.input("in\"put\\\n\xc3\xa9\xfe", DType::f64, {2});
  Graph g = b.build({x + 1.0});
  std::string dot = to_dot(g);
  CHECK(dot.find("in\\\"put\\\\\\n\xc3\xa9?") != std::string::npos);
  if (have_graphviz()) CHECK(render(g) == "");
}
