#include "backends/cuda/device_buffer.h"

#include <algorithm>

#include "backends/cuda/driver.h"
#include "graph/error.h"

namespace sf::cuda {

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    release(ptr_);
    ptr_ = o.ptr_, bytes_ = o.bytes_;
    o.ptr_ = 0, o.bytes_ = 0;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { release(ptr_); }

void DeviceBuffer::reset(int64_t bytes) {
  release(ptr_);
  ptr_ = 0;
  ptr_ = alloc(bytes);
  bytes_ = std::max<int64_t>(bytes, 64);
}

void DeviceBuffer::upload(const void* data, int64_t bytes, CUstream stream) {
  if (!ptr_ || bytes_ < bytes) reset(bytes);
  if (bytes <= 0) return;
  if (stream)
    write(data, bytes, stream);
  else
    check(driver().cuMemcpyHtoD(ptr_, data, static_cast<size_t>(bytes)), "cuMemcpyHtoD");
}

void DeviceBuffer::write(const void* data, int64_t bytes, CUstream stream) {
  if (bytes <= 0) return;
  if (bytes > bytes_) internal_error("cuda: writing {} bytes into a device buffer of {}", bytes, bytes_);
  // From pageable memory the driver stages the data before returning: `data` may change after.
  check(driver().cuMemcpyHtoDAsync(ptr_, data, static_cast<size_t>(bytes), stream), "cuMemcpyHtoDAsync");
}

void DeviceBuffer::read(void* data, int64_t bytes, CUstream stream) const {
  if (bytes <= 0) return;
  const Driver& d = driver();
  check(d.cuMemcpyDtoHAsync(data, ptr_, static_cast<size_t>(bytes), stream), "cuMemcpyDtoHAsync");
  check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");
}

PinnedBuffer::~PinnedBuffer() {
  if (data_) driver().cuMemFreeHost(data_);
}

void PinnedBuffer::reset(int64_t bytes) {
  if (data_) driver().cuMemFreeHost(data_);
  data_ = nullptr;
  void* p = nullptr;
  check(driver().cuMemAllocHost(&p, static_cast<size_t>(std::max<int64_t>(bytes, 64))), "cuMemAllocHost");
  data_ = static_cast<char*>(p);
}

}  // namespace sf::cuda
