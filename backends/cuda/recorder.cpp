#include "backends/cuda/recorder.h"

#include <algorithm>
#include <cstring>

#include "backends/cuda/driver.h"
#include "graph/error.h"

namespace sf::cuda {

Recorder::Recorder(const KernelProgram& p, const ScanRegion& r, const RunOptions& o, int64_t steps_per_block,
                   CUstream stream, CUdeviceptr err, CUdeviceptr arena, int64_t arena_bytes)
    : p_(p), r_(r), o_(o), steps_(steps_per_block), stream_(stream), err_(err), arena_(arena), arena_bytes_(arena_bytes) {
  const Driver& d = driver();
  check(d.cuStreamCreate(&copy_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  for (CUevent& e : done_) check(d.cuEventCreate(&e, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  rows_per_block_ = steps_ / r.every;
  ring_rows_ = std::max<int64_t>(1, 2 * rows_per_block_);
  size_t ny = r.ys.size();
  rings_.resize(ny);
  row_offset_.assign(ny, 0);
  chunk_.resize(ny);
  filled_.assign(ny, 0), sent_.assign(ny, 0);
  events_.resize(ny);
  int64_t row_bytes = 0, event_elements = 0;
  for (size_t y = 0; y < ny; ++y) {
    const Buffer& v = p.buffers[static_cast<size_t>(r.ys[y].value)];
    if (r.ys[y].mode == RecordMode::Sink) {
      rings_[y].reset(ring_rows_ * v.bytes());
      row_offset_[y] = row_bytes;
      row_bytes += rows_per_block_ * v.bytes();
      Shape cs = v.shape;
      cs.insert(cs.begin(), sink_chunk_rows(o, r.length, r.every));
      chunk_[y] = Tensor(v.dtype, cs);
    }
    if (r.ys[y].mode == RecordMode::Events) {
      events_y_.push_back(static_cast<int>(y));
      event_elements = std::max(event_elements, v.elements());
    }
  }
  for (auto& b : pinned_rows_) b.reset(row_bytes);
  for (auto& b : pinned_meta_) b.reset(static_cast<int64_t>(sizeof(HostErr) + events_y_.size() * sizeof(HostEvBuf)));
  block_events_.resize(events_y_.size());
  next_event_.assign(events_y_.size(), 0);
  evbufs_.reset(static_cast<int64_t>(2 * std::max<size_t>(events_y_.size(), 1) * sizeof(HostEvBuf)));
  if (!events_y_.empty()) {
    // A guess at a block's events (a quarter of the elements true at every step), bounded; a block
    // that overflows it runs again.
    alloc_events(static_cast<uint64_t>(std::clamp<int64_t>(steps_ * event_elements / 4, 1 << 16, 1 << 24)));
    for (auto& s : snapshot_) s.reset(arena_bytes_);
  }
}

Recorder::~Recorder() {
  const Driver& d = driver();
  d.cuStreamSynchronize(stream_);  // (after an error, a block may still be running)
  for (CUevent e : done_)
    if (e) d.cuEventDestroy(e);
  if (copy_) d.cuStreamDestroy(copy_);
}

int64_t Recorder::value_bytes(size_t y) const { return p_.buffers[static_cast<size_t>(r_.ys[y].value)].bytes(); }

void Recorder::alloc_events(uint64_t cap) {
  cap_ = cap;
  for (auto& half : event_data_) {
    half.clear();
    for (size_t j = 0; j < events_y_.size(); ++j) {
      half.emplace_back();
      half.back().reset(static_cast<int64_t>(cap * sizeof(HostEvent)));
    }
  }
}

// Empties the event buffers of one half (the device reads their headers from evbufs_).
void Recorder::reset_events(int half) {
  if (events_y_.empty()) return;
  std::vector<HostEvBuf> h(events_y_.size());
  for (size_t j = 0; j < h.size(); ++j) h[j] = {0, cap_, event_data_[half][j].ptr()};
  int64_t bytes = static_cast<int64_t>(h.size() * sizeof(HostEvBuf));
  check(driver().cuMemcpyHtoDAsync(evbufs_.ptr() + static_cast<CUdeviceptr>(half * bytes), h.data(),
                                   static_cast<size_t>(bytes), stream_),
        "cuMemcpyHtoDAsync");
}

// After a block's launches: its rows (from the ring, which may wrap), the error record and the
// event headers, to page-locked memory; then the block's completion event.
void Recorder::enqueue_copies(const Block& b) {
  const Driver& d = driver();
  int64_t row0 = b.k0 / r_.every, rows = b.k1 / r_.every - row0;
  for (size_t y = 0; y < r_.ys.size(); ++y) {
    if (r_.ys[y].mode != RecordMode::Sink) continue;
    int64_t vb = value_bytes(y);
    for (int64_t done = 0; done < rows;) {
      int64_t at = (row0 + done) % ring_rows_, n = std::min(rows - done, ring_rows_ - at);
      check(d.cuMemcpyDtoHAsync(pinned_rows_[b.half].data() + row_offset_[y] + done * vb,
                                rings_[y].ptr() + static_cast<CUdeviceptr>(at * vb), static_cast<size_t>(n * vb), stream_),
            "cuMemcpyDtoHAsync");
      done += n;
    }
  }
  char* meta = pinned_meta_[b.half].data();
  check(d.cuMemcpyDtoHAsync(meta, err_, sizeof(HostErr), stream_), "cuMemcpyDtoHAsync");
  if (!events_y_.empty()) {
    int64_t bytes = static_cast<int64_t>(events_y_.size() * sizeof(HostEvBuf));
    check(d.cuMemcpyDtoHAsync(meta + sizeof(HostErr), evbufs_.ptr() + static_cast<CUdeviceptr>(b.half * bytes),
                              static_cast<size_t>(bytes), stream_),
          "cuMemcpyDtoHAsync");
  }
  check(d.cuEventRecord(done_[b.half], stream_), "cuEventRecord");
}

void Recorder::run(const std::function<void(int64_t, int64_t)>& launch, std::vector<CUdeviceptr>& ptr,
                   const std::function<void(const HostErr&)>& raise) {
  const Driver& d = driver();
  Block prev;
  bool pending = false;
  int64_t k = 0;
  for (;;) {
    Block cur;
    bool launched = false;
    if (k < r_.length) {
      cur.k0 = k, cur.k1 = std::min(r_.length, k + steps_), cur.half = half_, cur.ptr = ptr;
      if (!events_y_.empty())
        check(d.cuMemcpyDtoDAsync(snapshot_[half_].ptr(), arena_, static_cast<size_t>(arena_bytes_), stream_),
              "cuMemcpyDtoDAsync");
      reset_events(half_);
      launch(cur.k0, cur.k1);
      enqueue_copies(cur);
      half_ ^= 1;
      k = cur.k1;
      launched = true;
    }
    if (pending && !finish(prev, raise)) {
      // Too many events: back to the state before `prev`, and shorter blocks (or bigger buffers).
      check(d.cuStreamSynchronize(stream_), "cuStreamSynchronize");
      check(d.cuMemcpyDtoDAsync(arena_, snapshot_[prev.half].ptr(), static_cast<size_t>(arena_bytes_), stream_),
            "cuMemcpyDtoDAsync");
      check(d.cuMemsetD8Async(err_, 0, sizeof(HostErr), stream_), "cuMemsetD8Async");
      ptr = prev.ptr;
      k = prev.k0;
      half_ = prev.half;
      if (steps_ >= 2 * r_.every)
        steps_ = steps_ / 2 / r_.every * r_.every;
      else
        alloc_events(cap_ * 2);
      pending = false;
      continue;
    }
    prev = std::move(cur);
    pending = launched;
    if (!pending) break;
  }
  // The reference's last flushes, and the counts into the outputs.
  for (size_t y = 0; y < r_.ys.size(); ++y) {
    if (r_.ys[y].mode == RecordMode::Stack) continue;
    if (r_.ys[y].mode == RecordMode::Sink) flush_rows(y);
    if (r_.ys[y].mode == RecordMode::Events) flush_events(y);
    check(d.cuMemcpyHtoDAsync(ptr[static_cast<size_t>(r_.ys[y].out)], &sent_[y], sizeof(int64_t), stream_),
          "cuMemcpyHtoDAsync");
  }
  check(d.cuStreamSynchronize(stream_), "cuStreamSynchronize");
}

// Waits for block b's copies and replays it. False when its events overflowed their buffer.
bool Recorder::finish(const Block& b, const std::function<void(const HostErr&)>& raise) {
  const Driver& d = driver();
  check(d.cuEventSynchronize(done_[b.half]), "cuEventSynchronize");
  HostErr err;
  std::memcpy(&err, pinned_meta_[b.half].data(), sizeof err);
  std::vector<HostEvBuf> heads(events_y_.size());
  if (!heads.empty())
    std::memcpy(heads.data(), pinned_meta_[b.half].data() + sizeof(HostErr), heads.size() * sizeof(HostEvBuf));
  bool overflow = false;
  for (const HostEvBuf& h : heads)
    if (h.count > h.cap) overflow = true;
  if (overflow && !err.flag) return false;
  for (size_t j = 0; j < heads.size(); ++j) {
    std::vector<HostEvent>& ev = block_events_[j];
    ev.resize(std::min(heads[j].count, heads[j].cap));
    if (!ev.empty()) {
      check(d.cuMemcpyDtoHAsync(ev.data(), event_data_[b.half][j].ptr(), ev.size() * sizeof(HostEvent), copy_),
            "cuMemcpyDtoHAsync");
      check(d.cuStreamSynchronize(copy_), "cuStreamSynchronize");
    }
    std::sort(ev.begin(), ev.end(), [](const HostEvent& x, const HostEvent& y) {
      return x.step != y.step ? x.step < y.step : x.index < y.index;
    });
    next_event_[j] = 0;
  }
  int64_t end = err.flag ? std::clamp<int64_t>(err.k[0], b.k0, b.k1) : b.k1;
  replay(b, end);
  if (err.flag) raise(err);
  return true;
}

// The reference executor's record(k) and progress calls for steps [b.k0, end).
void Recorder::replay(const Block& b, int64_t end) {
  int64_t every_pct = std::max<int64_t>(1, r_.length / 100), row0 = b.k0 / r_.every;
  for (int64_t k = b.k0; k < end; ++k) {
    bool recorded = (k + 1) % r_.every == 0;
    int64_t row = (k + 1) / r_.every - 1;
    size_t j = 0;
    for (size_t y = 0; y < r_.ys.size(); ++y) {
      switch (r_.ys[y].mode) {
        case RecordMode::Stack: break;
        case RecordMode::Sink: {
          if (!recorded) break;
          int64_t vb = value_bytes(y);
          std::memcpy(static_cast<char*>(chunk_[y].raw()) + filled_[y] * vb,
                      pinned_rows_[b.half].data() + row_offset_[y] + (row - row0) * vb, static_cast<size_t>(vb));
          if (++filled_[y] == o_.chunk_rows) flush_rows(y);
          break;
        }
        case RecordMode::Events: {
          const std::vector<HostEvent>& ev = block_events_[j];
          for (size_t& i = next_event_[j]; i < ev.size() && ev[i].step == k; ++i) {
            events_[y].push_back(Event{ev[i].index, k});
            ++sent_[y];
            if (static_cast<int64_t>(events_[y].size()) == o_.event_chunk) flush_events(y);
          }
          ++j;
          break;
        }
      }
    }
    if ((k + 1) % every_pct == 0) o_.sink->progress(r_.node, k + 1, r_.length);
  }
}

void Recorder::flush_rows(size_t y) {
  Tensor& c = chunk_[y];
  if (filled_[y] == 0) return;
  if (filled_[y] == c.shape()[0]) {
    o_.sink->rows(r_.node, static_cast<int64_t>(y), c, sent_[y]);
  } else {
    Shape part = c.shape();
    part[0] = filled_[y];
    c.reset(c.dtype(), part);
    o_.sink->rows(r_.node, static_cast<int64_t>(y), c, sent_[y]);
    part[0] = sink_chunk_rows(o_, r_.length, r_.every);
    c.reset(c.dtype(), part);
  }
  sent_[y] += filled_[y];
  filled_[y] = 0;
}

void Recorder::flush_events(size_t y) {
  if (events_[y].empty()) return;
  o_.sink->events(r_.node, static_cast<int64_t>(y), events_[y]);
  events_[y].clear();
}

}  // namespace sf::cuda
