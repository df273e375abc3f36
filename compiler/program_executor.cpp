// The reference executor. Every buffer is a pointer (arena buffers at their planned offsets, inputs
// at the bound tensors, rows at row k of their xs); a kernel runs its instructions one at a time
// over chunks of iterations (each instruction a typed loop over the chunk), so the per-element
// work is the scalar semantics of ops/scalar.h and nothing else.
//
// Reduce and SegmentSum kernels list the source elements of a chunk of outputs in order, compute
// the inner instructions over that list, and fold each value into its output's accumulator in list
// order: per output, the interpreter's summation order.
#include "compiler/program_executor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "graph/error.h"
#include "ops/scalar.h"

namespace sf {
namespace {

constexpr int64_t kChunk = 128;

void copy_bytes(void* dst, const void* src, int64_t n) {
  if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n));
}

// ---- typed loops -----------------------------------------------------------------------------

// Unsigned words of an element's width: loads, stores and selects only move bits.
template <class F>
decltype(auto) visit_width(DType d, F&& f) {
  switch (dtype_size(d)) {
    case 1: return f(uint8_t{});
    case 4: return f(uint32_t{});
    default: return f(uint64_t{});
  }
}

template <class T>
void unary(Op op, T* r, const T* a, int64_t sa, int64_t n) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    if (op != Op::Not) internal_error("executor: {} on bool", op_name(op));
    for (int64_t j = 0; j < n; ++j) r[j] = sm::lnot(a[j * sa]);
  } else {
    switch (op) {
#define SF_UNARY(E, name, dt, expr)                           \
  case Op::E: {                                               \
    constexpr UnaryFn<T> f = unary_fn<T>(Op::E);              \
    for (int64_t j = 0; j < n; ++j) r[j] = f(a[j * sa]);      \
    return;                                                   \
  }
#include "ops/ops.def"
      default: internal_error("executor: {} is not a unary op", op_name(op));
    }
  }
}

template <class T>
void binary(Op op, T* r, const T* a, int64_t sa, const T* b, int64_t sb, int64_t n) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    if (op == Op::And)
      for (int64_t j = 0; j < n; ++j) r[j] = sm::land(a[j * sa], b[j * sb]);
    else if (op == Op::Or)
      for (int64_t j = 0; j < n; ++j) r[j] = sm::lor(a[j * sa], b[j * sb]);
    else
      internal_error("executor: {} on bool", op_name(op));
  } else {
    switch (op) {
#define SF_BINARY(E, name, dt, comm, expr)                            \
  case Op::E: {                                                       \
    constexpr BinaryFn<T> f = binary_fn<T>(Op::E);                    \
    for (int64_t j = 0; j < n; ++j) r[j] = f(a[j * sa], b[j * sb]);   \
    return;                                                           \
  }
#include "ops/ops.def"
      default: internal_error("executor: {} is not a binary op", op_name(op));
    }
  }
}

template <class T>
void compare(Op op, uint8_t* r, const T* a, int64_t sa, const T* b, int64_t sb, int64_t n) {
  switch (op) {
#define SF_COMPARE(E, name, expr)                                              \
  case Op::E: {                                                                \
    constexpr CompareFn<T> f = compare_fn<T>(Op::E);                           \
    for (int64_t j = 0; j < n; ++j) r[j] = f(a[j * sa], b[j * sb]) ? 1 : 0;    \
    return;                                                                    \
  }
#include "ops/ops.def"
    default: internal_error("executor: {} is not a comparison", op_name(op));
  }
}

// ---- prepared kernels ------------------------------------------------------------------------

// One instruction list ready to run: a register array of kChunk slots per instruction; an
// instruction that depends on no per-iteration value is computed once per launch.
struct List {
  const std::vector<Inst>* insts = nullptr;
  std::vector<uint64_t> regs;
  std::vector<bool> uniform;
  std::vector<int> once, each;  // instruction numbers: once per launch, per chunk

  void prepare(const std::vector<Inst>& is) {
    insts = &is;
    regs.assign(is.size() * kChunk, 0);
    uniform = uniform_insts(is);
    for (size_t i = 0; i < is.size(); ++i) (uniform[i] ? once : each).push_back(static_cast<int>(i));
  }
  uint64_t* reg(int i) { return regs.data() + static_cast<size_t>(i) * kChunk; }
  int64_t stride(int i) const { return uniform[static_cast<size_t>(i)] ? 0 : 1; }
};

