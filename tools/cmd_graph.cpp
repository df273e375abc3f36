// Graph files: scanflow export (model -> .sfg), check (parse + verify) and dot (Graphviz).
#include <memory>

#include <fmt/format.h>

#include "compiler/pipeline.h"
#include "graph/dot.h"
#include "graph/text.h"
#include "tools/cli.h"

namespace sf::cli {

namespace {

struct GraphArgs {
  TargetOptions target;
  std::string out = "-";
  std::string stage;  // dot: draw the graph after this compiler pass
};

int64_t count_nodes(const Graph& g) {
  int64_t n = 0;
  for (const Node& node : g.nodes) n += 1 + (node.body ? count_nodes(*node.body) : 0);
  return n;
}

void check(const std::string& path) {
  Graph g = load_graph(path);
  // A simulation's metadata must make sense too, or `run` would reject the file.
  for (const auto& [key, value] : g.attrs.items())
    if (key.starts_with("sim.")) {
      SimInfo::load(g);
      break;
    }
  fmt::print("ok: {} nodes, {} inputs\n", count_nodes(g), g.inputs().size());
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto a = std::make_shared<GraphArgs>();
  CLI::App* cmd = app.add_subcommand("export", "Write a model's simulation graph as a .sfg text file");
  add_target_options(*cmd, a->target);
  cmd->add_option("-o,--output", a->out, "Output file (default: stdout)")->type_name("FILE.sfg");
  // Exported graphs stream their rows, like `scanflow run` builds them, so they run identically.
  return {cmd, [a] { write_text(a->out, print_graph(load_target(a->target, /*stream=*/true).graph)); }};
}

Command add_check_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("check", "Parse and verify a .sfg graph file");
  cmd->add_option("file", *path, "The graph file")->required()->type_name("FILE.sfg");
  return {cmd, [path] { check(*path); }};
}

Command add_dot_command(CLI::App& app) {
  auto a = std::make_shared<GraphArgs>();
  CLI::App* cmd = app.add_subcommand("dot", "Write a graph file's or a model's graph in Graphviz DOT");
  add_target_options(*cmd, a->target);
  cmd->add_option("-o,--output", a->out, "Output file (default: stdout)")->type_name("FILE.dot");
  cmd->add_option("--stage", a->stage, "Draw the graph after this compiler pass (input, cse, ..., fuse)")
      ->type_name("NAME");
  return {cmd, [a] {
            Graph g = load_target(a->target, /*stream=*/true).graph;
            if (!a->stage.empty()) g = graph_at_stage(g, a->stage);
            write_text(a->out, to_dot(g));
          }};
}

}  // namespace sf::cli
