// Small structural helpers the optimisation passes share: what is a constant, what is a splat,
// which operand orders are interchangeable without changing bits.
#pragma once
#include <optional>

#include "graph/graph.h"

namespace sf {

// A node whose value is known at compile time without evaluating anything: const, fill, iota.
bool is_constant(const Graph& g, NodeId id);

// The value of a constant whose elements all have the same bits (fill, a rank-0 const, a const
// splat), as a rank-0 tensor of the node's dtype; nullopt otherwise.
std::optional<Tensor> splat_of(const Graph& g, NodeId id);

// Whether splat `t` is `v` converted to its dtype, bit for bit (for floats -0.0 is not 0.0; for
// integers they are the same 0).
bool splat_is(const Tensor& t, double v);

// The splat's value as a double (exact for f32, f64, i32, bool; i64 above 2^53 rounds).
double splat_double(const Tensor& t);

// Whether op(a, b) and op(b, a) give the same bits for operands of `dtype`. add and mul: yes
// (IEEE 754 leaves which NaN comes out of NaN + NaN unspecified, and so do the C++ compilers the
// interpreter is built with, so the NaN payload is not part of the semantics). and, or, eq, ne:
// yes. min and max: only for integers: the reference semantics returns the first operand when the
// comparison is false, so min(NaN, 1) = NaN but min(1, NaN) = 1, and min(-0, +0) = -0 but
// min(+0, -0) = +0.
bool commutes_exactly(Op op, DType dtype);

}  // namespace sf