struct Prepared {
  List body, inner;
  std::vector<std::vector<uint64_t>> acc;  // per accumulator: kChunk slots
  std::vector<uint8_t> started;            // per accumulator and slot: has its first value (max/min)
  std::vector<int64_t> sources, slot;      // the listed source elements and their output slots
  std::vector<int> yields;                 // per accumulator: the yielded instruction
};

class Executor {
 public:
  Executor(const KernelProgram& p, const RunOptions& o) : p_(p), opt_(o) {}
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs);

 private:
  void bind(const std::map<std::string, Tensor>& inputs);
  void steps(const std::vector<Step>& ss);
  void kernel(const Kernel& k);
  void eval(List& l, const std::vector<int>& which, int64_t start, const int64_t* index, int64_t n,
            const Prepared* acc);
  void inst(List& l, int i, int64_t start, const int64_t* index, int64_t n, const Prepared* acc);
  void fold(const Kernel& k, Prepared& pk, int64_t m);
  void matmul(const MatmulStep& m);
  void copy(const CopyStep& c);
  void segments(const SegmentsStep& s);
  void scan(const ScanRegion& r);

  char* at(int b) { return ptr_[static_cast<size_t>(b)]; }
  const Buffer& buffer(int b) const { return p_.buffers[static_cast<size_t>(b)]; }

  const KernelProgram& p_;
  const RunOptions& opt_;
  std::vector<char*> ptr_;
  std::vector<uint64_t> arena_;
  std::vector<std::unique_ptr<Prepared>> prepared_;
};

