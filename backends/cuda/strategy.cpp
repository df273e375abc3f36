#include "backends/cuda/strategy.h"

#include <algorithm>
#include <cstdint>

#include "backends/cuda/elementwise.h"
#include "graph/error.h"

namespace sf::cuda {
namespace {

constexpr Strategy kAll[] = {Strategy::Elementwise, Strategy::Persistent, Strategy::Graph, Strategy::Launch};

// One block of 1024 threads runs a step whose widest op has at most this many elements: its
// barriers are __syncthreads, far cheaper than grid-wide ones.
constexpr int64_t kOneBlock = 8192;
// Steps wider than this use the graph strategy by default (their launches cost little beside the work).
constexpr int64_t kPersistentMax = int64_t{1} << 20;

bool has_nested_scan(const std::vector<Step>& steps) {
  for (const Step& s : steps)
    if (s.kind == StepKind::Scan) return true;
  return false;
}

bool has_cublas_matmul(const std::vector<Step>& steps, const KernelProgram& p, int64_t min_flops) {
  for (const Step& s : steps) {
    if (s.kind != StepKind::Matmul) continue;
    DType d = p.buffers[static_cast<size_t>(s.matmul.out)].dtype;
    if (uses_cublas(s.matmul, d, min_flops)) return true;
  }
  return false;
}

}  // namespace

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::Launch: return "launch";
    case Strategy::Graph: return "graph";
    case Strategy::Persistent: return "persistent";
    case Strategy::Elementwise: return "elementwise";
  }
  return "?";
}

Strategy parse_strategy(const std::string& name) {
  for (Strategy s : kAll)
    if (name == strategy_name(s)) return s;
  fail("unknown scan strategy '{}' (elementwise, persistent, graph, launch)", name);
}

bool uses_cublas(const MatmulStep& m, DType d, int64_t min_flops) {
  return is_float(d) && m.m * m.n * m.k >= min_flops && std::max({m.m, m.n, m.k}) < INT32_MAX;
}

int64_t widest_op(const std::vector<Step>& steps) {
  int64_t w = 1;
  for (const Step& s : steps) {
    switch (s.kind) {
      case StepKind::Kernel: w = std::max(w, s.kernel.n); break;
      case StepKind::Copy: w = std::max(w, s.copy.rows * s.copy.elems); break;
      case StepKind::Matmul: w = std::max(w, s.matmul.m * s.matmul.n); break;
      default: break;
    }
  }
  return w;
}

std::string strategy_blocker(Strategy s, const KernelProgram& p, const ScanRegion& r, bool top, bool cooperative,
                             int64_t cublas_min_flops) {
  if (s == Strategy::Launch) return "";
  if (!top) return "it is nested in another scan";
  if (has_nested_scan(r.body)) return "its body has a nested scan";
  if (has_cublas_matmul(r.body, p, cublas_min_flops)) return "its body has a matmul large enough for cuBLAS";
  if (s == Strategy::Elementwise) return plan_elementwise(p, r).blocker;
  if (s == Strategy::Persistent && widest_op(r.body) > kOneBlock && !cooperative)
    return "the device cannot launch cooperative kernels";
  return "";
}

Strategy choose_strategy(const KernelProgram& p, const ScanRegion& r, bool top, const std::string& requested,
                         bool cooperative, int64_t cublas_min_flops, std::string* why) {
  Strategy want;
  if (!requested.empty())
    want = parse_strategy(requested);
  else if (r.cls == "elementwise")
    want = Strategy::Elementwise;
  else
    want = widest_op(r.body) > kPersistentMax ? Strategy::Graph : Strategy::Persistent;
  std::string reasons;
  bool started = false;
  for (Strategy s : kAll) {
    if (s == want) started = true;
    if (!started) continue;
    std::string b = strategy_blocker(s, p, r, top, cooperative, cublas_min_flops);
    if (b.empty()) {
      *why = requested.empty() ? (reasons.empty() ? fmt::format("chosen for a {} scan", r.cls.empty() ? "plain" : r.cls)
                                                  : "chosen;" + reasons)
                               : (s == want ? "requested" : "requested " + requested + " but" + reasons);
      return s;
    }
    reasons += fmt::format(" {} does not apply: {};", strategy_name(s), b);
  }
  return Strategy::Launch;
}

bool fits_one_block(const std::vector<Step>& steps) { return widest_op(steps) <= kOneBlock; }

}  // namespace sf::cuda
