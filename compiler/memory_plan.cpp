#include "compiler/memory_plan.h"

#include <algorithm>
#include <limits>

#include "graph/error.h"

namespace sf {
namespace {

constexpr int64_t kAlign = 64;
int64_t aligned(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// A stretch of the step list: the top level, a region, and a region's prologue and body. Positions
// inside a scope lie in [begin, end].
struct Scope {
  int parent = -1, depth = 0;
  int64_t begin = 0, end = 0;
};

struct Access {
  int buf;
  int64_t pos;
  int scope;
};

// The buffers kernel `k` reads only at the element it writes: a map kernel that stores every
// output at the loop index and loads these at the loop index too.
std::vector<int> same_element_reads(const Kernel& k, const std::vector<Buffer>& buffers) {
  if (k.kind != KernelKind::Map) return {};
  auto at_index = [&](const Inst& in, int64_t elements) {
    return in.a >= 0 && k.body[static_cast<size_t>(in.a)].kind == InstKind::Index && elements == k.n;
  };
  std::vector<int> safe, unsafe, stores;
  bool stored = false;
  for (const Inst& in : k.body) {
    if (in.kind == InstKind::Store) {
      if (!at_index(in, buffers[static_cast<size_t>(in.buf)].elements())) return {};
      stored = true;
      stores.push_back(in.buf);
    }
    if (in.kind != InstKind::Load) continue;
    // A load after a store of the same element would read what the store put there.
    (at_index(in, buffers[static_cast<size_t>(in.buf)].elements()) && !stored ? safe : unsafe).push_back(in.buf);
  }
  std::erase_if(safe, [&](int b) { return std::find(unsafe.begin(), unsafe.end(), b) != unsafe.end(); });
  // Element i of a buffer with another element size lies at other bytes (a bool read, an f32
  // written over it): only reads as wide as every store are safe.
  auto width = [&](int b) { return dtype_size(buffers[static_cast<size_t>(b)].dtype); };
  std::erase_if(safe, [&](int b) {
    return std::any_of(stores.begin(), stores.end(), [&](int o) { return width(o) != width(b); });
  });
  return safe;
}

class Liveness {
 public:
  explicit Liveness(const KernelProgram& p) : p_(p) {
    scopes_.push_back(Scope{});
    walk(p.steps, 0);
    scopes_[0].end = pos_;
  }

  // Pairs (a, b): a kernel reads a only at the element where it writes b. If a dies there, b may
  // take a's storage, but only exactly: shifted, the write of element i would land on an element
  // of a that a later iteration (or another thread) still reads.
  const std::vector<std::pair<int, int>>& same_element() const { return same_element_; }

  // [first, last] position of each buffer (-1, -1 if unused).
  std::vector<std::pair<int64_t, int64_t>> intervals() const {
    size_t n = p_.buffers.size();
    std::vector<int> home(n, -1);
    for (const Access& a : acc_) {
      int& h = home[static_cast<size_t>(a.buf)];
      h = h < 0 ? a.scope : common(h, a.scope);
    }
    std::vector<std::pair<int64_t, int64_t>> live(n, {std::numeric_limits<int64_t>::max(), -1});
    for (const Access& a : acc_) {
      int h = home[static_cast<size_t>(a.buf)];
      int64_t lo = a.pos, hi = a.pos;
      // An access in a region nested in the buffer's home counts for the whole region.
      if (a.scope != h) {
        int s = a.scope;
        while (scopes_[static_cast<size_t>(s)].parent != h) s = scopes_[static_cast<size_t>(s)].parent;
        lo = scopes_[static_cast<size_t>(s)].begin, hi = scopes_[static_cast<size_t>(s)].end;
      }
      auto& l = live[static_cast<size_t>(a.buf)];
      l.first = std::min(l.first, lo), l.second = std::max(l.second, hi);
    }
    for (int r : p_.results) live[static_cast<size_t>(r)].second = pos_;  // handed back at the end
    for (auto [a, b] : tied_) {
      auto &x = live[static_cast<size_t>(a)], &y = live[static_cast<size_t>(b)];
      x.first = y.first = std::min(x.first, y.first);
      x.second = y.second = std::max(x.second, y.second);
    }
    for (auto& l : live)
      if (l.second < 0) l = {-1, -1};
    return live;
  }

 private:
  int common(int a, int b) const {
    while (scopes_[static_cast<size_t>(a)].depth > scopes_[static_cast<size_t>(b)].depth) a = scopes_[static_cast<size_t>(a)].parent;
    while (scopes_[static_cast<size_t>(b)].depth > scopes_[static_cast<size_t>(a)].depth) b = scopes_[static_cast<size_t>(b)].parent;
    while (a != b) a = scopes_[static_cast<size_t>(a)].parent, b = scopes_[static_cast<size_t>(b)].parent;
    return a;
  }
  int scope(int parent) {
    scopes_.push_back(Scope{parent, scopes_[static_cast<size_t>(parent)].depth + 1, pos_, pos_});
    return static_cast<int>(scopes_.size()) - 1;
  }
  void at(int buf, int64_t pos, int s) { acc_.push_back(Access{buf, pos, s}); }

  // Every step takes two positions: reads at the first, writes at the second. A read that must
  // not share storage with the writes (anything but a same-element read) is placed at the second.
  void walk(const std::vector<Step>& steps, int s) {
    for (const Step& st : steps) {
      int64_t r = pos_, w = pos_ + 1;
      pos_ += 2;
      switch (st.kind) {
        case StepKind::Kernel: {
          const Kernel& k = st.kernel;
          std::vector<int> safe = same_element_reads(k, p_.buffers);
          for (auto* list : {&k.body, &k.inner})
            for (const Inst& in : *list) {
              if (in.kind == InstKind::Load)
                at(in.buf, std::find(safe.begin(), safe.end(), in.buf) != safe.end() ? r : w, s);
              if (in.kind == InstKind::Store) {
                at(in.buf, w, s);
                for (int a : safe) same_element_.emplace_back(a, in.buf);
              }
            }
          if (k.offsets >= 0) at(k.offsets, w, s), at(k.order, w, s);
          break;
        }
        case StepKind::Matmul: at(st.matmul.a, w, s), at(st.matmul.b, w, s), at(st.matmul.out, w, s); break;
        case StepKind::Copy: at(st.copy.src, w, s), at(st.copy.dst, w, s); break;
        case StepKind::Segments:
          at(st.segments.index, w, s), at(st.segments.offsets, w, s), at(st.segments.order, w, s);
          break;
        case StepKind::Scan: region(st.scan, s, r); break;
      }
    }
  }

  void region(const ScanRegion& g, int parent, int64_t begin) {
    int R = scope(parent);
    scopes_[static_cast<size_t>(R)].begin = begin;
    // What the region itself touches (before, during and after its steps) is live throughout.
    auto whole = [&](int64_t pos) {
      for (const ScanCarry& c : g.carries) {
        at(c.state, pos, R);
        if (c.next >= 0) at(c.next, pos, R);
      }
      for (const ScanXs& x : g.xs) at(x.xs, pos, R);
      for (const ScanOutput& y : g.ys) at(y.out, pos, R);
    };
    for (const ScanCarry& c : g.carries) at(c.init, begin, R);
    whole(begin);
    int P = scope(R);
    walk(g.prologue, P);
    scopes_[static_cast<size_t>(P)].end = pos_;
    int B = scope(R);
    walk(g.body, B);
    for (const ScanOutput& y : g.ys) at(y.value, pos_, B);  // recorded after the body
    pos_ += 2;
    scopes_[static_cast<size_t>(B)].end = pos_;
    whole(pos_);
    scopes_[static_cast<size_t>(R)].end = pos_;
    pos_ += 2;
    for (const ScanCarry& c : g.carries)
      if (c.next >= 0) tied_.emplace_back(c.state, c.next);
  }

  const KernelProgram& p_;
  std::vector<Scope> scopes_;
  std::vector<std::pair<int, int>> same_element_;  // (read, written) by one kernel at the same element
  std::vector<Access> acc_;
  std::vector<std::pair<int, int>> tied_;
  int64_t pos_ = 0;
};

}  // namespace

void plan_memory(KernelProgram& p) {
  Liveness liveness(p);
  std::vector<std::pair<int64_t, int64_t>> live = liveness.intervals();
  MemoryPlan plan;
  std::vector<int> order;
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    Buffer& b = p.buffers[i];
    b.offset = -1;
    if (b.role == BufferRole::Input) plan.input_bytes += b.bytes();
    if (b.role == BufferRole::Const) plan.const_bytes += b.bytes();
    if (!b.in_arena() || live[i].second < 0) continue;
    order.push_back(static_cast<int>(i));
    plan.unshared_bytes += aligned(b.bytes());
    ++plan.arena_buffers;
  }
  // First fit in order of first use (larger first on ties): each buffer takes the lowest offset
  // free of every placed buffer live at the same time.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    auto &la = live[static_cast<size_t>(a)], &lb = live[static_cast<size_t>(b)];
    if (la.first != lb.first) return la.first < lb.first;
    return p.buffers[static_cast<size_t>(a)].bytes() > p.buffers[static_cast<size_t>(b)].bytes();
  });
  std::vector<int> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // (offset, end) of the placed buffers live now
  std::vector<std::pair<int64_t, int64_t>> exact;  // and of those b may share only exactly
  auto partners = [&](int a, int b) {
    auto& pairs = liveness.same_element();
    return std::find(pairs.begin(), pairs.end(), std::make_pair(a, b)) != pairs.end();
  };
  for (int id : order) {
    Buffer& b = p.buffers[static_cast<size_t>(id)];
    auto [lo, hi] = live[static_cast<size_t>(id)];
    int64_t size = aligned(b.bytes());
    busy.clear();
    exact.clear();
    for (int o : placed) {
      auto [olo, ohi] = live[static_cast<size_t>(o)];
      const Buffer& ob = p.buffers[static_cast<size_t>(o)];
      std::pair<int64_t, int64_t> range{ob.offset, ob.offset + aligned(ob.bytes())};
      if (olo <= hi && lo <= ohi)
        busy.push_back(range);
      else if (partners(o, id))
        exact.push_back(range);
    }
    // Free of every live buffer, and of every same-element partner unless exactly on it.
    auto overlaps = [&](int64_t at, std::pair<int64_t, int64_t> r) { return r.first < at + size && at < r.second; };
    auto fits = [&](int64_t at) {
      return std::none_of(busy.begin(), busy.end(), [&](auto r) { return overlaps(at, r); }) &&
             std::none_of(exact.begin(), exact.end(), [&](auto r) { return overlaps(at, r) && r.first != at; });
    };
    // Prefer a partner's storage (a chain of one-op kernels runs in two buffers); else first fit.
    std::sort(exact.begin(), exact.end());
    auto share = std::find_if(exact.begin(), exact.end(), [&](auto r) { return fits(r.first); });
    busy.insert(busy.end(), exact.begin(), exact.end());
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (auto [start, end] : busy) {
      if (at + size <= start) break;
      at = std::max(at, end);
    }
    if (share != exact.end()) at = share->first;
    b.offset = at;
    plan.peak_bytes = std::max(plan.peak_bytes, at + size);
    placed.push_back(id);
  }
  p.plan = plan;
}

}  // namespace sf
