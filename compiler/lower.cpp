// Graph -> KernelProgram. See compiler/lower.h for what becomes what.
//
// Pieces:
//   Ctx     - one graph being lowered (the top level, a scan body or a kernel body): which buffer
//             holds each node's value, which outer value a param stands for, and the step lists
//             the node's steps go to (a scan body has two: the prologue and the per-step body).
//   Emitter - builds one kernel's SSA instruction list. `value(ctx, node, idx)` is the node's
//             element idx as an instruction: a load where the node has a buffer, otherwise the
//             node's op applied to its operands' elements (layout ops and gather turn into index
//             arithmetic). Instructions are hash-consed, so a kernel computes each thing once.
//   Lowerer - walks the graphs, makes buffers and steps, decides how scan carries are updated.
#include "compiler/lower.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

#include "compiler/memory_plan.h"
#include "graph/error.h"
#include "graph/kernel.h"
#include "ops/scalar.h"

namespace sf {
namespace {

// An index map: element i of a view reads element offset + sum_k ((i / div) % mod) * mul of its
// source (mod 0: no remainder needed).
struct Dim {
  int64_t div, mod, mul;
};
struct View {
  int64_t offset = 0;
  std::vector<Dim> dims;
};

// The view of `out` (row-major) whose dimension k steps `stride[k]` source elements. Dimensions of
// size 1 or stride 0 drop out; contiguous neighbours merge, so an identity view is one dim.
View strided_view(const Shape& out, std::span<const int64_t> stride, int64_t offset) {
  View v;
  v.offset = offset;
  Strides os = row_strides(out);
  for (size_t k = 0; k < out.size(); ++k) {
    if (out[k] <= 1 || stride[k] == 0) continue;
    Dim d{os[k], out[k], stride[k]};
    if (!v.dims.empty()) {
      Dim& p = v.dims.back();
      if (p.div == d.div * d.mod && p.mul == d.mul * d.mod) {
        p = Dim{d.div, p.mod * d.mod, d.mul};
        continue;
      }
    }
    v.dims.push_back(d);
  }
  if (!v.dims.empty() && v.dims[0].div * v.dims[0].mod == num_elements(out)) v.dims[0].mod = 0;
  return v;
}

// Ops that only rearrange or generate elements: outside kernels they are index expressions in
// their users' loads, not steps of their own.
bool virtual_op(Op op) {
  switch (op) {
    case Op::Broadcast:
    case Op::Reshape:
    case Op::Transpose:
    case Op::Slice:
    case Op::Fill:
    case Op::Iota: return true;
    default: return false;
  }
}

struct Ctx {
  const Graph* g = nullptr;
  Ctx* outer = nullptr;  // params with an alias stand for values of `outer`
  bool fuse = false;     // a kernel body: its loop ops are computed inline
  std::string where;     // prefix of run-time error messages ("%7 (kernel): ")
  std::string prefix;    // prefix of kernel names
  std::vector<int> buf;                 // node -> buffer holding its value (-1: none yet)
  std::vector<NodeId> alias;            // param -> node of `outer` (-1: bound to a buffer)
  std::vector<std::vector<int>> tuple;  // scan/kernel node -> buffers of its tuple elements
  std::vector<uint8_t> varies;          // scan body: depends on a carry or an xs row
  std::vector<Step>* fixed = nullptr;   // every step goes here (top level, kernel bodies)
  std::vector<Step>* invariant = nullptr;
  std::vector<Step>* varying = nullptr;

  explicit Ctx(const Graph& graph) : g(&graph) {
    buf.assign(graph.nodes.size(), -1);
    alias.assign(graph.nodes.size(), -1);
    tuple.resize(graph.nodes.size());
    varies.assign(graph.nodes.size(), 0);
  }
  std::vector<Step>& steps_for(NodeId id) {
    if (fixed) return *fixed;
    return varies[static_cast<size_t>(id)] ? *varying : *invariant;
  }
  const Node& node(NodeId id) const { return g->node(id); }
};

class Lowerer;

Inst make(InstKind kind, DType dtype, Op op = Op::Add, int a = -1, int b = -1, int c = -1) {
  Inst in;
  in.kind = kind, in.dtype = dtype, in.op = op, in.a = a, in.b = b, in.c = c;
  return in;
}

// A value stored by a map kernel: element i of `node` goes to element map(i) of `buf`.
struct StoreSpec {
  Ctx* ctx;
  NodeId node;
  int buf;
  View map;        // empty dims and offset 0: the identity
  bool root;       // compute the node itself even if it would be loaded (the node being lowered)
};

class Emitter {
 public:
  Emitter(Lowerer& L, std::vector<Inst>& out) : L_(L), out_(out) {}

  int add(Inst in);
  int index() { return add(make(InstKind::Index, DType::i64)); }
  int i64(int64_t v) {
    Inst in = make(InstKind::Const, DType::i64);
    in.bits = static_cast<uint64_t>(v);
    return add(in);
  }
  int const_bits(DType d, uint64_t bits) {
    Inst in = make(InstKind::Const, d);
    in.bits = bits;
    return add(in);
  }
  int iadd(int a, int b);
  int imul(int a, int64_t k);
  int idiv(int a, int64_t k);
  int irem(int a, int64_t k);
  int apply(int idx, const View& v);
  int load(int buf, int idx);
  void store(int buf, int idx, int v) {
    Inst in = make(InstKind::Store, out_[static_cast<size_t>(v)].dtype);
    in.buf = buf, in.a = idx, in.b = v;
    out_.push_back(in);
  }
  void yield(int acc, int v) {
    Inst in = make(InstKind::Yield, out_[static_cast<size_t>(v)].dtype);
    in.imm = acc, in.a = v;
    out_.push_back(in);
  }
  int acc(int k, DType d) {
    Inst in = make(InstKind::Acc, d);
    in.imm = k;
    return add(in);
  }

  // Element idx (-1: the element of a rank-0 value) of `id` in `c`.
  int value(Ctx& c, NodeId id, int idx);
  // The same, computing the node's op even if it has a buffer.
  int expand(Ctx& c, NodeId id, int idx);

 private:
  const Inst& at(int i) const { return out_[static_cast<size_t>(i)]; }
  bool is_const(int i) const { return i >= 0 && at(i).kind == InstKind::Const && at(i).dtype == DType::i64; }
  int64_t const_of(int i) const { return static_cast<int64_t>(at(i).bits); }
  int gather(Ctx& c, NodeId id, int idx);
  int concat(Ctx& c, NodeId id, int idx);
  int clamp(int a, int64_t lo, int64_t hi);

