// `vigil ra classes|list|info|meta` — what agents are installed and what they take, laid out as
// crmsh shows it — and `vigil resource exec`, one agent action run by hand.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <sstream>

#include "cli/cli.h"
#include "cli/verify.h"
#include "executor/executor.h"

namespace vigil::cli {

namespace {

namespace ex = vigil::executor;

// The defaults are the environment's, as for `configure verify` ($VIGIL_OCF_ROOT, $OCF_ROOT).
struct AgentDirs {
  std::string ocf_root = agent_settings().ocf_root;
  std::string lsb_dir = "/etc/init.d";
  std::string run_dir = "/run/vigil";

  void add_options(CLI::App* sub, bool with_run_dir) {
    sub->add_option("--ocf-root", ocf_root, "OCF_ROOT, where resource.d/<provider>/ lives")
        ->capture_default_str();
    sub->add_option("--lsb-dir", lsb_dir, "directory of LSB init scripts")->capture_default_str();
    if (with_run_dir) {
      sub->add_option("--run-dir", run_dir, "the node's runtime directory (agents' HA_RSCTMP)")
          ->capture_default_str();
    }
  }

  ex::Settings settings() const {
    ex::Settings s;
    s.ocf_root = ocf_root;
    s.lsb_dir = lsb_dir;
    s.run_dir = run_dir;
    return s;
  }
};

// The terminal's width as crmsh reads it, 80 when unknown.
int screen_width() {
  const char* columns = std::getenv("COLUMNS");
  int w = columns != nullptr ? std::atoi(columns) : 0;
  return w > 0 ? w : 80;
}

// crmsh's ls-like columns: every column as wide as the widest name plus a gap of two.
void print_columns(std::ostream& out, const std::vector<std::string>& names) {
  int width = screen_width();
  std::size_t longest = 8;
  for (const auto& n : names) longest = std::max(longest, n.size());
  std::size_t cols = std::max<std::size_t>(1, static_cast<std::size_t>(width) / (longest + 2));
  std::size_t col_len = static_cast<std::size_t>(width) / cols;
  for (std::size_t row = 0; row * cols < names.size(); ++row) {
    std::string line;
    for (std::size_t j = row * cols; j < (row + 1) * cols && j < names.size(); ++j) {
      bool last_column = (j + 1) % cols == 0 && !line.empty();
      line += names[j];
      if (!last_column) line.append(col_len > names[j].size() ? col_len - names[j].size() : 0, ' ');
    }
    out << line << "\n";
  }
}

// crmsh omits a short description that only repeats the name, the type or the long text.
std::string shown_shortdesc(const std::string& shortdesc, const std::string& name,
                            const std::string& longdesc, const std::string& type) {
  if (shortdesc.empty() || shortdesc == name || shortdesc == longdesc || shortdesc == type) {
    return {};
  }
  return shortdesc;
}

std::string indented(const std::string& text, const std::string& tab) {
  std::string out = tab;
  for (char c : text) {
    out += c;
    if (c == '\n') out += tab;
  }
  return out;
}

// The layout of crmsh's `ra info`: title, long description, parameters, operations' defaults.
std::string describe_agent(const ex::AgentMetadata& md, const ex::AgentSpec& spec) {
  const std::string tab = "    ";
  std::vector<std::string> blocks;
  std::string title = spec.str();
  if (auto sd = shown_shortdesc(md.shortdesc, spec.type, md.longdesc, spec.type); !sd.empty()) {
    title = sd + " (" + title + ")";
  }
  blocks.push_back(title);
  if (!md.longdesc.empty()) blocks.push_back(md.longdesc);
  if (!md.parameters.empty()) {
    // Each parameter is its head line, then its indented long description and a blank line.
    std::string params = "Parameters (*: required, []: default):\n";
    for (const auto& p : md.parameters) {
      std::string head = p.name + (p.required ? "*" : "");
      if (!p.type.empty() && p.default_value && !p.default_value->empty()) {
        head += " (" + p.type + ", [" + *p.default_value + "])";
      } else if (!p.type.empty()) {
        head += " (" + p.type + ")";
      }
      head += ": " + shown_shortdesc(p.shortdesc, p.name, p.longdesc, spec.type);
      params += "\n" + head;
      if (!p.longdesc.empty()) params += "\n" + indented(p.longdesc, tab) + "\n";
    }
    while (!params.empty() && std::isspace(static_cast<unsigned char>(params.back()))) {
      params.pop_back();
    }
    blocks.push_back(params);
  }
  std::string ops;
  for (const auto& a : md.actions) {
    if (a.name == "meta-data" || a.name == "validate-all") continue;
    std::string line = a.name;
    line.append(line.size() < 13 ? 13 - line.size() : 0, ' ');
    for (const auto& [k, v] : a.attributes) {
      if (!v.empty()) line += " " + k + "=" + v;
    }
    ops += "\n" + tab + line;
  }
  if (!ops.empty()) blocks.push_back("Operations' defaults (advisory minimum):\n" + ops);
  std::string out;
  for (const auto& b : blocks) out += (out.empty() ? "" : "\n\n") + b;
  return out + "\n";
}

void add_ra_commands(Cli& cli) {
  auto* ra = cli.app().add_subcommand("ra", "resource agents: classes, list, info, meta");
  ra->require_subcommand(1);
  auto dirs = std::make_shared<AgentDirs>();
  dirs->add_options(ra, false);

  auto* classes = ra->add_subcommand("classes", "list the resource agent classes");
  cli.on(classes, [&cli, dirs] {
    auto settings = dirs->settings();
    for (const auto& c : ex::list_classes(settings)) {
      auto providers = c == "ocf" ? ex::list_providers(settings) : std::vector<std::string>{};
      if (c == "ocf" && providers.empty()) continue;
      cli.out() << c;
      for (std::size_t i = 0; i < providers.size(); ++i) {
        cli.out() << (i == 0 ? " / " : " ") << providers[i];
      }
      cli.out() << "\n";
    }
    return 0;
  });

  auto* list = ra->add_subcommand("list", "list the agents of a class (and provider)");
  auto cls = std::make_shared<std::string>();
  auto provider = std::make_shared<std::string>();
  list->add_option("class", *cls, "ocf, lsb, service, stonith, systemd")->required();
  list->add_option("provider", *provider, "an ocf provider, e.g. heartbeat");
  cli.on(list, [&cli, dirs, cls, provider] {
    auto agents = ex::list_agents(dirs->settings(), *cls, *provider);
    if (!agents) {
      cli.err() << "ERROR: " << agents.error().message << "\n";
      return 1;
    }
    print_columns(cli.out(), *agents);
    return 0;
  });

  auto agent = std::make_shared<std::string>();
  auto* info = ra->add_subcommand("info", "show an agent's parameters and operations");
  info->add_option("agent", *agent, "[class:[provider:]]type, e.g. ocf:heartbeat:IPaddr2")
      ->required();
  auto* meta = ra->add_subcommand("meta", "print an agent's meta-data XML");
  meta->add_option("agent", *agent, "[class:[provider:]]type")->required();
  auto show = [&cli, dirs, agent](bool raw) {
    const auto settings = dirs->settings();
    auto spec = resolve_agent(settings, *agent);
    if (!spec) {
      cli.err() << "ERROR: " << spec.error().message << "\n";
      return 1;
    }
    ex::MetadataCache cache(settings);
    auto md = cache.get(*spec);
    if (!md) {
      cli.err() << "ERROR: " << md.error().message << "\n";
      return 1;
    }
    cli.out() << (raw ? (*md)->xml : describe_agent(**md, *spec));
    return 0;
  };
  cli.on(info, [show] { return show(false); });
  cli.on(meta, [show] { return show(true); });
}

std::string describe_outcome(const ex::ActionResult& r) {
  switch (r.status) {
    case ex::ExecStatus::Done:
      return "returned: '" + std::string(ex::describe(r.rc)) + "' (" +
             std::to_string(static_cast<int>(r.rc)) + ")";
    case ex::ExecStatus::Timeout:
      return "timed out (" + r.reason + ")";
    case ex::ExecStatus::Cancelled:
      return "was cancelled";
    case ex::ExecStatus::NotExecuted:
      return "could not be executed: '" + std::string(ex::describe(r.rc)) + "' (" +
             std::to_string(static_cast<int>(r.rc)) + "): " + r.reason;
  }
  return "ended";
}

void print_stream(std::ostream& out, const char* name, const std::string& text,
                  std::size_t dropped) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out << " >  " << name << ": " << line << "\n";
  if (dropped > 0) out << " >  " << name << ": (" << dropped << " more bytes dropped)\n";
}

void add_resource_exec_command(Cli& cli) {
  // Another command family may already have created `resource`; share it.
  CLI::App* resource = nullptr;
  for (auto* sub : cli.app().get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name("resource")) resource = sub;
  }
  if (resource == nullptr) resource = cli.app().add_subcommand("resource", "resource commands");