void Executor::inst(List& l, int i, int64_t start, const int64_t* index, int64_t n, const Prepared* acc) {
  const Inst& in = (*l.insts)[static_cast<size_t>(i)];
  uint64_t* r = l.reg(i);
  auto reg = [&](int o) -> const uint64_t* { return l.reg(o); };
  switch (in.kind) {
    case InstKind::Index: {
      auto* x = reinterpret_cast<int64_t*>(r);
      if (index)
        for (int64_t j = 0; j < n; ++j) x[j] = index[j];
      else
        for (int64_t j = 0; j < n; ++j) x[j] = start + j;
      return;
    }
    case InstKind::Const: copy_bytes(r, &in.bits, dtype_size(in.dtype)); return;
    case InstKind::Load:
      visit_width(in.dtype, [&](auto w) {
        using W = decltype(w);
        const W* src = reinterpret_cast<const W*>(at(in.buf));
        W* x = reinterpret_cast<W*>(r);
        if (in.a < 0) {
          x[0] = src[0];
          for (int64_t j = 1; j < n; ++j) x[j] = x[0];
          return;
        }
        const int64_t* idx = reinterpret_cast<const int64_t*>(reg(in.a));
        int64_t s = l.stride(in.a);
        for (int64_t j = 0; j < n; ++j) x[j] = src[idx[j * s]];
      });
      return;
    case InstKind::Store:
      visit_width(in.dtype, [&](auto w) {
        using W = decltype(w);
        W* dst = reinterpret_cast<W*>(at(in.buf));
        const W* v = reinterpret_cast<const W*>(reg(in.b));
        int64_t sv = l.stride(in.b);
        if (in.a < 0) {  // once per launch: by the first iteration
          if (start == 0 && n > 0) dst[0] = v[0];
          return;
        }
        const int64_t* idx = reinterpret_cast<const int64_t*>(reg(in.a));
        int64_t s = l.stride(in.a);
        for (int64_t j = 0; j < n; ++j) dst[idx[j * s]] = v[j * sv];
      });
      return;
    case InstKind::Unary:
      visit_dtype(in.dtype, [&](auto z) {
        using T = decltype(z);
        unary<T>(in.op, reinterpret_cast<T*>(r), reinterpret_cast<const T*>(reg(in.a)), l.stride(in.a), n);
      });
      return;
    case InstKind::Binary:
      visit_dtype(in.dtype, [&](auto z) {
        using T = decltype(z);
        binary<T>(in.op, reinterpret_cast<T*>(r), reinterpret_cast<const T*>(reg(in.a)), l.stride(in.a),
                  reinterpret_cast<const T*>(reg(in.b)), l.stride(in.b), n);
      });
      return;
    case InstKind::Compare:
      visit_dtype((*l.insts)[static_cast<size_t>(in.a)].dtype, [&](auto z) {
        using T = decltype(z);
        compare<T>(in.op, reinterpret_cast<uint8_t*>(r), reinterpret_cast<const T*>(reg(in.a)), l.stride(in.a),
                   reinterpret_cast<const T*>(reg(in.b)), l.stride(in.b), n);
      });
      return;
    case InstKind::Select:
      visit_width(in.dtype, [&](auto w) {
        using W = decltype(w);
        const uint8_t* c = reinterpret_cast<const uint8_t*>(reg(in.a));
        const W *a = reinterpret_cast<const W*>(reg(in.b)), *b = reinterpret_cast<const W*>(reg(in.c));
        int64_t sc = l.stride(in.a), sa = l.stride(in.b), sb = l.stride(in.c);
        W* x = reinterpret_cast<W*>(r);
        for (int64_t j = 0; j < n; ++j) x[j] = c[j * sc] ? a[j * sa] : b[j * sb];
      });
      return;
    case InstKind::Cast:
      visit_dtype(in.dtype, [&](auto t) {
        using To = decltype(t);
        visit_dtype((*l.insts)[static_cast<size_t>(in.a)].dtype, [&](auto f) {
          using From = decltype(f);
          const From* a = reinterpret_cast<const From*>(reg(in.a));
          int64_t s = l.stride(in.a);
          To* x = reinterpret_cast<To*>(r);
          for (int64_t j = 0; j < n; ++j) x[j] = convert<To>(a[j * s]);
        });
      });
      return;
    case InstKind::Div:
    case InstKind::Rem: {
      const int64_t* a = reinterpret_cast<const int64_t*>(reg(in.a));
      int64_t s = l.stride(in.a);
      auto* x = reinterpret_cast<int64_t*>(r);
      if (in.kind == InstKind::Div)
        for (int64_t j = 0; j < n; ++j) x[j] = a[j * s] / in.imm;
      else
        for (int64_t j = 0; j < n; ++j) x[j] = a[j * s] % in.imm;
      return;
    }
    case InstKind::Check: {
      const int64_t *a = reinterpret_cast<const int64_t*>(reg(in.a)), *pos = reinterpret_cast<const int64_t*>(reg(in.b));
      int64_t s = l.stride(in.a), sp = l.stride(in.b);
      auto* x = reinterpret_cast<int64_t*>(r);
      for (int64_t j = 0; j < n; ++j) {
        int64_t v = a[j * s];
        if (v < 0 || v >= in.imm) fail("{}: index {} out of range [0, {}) at position {}", in.what, v, in.imm, pos[j * sp]);
        x[j] = v;
      }
      return;
    }
    case InstKind::Acc:
      visit_width(in.dtype, [&](auto w) {
        using W = decltype(w);
        const W* a = reinterpret_cast<const W*>(acc->acc[static_cast<size_t>(in.imm)].data());
        W* x = reinterpret_cast<W*>(r);
        for (int64_t j = 0; j < n; ++j) x[j] = a[j];
      });
      return;
    case InstKind::Yield: return;  // read by the fold
  }
}

void Executor::eval(List& l, const std::vector<int>& which, int64_t start, const int64_t* index, int64_t n,
                    const Prepared* acc) {
  for (int i : which) inst(l, i, start, index, l.uniform[static_cast<size_t>(i)] ? 1 : n, acc);
}

