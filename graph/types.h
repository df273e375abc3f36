// Element types, shapes and value types of the graph IR.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

enum class DType : uint8_t { f32, f64, i32, i64, b8, tuple };

inline constexpr int kMaxRank = 6;
// No tensor may have more elements than this (keeps every size computation far from overflow).
inline constexpr int64_t kMaxElements = int64_t{1} << 48;

using Shape = std::vector<int64_t>;

const char* dtype_name(DType t);                  // "f32", ..., "bool", "tuple"
bool parse_dtype(std::string_view s, DType* out);  // inverse of dtype_name (not tuple)
int64_t dtype_size(DType t);                       // bytes per element
inline bool is_float(DType t) { return t == DType::f32 || t == DType::f64; }
inline bool is_int(DType t) { return t == DType::i32 || t == DType::i64; }

int64_t num_elements(const Shape& s);
// Elements in dimensions [from, to) of s: 1 for an empty range.
int64_t num_elements(const Shape& s, size_t from, size_t to);
// An axis attribute as a dimension index: a negative axis counts from the back.
size_t norm_axis(int64_t axis, size_t rank);
// Row-major strides in elements (the last dimension's is 1). A fixed array, so kernels in a scan
// body do not allocate at every step; entries past the rank are 0.
using Strides = std::array<int64_t, kMaxRank>;
Strides row_strides(const Shape& s);
std::string shape_str(const Shape& s);  // "[3,4]", "[]" for scalars

// The type of a node's result: a tensor (dtype + static shape) or, for scan, a tuple of tensors
// that `get` nodes take apart.
struct Type {
  DType dtype = DType::f64;
  Shape shape;
  std::vector<Type> elems;  // only for tuples

  static Type tensor(DType d, Shape s) { return Type{d, std::move(s), {}}; }
  static Type tuple(std::vector<Type> e) { return Type{DType::tuple, {}, std::move(e)}; }
  bool is_tuple() const { return dtype == DType::tuple; }
  int rank() const { return static_cast<int>(shape.size()); }
  int64_t elements() const { return num_elements(shape); }
  bool operator==(const Type&) const = default;
};

std::string type_str(const Type& t);  // "f64[3,4]", "(f64[3], i64[])"

}  // namespace sf
