#include "backends/cuda/driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "graph/error.h"

namespace sf::cuda {
namespace {

#define SF_STR2(x) #x
#define SF_STR(x) SF_STR2(x)

std::string result_text(const Driver& d, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (d.cuGetErrorName) d.cuGetErrorName(r, &name);
  if (d.cuGetErrorString) d.cuGetErrorString(r, &text);
  return fmt::format("{} ({})", name ? name : fmt::format("CUresult {}", static_cast<int>(r)), text ? text : "");
}

// Loads the library and every symbol; initializes the driver. Throws the user-facing errors.
Driver load() {
  const char* env = std::getenv("SCANFLOW_LIBCUDA");
  std::string lib = env && *env ? env : "libcuda.so.1";
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = dlerror();  // usually "NAME: reason" already
    std::string reason = why ? why : "cannot be loaded";
    fail("no CUDA driver ({})", reason.rfind(lib, 0) == 0 ? reason : lib + ": " + reason);
  }
  Driver d;
#define SF_CUDA_LOAD(name)                                                                   \
  d.name = reinterpret_cast<decltype(&::name)>(dlsym(h, SF_STR(name)));                     \
  if (!d.name) fail("no CUDA driver ({} lacks {}; the driver is too old)", lib, SF_STR(name));
  SF_CUDA_DRIVER_FUNCTIONS(SF_CUDA_LOAD)
#undef SF_CUDA_LOAD
  CUresult r = d.cuInit(0);
  if (r == CUDA_ERROR_STUB_LIBRARY) fail("no CUDA driver ({} is the CUDA toolkit's stub library)", lib);
  if (r == CUDA_ERROR_NO_DEVICE) fail("no CUDA device (cuInit found none)");
  if (r != CUDA_SUCCESS) fail("no CUDA device (cuInit: {})", result_text(d, r));
  d.cuDriverGetVersion(&d.version);
  return d;  // the library stays loaded for the life of the process
}

// The driver loads once; a failure is remembered and thrown again, with the same message.
struct Loaded {
  std::once_flag once;
  Driver driver;
  std::string error;
};
Loaded& loaded() {
  static Loaded l;
  std::call_once(l.once, [&] {
    try {
      l.driver = load();
    } catch (const Error& e) {
      l.error = e.what();
    }
  });
  return l;
}

}  // namespace

const Driver& driver() {
  Loaded& l = loaded();
  if (!l.error.empty()) throw Error(l.error);
  return l.driver;
}

void check(CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return;
  fail("CUDA error in {}: {}", what, result_text(driver(), r));
}

const Device& device() {
  static std::once_flag once;
  static Device dev;
  static std::string error;
  const Driver& d = driver();
  std::call_once(once, [&] {
    try {
      int count = 0;
      check(d.cuDeviceGetCount(&count), "cuDeviceGetCount");
      if (count == 0) fail("no CUDA device (the driver reports none)");
      check(d.cuDeviceGet(&dev.dev, 0), "cuDeviceGet");
      char name[256] = {};
      check(d.cuDeviceGetName(name, sizeof name, dev.dev), "cuDeviceGetName");
      dev.name = name;
      auto attr = [&](CUdevice_attribute a) {
        int v = 0;
        check(d.cuDeviceGetAttribute(&v, a, dev.dev), "cuDeviceGetAttribute");
        return v;
      };
      dev.major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
      dev.minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
      dev.sms = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
      dev.cooperative = attr(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) != 0;
      size_t mem = 0;
      check(d.cuDeviceTotalMem(&mem, dev.dev), "cuDeviceTotalMem");
      dev.memory = static_cast<int64_t>(mem);
      check(d.cuDevicePrimaryCtxRetain(&dev.ctx, dev.dev), "cuDevicePrimaryCtxRetain");
    } catch (const Error& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw Error(error);
  check(d.cuCtxSetCurrent(dev.ctx), "cuCtxSetCurrent");
  return dev;
}

CUdeviceptr alloc(int64_t bytes) {
  const Driver& d = driver();
  CUdeviceptr p = 0;
  // Never zero bytes: every buffer gets an address (an empty input still has one).
  size_t n = static_cast<size_t>(std::max<int64_t>(bytes, 64));
  CUresult r = d.cuMemAlloc(&p, n);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) {
    size_t free = 0, total = 0;
    d.cuMemGetInfo(&free, &total);
    fail("out of device memory: {} bytes asked ({} of {} bytes free)", n, free, total);
  }
  check(r, "cuMemAlloc");
  return p;
}

void release(CUdeviceptr p) {
  if (p) driver().cuMemFree(p);
}

}  // namespace sf::cuda
