#include "backends/host_cc.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "graph/error.h"

namespace sf {

namespace {
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

void run_host_cc(const std::vector<std::string>& args, const std::string& what) {
  const char* cc = std::getenv("CC");
  std::string cmd = cc && *cc ? cc : "cc";  // $CC may carry flags of its own: not quoted
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  std::string out;
  int status = -1;
  if (FILE* f = popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[1024];
    while (size_t k = std::fread(buf, 1, sizeof buf, f)) out.append(buf, k);
    status = pclose(f);
  }
  if (status != 0) fail("the host C compiler failed on {} ({}): {}", what, cmd, out.empty() ? "no output" : out);
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) fail("cannot write {}", path);
}

std::string aot_name(const std::string& object_path) {
  std::string s = std::filesystem::path(object_path).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) s = "sf_" + s;
  return s;
}

}  // namespace sf
