// The KernelProgram: what the compiler hands to backends, and what they lower without further
// analysis. A program is a list of buffers and a list of steps.
//
// Buffers have a dtype, a static shape and a role (input, const, state, temp, output, record, row);
// the memory plan (compiler/memory_plan.h) gives the ones the program allocates an offset in one
// arena. Steps are kernel launches, library calls (matmul), copies, segment-index builds and scan
// regions (nested steps run `length` times).
//
// A kernel is a loop `for o in [0, n)` over an element index with a small scalar SSA body: loads
// (`buf[idx]`, with the index computed by index arithmetic, so broadcast/reshape/slice/transpose
// and gather are index expressions), constants, arithmetic and math calls named by their `Op`
// (the semantics are ops/scalar.h's), select, casts, bounds checks and stores. Two kinds also fold
// a sequence of source elements into each output element, in a fixed order:
//   Reduce     - reduce_sum/max/min along an axis: output o = (q, r) = (o / stride, o % stride)
//                folds sources e = q*len*stride + j*stride + r for j = 0, 1, ..., len-1;
//   SegmentSum - scatter_add without atomics: output o = (s, c) = (o / row, o % row) sums sources
//                e = order[p]*row + c for p in [offsets[s], offsets[s+1]), where offsets/order are a
//                CSR index built by a Segments step (a stable sort of the scatter's indices, so the
//                sum runs in the interpreter's order).
// Their `inner` instructions compute the source values at e (`yield k, v` hands value v to
// accumulator k; stores there write per-source outputs, each source is visited exactly once), and
// their `body` runs per output element, reading the folded values with `acc k`.
// Nothing here knows about CPUs or GPUs: a CPU backend emits each kernel as a loop, a GPU backend
// as the body of a grid-stride loop.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/attrs.h"
#include "graph/graph.h"

