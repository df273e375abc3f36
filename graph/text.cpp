// The .sfg text format. See docs/SFG.md for the grammar.
//
// The printer writes every value exactly (shortest round-trip floats, NaN payloads as bits), so
// parse(print(g)) is structurally identical to g. The parser checks as it goes and reports every
// problem as "file:line:col: message" at the token that causes it; node definitions of one graph
// are collected first and then ordered topologically, so a cycle is reported as a cycle.
#include "graph/text.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "graph/error.h"
#include "graph/kernel.h"
#include "graph/utf8.h"
#include "graph/verify.h"
#include "ops/type_rules.h"

namespace sf {
namespace {

// Limits that keep hostile input from exhausting the stack or memory, or overflowing int64
// arithmetic in shape computations.
constexpr int kMaxNesting = 64;                        // scan bodies in bodies, tuples in tuples
constexpr int64_t kMaxAttrInt = int64_t{1} << 53;      // |integer attribute of a node|
constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;  // one tensor literal
constexpr int64_t kMaxValueId = std::numeric_limits<int32_t>::max();

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c) || c == '.'; }

bool is_bare_name(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  return std::all_of(s.begin(), s.end(), is_ident_char);
}

// ============================================================================================
// Printing
// ============================================================================================

template <class F>
using FloatBits = std::conditional_t<sizeof(F) == 8, uint64_t, uint32_t>;

class Printer {
 public:
  std::string print(const Graph& g) {
    graph(g, "graph", 0);
    out_.push_back('\n');
    return fmt::to_string(out_);
  }

 private:
  fmt::memory_buffer out_;

  void raw(std::string_view s) { out_.append(s); }
  template <class... A>
  void put(fmt::format_string<A...> f, A&&... a) {
    fmt::format_to(std::back_inserter(out_), f, std::forward<A>(a)...);
  }
  void indent(int depth) {
    for (int i = 0; i < depth; ++i) raw("  ");
  }

  void graph(const Graph& g, std::string_view keyword, int depth) {
    raw(keyword);
    raw(" @");
    name(g.name);
    if (!g.attrs.items().empty()) {
      raw(" ");
      attr_dict(g.attrs, nullptr);
    }
    raw(" {\n");
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      indent(depth + 1);
      node(g.nodes[i], static_cast<NodeId>(i), depth + 1);
      raw("\n");
    }
    indent(depth + 1);
    raw("return");
    for (size_t i = 0; i < g.results.size(); ++i) put("{}%{}", i ? ", " : " ", g.results[i]);
    raw("\n");
    indent(depth);
    raw("}");
  }

  void node(const Node& n, NodeId id, int depth) {
    put("%{} = {}", id, op_name(n.op));
    if (!n.operands.empty()) {
      raw("(");
      for (size_t i = 0; i < n.operands.size(); ++i) put("{}%{}", i ? ", " : "", n.operands[i]);
      raw(")");
    }
    if (!n.attrs.items().empty()) {
      raw(" ");
      attr_dict(n.attrs, &op_info(n.op));
    }
    if (n.body) {
      raw(" ");
      graph(*n.body, "body", depth);
    }
    raw(" : ");
    raw(type_str(n.type));
  }

  void name(std::string_view s) {
    if (is_bare_name(s))
      raw(s);
    else
      str(s);
  }

  // Attributes in the op's schema order (the order ops.def documents), then any others.
  void attr_dict(const Attrs& attrs, const OpInfo* op) {
    std::vector<const std::pair<std::string, AttrValue>*> order;
    if (op)
      for (auto& spec : op->attrs)
        for (auto& item : attrs.items())
          if (item.first == spec.name) order.push_back(&item);
    for (auto& item : attrs.items())
      if (std::find(order.begin(), order.end(), &item) == order.end()) order.push_back(&item);
    raw("{");
    for (size_t i = 0; i < order.size(); ++i) {
      if (i) raw(", ");
      name(order[i]->first);
      raw(" = ");
      // Node attributes have a schema that says what an empty list is; graph attributes do not.
      bool schema_says_strs = op && std::any_of(op->attrs.begin(), op->attrs.end(), [&](const AttrSpec& s) {
                                return s.name == order[i]->first && s.kind == AttrKind::Strs;
                              });
      value(order[i]->second, schema_says_strs);
    }
    raw("}");
  }

  void value(const AttrValue& v, bool empty_list_is_strs) {
    if (auto* i = std::get_if<int64_t>(&v)) {
      put("{}", *i);
    } else if (auto* d = std::get_if<double>(&v)) {
      real(*d, true);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      str(*s);
    } else if (auto* is = std::get_if<std::vector<int64_t>>(&v)) {
      put("[{}]", fmt::join(*is, ", "));
    } else if (auto* ss = std::get_if<std::vector<std::string>>(&v)) {
      if (ss->empty() && !empty_list_is_strs) return raw("strs[]");
      raw("[");
      for (size_t k = 0; k < ss->size(); ++k) {
        if (k) raw(", ");
        str((*ss)[k]);
      }
      raw("]");
    } else if (auto* dt = std::get_if<DType>(&v)) {
      raw(dtype_name(*dt));
    } else if (auto* t = std::get_if<TensorPtr>(&v)) {
      if (*t)
        tensor(**t);
      else
        raw("<null tensor>");
    }
  }

  // Shortest text that reads back to the same bits. `mark` makes integral values look like floats
  // ("1.0"), which attribute values need to tell a float from an int.
  template <class F>
  void real(F v, bool mark) {
    using Bits = FloatBits<F>;
    if (std::isnan(v)) {
      Bits bits = std::bit_cast<Bits>(v), quiet = std::bit_cast<Bits>(std::numeric_limits<F>::quiet_NaN());
      Bits sign = Bits{1} << (sizeof(Bits) * 8 - 1);
      if (bits == quiet) return raw("nan");
      if (bits == (quiet | sign)) return raw("-nan");
      return put("nan(0x{:x})", bits);
    }
    if (std::isinf(v)) return raw(v < 0 ? "-inf" : "inf");
    size_t start = out_.size();
    put("{}", v);
    if (!mark) return;
    for (size_t i = start; i < out_.size(); ++i)
      if (out_[i] == '.' || out_[i] == 'e') return;
    raw(".0");
  }

  void str(std::string_view s) {
    out_.push_back('"');
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      size_t len = utf8_sequence_length(s, i);
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(static_cast<char>(c));
      } else if (c == '\n') {
        raw("\\n");
      } else if (c == '\t') {
        raw("\\t");
      } else if (c == '\r') {
        raw("\\r");
      } else if (c < 0x20 || c == 0x7f || len == 0) {
        put("\\x{:02x}", c);
      } else {
        raw(s.substr(i, len));
        i += len;
        continue;
      }
      ++i;
    }
    out_.push_back('"');
  }

  void tensor(const Tensor& t) {
    raw(dtype_name(t.dtype()));
    raw(shape_str(t.shape()));
    raw("{");
    visit_dtype(t.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* p = t.data<T>();
      if (t.size() >= 2 && t.all_equal_to_first()) {
        raw("splat ");
        element(p[0]);
      } else {
        for (int64_t i = 0; i < t.size(); ++i) {
          if (i) raw(", ");
          element(p[i]);
        }
      }
    });
    raw("}");
  }

  template <class T>
  void element(T v) {
    if constexpr (std::is_floating_point_v<T>)
      real(v, false);
    else if constexpr (std::is_same_v<T, uint8_t>)
      raw(v ? "true" : "false");
    else
      put("{}", v);
  }
};

