#include "graph/tensor.h"

#include "graph/error.h"
#include "ops/scalar.h"

namespace sf {

Tensor::Tensor(DType dtype, Shape shape) { reset(dtype, shape); }

void Tensor::reset(DType dtype, const Shape& shape) {
  if (dtype == DType::tuple) internal_error("a tensor cannot hold a tuple");
  dtype_ = dtype;
  shape_ = shape;
  size_ = num_elements(shape_);
  size_t words = static_cast<size_t>((size_ * dtype_size(dtype) + 7) / 8);
  if (store_.size() < words) store_.resize(words);
}

Tensor Tensor::scalar(DType dtype, double v) { return filled(dtype, {}, v); }

Tensor Tensor::filled(DType dtype, Shape shape, double v) {
  Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t.set(i, v);
  return t;
}

double Tensor::get(int64_t i) const {
  return visit_dtype(dtype_, [&](auto z) { return static_cast<double>(data<decltype(z)>()[i]); });
}

void Tensor::set(int64_t i, double v) {
  visit_dtype(dtype_, [&](auto z) {
    using T = decltype(z);
    data<T>()[i] = convert<T>(v);
  });
}

Tensor Tensor::reshaped(Shape shape) const {
  Tensor t = *this;
  if (num_elements(shape) != size_) internal_error("reshape changes the element count");
  t.shape_ = std::move(shape);
  return t;
}

bool Tensor::bit_equal(const Tensor& o) const {
  return dtype_ == o.dtype_ && shape_ == o.shape_ &&
         (bytes() == 0 || std::memcmp(raw(), o.raw(), static_cast<size_t>(bytes())) == 0);
}

bool Tensor::all_equal_to_first() const {
  int64_t w = dtype_size(dtype_);
  auto* p = static_cast<const unsigned char*>(raw());
  for (int64_t i = 1; i < size_; ++i)
    if (std::memcmp(p, p + i * w, static_cast<size_t>(w)) != 0) return false;
  return true;
}

}  // namespace sf
