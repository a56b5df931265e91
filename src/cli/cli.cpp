#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <optional>
#include <ostream>

namespace vigil::cli {

namespace {

constexpr const char* kVersion = "vigil " VIGIL_VERSION;

std::vector<const CLI::App*> subcommands_of(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

const CLI::App* subcommand_named(const CLI::App& app, const std::string& name) {
  for (const auto* sub : subcommands_of(app)) {
    if (sub->check_name(name)) return sub;
  }
  return nullptr;
}

// The first word that names no command where a command must come ("vigil resource mvoe"): the
// error that names it and lists the commands possible there; nothing when every word fits.
std::optional<std::string> unknown_command(const CLI::App& app,
                                           const std::vector<std::string>& args) {
  const CLI::App* at = &app;
  std::string path = "vigil";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.rfind('-', 0) == 0) {
      // An option's separate value is no command word.
      const auto* opt = at->get_option_no_throw(word.substr(0, word.find('=')));
      if (opt != nullptr && word.find('=') == std::string::npos &&
          opt->get_items_expected_min() > 0)
        ++i;
      continue;
    }
    if (const auto* sub = subcommand_named(*at, word)) {
      at = sub;
      path += " " + sub->get_name();
      continue;
    }
    if (at->get_require_subcommand_min() == 0 || subcommands_of(*at).empty()) return std::nullopt;
    std::string list;
    for (const auto* sub : subcommands_of(*at)) list += (list.empty() ? "" : ", ") + sub->get_name();
    return "unknown command '" + word + "' for '" + path + "'; the commands are: " + list;
  }
  return std::nullopt;
}

// The deepest subcommand the command line chose.
const CLI::App* chosen(const CLI::App& app) {
  const CLI::App* at = &app;
  for (auto subs = at->get_subcommands(); !subs.empty(); subs = at->get_subcommands())
    at = subs.front();
  return at;
}

}  // namespace

Cli::Cli(std::ostream& out, std::ostream& err)
    : app_(std::make_unique<CLI::App>(
          "vigil: a high-availability cluster stack (Corosync + Pacemaker compatible)", "vigil")),
      out_(out),
      err_(err) {
  app_->require_subcommand(1);
  app_->fallthrough();
  app_->set_version_flag("--version", kVersion);
  // `vigil help [COMMAND…]`, as crmsh's help; run() answers it before CLI11 would take the
  // words for the commands they name.
  app_->add_subcommand("help", "show the help of vigil or of a command: help [COMMAND…]");
}

Cli::~Cli() = default;

void Cli::on(CLI::App* sub, std::function<int()> action) {
  actions_.emplace_back(sub, std::move(action));
}

int Cli::show_help(const std::vector<std::string>& words) {
  const CLI::App* at = app_.get();
  for (const auto& word : words) {
    const auto* sub = subcommand_named(*at, word);
    if (sub == nullptr) {
      err_ << "vigil: help: no command '" << word << "'; try vigil help\n";
      return 2;
    }
    at = sub;
  }
  out_ << at->help();
  return 0;
}

int Cli::usage_error(const std::vector<std::string>& args, const CLI::ParseError& e) {
  if (auto unknown = unknown_command(*app_, args)) {
    err_ << "vigil: " << *unknown << "\n";
  } else {
    err_ << "vigil: " << e.what() << "\n";
  }
  return 2;
}

int Cli::run(const std::vector<std::string>& args) {
  if (!args.empty() && args.front() == "help") return show_help({args.begin() + 1, args.end()});
  // CLI11 consumes arguments from the back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out_ << app_->help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out_ << app_->help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    out_ << kVersion << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // Help on a subcommand arrives as a ParseError of kind CallForHelp from that subcommand.
    if (e.get_exit_code() == 0) {
      out_ << chosen(*app_)->help();
      return 0;
    }
    return usage_error(args, e);
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
    cli.out() << kVersion << "\n";
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
