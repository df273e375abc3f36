// Run-time compilation of generated CUDA C++ with NVRTC, cached in memory and on disk.
//
// The cache key is a hash of the source, the target architecture, the options and the NVRTC
// version; the disk cache lives in $SCANFLOW_CACHE_DIR, else ~/.cache/scanflow/cuda, each module
// (KEY.ptx or KEY.cubin) beside its source (KEY.cu). A compile error
// in generated code is a compiler bug: it throws sf::InternalError (exit 2 in the CLI) quoting the
// generated source lines the NVRTC log points at.
#pragma once
#include <cstdint>
#include <string>

namespace sf::cuda {

struct CompiledModule {
  std::string image;  // PTX text (NUL-terminated when loaded) or a cubin
  bool cubin = false;
  bool from_memory = false, from_disk = false;  // where a cache hit came from
  double ms = 0;                                 // NVRTC time (0 on a cache hit)
  std::string log;                               // NVRTC's log (warnings), if any
};

// `arch` is "compute_90" (PTX, no device needed) or "sm_90" (a cubin for that device).
// `name` names the source in NVRTC messages ("hh_squid.cu").
CompiledModule compile_cuda(const std::string& source, const std::string& arch, const std::string& name = "scanflow.cu",
                            bool use_cache = true);

// The NVRTC options every compile uses: IEEE arithmetic (no FMA contraction, no flush to zero,
// correctly rounded division and square root), so results follow ops/scalar.h.
const char* const* nvrtc_options(int* count);

// Empties the in-memory cache (the disk cache stays): what a fresh process sees.
void forget_compiled_modules();

// The directory of the disk cache ("" when there is no usable one).
std::string cache_dir();

// 64-bit FNV-1a, hex (cache keys).
std::string hash_hex(const std::string& s);

}  // namespace sf::cuda
