// --set NAME=VALUE and --input NAME=FILE.npy: values for the graph's inputs.
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/ranges.h>

#include "graph/error.h"
#include "graph/npy.h"
#include "tools/cli.h"

namespace sf::cli {

namespace {

std::pair<std::string, std::string> split_binding(const std::string& flag, const std::string& arg,
                                                  const char* what) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) fail("{} expects NAME={}, got '{}'", flag, what, arg);
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

// The input node called `name`; an unknown name lists the graph's inputs.
const Node& find_input(const Graph& g, const std::string& flag, const std::string& name) {
  NodeId id = g.input(name);
  if (id >= 0) return g.node(id);
  std::vector<std::string> names;
  for (NodeId i : g.inputs()) names.push_back(g.node(i).attrs.s("name"));
  fail("{}: the graph has no input '{}' (inputs: {})", flag, name, names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
}

double parse_value(const std::string& name, const std::string& text, DType dtype) {
  if (dtype == DType::b8) {
    if (text == "true" || text == "1") return 1;
    if (text == "false" || text == "0") return 0;
    fail("--set {}: '{}' is not a bool (true, false, 1 or 0)", name, text);
  }
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) fail("--set {}: '{}' is not a number", name, text);
  if (is_int(dtype)) {
    double lo = dtype == DType::i32 ? std::numeric_limits<int32_t>::min() : -0x1p63;
    double hi = dtype == DType::i32 ? std::numeric_limits<int32_t>::max() : 0x1p63;
    if (v != std::floor(v) || v < lo || v >= hi)
      fail("--set {}: '{}' is not a {} integer", name, text, dtype_name(dtype));
  }
  return v;
}

}  // namespace

std::map<std::string, Tensor> parse_bindings(const Graph& g, const std::vector<std::string>& sets,
                                             const std::vector<std::string>& files) {
  std::map<std::string, Tensor> bound;
  auto bind = [&](const std::string& name, Tensor t) {
    if (!bound.emplace(name, std::move(t)).second) fail("input '{}' is bound twice (by --set or --input)", name);
  };
  for (const auto& arg : sets) {
    auto [name, text] = split_binding("--set", arg, "VALUE");
    const Node& in = find_input(g, "--set", name);
    bind(name, Tensor::filled(in.type.dtype, in.type.shape, parse_value(name, text, in.type.dtype)));
  }
  for (const auto& arg : files) {
    auto [name, path] = split_binding("--input", arg, "FILE.npy");
    const Node& in = find_input(g, "--input", name);
    Tensor t = read_npy(path);
    if (t.type() != in.type)
      fail("--input {}: the input is {} but '{}' holds {}", name, type_str(in.type), path, type_str(t.type()));
    bind(name, std::move(t));
  }
  return bound;
}

}  // namespace sf::cli
