// Pieces shared by the `scanflow` subcommands.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "graph/graph.h"
#include "graph/tensor.h"
#include "models/model.h"

namespace sf::cli {

// A subcommand and what to do when the command line picked it.
struct Command {
  CLI::App* app;
  std::function<void()> run;
};

Command add_models_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_dot_command(CLI::App& app);
Command add_compile_command(CLI::App& app);

// MODEL or FILE.sfg, and the options that shape a model's graph (run, export, dot share them).
struct TargetOptions {
  std::string target;
  double t_end = 0, dt = 0;
  std::string dtype = "f64", integrator;
  uint64_t seed = 1;
  int64_t size = 0, every = 1;
  std::vector<std::string> record;
  // The options as parsed, to tell "given" from "left at the default".
  CLI::Option *o_t_end, *o_dt, *o_dtype, *o_integrator, *o_seed, *o_size, *o_every, *o_record;
};
void add_target_options(CLI::App& cmd, TargetOptions& o);

// A file when the name ends in .sfg or names an existing file; a built-in model otherwise.
bool is_graph_file(const std::string& target);

struct Target {
  Graph graph;
  std::string label;  // the model's name or the file's path
  bool from_file = false;
  double build_ms = 0;  // building the model or reading and parsing the file
};
// Builds the model with the options (rows streamed to the sink when `stream`), or loads the file.
// A file's graph is fixed: an option that would change it is an error unless it matches the file.
Target load_target(const TargetOptions& o, bool stream);

// Binds graph inputs from `--set NAME=VALUE` and `--input NAME=FILE.npy`.
std::map<std::string, Tensor> parse_bindings(const Graph& g, const std::vector<std::string>& sets,
                                             const std::vector<std::string>& files);

// Writes `text` to `path`, or to stdout when path is "-".
void write_text(const std::string& path, const std::string& text);

}  // namespace sf::cli
