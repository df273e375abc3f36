#include "graph/types.h"

#include <fmt/ranges.h>

#include "graph/error.h"

namespace sf {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::b8: return "bool";
    case DType::tuple: return "tuple";
  }
  return "?";
}

bool parse_dtype(std::string_view s, DType* out) {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::b8}) {
    if (s == dtype_name(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

int64_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::b8: return 1;
    case DType::tuple: break;
  }
  internal_error("dtype_size of a tuple");
}

int64_t num_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t num_elements(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t d = from; d < to; ++d) n *= s[d];
  return n;
}

size_t norm_axis(int64_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
}

Strides row_strides(const Shape& s) {
  if (s.size() > static_cast<size_t>(kMaxRank)) internal_error("rank {} exceeds the maximum rank {}", s.size(), kMaxRank);
  Strides st{};
  int64_t acc = 1;
  for (size_t d = s.size(); d-- > 0;) {
    st[d] = acc;
    acc *= s[d];
  }
  return st;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

std::string type_str(const Type& t) {
  if (!t.is_tuple()) return fmt::format("{}{}", dtype_name(t.dtype), shape_str(t.shape));
  std::vector<std::string> parts;
  for (const Type& e : t.elems) parts.push_back(type_str(e));
  return fmt::format("({})", fmt::join(parts, ", "));
}

}  // namespace sf
