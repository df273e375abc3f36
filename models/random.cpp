#include "models/random.h"

#include <cmath>
#include <numeric>
#include <utility>

#include "graph/error.h"

namespace sf {

uint64_t Rng::next() {
  uint64_t z = seed_ + (++counter_) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  double u1 = uniform();
  double u2 = uniform();
  const double two_pi = 6.283185307179586;
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(two_pi * u2);
}

int64_t Rng::below(int64_t n) {
  if (n <= 0) internal_error("Rng::below({})", n);
  auto r = static_cast<int64_t>(uniform() * static_cast<double>(n));
  return r < n ? r : n - 1;
}

std::vector<int64_t> Rng::choose(int64_t n, int64_t k) {
  if (k < 0 || k > n) fail("cannot choose {} of {} without replacement", k, n);
  std::vector<int64_t> pool(static_cast<size_t>(n));
  std::iota(pool.begin(), pool.end(), 0);
  for (int64_t i = 0; i < k; ++i) std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(i + below(n - i))]);
  pool.resize(static_cast<size_t>(k));
  return pool;
}

}  // namespace sf