// Folds the m listed source values into their outputs' accumulators, in list order.
void Executor::fold(const Kernel& k, Prepared& pk, int64_t m) {
  if (m == 0) return;
  eval(pk.inner, pk.inner.each, 0, pk.sources.data(), m, nullptr);
  for (int a = 0; a < k.accs; ++a) {
    int y = pk.yields[static_cast<size_t>(a)];
    const Inst& yi = (*pk.inner.insts)[static_cast<size_t>(y)];
    visit_dtype(yi.dtype, [&](auto z) {
      using T = decltype(z);
      if constexpr (!std::is_same_v<T, uint8_t>) {
        const T* v = reinterpret_cast<const T*>(pk.inner.reg(yi.a));
        int64_t s = pk.inner.stride(yi.a);
        T* acc = reinterpret_cast<T*>(pk.acc[static_cast<size_t>(a)].data());
        constexpr BinaryFn<T> add = binary_fn<T>(Op::Add), mx = binary_fn<T>(Op::Max), mn = binary_fn<T>(Op::Min);
        uint8_t* started = pk.started.data() + a * kChunk;
        for (int64_t t = 0; t < m; ++t) {
          int64_t o = pk.slot[static_cast<size_t>(t)];
          T x = v[t * s];
          if (k.combine == Op::Add) {
            acc[o] = add(acc[o], x);
          } else if (!started[o]) {
            acc[o] = x;
            started[o] = 1;
          } else {
            acc[o] = k.combine == Op::Max ? mx(acc[o], x) : mn(acc[o], x);
          }
        }
      }
    });
  }
}

void Executor::kernel(const Kernel& k) {
  if (k.n == 0) return;
  auto& slot = prepared_.at(static_cast<size_t>(k.id));
  if (!slot) {
    slot = std::make_unique<Prepared>();
    slot->body.prepare(k.body);
    if (k.kind != KernelKind::Map) {
      slot->inner.prepare(k.inner);
      slot->acc.assign(static_cast<size_t>(k.accs), std::vector<uint64_t>(kChunk));
      slot->started.assign(static_cast<size_t>(k.accs * kChunk), 0);
      slot->sources.assign(kChunk, 0);
      slot->slot.assign(kChunk, 0);
      slot->yields.assign(static_cast<size_t>(k.accs), -1);
      for (size_t i = 0; i < k.inner.size(); ++i)
        if (k.inner[i].kind == InstKind::Yield) slot->yields[static_cast<size_t>(k.inner[i].imm)] = static_cast<int>(i);
    }
  }
  Prepared& pk = *slot;
  eval(pk.body, pk.body.once, 0, nullptr, 1, &pk);
  if (k.kind == KernelKind::Map) {
    for (int64_t s = 0; s < k.n; s += kChunk) eval(pk.body, pk.body.each, s, nullptr, std::min(kChunk, k.n - s), &pk);
    return;
  }
  const int64_t *off = nullptr, *order = nullptr;
  if (k.kind == KernelKind::SegmentSum) {
    off = reinterpret_cast<const int64_t*>(at(k.offsets));
    order = reinterpret_cast<const int64_t*>(at(k.order));
  }
  bool inner_ready = false;
  for (int64_t s = 0; s < k.n; s += kChunk) {
    int64_t cnt = std::min(kChunk, k.n - s), m = 0;
    std::fill(pk.started.begin(), pk.started.end(), 0);
    for (int a = 0; a < k.accs; ++a) {
      const Inst& yi = k.inner[static_cast<size_t>(pk.yields[static_cast<size_t>(a)])];
      visit_dtype(yi.dtype, [&](auto z) {
        using T = decltype(z);
        T* acc = reinterpret_cast<T*>(pk.acc[static_cast<size_t>(a)].data());
        using L = std::numeric_limits<T>;
        // Sums start at 0; an empty max (min) is -inf (+inf), or the integer extreme.
        T init = k.combine == Op::Add   ? T(0)
                 : k.combine == Op::Max ? (L::has_infinity ? -L::infinity() : L::lowest())
                                        : (L::has_infinity ? L::infinity() : L::max());
        for (int64_t j = 0; j < cnt; ++j) acc[j] = init;
      });
    }
    auto push = [&](int64_t e, int64_t j) {
      if (!inner_ready) {
        eval(pk.inner, pk.inner.once, 0, nullptr, 1, nullptr);
        inner_ready = true;
      }
      pk.sources[static_cast<size_t>(m)] = e;
      pk.slot[static_cast<size_t>(m)] = j;
      if (++m == kChunk) fold(k, pk, m), m = 0;
    };
    for (int64_t j = 0; j < cnt; ++j) {
      int64_t o = s + j;
      if (k.kind == KernelKind::Reduce) {
        int64_t base = o / k.stride * k.len * k.stride + o % k.stride;
        for (int64_t t = 0; t < k.len; ++t) push(base + t * k.stride, j);
      } else {
        int64_t seg = o / k.row, c = o % k.row;
        for (int64_t p = off[seg]; p < off[seg + 1]; ++p) push(order[p] * k.row + c, j);
      }
    }
    fold(k, pk, m);
    eval(pk.body, pk.body.each, s, nullptr, cnt, &pk);
  }
}

