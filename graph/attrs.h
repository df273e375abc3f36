// Node attributes: a small sorted map from name to value.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "graph/tensor.h"

namespace sf {

using TensorPtr = std::shared_ptr<const Tensor>;
using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<std::string>, DType, TensorPtr>;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items) {
    for (auto& [k, v] : items) set(k, v);
  }

  void set(const std::string& key, AttrValue v);
  bool has(const std::string& key) const { return find(key) != nullptr; }
  const AttrValue* find(const std::string& key) const;

  int64_t i(const std::string& key) const { return get<int64_t>(key); }
  double f(const std::string& key) const { return get<double>(key); }
  const std::string& s(const std::string& key) const { return get<std::string>(key); }
  const std::vector<int64_t>& ints(const std::string& key) const { return get<std::vector<int64_t>>(key); }
  const std::vector<std::string>& strs(const std::string& key) const { return get<std::vector<std::string>>(key); }
  DType dtype(const std::string& key) const { return get<DType>(key); }
  const Tensor& tensor(const std::string& key) const { return *get<TensorPtr>(key); }

  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  bool operator==(const Attrs& o) const;
  size_t hash() const;

 private:
  template <class T>
  const T& get(const std::string& key) const;
  std::vector<std::pair<std::string, AttrValue>> items_;  // sorted by key
};

template <class T>
const T& Attrs::get(const std::string& key) const {
  const AttrValue* v = find(key);
  if (!v || !std::holds_alternative<T>(*v)) throw std::logic_error("missing or mistyped attribute '" + key + "'");
  return std::get<T>(*v);
}

}  // namespace sf
