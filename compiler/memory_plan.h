// The memory plan of a KernelProgram: every buffer the program allocates (state, temp, output,
// record) gets a byte offset in one arena, and buffers whose lifetimes do not overlap share
// storage.
//
// Liveness is computed over the step list in order. A scan region's steps repeat, so a buffer
// used inside a region but computed outside it (a captured value, a carry, an xs table) is live
// for the whole region, while a temp computed and last read within one step of the region lives
// only between those two points of the body, and its storage is reused by other temps of the same
// step. A carry and its second buffer swap storage every step, so they are live together.
//
// A map kernel that reads a buffer only at the element it writes (b[i] read, out[i] written) may
// write its output over that buffer when the buffer dies there: the chain a -> b -> c of one-op
// kernels runs in two buffers.
#pragma once
#include "compiler/kernel_program.h"

namespace sf {

// Sets every arena buffer's offset and p.plan. Buffers are aligned to 64 bytes.
void plan_memory(KernelProgram& p);

}  // namespace sf
