#include "tools/recorder.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "graph/error.h"

namespace sf::cli {

Recorder::Recorder(const SimInfo& info, bool rows_streamed, int64_t neurons)
    : info_(info), rows_streamed_(rows_streamed), counts_(static_cast<size_t>(neurons), 0) {}

Recorder::~Recorder() {
  if (csv_) std::fclose(csv_);
}

void Recorder::write_rows(const std::string& path, DType dtype) {
  rows_path_ = path;
  npy_.emplace(path, dtype, static_cast<int64_t>(info_.columns.size()));
  // Streamed rows arrive before the run returns row 0: hold its place and fill it in at the end.
  if (rows_streamed_) npy_->append(Tensor(dtype, {1, static_cast<int64_t>(info_.columns.size())}));
}

void Recorder::write_spikes(const std::string& path) {
  spikes_path_ = path;
  csv_ = std::fopen(path.c_str(), "w");
  if (!csv_) fail("cannot write '{}': {}", path, std::strerror(errno));
  std::fputs("neuron,t\n", csv_);
}

void Recorder::rows(NodeId scan, int64_t y, const Tensor& chunk, int64_t first_row) {
  if (scan != info_.scan || y != info_.y_rows) internal_error("rows from an unexpected scan output %{}.{}", scan, y);
  if (first_row != streamed_rows_) internal_error("rows out of order: got row {}, expected {}", first_row, streamed_rows_);
  streamed_rows_ += chunk.shape().at(0);
  if (npy_) npy_->append(chunk);
}

void Recorder::events(NodeId scan, int64_t y, const std::vector<Event>& events) {
  if (scan != info_.scan || y != info_.y_spikes) internal_error("events from an unexpected scan output %{}.{}", scan, y);
  spikes_ += static_cast<int64_t>(events.size());
  for (const Event& e : events) {
    if (e.index < 0 || e.index >= static_cast<int64_t>(counts_.size()))
      internal_error("spike of neuron {} out of {}", e.index, counts_.size());
    ++counts_[static_cast<size_t>(e.index)];
  }
  if (!csv_) return;
  fmt::memory_buffer buf;
  // `{}` prints the shortest text that reads back as the same double.
  for (const Event& e : events) fmt::format_to(std::back_inserter(buf), "{},{}\n", e.index, info_.time(e.step));
  std::fwrite(buf.data(), 1, buf.size(), csv_);
}

void Recorder::progress(NodeId scan, int64_t step, int64_t length) {
  if (scan == info_.scan) bar_.update(step, length);
}

void Recorder::finish(const Tensor& initial, const Tensor* stacked) {
  bar_.done();
  if (stacked) stacked_rows_ = stacked->shape().at(0);
  if (npy_) {
    if (!rows_streamed_) npy_->append(initial.reshaped({1, initial.size()}));
    if (stacked) npy_->append(*stacked);
    npy_->close();
    npy_.reset();
    if (rows_streamed_) patch_first_row(initial);
  }
  if (csv_) {
    bool bad = std::ferror(csv_) != 0;
    bad |= std::fclose(csv_) != 0;
    csv_ = nullptr;
    if (bad) fail("cannot write '{}': {}", spikes_path_, std::strerror(errno));
  }
}

// Row 0 is the first row of the data, which ends the file.
void Recorder::patch_first_row(const Tensor& initial) {
  const int64_t data = rows_recorded() * initial.bytes();
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(rows_path_, ec));
  if (ec || size < data) internal_error("'{}' is shorter than its {} rows", rows_path_, rows_recorded());
  std::FILE* f = std::fopen(rows_path_.c_str(), "r+b");
  if (!f) fail("cannot write '{}': {}", rows_path_, std::strerror(errno));
  bool ok = std::fseek(f, static_cast<long>(size - data), SEEK_SET) == 0 &&
            std::fwrite(initial.raw(), 1, static_cast<size_t>(initial.bytes()), f) == static_cast<size_t>(initial.bytes());
  ok &= std::fclose(f) == 0;
  if (!ok) fail("cannot write '{}': {}", rows_path_, std::strerror(errno));
}

}  // namespace sf::cli