// ---- other steps -----------------------------------------------------------------------------

void Executor::matmul(const MatmulStep& mm) {
  visit_dtype(buffer(mm.out).dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (!std::is_same_v<T, uint8_t>) {
      constexpr BinaryFn<T> add = binary_fn<T>(Op::Add), mul = binary_fn<T>(Op::Mul);
      const T *a = reinterpret_cast<const T*>(at(mm.a)), *b = reinterpret_cast<const T*>(at(mm.b));
      T* out = reinterpret_cast<T*>(at(mm.out));
      for (int64_t i = 0; i < mm.m; ++i) {
        T* row = out + i * mm.n;
        for (int64_t j = 0; j < mm.n; ++j) row[j] = T(0);
        for (int64_t p = 0; p < mm.k; ++p) {
          T aip = a[i * mm.k + p];
          for (int64_t j = 0; j < mm.n; ++j) row[j] = add(row[j], mul(aip, b[p * mm.n + j]));
        }
      }
    }
  });
}

void Executor::copy(const CopyStep& c) {
  int64_t e = dtype_size(buffer(c.dst).dtype);
  char *dst = at(c.dst), *src = at(c.src);
  for (int64_t r = 0; r < c.rows; ++r)
    copy_bytes(dst + (c.dst_offset + r * c.dst_stride) * e, src + (c.src_offset + r * c.src_stride) * e, c.elems * e);
}

// A stable counting sort of the positions by index.
void Executor::segments(const SegmentsStep& s) {
  const Buffer& ib = buffer(s.index);
  int64_t m = ib.elements();
  auto* off = reinterpret_cast<int64_t*>(at(s.offsets));
  auto* order = reinterpret_cast<int64_t*>(at(s.order));
  auto index = [&](int64_t i) -> int64_t {
    int64_t j = ib.dtype == DType::i32 ? reinterpret_cast<const int32_t*>(at(s.index))[i]
                                       : reinterpret_cast<const int64_t*>(at(s.index))[i];
    if (j < 0 || j >= s.size) fail("{}: index {} out of range [0, {}) at position {}", s.what, j, s.size, i);
    return j;
  };
  std::fill(off, off + s.size + 1, 0);
  for (int64_t i = 0; i < m; ++i) ++off[index(i) + 1];
  for (int64_t j = 0; j < s.size; ++j) off[j + 1] += off[j];
  for (int64_t i = 0; i < m; ++i) order[off[index(i)]++] = i;  // fills each segment, moving its start to the end
  for (int64_t j = s.size; j > 0; --j) off[j] = off[j - 1];    // shift the starts back
  off[0] = 0;
}

// ---- scan regions ----------------------------------------------------------------------------

