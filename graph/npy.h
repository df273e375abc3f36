// NumPy .npy files (format 1.0/2.0, little-endian, C order): read and write tensors, and a writer
// that streams rows so a long run's output never sits in memory.
#pragma once
#include <cstdio>
#include <string>

#include "graph/tensor.h"

namespace sf {

Tensor read_npy(const std::string& path);  // f4 f8 i4 i8 b1/u1; sf::Error on anything else
void write_npy(const std::string& path, const Tensor& t);

// Writes a 2-D [rows, cols] array row by row; the header's row count is patched on close().
class NpyRowWriter {
 public:
  NpyRowWriter(const std::string& path, DType dtype, int64_t cols);
  ~NpyRowWriter();
  void append(const Tensor& rows);  // shape [r, cols] (or [cols]) of the writer's dtype
  void close();
  int64_t rows() const { return rows_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  DType dtype_;
  int64_t cols_, rows_ = 0;
};

}  // namespace sf
