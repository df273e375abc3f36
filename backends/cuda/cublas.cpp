#include "backends/cuda/cublas.h"

#include <dlfcn.h>

#include <mutex>

#include "graph/error.h"

namespace sf::cuda {

Cublas* Cublas::get() {
  static std::once_flag once;
  static Cublas* instance = nullptr;
  std::call_once(once, [] {
    void* lib = nullptr;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
      if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!lib) return;
    auto* c = new Cublas;  // lives for the process, like the library
    auto create = reinterpret_cast<int (*)(void**)>(dlsym(lib, "cublasCreate_v2"));
    c->set_stream_ = reinterpret_cast<decltype(c->set_stream_)>(dlsym(lib, "cublasSetStream_v2"));
    c->dgemm_ = reinterpret_cast<decltype(c->dgemm_)>(dlsym(lib, "cublasDgemm_v2"));
    c->sgemm_ = reinterpret_cast<decltype(c->sgemm_)>(dlsym(lib, "cublasSgemm_v2"));
    if (!create || !c->set_stream_ || !c->dgemm_ || !c->sgemm_ || create(&c->handle_) != 0) {
      delete c;
      return;
    }
    instance = c;
  });
  return instance;
}

void Cublas::gemm(bool f64, CUstream stream, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, int64_t m, int64_t n,
                  int64_t k) {
  constexpr int kNoTranspose = 0;
  if (set_stream_(handle_, stream) != 0) fail("cuBLAS: cannot set the stream");
  int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
  int status;
  if (f64) {
    const double one = 1, zero = 0;
    status = dgemm_(handle_, kNoTranspose, kNoTranspose, M, N, K, &one, reinterpret_cast<const double*>(b), M,
                    reinterpret_cast<const double*>(a), K, &zero, reinterpret_cast<double*>(out), M);
  } else {
    const float one = 1, zero = 0;
    status = sgemm_(handle_, kNoTranspose, kNoTranspose, M, N, K, &one, reinterpret_cast<const float*>(b), M,
                    reinterpret_cast<const float*>(a), K, &zero, reinterpret_cast<float*>(out), M);
  }
  if (status != 0) fail("cuBLAS gemm failed (status {}) for [{},{}] x [{},{}]", status, m, k, k, n);
}

}  // namespace sf::cuda