void Executor::scan(const ScanRegion& r) {
  for (const ScanCarry& c : r.carries) copy_bytes(at(c.state), at(c.init), buffer(c.state).bytes());
  size_t ny = r.ys.size();
  std::vector<Tensor> chunk(ny);
  std::vector<int64_t> filled(ny, 0), sent(ny, 0);
  std::vector<std::vector<Event>> events(ny);
  for (size_t y = 0; y < ny; ++y) {
    const Buffer& v = buffer(r.ys[y].value);
    if (r.ys[y].mode == RecordMode::Sink) {
      Shape cs = v.shape;
      cs.insert(cs.begin(), sink_chunk_rows(opt_, r.length, r.every));
      chunk[y] = Tensor(v.dtype, cs);
    }
    if (r.ys[y].mode == RecordMode::Events) events[y].reserve(static_cast<size_t>(opt_.event_chunk));
  }
  auto flush_rows = [&](size_t y) {
    Tensor& c = chunk[y];
    if (filled[y] == 0) return;
    if (filled[y] == c.shape()[0]) {
      opt_.sink->rows(r.node, static_cast<int64_t>(y), c, sent[y]);
    } else {
      Shape part = c.shape();
      part[0] = filled[y];
      c.reset(c.dtype(), part);
      opt_.sink->rows(r.node, static_cast<int64_t>(y), c, sent[y]);
      part[0] = sink_chunk_rows(opt_, r.length, r.every);
      c.reset(c.dtype(), part);
    }
    sent[y] += filled[y];
    filled[y] = 0;
  };
  auto flush_events = [&](size_t y) {
    if (events[y].empty()) return;
    opt_.sink->events(r.node, static_cast<int64_t>(y), events[y]);
    events[y].clear();
  };
  auto record = [&](int64_t k) {
    bool recorded = (k + 1) % r.every == 0;
    int64_t row = (k + 1) / r.every - 1;
    for (size_t y = 0; y < ny; ++y) {
      const ScanOutput& o = r.ys[y];
      int64_t bytes = buffer(o.value).bytes();
      switch (o.mode) {
        case RecordMode::Stack:
          if (recorded) copy_bytes(at(o.out) + row * bytes, at(o.value), bytes);
          break;
        case RecordMode::Sink:
          if (!recorded) break;
          copy_bytes(static_cast<char*>(chunk[y].raw()) + filled[y] * bytes, at(o.value), bytes);
          if (++filled[y] == opt_.chunk_rows) flush_rows(y);
          break;
        case RecordMode::Events: {
          const auto* b = reinterpret_cast<const uint8_t*>(at(o.value));
          for (int64_t i = 0, n = buffer(o.value).elements(); i < n; ++i) {
            if (!b[i]) continue;
            events[y].push_back(Event{i, k});
            ++sent[y];
            if (static_cast<int64_t>(events[y].size()) == opt_.event_chunk) flush_events(y);
          }
          break;
        }
      }
    }
  };

  int64_t every_pct = std::max<int64_t>(1, r.length / 100);
  for (int64_t k = 0; k < r.length; ++k) {
    try {
      for (const ScanXs& x : r.xs) ptr_[static_cast<size_t>(x.row)] = at(x.xs) + k * buffer(x.row).bytes();
      if (k == 0) steps(r.prologue);
      steps(r.body);
      record(k);
      for (const ScanCarry& c : r.carries)
        if (c.next >= 0) std::swap(ptr_[static_cast<size_t>(c.state)], ptr_[static_cast<size_t>(c.next)]);
    } catch (const Error& e) {
      throw Error(fmt::format("{} step {}: {}", r.label, k, e.what()));
    }
    if (r.top && opt_.sink && (k + 1) % every_pct == 0) opt_.sink->progress(r.node, k + 1, r.length);
  }
  for (size_t y = 0; y < ny; ++y) {
    RecordMode mode = r.ys[y].mode;
    if (mode == RecordMode::Stack) continue;
    if (mode == RecordMode::Sink) flush_rows(y);
    if (mode == RecordMode::Events) flush_events(y);
    std::memcpy(at(r.ys[y].out), &sent[y], sizeof(int64_t));
  }
}

void Executor::steps(const std::vector<Step>& ss) {
  for (const Step& s : ss) {
    switch (s.kind) {
      case StepKind::Kernel: kernel(s.kernel); break;
      case StepKind::Matmul: matmul(s.matmul); break;
      case StepKind::Copy: copy(s.copy); break;
      case StepKind::Segments: segments(s.segments); break;
      case StepKind::Scan: scan(s.scan); break;
    }
  }
}

// ---- the run ---------------------------------------------------------------------------------

void Executor::bind(const std::map<std::string, Tensor>& inputs) {
  std::vector<const void*> data = bind_inputs(p_, inputs);
  for (int i : p_.inputs) ptr_[static_cast<size_t>(i)] = const_cast<char*>(static_cast<const char*>(data[static_cast<size_t>(i)]));
}