// ============================================================================================
// Lexing
// ============================================================================================

struct Pos {
  int64_t line = 1, col = 1;
};

enum class Tok : uint8_t { End, Ident, Number, String, ValueId, GraphName, Punct };

struct Token {
  Tok kind = Tok::End;
  std::string_view text;  // String: the raw text between the quotes; GraphName: after '@'
  Pos pos;
  bool quoted = false;  // GraphName written as @"..."
};

class Lexer {
 public:
  Lexer(std::string_view src, const std::string& file) : s_(src), file_(file) {}

  const Token& peek(int k = 0) {
    while (count_ <= k) buf_[count_++] = lex();
    return buf_[k];
  }
  Token next() {
    Token t = peek();
    for (int i = 1; i < count_; ++i) buf_[i - 1] = buf_[i];
    --count_;
    return t;
  }

  [[noreturn]] void error(Pos p, const std::string& msg) const { fail("{}:{}:{}: {}", file_, p.line, p.col, msg); }

  // Bytes not yet lexed: a bound on how many elements a tensor literal can still hold.
  size_t remaining() const { return s_.size() - i_; }

  // Rejects binary data and invalid UTF-8 up front, so that the rest only ever sees text.
  void check_encoding() const {
    Pos p;
    for (size_t i = 0; i < s_.size();) {
      unsigned char c = static_cast<unsigned char>(s_[i]);
      if (c == 0) error(p, "NUL byte: this is not a text file");
      size_t len = utf8_sequence_length(s_, i);
      if (len == 0) error(p, fmt::format("invalid UTF-8 (byte 0x{:02x}): this is not a text file", c));
      if (c == '\n') {
        ++p.line;
        p.col = 1;
      } else {
        ++p.col;
      }
      i += len;
    }
  }

 private:
  std::string_view s_;
  const std::string& file_;
  size_t i_ = 0;
  Pos pos_;
  Token buf_[3];
  int count_ = 0;

  bool at_end() const { return i_ >= s_.size(); }
  char cur() const { return at_end() ? '\0' : s_[i_]; }
  char ahead(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }
  void advance() {
    if (s_[i_] == '\n') {
      ++pos_.line;
      pos_.col = 1;
    } else if ((static_cast<unsigned char>(s_[i_]) & 0xC0) != 0x80) {
      ++pos_.col;  // columns count characters, not UTF-8 continuation bytes
    }
    ++i_;
  }

