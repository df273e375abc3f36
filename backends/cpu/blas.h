// CBLAS for the generated code's large matmuls, loaded the first time a program needs it.
//
// OpenBLAS starts its worker threads when it is loaded, and they spin (sched_yield) for a while
// waiting for work: linked into scanflow, they took a core from the JIT's compile threads and from
// every short run, in programs that never multiply matrices. So the library is dlopen'ed only when
// a compiled program calls CBLAS (before the run starts, so run times do not include the load).
#pragma once

namespace sf::cpu {

// Loads the BLAS library once (thread-safe); throws sf::Error naming the library if it cannot.
void load_blas();

// Addresses the JIT binds cblas_dgemm and cblas_sgemm to: they call the loaded library.
void* blas_dgemm_entry();
void* blas_sgemm_entry();

}  // namespace sf::cpu