  struct Args {
    AgentDirs dirs;
    std::string agent, action, id, timeout = "20s", interval = "0";
    std::vector<std::string> params;
  };
  auto args = std::make_shared<Args>();
  auto* exec = resource->add_subcommand("exec", "run one agent action by hand");
  exec->add_option("agent", args->agent, "class:[provider:]type, e.g. ocf:heartbeat:Dummy")
      ->required();
  exec->add_option("action", args->action, "start, stop, monitor, meta-data, on, off …")
      ->required();
  exec->add_option("params", args->params, "instance parameters, name=value");
  exec->add_option("--id", args->id, "resource id (OCF_RESOURCE_INSTANCE); default: the type");
  exec->add_option("--timeout", args->timeout, "operation timeout")->capture_default_str();
  exec->add_option("--interval", args->interval, "interval the agent is told (monitor)")
      ->capture_default_str();
  args->dirs.add_options(exec, true);
  cli.on(exec, [&cli, args] {
    auto settings = args->dirs.settings();
    auto spec = ex::AgentSpec::parse(args->agent);
    auto timeout = ex::parse_duration(args->timeout);
    auto interval = ex::parse_duration(args->interval);
    for (const auto* r : {&timeout, &interval}) {
      if (!r->ok()) {
        cli.err() << "vigil: " << r->error().message << "\n";
        return 2;
      }
    }
    if (!spec) {
      cli.err() << "vigil: " << spec.error().message << "\n";
      return 2;
    }
    ex::ResourceAction action;
    action.agent = *spec;
    action.resource = args->id.empty() ? spec->type : args->id;
    action.name = args->action;
    action.timeout = *timeout;
    action.interval = *interval;
    for (std::size_t i = 0; i < args->params.size(); ++i) {
      const auto& kv = args->params[i];
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        cli.err() << "vigil: argument " << i + 3 << " '" << kv << "': expected name=value\n";
        return 2;
      }
      action.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto r = ex::run_action(settings, action);
    cli.out() << "Operation " << action.name << " for " << action.resource << " (" << spec->str()
              << ") " << describe_outcome(r) << " in " << r.duration << "ms\n";
    print_stream(cli.out(), "stdout", r.out, r.out_dropped);
    print_stream(cli.out(), "stderr", r.err, r.err_dropped);
    // crm_resource's convention: the agent's code, 124 for a timeout.
    return r.status == ex::ExecStatus::Timeout ? 124 : static_cast<int>(r.rc);
  });
}

}  // namespace

