// A dense, row-major tensor with a runtime dtype: constants, input values, interpreter buffers.
#pragma once
#include <cstring>
#include <vector>

#include "graph/types.h"

namespace sf {

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape);  // zero-filled

  static Tensor scalar(DType dtype, double v);
  static Tensor filled(DType dtype, Shape shape, double v);
  template <class T>
  static Tensor from(DType dtype, Shape shape, const std::vector<T>& values);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  Type type() const { return Type::tensor(dtype_, shape_); }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t size() const { return size_; }
  int64_t bytes() const { return size_ * dtype_size(dtype_); }

  template <class T>
  T* data() { return reinterpret_cast<T*>(store_.data()); }
  template <class T>
  const T* data() const { return reinterpret_cast<const T*>(store_.data()); }
  void* raw() { return store_.data(); }
  const void* raw() const { return store_.data(); }

  // Element i converted to double (bool -> 0/1); for printing and tests.
  double get(int64_t i) const;
  void set(int64_t i, double v);

  // Re-type in place, keeping the allocation when it is large enough (interpreter buffer reuse).
  void reset(DType dtype, const Shape& shape);
  Tensor reshaped(Shape shape) const;

  bool bit_equal(const Tensor& o) const;
  bool all_equal_to_first() const;  // every element has the bits of element 0 (splat)

 private:
  DType dtype_ = DType::f64;
  Shape shape_;
  int64_t size_ = 0;
  std::vector<uint64_t> store_;  // 8-byte aligned storage
};

template <class T>
Tensor Tensor::from(DType dtype, Shape shape, const std::vector<T>& values) {
  Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t.set(i, static_cast<double>(values.at(static_cast<size_t>(i))));
  return t;
}

// Calls f(T*) with the tensor's data typed by its dtype (bool as uint8_t).
template <class F>
decltype(auto) visit_dtype(DType d, F&& f) {
  switch (d) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    case DType::b8: return f(uint8_t{});
    case DType::tuple: break;
  }
  return f(double{});
}

}  // namespace sf
