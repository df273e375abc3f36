// Graphviz DOT export.
//
// Scan and kernel bodies are drawn as clusters nested where their node is.
// Every node is declared inside the cluster of the body it belongs to and every edge at the top
// level: an edge statement inside a subgraph would pull both of its ends into that subgraph.
// Node names carry the path of scans that lead to their body ("s3_s5_n2") so they are unique.
#include "graph/dot.h"

#include <fmt/format.h>

#include "graph/utf8.h"

namespace sf {
namespace {

const char* fill_color(OpClass c) {
  switch (c) {
    case OpClass::Source: return "#cfe8fc";
    case OpClass::Unary: return "#e5f5e0";
    case OpClass::Binary: return "#c7e9c0";
    case OpClass::Compare: return "#fff3b0";
    case OpClass::Select: return "#fde0c5";
    case OpClass::Elementwise: return "#d9f0d3";
    case OpClass::Layout: return "#e8e8e8";
    case OpClass::Reduce: return "#fcc5c0";
    case OpClass::Contract: return "#f4a6c8";
    case OpClass::Index: return "#dadaeb";
    case OpClass::Control: return "#fdae6b";
  }
  return "white";
}

// Text for a double-quoted DOT string: quotes and backslashes escaped, newlines as DOT's "\n",
// control characters and invalid UTF-8 (which Graphviz warns about) as '?', long text clipped.
std::string quote(std::string_view s, size_t max_chars = 48) {
  std::string r = "\"";
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++chars) {
    if (chars == max_chars) {
      r += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = utf8_sequence_length(s, i);
    if (c == '"' || c == '\\') {
      r += '\\';
      r += static_cast<char>(c);
    } else if (c == '\n') {
      r += "\\n";
    } else if (c < 0x20 || c == 0x7f || len == 0) {
      r += '?';
    } else {
      r.append(s.substr(i, len));
      i += len;
      continue;
    }
    ++i;
  }
  return r + "\"";
}

std::string number(double v) { return fmt::format("{}", v); }

// A line or two about the attributes that tell nodes of one op apart.
std::string summary(const Node& n) {
  const Attrs& a = n.attrs;
  auto has = [&](const char* k, size_t kind) { return a.find(k) && a.find(k)->index() == kind; };
  switch (n.op) {
    case Op::Input: return has("name", 2) ? a.s("name") : "";
    case Op::Param: return has("index", 0) ? fmt::format("index {}", a.i("index")) : "";
    case Op::Const: {
      if (!has("value", 6) || !std::get<TensorPtr>(*a.find("value"))) return "";
      const Tensor& t = a.tensor("value");
      if (t.size() == 1) return number(t.get(0));
      if (t.size() > 1 && t.all_equal_to_first()) return "splat " + number(t.get(0));
      return type_str(t.type());
    }
    case Op::Fill: return has("value", 1) ? number(a.f("value")) : "";
    case Op::Cast: return has("dtype", 5) ? std::string("to ") + dtype_name(a.dtype("dtype")) : "";
    case Op::Iota:
    case Op::Concat:
    case Op::ReduceSum:
    case Op::ReduceMax:
    case Op::ReduceMin: return has("axis", 0) ? fmt::format("axis {}", a.i("axis")) : "";
    case Op::Reshape:
    case Op::Broadcast: return has("shape", 3) ? shape_str(a.ints("shape")) : "";
    case Op::Transpose: return has("perm", 3) ? "perm " + shape_str(a.ints("perm")) : "";
    case Op::ScatterAdd: return has("size", 0) ? fmt::format("size {}", a.i("size")) : "";
    case Op::Get: return has("index", 0) ? fmt::format("[{}]", a.i("index")) : "";
    case Op::Kernel: return has("name", 2) ? a.s("name") : "";
    case Op::Scan: {
      if (!has("length", 0)) return "";
      std::string s = fmt::format("length {}", a.i("length"));
      if (has("every", 0) && a.i("every") != 1) s += fmt::format(", every {}", a.i("every"));
      if (has("class", 2)) s += "\n" + a.s("class");
      if (has("stages", 0)) s += fmt::format(", {} stage{}", a.i("stages"), a.i("stages") == 1 ? "" : "s");
      return s;
    }
    default: return "";
  }
}

class DotWriter {
 public:
  std::string write(const Graph& g) {
    put("digraph {} {{\n", quote(g.name));
    put("  graph [label={}, labelloc=t, fontname=\"Helvetica\", fontsize=12];\n", quote("graph @" + g.name));
    put("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n");
    put("  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n");
    declare_nodes(g, "", 1);
    put("  ret [label=\"return\", shape=oval, style=filled, fillcolor=\"#ffffff\"];\n");
    edges(g, "");
    for (size_t i = 0; i < g.results.size(); ++i)
      if (valid(g, g.results[i]))
        put("  {} -> ret [label={}];\n", name("", g.results[i]),
            quote(fmt::format("{}: {}", i, type_str(g.type(g.results[i])))));
    put("}}\n");
    return out_;
  }

