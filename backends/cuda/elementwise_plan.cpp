#include "backends/cuda/elementwise.h"

#include <set>

#include "graph/error.h"

namespace sf::cuda {
namespace {

// How one buffer is reached in the body.
struct Uses {
  bool loads = false, stores = false;
  bool raw = true;       // every access at the thread's own element (the index itself)
  bool scalar = true;    // every access at element 0 (no index)
  bool uniform = true;   // every store's value is the same for all elements
  int store_insts = 0;
};

bool is_raw(const std::vector<Inst>& is, int a) { return a >= 0 && is[static_cast<size_t>(a)].kind == InstKind::Index; }

}  // namespace

ElementwisePlan plan_elementwise(const KernelProgram& p, const ScanRegion& r) {
  ElementwisePlan plan;
  auto no = [&](std::string why) {
    plan.blocker = std::move(why);
    return plan;
  };
  if (r.body.empty()) return no("the scan body is empty");
  std::map<int, Uses> uses;
  for (const Step& s : r.body) {
    if (s.kind != StepKind::Kernel || s.kernel.kind != KernelKind::Map)
      return no(fmt::format("the body has a {} step", s.kind == StepKind::Kernel ? kernel_kind_name(s.kernel.kind)
                                                                                 : step_kind_name(s.kind)));
    if (plan.n == 0) plan.n = s.kernel.n;
    if (s.kernel.n != plan.n) return no(fmt::format("the body's kernels differ in size ({} and {})", plan.n, s.kernel.n));
    const std::vector<Inst>& is = s.kernel.body;
    std::vector<bool> uni = uniform_insts(is);
    for (const Inst& in : is) {
      if (in.kind != InstKind::Load && in.kind != InstKind::Store) continue;
      Uses& u = uses[in.buf];
      (in.kind == InstKind::Load ? u.loads : u.stores) = true;
      // (in a kernel of one element, element 0 is the thread's own)
      if (!is_raw(is, in.a) && !(in.a < 0 && plan.n == 1)) u.raw = false;
      if (in.a >= 0) u.scalar = false;
      if (in.kind == InstKind::Store) {
        ++u.store_insts;
        if (!uni[static_cast<size_t>(in.b)]) u.uniform = false;
      }
    }
  }
  if (plan.n <= 0) return no("the body's kernels are empty");
  std::set<int> carried;
  for (const ScanCarry& c : r.carries)
    if (c.next >= 0) carried.insert(c.state), carried.insert(c.next);
  for (auto& [b, u] : uses) {
    const Buffer& buf = p.buffers[static_cast<size_t>(b)];
    Residence res;
    if (u.raw && buf.elements() >= plan.n && (u.stores || carried.count(b)))
      res = Residence::Private;
    else if (u.scalar && u.uniform && (u.stores || carried.count(b)))
      res = Residence::Scalar;
    else if (!u.stores && !carried.count(b))
      res = Residence::ReadOnly;
    else if (!u.loads && !carried.count(b))
      res = Residence::WriteOnly;
    else
      return no(fmt::format("buffer b{} ({}) is written and read at other elements than each thread's own", b, buf.name));
    if (res != Residence::ReadOnly && !buf.in_arena())
      return no(fmt::format("buffer b{} ({}) is written but lives outside the arena", b, buf.name));
    plan.buffers[b] = res;
  }
  // A double-buffered carry the body never touches still swaps: keep it in registers too.
  for (int b : carried)
    if (!plan.buffers.count(b)) {
      if (p.buffers[static_cast<size_t>(b)].elements() < plan.n)
        return no(fmt::format("carry b{} is smaller than the body's kernels", b));
      plan.buffers[b] = Residence::Private;
    }
  for (const ScanOutput& y : r.ys) {
    const Buffer& v = p.buffers[static_cast<size_t>(y.value)];
    auto it = plan.buffers.find(y.value);
    Residence res = it == plan.buffers.end() ? Residence::ReadOnly : it->second;
    if (res == Residence::ReadOnly) return no(fmt::format("per-step output b{} is not computed by the body", y.value));
    if (res == Residence::Private && v.elements() != plan.n)
      return no(fmt::format("per-step output b{} has {} elements, not {}", y.value, v.elements(), plan.n));
    if (res == Residence::Scalar && v.elements() != 1)
      return no(fmt::format("per-step output b{} is read at element 0 only", y.value));
    if (res == Residence::WriteOnly && y.mode == RecordMode::Events && uses[y.value].store_insts != 1)
      return no(fmt::format("events output b{} is stored more than once per element", y.value));
  }
  return plan;
}

}  // namespace sf::cuda
