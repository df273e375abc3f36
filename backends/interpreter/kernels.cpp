// Kernels of the ops that are not elementwise: sources, layout, reductions, matmul and the index
// ops. Every kernel fills its whole (already shaped) output buffer.
//
// Summation order, which the differential tests and the fuzzer rely on:
//   reduce_sum: acc = 0; acc = acc + x[j] for j = 0, 1, ..., n-1 (per output element)
//   matmul:     acc = 0; acc = acc + a[i,p] * b[p,j] for p = 0, 1, ..., k-1
//   scatter_add: rows start at 0; out[idx[i]] += src[i] for i = 0, 1, ... in order
//   reduce_max/min: a left fold of the elementwise max/min from x[0] (so a NaN in x[0] stays and a
//   later NaN is dropped, as the binary op does); an empty axis gives -inf/+inf (integer lowest/highest).
// Integer sums wrap, as the elementwise add does.
#include <array>
#include <limits>

#include "backends/interpreter/kernels.h"
#include "graph/error.h"
#include "ops/scalar.h"

namespace sf::interp {
namespace {

// out[j] = in[offset + sum_d idx_d * stride[d]] over the row-major multi-indices idx of `shape`.
// Layout ops copy bits, so W is an unsigned word of the element's width.
template <class W>
void strided_copy(const W* in, int64_t offset, const Shape& shape, const Strides& stride, W* out) {
  int64_t n = num_elements(shape);
  int64_t idx[kMaxRank] = {};
  int64_t pos = offset;
  int rank = static_cast<int>(shape.size());
  for (int64_t j = 0; j < n; ++j) {
    out[j] = in[pos];
    for (int d = rank - 1; d >= 0; --d) {  // odometer: advance the last index, carry leftwards
      if (++idx[d] < shape[static_cast<size_t>(d)]) {
        pos += stride[static_cast<size_t>(d)];
        break;
      }
      pos -= (shape[static_cast<size_t>(d)] - 1) * stride[static_cast<size_t>(d)];
      idx[d] = 0;
    }
  }
}

void strided_copy(const Tensor& in, int64_t offset, const Strides& stride, Tensor& out) {
  switch (dtype_size(in.dtype())) {
    case 1: return strided_copy(in.data<uint8_t>(), offset, out.shape(), stride, out.data<uint8_t>());
    case 4: return strided_copy(in.data<uint32_t>(), offset, out.shape(), stride, out.data<uint32_t>());
    default: return strided_copy(in.data<uint64_t>(), offset, out.shape(), stride, out.data<uint64_t>());
  }
}

// ---- sources ---------------------------------------------------------------------------------

void fill(const Step& s) {
  double v = s.node->attrs.f("value");
  visit_dtype(s.out->dtype(), [&](auto z) {
    using T = decltype(z);
    T x = convert<T>(v);
    T* out = s.out->data<T>();
    for (int64_t i = 0, n = s.out->size(); i < n; ++i) out[i] = x;
  });
}

void iota(const Step& s) {
  const Shape& sh = s.out->shape();
  size_t ax = norm_axis(s.node->attrs.i("axis"), s.out->shape().size());
  int64_t inner = num_elements(sh, ax + 1, sh.size()), dim = sh[ax];
  visit_dtype(s.out->dtype(), [&](auto z) {
    using T = decltype(z);
    T* out = s.out->data<T>();
    for (int64_t i = 0, n = s.out->size(); i < n; ++i) out[i] = convert<T>((i / inner) % dim);
  });
}

// ---- layout ----------------------------------------------------------------------------------

void reshape(const Step& s) { copy_bytes(s.out->raw(), s.in[0]->raw(), s.out->bytes()); }

void broadcast(const Step& s) {
  const Shape &in = s.in[0]->shape(), &out = s.out->shape();
  Strides in_st = row_strides(in), st{};
  size_t lead = out.size() - in.size();  // missing leading dims repeat (stride 0), as do size-1 dims
  for (size_t d = 0; d < in.size(); ++d) st[lead + d] = in[d] == 1 ? 0 : in_st[d];
  strided_copy(*s.in[0], 0, st, *s.out);
}

void transpose(const Step& s) {
  auto& perm = s.node->attrs.ints("perm");
  Strides in_st = row_strides(s.in[0]->shape()), st{};
  for (size_t d = 0; d < perm.size(); ++d) st[d] = in_st[static_cast<size_t>(perm[d])];
  strided_copy(*s.in[0], 0, st, *s.out);
}

void slice(const Step& s) {
  auto &start = s.node->attrs.ints("start"), &stride = s.node->attrs.ints("stride");
  Strides in_st = row_strides(s.in[0]->shape()), st{};
  int64_t offset = 0;
  for (size_t d = 0; d < start.size(); ++d) {
    offset += start[d] * in_st[d];
    st[d] = stride[d] * in_st[d];
  }
  strided_copy(*s.in[0], offset, st, *s.out);
}

// The output viewed as [outer, rows along the axis * inner]: each operand fills a block of every
// outer row.
void concat(const Step& s) {
  const Shape& out = s.out->shape();
  size_t ax = norm_axis(s.node->attrs.i("axis"), s.out->shape().size());
  int64_t outer = num_elements(out, 0, ax), esize = dtype_size(s.out->dtype());
  int64_t out_row = num_elements(out, ax, out.size()) * esize;
  auto* dst = static_cast<char*>(s.out->raw());
  int64_t at = 0;
  for (const Tensor* t : s.in) {
    int64_t block = num_elements(t->shape(), ax, t->shape().size()) * esize;
    auto* src = static_cast<const char*>(t->raw());
    for (int64_t o = 0; o < outer; ++o) copy_bytes(dst + o * out_row + at, src + o * block, block);
    at += block;
  }
}

// ---- reductions and matmul -------------------------------------------------------------------

// The input viewed as [outer, n, inner], reduced over n.
template <class T, Op O>
void reduce(const Step& s) {
  const Shape& sh = s.in[0]->shape();
  size_t ax = norm_axis(s.node->attrs.i("axis"), s.in[0]->shape().size());
  int64_t outer = num_elements(sh, 0, ax), n = sh[ax], inner = num_elements(sh, ax + 1, sh.size());
  const T* x = s.in[0]->data<T>();
  T* out = s.out->data<T>();
  for (int64_t o = 0; o < outer; ++o) {
    const T* src = x + o * n * inner;
    T* dst = out + o * inner;
    if constexpr (O == Op::Add) {
      constexpr BinaryFn<T> add = binary_fn<T>(Op::Add);
      for (int64_t i = 0; i < inner; ++i) dst[i] = T(0);
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < inner; ++i) dst[i] = add(dst[i], src[j * inner + i]);
    } else {
      constexpr BinaryFn<T> f = binary_fn<T>(O);
      if (n == 0) {
        using L = std::numeric_limits<T>;
        T empty = O == Op::Max ? (L::has_infinity ? -L::infinity() : L::lowest())
                               : (L::has_infinity ? L::infinity() : L::max());
        for (int64_t i = 0; i < inner; ++i) dst[i] = empty;
        continue;
      }
      for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
      for (int64_t j = 1; j < n; ++j)
        for (int64_t i = 0; i < inner; ++i) dst[i] = f(dst[i], src[j * inner + i]);
    }
  }
}

// out[i, j] accumulates a[i, p] * b[p, j] for p in order (b may be a vector: one column).
template <class T>
void matmul(const Step& s) {
  constexpr BinaryFn<T> add = binary_fn<T>(Op::Add), mul = binary_fn<T>(Op::Mul);
  const Tensor &a = *s.in[0], &b = *s.in[1];
  int64_t m = a.shape()[0], k = a.shape()[1], n = b.rank() == 2 ? b.shape()[1] : 1;
  const T *pa = a.data<T>(), *pb = b.data<T>();
  T* out = s.out->data<T>();
  for (int64_t i = 0; i < m; ++i) {
    T* row = out + i * n;
    for (int64_t j = 0; j < n; ++j) row[j] = T(0);
    for (int64_t p = 0; p < k; ++p) {  // for each out[i, j], p still runs in order
      T aip = pa[i * k + p];
      for (int64_t j = 0; j < n; ++j) row[j] = add(row[j], mul(aip, pb[p * n + j]));
    }
  }
}

template <Op O>
Kernel reduce_for(DType d) {
  return visit_dtype(d, [](auto z) -> Kernel {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, uint8_t>) return nullptr;  // reductions are numeric only
    return &reduce<T, O>;
  });
}