// [class:[provider:]]type, as crmsh reads it: no class means ocf, and an ocf agent without a
// provider is looked up among the providers (heartbeat preferred, as crmsh does).
Result<executor::AgentSpec> resolve_agent(const executor::Settings& settings, const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  if (parts.size() == 3 || (parts.size() == 2 && parts[0] != "ocf")) {
    return executor::AgentSpec::parse(text);
  }
  if (parts.empty() || parts.size() > 3)
    return fail("agent '" + text + "': expected [CLASS:[PROVIDER:]]TYPE");
  const std::string& type = parts.back();
  std::vector<std::string> providers;
  for (const auto& p : executor::list_providers(settings)) {
    std::error_code ec;
    if (std::filesystem::exists(settings.ocf_root + "/resource.d/" + p + "/" + type, ec)) {
      providers.push_back(p);
    }
  }
  std::string provider = providers.empty() ? "heartbeat" : providers.front();
  for (const char* preferred : {"pacemaker", "heartbeat"}) {
    if (std::find(providers.begin(), providers.end(), preferred) != providers.end()) {
      provider = preferred;
    }
  }
  return executor::AgentSpec::of("ocf", provider, type);
}

VIGIL_COMMANDS(60, add_ra_commands);
VIGIL_COMMANDS(70, add_resource_exec_command);

}  // namespace vigil::cli
