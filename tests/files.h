// Test helpers for files: a scratch directory per test, and reading or writing a file whole.
#pragma once
#include <filesystem>
#include <string>

namespace sf::test {

// A fresh, empty directory under the system's temporary directory, named after the process and a
// counter (tests in parallel processes do not collide); removed with its contents.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The path of `name` inside the directory.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// The bytes of a file ("" if it cannot be read).
std::string read_file(const std::filesystem::path& path);

// Replaces a file's contents with `bytes`.
void write_file(const std::filesystem::path& path, const std::string& bytes);

}  // namespace sf::test
