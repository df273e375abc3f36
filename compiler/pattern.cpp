#include "compiler/pattern.h"

#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "compiler/match.h"

namespace sf {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Pattern parse() {
    Pattern p = term();
    skip();
    if (i_ != s_.size()) bad("trailing text");
    return p;
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    throw std::logic_error("bad pattern '" + std::string(s_) + "' at " + std::to_string(i_) + ": " + why);
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }

  Pattern term() {
    skip();
    if (i_ >= s_.size()) bad("expected a term");
    char c = s_[i_];
    Pattern p;
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.') {
      std::string text(s_.substr(i_));
      char* end = nullptr;
      p.kind = Pattern::Number;
      p.number = std::strtod(text.c_str(), &end);
      if (end == text.c_str()) bad("expected a number");
      i_ += static_cast<size_t>(end - text.c_str());
      return p;
    }
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) ++i_;
    std::string name(s_.substr(start, i_ - start));
    if (name.empty()) bad("expected a name");
    if (name == "true" || name == "false") {
      p.kind = Pattern::Number;
      p.number = name == "true" ? 1 : 0;
      return p;
    }
    if (!eat('(')) {
      if (name.size() != 1 || std::string_view("xyzcd").find(name[0]) == std::string_view::npos)
        bad("unknown variable '" + name + "' (x, y, z: values; c, d: constants)");
      p.kind = (name[0] == 'c' || name[0] == 'd') ? Pattern::Constant : Pattern::Var;
      p.var = name[0];
      return p;
    }
    if (name == "splat") {
      p.kind = Pattern::Splat;
      Pattern arg = term();
      if (arg.kind != Pattern::Constant) bad("splat() takes a constant variable");
      p.var = arg.var;
    } else {
      auto op = op_from_name(name);
      if (!op) bad("unknown op '" + name + "'");
      p.kind = Pattern::OpNode;
      p.op = *op;
      do p.args.push_back(term());
      while (eat(','));
    }
    if (!eat(')')) bad("expected ')'");
    return p;
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool bind(Match& m, char v, NodeId id) {
  NodeId& slot = m.vars[static_cast<size_t>(v - 'a')];
  if (slot < 0) slot = id;
  return slot == id;
}

// `n` is node `id` of `g` (id = -1: the root, not in g).
bool match_at(const Pattern& p, const Graph& g, const Node& n, NodeId id, Match& m) {
  switch (p.kind) {
    case Pattern::Var: return id >= 0 && bind(m, p.var, id);
    case Pattern::Constant: return id >= 0 && splat_of(g, id) && bind(m, p.var, id);
    case Pattern::Number: {
      if (id < 0) return false;
      auto s = splat_of(g, id);
      return s && splat_is(*s, p.number);
    }
    case Pattern::Splat: return false;
    case Pattern::OpNode: break;
  }
  if (n.op != p.op || n.operands.size() != p.args.size()) return false;
  auto args_match = [&](size_t first) {
    for (size_t k = 0; k < p.args.size(); ++k) {
      NodeId o = n.operands[(k + first) % p.args.size()];
      if (!match_at(p.args[k], g, g.node(o), o, m)) return false;
    }
    return true;
  };
  Match saved = m;
  if (args_match(0)) return true;
  m = saved;
  if (p.args.size() == 2 && commutes_exactly(p.op, g.type(n.operands[0]).dtype) && args_match(1)) return true;
  m = saved;
  return false;
}

Value build_at(Builder& b, const Pattern& p, const Match& m, const MakeNode& make, bool root) {
  const Type& t = m.root->type;
  switch (p.kind) {
    case Pattern::Var:
    case Pattern::Constant: return Value(&b, m[p.var]);
    case Pattern::Number:
      if (root && t.rank() > 0) return b.fill(p.number, t.dtype, t.shape);
      return b.scalar(p.number, t.dtype);
    case Pattern::Splat: {
      double v = splat_double(*splat_of(*m.graph, m[p.var]));
      return t.rank() > 0 ? b.fill(v, t.dtype, t.shape) : b.scalar(v, t.dtype);
    }
    case Pattern::OpNode: break;
  }
  std::vector<Value> args;
  for (const Pattern& a : p.args) args.push_back(build_at(b, a, m, make, false));
  return make(p.op, args, p.op == m.root->op ? m.root->attrs : Attrs{});
}

}  // namespace

Pattern parse_pattern(std::string_view text) { return Parser(text).parse(); }

bool match(const Pattern& p, const Graph& g, const Node& root, Match* m) {
  *m = Match();
  m->graph = &g;
  m->root = &root;
  if (p.kind != Pattern::OpNode) return false;
  return match_at(p, g, root, -1, *m);
}

Value build(Builder& b, const Pattern& p, const Match& m, const MakeNode& make) {
  return build_at(b, p, m, make, true);
}

}  // namespace sf
