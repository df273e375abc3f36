// The CUDA backend: generated CUDA C++ (codegen.h) compiled with NVRTC (nvrtc.h) for the device's
// architecture, run through the driver API loaded at run time (driver.h). Whole scans run on the
// device with a per-region strategy (strategy.h); recording streams through device ring and event
// buffers to the host sink in time blocks.
#pragma once
#include <memory>

#include "backends/backend.h"

namespace sf {

// Throws sf::Error "no CUDA driver (...)", "no CUDA device (...)" or "out of device memory: ..."
// on machines that cannot run it; sf::InternalError if NVRTC rejects the generated source.
std::unique_ptr<Executable> make_cuda_executable(const KernelProgram& program, const BackendOptions& options);

}  // namespace sf
