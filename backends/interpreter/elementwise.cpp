// Elementwise kernels. Each (op, dtype) pair gets its own loop with the op's scalar function from
// ops/scalar.h inlined: the semantics stay defined in one place, and a body of hundreds of small
// nodes does not pay an indirect call per element.
#include <type_traits>

#include "backends/interpreter/kernels.h"
#include "graph/error.h"
#include "ops/scalar.h"

namespace sf::interp {
namespace {

// An operand of an elementwise node has the result's shape (stride 1) or is a rank-0 scalar that
// broadcasts (stride 0).
template <class T>
struct Operand {
  const T* p;
  int64_t stride;
  T operator[](int64_t i) const { return p[i * stride]; }
  bool full() const { return stride == 1; }
};

template <class T>
Operand<T> operand(const Step& s, size_t k) {
  const Tensor* t = s.in[k];
  return {t->data<T>(), t->rank() == 0 ? 0 : 1};
}

// out[i] = f(a[i], b[i]); the branch-free path when nothing broadcasts lets the compiler vectorize.
template <class R, class A, class B, class F>
void map2(R* out, int64_t n, Operand<A> a, Operand<B> b, F f) {
  if (a.full() && b.full()) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a.p[i], b.p[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  }
}

template <class T, Op O>
void unary(const Step& s) {
  constexpr UnaryFn<T> f = unary_fn<T>(O);
  const T* a = s.in[0]->data<T>();  // a unary operand has the result's shape
  T* out = s.out->data<T>();
  for (int64_t i = 0, n = s.out->size(); i < n; ++i) out[i] = f(a[i]);
}

template <class T, Op O>
void binary(const Step& s) {
  constexpr BinaryFn<T> f = binary_fn<T>(O);
  map2(s.out->data<T>(), s.out->size(), operand<T>(s, 0), operand<T>(s, 1), [](T a, T b) { return f(a, b); });
}

template <class T, Op O>
void compare(const Step& s) {
  constexpr CompareFn<T> f = compare_fn<T>(O);
  map2(s.out->data<uint8_t>(), s.out->size(), operand<T>(s, 0), operand<T>(s, 1),
       [](T a, T b) -> uint8_t { return f(a, b) ? 1 : 0; });
}

template <class T>
void where(const Step& s) {
  Operand<uint8_t> c = operand<uint8_t>(s, 0);
  Operand<T> a = operand<T>(s, 1), b = operand<T>(s, 2);
  T* out = s.out->data<T>();
  for (int64_t i = 0, n = s.out->size(); i < n; ++i) out[i] = c[i] ? a[i] : b[i];
}

template <class To, class From>
void cast(const Step& s) {
  const From* a = s.in[0]->data<From>();
  To* out = s.out->data<To>();
  for (int64_t i = 0, n = s.out->size(); i < n; ++i) out[i] = convert<To>(a[i]);
}

// Whether an op with operand dtypes `S` accepts element type T (so only legal pairs instantiate).
template <DTypeSet S, class T>
constexpr bool allows() {
  constexpr bool fp = std::is_floating_point_v<T>;
  constexpr bool integer = std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>;
  if constexpr (S == kNum) return fp || integer;
  if constexpr (S == kFloat) return fp;
  if constexpr (S == kBool) return std::is_same_v<T, uint8_t>;
  return true;
}

template <Op O, DTypeSet S>
Kernel unary_for(DType d) {
  return visit_dtype(d, [](auto z) -> Kernel {
    using T = decltype(z);
    if constexpr (allows<S, T>()) return &unary<T, O>;
    return nullptr;
  });
}

template <Op O, DTypeSet S>
Kernel binary_for(DType d) {
  return visit_dtype(d, [](auto z) -> Kernel {
    using T = decltype(z);
    if constexpr (allows<S, T>()) return &binary<T, O>;
    return nullptr;
  });
}

template <Op O>
Kernel compare_for(DType d) {
  return visit_dtype(d, [](auto z) -> Kernel { return &compare<decltype(z), O>; });
}

Kernel cast_for(DType to, DType from) {
  return visit_dtype(to, [&](auto t) -> Kernel {
    return visit_dtype(from, [](auto f) -> Kernel { return &cast<decltype(t), decltype(f)>; });
  });
}

}  // namespace

Kernel select_elementwise(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  // The operand that carries the element type: where's first operand is its bool condition.
  DType d = g.type(n.operands.at(n.op == Op::Where ? 1 : 0)).dtype;
  Kernel k = nullptr;
  switch (n.op) {
#define SF_UNARY(E, name, dt, expr) \
  case Op::E: k = unary_for<Op::E, dt>(d); break;
#define SF_BINARY(E, name, dt, comm, expr) \
  case Op::E: k = binary_for<Op::E, dt>(d); break;
#define SF_COMPARE(E, name, expr) \
  case Op::E: k = compare_for<Op::E>(d); break;
#include "ops/ops.def"
    case Op::Where: k = visit_dtype(d, [](auto z) -> Kernel { return &where<decltype(z)>; }); break;
    case Op::Cast: k = cast_for(n.type.dtype, d); break;
    default: break;
  }
  if (!k) internal_error("{}: no elementwise kernel for {}", node_label(g, id), dtype_name(d));
  return k;
}

}  // namespace sf::interp