  using Key = std::tuple<InstKind, DType, Op, int, int, int, int, int64_t, uint64_t, std::string>;
  struct KeyHash {
    size_t operator()(const Key& k) const {
      size_t h = std::hash<std::string>()(std::get<9>(k));
      auto mix = [&](uint64_t v) { h ^= std::hash<uint64_t>()(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
      mix(static_cast<uint64_t>(std::get<0>(k)) | static_cast<uint64_t>(std::get<1>(k)) << 8 |
          static_cast<uint64_t>(std::get<2>(k)) << 16);
      mix(static_cast<uint32_t>(std::get<3>(k)) | static_cast<uint64_t>(static_cast<uint32_t>(std::get<4>(k))) << 32);
      mix(static_cast<uint32_t>(std::get<5>(k)) | static_cast<uint64_t>(static_cast<uint32_t>(std::get<6>(k))) << 32);
      mix(static_cast<uint64_t>(std::get<7>(k)));
      mix(std::get<8>(k));
      return h;
    }
  };
  using MemoKey = std::tuple<const Ctx*, NodeId, int>;
  struct MemoHash {
    size_t operator()(const MemoKey& k) const {
      return std::hash<const void*>()(std::get<0>(k)) ^
             std::hash<uint64_t>()(static_cast<uint64_t>(static_cast<uint32_t>(std::get<1>(k))) << 32 |
                                   static_cast<uint32_t>(std::get<2>(k)));
    }
  };
  Lowerer& L_;
  std::vector<Inst>& out_;
  std::unordered_map<Key, int, KeyHash> cse_;
  std::unordered_map<MemoKey, int, MemoHash> memo_;
};

class Lowerer {
 public:
  KernelProgram run(const Graph& g);

  int new_buffer(std::string name, const Type& t, BufferRole role, std::vector<Step>* home) {
    Buffer b;
    b.name = std::move(name);
    b.dtype = t.dtype;
    b.shape = t.shape;
    b.role = role;
    p_.buffers.push_back(std::move(b));
    home_.push_back(home);
    return static_cast<int>(p_.buffers.size()) - 1;
  }
  const Buffer& buffer(int b) const { return p_.buffers[static_cast<size_t>(b)]; }

  // The buffer holding node `id`'s value, materializing it if it has none yet.
  int ensure_buffer(Ctx& c, NodeId id);
  // The buffer `id` already has (following param aliases; consts get theirs), or -1.
  int existing_buffer(Ctx& c, NodeId id);

 private:
  friend class Emitter;
  void lower_graph(Ctx& c);
  void lower_node(Ctx& c, NodeId id);
  void lower_kernel(Ctx& c, NodeId id);
  void lower_scan(Ctx& c, NodeId id);
  void update_carries(ScanRegion& r, const std::vector<int>& result);

  void emit_map(std::vector<Step>& steps, const std::string& name, int64_t n, const std::vector<StoreSpec>& stores);
  void emit_segment_sum(std::vector<Step>& steps, const std::string& name, Ctx& c, const std::vector<NodeId>& scatters,
                        const std::vector<int>& outs, const std::vector<StoreSpec>& per_source,
                        const std::vector<StoreSpec>& once = {});
  void emit_reduce(std::vector<Step>& steps, Ctx& c, NodeId id, int out);
  void emit_concat(std::vector<Step>& steps, Ctx& c, NodeId id, int out);
  std::pair<int, int> segments(int index_buf, int64_t size, const std::string& what);
  std::string kernel_name(Ctx& c, NodeId id) const {
    return fmt::format("{}{}%{}", c.prefix, op_name(c.node(id).op), id);
  }
  void push_kernel(std::vector<Step>& steps, Kernel k) {
    Step s;
    s.kind = StepKind::Kernel;
    s.kernel = std::move(k);
    steps.push_back(std::move(s));
  }

