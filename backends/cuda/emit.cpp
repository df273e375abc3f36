#include "backends/cuda/emit.h"

#include <cstring>

#include "backends/cuda/codegen.h"
#include "graph/error.h"

namespace sf::cuda {
namespace {

bool is_int_dtype(DType d) { return d == DType::i32 || d == DType::i64; }

// The unsigned type integer arithmetic wraps in.
const char* unsigned_of(DType d) { return d == DType::i32 ? "unsigned int" : "unsigned long long"; }

std::string unary_expr(Op op, DType d, const std::string& a) {
  const char* t = cuda_type(d);
  bool f32 = d == DType::f32;
  auto fn = [&](const char* name) { return fmt::format("{}{}({})", name, f32 ? "f" : "", a); };
  if (d == DType::b8) {
    if (op != Op::Not) internal_error("cuda codegen: {} on bool", op_name(op));
    return fmt::format("(unsigned char)({} ? 0 : 1)", a);
  }
  if (is_int_dtype(d)) {
    const char* u = unsigned_of(d);
    switch (op) {
      case Op::Neg: return fmt::format("({})(({})0 - ({}){})", t, u, u, a);
      case Op::Abs: return fmt::format("({} < 0 ? ({})(({})0 - ({}){}) : {})", a, t, u, u, a, a);
      default: return a;  // float math on integers is the identity (ops/scalar.h)
    }
  }
  switch (op) {
    case Op::Neg: return "-" + a;
    case Op::Abs: return fn("fabs");
    case Op::Exp: return fn("exp");
    case Op::Expm1: return fn("expm1");
    case Op::Log: return fn("log");
    case Op::Log1p: return fn("log1p");
    case Op::Sqrt: return fn("sqrt");
    case Op::Sin: return fn("sin");
    case Op::Cos: return fn("cos");
    case Op::Tanh: return fn("tanh");
    case Op::Floor: return fn("floor");
    case Op::Sigmoid:
      return f32 ? fmt::format("1.0f / (1.0f + expf(-{}))", a) : fmt::format("1.0 / (1.0 + exp(-{}))", a);
    default: internal_error("cuda codegen: {} is not a unary op", op_name(op));
  }
}

const char* compare_symbol(Op op) {
  switch (op) {
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    default: internal_error("cuda codegen: {} is not a comparison", op_name(op));
  }
}

// convert<To>(from) of ops/scalar.h.
std::string cast_expr(DType to, DType from, const std::string& a) {
  if (to == DType::b8) return fmt::format("(unsigned char)({} != 0 ? 1 : 0)", a);
  if (is_int_dtype(to) && is_float(from))
    return fmt::format("sf_sat<{}>({})", cuda_type(to), a);
  return fmt::format("({}){}", cuda_type(to), a);
}

// A finite float in the shortest text that reads back exactly (fmt's), always with a point or an
// exponent so that it stays a floating literal, parenthesised when its sign bit is set (-0.0 too).
template <class T>
std::string finite_literal(T v, const char* suffix) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return std::signbit(v) ? "(" + s + suffix + ")" : s + suffix;
}

}  // namespace

std::string const_literal(DType d, uint64_t bits) {
  switch (d) {
    case DType::f64: {
      double v;
      std::memcpy(&v, &bits, 8);
      if (std::isfinite(v)) return finite_literal(v, "");
      return fmt::format("__longlong_as_double(0x{:016x}LL)", bits);
    }
    case DType::f32: {
      float v;
      uint32_t b = static_cast<uint32_t>(bits);
      std::memcpy(&v, &b, 4);
      if (std::isfinite(v)) return finite_literal(v, "f");
      return fmt::format("__int_as_float(0x{:08x})", b);
    }
    case DType::i32: {
      int32_t v;
      uint32_t b = static_cast<uint32_t>(bits);
      std::memcpy(&v, &b, 4);
      return v == INT32_MIN ? "(-2147483647 - 1)" : fmt::format("({})", v);
    }
    case DType::i64: {
      int64_t v;
      std::memcpy(&v, &bits, 8);
      return v == INT64_MIN ? "(-9223372036854775807LL - 1)" : fmt::format("({}LL)", v);
    }
    case DType::b8: return (bits & 0xff) ? "(unsigned char)1" : "(unsigned char)0";
    default: internal_error("cuda codegen: constant of dtype {}", dtype_name(d));
  }
}

