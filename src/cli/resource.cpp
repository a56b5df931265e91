// `vigil resource start|stop|restart|move|ban|clear|cleanup|refresh|status|operations|failcount|
// meta|param|utilization|manage|unmanage|maintenance`: crmsh's resource commands as CIB changes
// through the store. start/stop set the target-role meta attribute; move/ban add the
// cli-prefer-/cli-ban- location constraints crm_resource adds, clear removes them; cleanup and
// refresh forget a resource's operation history (and fail counts) so the cluster probes it again;
// meta/param/utilization edit an attribute as crm_resource does, manage/unmanage/maintenance as
// crmsh's set_deep_meta_attr; status, operations and failcount read what the cluster recorded.
#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <set>
#include <thread>

#include "cib/op.h"
#include "cli/cli.h"
#include "cli/operations.h"
#include "cli/status.h"
#include "common/ascii.h"
#include "common/clock.h"
#include "control/control.h"
#include "scheduler/scheduler.h"

namespace vigil::cli {

namespace {

using cib::CibChange;

struct ResourceArgs {
  std::string cib_file, socket;
  std::vector<std::string> words;
  bool force = false;  // manage, unmanage, maintenance: crm -F's yes to crmsh's questions
};

// Usage errors name the word (1-based, after the subcommand) and change nothing.
int usage(Cli& cli, const std::string& command, std::size_t word, const std::string& what) {
  cli.err() << "ERROR: resource " << command;
  if (word > 0) cli.err() << ": word " << word;
  cli.err() << ": " << what << "\n";
  return 2;
}

// crmsh's own check of a command's argument count (its validate_arguments), in its words:
// "resource.meta: Expected (rsc cmd attr [value]), takes at least 3 arguments (1 given)".
int crmsh_arity(Cli& cli, const std::string& command, const std::string& signature,
                std::size_t least, std::size_t most, std::size_t given) {
  const char* bound = least == most ? "exactly" : given < least ? "at least" : "at most";
  cli.err() << "ERROR: resource." << command << ": Expected (" << signature << "), takes " << bound
            << " " << (given < least ? least : most) << " arguments (" << given << " given)\n";
  return 1;
}

bool arity_ok(std::size_t least, std::size_t most, std::size_t given) {
  return given >= least && given <= most;
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

// cleanup|refresh [RSC] [NODE] [force]: the resource's history and fail counts go, so the cluster
// probes it again. Without RSC, cleanup forgets every failed resource (and every fail count);
// refresh forgets all history, as crm_resource --refresh has the controller re-probe every
// resource (fail counts stay). "force" may stand for RSC or NODE, as crmsh reads it.
int forget(const ResourceArgs& a, const std::string& command, Cli& cli) {
  if (a.words.size() > 3) {
    return crmsh_arity(cli, command, "[rsc] [node] [force]", 0, 3, a.words.size());
  }
  std::vector<std::string> words(a.words.begin(),
                                 a.words.begin() + std::min<std::size_t>(2, a.words.size()));
  for (auto& w : words) {
    if (w == "force") w.clear();
  }
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  const std::string rsc_id = words.empty() ? "" : words[0];
  if (!rsc_id.empty() && !known_resources(*s, {rsc_id}, cli)) return 1;
  std::string only;
  if (words.size() > 1 && !words[1].empty()) {
    auto n = find_node(s->cib, words[1]);
    if (!n) {
      cli.err() << "ERROR: Node '" << words[1] << "' not found in CIB\n";
      return 1;
    }
    only = n.attribute("id").value();
  }
  const bool refresh = command == "refresh";
  auto done =
      cib::cleanup(s->cib, rsc_id, only, refresh ? cib::Forget::history : cib::Forget::failures);
  if (!commit(*s, std::move(done.changes), cli)) return 1;
  if (rsc_id.empty()) {
    cli.out() << "Cleaned up all resources on "
              << (only.empty() ? std::string("all nodes") : words[1]) << "\n";
    return 0;
  }
  // crm_resource --refresh names each primitive it refreshed; --cleanup the resource asked for.
  for (const auto& n : done.nodes) {
    for (const auto& id : refresh ? done.primitives : std::vector<std::string>{rsc_id})
      cli.out() << "Cleaned up " << id << " on " << n << "\n";
  }
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
  if (cmd == "delete" || w[3] == "0")
    return commit(*s, cib::forget_failures(state, rsc), cli) ? 0 : 1;
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

bool is_clone(const pugi::xml_node& n) {
  const std::string_view tag = n.name();
  return tag == "clone" || tag == "master";
}

bool is_resource(const pugi::xml_node& n) {
  const std::string_view tag = n.name();
  return tag == "primitive" || tag == "group" || is_clone(n) || tag == "bundle";
}

std::string id_of(const pugi::xml_node& n) {
  return n.attribute("id").value();
}

// The first nvpair `name` in the owner's own `set_tag` sets, or an empty node.
pugi::xml_node own_nvpair(const pugi::xml_node& owner, const std::string& set_tag,
                          const std::string& name) {
  for (auto set : owner.children(set_tag.c_str())) {
    if (auto nv = set.find_child_by_attribute("nvpair", "name", name.c_str())) return nv;
  }
  return {};
}

// The value crm_resource --get-parameter shows. Meta attributes as Pacemaker evaluates them: the
// element's own XML attributes, its sets, its parents' sets, rsc_defaults, its parents' XML
// attributes. Instance attributes and utilization: the resource's own.
std::optional<std::string> shown_value(const cib::Cib& cib, const pugi::xml_node& rsc,
                                       const std::string& set_tag, const std::string& name) {
  if (set_tag != "meta_attributes") {
    if (auto nv = own_nvpair(rsc, set_tag, name)) return nv.attribute("value").value();
    return std::nullopt;
  }
  if (auto a = rsc.attribute(name.c_str())) return a.value();
  for (auto r = rsc; is_resource(r); r = r.parent()) {
    if (auto nv = own_nvpair(r, set_tag, name)) return nv.attribute("value").value();
  }
  if (auto nv = own_nvpair(cib.configuration().child("rsc_defaults"), set_tag, name))
    return nv.attribute("value").value();
  for (auto r = rsc.parent(); is_resource(r); r = r.parent()) {
    if (auto a = r.attribute(name.c_str())) return a.value();
  }
  return std::nullopt;
}

// crm_resource's lookup failure, as crmsh passes it on.
int no_such_resource(const std::string& id, Cli& cli) {
  cli.err() << "crm_resource: Resource '" << id << "' not found\n"
            << "Error performing operation: No such object\n";
  return 1;
}

pugi::xml_node topmost(pugi::xml_node rsc) {
  while (is_resource(rsc.parent())) rsc = rsc.parent();
  return rsc;
}

// The nvpairs `name` of the owner's own `set_tag` sets (set_tag empty: of any kind, anywhere in
// it), in document order.
std::vector<pugi::xml_node> nvpairs_named(const pugi::xml_node& owner, const std::string& set_tag,
                                          const std::string& name) {
  std::vector<pugi::xml_node> out;
  if (set_tag.empty()) {
    cib::for_each_element(owner, [&](const pugi::xml_node& n) {
      if (std::string_view(n.name()) == "nvpair" && name == n.attribute("name").value())
        out.push_back(n);
    });
    return out;
  }
  for (auto set : owner.children(set_tag.c_str())) {
    for (auto nv : set.children("nvpair"))
      if (name == nv.attribute("name").value()) out.push_back(nv);
  }
  return out;
}

// crm_resource lists the matches when a look-up finds more than one nvpair.
bool show_multiple(const std::vector<pugi::xml_node>& found, const std::string& name, Cli& cli) {
  if (found.size() < 2) return false;
  cli.out() << "Multiple attributes match name=" << name << "\n";
  for (const auto& nv : found) {
    cli.out() << "  Value: " << nv.attribute("value").value() << " \t(id=" << id_of(nv) << ")\n";
  }
  cli.out() << "\n";
  return true;
}

// The resources crm_resource changes for a meta or utilization attribute: a clone's child without
// a value of its own defers to the clone, a clone whose primitive has one acts on the primitive
// (it says both), and a group acts on its members that have their own value, then on itself.
std::vector<std::string> attribute_owners(const pugi::xml_node& rsc, const std::string& set_tag,
                                          const std::string& name, const std::string& verb,
                                          Cli& cli) {
  if (is_clone(rsc.parent())) {
    if (own_nvpair(rsc, set_tag, name)) return {id_of(rsc)};
    cli.out() << "Performing " << verb << " of '" << name << "' on '" << id_of(rsc.parent())
              << "', the parent of '" << id_of(rsc) << "'\n";
    return {id_of(rsc.parent())};
  }
  if (is_clone(rsc)) {
    for (auto child : rsc.children()) {
      if (!is_resource(child)) continue;
      if (std::string_view(child.name()) == "primitive" && own_nvpair(child, set_tag, name)) {
        cli.out() << "A value for '" << name << "' already exists in child '" << id_of(child)
                  << "', performing " << verb << " on that instead of '" << id_of(rsc) << "'\n";
        return {id_of(child)};
      }
      break;
    }
    return {id_of(rsc)};
  }
  std::vector<std::string> out;
  cib::for_each_element(rsc, [&](const pugi::xml_node& n) {
    if (is_resource(n) && own_nvpair(n, set_tag, name)) out.push_back(id_of(n));
  });
  out.push_back(id_of(rsc));
  return out;
}

// crm_resource refuses to pick one of several values a resource has for the name.
bool unique_values(const Session& s, const std::vector<std::string>& owners,
                   const std::string& set_tag, const std::string& name, Cli& cli) {
  for (const auto& id : owners) {
    if (show_multiple(nvpairs_named(find_resource(s.cib, id), set_tag, name), name, cli)) {
      cli.err() << "crm_resource: Error performing operation: Multiple items match request\n";
      return false;
    }
  }
  return true;
}

// An instance attribute that the topmost resource has as a meta attribute is refused, as
// crm_resource refuses it: the meta attribute would win. All owners change in one commit.
int set_resource_attribute(Session& s, const pugi::xml_node& rsc, const std::string& set_tag,
                           const std::string& name, const std::string& value, Cli& cli) {
  const auto top = topmost(rsc);
  show_multiple(nvpairs_named(top, "", name), name, cli);
  const bool params = set_tag == "instance_attributes";
  if (auto nv = params ? own_nvpair(top, "meta_attributes", name) : pugi::xml_node()) {
    cli.err() << "WARNING: There is already a meta attribute for '" << id_of(top) << "' called '"
              << name << "' (id=" << id_of(nv) << ")\n"
              << "         Delete '" << id_of(nv) << "' first or use the force option to override\n"
              << "crm_resource: Error performing operation: Multiple items match request\n";
    return 1;
  }
  const auto owners = params ? std::vector<std::string>{id_of(rsc)}
                             : attribute_owners(rsc, set_tag, name, "update", cli);
  if (!unique_values(s, owners, set_tag, name, cli)) return 1;
  if (set_tag == "utilization" && is_clone(find_resource(s.cib, owners.back()))) {
    cli.err() << "ERROR: resource utilization: " << owners.back()
              << ": a clone holds no utilization in Pacemaker's schema; nothing changed\n"
              << "crm_resource: Error performing operation: Invalid configuration\n";
    return 1;
  }
  std::vector<CibChange> changes;
  std::vector<bool> created;
  for (const auto& id : owners) {
    const auto owner = find_resource(s.cib, id);
    created.push_back(!own_nvpair(owner, set_tag, name));
    for (auto& c : set_attribute(owner, set_tag, name, value)) changes.push_back(std::move(c));
  }
  if (!commit(s, std::move(changes), cli)) return 1;
  for (std::size_t i = 0; i < owners.size(); ++i) {
    const auto nv = own_nvpair(find_resource(s.cib, owners[i]), set_tag, name);
    cli.out() << "Set '" << owners[i] << "' option: id=" << id_of(nv);
    if (created[i]) cli.out() << " set=" << id_of(nv.parent());
    cli.out() << " name=" << name << " value=" << value << "\n";
  }
  return 0;
}

// Deleting what is not there is no error (crm_resource says nothing).
int delete_resource_attribute(Session& s, const pugi::xml_node& rsc, const std::string& set_tag,
                              const std::string& name, Cli& cli) {
  show_multiple(nvpairs_named(topmost(rsc), "", name), name, cli);
  const auto owners = set_tag == "meta_attributes"
                          ? attribute_owners(rsc, set_tag, name, "delete", cli)
                          : std::vector<std::string>{id_of(rsc)};
  if (!unique_values(s, owners, set_tag, name, cli)) return 1;
  std::vector<CibChange> changes;
  std::vector<std::string> lines;
  // crm_resource looks for the first match's id in the owners after it, and so deletes one value
  // only (a group's own stays when a member had one).
  for (const auto& id : owners) {
    for (const auto& nv : nvpairs_named(find_resource(s.cib, id), set_tag, name)) {
      changes.push_back(CibChange::remove(address_of(nv)));
      lines.push_back("Deleted '" + id + "' option: id=" + id_of(nv) + " name=" + name);
    }
    if (!changes.empty()) break;
  }
  if (!commit(s, std::move(changes), cli)) return 1;
  for (const auto& line : lines) cli.out() << line << "\n";
  return 0;
}

// meta|param|utilization RSC set NAME VALUE | delete NAME | show NAME: crmsh runs
// crm_resource [--meta|--utilization] --set-parameter|--delete-parameter|--get-parameter.
int attribute(const ResourceArgs& a, const std::string& command, const std::string& set_tag,
              Cli& cli) {
  const auto& w = a.words;
  if (!arity_ok(3, 4, w.size())) {
    return crmsh_arity(
        cli, command,
        std::string("rsc cmd ") + (command == "param" ? "param" : "attr") + " [value]", 3, 4,
        w.size());
  }
  std::string line = command;
  for (const auto& word : w) line += " " + word;
  auto bad = [&](const std::string& what) {
    cli.err() << "ERROR: Bad usage: " << what << ", command: '" << line << "'\n";
    return 1;
  };
  const std::string &rsc_id = w[0], &cmd = w[1], &name = w[2];
  // crmsh knows "get" as a word but runs nothing for it.
  if (cmd != "set" && cmd != "delete" && cmd != "show" && cmd != "get") return bad("'" + cmd + "'");
  if (cmd == "set" && w.size() == 3) return bad("Missing value argument to set");
  if (cmd == "get") return bad("Unknown command 'get'");
  if (cmd != "set" && w.size() == 4) return bad("Too many arguments to " + cmd);
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  auto rsc = find_resource(s->cib, rsc_id);
  if (!rsc) return no_such_resource(rsc_id, cli);
  if (cmd == "show") {
    if (auto value = shown_value(s->cib, rsc, set_tag, name)) {
      cli.out() << *value << "\n";
    } else {
      cli.err() << "Attribute '" << name << "' not found for '" << rsc_id << "'\n";
    }
    return 0;
  }
  return cmd == "set" ? set_resource_attribute(*s, rsc, set_tag, name, w[3], cli)
                      : delete_resource_attribute(*s, rsc, set_tag, name, cli);
}

// crmsh asks before it drops a member's or the resource's own contradicting setting. Without
// --force vigil answers as crmsh does when it cannot ask (no); with it as `crm -F` does (yes).
bool confirmed(bool force, const std::string& question, Cli& cli) {
  if (force) cli.err() << "INFO: " << question << " [YES]\n";
  return force;
}

bool empty_set(const pugi::xml_node& n) {
  const std::string_view tag = n.name();
  if (tag != "meta_attributes" && tag != "instance_attributes" && tag != "utilization")
    return false;
  if (n.attribute("id-ref")) return false;
  for (auto c : n.children())
    if (c.type() == pugi::node_element) return false;
  return true;
}

// crmsh's set_deep_meta_attr on a copy of `target`: the attribute goes into the target's meta
// attributes (every set it has, or a new one), a clone's child loses its own value, and a
// group's members (also a cloned group's) lose theirs and the conflicting is-managed or
// maintenance only when confirmed. Sets left empty go.
std::string deep_meta_xml(const cib::Cib& cib, const pugi::xml_node& original,
                          const std::string& attr, const std::string& value, bool force, Cli& cli) {
  // crmsh's new ids: PREFIX, else PREFIX-0, -1 … while the CIB as read (sets dropped just now
  // included) or this change already has it.
  std::set<std::string> made;
  auto free_id = [&](const std::string& base) {
    std::string id = base;
    for (int n = 0; cib.find_id(id) || made.count(id); ++n) id = base + "-" + std::to_string(n);
    made.insert(id);
    return id;
  };
  pugi::xml_document doc;
  auto target = doc.append_copy(original);
  const std::string conflicting = attr == "maintenance"  ? "is-managed"
                                  : attr == "is-managed" ? "maintenance"
                                                         : "";
  std::set<pugi::xml_node> doomed;
  auto collect = [&](const pugi::xml_node& rsc, const std::string& name) {
    if (auto nv = own_nvpair(rsc, "meta_attributes", name)) doomed.insert(nv);
  };
  pugi::xml_node inner;
  for (auto c : target.children()) {
    if (!inner && is_resource(c)) inner = c;
  }
  if (is_clone(target) && inner) collect(inner, attr);
  const bool group_like = std::string_view(target.name()) == "group" ||
                          (is_clone(target) && std::string_view(inner.name()) == "group");
  auto members_with = [&](const std::string& name) {
    std::vector<pugi::xml_node> out;
    cib::for_each_element(target, [&](const pugi::xml_node& p) {
      if (std::string_view(p.name()) == "primitive" && own_nvpair(p, "meta_attributes", name))
        out.push_back(p);
    });
    return out;
  };
  if (group_like && !conflicting.empty()) {
    for (const auto& p : members_with(conflicting)) {
      if (confirmed(force,
                    "'" + attr + "' conflicts with '" + conflicting + "' attribute. Remove '" +
                        conflicting + "' for child resource " + id_of(p) + "?",
                    cli))
        collect(p, conflicting);
    }
  }
  if (group_like) {
    for (const auto& p : members_with(attr)) {
      if (confirmed(force,
                    "Do you want to override '" + attr + "' for child resource " + id_of(p) + "?",
                    cli))
        collect(p, attr);
    }
  }
  for (auto nv : doomed) nv.parent().remove_child(nv);
  std::vector<pugi::xml_node> own_conflicts;
  for (auto set : target.children("meta_attributes")) {
    for (auto nv : set.children("nvpair"))
      if (!conflicting.empty() && conflicting == nv.attribute("name").value())
        own_conflicts.push_back(nv);
  }
  if (!own_conflicts.empty() &&
      confirmed(force,
                "'" + attr + "' conflicts with '" + conflicting + "' attribute. Remove '" +
                    conflicting + "' for resource " + id_of(target) + "?",
                cli)) {
    for (auto nv : own_conflicts) nv.parent().remove_child(nv);
  }
  // crmsh writes a container anew: its sets before its members.
  if (std::string_view(target.name()) != "primitive") {
    const auto first = std::find_if(target.children().begin(), target.children().end(),
                                    [](const pugi::xml_node& c) { return is_resource(c); });
    std::vector<pugi::xml_node> after;
    for (auto c = first == target.children().end() ? pugi::xml_node() : *first; c;
         c = c.next_sibling())
      if (!is_resource(c)) after.push_back(c);
    for (auto c : after) target.insert_move_before(c, *first);
  }
  std::vector<pugi::xml_node> empty;
  cib::for_each_element(target, [&](const pugi::xml_node& n) {
    if (empty_set(n)) empty.push_back(n);
  });
  for (auto n : empty) n.parent().remove_child(n);
  bool found = false;
  for (auto set : target.children("meta_attributes")) {
    for (auto nv : set.children("nvpair")) {
      if (attr != nv.attribute("name").value()) continue;
      (nv.attribute("value") ? nv.attribute("value") : nv.append_attribute("value")) =
          value.c_str();
      found = true;
    }
  }
  if (!found) {
    if (!target.child("meta_attributes")) {
      // crmsh writes a container's sets before its members, a primitive's after its operations.
      auto set = std::string_view(target.name()) == "primitive"
                     ? target.append_child("meta_attributes")
                     : target.prepend_child("meta_attributes");
      set.append_attribute("id") = free_id(id_of(target) + "-meta_attributes").c_str();
    }
    for (auto set : target.children("meta_attributes")) {
      auto nv = set.append_child("nvpair");
      nv.append_attribute("id") = free_id(id_of(set) + "-" + attr).c_str();
      nv.append_attribute("name") = attr.c_str();
      nv.append_attribute("value") = value.c_str();
    }
  }
  return cib::element_xml(target);
}

// manage|unmanage RSC, maintenance RSC [on|off|true|false]: is-managed or maintenance set as
// crmsh sets it, on a group member itself, else on its topmost container.
int deep_meta(const ResourceArgs& a, const std::string& command, Cli& cli) {
  const auto& w = a.words;
  std::string value = command == "manage" ? "true" : "false";
  if (command == "maintenance") {
    if (!arity_ok(1, 2, w.size()))
      return crmsh_arity(cli, command, "resource [on_off]", 1, 2, w.size());
    const std::string on_off = ascii_lower(w.size() == 2 ? w[1] : "true");
    if (on_off != "on" && on_off != "true" && on_off != "off" && on_off != "false") {
      cli.err() << "ERROR: resource.maintenance: Expected <resource> [on|off|true|false]\n";
      return 1;
    }
    value = on_off == "on" || on_off == "true" ? "true" : "false";
  } else if (w.size() != 1) {
    return crmsh_arity(cli, command, "rsc", 1, 1, w.size());
  }
  const std::string attr = command == "maintenance" ? "maintenance" : "is-managed";
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  auto target = find_resource(s->cib, w[0]);
  if (!target) {
    cli.err() << "ERROR: Resource not found: " << w[0] << "\n";
    return 1;
  }
  const bool member = std::string_view(target.name()) == "primitive" &&
                      std::string_view(target.parent().name()) == "group";
  if (!member) target = topmost(target);
  const auto xml = deep_meta_xml(s->cib, target, attr, value, a.force, cli);
  return commit(*s, {CibChange::replace(address_of(target), xml)}, cli) ? 0 : 1;
}

// One entry of a resource's operation history on a node.
struct HistoryOp {
  pugi::xml_node xml;
  std::string node;
  long call = 0;
  long long last_change = -1;
};

long long number_or(const pugi::xml_node& x, const char* name, long long otherwise) {
  const char* v = x.attribute(name).value();
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  return *v != '\0' && *end == '\0' ? n : otherwise;
}

// Pacemaker's order of a resource's history: by call id; the same call (an operation and its
// last_failure copy) by last-rc-change; pending operations (call id -1) last.
bool earlier(const HistoryOp& a, const HistoryOp& b) {
  if (a.call == -1 || b.call == -1) return a.call != -1 && b.call == -1;
  if (a.call != b.call) return a.call < b.call;
  return a.last_change < b.last_change;
}

// The operations since the resource last became active, as crm_resource -O selects them
// (calculate_active_ops): none when it stopped after its last start. Pacemaker compares an
// index counted from 1 with one counted from 0, so the operation before the start stays too.
std::vector<HistoryOp> active_ops(const std::vector<HistoryOp>& ops) {
  long start = -1, stop = -1, implied_monitor = -1, implied_clone = -1;
  for (long i = 0; i < static_cast<long>(ops.size()); ++i) {
    const auto& x = ops[static_cast<std::size_t>(i)].xml;
    const std::string task = x.attribute("operation").value();
    const std::string rc = x.attribute("rc-code").value();
    if (task == "stop" && std::string_view(x.attribute("op-status").value()) == "0") {
      stop = i;
    } else if (task == "start" || task == "migrate_from") {
      start = i;
    } else if (implied_monitor <= stop && task == "monitor") {
      if (rc == "0" || rc == "8") implied_monitor = i;
    } else if (task == "promote" || task == "demote") {
      implied_clone = i;
    }
  }
  if (start == -1) start = implied_clone != -1 ? implied_clone : implied_monitor;
  if (start < stop) return {};
  return {ops.begin() + std::max(0L, start - 1), ops.end()};
}

// The resource as crm_resource names it before each operation: its status line without the
// node ("vip\t(ocf:heartbeat:IPaddr2):\t Started (disabled)").
std::string resource_words(const scheduler::ClusterState& state, const std::string& id,
                           const std::string& node) {
  const scheduler::ResourceState* r = state_of(state.resources, id);
  std::function<void(const std::vector<scheduler::ResourceState>&)> instance =
      [&](const std::vector<scheduler::ResourceState>& all) {
        for (const auto& c : all) {
          const bool on_node = std::find(c.nodes.begin(), c.nodes.end(), node) != c.nodes.end();
          if (c.id.rfind(id + ":", 0) == 0 && (r == nullptr || on_node)) r = &c;
          instance(c.children);
        }
      };
  if (r == nullptr || r->line.empty()) instance(state.resources);
  if (r == nullptr || r->line.empty()) return "Unknown resource " + id;
  std::string line = r->line;
  if (r->nodes.size() == 1) {
    const auto at = line.find(" " + r->nodes.front(), line.find("):\t"));
    if (at != std::string::npos) line.erase(at, r->nodes.front().size() + 1);
  }
  return line;
}

std::string operation_line(const std::string& who, const HistoryOp& op) {
  const auto& x = op.xml;
  const char* key = x.attribute("operation_key") ? x.attribute("operation_key").value()
                                                 : x.attribute("id").value();
  std::string line = who + ": " + key + " (node=" + op.node +
                     ", call=" + x.attribute("call-id").value() +
                     ", rc=" + x.attribute("rc-code").value();
  if (op.last_change >= 0) {
    line += ", last-rc-change='" + status::crm_time(op.last_change) +
            "', exec=" + x.attribute("exec-time").value() + "ms";
  }
  return line + "): " + status::exec_status_text(static_cast<int>(number_or(x, "op-status", -2)));
}

bool in_history(const cib::Cib& cib, const std::string& id) {
  for (auto state : cib.status().children("node_state")) {
    if (state.child("lrm")
            .child("lrm_resources")
            .find_child_by_attribute("lrm_resource", "id", id.c_str()))
      return true;
  }
  return false;
}

// operations [RSC] [NODE]: crm_resource -O, the operations of the resources' active history on
// the nodes that are up (all nodes when fencing is on), in the status section's order.
int operations(const ResourceArgs& a, Cli& cli) {
  const auto& w = a.words;
  if (w.size() > 2) return crmsh_arity(cli, "operations", "[resource] [node]", 0, 2, w.size());
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  const std::string rsc = w.empty() ? "" : w[0];
  if (!rsc.empty() && !find_resource(s->cib, rsc) && !in_history(s->cib, rsc)) {
    cli.err() << "ERROR: Resource '" << rsc << "' not found\n";
    return 1;
  }
  std::string only;
  if (w.size() > 1) {
    auto n = find_node(s->cib, w[1]);
    if (!n) {
      cli.err() << "crm_resource: Node '" << w[1] << "' not found\n"
                << "Error performing operation: No such object\n";
      return 1;
    }
    only = n.attribute("uname") ? n.attribute("uname").value() : id_of(n);
  }
  const auto state = scheduler::cluster_state(s->cib, wall_clock_ms());
  for (auto ns : s->cib.status().children("node_state")) {
    const std::string uname = ns.attribute("uname").value();
    if (!only.empty() && !ascii_iequals(uname, only)) continue;
    const auto n = std::find_if(state.nodes.begin(), state.nodes.end(),
                                [&](const scheduler::NodeState& x) { return x.id == id_of(ns); });
    if (n == state.nodes.end() || (!n->online && !state.stonith_enabled)) continue;
    for (auto lrm : ns.child("lrm").child("lrm_resources").children("lrm_resource")) {
      const std::string id = id_of(lrm);
      if (!rsc.empty() && !ascii_iequals(id, rsc)) continue;
      std::vector<HistoryOp> ops;  // newest entry first, as Pacemaker collects them
      for (auto op : lrm.children("lrm_rsc_op")) {
        ops.insert(ops.begin(), HistoryOp{op, uname, static_cast<long>(number_or(op, "call-id", 0)),
                                          number_or(op, "last-rc-change", -1)});
      }
      std::stable_sort(ops.begin(), ops.end(), earlier);
      const std::string who = resource_words(state, id, uname);
      for (const auto& op : active_ops(ops)) cli.out() << operation_line(who, op) << "\n";
    }
  }
  return 0;
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
      {"cleanup", "cleanup [RSC] [NODE] [force]: forget failures and fail counts, probe again",
       [](const ResourceArgs& a, Cli& c) { return forget(a, "cleanup", c); }},
      {"refresh", "refresh [RSC] [NODE] [force]: forget all history, probe again",
       [](const ResourceArgs& a, Cli& c) { return forget(a, "refresh", c); }},
      {"status", "status [RSC…]: where resources run", locate},
      {"operations", "operations [RSC] [NODE]: the active operations in the history", operations},
      {"failcount", "failcount RSC show|delete|set NODE [VALUE [OPERATION INTERVAL]]", failcount},
      {"meta", "meta RSC set|delete|show NAME [VALUE]: a meta attribute",
       [](const ResourceArgs& a, Cli& c) { return attribute(a, "meta", "meta_attributes", c); }},
      {"param", "param RSC set|delete|show NAME [VALUE]: an instance attribute",
       [](const ResourceArgs& a, Cli& c) {
         return attribute(a, "param", "instance_attributes", c);
       }},
      {"utilization", "utilization RSC set|delete|show NAME [VALUE]: a utilization attribute",
       [](const ResourceArgs& a, Cli& c) { return attribute(a, "utilization", "utilization", c); }},
      {"manage", "manage RSC: is-managed=true (the cluster acts on it again)",
       [](const ResourceArgs& a, Cli& c) { return deep_meta(a, "manage", c); }},
      {"unmanage", "unmanage RSC: is-managed=false (the cluster leaves it alone)",
       [](const ResourceArgs& a, Cli& c) { return deep_meta(a, "unmanage", c); }},
      {"maintenance", "maintenance RSC [on|off]: the resource's maintenance meta attribute",
       [](const ResourceArgs& a, Cli& c) { return deep_meta(a, "maintenance", c); }},
  };
  for (const auto& c : commands) {
    auto* sub = resource->add_subcommand(c.name, c.help);
    sub->add_option("--cib", args->cib_file, "the CIB file (else CIB_file, else vigild)");
    sub->add_option("--socket", args->socket, "vigild's control socket");
    sub->add_option("words", args->words, "arguments");
    const std::string_view name = c.name;
    if (name == "manage" || name == "unmanage" || name == "maintenance") {
      sub->add_flag("--force,-F", args->force,
                    "drop members' own contradicting settings without asking (crm -F)");
    }
    // A word that looks like an option ("-INFINITY") is one of the command's words; it comes
    // after the others, where a value stands.
    sub->allow_extras();
    sub->fallthrough(false);
    auto run = c.run;
    cli.on(sub, [&cli, args, run, sub] {
      ResourceArgs a = *args;
      for (auto& w : sub->remaining()) a.words.push_back(w);
      return run(a, cli);
    });
  }
  resource->get_subcommand("status")->alias("show");
  resource->get_subcommand("status")->alias("list");
  resource->get_subcommand("status")->alias("locate");
  resource->get_subcommand("move")->alias("migrate");
  resource->get_subcommand("clear")->alias("unmove");
  resource->get_subcommand("clear")->alias("unban");
  resource->get_subcommand("refresh")->alias("reprobe");
}

}  // namespace

VIGIL_COMMANDS(65, add_resource_commands);

}  // namespace vigil::cli