namespace sf {

// ---- buffers ---------------------------------------------------------------------------------

enum class BufferRole : uint8_t {
  Input,   // bound by name at run time (graph input; may have a default)
  Const,   // data held by the program
  State,   // a scan carry (or its second buffer, where the carry is double-buffered)
  Temp,    // an intermediate value
  Output,  // a computed graph result
  Record,  // a scan's stacked rows, or its sink/events count
  Row,     // row k of a scan's xs buffer at step k: a view, not storage
};
const char* buffer_role_name(BufferRole r);

struct Buffer {
  std::string name;  // the graph value it holds ("%12", "V0", "k3.0", ...)
  DType dtype = DType::f64;
  Shape shape;
  BufferRole role = BufferRole::Temp;
  std::string input;      // Input: the input's name
  TensorPtr value;        // Const: the data; Input: the default (null when there is none)
  int64_t offset = -1;    // byte offset in the arena (memory plan); -1 for input, const, row
  int64_t elements() const { return num_elements(shape); }
  int64_t bytes() const { return elements() * dtype_size(dtype); }
  bool in_arena() const { return role != BufferRole::Input && role != BufferRole::Const && role != BufferRole::Row; }
};

// ---- kernels ---------------------------------------------------------------------------------

enum class InstKind : uint8_t {
  Index,    // the loop index (o in `body`, e in `inner`), i64
  Const,    // `bits`: the value's bytes in `dtype`
  Load,     // buf[a] (a = -1: element 0, the same for every iteration)
  Unary,    // op(a)
  Binary,   // op(a, b); index arithmetic is Binary add/mul on i64
  Compare,  // op(a, b) -> bool, compared in a's dtype
  Select,   // a ? b : c
  Cast,     // a converted to dtype with the IR's cast semantics
  Div,      // a / imm for an index a >= 0 (i64)
  Rem,      // a % imm for an index a >= 0 (i64)
  Check,    // a (i64) if 0 <= a < imm, else a run-time error naming `what` at position b
  Acc,      // `body` of Reduce/SegmentSum: the folded value of accumulator imm
  Yield,    // `inner`: hand value a to accumulator imm
  Store,    // buf[a] = b; a = -1: buf[0] = b, once per launch (by iteration 0)
};
const char* inst_kind_name(InstKind k);

struct Inst {
  InstKind kind = InstKind::Const;
  DType dtype = DType::i64;  // the result's dtype (Store, Yield: the value's)
  Op op = Op::Add;           // Unary, Binary, Compare
  int a = -1, b = -1, c = -1;  // operands: earlier instructions of the same list
  int buf = -1;              // Load, Store
  int64_t imm = 0;           // Div/Rem divisor, Check limit, Acc/Yield accumulator
  uint64_t bits = 0;         // Const
  std::string what;          // Check: the node named by an out-of-range error
};

enum class KernelKind : uint8_t { Map, Reduce, SegmentSum };
const char* kernel_kind_name(KernelKind k);

struct Kernel {
  std::string name;
  KernelKind kind = KernelKind::Map;
  int64_t n = 0;            // iterations of the element loop (output elements)
  std::vector<Inst> body;   // per output element o
  // Reduce and SegmentSum.
  std::vector<Inst> inner;  // per source element e
  int accs = 0;             // accumulators (yield/acc numbers 0..accs-1)
  Op combine = Op::Add;     // Reduce: Add (from 0), Max or Min (from the first source); SegmentSum: Add
  int64_t len = 0, stride = 1;        // Reduce
  int offsets = -1, order = -1;       // SegmentSum: the CSR index (i64 buffers)
  int64_t row = 1;                    // SegmentSum: elements per segment row
  int id = -1;              // 0.. in program order, for executors' per-kernel caches
};

// ---- steps -----------------------------------------------------------------------------------

// dst[dst_offset + r*dst_stride + i] = src[src_offset + r*src_stride + i] for r < rows, i < elems.
struct CopyStep {
  int dst = -1, src = -1;
  int64_t rows = 1, elems = 0, dst_offset = 0, src_offset = 0, dst_stride = 0, src_stride = 0;
};

// out[m,n] = a[m,k] x b[k,n] (b a vector: n = 1), sums in the interpreter's order (p = 0..k-1).
struct MatmulStep {
  int a = -1, b = -1, out = -1;
  int64_t m = 0, k = 0, n = 0;
};

// The CSR index of a scatter's indices: offsets[s]..offsets[s+1] are the positions, in `order`,
// of the indices equal to s, in increasing position. An index outside [0, size) is a run-time
// error naming `what`.
struct SegmentsStep {
  int index = -1, offsets = -1, order = -1;
  int64_t size = 0;
  std::string what;
};

struct Step;

struct ScanCarry {
  int init = -1;   // the initial value, copied into `state` when the region starts
  int state = -1;  // the carry; its value after the region is the scan's result
  int next = -1;   // double-buffered carries: the body writes the new value here, then the two
                   // buffers swap after the step is recorded; -1: updated in place
};
struct ScanXs {
  int xs = -1, row = -1;  // `row` is row k of `xs` during step k
};
struct ScanOutput {
  RecordMode mode = RecordMode::Stack;
  int value = -1;  // the per-step value, read after the body
  int out = -1;    // stack: [rows, ...]; sink/events: the i64 count
};

struct ScanRegion {
  NodeId node = -1;   // the scan node in its graph (what sinks are told)
  std::string label;  // "%3 (scan)", for run-time errors
  bool top = false;   // in the top-level graph (only those stream to sinks)
  int64_t length = 0, every = 1;
  std::string cls;     // the classify pass's "class" attribute ("elementwise"/"coupled"), "" if unset
  int64_t stages = 0;  // its "stages" attribute, 0 if unset
  std::vector<ScanCarry> carries;
  std::vector<ScanXs> xs;
  std::vector<ScanOutput> ys;
  std::vector<Step> prologue;  // loop-invariant steps: run once per region run, before step 0
  std::vector<Step> body;      // every step: body, then recording, then the swaps
};

enum class StepKind : uint8_t { Kernel, Matmul, Copy, Segments, Scan };
const char* step_kind_name(StepKind k);

struct Step {
  StepKind kind = StepKind::Kernel;
  Kernel kernel;
  MatmulStep matmul;
  CopyStep copy;
  SegmentsStep segments;
  ScanRegion scan;
};

// ---- the program -----------------------------------------------------------------------------

struct MemoryPlan {
  int64_t peak_bytes = 0;      // the arena: every state, temp, output and record buffer
  int64_t unshared_bytes = 0;  // what the same buffers take without reuse (aligned the same way)
  int64_t arena_buffers = 0;
  int64_t input_bytes = 0, const_bytes = 0;  // bound or held outside the arena
};

struct KernelProgram {
  std::string name;
  std::vector<Buffer> buffers;
  std::vector<Step> steps;
  std::vector<int> inputs;   // the Input buffers, in the graph's input order
  std::vector<int> results;  // the graph's results, in order
  int kernels = 0;           // Kernel steps (ids 0..kernels-1)
  MemoryPlan plan;
};

// A readable text form (it need not parse): buffers with roles, sizes and arena offsets, steps,
// each kernel's SSA body, and the memory plan.
std::string print_program(const KernelProgram& p);

// Calls f on every step, nested ones included (pre-order).
template <class F>
void for_each_step(const std::vector<Step>& steps, F&& f) {
  for (const Step& s : steps) {
    f(s);
    if (s.kind == StepKind::Scan) {
      for_each_step(s.scan.prologue, f);
      for_each_step(s.scan.body, f);
    }
  }
}

// Per instruction: whether it is the same for every iteration (not the index, an accumulator, a
// store or a yield, and every operand uniform). Executors compute those once per launch.
std::vector<bool> uniform_insts(const std::vector<Inst>& insts);

// Program statistics.
struct ProgramStats {
  int64_t kernels = 0;           // kernel steps in the program text
  int64_t library_calls = 0;     // matmul steps in the program text
  int64_t kernels_per_step = 0;  // kernel launches per step of the main scan (the top-level one
                                 // with the most steps; 0 without one), nested scans' included
  int64_t launches = 0;          // kernel launches of a whole run
};
ProgramStats program_stats(const KernelProgram& p);

}  // namespace sf
