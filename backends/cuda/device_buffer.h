// An owned device allocation (and one of page-locked host memory, for asynchronous copies).
#pragma once
#include <cuda.h>

#include <cstdint>

namespace sf::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = 0, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  ~DeviceBuffer();

  void reset(int64_t bytes);  // a fresh allocation of at least `bytes` (contents undefined)
  // Copies host data in, growing the allocation when needed; with a stream, ordered on it.
  void upload(const void* data, int64_t bytes, CUstream stream = nullptr);
  void write(const void* data, int64_t bytes, CUstream stream);  // into the existing allocation
  void read(void* data, int64_t bytes, CUstream stream) const;    // waits for the stream first
  CUdeviceptr ptr() const { return ptr_; }
  int64_t bytes() const { return bytes_; }

 private:
  CUdeviceptr ptr_ = 0;
  int64_t bytes_ = 0;
};

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer();
  void reset(int64_t bytes);
  char* data() const { return data_; }

 private:
  char* data_ = nullptr;
};

}  // namespace sf::cuda