  void skip_space_and_comments() {
    while (!at_end()) {
      char c = cur();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '#' || (c == '/' && ahead(1) == '/')) {
        while (!at_end() && cur() != '\n') advance();
      } else {
        break;
      }
    }
  }

  Token make(Tok kind, size_t start, Pos pos) const { return Token{kind, s_.substr(start, i_ - start), pos, false}; }

  Token lex() {
    skip_space_and_comments();
    Pos pos = pos_;
    size_t start = i_;
    if (at_end()) return Token{Tok::End, {}, pos, false};
    char c = cur();
    if (is_ident_start(c) || (c == '-' && is_ident_start(ahead(1)))) {
      advance();
      while (!at_end() && is_ident_char(cur())) advance();
      return make(Tok::Ident, start, pos);
    }
    if (is_digit(c) || (c == '-' && is_digit(ahead(1)))) return number(start, pos);
    if (c == '"') return string_token(pos);
    if (c == '%') {
      advance();
      size_t digits = i_;
      while (!at_end() && is_digit(cur())) advance();
      if (i_ == digits) error(pos, "expected a number after '%' (values are named %0, %1, ...)");
      if (!at_end() && is_ident_char(cur())) error(pos, "value names are numbers, like %3");
      return Token{Tok::ValueId, s_.substr(digits, i_ - digits), pos, false};
    }
    if (c == '@') {
      advance();
      if (cur() == '"') {
        Token t = string_token(pos);
        t.kind = Tok::GraphName;
        t.quoted = true;
        return t;
      }
      size_t name = i_;
      while (!at_end() && is_ident_char(cur())) advance();
      if (i_ == name) error(pos, "expected a graph name after '@'");
      return Token{Tok::GraphName, s_.substr(name, i_ - name), pos, false};
    }
    if (c != '\0' && std::strchr("=(){}[],:", c)) {
      advance();
      return make(Tok::Punct, start, pos);
    }
    error(pos, fmt::format("unexpected character {}", describe_char()));
  }

  std::string describe_char() const {
    unsigned char c = static_cast<unsigned char>(cur());
    if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
    if (c >= 0x80) return fmt::format("'{}'", s_.substr(i_, std::max<size_t>(1, utf8_sequence_length(s_, i_))));
    return fmt::format("\\x{:02x}", c);
  }

  // Numbers are lexed generously ("12abc", "1e+5", "0x7ff8") and checked when converted.
  Token number(size_t start, Pos pos) {
    advance();
    while (!at_end()) {
      char c = cur(), prev = s_[i_ - 1];
      std::string_view so_far = s_.substr(start, i_ - start);
      bool hex = so_far.starts_with("0x") || so_far.starts_with("0X") || so_far.starts_with("-0x");
      bool exponent_sign = (c == '+' || c == '-') && (prev == 'e' || prev == 'E') && !hex;
      if (!is_ident_char(c) && !exponent_sign) break;
      advance();
    }
    return make(Tok::Number, start, pos);
  }

  Token string_token(Pos pos) {
    advance();  // the opening quote
    size_t start = i_;
    for (;;) {
      if (at_end() || cur() == '\n') error(pos, "unterminated string");
      char c = cur();
      if (c == '"') break;
      if (c == '\\') {
        Pos esc = pos_;
        advance();
        if (at_end() || cur() == '\n') error(pos, "unterminated string");
        char e = cur();
        if (e == 'x') {
          advance();
          if (!std::isxdigit(static_cast<unsigned char>(cur())) || !std::isxdigit(static_cast<unsigned char>(ahead(1))))
            error(esc, "\\x in a string needs two hex digits");
          advance();
          advance();
          continue;
        }
        if (!std::strchr("\"\\ntr", e))
          error(esc, "unknown escape sequence in a string (use \\\" \\\\ \\n \\t \\r or \\xHH)");
        advance();
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        error(pos_, "control character in a string (write it as \\xHH)");
      advance();
    }
    Token t{Tok::String, s_.substr(start, i_ - start), pos, false};
    advance();  // the closing quote
    return t;
  }
};

// Decodes the escapes of a string token (already checked by the lexer).
std::string unescape(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      r.push_back(s[i]);
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': r.push_back('\n'); break;
      case 't': r.push_back('\t'); break;
      case 'r': r.push_back('\r'); break;
      case 'x': {
        unsigned v = 0;
        std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        r.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      default: r.push_back(e);
    }
  }
  return r;
}

// ============================================================================================
// Parsing
// ============================================================================================

// A node as written, before its graph is ordered and typed.
struct RawNode {
  Pos pos;  // of "%N"
  int64_t id = 0;
  Op op = Op::Neg;
  std::vector<std::pair<int64_t, Pos>> operands;
  Attrs attrs;
  std::shared_ptr<const Graph> body;
  Type declared;
};

std::string describe(const Token& t) {
  auto clip = [](std::string_view s) { return s.size() > 24 ? std::string(s.substr(0, 24)) + "..." : std::string(s); };
  switch (t.kind) {
    case Tok::End: return "end of file";
    case Tok::String: return fmt::format("string \"{}\"", clip(t.text));
    case Tok::ValueId: return fmt::format("'%{}'", clip(t.text));
    case Tok::GraphName: return fmt::format("'@{}'", clip(t.text));
    default: return fmt::format("'{}'", clip(t.text));
  }
}

