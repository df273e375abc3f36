// Scan strategies of the CUDA backend, and the choice among them.
//
//   elementwise - one kernel for the whole run (one launch per time block): each thread keeps its
//                 elements' carries in registers for all steps and writes only recorded rows;
//                 needs every body kernel to be a map over the same elements whose carried values
//                 are read and written at the thread's own element.
//   persistent  - one kernel looping over time, with a barrier between stages that need one
//                 (__syncthreads when the step fits one block, else a cooperative grid-wide sync).
//   graph       - one step's launches captured in a CUDA graph, replayed once per step.
//   launch      - one launch per kernel per step (the baseline; always applies).
#pragma once
#include <string>

#include "compiler/kernel_program.h"

namespace sf::cuda {

enum class Strategy { Launch, Graph, Persistent, Elementwise };
const char* strategy_name(Strategy s);
// sf::Error naming the strategies for an unknown name ("" is not a name).
Strategy parse_strategy(const std::string& name);

// Why `s` cannot run region `r` ("" when it can). `top`: a top-level scan; `cooperative`: the
// device supports grid-wide barriers; `cublas_min_flops`: matmuls this large go to cuBLAS.
std::string strategy_blocker(Strategy s, const KernelProgram& p, const ScanRegion& r, bool top, bool cooperative,
                             int64_t cublas_min_flops);

// The strategy for region `r`: `requested` if it applies (else the next one down the list
// elementwise > persistent > graph > launch), or, with none requested, elementwise for an
// elementwise scan and persistent (or graph, for very wide steps) for a coupled one. `why` says which.
Strategy choose_strategy(const KernelProgram& p, const ScanRegion& r, bool top, const std::string& requested, bool cooperative,
                         int64_t cublas_min_flops, std::string* why);

// Whether a matmul goes to cuBLAS: floating point, m*n*k >= min_flops, every size an int.
bool uses_cublas(const MatmulStep& m, DType d, int64_t min_flops);

// The widest op of a step list (threads a persistent kernel would want).
int64_t widest_op(const std::vector<Step>& steps);
// Whether one block of 1024 threads should run the steps (barriers are __syncthreads).
bool fits_one_block(const std::vector<Step>& steps);

}  // namespace sf::cuda
