// Lowering: a verified graph (fused into kernel nodes or not) -> a KernelProgram with its memory
// plan. Any verified graph lowers:
//   - a `kernel` node becomes one loop: its scatter_adds an atomic-free segment sum that also
//     stores the body's per-source outputs, its rank-0 results stored once per launch, a concat
//     of its operands computed element by element; only a result of yet another element count
//     (which graph/kernel.h does not allow fusion to make) gets a loop of its own;
//   - outside kernels, every elementwise node and gather is a one-op kernel, a reduction a reduce
//     kernel, scatter_add a segment sum, matmul a library call, concat copies;
//   - broadcast, reshape, transpose, slice, fill, iota and scalar consts are index expressions in
//     the loads of their users; they are materialized (by a copy kernel) only where a buffer is
//     needed (matmul operands, scan operands, results);
//   - a scan becomes a region: its loop-invariant nodes run in a prologue, the rest every step;
//     a carry is updated in place when the kernel computing it reads the old value only at the
//     element it writes and nothing later reads the old value, and is double-buffered otherwise.
#pragma once
#include "compiler/kernel_program.h"

namespace sf {

KernelProgram lower(const Graph& g);

}  // namespace sf
