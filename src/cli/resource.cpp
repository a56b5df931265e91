// `vigil resource start|stop|restart|move|ban|clear|cleanup|status|failcount`: crmsh's resource
// commands as CIB changes through the store. start/stop set the target-role meta attribute;
// move/ban add the cli-prefer-/cli-ban- location constraints crm_resource adds, clear removes
// them; cleanup forgets a resource's operation history and fail counts so the cluster probes it
// again; status and failcount read what the cluster recorded.
#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <thread>

#include "cib/op.h"
#include "cli/cli.h"
#include "cli/operations.h"
#include "cli/status.h"
#include "common/clock.h"
#include "control/control.h"
#include "scheduler/scheduler.h"

namespace vigil::cli {

namespace {

using cib::CibChange;

struct ResourceArgs {
  std::string cib_file, socket;
  std::vector<std::string> words;
};

// Usage errors name the word (1-based, after the subcommand) and change nothing.
int usage(Cli& cli, const std::string& command, std::size_t word, const std::string& what) {
  cli.err() << "ERROR: resource " << command;
  if (word > 0) cli.err() << ": word " << word;
  cli.err() << ": " << what << "\n";
  return 2;
}

bool known_resources(const Session& s, const std::vector<std::string>& ids, Cli& cli) {
  for (const auto& id : ids) {
    if (!find_resource(s.cib, id)) {
      cli.err() << "ERROR: Resource '" << id << "' not found\n";
      return false;
    }
  }
  return true;
}

const scheduler::ResourceState* state_of(const std::vector<scheduler::ResourceState>& all,
                                         const std::string& id) {
  for (const auto& r : all) {
    if (r.id == id) return &r;
    if (const auto* c = state_of(r.children, id)) return c;
  }
  return nullptr;
}

// crmsh sets target-role on the resource itself and drops it from what it contains, so that
// no inner setting contradicts it.
std::vector<CibChange> target_role(const Session& s, const std::vector<std::string>& ids,
                                   const std::string& role) {
  std::vector<CibChange> changes;
  for (const auto& id : ids) {
    auto rsc = find_resource(s.cib, id);
    for (auto& c : set_attribute(rsc, "meta_attributes", "target-role", role))
      changes.push_back(std::move(c));
    cib::for_each_element(rsc, [&](const pugi::xml_node& inner) {
      std::string_view tag = inner.name();
      if (tag != "primitive" && tag != "group" && tag != "clone" && tag != "master") return;
      for (auto& c : delete_attribute(inner, "meta_attributes", "target-role"))
        changes.push_back(std::move(c));
    });
  }
  return changes;
}

int start_stop(const ResourceArgs& a, const std::string& command, Cli& cli) {
  if (a.words.empty()) return usage(cli, command, 0, "expected at least one resource");
  auto s = open_session(a.cib_file, cli);
  if (!s || !known_resources(*s, a.words, cli)) return 1;
  return commit(*s, target_role(*s, a.words, command == "start" ? "Started" : "Stopped"), cli) ? 0
                                                                                               : 1;
}

bool daemon_answers(const ResourceArgs& a) {
  return control::request(control::socket_path(a.socket), {{"command", "ping"}}, 1000).ok();
}

// restart: stop, wait (bounded) until the cluster reports them stopped, start. Without a running
// vigild nothing acts on the CIB, so there is nothing to wait for.
int restart(const ResourceArgs& a, Cli& cli) {
  if (a.words.empty()) return usage(cli, "restart", 0, "expected at least one resource");
  auto s = open_session(a.cib_file, cli);
  if (!s || !known_resources(*s, a.words, cli)) return 1;
  std::string list;
  for (const auto& w : a.words) list += (list.empty() ? "" : ", ") + w;
  cli.out() << "INFO: ordering " << list << " to stop\n";
  if (!commit(*s, target_role(*s, a.words, "Stopped"), cli)) return 1;
  if (daemon_answers(a)) {
    constexpr int kPolls = 240;  // 60 s
    bool stopped = false;
    for (int i = 0; i < kPolls && !stopped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      auto cib = s->store->read();
      if (!cib) continue;
      const auto state = scheduler::cluster_state(*cib, wall_clock_ms());
      stopped = std::none_of(a.words.begin(), a.words.end(), [&](const std::string& id) {
        const auto* r = state_of(state.resources, id);
        return r != nullptr && r->active;
      });
      s->cib = std::move(*cib);
    }
    if (!stopped) {
      cli.err() << "ERROR: " << list << " did not stop within 60 s; not starting it again\n";
      return 1;
    }
  }
  cli.out() << "INFO: ordering " << list << " to start\n";
  return commit(*s, target_role(*s, a.words, "Started"), cli) ? 0 : 1;
}

// An ISO 8601 duration (P1D, PT30M, P1DT2H, P2W) in seconds; nothing when it is not one.
std::optional<std::int64_t> iso_duration(const std::string& text) {
  if (text.size() < 3 || text[0] != 'P') return std::nullopt;
  std::int64_t total = 0;
  bool time = false, any = false;
  for (std::size_t i = 1; i < text.size();) {
    if (text[i] == 'T' && !time) {
      time = true;
      ++i;
      continue;
    }
    std::size_t digits = i;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) &&
           digits - i < 9)
      ++digits;
    if (digits == i || digits == text.size()) return std::nullopt;
    const std::int64_t n = std::stoll(text.substr(i, digits - i));
    const char unit = text[digits];
    std::int64_t seconds = 0;
    if (!time && unit == 'Y')
      seconds = 365 * 86400;
    else if (!time && unit == 'M')
      seconds = 30 * 86400;
    else if (!time && unit == 'W')
      seconds = 7 * 86400;
    else if (!time && unit == 'D')
      seconds = 86400;
    else if (time && unit == 'H')
      seconds = 3600;
    else if (time && unit == 'M')
      seconds = 60;
    else if (time && unit == 'S')
      seconds = 1;
    else
      return std::nullopt;
    total += n * seconds;
    any = true;
    i = digits + 1;
  }
  if (!any) return std::nullopt;
  return total;
}

