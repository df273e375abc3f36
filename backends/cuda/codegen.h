// KernelProgram -> one CUDA C++ source (extern "C" __global__ functions with stable names) and the
// launch plan the runtime follows. Nothing here needs a device: the source compiles with NVRTC for
// compute_90 anywhere, and `scanflow compile --target cuda --emit-cuda FILE.cu` writes it.
//
// Every device-side unit of work is an Op: a kernel, a copy, a small matmul, a segments (CSR) build,
// or a scan region's recording. Each op has a device function `sf_<op>_run(p, c, i0, nt)` that does
// its work as a grid-stride loop (thread i0 of nt), reading its buffers from the pointer slots `p`,
// and a __global__ wrapper `sf_<op>` taking the slots by value. Scan regions run with one of four
// strategies (see strategy.h): the wrappers launched per step ("launch"), the same captured in a
// CUDA graph ("graph"), one kernel looping over time with barriers ("persistent"), or one kernel in
// which each thread integrates its elements for all steps in registers ("elementwise").
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backends/cuda/strategy.h"
#include "compiler/kernel_program.h"

namespace sf::cuda {

// Deepest scan nesting the generated context holds step numbers for.
inline constexpr int kMaxDepth = 8;

// A pointer an op reads: a program buffer (a Row buffer means its scan's xs; the op adds the row
// offset), the device ring of sink output `ring_y` of region `ring_region`, or the scratch words
// where region `scratch_region`'s elementwise kernel leaves its Scalar carries.
struct Slot {
  int buf = -1;
  int ring_region = -1, ring_y = -1;
  int scratch_region = -1;
};

enum class OpKind { Kernel, Copy, Matmul, Segments, Record };

struct DevOp {
  OpKind kind = OpKind::Kernel;
  std::string fn;           // the __global__ wrapper ("sf_k3", "sf_copy2", "sf_r0_record")
  std::vector<Slot> slots;  // the wrapper's pointer slots, in order
  int64_t n = 0;            // iterations of its loop (threads worth launching)
  int region = -1;          // innermost enclosing scan region, -1 at top level
  const Step* step = nullptr;  // null for Record
  bool cublas = false;         // Matmul: large enough for cuBLAS (launch strategy)
};

struct Region {
  const ScanRegion* scan = nullptr;
  int parent = -1, depth = 0;  // enclosing region, nesting depth (0 = top level)
  Strategy strategy = Strategy::Launch;
  std::string why;             // why this strategy (chosen, or the requested one did not apply)
  int record_op = -1;          // the op recording its per-step outputs
  std::vector<int> body_ops;   // ops of its body steps, in order (nested scans: none)
  // persistent / elementwise: the kernel, its table of slots (resolved twice on the host: with the
  // carries as at an even step and as at an odd step), and its launch shape.
  std::string fn;
  std::vector<Slot> table;
  int64_t threads = 0;         // elementwise: the element count; persistent: the widest op
  bool one_block = false;      // persistent: the whole step fits one block (__syncthreads barriers)
  int64_t barriers = 0;        // persistent: barriers per step
  std::vector<int> events_y;   // per-step outputs in events mode, in order (index into ys)
  std::vector<int> sink_y;     // ... in sink mode
  // elementwise: the Scalar buffers, in scratch order. Thread 0 leaves their final values in the
  // scratch words (8 bytes each), and the host copies them into the buffers after the kernel: written
  // in place, they could reach threads that have not read the block's starting value yet.
  std::vector<int> scalars;
};

// A run-time error site: a bounds check or a segments index check.
struct ErrorSite {
  std::string what;
  int64_t limit = 0;
  int region = -1;  // innermost enclosing region (its labels prefix the message)
};

struct CodegenOptions {
  std::string strategy;         // "" = chosen per region, else forced where it applies
  bool cooperative = true;      // the device can launch cooperative kernels
  int64_t cublas_min_flops = int64_t{1} << 22;  // m*n*k from which matmuls go to cuBLAS
  bool cublas = true;           // cuBLAS may be used (found at run time)
};

struct CudaCode {
  std::string source;
  std::vector<DevOp> ops;
  std::map<const Step*, int> op_of_step;
  std::vector<Region> regions;
  std::map<const ScanRegion*, int> region_of;
  std::vector<ErrorSite> errors;
  std::vector<int> row_xs;      // per buffer: the xs buffer of a Row, else -1
  std::vector<int> row_region;  // per buffer: the region of a Row, else -1
};

// Throws sf::Error for programs this backend cannot run (scans nested deeper than kMaxDepth).
CudaCode generate_cuda(const KernelProgram& p, const CodegenOptions& options = {});

// The C++ type of an element in generated code ("double", "long long", "unsigned char", ...).
const char* cuda_type(DType d);

}  // namespace sf::cuda