std::string binary_expr(Op op, DType d, const std::string& a, const std::string& b) {
  const char* t = cuda_type(d);
  if (d == DType::b8) {
    if (op == Op::And) return fmt::format("(unsigned char)(({} && {}) ? 1 : 0)", a, b);
    if (op == Op::Or) return fmt::format("(unsigned char)(({} || {}) ? 1 : 0)", a, b);
    internal_error("cuda codegen: {} on bool", op_name(op));
  }
  switch (op) {
    case Op::Min: return fmt::format("({1} < {0} ? {1} : {0})", a, b);
    case Op::Max: return fmt::format("({1} > {0} ? {1} : {0})", a, b);
    default: break;
  }
  if (is_int_dtype(d)) {
    const char* u = unsigned_of(d);
    const char* sym = op == Op::Add ? "+" : op == Op::Sub ? "-" : op == Op::Mul ? "*" : nullptr;
    if (sym) return fmt::format("({})(({}){} {} ({}){})", t, u, a, sym, u, b);
    if (op == Op::Div || op == Op::Pow) return a;  // float-only ops: the identity on integers
    internal_error("cuda codegen: {} on {}", op_name(op), dtype_name(d));
  }
  switch (op) {
    case Op::Add: return fmt::format("{} + {}", a, b);
    case Op::Sub: return fmt::format("{} - {}", a, b);
    case Op::Mul: return fmt::format("{} * {}", a, b);
    case Op::Div: return fmt::format("{} / {}", a, b);
    case Op::Pow: return fmt::format("{}({}, {})", d == DType::f32 ? "powf" : "pow", a, b);
    default: internal_error("cuda codegen: {} is not a binary op", op_name(op));
  }
}

std::string emit_list(const ListEmitter& e, const std::string& ind) {
  const std::vector<Inst>& is = *e.insts;
  auto v = [&](int i) { return e.prefix + std::to_string(i); };
  std::string s;
  for (size_t i = 0; i < is.size(); ++i) {
    const Inst& in = is[i];
    std::string name = v(static_cast<int>(i));
    const char* t = in.kind == InstKind::Store || in.kind == InstKind::Yield ? "" : cuda_type(in.dtype);
    auto def = [&](const std::string& expr) { s += fmt::format("{}const {} {} = {};\n", ind, t, name, expr); };
    switch (in.kind) {
      case InstKind::Index: def(e.index); break;
      case InstKind::Const: def(const_literal(in.dtype, in.bits)); break;
      case InstKind::Load: {
        std::string idx = in.a < 0 ? "" : v(in.a), expr;
        if (!e.load || !e.load(in, idx, &expr)) expr = fmt::format("{}[{}]", e.ptr(in.buf), in.a < 0 ? "0" : idx);
        def(expr);
        break;
      }
      case InstKind::Store: {
        std::string idx = in.a < 0 ? "" : v(in.a), stmt;
        if (!e.store || !e.store(in, idx, v(in.b), &stmt)) {
          if (in.a < 0)  // once per launch: by iteration 0
            stmt = fmt::format("if ({} == 0) {}[0] = {};", e.index, e.ptr(in.buf), v(in.b));
          else
            stmt = fmt::format("{}[{}] = {};", e.ptr(in.buf), idx, v(in.b));
        }
        s += ind + stmt + "\n";
        break;
      }
      case InstKind::Unary: def(unary_expr(in.op, in.dtype, v(in.a))); break;
      case InstKind::Binary: def(binary_expr(in.op, in.dtype, v(in.a), v(in.b))); break;
      case InstKind::Compare:
        def(fmt::format("(unsigned char)({} {} {} ? 1 : 0)", v(in.a), compare_symbol(in.op), v(in.b)));
        break;
      case InstKind::Select: def(fmt::format("{} ? {} : {}", v(in.a), v(in.b), v(in.c))); break;
      case InstKind::Cast: def(cast_expr(in.dtype, is[static_cast<size_t>(in.a)].dtype, v(in.a))); break;
      case InstKind::Div: def(fmt::format("{} / {}LL", v(in.a), in.imm)); break;
      case InstKind::Rem: def(fmt::format("{} % {}LL", v(in.a), in.imm)); break;
      case InstKind::Check:  // out of range: report, and carry on at element 0 (never out of bounds)
        def(fmt::format("sf_check(c, {}, {}, {}LL, {})", e.check_id(in), v(in.a), in.imm, v(in.b)));
        break;
      case InstKind::Acc: def(fmt::format("acc{}", in.imm)); break;
      case InstKind::Yield: s += fmt::format("{}// yield {} to acc{}\n", ind, v(in.a), in.imm); break;
    }
  }
  return s;
}

}  // namespace sf::cuda