std::string utc_date(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +00:00", &tm);
  return buf;
}

// move RSC NODE [LIFETIME] [force] | move RSC force; ban RSC [NODE] [LIFETIME] [force].
int move_or_ban(const ResourceArgs& a, const std::string& command, Cli& cli) {
  std::vector<std::string> words;
  bool force = false;
  for (const auto& w : a.words) (w == "force" ? force = true : (words.push_back(w), true));
  if (words.empty()) return usage(cli, command, 0, "expected a resource");
  if (words.size() > 3) return usage(cli, command, 4, "unexpected '" + words[3] + "'");
  auto s = open_session(a.cib_file, cli);
  if (!s || !known_resources(*s, {words[0]}, cli)) return 1;
  const std::string& rsc = words[0];
  // [NODE] [LIFETIME]: a single word is the node when it names one, else the lifetime.
  std::string node, lifetime;
  if (words.size() == 3) {
    node = words[1];
    lifetime = words[2];
  } else if (words.size() == 2) {
    (find_node(s->cib, words[1]) || !iso_duration(words[1]) ? node : lifetime) = words[1];
  }
  std::string end;
  if (!lifetime.empty()) {
    auto seconds = iso_duration(lifetime);
    if (!seconds)
      return usage(cli, command, words.size(),
                   "'" + lifetime + "' is not an ISO 8601 duration (e.g. PT1H, P1D)");
    end = utc_date(wall_clock_ms() / 1000 + *seconds);
  }
  if (!node.empty()) {
    auto n = find_node(s->cib, node);
    if (!n) {
      cli.err() << "ERROR: Not our node: " << node << "\n";
      return 1;
    }
    node = cib::node_name(n);
  }
  const bool prefer = command == "move" && !node.empty();
  if (command == "move" && node.empty() && !force) {
    cli.err() << "ERROR: No target node: Move requires either a target node or 'force'\n";
    return 1;
  }
  if (!prefer && node.empty()) {  // away from where it runs now
    const auto state = scheduler::cluster_state(s->cib, wall_clock_ms());
    const auto* r = state_of(state.resources, rsc);
    if (r == nullptr || r->nodes.size() != 1) {
      cli.err() << "ERROR: Resource '" << rsc << "' not moved: active in "
                << (r ? r->nodes.size() : 0) << " locations; name the node to keep it away from\n";
      return 1;
    }
    node = r->nodes.front();
  }
  auto [id, change] = cib::move_constraint(s->cib, rsc, node, prefer, end);
  if (!commit(*s, {std::move(change)}, cli)) return 1;
  if (!prefer) {
    cli.err() << "WARNING: Creating rsc_location constraint '" << id
              << "' with a score of -INFINITY for resource " << rsc << " on " << node << ".\n"
              << "\tThis keeps " << rsc << " off " << node
              << " until the constraint is removed (resource clear, or by editing the CIB)\n"
              << "\tThis holds even if " << node << " is the last node in the cluster\n";
  }
  const std::string verb = command == "move" ? "Move" : "Ban";
  cli.out() << "INFO: " << verb << " constraint created for " << rsc << " to " << node << "\n"
            << "INFO: Use `crm resource clear " << rsc << "` to remove this constraint\n";
  return 0;
}

