// Graphviz DOT export.
//
// Scan and kernel bodies are drawn as clusters nested where their node is. Every node is declared
// inside the cluster of the body it belongs to and every edge at the top level: an edge statement
// inside a subgraph would pull both of its ends into that subgraph. Node names carry the path of
// bodies that lead to them ("s3_s5_n2") so they are unique.
//
// The drawing is kept lean because dot's layout time grows quickly with edges and their labels:
//  - Scalar leaves (scalar and splat constants, named scalar inputs, and body params that forward
//    one of those) are not drawn: each user shows them in its operand list, "%7 mul(%3, 0.5)".
//    A model's scalar parameters would otherwise be nodes with an edge to every use.
//  - Edges carry no labels. A node shows its own type; a node with several operands lists them
//    in order, so the order of a sub's or a where's edges needs no label.
//  - A param says what it binds (carry, x, capture, kernel input); a body result says which result
//    of its scan or kernel it is.
//  - A large graph (over 400 drawn nodes) gets layout hints that trade a little beauty for speed.
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

// At most max_chars characters of s (invalid UTF-8 bytes count as one), "..." marking a cut.
std::string clip(std::string_view s, size_t max_chars) {
  size_t i = 0;
  for (size_t chars = 0; i < s.size(); ++chars) {
    if (chars == max_chars) return std::string(s.substr(0, i)) + "...";
    size_t len = utf8_sequence_length(s, i);
    i += len ? len : 1;
  }
  return std::string(s);
}

