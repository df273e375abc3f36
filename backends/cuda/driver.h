// The CUDA driver API, loaded at run time with dlopen("libcuda.so.1"): the binary starts, and every
// feature that needs no GPU works, on a machine without a driver. The types come from <cuda.h>; no
// CUDA library is linked. Errors become sf::Error with a one-line reason.
#pragma once
#include <cuda.h>

#include <cstdint>
#include <string>

namespace sf::cuda {

// The driver functions scanflow calls. <cuda.h> maps some names to versioned symbols
// (cuMemAlloc -> cuMemAlloc_v2); the table member and the dlsym name follow the same macro.
#define SF_CUDA_DRIVER_FUNCTIONS(X)                                                                \
  X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuGetErrorString) X(cuDeviceGetCount)        \
  X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute) X(cuDeviceTotalMem)                    \
  X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent) X(cuCtxSynchronize)  \
  X(cuModuleLoadData) X(cuModuleUnload) X(cuModuleGetFunction) X(cuMemAlloc) X(cuMemFree)          \
  X(cuMemAllocHost) X(cuMemFreeHost) X(cuMemGetInfo) X(cuMemcpyHtoD) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync)     \
  X(cuMemcpyDtoDAsync) X(cuMemsetD8Async) X(cuStreamCreate) X(cuStreamDestroy)                    \
  X(cuStreamSynchronize) X(cuEventCreate) X(cuEventDestroy) X(cuEventRecord) X(cuEventSynchronize) \
  X(cuEventElapsedTime) X(cuLaunchKernel) X(cuLaunchCooperativeKernel)                             \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor) X(cuStreamBeginCapture) X(cuStreamEndCapture)     \
  X(cuGraphInstantiate) X(cuGraphLaunch) X(cuGraphExecDestroy) X(cuGraphDestroy)

struct Driver {
#define SF_CUDA_DECLARE(name) decltype(&::name) name = nullptr;
  SF_CUDA_DRIVER_FUNCTIONS(SF_CUDA_DECLARE)
#undef SF_CUDA_DECLARE
  int version = 0;  // cuDriverGetVersion: 1000 * major + 10 * minor
};

// The loaded and initialized driver. sf::Error "no CUDA driver (...)" when libcuda.so.1 cannot be
// loaded (or is the toolkit's stub), "no CUDA device (...)" when cuInit finds none. The library
// name can be overridden with $SCANFLOW_LIBCUDA (tests point it at the stub).
const Driver& driver();

// Throws sf::Error "CUDA error in WHAT: NAME (description)" unless r is CUDA_SUCCESS.
void check(CUresult r, const char* what);

// Device 0 with its primary context made current on the calling thread.
struct Device {
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int sms = 0;               // multiprocessors
  bool cooperative = false;  // cooperative launches (grid-wide barriers) supported
  int64_t memory = 0;        // bytes
  std::string arch() const { return std::string("sm_").append(std::to_string(major * 10 + minor)); }
};
// sf::Error "no CUDA device" when the driver reports none.
const Device& device();

// Device memory: sf::Error "out of device memory: N bytes asked (...)" when the allocation fails.
CUdeviceptr alloc(int64_t bytes);
void release(CUdeviceptr p);

}  // namespace sf::cuda
