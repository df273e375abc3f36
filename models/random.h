// The project's own random numbers, so a seed gives the same network on every machine and compiler
// (the standard library's distributions differ between implementations).
//
// Generator: SplitMix64 (Steele, Lea & Flood 2014), a counter-based generator: draw i (0-based) of
// seed s is mix(s + (i + 1) * 0x9E3779B97F4A7C15), with mix the SplitMix64 finalizer.
// uniform(): the top 53 bits of a draw times 2^-53, in [0, 1).
// normal(): Box-Muller from two uniforms u1, u2 (in that order):
//           sqrt(-2 log(1 - u1)) * cos(2 pi u2); one normal per two uniforms, nothing cached.
// below(n): floor(uniform() * n), an integer in [0, n).
#pragma once
#include <cstdint>
#include <vector>

namespace sf {

class Rng {
 public:
  explicit Rng(uint64_t seed) : seed_(seed) {}

  uint64_t next();  // the next 64 random bits
  double uniform();
  double normal();
  int64_t below(int64_t n);

  // k distinct integers of [0, n), by a partial Fisher-Yates shuffle of 0..n-1: for i = 0..k-1,
  // swap element i with element i + below(n - i). Returned in draw order.
  std::vector<int64_t> choose(int64_t n, int64_t k);

  uint64_t draws() const { return counter_; }

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
};

}  // namespace sf