  KernelProgram p_;
  std::vector<std::vector<Step>*> home_;  // buffer -> the step list its value is computed in
  std::map<std::pair<int, int64_t>, std::pair<int, int>> segments_;  // (index buffer, size) -> CSR
};

// ---- Emitter ---------------------------------------------------------------------------------

int Emitter::add(Inst in) {
  Key k{in.kind, in.dtype, in.op, in.a, in.b, in.c, in.buf, in.imm, in.bits, in.what};
  auto [it, fresh] = cse_.emplace(k, static_cast<int>(out_.size()));
  if (fresh) out_.push_back(std::move(in));
  return it->second;
}

int Emitter::iadd(int a, int b) {
  if (is_const(a) && is_const(b)) return i64(const_of(a) + const_of(b));
  if (is_const(a) && const_of(a) == 0) return b;
  if (is_const(b) && const_of(b) == 0) return a;
  Inst in = make(InstKind::Binary, DType::i64, Op::Add, a, b);
  return add(in);
}

int Emitter::imul(int a, int64_t k) {
  if (k == 1) return a;
  if (k == 0) return i64(0);
  if (is_const(a)) return i64(const_of(a) * k);
  Inst in = make(InstKind::Binary, DType::i64, Op::Mul, a, i64(k));
  return add(in);
}

int Emitter::idiv(int a, int64_t k) {
  if (k == 1) return a;
  if (is_const(a)) return i64(const_of(a) / k);
  Inst in = make(InstKind::Div, DType::i64, Op::Add, a);
  in.imm = k;
  return add(in);
}

int Emitter::irem(int a, int64_t k) {
  if (k == 1) return i64(0);
  if (is_const(a)) return i64(const_of(a) % k);
  Inst in = make(InstKind::Rem, DType::i64, Op::Add, a);
  in.imm = k;
  return add(in);
}

// The index `idx` maps to through `v`; -1 stays "element 0" where the result is the offset 0.
int Emitter::apply(int idx, const View& v) {
  int sum = -1;
  if (idx >= 0)
    for (const Dim& d : v.dims) {
      int t = idiv(idx, d.div);
      if (d.mod) t = irem(t, d.mod);
      t = imul(t, d.mul);
      sum = sum < 0 ? t : iadd(sum, t);
    }
  if (v.offset == 0) return sum;
  return sum < 0 ? i64(v.offset) : iadd(sum, i64(v.offset));
}

int Emitter::load(int buf, int idx) {
  const Buffer& b = L_.buffer(buf);
  Inst in = make(InstKind::Load, b.dtype);
  in.buf = buf;
  in.a = b.elements() == 1 ? -1 : idx;  // a one-element buffer reads the same element everywhere
  return add(in);
}

int Emitter::value(Ctx& c, NodeId id, int idx) {
  auto key = std::make_tuple(static_cast<const Ctx*>(&c), id, idx);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  const Node& n = c.node(id);
  int r;
  if (c.buf[static_cast<size_t>(id)] >= 0) {
    r = load(c.buf[static_cast<size_t>(id)], idx);
  } else if (n.op == Op::Param && c.alias[static_cast<size_t>(id)] >= 0) {
    r = value(*c.outer, c.alias[static_cast<size_t>(id)], idx);
  } else if (n.op == Op::Const && n.type.rank() == 0) {
    r = expand(c, id, idx);
  } else if (c.fuse ? loop_op(n.op) && n.op != Op::ScatterAdd && n.op != Op::Const
                    : virtual_op(n.op)) {
    r = expand(c, id, idx);
  } else {
    r = load(L_.ensure_buffer(c, id), idx);
  }
  memo_.emplace(key, r);
  return r;
}

int Emitter::expand(Ctx& c, NodeId id, int idx) {
  const Node& n = c.node(id);
  const OpInfo& info = op_info(n.op);
  auto operand = [&](size_t k) {
    NodeId o = n.operands[k];
    return value(c, o, c.g->type(o).rank() == 0 ? -1 : idx);
  };
  auto source_shape = [&]() -> const Shape& { return c.g->type(n.operands[0]).shape; };
  // Operands in order (not as function arguments, whose order is unspecified), so the text is stable.
  int a = -1, b = -1, c3 = -1;
  if (info.elementwise()) {
    a = operand(0);
    if (n.operands.size() > 1) b = operand(1);
    if (n.operands.size() > 2) c3 = operand(2);
  }
  switch (info.cls) {
    case OpClass::Unary: return add(make(InstKind::Unary, n.type.dtype, n.op, a));
    case OpClass::Binary: return add(make(InstKind::Binary, n.type.dtype, n.op, a, b));
    case OpClass::Compare: return add(make(InstKind::Compare, DType::b8, n.op, a, b));
    case OpClass::Select: return add(make(InstKind::Select, n.type.dtype, Op::Where, a, b, c3));
    default: break;
  }
  switch (n.op) {
    case Op::Cast: {
      return at(a).dtype == n.type.dtype ? a : add(make(InstKind::Cast, n.type.dtype, Op::Cast, a));
    }
    case Op::Const: {
      if (n.type.rank() != 0) return load(L_.ensure_buffer(c, id), idx);
      const Tensor& t = n.attrs.tensor("value");
      uint64_t bits = 0;
      std::memcpy(&bits, t.raw(), static_cast<size_t>(t.bytes()));
      return const_bits(n.type.dtype, bits);
    }
    case Op::Fill: {
      double v = n.attrs.f("value");
      uint64_t bits = 0;
      visit_dtype(n.type.dtype, [&](auto z) {
        using T = decltype(z);
        T x = convert<T>(v);
        std::memcpy(&bits, &x, sizeof x);
      });
      return const_bits(n.type.dtype, bits);
    }
    case Op::Iota: {
      const Shape& s = n.type.shape;
      std::vector<int64_t> stride(s.size(), 0);
      stride[norm_axis(n.attrs.i("axis"), s.size())] = 1;
      int k = apply(idx, strided_view(s, stride, 0));
      if (k < 0) k = i64(0);
      return n.type.dtype == DType::i64 ? k : add(make(InstKind::Cast, n.type.dtype, Op::Cast, k));
    }
    case Op::Reshape: return value(c, n.operands[0], idx);
    case Op::Broadcast: {
      const Shape &in = source_shape(), &out = n.type.shape;
      Strides in_st = row_strides(in);
      std::vector<int64_t> stride(out.size(), 0);
      size_t lead = out.size() - in.size();
      for (size_t d = 0; d < in.size(); ++d) stride[lead + d] = in[d] == 1 ? 0 : in_st[d];
      return value(c, n.operands[0], apply(idx, strided_view(out, stride, 0)));
    }
    case Op::Transpose: {
      auto& perm = n.attrs.ints("perm");
      Strides in_st = row_strides(source_shape());
      std::vector<int64_t> stride(perm.size());
      for (size_t d = 0; d < perm.size(); ++d) stride[d] = in_st[static_cast<size_t>(perm[d])];
      return value(c, n.operands[0], apply(idx, strided_view(n.type.shape, stride, 0)));
    }
    case Op::Slice: {
      auto &start = n.attrs.ints("start"), &step = n.attrs.ints("stride");
      Strides in_st = row_strides(source_shape());
      std::vector<int64_t> stride(start.size());
      int64_t offset = 0;
      for (size_t d = 0; d < start.size(); ++d) {
        offset += start[d] * in_st[d];
        stride[d] = step[d] * in_st[d];
      }
      return value(c, n.operands[0], apply(idx, strided_view(n.type.shape, stride, offset)));
    }
    case Op::Gather: return gather(c, id, idx);
    case Op::Concat:
      if (c.fuse) return concat(c, id, idx);
      return load(L_.ensure_buffer(c, id), idx);
    default: return load(L_.ensure_buffer(c, id), idx);
  }
}

// out[r, col] = x[idx[r], col]: the index is loaded, checked, and becomes the source row.
int Emitter::gather(Ctx& c, NodeId id, int idx) {
  const Node& n = c.node(id);
  const Type &x = c.g->type(n.operands[0]), &ind = c.g->type(n.operands[1]);
  int64_t row = num_elements(x.shape, 1, x.shape.size());
  int r = idx, col = -1;
  if (idx >= 0 && row != 1) {
    r = idiv(idx, row);
    col = irem(idx, row);
  }
  if (ind.rank() == 0) r = -1;
  int k = value(c, n.operands[1], r);
  if (ind.dtype != DType::i64) k = add(make(InstKind::Cast, DType::i64, Op::Cast, k));
  Inst check = make(InstKind::Check, DType::i64, Op::Add, k, r < 0 ? i64(0) : r);
  check.imm = x.shape[0];
  check.what = c.where + node_label(*c.g, id);
  int src = imul(add(check), row);
  if (col >= 0) src = iadd(src, col);
  return value(c, n.operands[0], src);
}

int Emitter::clamp(int a, int64_t lo, int64_t hi) {
  if (is_const(a)) return i64(std::min(std::max(const_of(a), lo), hi));
  a = add(make(InstKind::Binary, DType::i64, Op::Max, a, i64(lo)));
  return add(make(InstKind::Binary, DType::i64, Op::Min, a, i64(hi)));
}

// A concat read inside a kernel: every part is read (at an index clamped into it, so every load
// is in bounds) and selects pick the one element i lies in.
int Emitter::concat(Ctx& c, NodeId id, int idx) {
  const Node& n = c.node(id);
  const Shape& os = n.type.shape;
  size_t ax = norm_axis(n.attrs.i("axis"), os.size());
  int64_t inner = num_elements(os, ax + 1, os.size()), len = os[ax];
  if (idx < 0) idx = i64(0);
  int a = irem(idiv(idx, inner), len);       // the coordinate along the axis
  int q = idiv(idx, len * inner), r = irem(idx, inner);
  int v = -1;
  int64_t at = len;
  for (size_t k = n.operands.size(); k-- > 0;) {  // from the last part, so the first part's select is outermost
    NodeId part = n.operands[k];
    int64_t plen = c.g->type(part).shape[ax];
    at -= plen;
    if (plen == 0) continue;
    int pa = clamp(iadd(a, i64(-at)), 0, plen - 1);
    int pv = value(c, part, iadd(iadd(imul(q, plen * inner), imul(pa, inner)), r));
    if (v < 0) {
      v = pv;
      continue;
    }
    int in_part = add(make(InstKind::Compare, DType::b8, Op::Lt, a, i64(at + plen)));
    v = add(make(InstKind::Select, n.type.dtype, Op::Where, in_part, pv, v));
  }
  return v;
}

// ---- Lowerer: buffers ------------------------------------------------------------------------

int Lowerer::existing_buffer(Ctx& c, NodeId id) {
  size_t i = static_cast<size_t>(id);
  if (c.buf[i] >= 0) return c.buf[i];
  const Node& n = c.node(id);
  if (n.op == Op::Param && c.alias[i] >= 0) return c.buf[i] = existing_buffer(*c.outer, c.alias[i]);
  if (n.op == Op::Const) return ensure_buffer(c, id);
  return -1;
}

int Lowerer::ensure_buffer(Ctx& c, NodeId id) {
  size_t i = static_cast<size_t>(id);
  if (c.buf[i] >= 0) return c.buf[i];
  const Node& n = c.node(id);
  if (n.type.is_tuple()) internal_error("lower: {} is a tuple, not a buffer", node_label(*c.g, id));
  if (n.op == Op::Param) {
    if (c.alias[i] < 0) internal_error("lower: {} is not bound", node_label(*c.g, id));
    return c.buf[i] = ensure_buffer(*c.outer, c.alias[i]);
  }
  std::string name = fmt::format("{}%{}", c.prefix, id);
  if (n.op == Op::Const) {
    int b = new_buffer(name, n.type, BufferRole::Const, &p_.steps);
    p_.buffers[static_cast<size_t>(b)].value = std::get<TensorPtr>(*n.attrs.find("value"));
    return c.buf[i] = b;
  }
  std::vector<Step>& steps = c.steps_for(id);
  int b = new_buffer(name, n.type, BufferRole::Temp, &steps);
  c.buf[i] = b;
  if (c.fuse && n.op == Op::ScatterAdd) {
    emit_segment_sum(steps, kernel_name(c, id), c, {id}, {b}, {});
  } else if (c.fuse && n.op == Op::Concat) {
    emit_concat(steps, c, id, b);
  } else if (c.fuse ? loop_op(n.op) : virtual_op(n.op)) {
    emit_map(steps, kernel_name(c, id), n.type.elements(), {StoreSpec{&c, id, b, {}, true}});
  } else {
    internal_error("lower: {} is used before it is computed", node_label(*c.g, id));
  }
  return b;
}

std::pair<int, int> Lowerer::segments(int index_buf, int64_t size, const std::string& what) {
  auto key = std::make_pair(index_buf, size);
  if (auto it = segments_.find(key); it != segments_.end()) return it->second;
  // Only a value that never changes once computed may share its index (not a carry or xs row).
  BufferRole role = buffer(index_buf).role;
  bool fixed = role == BufferRole::Input || role == BufferRole::Const || role == BufferRole::Temp;
  // Built where the indices are computed, so indices fixed for a run are sorted once.
  std::vector<Step>* home = home_[static_cast<size_t>(index_buf)];
  const Buffer& ib = buffer(index_buf);
  std::string base = ib.role == BufferRole::Input ? ib.input : ib.name;
  const int64_t count = ib.elements();  // read before new_buffer, which may move `ib`
  int off = new_buffer(base + ".offsets", Type::tensor(DType::i64, {size + 1}), BufferRole::Temp, home);
  int ord = new_buffer(base + ".order", Type::tensor(DType::i64, {count}), BufferRole::Temp, home);
  Step s;
  s.kind = StepKind::Segments;
  s.segments = SegmentsStep{index_buf, off, ord, size, what};
  home->push_back(std::move(s));
  if (fixed) segments_[key] = {off, ord};
  return {off, ord};
}

// ---- Lowerer: kernels ------------------------------------------------------------------------

void Lowerer::emit_map(std::vector<Step>& steps, const std::string& name, int64_t n,
                       const std::vector<StoreSpec>& stores) {
  Kernel k;
  k.name = name;
  k.kind = KernelKind::Map;
  k.n = n;
  Emitter e(*this, k.body);
  int i = e.index();
  // Every value is loaded and computed before the first store, so an output may share storage
  // with (or be) an input read at the same element. A rank-0 value is stored once (index -1).
  std::vector<std::pair<int, int>> at;  // (index, value) per store
  for (const StoreSpec& s : stores) {
    bool scalar = s.ctx->g->type(s.node).rank() == 0;
    int v = s.root ? e.expand(*s.ctx, s.node, scalar ? -1 : i) : e.value(*s.ctx, s.node, scalar ? -1 : i);
    at.emplace_back(scalar ? -1 : s.map.dims.empty() && s.map.offset == 0 ? i : e.apply(i, s.map), v);
  }
  for (size_t j = 0; j < stores.size(); ++j) e.store(stores[j].buf, at[j].first, at[j].second);
  push_kernel(steps, std::move(k));
}

// One segment sum for scatters sharing their indices and size; `per_source` values (one per source
// element) are stored as each source element is visited.
void Lowerer::emit_segment_sum(std::vector<Step>& steps, const std::string& name, Ctx& c,
                               const std::vector<NodeId>& scatters, const std::vector<int>& outs,
                               const std::vector<StoreSpec>& per_source, const std::vector<StoreSpec>& once) {
  const Node& s0 = c.node(scatters[0]);
  const Type& src = c.g->type(s0.operands[0]);
  int64_t size = s0.attrs.i("size"), row = num_elements(src.shape, 1, src.shape.size());
  int index_buf = ensure_buffer(c, s0.operands[1]);
  auto [off, ord] = segments(index_buf, size, c.where + node_label(*c.g, scatters[0]));
  Kernel k;
  k.name = name;
  k.kind = KernelKind::SegmentSum;
  k.n = size * row;
  k.accs = static_cast<int>(scatters.size());
  k.offsets = off, k.order = ord, k.row = row;
  Emitter inner(*this, k.inner);
  int e = inner.index();
  for (size_t j = 0; j < scatters.size(); ++j)
    inner.yield(static_cast<int>(j), inner.value(c, c.node(scatters[j]).operands[0], e));
  std::vector<std::pair<int, int>> at;  // as in emit_map: the stores come last
  for (const StoreSpec& s : per_source) {
    bool scalar = s.ctx->g->type(s.node).rank() == 0;  // stored once (index -1), as in emit_map
    int v = inner.value(*s.ctx, s.node, scalar ? -1 : e);
    at.emplace_back(scalar ? -1 : s.map.dims.empty() && s.map.offset == 0 ? e : inner.apply(e, s.map), v);
  }
  for (size_t j = 0; j < per_source.size(); ++j) inner.store(per_source[j].buf, at[j].first, at[j].second);
  Emitter body(*this, k.body);
  int o = body.index();
  std::vector<int> once_values;
  for (const StoreSpec& s : once) once_values.push_back(body.value(*s.ctx, s.node, -1));
  for (size_t j = 0; j < scatters.size(); ++j)
    body.store(outs[j], o, body.acc(static_cast<int>(j), c.node(scatters[j]).type.dtype));
  for (size_t j = 0; j < once.size(); ++j) body.store(once[j].buf, -1, once_values[j]);
  push_kernel(steps, std::move(k));
}

void Lowerer::emit_reduce(std::vector<Step>& steps, Ctx& c, NodeId id, int out) {
  const Node& n = c.node(id);
  const Shape& s = c.g->type(n.operands[0]).shape;
  size_t ax = norm_axis(n.attrs.i("axis"), s.size());
  Kernel k;
  k.name = kernel_name(c, id);
  k.kind = KernelKind::Reduce;
  k.combine = n.op == Op::ReduceSum ? Op::Add : n.op == Op::ReduceMax ? Op::Max : Op::Min;
  k.len = s[ax];
  k.stride = num_elements(s, ax + 1, s.size());
  k.n = n.type.elements();
  k.accs = 1;
  Emitter inner(*this, k.inner);
  int e = inner.index();
  inner.yield(0, inner.value(c, n.operands[0], e));
  Emitter body(*this, k.body);
  int o = body.index();
  body.store(out, o, body.acc(0, n.type.dtype));
  push_kernel(steps, std::move(k));
}

// Each part is copied into its block of the result: a strided copy from a buffer, or a kernel
// storing a computed part where it goes.
void Lowerer::emit_concat(std::vector<Step>& steps, Ctx& c, NodeId id, int out) {
  const Node& n = c.node(id);
  const Shape& os = n.type.shape;
  size_t ax = norm_axis(n.attrs.i("axis"), os.size());
  Strides ost = row_strides(os);
  int64_t outer = num_elements(os, 0, ax), inner = num_elements(os, ax + 1, os.size()), at = 0;
  for (size_t k = 0; k < n.operands.size(); ++k) {
    NodeId part = n.operands[k];
    const Shape& ps = c.g->type(part).shape;
    int64_t block = ps[ax] * inner;
    if (int b = existing_buffer(c, part); b >= 0) {
      if (block > 0 && outer > 0) {
        Step s;
        s.kind = StepKind::Copy;
        s.copy = CopyStep{out, b, outer, block, at * inner, 0, os[ax] * inner, block};
        steps.push_back(std::move(s));
      }
    } else {
      StoreSpec spec{&c, part, out, strided_view(ps, ost, at * ost[ax]), false};
      if (block > 0 && outer > 0) emit_map(steps, fmt::format("{}.{}", kernel_name(c, id), k), num_elements(ps), {spec});
    }
    at += ps[ax];
  }
}

// A concat whose parts are each one element per iteration of a loop of `loop` iterations: stored
// part by part from that loop (otherwise a concat is computed element by element).
bool end_to_end(const Graph& body, const Node& n, int64_t loop) {
  if (n.operands.size() < 2 || loop < 1) return false;
  return std::all_of(n.operands.begin(), n.operands.end(), [&](NodeId p) { return body.type(p).elements() == loop; });
}

// A kernel node: its results grouped by loop size. Scatter results become segment sums (the other
// results of the same loop size are stored by the same kernel as it visits each source element);
// the rest become map kernels, one per loop size.
void Lowerer::lower_kernel(Ctx& c, NodeId id) {
  const Node& n = c.node(id);
  const Graph& body = *n.body;
  Ctx k(body);
  k.outer = &c;
  k.fuse = true;
  k.fixed = &c.steps_for(id);
  k.where = c.where + node_label(*c.g, id) + ": ";
  std::string name = n.attrs.has("name") ? n.attrs.s("name") : kernel_name(c, id);
  k.prefix = c.prefix + name + ".";
  std::vector<NodeId> params = body.params();
  for (size_t p = 0; p < params.size(); ++p) k.alias[static_cast<size_t>(params[p])] = n.operands[p];

  struct Group {
    int64_t n;
    std::vector<StoreSpec> stores;
  };
  struct Scatters {
    NodeId index;
    int64_t size, sources;
    std::vector<NodeId> nodes;
    std::vector<int> outs;
  };
  std::vector<Group> groups;
  std::vector<Scatters> scatters;
  std::vector<StoreSpec> uniform;  // rank-0 results: stored once per launch by some loop
  auto group = [&](int64_t count) -> Group& {
    for (Group& g : groups)
      if (g.n == count) return g;
    groups.push_back(Group{count, {}});
    return groups.back();
  };

  std::vector<int> outs;
  std::map<NodeId, int> done;
  for (size_t r = 0; r < body.results.size(); ++r) {
    NodeId v = body.results[r];
    if (auto it = done.find(v); it != done.end()) {
      outs.push_back(it->second);
      continue;
    }
    const Node& vn = body.node(v);
    int b;
    if (vn.op == Op::Param) {
      b = ensure_buffer(k, v);
    } else {
      b = new_buffer(fmt::format("{}.{}", name, r), vn.type, BufferRole::Temp, k.fixed);
      if (vn.op == Op::ScatterAdd) {
        NodeId index = vn.operands[1];
        int64_t size = vn.attrs.i("size"), sources = body.type(vn.operands[0]).elements();
        auto it = std::find_if(scatters.begin(), scatters.end(),
                               [&](const Scatters& s) { return s.index == index && s.size == size; });
        if (it == scatters.end()) it = scatters.insert(scatters.end(), Scatters{index, size, sources, {}, {}});
        it->nodes.push_back(v);
        it->outs.push_back(b);
      } else if (vn.op == Op::Concat && end_to_end(body, vn, kernel_loop_size(body))) {
        // Each part is stored where it goes, in the loop of the part's size.
        const Shape& os = vn.type.shape;
        size_t ax = norm_axis(vn.attrs.i("axis"), os.size());
        Strides ost = row_strides(os);
        int64_t at = 0;
        for (NodeId part : vn.operands) {
          const Shape& ps = body.type(part).shape;
          if (num_elements(ps) > 0)
            group(num_elements(ps)).stores.push_back(StoreSpec{&k, part, b, strided_view(ps, ost, at * ost[ax]), false});
          at += ps[ax];
        }
      } else {
        StoreSpec spec{&k, v, b, {}, false};
        if (vn.type.rank() == 0)
          uniform.push_back(spec);
        else
          group(vn.type.elements()).stores.push_back(spec);
      }
    }
    done[v] = b;
    outs.push_back(b);
  }

  // Rank-0 results go to the loop of the kernel's own size, or any loop that runs at all.
  if (!uniform.empty()) {
    int64_t loop = kernel_loop_size(body);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.n == loop && x.n > 0; });
    if (g == groups.end())
      g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.n > 0; });
    bool in_sum = g == groups.end() && !scatters.empty() && body.type(scatters[0].nodes[0]).elements() > 0;
    if (!in_sum) {
      if (g == groups.end()) g = groups.insert(groups.end(), Group{1, {}});
      g->stores.insert(g->stores.end(), uniform.begin(), uniform.end());
      uniform.clear();
    }
  }
  int emitted = 0;
  auto next_name = [&]() { return emitted++ == 0 ? name : fmt::format("{}.{}", name, emitted - 1); };
  for (size_t s = 0; s < scatters.size(); ++s) {
    std::vector<StoreSpec> per_source;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.n == scatters[s].sources; });
    if (s == 0 && g != groups.end()) {
      per_source = std::move(g->stores);
      groups.erase(g);
    }
    emit_segment_sum(*k.fixed, next_name(), k, scatters[s].nodes, scatters[s].outs, per_source,
                     s == 0 ? uniform : std::vector<StoreSpec>{});
  }
  for (Group& g : groups) emit_map(*k.fixed, next_name(), g.n, g.stores);

  if (n.type.is_tuple())
    c.tuple[static_cast<size_t>(id)] = outs;
  else
    c.buf[static_cast<size_t>(id)] = outs[0];
}

