// Streaming a top-level scan's recordings to the host sink, in the reference executor's order.
//
// The region runs in time blocks. Sink rows go to a device ring of two blocks' rows and events are
// appended (with atomics, in any order) to one of two event buffers; after block j is launched, its
// rows, event counts and error record are copied asynchronously to page-locked memory, and while
// block j+1 runs the host replays block j step by step: rows into chunks of chunk_rows, events
// sorted into step order (ties by index) in chunks of event_chunk, progress every 1% of the steps,
// so the sink sees exactly the calls the reference executor makes. A run-time error stops the replay
// at the failing step. If a block produced more events than its buffer holds, the region state is
// restored from the snapshot taken before that block and the block runs again, shorter.
#pragma once
#include <cuda.h>

#include <functional>
#include <vector>

#include "backends/cuda/device_buffer.h"
#include "backends/cuda/runtime.h"
#include "backends/interpreter/interpreter.h"
#include "compiler/kernel_program.h"

namespace sf::cuda {

class Recorder {
 public:
  // `arena`: the bytes snapshotted before each block when events may overflow.
  Recorder(const KernelProgram& p, const ScanRegion& r, const RunOptions& o, int64_t steps_per_block, CUstream stream,
           CUdeviceptr err, CUdeviceptr arena, int64_t arena_bytes);
  ~Recorder();

  CUdeviceptr ring(int y) const { return rings_[static_cast<size_t>(y)].ptr(); }
  CUdeviceptr events_base() const { return evbufs_.ptr(); }
  int64_t events_count() const { return static_cast<int64_t>(events_y_.size()); }
  int64_t ring_rows() const { return ring_rows_; }
  int half() const { return half_; }

  // Runs every step with launch(k0, k1) per block. `ptr` is the host pointer table (restored on a
  // rerun); `raise` throws the error a block recorded.
  void run(const std::function<void(int64_t, int64_t)>& launch, std::vector<CUdeviceptr>& ptr,
           const std::function<void(const HostErr&)>& raise);

 private:
  struct Block {
    int64_t k0 = 0, k1 = 0;
    int half = 0;
    std::vector<CUdeviceptr> ptr;  // the host table before the block
  };
  void alloc_events(uint64_t cap);
  void reset_events(int half);
  void enqueue_copies(const Block& b);
  bool finish(const Block& b, const std::function<void(const HostErr&)>& raise);  // false: events overflowed
  void replay(const Block& b, int64_t k_end);
  void flush_rows(size_t y);
  void flush_events(size_t y);
  int64_t value_bytes(size_t y) const;

  const KernelProgram& p_;
  const ScanRegion& r_;
  const RunOptions& o_;
  int64_t steps_ = 0, rows_per_block_ = 0, ring_rows_ = 1;
  CUstream stream_, copy_ = nullptr;
  CUevent done_[2] = {nullptr, nullptr};
  CUdeviceptr err_, arena_;
  int64_t arena_bytes_;
  int half_ = 0;
  std::vector<int> events_y_;                // ys in events mode
  std::vector<DeviceBuffer> rings_;          // per y (sink mode)
  std::vector<DeviceBuffer> event_data_[2];  // per half, per events output
  DeviceBuffer evbufs_;                      // [2][events] HostEvBuf
  DeviceBuffer snapshot_[2];
  uint64_t cap_ = 0;
  PinnedBuffer pinned_rows_[2], pinned_meta_[2];  // rows; error record + event buffer headers
  std::vector<int64_t> row_offset_;              // per y: its rows' offset in pinned_rows_
  // The replay state, as the reference's.
  std::vector<Tensor> chunk_;
  std::vector<int64_t> filled_, sent_;
  std::vector<std::vector<Event>> events_;
  std::vector<std::vector<HostEvent>> block_events_;
  std::vector<size_t> next_event_;
};

}  // namespace sf::cuda
