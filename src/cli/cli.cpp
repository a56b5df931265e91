#include "cli/cli.h"

#include <algorithm>
#include <filesystem>
#include <ostream>

namespace vigil::cli {

namespace {
bool has_subcommand(const CLI::App& app, const std::string& name) {
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(name)) return true;
  }
  return false;
}
}  // namespace

Cli::Cli(std::ostream& out, std::ostream& err)
    : app_("vigil: a high-availability cluster stack (Corosync + Pacemaker compatible)", "vigil"),
      out_(out),
      err_(err) {
  app_.require_subcommand(1);
  app_.fallthrough();
}

void Cli::on(CLI::App* sub, std::function<int()> action) {
  actions_.emplace_back(sub, std::move(action));
}

int Cli::run(const std::vector<std::string>& args) {
  // CLI11 consumes arguments from the back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out_ << app_.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out_ << app_.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::RequiredError& e) {
    // A word that names no command is reported as that word, not as a missing subcommand.
    if (!args.empty() && args.front().rfind('-', 0) != 0 && !has_subcommand(app_, args.front())) {
      err_ << "vigil: unknown command '" << args.front() << "'; try --help\n";
      return 2;
    }
    err_ << "vigil: " << e.what() << "\n";
    return 2;
  } catch (const CLI::ParseError& e) {
    // Help on a subcommand arrives as a ParseError of kind CallForHelp from that subcommand.
    if (e.get_exit_code() == 0) {
      for (auto* sub = &app_; sub != nullptr;) {
        auto chosen = sub->get_subcommands();
        if (chosen.empty()) {
          out_ << sub->help();
          break;
        }
        sub = chosen.front();
      }
      return 0;
    }
    err_ << "vigil: " << e.what() << "\n";
    return 2;
  }
  // The deepest chosen subcommand with an action runs.
  for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) {
    if (it->first->parsed()) return it->second();
  }
  err_ << "vigil: no command given; try --help\n";
  return 2;
}

std::string beside_self(const std::string& name, const std::string& subdir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& dir : {self, self / subdir, self.parent_path() / subdir}) {
    if (!ec && fs::exists(dir / name, ec)) return (dir / name).string();
  }
  return name;
}

namespace {
std::vector<std::pair<int, CommandFamily>>& families() {
  static std::vector<std::pair<int, CommandFamily>> all;
  return all;
}

void add_version_command(Cli& cli) {
  auto* sub = cli.app().add_subcommand("version", "print vigil's version");
  cli.on(sub, [&cli] {
    cli.out() << "vigil 0.1.0\n";
    return 0;
  });
}

}  // namespace

VIGIL_COMMANDS(99, add_version_command);

bool register_commands(int order, CommandFamily family) {
  families().emplace_back(order, family);
  return true;
}

void add_all_commands(Cli& cli) {
  auto all = families();
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, family] : all) family(cli);
}

}  // namespace vigil::cli
