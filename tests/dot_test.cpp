#include "graph/dot.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sample_graphs.h"

using namespace sf;
using namespace sf::test;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Renders the graph's DOT with Graphviz; returns "" on success, else what went wrong.
std::string render(const Graph& g) {
  std::string base = "/tmp/scanflow_dot_test_" + std::to_string(::getpid());
  std::string dot = base + ".dot", err = base + ".err";
  {
    std::ofstream f(dot);
    f << to_dot(g);
  }
  int rc = std::system(("dot -Tsvg " + dot + " -o /dev/null 2>" + err).c_str());
  std::string messages = slurp(err);
  std::remove(dot.c_str());
  std::remove(err.c_str());
  if (rc != 0) return "dot exited with status " + std::to_string(rc) + ": " + messages;
  return messages;
}

}  // namespace

TEST_CASE("dot: graphviz is installed") {
  REQUIRE_MESSAGE(std::system("dot -V >/dev/null 2>&1") == 0,
                  "Graphviz 'dot' is not installed: run scripts/install-deps.sh (graphviz is a dependency)");
}

TEST_CASE("dot: graphs render without warnings") {
  if (std::system("dot -V >/dev/null 2>&1") != 0) return;  // reported by the test above
  CHECK(render(neuron()) == "");
  CHECK(render(kitchen_sink()) == "");
  CHECK(render(nested_scans(4)) == "");
  Builder b("empty");
  CHECK(render(b.build({})) == "");
}

TEST_CASE("dot: labels, colours, clusters and edges") {
  std::string dot = to_dot(neuron());
  CHECK(dot.rfind("digraph \"main\" {", 0) == 0);
  CHECK(dot.find("n0 [label=\"%0 input\\nV0\", fillcolor=\"#cfe8fc\"]") != std::string::npos);
  CHECK(dot.find("subgraph cluster_s") != std::string::npos);
  CHECK(dot.find("length 100") != std::string::npos);
  CHECK(dot.find("[label=\"f64[2]\"") != std::string::npos);                          // an edge labelled with its type
  CHECK(dot.find("-> s2_n0 [label=\"f64[2]\", style=dashed]") != std::string::npos);  // operand -> param
  CHECK(dot.find("carry 0: f64[2]") != std::string::npos);                            // body result -> scan
  CHECK(dot.find("-> ret [label=\"0: f64[2]\"]") != std::string::npos);

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

TEST_CASE("dot: special characters in names are escaped") {
  Builder b("quote \" backslash \\ newline \n bytes \xff\x01");
  Value x = b.input("in\"put\\\n\xc3\xa9\xfe", DType::f64, {2});
  Graph g = b.build({x + 1.0});
  std::string dot = to_dot(g);
  CHECK(dot.find("in\\\"put\\\\\\n\xc3\xa9?") != std::string::npos);
  if (std::system("dot -V >/dev/null 2>&1") == 0) CHECK(render(g) == "");
}