std::vector<Tensor> Executor::run(const std::map<std::string, Tensor>& inputs) {
  ptr_.assign(p_.buffers.size(), nullptr);
  prepared_.clear();
  prepared_.resize(static_cast<size_t>(p_.kernels));
  bind(inputs);
  check_recording(p_, opt_);
  // The arena, 64-byte aligned; consts point at the program's data.
  arena_.assign(static_cast<size_t>(p_.plan.peak_bytes / 8 + 8), 0);
  char* base = reinterpret_cast<char*>(arena_.data());
  base += (64 - reinterpret_cast<uintptr_t>(base) % 64) % 64;
  for (size_t i = 0; i < p_.buffers.size(); ++i) {
    const Buffer& b = p_.buffers[i];
    if (b.role == BufferRole::Const) ptr_[i] = const_cast<char*>(static_cast<const char*>(b.value->raw()));
    if (!b.in_arena()) continue;
    if (b.offset < 0 || b.offset + b.bytes() > p_.plan.peak_bytes)
      internal_error("executor: buffer b{} ({}) has no place in the arena", i, b.name);
    ptr_[i] = base + b.offset;
  }
  steps(p_.steps);
  std::vector<Tensor> results;
  for (int r : p_.results) {
    const Buffer& b = buffer(r);
    Tensor t(b.dtype, b.shape);
    copy_bytes(t.raw(), at(r), t.bytes());
    results.push_back(std::move(t));
  }
  return results;
}

}  // namespace

std::vector<const void*> bind_inputs(const KernelProgram& p, const std::map<std::string, Tensor>& inputs) {
  auto buffer = [&](int b) -> const Buffer& { return p.buffers[static_cast<size_t>(b)]; };
  std::vector<const void*> data(p.buffers.size(), nullptr);
  std::vector<uint8_t> bound(p.buffers.size(), 0);  // (an empty tensor's data pointer is null)
  for (auto& [name, t] : inputs) {
    auto it = std::find_if(p.inputs.begin(), p.inputs.end(), [&](int b) { return buffer(b).input == name; });
    if (it == p.inputs.end()) {
      std::string known;
      for (int b : p.inputs) known += (known.empty() ? "" : ", ") + buffer(b).input;
      fail("unknown input '{}' (the graph's inputs: {})", name, known.empty() ? "none" : known);
    }
    const Buffer& b = buffer(*it);
    if (t.type() != Type::tensor(b.dtype, b.shape))
      fail("input '{}' is {} but the value bound to it is {}", name, type_str(Type::tensor(b.dtype, b.shape)),
           type_str(t.type()));
    data[static_cast<size_t>(*it)] = t.raw();
    bound[static_cast<size_t>(*it)] = 1;
  }
  for (int i : p.inputs) {
    const Buffer& b = buffer(i);
    if (bound[static_cast<size_t>(i)]) continue;
    if (!b.value) fail("input '{}' has no value and no default", b.input);
    data[static_cast<size_t>(i)] = b.value->raw();
  }
  return data;
}

namespace {
void check_records(const std::vector<Step>& ss, const RunOptions& opt) {
  for (const Step& s : ss) {
    if (s.kind != StepKind::Scan) continue;
    const ScanRegion& r = s.scan;
    for (size_t y = 0; y < r.ys.size(); ++y) {
      RecordMode mode = r.ys[y].mode;
      if (mode != RecordMode::Stack && (!r.top || !opt.sink))
        fail("{}: per-step output {} is recorded in {} mode, which needs a sink{}", r.label, y, record_mode_name(mode),
             r.top ? ", but the run has none" : " and a top-level scan");
      if (mode == RecordMode::Sink && opt.chunk_rows < 1)
        fail("run options: chunk_rows must be >= 1, got {}", opt.chunk_rows);
      if (mode == RecordMode::Events && opt.event_chunk < 1)
        fail("run options: event_chunk must be >= 1, got {}", opt.event_chunk);
    }
    check_records(r.prologue, opt);
    check_records(r.body, opt);
  }
}
}  // namespace

void check_recording(const KernelProgram& p, const RunOptions& options) { check_records(p.steps, options); }

std::vector<Tensor> execute(const KernelProgram& p, const std::map<std::string, Tensor>& inputs,
                            const RunOptions& options) {
  return Executor(p, options).run(inputs);
}

}  // namespace sf
