#include "graph/attrs.h"

#include <algorithm>
#include <functional>

namespace sf {

void Attrs::set(const std::string& key, AttrValue v) {
  auto it = std::lower_bound(items_.begin(), items_.end(), key, [](auto& p, const std::string& k) { return p.first < k; });
  if (it != items_.end() && it->first == key)
    it->second = std::move(v);
  else
    items_.insert(it, {key, std::move(v)});
}

const AttrValue* Attrs::find(const std::string& key) const {
  auto it = std::lower_bound(items_.begin(), items_.end(), key, [](auto& p, const std::string& k) { return p.first < k; });
  return it != items_.end() && it->first == key ? &it->second : nullptr;
}

static bool value_equal(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  if (auto* ta = std::get_if<TensorPtr>(&a)) {
    auto& tb = std::get<TensorPtr>(b);
    return *ta == tb || (*ta && tb && (*ta)->bit_equal(*tb));
  }
  if (auto* da = std::get_if<double>(&a)) {  // bitwise: -0.0 != 0.0, NaN == NaN
    double db = std::get<double>(b);
    return std::memcmp(da, &db, sizeof db) == 0;
  }
  return a == b;
}

bool Attrs::operator==(const Attrs& o) const {
  if (items_.size() != o.items_.size()) return false;
  for (size_t i = 0; i < items_.size(); ++i)
    if (items_[i].first != o.items_[i].first || !value_equal(items_[i].second, o.items_[i].second)) return false;
  return true;
}

size_t Attrs::hash() const {
  size_t h = items_.size();
  auto mix = [&](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  for (auto& [k, v] : items_) {
    mix(std::hash<std::string>{}(k));
    mix(v.index());
    if (auto* t = std::get_if<TensorPtr>(&v)) {
      if (*t) mix(std::hash<std::string_view>{}({static_cast<const char*>((*t)->raw()), size_t((*t)->bytes())}));
    } else if (auto* i = std::get_if<int64_t>(&v)) {
      mix(std::hash<int64_t>{}(*i));
    } else if (auto* d = std::get_if<double>(&v)) {
      uint64_t bits;
      std::memcpy(&bits, d, 8);
      mix(bits);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      mix(std::hash<std::string>{}(*s));
    } else if (auto* is = std::get_if<std::vector<int64_t>>(&v)) {
      for (auto x : *is) mix(std::hash<int64_t>{}(x));
    }
  }
  return h;
}

}  // namespace sf