bool is_punct(const Token& t, char c) { return t.kind == Tok::Punct && t.text[0] == c; }
bool is_ident(const Token& t, std::string_view s) { return t.kind == Tok::Ident && t.text == s; }

const char* value_kind_name(const AttrValue& v) { return attr_kind_name(static_cast<AttrKind>(v.index())); }

std::string with_article(std::string_view noun) {
  return fmt::format("{} {}", std::strchr("aeiou", noun[0]) ? "an" : "a", noun);
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : lex_(text, file), file_(file) {}

  Graph parse() {
    lex_.check_encoding();
    if (!is_ident(lex_.peek(), "graph"))
      error(lex_.peek().pos, fmt::format("expected 'graph', got {}", describe(lex_.peek())));
    Graph g = graph_def("graph", 0);
    if (lex_.peek().kind != Tok::End)
      error(lex_.peek().pos, fmt::format("expected end of file after the graph, got {}", describe(lex_.peek())));
    try {
      verify(g);
    } catch (const Error& e) {
      fail("{}: {}", file_, e.what());
    }
    return g;
  }

 private:
  Lexer lex_;
  const std::string& file_;

  [[noreturn]] void error(Pos p, const std::string& msg) const { lex_.error(p, msg); }

  Token expect(char c, std::string_view context = {}) {
    const Token& t = lex_.peek();
    if (!is_punct(t, c))
      error(t.pos, fmt::format("expected '{}'{}{}, got {}", c, context.empty() ? "" : " ", context, describe(t)));
    return lex_.next();
  }
  bool accept(char c) {
    if (!is_punct(lex_.peek(), c)) return false;
    lex_.next();
    return true;
  }

  // ---- numbers ----------------------------------------------------------------------------

  int64_t integer(const Token& t) {
    if (t.kind != Tok::Number) error(t.pos, fmt::format("expected an integer, got {}", describe(t)));
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec == std::errc::result_out_of_range)
      error(t.pos, fmt::format("integer literal {} is out of range (64 bits)", t.text));
    if (ec != std::errc() || end != t.text.data() + t.text.size()) {
      if (t.text.find_first_of(".eE") != std::string_view::npos)
        error(t.pos, fmt::format("expected an integer, got {}", describe(t)));
      error(t.pos, fmt::format("malformed number '{}'", t.text));
    }
    return v;
  }

  static bool looks_float(const Token& t) {
    if (t.kind == Tok::Ident) return t.text == "inf" || t.text == "-inf" || t.text == "nan" || t.text == "-nan";
    return t.kind == Tok::Number && t.text.find_first_of(".eE") != std::string_view::npos &&
           t.text.find_first_of("xX") == std::string_view::npos;
  }

  // A float of type F from the next token(s): a decimal, inf, -inf, nan, -nan or nan(0xBITS).
  template <class F>
  F real() {
    Token t = lex_.next();
    const char* type = sizeof(F) == 8 ? "f64" : "f32";
    if (t.kind == Tok::Ident) {
      if (t.text == "inf" || t.text == "-inf")
        return t.text[0] == '-' ? -std::numeric_limits<F>::infinity() : std::numeric_limits<F>::infinity();
      if (t.text == "-nan") return -std::numeric_limits<F>::quiet_NaN();
      if (t.text == "nan") return is_punct(lex_.peek(), '(') ? nan_bits<F>() : std::numeric_limits<F>::quiet_NaN();
      error(t.pos, fmt::format("expected a number, got {}", describe(t)));
    }
    if (t.kind != Tok::Number) error(t.pos, fmt::format("expected a number, got {}", describe(t)));
    F v = 0;
    auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec == std::errc::result_out_of_range)
      error(t.pos, fmt::format("number {} is out of range for {}", t.text, type));
    if (ec != std::errc() || end != t.text.data() + t.text.size())
      error(t.pos, fmt::format("malformed number '{}'", t.text));
    return v;
  }

  template <class F>
  F nan_bits() {
    using Bits = FloatBits<F>;
    expect('(');
    Token t = lex_.next();
    Bits bits = 0;
    bool ok = t.kind == Tok::Number && t.text.size() > 2 && t.text.substr(0, 2) == "0x";
    if (ok) {
      auto [end, ec] = std::from_chars(t.text.data() + 2, t.text.data() + t.text.size(), bits, 16);
      ok = ec == std::errc() && end == t.text.data() + t.text.size();
    }
    if (!ok)
      error(t.pos, fmt::format("expected the NaN's bits in hex like nan(0x7ff8000000000001), got {}", describe(t)));
    F v = std::bit_cast<F>(bits);
    if (!std::isnan(v)) error(t.pos, fmt::format("bits {} are not a NaN", t.text));
    expect(')');
    return v;
  }

  // ---- types and shapes ---------------------------------------------------------------------

  DType dtype(const Token& t) {
    DType d;
    if (t.kind != Tok::Ident || !parse_dtype(t.text, &d))
      error(t.pos, fmt::format("unknown dtype {} (expected f32, f64, i32, i64 or bool)", describe(t)));
    return d;
  }

  // "[d0,d1,...]" with every dimension and the element count in range.
  Shape dims() {
    Pos open = expect('[').pos;
    Shape s;
    int64_t elements = 1;
    if (!is_punct(lex_.peek(), ']')) {
      do {
        Token t = lex_.next();
        int64_t d = integer(t);
        if (d < 0) error(t.pos, fmt::format("negative dimension {}", d));
        if (d > kMaxElements) error(t.pos, fmt::format("dimension {} is too large (the limit is 2^48)", d));
        if (s.size() == static_cast<size_t>(kMaxRank))
          error(t.pos, fmt::format("rank exceeds the maximum rank {}", kMaxRank));
        s.push_back(d);
        if (d != 0 && elements > kMaxElements / d)
          elements = kMaxElements + 1;
        else
          elements *= d;
      } while (accept(','));
    }
    expect(']', "to close the shape");
    if (elements > kMaxElements)
      error(open, fmt::format("shape {} has too many elements (the limit is 2^48)", shape_str(s)));
    return s;
  }

  Type type(int depth) {
    const Token& t = lex_.peek();
    if (depth > kMaxNesting) error(t.pos, fmt::format("tuple types nested more than {} deep", kMaxNesting));
    if (is_punct(t, '(')) {
      lex_.next();
      std::vector<Type> elems;
      if (!is_punct(lex_.peek(), ')')) {
        do elems.push_back(type(depth + 1));
        while (accept(','));
      }
      expect(')', "to close the tuple type");
      return Type::tuple(std::move(elems));
    }
    if (t.kind != Tok::Ident) error(t.pos, fmt::format("expected a type like f64[3], got {}", describe(t)));
    DType d = dtype(lex_.next());
    return Type::tensor(d, dims());
  }

  // ---- tensors ------------------------------------------------------------------------------

  // dtype[shape]{e0, e1, ...} or dtype[shape]{splat e}; the dtype token is already taken.
  TensorPtr tensor(DType d) {
    Pos pos = lex_.peek().pos;
    Shape s = dims();
    int64_t n = num_elements(s);
    if (n > kMaxTensorBytes / dtype_size(d))
      error(pos, fmt::format("tensor literal {}{} is too large ({} elements; the limit is 2 GiB)", dtype_name(d),
                             shape_str(s), n));
    expect('{', "to open the tensor's elements");
    Tensor t;
    visit_dtype(d, [&](auto zero) { t = elements<decltype(zero)>(d, s); });
    return std::make_shared<const Tensor>(std::move(t));
  }

  template <class T>
  Tensor elements(DType d, const Shape& s) {
    int64_t n = num_elements(s);
    if (is_ident(lex_.peek(), "splat")) {
      Pos pos = lex_.next().pos;
      T v = element<T>(d);
      if (n == 0) error(pos, "splat of a tensor with no elements");
      expect('}', "after the splat value");
      Tensor t(d, s);
      std::fill(t.data<T>(), t.data<T>() + n, v);
      return t;
    }
    // Each element takes at least one byte of text: a shape larger than the rest of the input is
    // wrong, and is reported below without allocating it.
    bool store = static_cast<uint64_t>(n) <= lex_.remaining();
    Tensor t(d, store ? s : Shape{0});
    T* p = t.data<T>();
    int64_t count = 0;
    if (!is_punct(lex_.peek(), '}')) {
      do {
        T v = element<T>(d);
        if (store && count < n) p[count] = v;
        ++count;
      } while (accept(','));
    }
    Token close = expect('}', "to close the tensor's elements");
    if (count != n)
      error(close.pos, fmt::format("tensor literal {}{} needs {} element{}, got {}", dtype_name(d), shape_str(s), n,
                                   n == 1 ? "" : "s", count));
    return t;
  }

  template <class T>
  T element(DType d) {
    if constexpr (std::is_floating_point_v<T>) {
      return real<T>();
    } else if constexpr (std::is_same_v<T, uint8_t>) {
      Token t = lex_.next();
      if (is_ident(t, "true") || (t.kind == Tok::Number && t.text == "1")) return 1;
      if (is_ident(t, "false") || (t.kind == Tok::Number && t.text == "0")) return 0;
      error(t.pos, fmt::format("expected true or false, got {}", describe(t)));
    } else {
      Token t = lex_.next();
      int64_t v = integer(t);
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
        error(t.pos, fmt::format("value {} is out of range for {}", v, dtype_name(d)));
      return static_cast<T>(v);
    }
  }

  // ---- attributes -----------------------------------------------------------------------------

  AttrValue value(const AttrSpec* spec) {
    const Token& t = lex_.peek();
    if (looks_float(t)) return real<double>();
    if (t.kind == Tok::Number) return integer(lex_.next());
    if (t.kind == Tok::String) return unescape(lex_.next().text);
    if (is_punct(t, '[')) return list();
    if (t.kind == Tok::Ident) {
      if (t.text == "strs" && is_punct(lex_.peek(1), '[') && is_punct(lex_.peek(2), ']')) {
        lex_.next(), lex_.next(), lex_.next();
        return std::vector<std::string>{};
      }
      bool is_tensor = is_punct(lex_.peek(1), '[');
      if (is_tensor || (spec && spec->kind == AttrKind::DType)) {
        DType d = dtype(lex_.next());
        if (is_tensor) return tensor(d);
        return d;
      }
      DType d;
      if (parse_dtype(t.text, &d)) return lex_.next(), d;
    }
    error(t.pos, fmt::format("expected an attribute value, got {}", describe(t)));
  }

  // [1, 2, 3] or ["a", "b"]; an empty list is an int list unless the schema says otherwise.
  AttrValue list() {
    expect('[');
    if (accept(']')) return std::vector<int64_t>{};
    if (lex_.peek().kind == Tok::String) {
      std::vector<std::string> v;
      do {
        Token t = lex_.next();
        if (t.kind != Tok::String) error(t.pos, fmt::format("expected a string in a string list, got {}", describe(t)));
        v.push_back(unescape(t.text));
      } while (accept(','));
      expect(']', "to close the list");
      return v;
    }
    std::vector<int64_t> v;
    do {
      Token t = lex_.next();
      if (t.kind != Tok::Number) error(t.pos, fmt::format("expected an integer in an int list, got {}", describe(t)));
      v.push_back(integer(t));
    } while (accept(','));
    expect(']', "to close the list");
    return v;
  }

  // {key = value, ...}; with an op, keys and kinds are checked against its schema.
  Attrs attr_dict(const OpInfo* op) {
    expect('{');
    Attrs attrs;
    if (accept('}')) return attrs;
    std::unordered_map<std::string, Pos> seen;
    do {
      Token key = lex_.next();
      if (key.kind != Tok::Ident && key.kind != Tok::String)
        error(key.pos, fmt::format("expected an attribute name, got {}", describe(key)));
      std::string name = key.kind == Tok::String ? unescape(key.text) : std::string(key.text);
      const AttrSpec* spec = nullptr;
      if (op) {
        for (auto& s : op->attrs)
          if (s.name == name) spec = &s;
        if (!spec) error(key.pos, fmt::format("{}: unknown attribute '{}'{}", op->name, name, schema_hint(*op)));
      }
      if (auto [it, fresh] = seen.emplace(name, key.pos); !fresh)
        error(key.pos, fmt::format("duplicate attribute '{}' (first at {}:{})", name, it->second.line, it->second.col));
      expect('=', fmt::format("after attribute name '{}'", name));
      Pos vpos = lex_.peek().pos;
      AttrValue v = value(spec);
      if (spec) check_node_attr(*op, *spec, v, vpos);
      attrs.set(name, std::move(v));
    } while (accept(','));
    expect('}', "to close the attributes");
    return attrs;
  }

  static std::string schema_hint(const OpInfo& op) {
    if (op.attrs.empty()) return fmt::format(" ({} takes no attributes)", op.name);
    std::string names;
    for (auto& s : op.attrs) names += (names.empty() ? "" : ", ") + s.name;
    return fmt::format(" (expected {})", names);
  }

  // Converts what the schema allows (an int where a float is expected, an empty list) and checks
  // the kind and the range of integers.
  void check_node_attr(const OpInfo& op, const AttrSpec& spec, AttrValue& v, Pos pos) {
    if (spec.kind == AttrKind::Float)
      if (auto* i = std::get_if<int64_t>(&v)) v = static_cast<double>(*i);
    if (spec.kind == AttrKind::Strs)
      if (auto* l = std::get_if<std::vector<int64_t>>(&v); l && l->empty()) v = std::vector<std::string>{};
    if (v.index() != static_cast<size_t>(spec.kind))
      error(pos, fmt::format("{}: attribute '{}' must be {}, got {}", op.name, spec.name,
                             with_article(attr_kind_name(spec.kind)), with_article(value_kind_name(v))));
    auto check_int = [&](int64_t x) {
      if (x > kMaxAttrInt || x < -kMaxAttrInt)
        error(pos,
              fmt::format("{}: attribute '{}' value {} is out of range (the limit is 2^53)", op.name, spec.name, x));
    };
    if (auto* i = std::get_if<int64_t>(&v)) check_int(*i);
    if (auto* l = std::get_if<std::vector<int64_t>>(&v)) {
      for (int64_t x : *l) check_int(x);
      if (spec.name == "shape") check_shape_attr(op, *l, pos);
    }
  }

  void check_shape_attr(const OpInfo& op, const Shape& s, Pos pos) {
    if (s.size() > static_cast<size_t>(kMaxRank))
      error(pos, fmt::format("{}: rank {} exceeds the maximum rank {}", op.name, s.size(), kMaxRank));
    int64_t elements = 1;
    for (int64_t d : s) {
      if (d < 0) error(pos, fmt::format("{}: negative dimension in shape {}", op.name, shape_str(s)));
      if (d > kMaxElements || (d != 0 && elements > kMaxElements / d))
        error(pos, fmt::format("{}: shape {} has too many elements (the limit is 2^48)", op.name, shape_str(s)));
      elements *= d;
    }
  }

  // ---- graphs ---------------------------------------------------------------------------------

  // An attribute dictionary after a graph's name: "{" then "}" "{", or "{" then a key and "=".
  bool graph_attrs_follow() {
    if (!is_punct(lex_.peek(), '{')) return false;
    const Token& a = lex_.peek(1);
    if (is_punct(a, '}')) return is_punct(lex_.peek(2), '{');
    return (a.kind == Tok::Ident || a.kind == Tok::String) && is_punct(lex_.peek(2), '=');
  }

  // `keyword @name {attrs}? { node* return %a, %b }`
  Graph graph_def(std::string_view keyword, int depth) {
    Token kw = lex_.next();
    if (!is_ident(kw, keyword)) error(kw.pos, fmt::format("expected '{}', got {}", keyword, describe(kw)));
    Token name = lex_.next();
    if (name.kind != Tok::GraphName)
      error(name.pos, fmt::format("expected a graph name like @main, got {}", describe(name)));
    Graph g;
    g.name = name.quoted ? unescape(name.text) : std::string(name.text);
    if (graph_attrs_follow()) g.attrs = attr_dict(nullptr);
    expect('{', fmt::format("to open graph @{}", g.name));

    std::vector<RawNode> raw;
    std::unordered_map<int64_t, size_t> index;  // value id -> position in raw
    std::vector<std::pair<int64_t, Pos>> results;
    for (;;) {
      const Token& t = lex_.peek();
      if (is_ident(t, "return")) {
        lex_.next();
        if (lex_.peek().kind == Tok::ValueId) {
          do results.emplace_back(value_id(lex_.next()));
          while (accept(','));
        }
        expect('}', fmt::format("to close graph @{} after its return", g.name));
        break;
      }
      if (t.kind == Tok::ValueId) {
        RawNode n = node(depth);
        if (auto [it, fresh] = index.emplace(n.id, raw.size()); !fresh) {
          Pos first = raw[it->second].pos;
          error(n.pos, fmt::format("%{} is defined twice (first at {}:{})", n.id, first.line, first.col));
        }
        raw.push_back(std::move(n));
        continue;
      }
      if (is_punct(t, '}')) error(t.pos, fmt::format("missing 'return' at the end of graph @{}", g.name));
      error(t.pos, fmt::format("expected a node like '%{} = ...' or 'return', got {}", raw.size(), describe(t)));
    }
    build(g, raw, index, results, depth == 0);
    return g;
  }

  std::pair<int64_t, Pos> value_id(const Token& t) {
    if (t.kind != Tok::ValueId) error(t.pos, fmt::format("expected a value like %3, got {}", describe(t)));
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc() || v > kMaxValueId) error(t.pos, fmt::format("value id %{} is too large", t.text));
    return {v, t.pos};
  }

  // `%N = op(%a, %b)? {attrs}? (body @name {...})? : type`
  RawNode node(int depth) {
    RawNode n;
    std::tie(n.id, n.pos) = value_id(lex_.next());
    expect('=', fmt::format("after %{}", n.id));
    Token op = lex_.next();
    if (op.kind != Tok::Ident) error(op.pos, fmt::format("expected an op name, got {}", describe(op)));
    std::optional<Op> o = op_from_name(op.text);
    if (!o) error(op.pos, fmt::format("unknown op '{}'", op.text));
    n.op = *o;
    const OpInfo& info = op_info(n.op);
    if (accept('(')) {
      if (!is_punct(lex_.peek(), ')')) {
        do n.operands.push_back(value_id(lex_.next()));
        while (accept(','));
      }
      expect(')', "to close the operand list");
    }
    if (info.arity >= 0 && static_cast<int>(n.operands.size()) != info.arity)
      error(op.pos, fmt::format("{}: takes {} operand{}, got {}", info.name, info.arity, info.arity == 1 ? "" : "s",
                                n.operands.size()));
    if (is_punct(lex_.peek(), '{')) n.attrs = attr_dict(&info);
    for (auto& spec : info.attrs)
      if (!spec.optional && !n.attrs.has(spec.name))
        error(op.pos, fmt::format("{}: missing attribute '{}' ({})", info.name, spec.name, attr_kind_name(spec.kind)));
    if (is_ident(lex_.peek(), "body")) {
      const Token& b = lex_.peek();
      if (depth + 1 > kMaxNesting) error(b.pos, fmt::format("scan bodies nested more than {} deep", kMaxNesting));
      n.body = std::make_shared<const Graph>(graph_def("body", depth + 1));
    }
    expect(':', fmt::format("before the type of %{}", n.id));
    n.declared = type(0);
    return n;
  }

  // Orders the nodes of one graph topologically, renumbers them, types and checks them.
  void build(Graph& g, std::vector<RawNode>& raw, const std::unordered_map<int64_t, size_t>& index,
             const std::vector<std::pair<int64_t, Pos>>& results, bool top) {
    auto resolve = [&](const std::pair<int64_t, Pos>& ref) {
      auto it = index.find(ref.first);
      if (it == index.end()) error(ref.second, fmt::format("use of undefined value %{}", ref.first));
      return it->second;
    };
    std::vector<std::vector<size_t>> operands(raw.size());
    for (size_t i = 0; i < raw.size(); ++i)
      for (auto& ref : raw[i].operands) operands[i].push_back(resolve(ref));
    std::vector<size_t> result_index;
    for (auto& ref : results) result_index.push_back(resolve(ref));

    std::vector<size_t> order = topological_order(raw, operands);
    std::vector<NodeId> new_id(raw.size());
    for (size_t k = 0; k < order.size(); ++k) new_id[order[k]] = static_cast<NodeId>(k);

    std::unordered_map<std::string, Pos> input_names;
    std::unordered_map<int64_t, Pos> param_indices;
    std::vector<Type> types;
    for (size_t k : order) {
      RawNode& r = raw[k];
      Node n{r.op, {}, std::move(r.attrs), {}, std::move(r.body)};
      types.clear();
      for (size_t o : operands[k]) {
        n.operands.push_back(new_id[o]);
        types.push_back(g.nodes[static_cast<size_t>(new_id[o])].type);
      }
      check_placement(n, r.pos, top, input_names, param_indices);
      try {
        n.type = infer_type(n, types);
      } catch (const Error& e) {
        error(r.pos, e.what());
      }
      if (n.type != r.declared)
        error(r.pos, fmt::format("%{} is declared {} but {} gives {}", r.id, type_str(r.declared), op_name(n.op),
                                 type_str(n.type)));
      if (n.op == Op::Kernel) check_kernel(*n.body, r.pos);
      if (n.op == Op::Scan && !top)
        for (RecordMode m : scan_info(n).record)
          if (m != RecordMode::Stack)
            error(r.pos, fmt::format("a nested scan may only stack its outputs ('{}' is for top-level scans)",
                                     record_mode_name(m)));
      g.nodes.push_back(std::move(n));
    }
    for (size_t i : result_index) g.results.push_back(new_id[i]);
  }

  // A kernel body must be one element loop (graph/kernel.h); verify checks it too, but without a
  // line number.
  void check_kernel(const Graph& body, Pos pos) const {
    try {
      check_kernel_body(body);
    } catch (const Error& e) {
      error(pos, e.what());
    }
  }

  // Where sources may appear, and what must be unique: input names, param indices.
  void check_placement(const Node& n, Pos pos, bool top, std::unordered_map<std::string, Pos>& input_names,
                       std::unordered_map<int64_t, Pos>& param_indices) {
    if (n.op == Op::Input) {
      const std::string& name = n.attrs.s("name");
      if (!top)
        error(pos, fmt::format("input '{}' inside a scan body: inputs belong to the top-level graph, bodies use param",
                               name));
      if (auto [it, fresh] = input_names.emplace(name, pos); !fresh)
        error(pos, fmt::format("duplicate input name '{}' (first at {}:{})", name, it->second.line, it->second.col));
    }
    if (n.op == Op::Param) {
      if (top) error(pos, "param outside a scan body: the top-level graph takes its values with input");
      int64_t i = n.attrs.i("index");
      if (auto [it, fresh] = param_indices.emplace(i, pos); !fresh)
        error(pos, fmt::format("duplicate param index {} (first at {}:{})", i, it->second.line, it->second.col));
    }
  }

  // Depth-first, operands before users, roots in text order, so text that is already ordered keeps
  // its order. Iterative: a long chain must not overflow the stack.
  std::vector<size_t> topological_order(const std::vector<RawNode>& raw,
                                        const std::vector<std::vector<size_t>>& operands) {
    enum : uint8_t { kNew, kOnPath, kDone };
    std::vector<uint8_t> state(raw.size(), kNew);
    std::vector<size_t> order;
    order.reserve(raw.size());
    std::vector<std::pair<size_t, size_t>> stack;  // (node, next operand to visit)
    for (size_t root = 0; root < raw.size(); ++root) {
      if (state[root] != kNew) continue;
      stack.push_back({root, 0});
      state[root] = kOnPath;
      while (!stack.empty()) {
        auto& [n, k] = stack.back();
        if (k == operands[n].size()) {
          state[n] = kDone;
          order.push_back(n);
          stack.pop_back();
          continue;
        }
        size_t o = operands[n][k++];
        if (state[o] == kOnPath) cycle_error(raw, stack, o, raw[n].operands[k - 1].second);
        if (state[o] == kNew) {
          state[o] = kOnPath;
          stack.push_back({o, 0});
        }
      }
    }
    return order;
  }

  [[noreturn]] void cycle_error(const std::vector<RawNode>& raw, const std::vector<std::pair<size_t, size_t>>& stack,
                                size_t back_to, Pos use) {
    std::string path;
    bool on = false;
    for (auto& [n, k] : stack) {
      on = on || n == back_to;
      if (on) path += fmt::format("%{} -> ", raw[n].id);
    }
    error(use, fmt::format("cycle: {}%{}", path, raw[back_to].id));
  }
};

}  // namespace

std::string print_graph(const Graph& g) { return Printer().print(g); }

Graph parse_graph(std::string_view text, const std::string& filename) { return Parser(text, filename).parse(); }

Graph load_graph(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("cannot read {}: it is a directory", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot read {}: {}", path, std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  bool bad = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (bad) fail("cannot read {}: {}", path, std::strerror(err));
  return parse_graph(text, path);
}

}  // namespace sf