// ---- Lowerer: graphs and nodes ---------------------------------------------------------------

// The nodes the results depend on, and the scans that stream to the sink (a side effect); the
// interpreter evaluates no others.
std::vector<bool> live_nodes(const Graph& g) {
  std::vector<bool> live(g.nodes.size(), false);
  for (NodeId r : g.results) live[static_cast<size_t>(r)] = true;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].op == Op::Scan)
      for (const std::string& m : g.nodes[i].attrs.strs("record"))
        if (m != "stack") live[i] = true;
  for (size_t i = g.nodes.size(); i-- > 0;)
    if (live[i])
      for (NodeId o : g.nodes[i].operands) live[static_cast<size_t>(o)] = true;
  return live;
}

void Lowerer::lower_graph(Ctx& c) {
  std::vector<bool> live = live_nodes(*c.g);
  bool top = c.outer == nullptr;
  for (size_t i = 0; i < c.g->nodes.size(); ++i)
    if (live[i] || (top && c.g->nodes[i].op == Op::Input)) lower_node(c, static_cast<NodeId>(i));
}

void Lowerer::lower_node(Ctx& c, NodeId id) {
  const Node& n = c.node(id);
  size_t i = static_cast<size_t>(id);
  auto temp = [&]() { return c.buf[i] = new_buffer(fmt::format("{}%{}", c.prefix, id), n.type, BufferRole::Temp, &c.steps_for(id)); };
  switch (n.op) {
    case Op::Input: {
      int b = new_buffer(n.attrs.s("name"), n.type, BufferRole::Input, &p_.steps);
      Buffer& buf = p_.buffers[static_cast<size_t>(b)];
      buf.input = n.attrs.s("name");
      if (const AttrValue* d = n.attrs.find("default")) buf.value = std::get<TensorPtr>(*d);
      p_.inputs.push_back(b);
      c.buf[i] = b;
      return;
    }
    case Op::Param:
    case Op::Const: return;  // bound when the body was entered; consts get buffers on demand
    case Op::Get: c.buf[i] = c.tuple.at(static_cast<size_t>(n.operands[0])).at(static_cast<size_t>(n.attrs.i("index"))); return;
    case Op::Scan: lower_scan(c, id); return;
    case Op::Kernel: lower_kernel(c, id); return;
    case Op::Matmul: {
      int a = ensure_buffer(c, n.operands[0]), b = ensure_buffer(c, n.operands[1]);
      const Type &ta = c.g->type(n.operands[0]), &tb = c.g->type(n.operands[1]);
      Step s;
      s.kind = StepKind::Matmul;
      s.matmul = MatmulStep{a, b, temp(), ta.shape[0], ta.shape[1], tb.rank() == 2 ? tb.shape[1] : 1};
      c.steps_for(id).push_back(std::move(s));
      return;
    }
    case Op::ReduceSum:
    case Op::ReduceMax:
    case Op::ReduceMin: emit_reduce(c.steps_for(id), c, id, temp()); return;
    case Op::ScatterAdd: emit_segment_sum(c.steps_for(id), kernel_name(c, id), c, {id}, {temp()}, {}); return;
    case Op::Concat: emit_concat(c.steps_for(id), c, id, temp()); return;
    default: break;
  }
  if (virtual_op(n.op)) return;  // an index expression in its users
  if (op_info(n.op).elementwise() || n.op == Op::Gather) {
    int b = temp();
    emit_map(c.steps_for(id), kernel_name(c, id), n.type.elements(), {StoreSpec{&c, id, b, {}, true}});
    return;
  }
  internal_error("lower: no lowering for {}", node_label(*c.g, id));
}