// ---- index ops -------------------------------------------------------------------------------

[[noreturn, gnu::noinline]] void index_error(const Step& s, int64_t j, int64_t limit, int64_t pos) {
  fail("{}: index {} out of range [0, {}) at position {}", node_label(*s.graph, s.id), j, limit, pos);
}

// idx[pos], checked against [0, limit).
template <class I>
int64_t checked(const Step& s, const I* idx, int64_t pos, int64_t limit) {
  int64_t j = idx[pos];
  if (j < 0 || j >= limit) index_error(s, j, limit, pos);
  return j;
}

// Rows of `row` elements copied as words W (the element's width), indices of type I.
template <class W, class I>
void gather_rows(const Step& s, int64_t rows, int64_t row) {
  const W* x = s.in[0]->data<W>();
  const I* idx = s.in[1]->data<I>();
  W* out = s.out->data<W>();
  for (int64_t p = 0, n = s.in[1]->size(); p < n; ++p) {
    const W* src = x + checked(s, idx, p, rows) * row;
    for (int64_t c = 0; c < row; ++c) out[p * row + c] = src[c];
  }
}

template <class W>
void gather_words(const Step& s, int64_t rows, int64_t row) {
  if (s.in[1]->dtype() == DType::i32)
    gather_rows<W, int32_t>(s, rows, row);
  else
    gather_rows<W, int64_t>(s, rows, row);
}