 private:
  std::string out_;

  template <class... A>
  void put(fmt::format_string<A...> f, A&&... a) {
    fmt::format_to(std::back_inserter(out_), f, std::forward<A>(a)...);
  }

  static std::string name(const std::string& prefix, NodeId id) { return fmt::format("{}n{}", prefix, id); }
  static std::string body_prefix(const std::string& prefix, NodeId scan) { return fmt::format("{}s{}_", prefix, scan); }
  static bool valid(const Graph& g, NodeId id) { return id >= 0 && static_cast<size_t>(id) < g.nodes.size(); }

  // Nodes of g, each scan or kernel body as a cluster nested where its node is.
  void declare_nodes(const Graph& g, const std::string& prefix, int depth) {
    std::string ind(static_cast<size_t>(depth) * 2, ' ');
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      NodeId id = static_cast<NodeId>(i);
      std::string label = fmt::format("%{} {}", id, op_name(n.op));
      std::string more = summary(n);
      if (!more.empty()) label += "\n" + more;
      put("{}{} [label={}, fillcolor=\"{}\"];\n", ind, name(prefix, id), quote(label, 80),
          fill_color(op_info(n.op).cls));
      if (!n.body) continue;
      put("{}subgraph cluster_{} {{\n", ind, body_prefix(prefix, id));
      if (n.op == Op::Kernel) {  // fused kernels stand out from scan bodies
        put("{}  label={};\n", ind, quote(fmt::format("kernel {} of %{}", summary(n), id)));
        put("{}  style=\"rounded,filled\"; fillcolor=\"#e6f0fa\"; color=\"#4a78b5\"; fontsize=10;\n", ind);
      } else {
        put("{}  label={};\n", ind, quote(fmt::format("body @{} of %{}", n.body->name, id)));
        put("{}  style=\"rounded,filled\"; fillcolor=\"{}\"; color=\"#999999\"; fontsize=10;\n", ind,
            depth % 2 ? "#f5f5f5" : "#ebebeb");
      }
      declare_nodes(*n.body, body_prefix(prefix, id), depth + 1);
      put("{}}}\n", ind);
    }
  }

  // Operand edges labelled with their types; the operands of a node with a body (scan, kernel) go
  // to the body's params, and the body's results come back to the node.
  void edges(const Graph& g, const std::string& prefix) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      NodeId id = static_cast<NodeId>(i);
      if (n.body) {
        body_edges(g, prefix, id);
        continue;
      }
      for (NodeId o : n.operands)
        if (valid(g, o)) put("  {} -> {} [label={}];\n", name(prefix, o), name(prefix, id), quote(type_str(g.type(o))));
    }
  }

  void body_edges(const Graph& g, const std::string& prefix, NodeId scan) {
    const Node& n = g.node(scan);
    const Graph& body = *n.body;
    std::string inner = body_prefix(prefix, scan);
    int64_t carries = n.attrs.find("carry") && n.attrs.find("carry")->index() == 0 ? n.attrs.i("carry") : 0;
    for (size_t p = 0; p < body.nodes.size(); ++p) {
      const Node& param = body.nodes[p];
      const AttrValue* index = param.attrs.find("index");
      if (param.op != Op::Param || !index || index->index() != 0) continue;
      int64_t k = std::get<int64_t>(*index);
      if (k < 0 || k >= static_cast<int64_t>(n.operands.size()) || !valid(g, n.operands[static_cast<size_t>(k)]))
        continue;
      NodeId o = n.operands[static_cast<size_t>(k)];
      put("  {} -> {} [label={}, style=dashed];\n", name(prefix, o), name(inner, static_cast<NodeId>(p)),
          quote(type_str(g.type(o))));
    }
    for (size_t r = 0; r < body.results.size(); ++r) {
      NodeId res = body.results[r];
      if (!valid(body, res)) continue;
      int64_t k = static_cast<int64_t>(r);
      std::string what = n.op == Op::Kernel ? fmt::format("out {}", k)
                         : k < carries      ? fmt::format("carry {}", k)
                                            : fmt::format("y {}", k - carries);
      put("  {} -> {} [label={}, style=dashed];\n", name(inner, res), name(prefix, scan),
          quote(fmt::format("{}: {}", what, type_str(body.type(res)))));
    }
    edges(body, inner);
  }
};

}  // namespace

std::string to_dot(const Graph& g) { return DotWriter().write(g); }

}  // namespace sf
