// cuBLAS for large matmuls, loaded with dlopen (libcublas.so.13, .12 or .so) so nothing links it.
// Row-major out[m,n] = a[m,k] x b[k,n] is computed as the column-major product b^T a^T.
#pragma once
#include <cuda.h>

#include <cstdint>

namespace sf::cuda {

class Cublas {
 public:
  // null when no cuBLAS library can be loaded (matmuls then use the generated loops).
  static Cublas* get();
  void gemm(bool f64, CUstream stream, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, int64_t m, int64_t n, int64_t k);

 private:
  void* handle_ = nullptr;
  int (*set_stream_)(void*, CUstream) = nullptr;
  int (*dgemm_)(void*, int, int, int, int, int, const double*, const double*, int, const double*, int, const double*,
                double*, int) = nullptr;
  int (*sgemm_)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*, float*,
                int) = nullptr;
};

}  // namespace sf::cuda