void gather(const Step& s) {
  const Tensor& x = *s.in[0];
  int64_t rows = x.shape()[0], row = num_elements(x.shape(), 1, x.shape().size());
  switch (dtype_size(x.dtype())) {
    case 1: return gather_words<uint8_t>(s, rows, row);
    case 4: return gather_words<uint32_t>(s, rows, row);
    default: return gather_words<uint64_t>(s, rows, row);
  }
}

template <class T, class I>
void scatter_add_rows(const Step& s) {
  constexpr BinaryFn<T> add = binary_fn<T>(Op::Add);
  const Tensor& src = *s.in[0];
  int64_t size = s.out->shape()[0], row = num_elements(src.shape(), 1, src.shape().size());
  const T* in = src.data<T>();
  const I* idx = s.in[1]->data<I>();
  T* out = s.out->data<T>();
  for (int64_t i = 0, n = s.out->size(); i < n; ++i) out[i] = T(0);
  for (int64_t i = 0, n = s.in[1]->size(); i < n; ++i) {
    T* dst = out + checked(s, idx, i, size) * row;
    for (int64_t c = 0; c < row; ++c) dst[c] = add(dst[c], in[i * row + c]);
  }
}

template <class T>
void scatter_add(const Step& s) {
  if (s.in[1]->dtype() == DType::i32)
    scatter_add_rows<T, int32_t>(s);
  else
    scatter_add_rows<T, int64_t>(s);
}

// Numeric kernels (matmul, scatter_add) for the dtype `d`.
template <template <class> class K>
Kernel numeric_for(DType d) {
  return visit_dtype(d, [](auto z) -> Kernel {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, uint8_t>) return nullptr;
    return &K<T>::run;
  });
}
template <class T>
struct MatmulK {
  static void run(const Step& s) { matmul<T>(s); }
};
template <class T>
struct ScatterAddK {
  static void run(const Step& s) { scatter_add<T>(s); }
};

}  // namespace

Kernel select_kernel(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (op_info(n.op).elementwise()) return select_elementwise(g, id);
  DType d = n.type.is_tuple() ? DType::tuple : n.type.dtype;
  Kernel k = nullptr;
  switch (n.op) {
    case Op::Input:
    case Op::Param:
    case Op::Const:
    case Op::Get:
    case Op::Scan:
    case Op::Kernel: return nullptr;
    case Op::Fill: k = &fill; break;
    case Op::Iota: k = &iota; break;
    case Op::Reshape: k = &reshape; break;
    case Op::Broadcast: k = &broadcast; break;
    case Op::Transpose: k = &transpose; break;
    case Op::Slice: k = &slice; break;
    case Op::Concat: k = &concat; break;
    case Op::ReduceSum: k = reduce_for<Op::Add>(d); break;
    case Op::ReduceMax: k = reduce_for<Op::Max>(d); break;
    case Op::ReduceMin: k = reduce_for<Op::Min>(d); break;
    case Op::Matmul: k = numeric_for<MatmulK>(d); break;
    case Op::Gather: k = &gather; break;
    case Op::ScatterAdd: k = numeric_for<ScatterAddK>(d); break;
    default: break;
  }
  if (!k) internal_error("{}: no interpreter kernel for {}", node_label(g, id), type_str(n.type));
  return k;
}

}  // namespace sf::interp