void Lowerer::lower_scan(Ctx& c, NodeId id) {
  const Node& n = c.node(id);
  const Graph& body = *n.body;
  ScanInfo si = scan_info(n);
  std::vector<Step>& steps = c.steps_for(id);
  size_t nc = static_cast<size_t>(si.carry), nx = static_cast<size_t>(si.xs);

  ScanRegion r;
  r.node = id;
  r.label = c.where + node_label(*c.g, id);
  r.top = c.outer == nullptr;
  r.length = si.length;
  r.every = si.every;
  if (n.attrs.has("class")) r.cls = n.attrs.s("class");
  if (n.attrs.has("stages")) r.stages = n.attrs.i("stages");
  std::string base = fmt::format("{}%{}", c.prefix, id);

  Ctx b(body);
  b.outer = &c;
  b.prefix = base + ".";
  b.invariant = &r.prologue;
  b.varying = &r.body;
  std::vector<NodeId> params = body.params();
  for (size_t p = 0; p < params.size(); ++p) {
    size_t pid = static_cast<size_t>(params[p]);
    const Type& t = body.type(params[p]);
    if (p < nc) {
      ScanCarry carry;
      carry.init = ensure_buffer(c, n.operands[p]);
      carry.state = b.buf[pid] = new_buffer(fmt::format("{}.carry{}", base, p), t, BufferRole::State, &r.body);
      r.carries.push_back(carry);
      b.varies[pid] = 1;
    } else if (p < nc + nx) {
      ScanXs xs;
      xs.xs = ensure_buffer(c, n.operands[p]);
      xs.row = b.buf[pid] = new_buffer(fmt::format("{}.x{}", base, p - nc), t, BufferRole::Row, &r.body);
      r.xs.push_back(xs);
      b.varies[pid] = 1;
    } else {
      b.alias[pid] = n.operands[p];
    }
  }
  for (size_t i = 0; i < body.nodes.size(); ++i)
    for (NodeId o : body.nodes[i].operands) b.varies[i] = b.varies[i] || b.varies[static_cast<size_t>(o)];

  lower_graph(b);
  std::vector<int> carry_results;
  for (size_t k = 0; k < nc; ++k) carry_results.push_back(ensure_buffer(b, body.results[k]));
  for (size_t y = 0; y < si.record.size(); ++y) {
    ScanOutput out;
    out.mode = si.record[y];
    out.value = ensure_buffer(b, body.results[nc + y]);
    out.out = new_buffer(fmt::format("{}.y{}", base, y), n.type.elems[nc + y], BufferRole::Record, &steps);
    r.ys.push_back(out);
  }
  update_carries(r, carry_results);

  std::vector<int>& elems = c.tuple[static_cast<size_t>(id)];
  for (ScanCarry& k : r.carries) {
    elems.push_back(k.state);
    // Outside the region the final carries are values computed where the region runs.
    home_[static_cast<size_t>(k.state)] = &steps;
    if (k.next >= 0) home_[static_cast<size_t>(k.next)] = &steps;
  }
  for (ScanOutput& y : r.ys) elems.push_back(y.out);
  Step s;
  s.kind = StepKind::Scan;
  s.scan = std::move(r);
  steps.push_back(std::move(s));
}

