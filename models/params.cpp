#include "models/params.h"

namespace sf {

Value param(Builder& b, const std::string& name, double v, DType d) { return b.input(name, Tensor::scalar(d, v)); }

Value param(Builder& b, const std::string& name, const std::vector<double>& values, DType d) {
  return b.input(name, Tensor::from(d, {static_cast<int64_t>(values.size())}, values));
}

Value index_param(Builder& b, const std::string& name, const std::vector<int64_t>& values) {
  return b.input(name, Tensor::from(DType::i64, {static_cast<int64_t>(values.size())}, values));
}

std::vector<double> repeat(double v, int64_t n) { return std::vector<double>(static_cast<size_t>(n), v); }

std::vector<double> join(std::vector<double> a, const std::vector<double>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace sf