int clear(const ResourceArgs& a, Cli& cli) {
  if (a.words.size() != 1)
    return usage(cli, "clear", a.words.empty() ? 0 : 2, "expected exactly one resource");
  auto s = open_session(a.cib_file, cli);
  if (!s || !known_resources(*s, a.words, cli)) return 1;
  const std::string& rsc = a.words[0];
  if (!commit(*s, cib::clear_moves(s->cib, rsc), cli)) return 1;
  cli.out() << "INFO: Removed migration constraints for " << rsc << "\n";
  return 0;
}

// cleanup [RSC] [NODE]: the resource's history and fail counts go, so the cluster probes it
// again; without RSC, every failed resource's.
int cleanup(const ResourceArgs& a, Cli& cli) {
  if (a.words.size() > 2) return usage(cli, "cleanup", 3, "unexpected '" + a.words[2] + "'");
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  const std::string rsc_id = a.words.empty() ? "" : a.words[0];
  if (!rsc_id.empty() && !known_resources(*s, {rsc_id}, cli)) return 1;
  std::string only;
  if (a.words.size() > 1) {
    auto n = find_node(s->cib, a.words[1]);
    if (!n) {
      cli.err() << "ERROR: Node '" << a.words[1] << "' not found in CIB\n";
      return 1;
    }
    only = n.attribute("id").value();
  }
  auto done = cib::cleanup(s->cib, rsc_id, only);
  if (!commit(*s, std::move(done.changes), cli)) return 1;
  if (rsc_id.empty()) {
    cli.out() << "Cleaned up all resources on "
              << (only.empty() ? std::string("all nodes") : a.words[1]) << "\n";
    return 0;
  }
  for (const auto& n : done.nodes) cli.out() << "Cleaned up " << rsc_id << " on " << n << "\n";
  return 0;
}

// status [RSC…]: where each resource runs, as crm_resource --locate says it; without RSC, every
// resource as the status lists it.
int locate(const ResourceArgs& a, Cli& cli) {
  auto s = open_session(a.cib_file, cli);
  if (!s || !known_resources(*s, a.words, cli)) return 1;
  const Millis now = wall_clock_ms();
  if (a.words.empty()) {
    const auto lines = scheduler::cluster_status(s->cib, now);
    auto at = std::find(lines.begin(), lines.end(), "  * Full List of Resources:");
    for (auto it = at == lines.end() ? at : at + 1; it != lines.end(); ++it)
      cli.out() << it->substr(std::min<std::size_t>(2, it->size())) << "\n";
    return 0;
  }
  const auto state = scheduler::cluster_state(s->cib, now);
  for (const auto& id : a.words) {
    const auto* r = state_of(state.resources, id);
    if (r == nullptr || r->nodes.empty()) {
      cli.out() << "resource " << id << " is NOT running\n";
      continue;
    }
    for (const auto& n : r->nodes)
      cli.out() << "resource " << id << " is running on: " << n << "\n";
  }
  return 0;
}

pugi::xml_node node_state_of(const cib::Cib& cib, const pugi::xml_node& node) {
  return cib.status().find_child_by_attribute("node_state", "id", node.attribute("id").value());
}

