#include <cerrno>
#include <cstdio>
#include <cstring>

#include "graph/error.h"
#include "tools/cli.h"

namespace sf::cli {

void write_text(const std::string& path, const std::string& text) {
  bool to_stdout = path == "-";
  std::FILE* f = to_stdout ? stdout : std::fopen(path.c_str(), "w");
  if (!f) fail("cannot write '{}': {}", path, std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok &= (to_stdout ? std::fflush(f) : std::fclose(f)) == 0;
  if (!ok) fail("cannot write '{}': {}", to_stdout ? "<stdout>" : path, std::strerror(errno));
}

}  // namespace sf::cli