// ---- carries ---------------------------------------------------------------------------------

// Every buffer reference of a step list, mutable (renaming).
template <class F>
void for_each_ref(std::vector<Step>& steps, F& f) {
  auto insts = [&](std::vector<Inst>& is) {
    for (Inst& in : is)
      if (in.buf >= 0) f(in.buf);
  };
  for (Step& s : steps) {
    switch (s.kind) {
      case StepKind::Kernel:
        insts(s.kernel.body);
        insts(s.kernel.inner);
        if (s.kernel.offsets >= 0) f(s.kernel.offsets), f(s.kernel.order);
        break;
      case StepKind::Matmul: f(s.matmul.a), f(s.matmul.b), f(s.matmul.out); break;
      case StepKind::Copy: f(s.copy.dst), f(s.copy.src); break;
      case StepKind::Segments: f(s.segments.index), f(s.segments.offsets), f(s.segments.order); break;
      case StepKind::Scan: {
        ScanRegion& r = s.scan;
        for (ScanCarry& k : r.carries) {
          f(k.init), f(k.state);
          if (k.next >= 0) f(k.next);
        }
        for (ScanXs& x : r.xs) f(x.xs), f(x.row);
        for (ScanOutput& y : r.ys) f(y.value), f(y.out);
        for_each_ref(r.prologue, f);
        for_each_ref(r.body, f);
        break;
      }
    }
  }
}