// failcount RSC show|delete NODE; failcount RSC set NODE VALUE [OPERATION INTERVAL].
int failcount(const ResourceArgs& a, Cli& cli) {
  const auto& w = a.words;
  if (w.size() < 3)
    return usage(cli, "failcount", 0,
                 "usage: failcount RSC show|delete|set NODE [VALUE [OPERATION INTERVAL]]");
  const std::string &rsc = w[0], &cmd = w[1];
  if (cmd != "show" && cmd != "delete" && cmd != "set")
    return usage(cli, "failcount", 2, "'" + cmd + "' is not one of show, delete, set");
  if (cmd == "set" && (w.size() != 4 && w.size() != 6))
    return usage(cli, "failcount", w.size() + 1, "set needs NODE VALUE [OPERATION INTERVAL]");
  if (cmd != "set" && w.size() != 3) return usage(cli, "failcount", 4, "unexpected '" + w[3] + "'");
  if (cmd == "set" && w[3] != "INFINITY" &&
      (w[3].empty() || w[3].find_first_not_of("0123456789") != std::string::npos))
    return usage(cli, "failcount", 4, "value should be a non-negative integer or 'INFINITY'");
  auto s = open_session(a.cib_file, cli);
  if (!s || !known_resources(*s, {rsc}, cli)) return 1;
  auto node = find_node(s->cib, w[2]);
  if (!node) {
    cli.err() << "ERROR: Node " << w[2] << " not in this cluster\n";
    return 1;
  }
  auto state = node_state_of(s->cib, node);
  if (cmd == "show") {
    const std::string name = "fail-count-" + rsc;
    long total = 0;
    bool infinite = false;
    for (auto set : state.child("transient_attributes").children("instance_attributes")) {
      for (auto nv : set.children("nvpair")) {
        const std::string n = nv.attribute("name").value();
        if (n != name && n.rfind(name + "#", 0) != 0) continue;
        const std::string v = nv.attribute("value").value();
        if (v == "INFINITY") infinite = true;
        total += std::atol(v.c_str());
      }
    }
    cli.out() << "scope=status  name=" << name
              << " value=" << (infinite ? std::string("INFINITY") : std::to_string(total)) << "\n";
    return 0;
  }
  if (cmd == "delete" || w[3] == "0") return commit(*s, cib::forget_failures(state, rsc), cli) ? 0 : 1;
  if (w.size() != 6) {
    cli.err() << "WARNING: Should specify operation and interval\n"
              << "Usage: failcount <rsc> set <node> <value> [operation] [interval]\n";
    return 1;
  }
  const std::string name =
      "fail-count-" + rsc + "#" + w[4] + "_" + (w[5] == "0" ? "0" : w[5] + "000");
  const std::string id = node.attribute("id").value();
  if (!state) {
    cli.err() << "ERROR: node " << w[2] << " has no status yet\n";
    return 1;
  }
  auto attrs = state.child("transient_attributes");
  std::vector<CibChange> changes;
  if (!attrs) {
    pugi::xml_document doc;
    auto t = doc.append_child("transient_attributes");
    t.append_attribute("id") = id.c_str();
    auto set = t.append_child("instance_attributes");
    set.append_attribute("id") = ("status-" + id).c_str();
    changes.push_back(CibChange::create(address_of(state), cib::element_xml(t)));
    if (!commit(*s, std::move(changes), cli)) return 1;
    state = node_state_of(s->cib, node);
    attrs = state.child("transient_attributes");
    changes.clear();
  }
  changes = set_attribute(attrs, "instance_attributes", name, w[3]);
  return commit(*s, std::move(changes), cli) ? 0 : 1;
}

CLI::App* resource_command(Cli& cli) {
  for (auto* sub : cli.app().get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name("resource")) return sub;
  }
  auto* r = cli.app().add_subcommand("resource", "resource commands (crmsh's `resource`)");
  r->require_subcommand(1);
  return r;
}

void add_resource_commands(Cli& cli) {
  auto* resource = resource_command(cli);
  auto args = std::make_shared<ResourceArgs>();
  struct Command {
    const char* name;
    const char* help;
    std::function<int(const ResourceArgs&, Cli&)> run;
  };
  const std::vector<Command> commands = {
      {"start", "start resources: target-role=Started",
       [](const ResourceArgs& a, Cli& c) { return start_stop(a, "start", c); }},
      {"stop", "stop resources: target-role=Stopped",
       [](const ResourceArgs& a, Cli& c) { return start_stop(a, "stop", c); }},
      {"restart", "stop resources, wait until they are stopped, start them", restart},
      {"move", "move RSC NODE [LIFETIME] [force]: prefer NODE (cli-prefer-RSC)",
       [](const ResourceArgs& a, Cli& c) { return move_or_ban(a, "move", c); }},
      {"ban", "ban RSC [NODE] [LIFETIME] [force]: keep RSC off NODE (cli-ban-RSC-on-NODE)",
       [](const ResourceArgs& a, Cli& c) { return move_or_ban(a, "ban", c); }},
      {"clear", "clear RSC: remove the constraints move and ban left", clear},
      {"cleanup", "cleanup [RSC] [NODE]: forget history and fail counts, probe again", cleanup},
      {"status", "status [RSC…]: where resources run", locate},
      {"failcount", "failcount RSC show|delete|set NODE [VALUE [OPERATION INTERVAL]]", failcount},
  };
  for (const auto& c : commands) {
    auto* sub = resource->add_subcommand(c.name, c.help);
    sub->add_option("--cib", args->cib_file, "the CIB file (else CIB_file, else vigild)");
    sub->add_option("--socket", args->socket, "vigild's control socket");
    sub->add_option("words", args->words, "arguments");
    auto run = c.run;
    cli.on(sub, [&cli, args, run] { return run(*args, cli); });
  }
  resource->get_subcommand("status")->alias("show");
  resource->get_subcommand("status")->alias("list");
  resource->get_subcommand("status")->alias("locate");
  resource->get_subcommand("move")->alias("migrate");
  resource->get_subcommand("clear")->alias("unmove");
  resource->get_subcommand("clear")->alias("unban");
}

}  // namespace

VIGIL_COMMANDS(65, add_resource_commands);

}  // namespace vigil::cli
