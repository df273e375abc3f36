#include "backends/cpu/blas.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "graph/error.h"

namespace sf::cpu {
namespace {

using Dgemm = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                       double*, int);
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                       int);
Dgemm dgemm = nullptr;
Sgemm sgemm = nullptr;

extern "C" void sf_cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double* a,
                               int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  dgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
extern "C" void sf_cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float* a, int lda,
                               const float* b, int ldb, float beta, float* c, int ldc) {
  sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

void load_blas() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    // The library the build found, then the runtime names Debian's OpenBLAS and reference BLAS use.
    std::string tried;
    for (const char* name : {SF_BLAS_LIBRARY, "libopenblas.so.0", "libcblas.so.3", "libblas.so.3"}) {
      void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!lib) {
        tried += std::string(tried.empty() ? "" : "; ") + dlerror();
        continue;
      }
      dgemm = reinterpret_cast<Dgemm>(dlsym(lib, "cblas_dgemm"));
      sgemm = reinterpret_cast<Sgemm>(dlsym(lib, "cblas_sgemm"));
      if (dgemm && sgemm) return;
      tried += std::string(tried.empty() ? "" : "; ") + name + ": no cblas_dgemm/cblas_sgemm";
      dgemm = nullptr, sgemm = nullptr;
    }
    error = tried;
  });
  if (!dgemm) fail("cpu backend: a large matmul needs CBLAS, which could not be loaded ({})", error);
}

void* blas_dgemm_entry() { return reinterpret_cast<void*>(&sf_cblas_dgemm); }
void* blas_sgemm_entry() { return reinterpret_cast<void*>(&sf_cblas_sgemm); }

}  // namespace sf::cpu