void rename(std::vector<Step>& steps, int from, int to) {
  auto f = [&](int& b) {
    if (b == from) b = to;
  };
  for_each_ref(steps, f);
}

// The buffers a step writes (a region: its carries and records; its body's temps are its own).
bool writes(const Step& s, int b) {
  switch (s.kind) {
    case StepKind::Kernel:
      for (auto* list : {&s.kernel.body, &s.kernel.inner})
        for (const Inst& in : *list)
          if (in.kind == InstKind::Store && in.buf == b) return true;
      return false;
    case StepKind::Matmul: return s.matmul.out == b;
    case StepKind::Copy: return s.copy.dst == b;
    case StepKind::Segments: return s.segments.offsets == b || s.segments.order == b;
    case StepKind::Scan:
      for (const ScanCarry& k : s.scan.carries)
        if (k.state == b || k.next == b) return true;
      for (const ScanOutput& y : s.scan.ys)
        if (y.out == b) return true;
      return false;
  }
  return false;
}

bool reads(const std::vector<Step>& steps, int b);

bool reads(const Step& s, int b) {
  switch (s.kind) {
    case StepKind::Kernel:
      for (auto* list : {&s.kernel.body, &s.kernel.inner})
        for (const Inst& in : *list)
          if (in.kind == InstKind::Load && in.buf == b) return true;
      return s.kernel.offsets == b || s.kernel.order == b;
    case StepKind::Matmul: return s.matmul.a == b || s.matmul.b == b;
    case StepKind::Copy: return s.copy.src == b;
    case StepKind::Segments: return s.segments.index == b;
    case StepKind::Scan: {
      const ScanRegion& r = s.scan;
      for (const ScanCarry& k : r.carries)
        if (k.init == b) return true;
      for (const ScanXs& x : r.xs)
        if (x.xs == b) return true;
      return reads(r.prologue, b) || reads(r.body, b);
    }
  }
  return false;
}

