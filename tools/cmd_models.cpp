// scanflow models [MODEL]: the built-in models, and what one of them simulates.
#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tools/cli.h"

namespace sf::cli {

namespace {

// An input's default, compactly: "0.5", "splat -70", "[120 values]", or "none" (must be bound).
std::string describe_default(const Node& input) {
  if (!input.attrs.has("default")) return "none";
  const Tensor& t = input.attrs.tensor("default");
  if (t.rank() == 0) return fmt::format("{}", t.get(0));
  if (t.size() > 0 && t.all_equal_to_first()) return fmt::format("splat {}", t.get(0));
  return fmt::format("[{} values]", t.size());
}

void list_models() {
  size_t width = 0;
  for (const ModelInfo& m : models()) width = std::max(width, m.name.size());
  for (const ModelInfo& m : models()) fmt::print("{:<{}}  {}\n", m.name, width, m.summary);
}

void describe_model(const std::string& name) {
  const ModelInfo& m = find_model(name);
  RunConfig config;
  config.stream = true;
  Graph g = m.build(config);
  SimInfo info = SimInfo::load(g);

  fmt::print("{}: {}\n\n", m.name, m.summary);
  if (!m.description.empty()) fmt::print("{}\n\n", m.description);

  std::vector<std::string> vars;
  for (const auto& [var, index] : info.final_state) vars.push_back(var);
  fmt::print("state variables: {}\n", fmt::join(vars, ", "));

  fmt::print("inputs:\n");
  size_t wn = 0, wt = 0;
  for (NodeId id : g.inputs()) {
    wn = std::max(wn, g.node(id).attrs.s("name").size());
    wt = std::max(wt, type_str(g.type(id)).size());
  }
  for (NodeId id : g.inputs()) {
    const Node& n = g.node(id);
    fmt::print("  {:<{}}  {:<{}}  {}\n", n.attrs.s("name"), wn, type_str(n.type), wt, describe_default(n));
  }

  if (!info.groups.empty()) {
    std::vector<std::string> groups;
    for (const auto& [group, range] : info.groups)
      groups.push_back(fmt::format("{} [{}, {})", group, range.first, range.second));
    fmt::print("neuron groups: {}\n", fmt::join(groups, ", "));
  }
  fmt::print("default run: t_end {}, dt {}, {}{}\n", m.t_end, m.dt, integrator_name(m.integrator),
             m.size ? fmt::format(", size {}", *m.size) : "");
}

}  // namespace

Command add_models_command(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("models", "List the built-in models, or describe one");
  cmd->add_option("model", *name, "A model to describe");
  return {cmd, [name] { name->empty() ? list_models() : describe_model(*name); }};
}

}  // namespace sf::cli
