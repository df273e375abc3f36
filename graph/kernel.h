// The element-loop model of a `kernel` body: what one loop `for i in [0, n)` can compute, and how
// each op reads its operands there. Fusion (compiler/fuse) builds kernel bodies by it, verify
// checks them with it, and backends lower them with it.
//
// Every node a loop computes has a *loop count*: the number of iterations that compute it, which is
// its element count, except
//   scatter_add(src, idx): one iteration per element of src (each adds its term to a row of out);
//   concat of equal-sized parts laid end to end: one iteration per part element (iteration i
//     writes element i of every part), so a recording row costs no extra loop;
//   rank-0 nodes: loop count kUniform, computed once per launch, the same for every i.
// An operand is read in one of three ways:
//   Same    - iteration i reads element i (elementwise ops, reshape, size-preserving broadcast and
//             slice, the index of gather and scatter_add when it has one element per iteration);
//   Uniform - the operand is rank 0;
//   Indexed - iteration i reads other elements (the source of gather, slice, broadcast, transpose,
//             the parts of a concat of unequal parts), so the operand must be complete before the
//             loop starts: a body param or a source.
// The results of scatter_add and of an end-to-end concat are complete only after the loop, so no
// node of the same loop may read them.
#pragma once
#include <string>

#include "graph/graph.h"

namespace sf {

enum class Access : uint8_t { Same, Uniform, Indexed };

// Ops a kernel body may compute (besides its params): elementwise ops, const/fill/iota, reshape,
// broadcast, slice, transpose, concat, gather, scatter_add.
bool loop_op(Op op);
// Sources: computed from nothing, so any loop can recompute them at any element.
inline bool source_op(Op op) { return op == Op::Const || op == Op::Fill || op == Op::Iota; }

inline constexpr int64_t kUniform = -1;
int64_t loop_count(const Graph& g, NodeId id);  // kUniform for rank-0 nodes
Access operand_access(const Graph& g, NodeId id, size_t k);
bool result_in_loop(const Graph& g, NodeId id);     // false for scatter_add and end-to-end concat

// Throws sf::Error if `body` is not one loop: an op outside loop_op, two different loop counts, or a
// node reading a value computed in the same loop at other elements or before it is complete.
void check_kernel_body(const Graph& body);
// The loop count of a valid kernel body: the common loop count of its computed nodes (sources
// excluded); where there are none, the largest element count of its sources; 1 for a kernel that
// only computes rank-0 values.
int64_t kernel_loop_size(const Graph& body);

}  // namespace sf