bool reads(const std::vector<Step>& steps, int b) {
  return std::any_of(steps.begin(), steps.end(), [&](const Step& s) { return reads(s, b); });
}

// Whether map kernel `k` touches `b` only at the element it stores: every load of `state` and
// every store of `result` is at the loop index.
bool elementwise_update(const Kernel& k, int state, int result) {
  if (k.kind != KernelKind::Map) return false;
  auto same_element = [&](int a) {
    return (a >= 0 && k.body[static_cast<size_t>(a)].kind == InstKind::Index) || (a < 0 && k.n == 1);
  };
  bool stored = false;
  for (const Inst& in : k.body) {
    // A load after a store would read the new value.
    if (in.kind == InstKind::Load && in.buf == state && (!same_element(in.a) || stored)) return false;
    if (in.kind == InstKind::Store && in.buf == result && !same_element(in.a)) return false;
    stored = stored || in.kind == InstKind::Store;
  }
  return true;
}

// How each carry gets its new value. In place when the kernel computing it reads the old value
// only at the element it writes and nothing after it (steps, recording) reads the old value;
// otherwise the new value is written to a second buffer that swaps with the carry after the step
// is recorded (values not computed by a kernel of this body are copied there).
void Lowerer::update_carries(ScanRegion& r, const std::vector<int>& result) {
  std::vector<Step>& body = r.body;
  auto writer = [&](int b) -> int {
    for (size_t i = 0; i < body.size(); ++i)
      if (writes(body[i], b)) return static_cast<int>(i);
    return -1;
  };
  auto second = [&](size_t c) {
    const Buffer& s = buffer(r.carries[c].state);
    return r.carries[c].next = new_buffer(s.name + ".next", Type::tensor(s.dtype, s.shape), BufferRole::State, &body);
  };
  std::vector<size_t> computed;
  std::set<int> claimed;
  for (size_t c = 0; c < r.carries.size(); ++c) {
    int res = result[c];
    if (res == r.carries[c].state) continue;  // passed through unchanged
    int w = writer(res);
    bool own = w >= 0 && buffer(res).role == BufferRole::Temp && body[static_cast<size_t>(w)].kind != StepKind::Scan &&
               claimed.insert(res).second;
    if (own) {
      computed.push_back(c);
      continue;
    }
    Step s;
    s.kind = StepKind::Copy;
    s.copy = CopyStep{second(c), res, 1, buffer(res).elements(), 0, 0, 0, 0};
    body.push_back(std::move(s));
  }
  for (size_t c : computed) {
    int res = result[c], state = r.carries[c].state;
    size_t w = static_cast<size_t>(writer(res));
    bool in_place = body[w].kind == StepKind::Kernel && elementwise_update(body[w].kernel, state, res) &&
                    !std::any_of(body.begin() + static_cast<std::ptrdiff_t>(w) + 1, body.end(),
                                 [&](const Step& s) { return reads(s, state); }) &&
                    std::none_of(r.ys.begin(), r.ys.end(), [&](const ScanOutput& y) { return y.value == state; });
    int to = in_place ? state : second(c);
    rename(body, res, to);
    for (ScanOutput& y : r.ys)
      if (y.value == res) y.value = to;
  }
}

// ---- the program -----------------------------------------------------------------------------

// Drops buffers no step, result or input refers to (those renamed away), and numbers the kernels.
void finish(KernelProgram& p) {
  std::vector<int> used(p.buffers.size(), 0);
  auto mark = [&](int& b) { used[static_cast<size_t>(b)] = 1; };
  for_each_ref(p.steps, mark);
  for (int b : p.results) used[static_cast<size_t>(b)] = 1;
  for (int b : p.inputs) used[static_cast<size_t>(b)] = 1;
  std::vector<int> remap(p.buffers.size(), -1);
  std::vector<Buffer> kept;
  for (size_t i = 0; i < p.buffers.size(); ++i)
    if (used[i]) {
      remap[i] = static_cast<int>(kept.size());
      kept.push_back(std::move(p.buffers[i]));
    }
  p.buffers = std::move(kept);
  auto move = [&](int& b) { b = remap[static_cast<size_t>(b)]; };
  for_each_ref(p.steps, move);
  for (int& b : p.results) move(b);
  for (int& b : p.inputs) move(b);
  int id = 0;
  std::function<void(std::vector<Step>&)> number = [&](std::vector<Step>& steps) {
    for (Step& s : steps) {
      if (s.kind == StepKind::Kernel) s.kernel.id = id++;
      if (s.kind == StepKind::Scan) number(s.scan.prologue), number(s.scan.body);
    }
  };
  number(p.steps);
  p.kernels = id;
}

KernelProgram Lowerer::run(const Graph& g) {
  p_.name = g.name;
  Ctx top(g);
  top.fixed = &p_.steps;
  lower_graph(top);
  for (NodeId r : g.results) {
    if (g.type(r).is_tuple()) fail("result {} is a tuple; take its elements with get", node_label(g, r));
    int b = ensure_buffer(top, r);
    if (p_.buffers[static_cast<size_t>(b)].role == BufferRole::Temp) p_.buffers[static_cast<size_t>(b)].role = BufferRole::Output;
    p_.results.push_back(b);
  }
  finish(p_);
  plan_memory(p_);
  return std::move(p_);
}

}  // namespace

KernelProgram lower(const Graph& g) { return Lowerer().run(g); }

}  // namespace sf
