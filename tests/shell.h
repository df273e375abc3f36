// Test helper: runs a shell command as a child process and captures what it printed and how it
// ended, for the tests that run the `scanflow` binary, compilers and Graphviz.
#pragma once
#include <string>

namespace sf::test {

struct ShellRun {
  int code = -1;    // exit status; -1 when the shell did not exit (or could not be started)
  int signal = 0;   // the signal that killed the shell, else 0
  std::string out;  // its stdout
  std::string err;  // its stderr
};

// Runs `command` with /bin/sh. stdout and stderr are captured apart; a command ending in "2>&1"
// gets both in `out`. A command killed by a signal inside the shell shows as code 128 + signal.
ShellRun shell(const std::string& command);

// Renders DOT text with Graphviz (`dot -Tsvg`): "" when it renders without a message, else the
// exit status and Graphviz's messages.
std::string render_dot(const std::string& dot_text);

}  // namespace sf::test
