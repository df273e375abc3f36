// Loop-invariant code motion: a scan-body node that depends only on the scan's captures (params
// after the carries and xs) and on constants computes the same value at every step, so it is
// computed once, before the scan, and passed in as a new capture (reusing a capture that already
// holds that value). Nested scans are processed first, so an invariant of an inner body that is
// also invariant in the outer body moves out of both; a nested scan whose operands are all
// invariant moves out whole.
//
// What stays inside: constants (const, fill, iota: free where they are, and fusion wants them
// inline), and broadcasts above kMaxHoistBroadcast elements (a broadcast costs nothing inside a
// fused loop, so hoisting a big one would only materialise it). Scans of length 0 are left alone
// (their bodies never run, so hoisting could evaluate what never was, e.g. a bad gather index).
// Captures no longer used inside are left for dce.
#pragma once
#include "compiler/pass.h"

namespace sf {

inline constexpr int64_t kMaxHoistBroadcast = int64_t{1} << 20;

class LicmPass : public Pass {
 public:
  const char* name() const override { return "licm"; }
  Graph run(const Graph& g, const CompileOptions& options) override;
};

}  // namespace sf
