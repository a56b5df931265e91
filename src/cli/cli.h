// cli: the `vigil` command line. Each command family (config, keygen, configure, status, ra,
// resource, node, simulate, demo …) lives in its own file and registers itself on a Cli; the
// action it registers returns the process exit code. Output goes to the Cli's streams so tests can
// run commands in-process.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace vigil::cli {

class Cli {
 public:
  Cli(std::ostream& out, std::ostream& err);
  ~Cli();
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;
  // Parses argv and runs the chosen command; returns its exit code (2 for a usage error).
  int run(const std::vector<std::string>& args);

  CLI::App& app() { return *app_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  // Registers what runs when `sub` is chosen on the command line.
  void on(CLI::App* sub, std::function<int()> action);

 private:
  int show_help(const std::vector<std::string>& words);
  int usage_error(const std::vector<std::string>& args, const CLI::ParseError& e);

  std::unique_ptr<CLI::App> app_;
  std::ostream& out_;
  std::ostream& err_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions_;
};

// A command family adds its subcommands to a Cli. Each family's file registers one with
//   VIGIL_COMMANDS(40, add_config_commands);
// the number orders the families in `vigil --help`. The files register themselves so that adding
// a family edits no shared file (vigil_cli is linked whole, see src/CMakeLists.txt).
using CommandFamily = void (*)(Cli&);
bool register_commands(int order, CommandFamily family);

#define VIGIL_COMMANDS(order, family)                            \
  [[maybe_unused]] static const bool vigil_registered_##family = \
      ::vigil::cli::register_commands(order, family)

// An executable beside this vigil binary (the install prefix), else in `subdir` below it or beside
// it (the build tree's agents/), else the name alone for the PATH.
std::string beside_self(const std::string& name, const std::string& subdir = {});

// Adds every registered command family to the Cli.
void add_all_commands(Cli& cli);

}  // namespace vigil::cli