// Text for a double-quoted DOT string: quotes and backslashes escaped, newlines as DOT's "\n",
// control characters and invalid UTF-8 (which Graphviz warns about) as '?'.
std::string quote(std::string_view s) {
  std::string r = "\"";
  for (size_t i = 0; i < s.size();) {
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

bool has(const Attrs& a, const char* key, size_t kind) { return a.find(key) && a.find(key)->index() == kind; }

const Tensor* const_value(const Node& n) {
  if (n.op != Op::Const || !has(n.attrs, "value", 6)) return nullptr;
  return std::get<TensorPtr>(*n.attrs.find("value")).get();
}

// A line or two about the attributes that tell nodes of one op apart.
std::string summary(const Node& n) {
  const Attrs& a = n.attrs;
  switch (n.op) {
    case Op::Input: return has(a, "name", 2) ? a.s("name") : "";
    case Op::Param: return has(a, "index", 0) ? fmt::format("index {}", a.i("index")) : "";
    case Op::Const: {
      const Tensor* t = const_value(n);
      if (!t) return "";
      if (t->size() == 1) return number(t->get(0));
      if (t->size() > 1 && t->all_equal_to_first()) return "splat " + number(t->get(0));
      return "";  // the type line says what it is
    }
    case Op::Fill: return has(a, "value", 1) ? number(a.f("value")) : "";
    case Op::Cast: return has(a, "dtype", 5) ? std::string("to ") + dtype_name(a.dtype("dtype")) : "";
    case Op::Iota:
    case Op::Concat:
    case Op::ReduceSum:
    case Op::ReduceMax:
    case Op::ReduceMin: return has(a, "axis", 0) ? fmt::format("axis {}", a.i("axis")) : "";
    case Op::Reshape:
    case Op::Broadcast: return has(a, "shape", 3) ? shape_str(a.ints("shape")) : "";
    case Op::Transpose: return has(a, "perm", 3) ? "perm " + shape_str(a.ints("perm")) : "";
    case Op::ScatterAdd: return has(a, "size", 0) ? fmt::format("size {}", a.i("size")) : "";
    case Op::Get: return has(a, "index", 0) ? fmt::format("[{}]", a.i("index")) : "";
    case Op::Kernel: return has(a, "name", 2) ? a.s("name") : "";
    case Op::Scan: {
      if (!has(a, "length", 0)) return "";
      std::string s = fmt::format("length {}", a.i("length"));
      if (has(a, "every", 0) && a.i("every") != 1) s += fmt::format(", every {}", a.i("every"));
      if (has(a, "class", 2)) s += "\n" + a.s("class");
      if (has(a, "stages", 0)) s += fmt::format(", {} stage{}", a.i("stages"), a.i("stages") == 1 ? "" : "s");
      return s;
    }
    default: return "";
  }
}

// What the body of a scan or kernel binds its params to and returns, as the parent sees it.
struct BodyContext {
  std::vector<std::string> param_role;    // by param index: "carry 0", "x 0", "capture 0", "in 0"
  std::vector<std::string> param_bound;   // by param index: the operand's inline text, or ""
  std::vector<std::string> param_inline;  // the same for params that are inlined too (captures and
                                          // kernel inputs: a carry or an x changes every step)
  std::vector<std::string> result_role;   // by result: "carry 0", "y 0", "out 0"
};

class DotWriter {
 public:
  std::string write(const Graph& g) {
    draw(g, "", 1, nullptr);
    put(nodes_, "  ret [label=\"return\", shape=oval, style=filled, fillcolor=\"#ffffff\"];\n");
    for (size_t i = 0; i < g.results.size(); ++i)
      if (valid(g, g.results[i])) put(edges_, "  {} -> ret [label=\"{}\"];\n", name("", g.results[i]), i);

    std::string head;
    put(head, "digraph {} {{\n", quote(clip(g.name, 60)));
    put(head, "  graph [label={}, labelloc=t, fontname=\"Helvetica\", fontsize=12];\n",
        quote(clip("graph @" + g.name, 60)));
    // On large graphs dot spends nearly all its time placing the chains of virtual nodes of long
    // edges (x coordinates by network simplex) and routing splines around them: cap the simplex
    // iterations at one per node and draw straight edges. Small graphs keep the full layout.
    if (drawn_ > kLargeGraph) put(head, "  graph [splines=line, nslimit=1, mclimit=0.5];\n");
    put(head, "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n");
    put(head, "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\", arrowsize=0.6];\n");
    return head + nodes_ + edges_ + "}\n";
  }

 private:
  static constexpr int64_t kLargeGraph = 400;  // drawn nodes
  std::string nodes_, edges_;  // node declarations (nested in clusters), then all edges
  int64_t drawn_ = 0;

  template <class... A>
  static void put(std::string& out, fmt::format_string<A...> f, A&&... a) {
    fmt::format_to(std::back_inserter(out), f, std::forward<A>(a)...);
  }

  static std::string name(const std::string& prefix, NodeId id) { return fmt::format("{}n{}", prefix, id); }
  static std::string body_prefix(const std::string& prefix, NodeId id) { return fmt::format("{}s{}_", prefix, id); }
  static bool valid(const Graph& g, NodeId id) { return id >= 0 && static_cast<size_t>(id) < g.nodes.size(); }

  static int64_t param_index(const Node& n) {
    return n.op == Op::Param && has(n.attrs, "index", 0) ? n.attrs.i("index") : -1;
  }

  // The text node `id` of g reads as where it is used, if it is a scalar leaf that is not drawn;
  // "" if it is drawn. A result of g is always drawn (an edge leaves it).
  static std::string inline_text(const Graph& g, NodeId id, const std::vector<bool>& is_result,
                                 const BodyContext* ctx) {
    const Node& n = g.node(id);
    if (is_result[static_cast<size_t>(id)] || n.type.is_tuple()) return "";
    bool scalar = n.type.elements() == 1;
    switch (n.op) {
      case Op::Const: {
        const Tensor* t = const_value(n);
        if (!t || t->size() == 0) return "";
        if (t->size() == 1) return number(t->get(0));
        return t->all_equal_to_first() ? "splat " + number(t->get(0)) : "";
      }
      case Op::Input: return scalar && has(n.attrs, "name", 2) ? clip(n.attrs.s("name"), 24) : "";
      case Op::Param: {
        int64_t k = param_index(n);
        if (!ctx || k < 0 || k >= static_cast<int64_t>(ctx->param_inline.size())) return "";
        return ctx->param_inline[static_cast<size_t>(k)];
      }
      default: return "";
    }
  }

  // Declares g's nodes (bodies as nested clusters) and collects its edges. `ctx` describes g's
  // params and results when g is a body. Returns each node's inline text ("" if drawn).
  std::vector<std::string> draw(const Graph& g, const std::string& prefix, int depth, const BodyContext* ctx) {
    std::string ind(static_cast<size_t>(depth) * 2, ' ');
    std::vector<bool> is_result(g.nodes.size(), false);
    std::vector<std::string> result_lines(g.nodes.size());
    for (size_t r = 0; r < g.results.size(); ++r) {
      if (!valid(g, g.results[r])) continue;
      size_t id = static_cast<size_t>(g.results[r]);
      is_result[id] = true;
      if (ctx && r < ctx->result_role.size()) result_lines[id] += "\nresult: " + ctx->result_role[r];
    }
    std::vector<std::string> texts(g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      NodeId id = static_cast<NodeId>(i);
      texts[i] = inline_text(g, id, is_result, ctx);
      if (!texts[i].empty()) continue;
      ++drawn_;
      put(nodes_, "{}{} [label={}, fillcolor=\"{}\"];\n", ind, name(prefix, id),
          quote(label(g, id, texts, ctx) + result_lines[i]), fill_color(op_info(n.op).cls));
      if (n.body) {
        draw_body(g, prefix, id, texts, depth);
        continue;
      }
      for (NodeId o : n.operands)
        if (valid(g, o) && texts[static_cast<size_t>(o)].empty())
          put(edges_, "  {} -> {};\n", name(prefix, o), name(prefix, id));
    }
    return texts;
  }

  // "%7 mul(%3, 0.5)", then the attributes' summary, then the type.
  static std::string label(const Graph& g, NodeId id, const std::vector<std::string>& texts, const BodyContext* ctx) {
    const Node& n = g.node(id);
    std::string s = fmt::format("%{} {}", id, op_name(n.op));
    bool any_inline = false;
    for (NodeId o : n.operands) any_inline |= valid(g, o) && !texts[static_cast<size_t>(o)].empty();
    if (!n.body && (n.operands.size() > 1 || any_inline)) {
      std::string args;
      for (NodeId o : n.operands) {
        if (!args.empty()) args += ", ";
        args += !valid(g, o) ? "?" : texts[static_cast<size_t>(o)].empty() ? fmt::format("%{}", o) : texts[static_cast<size_t>(o)];
      }
      s += '(';
      s += clip(args, 60);
      s += ')';
    }
    std::string more = summary(n);
    int64_t k = param_index(n);
    if (ctx && k >= 0 && k < static_cast<int64_t>(ctx->param_role.size())) {
      more = ctx->param_role[static_cast<size_t>(k)];
      // A drawn param whose operand is inlined (a carry's scalar initial value, say).
      const std::string& init = ctx->param_bound[static_cast<size_t>(k)];
      if (!init.empty()) more += " = " + init;
    }
    if (!more.empty()) {
      s += '\n';
      s += clip(more, 60);
    }
    s += '\n';
    s += clip(type_str(n.type), 40);
    return s;
  }

  // The cluster of node `id`'s body, and the dashed edges from its operands to the body's params
  // and from the body's results back to the node.
  void draw_body(const Graph& g, const std::string& prefix, NodeId id, const std::vector<std::string>& texts,
                 int depth) {
    const Node& n = g.node(id);
    const Graph& body = *n.body;
    std::string ind(static_cast<size_t>(depth) * 2, ' ');
    std::string inner = body_prefix(prefix, id);
    BodyContext ctx = context(n, texts, g);
    put(nodes_, "{}subgraph cluster_{} {{\n", ind, inner);
    if (n.op == Op::Kernel) {  // fused kernels stand out from scan bodies
      put(nodes_, "{}  label={};\n", ind, quote(clip(fmt::format("kernel {} of %{}", summary(n), id), 60)));
      put(nodes_, "{}  style=\"rounded,filled\"; fillcolor=\"#e6f0fa\"; color=\"#4a78b5\"; fontsize=10;\n", ind);
    } else {
      put(nodes_, "{}  label={};\n", ind, quote(clip(fmt::format("body @{} of %{}", body.name, id), 60)));
      put(nodes_, "{}  style=\"rounded,filled\"; fillcolor=\"{}\"; color=\"#999999\"; fontsize=10;\n", ind,
          depth % 2 ? "#f5f5f5" : "#ebebeb");
    }
    std::vector<std::string> body_texts = draw(body, inner, depth + 1, &ctx);
    put(nodes_, "{}}}\n", ind);

    for (size_t p = 0; p < body.nodes.size(); ++p) {
      int64_t k = param_index(body.nodes[p]);
      if (k < 0 || k >= static_cast<int64_t>(n.operands.size()) || !body_texts[p].empty()) continue;
      NodeId o = n.operands[static_cast<size_t>(k)];
      if (valid(g, o) && texts[static_cast<size_t>(o)].empty())
        put(edges_, "  {} -> {} [style=dashed];\n", name(prefix, o), name(inner, static_cast<NodeId>(p)));
    }
    for (NodeId res : body.results)
      if (valid(body, res)) put(edges_, "  {} -> {} [style=dashed];\n", name(inner, res), name(prefix, id));
  }

  static BodyContext context(const Node& n, const std::vector<std::string>& texts, const Graph& g) {
    BodyContext c;
    auto attr = [&](const char* key) { return has(n.attrs, key, 0) ? n.attrs.i(key) : 0; };
    int64_t carries = n.op == Op::Scan ? attr("carry") : 0, xs = n.op == Op::Scan ? attr("xs") : 0;
    for (size_t k = 0; k < n.operands.size(); ++k) {
      int64_t i = static_cast<int64_t>(k);
      c.param_role.push_back(n.op == Op::Kernel ? fmt::format("in {}", i)
                             : i < carries      ? fmt::format("carry {}", i)
                             : i < carries + xs ? fmt::format("x {}", i - carries)
                                                : fmt::format("capture {}", i - carries - xs));
      NodeId o = n.operands[k];
      c.param_bound.push_back(valid(g, o) ? texts[static_cast<size_t>(o)] : "");
      c.param_inline.push_back(n.op == Op::Kernel || i >= carries + xs ? c.param_bound.back() : "");
    }
    for (size_t r = 0; r < n.body->results.size(); ++r) {
      int64_t i = static_cast<int64_t>(r);
      c.result_role.push_back(n.op == Op::Kernel ? fmt::format("out {}", i)
                              : i < carries      ? fmt::format("carry {}", i)
                                                 : fmt::format("y {}", i - carries));
    }
    return c;
  }
};

}  // namespace

std::string to_dot(const Graph& g) { return DotWriter().write(g); }

}  // namespace sf
