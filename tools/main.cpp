// scanflow: run, inspect and export simulation graphs.
//
// Exit codes: 0 success; 1 a user error (bad flag, bad file, unknown model, a run-time index out of
// range) with one line on stderr; 2 an internal error. Every failure is an exception caught here,
// so no input ends the process with a signal.
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "graph/error.h"
#include "tools/cli.h"

namespace {

// Messages are printed on one line whatever they contain.
std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

void report(const char* kind, const std::string& what) {
  std::fflush(stdout);
  fmt::print(stderr, "scanflow: {}: {}\n", kind, one_line(what));
}

int run(int argc, char** argv) {
  CLI::App app{"scanflow: a dataflow-graph engine for neural network and ODE simulations", "scanflow"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every subcommand");
  std::vector<sf::cli::Command> commands = {
      sf::cli::add_models_command(app), sf::cli::add_run_command(app), sf::cli::add_export_command(app),
      sf::cli::add_check_command(app), sf::cli::add_dot_command(app),
      sf::cli::add_compile_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    report("error", e.what());
    return 1;
  }
  for (auto& c : commands)
    if (c.app->parsed()) c.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe (`scanflow models | head -1`) becomes a write error, not SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const sf::Error& e) {
    report("error", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    report("error", "out of memory");
    return 1;
  } catch (const std::exception& e) {
    report("internal error", e.what());
    return 2;
  } catch (...) {
    report("internal error", "unknown exception");
    return 2;
  }
}
