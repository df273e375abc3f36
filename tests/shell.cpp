#include "shell.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "files.h"

namespace sf::test {

namespace {

// A temporary file, removed afterwards. The streams go to files rather than pipes: reading two
// pipes in turn can deadlock when the child fills the other one.
struct TempFile {
  std::string path = (std::filesystem::temp_directory_path() / "scanflow_shell_XXXXXX").string();
  TempFile() {
    int fd = mkstemp(path.data());
    if (fd >= 0) close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

ShellRun shell(const std::string& command) {
  TempFile out, err;
  // A group, so that redirections inside `command` (2>&1) apply before ours; a newline rather than
  // `;` so that a comment at the end of `command` cannot hide the closing brace.
  std::string cmd = "{ " + command + "\n} > '" + out.path + "' 2> '" + err.path + "'";
  int status = std::system(cmd.c_str());
  ShellRun r;
  if (status != -1 && WIFEXITED(status)) r.code = WEXITSTATUS(status);
  if (status != -1 && WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = read_file(out.path);
  r.err = read_file(err.path);
  return r;
}

std::string render_dot(const std::string& dot_text) {
  TempFile dot;
  std::ofstream(dot.path, std::ios::binary) << dot_text;
  ShellRun r = shell("dot -Tsvg '" + dot.path + "' -o /dev/null");
  return r.code != 0 ? "dot exited with status " + std::to_string(r.code) + ": " + r.err : r.err;
}

}  // namespace sf::test
