#include "ops/op.h"

#include <unordered_map>

#include "graph/error.h"

namespace sf {
namespace {

std::vector<AttrSpec> parse_attr_schema(std::string_view s) {
  static const std::pair<const char*, AttrKind> kinds[] = {
      {"int", AttrKind::Int},   {"float", AttrKind::Float}, {"str", AttrKind::Str},      {"ints", AttrKind::Ints},
      {"strs", AttrKind::Strs}, {"dtype", AttrKind::DType}, {"tensor", AttrKind::Tensor}};
  std::vector<AttrSpec> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    size_t colon = item.find(':');
    AttrSpec spec;
    spec.name = std::string(item.substr(0, colon));
    if (!spec.name.empty() && spec.name.back() == '?') {
      spec.optional = true;
      spec.name.pop_back();
    }
    std::string_view kind = item.substr(colon + 1);
    bool found = false;
    for (auto& [n, k] : kinds)
      if (kind == n) spec.kind = k, found = true;
    if (!found) internal_error("bad attribute kind '{}' in ops.def", kind);
    out.push_back(spec);
  }
  return out;
}

std::vector<OpInfo> make_table() {
  std::vector<OpInfo> t;
#define SF_UNARY(E, name, dt, expr) t.push_back({Op::E, name, 1, OpClass::Unary, dt, false, {}});
#define SF_BINARY(E, name, dt, comm, expr) t.push_back({Op::E, name, 2, OpClass::Binary, dt, comm, {}});
#define SF_COMPARE(E, name, expr) \
  t.push_back({Op::E, name, 2, OpClass::Compare, kAny, Op::E == Op::Eq || Op::E == Op::Ne, {}});
#define SF_OTHER(E, name, arity, cls, attrs) \
  t.push_back({Op::E, name, arity, OpClass::cls, kAny, false, parse_attr_schema(attrs)});
#include "ops/ops.def"
  for (size_t i = 0; i < t.size(); ++i)
    if (static_cast<size_t>(t[i].op) != i) internal_error("op table out of order at {}", t[i].name);
  return t;
}

}  // namespace

const std::vector<OpInfo>& all_ops() {
  static const std::vector<OpInfo> table = make_table();
  return table;
}

const OpInfo& op_info(Op op) { return all_ops()[static_cast<size_t>(op)]; }

std::optional<Op> op_from_name(std::string_view name) {
  static const auto index = [] {
    std::unordered_map<std::string_view, Op> m;
    for (auto& i : all_ops()) m.emplace(i.name, i.op);
    return m;
  }();
  auto it = index.find(name);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

const char* attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::Int: return "int";
    case AttrKind::Float: return "float";
    case AttrKind::Str: return "string";
    case AttrKind::Ints: return "int list";
    case AttrKind::Strs: return "string list";
    case AttrKind::DType: return "dtype";
    case AttrKind::Tensor: return "tensor";
  }
  return "?";
}

}  // namespace sf
