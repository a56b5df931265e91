#include "history/history.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "scheduler/scheduler.h"

namespace vigil::history {

namespace {

using Json = nlohmann::json;

std::string attr(const pugi::xml_node& n, const char* name) {
  return n.attribute(name).value();
}

// Whether `e` is a transition that acts on `resource`.
bool acts_on(const Event& e, const std::string& resource) {
  return std::find(e.resources.begin(), e.resources.end(), resource) != e.resources.end();
}

Event event(std::string_view what, std::int64_t at, std::string node, std::string detail) {
  Event e;
  e.at_ms = at;
  e.what = what;
  e.node = std::move(node);
  e.detail = std::move(detail);
  return e;
}

// Who made the newest change, as the CIB's root records it: "root via vigil on n1".
std::string changed_by(const cib::Cib& cib) {
  const auto root = cib.root();
  std::string by = attr(root, "update-user");
  if (by.empty()) return "";
  if (const auto client = attr(root, "update-client"); !client.empty()) by += " via " + client;
  if (const auto origin = attr(root, "update-origin"); !origin.empty()) by += " on " + origin;
  return by;
}

// ---- standby and maintenance: the node's own attribute (configuration/nodes, crmsh's default
// lifetime) or its transient one (status, `--lifetime reboot`), either set

struct NodeModes {
  bool standby = false, maintenance = false;
};

bool is_true(std::string_view v) {
  return v == "on" || v == "true" || v == "yes" || v == "y" || v == "1" || v == "On" ||
         v == "TRUE" || v == "True";
}

void read_modes(const pugi::xml_node& holder, NodeModes& modes) {
  for (auto set : holder.children("instance_attributes")) {
    for (auto nv : set.children("nvpair")) {
      const std::string_view name = nv.attribute("name").value();
      if (name == "standby") modes.standby = modes.standby || is_true(nv.attribute("value").value());
      if (name == "maintenance")
        modes.maintenance = modes.maintenance || is_true(nv.attribute("value").value());
    }
  }
}

// By node name.
std::map<std::string, NodeModes> node_modes(const cib::Cib& cib) {
  std::map<std::string, NodeModes> out;
  for (auto n : cib.configuration().child("nodes").children("node"))
    read_modes(n, out[attr(n, "uname").empty() ? attr(n, "id") : attr(n, "uname")]);
  for (auto s : cib.status().children("node_state"))
    read_modes(s.child("transient_attributes"),
               out[attr(s, "uname").empty() ? attr(s, "id") : attr(s, "uname")]);
  return out;
}

void mode_events(const cib::Cib& before, const cib::Cib& after, std::int64_t now,
                 std::vector<Event>& out) {
  const auto was = node_modes(before);
  const std::string by = changed_by(after);
  const auto words = [&](const std::string& node, bool on, std::string_view on_kind,
                         std::string_view off_kind, const std::string& on_text,
                         const std::string& off_text) {
    Event e = event(on ? on_kind : off_kind, now, node, node + (on ? on_text : off_text));
    e.by = by;
    if (!by.empty()) e.detail += " by " + by;
    out.push_back(std::move(e));
  };
  for (const auto& [node, is] : node_modes(after)) {
    const auto old = was.find(node);
    const NodeModes prior = old == was.end() ? NodeModes{} : old->second;
    if (prior.standby != is.standby)
      words(node, is.standby, kind::kStandby, kind::kOnline, " was put in standby",
            " was brought back online (standby off)");
    if (prior.maintenance != is.maintenance)
      words(node, is.maintenance, kind::kMaintenance, kind::kReady, " was put in maintenance",
            " was taken out of maintenance");
  }
}

// ---- fencing: the DC writes a fenced node down as expected with its history cleared

std::map<std::string, pugi::xml_node> node_states(const cib::Cib& cib) {
  std::map<std::string, pugi::xml_node> out;
  for (auto s : cib.status().children("node_state")) out[attr(s, "id")] = s;
  return out;
}

void fencing_events(const cib::Cib& before, const cib::Cib& after, std::int64_t now,
                    std::vector<Event>& out) {
  const auto was = node_states(before);
  for (const auto& [id, state] : node_states(after)) {
    const auto old = was.find(id);
    if (old == was.end() || attr(old->second, "expected") != "member") continue;
    if (attr(state, "expected") != "down" || attr(state, "in_ccm") != "false" ||
        state.child("lrm").child("lrm_resources").first_child())
      continue;
    const std::string name = attr(state, "uname").empty() ? id : attr(state, "uname");
    out.push_back(
        event(kind::kFenced, now, name, name + " was fenced: down, its resource history cleared"));
  }
}

// ---- configuration: what changed, by element, and who changed it

// Each element of a configuration section that has an id ("primitive vip"), with its text.
std::map<std::string, std::string> configured(const cib::Cib& cib, std::map<std::string, std::string>& rsc) {
  std::map<std::string, std::string> out;
  for (auto section : cib.configuration().children()) {
    for (auto e : section.children()) {
      if (e.type() != pugi::node_element || attr(e, "id").empty()) continue;
      // A node by its name, as every other line names it.
      const bool node = std::string_view(e.name()) == "node" && !attr(e, "uname").empty();
      const std::string name = std::string(e.name()) + " " + attr(e, node ? "uname" : "id");
      out[name] = cib::element_xml(e);
      const std::string concerns = std::string_view(e.name()) == "primitive" ? attr(e, "id")
                                                                              : attr(e, "rsc");
      if (!concerns.empty()) rsc[name] = concerns;
    }
  }
  return out;
}

void configuration_events(const cib::Cib& before, const cib::Cib& after, std::int64_t now,
                          std::vector<Event>& out) {
  const auto v0 = before.version(), v1 = after.version();
  if (v0.admin_epoch == v1.admin_epoch && v0.epoch == v1.epoch) return;
  std::map<std::string, std::string> rsc;
  const auto was = configured(before, rsc), is = configured(after, rsc);
  std::vector<std::string> parts;
  std::set<std::string> resources;
  const auto note = [&](const std::string& verb, const std::string& name) {
    parts.push_back(verb + " " + name);
    if (const auto r = rsc.find(name); r != rsc.end()) resources.insert(r->second);
  };
  for (const auto& [name, xml] : is) {
    const auto old = was.find(name);
    if (old == was.end()) {
      note("added", name);
    } else if (old->second != xml) {
      note("changed", name);
    }
  }
  for (const auto& [name, xml] : was) {
    if (!is.count(name)) note("removed", name);
  }
  std::string detail = "configuration changed (" + v1.str() + ")";
  for (std::size_t i = 0; i < parts.size(); ++i) detail += (i ? ", " : ": ") + parts[i];
  Event e = event(kind::kConfiguration, now, "", std::move(detail));
  if (resources.size() == 1) e.resource = *resources.begin();
  e.by = changed_by(after);
  if (!e.by.empty()) e.detail += " by " + e.by;
  out.push_back(std::move(e));
}

// ---- actions: each result newly recorded in an lrm history

struct Recorded {
  std::string node, resource;
  pugi::xml_node op;
};

// Every lrm_rsc_op by "node-id/resource/op-id".
std::map<std::string, Recorded> recorded_ops(const cib::Cib& cib) {
  std::map<std::string, Recorded> out;
  for (auto state : cib.status().children("node_state")) {
    const std::string node = attr(state, "uname").empty() ? attr(state, "id") : attr(state, "uname");
    for (auto r : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
      for (auto op : r.children("lrm_rsc_op"))
        out[attr(state, "id") + "/" + attr(r, "id") + "/" + attr(op, "id")] = {node, attr(r, "id"),
                                                                             op};
    }
  }
  return out;
}

int number(const pugi::xml_node& n, const char* name, int otherwise) {
  const auto a = n.attribute(name);
  return a ? a.as_int(otherwise) : otherwise;
}

// The result the action was expected to give: transition-key's third field ("g:a:target:uuid").
int target_rc(const pugi::xml_node& op) {
  const std::string key = attr(op, "transition-key");
  const auto first = key.find(':');
  const auto second = first == std::string::npos ? first : key.find(':', first + 1);
  if (second == std::string::npos) return 0;
  return std::atoi(key.c_str() + second + 1);
}

bool same_result(const pugi::xml_node& a, const pugi::xml_node& b) {
  for (const char* name : {"call-id", "rc-code", "op-status", "last-rc-change"})
    if (attr(a, name) != attr(b, name)) return false;
  return true;
}

std::string task_words(const std::string& task, std::int64_t interval_ms) {
  if (interval_ms == 0) return task == "monitor" ? "probe" : task;
  return task + " (every " + std::to_string(interval_ms / 1000) + "s)";
}

// When a result was recorded: when this node saw it, to the millisecond, if that is within the
// whole second last-rc-change names (or a minute after it: the record came when the node's CIB
// caught up); else last-rc-change itself (a record from long before, or a clock ahead of ours).
// The incident timeline's steps are then measured on one clock, finer than a second.
std::int64_t action_time(std::int64_t changed_s, std::int64_t now_ms) {
  if (changed_s <= 0) return now_ms;
  const std::int64_t changed_ms = changed_s * 1000;
  const bool seen_fresh = now_ms >= changed_ms && now_ms < changed_ms + 60'000;
  return seen_fresh ? now_ms : changed_ms;
}

void action_events(const cib::Cib& before, const cib::Cib& after, std::int64_t now,
                   std::vector<Event>& out) {
  const auto was = recorded_ops(before);
  for (const auto& [key, r] : recorded_ops(after)) {
    const auto& op = r.op;
    // The failure record repeats the failed operation's own; a pending one has no result yet.
    if (attr(op, "id").ends_with("_last_failure_0") || number(op, "op-status", -1) == -1 ||
        number(op, "call-id", -1) < 0)
      continue;
    if (const auto old = was.find(key); old != was.end() && same_result(old->second.op, op))
      continue;
    const std::string task = attr(op, "operation");
    const std::int64_t interval = op.attribute("interval").as_llong(0);
    const int rc = number(op, "rc-code", 0);
    const int status = number(op, "op-status", 0);
    const bool probe = task == "monitor" && interval == 0;
    const bool failed = status != 0 || (rc != target_rc(op) && !(probe && (rc == 0 || rc == 7)));
    // Probes and monitors that find what was expected are not news.
    if (!failed && task == "monitor") continue;
    Event e = event(failed ? kind::kFailed : kind::kAction,
                    action_time(op.attribute("last-rc-change").as_llong(0), now), r.node, "");
    e.resource = r.resource;
    e.task = task;
    e.rc = rc;
    e.exit_reason = attr(op, "exit-reason");
    e.detail = task_words(task, interval) + " of " + r.resource + " on " + r.node +
               (failed ? " failed: " : ": ") + scheduler::ocf_result_text(rc) +
               (failed ? " (rc=" + std::to_string(rc) + ")" : "") +
               (status != 0 && failed ? ", op-status " + std::to_string(status) : "") +
               (e.exit_reason.empty() ? "" : ": " + e.exit_reason);
    out.push_back(std::move(e));
  }
}

}  // namespace

std::vector<Event> view_events(const std::optional<View>& before, const View& after,
                               std::int64_t now_ms) {
  std::vector<Event> out;
  const std::set<std::string> was =
      before ? std::set<std::string>(before->members.begin(), before->members.end())
             : std::set<std::string>();
  const std::set<std::string> is(after.members.begin(), after.members.end());
  for (const auto& n : is)
    if (!was.count(n)) out.push_back(event(kind::kJoined, now_ms, n, n + " joined the membership"));
  for (const auto& n : was)
    if (!is.count(n)) out.push_back(event(kind::kLost, now_ms, n, n + " was lost from the membership"));
  const bool quorate_before = before && before->quorate;
  if (quorate_before != after.quorate)
    out.push_back(after.quorate ? event(kind::kQuorumGained, now_ms, "", "the partition has quorum")
                                : event(kind::kQuorumLost, now_ms, "", "the partition lost quorum"));
  return out;
}

std::vector<Event> cib_events(const cib::Cib& before, const cib::Cib& after, std::int64_t now_ms) {
  std::vector<Event> out;
  configuration_events(before, after, now_ms, out);
  mode_events(before, after, now_ms, out);
  fencing_events(before, after, now_ms, out);
  action_events(before, after, now_ms, out);
  return out;
}

// ---- the journal's lines

Event transition_event(const controller::TransitionNote& note, const std::string& dc,
                       std::int64_t now_ms) {
  using Stage = controller::TransitionNote::Stage;
  const std::string name = "transition " + std::to_string(note.id);
  std::string detail = note.stage == Stage::completed ? name + " complete"
                       : note.stage == Stage::aborted ? name + " aborted: " + note.reason
                                                      : name + " started by " + dc;
  Event e = event(kind::kTransition, now_ms, dc, "");
  for (std::size_t i = 0; i < note.summary.size(); ++i) {
    const auto& line = note.summary[i];
    if (note.stage == Stage::started) {
      detail += (i == 0 ? ": " : "; ") + line.verb + " " + line.subject;
      if (!line.details.empty()) detail += " (" + line.details + ")";
    }
    // Fencing's subject is "(reboot) node", not a resource.
    if (line.verb != "Fence" &&
        std::find(e.resources.begin(), e.resources.end(), line.subject) == e.resources.end())
      e.resources.push_back(line.subject);
  }
  e.detail = std::move(detail);
  return e;
}

Event watchdog_fencing_event(const controller::WatchdogFencing& fencing, const std::string& dc,
                             std::int64_t now_ms) {
  return event(kind::kFenced, now_ms, fencing.target,
               fencing.target + " was fenced by its watchdog (" + fencing.action +
                   "), counted by the DC " + dc + " once its lease had run out");
}

Json to_json(const Event& e) {
  Json j{{"at", e.at_ms}, {"what", e.what}, {"node", e.node}, {"detail", e.detail}};
  if (!e.resource.empty()) j["resource"] = e.resource;
  if (!e.resources.empty()) j["resources"] = e.resources;
  if (e.last_heard_ms != 0) j["last_heard"] = e.last_heard_ms;
  if (!e.by.empty()) j["by"] = e.by;
  if (!e.task.empty()) {
    j["task"] = e.task;
    j["rc"] = e.rc;
  }
  if (!e.exit_reason.empty()) j["exit_reason"] = e.exit_reason;
  return j;
}

Result<Event> from_json(const Json& j) {
  if (!j.is_object()) return fail("history: an event is not a JSON object");
  Event e;
  const auto at = j.find("at");
  if (at == j.end() || !at->is_number_integer())
    return fail("history: \"at\" must be a number (milliseconds)");
  e.at_ms = at->get<std::int64_t>();
  for (auto [key, field, required] :
       {std::tuple{"what", &e.what, true}, {"node", &e.node, true}, {"detail", &e.detail, true},
        {"resource", &e.resource, false}, {"by", &e.by, false}, {"task", &e.task, false},
        {"exit_reason", &e.exit_reason, false}}) {
    const auto it = j.find(key);
    if (it == j.end() && !required) continue;
    if (it == j.end() || !it->is_string())
      return fail(std::string("history: \"") + key + "\" must be a string");
    *field = it->get<std::string>();
  }
  if (const auto list = j.find("resources"); list != j.end()) {
    if (!list->is_array() ||
        !std::all_of(list->begin(), list->end(), [](const Json& r) { return r.is_string(); }))
      return fail("history: \"resources\" must be a list of strings");
    e.resources = list->get<std::vector<std::string>>();
  }
  if (const auto heard = j.find("last_heard"); heard != j.end()) {
    if (!heard->is_number_integer())
      return fail("history: \"last_heard\" must be a number (milliseconds)");
    e.last_heard_ms = heard->get<std::int64_t>();
  }
  if (const auto rc = j.find("rc"); rc != j.end()) {
    if (!rc->is_number_integer() || rc->get<std::int64_t>() < -1000 ||
        rc->get<std::int64_t>() > 1000)
      return fail("history: \"rc\" must be a small integer");
    e.rc = rc->get<int>();
  }
  return e;
}

// Invalid UTF-8 (an agent's exit reason) is replaced, so every line written decodes.
std::string encode(const Event& e) {
  return to_json(e).dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Event> decode(std::string_view line) {
  const Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded()) return fail("history: a line is not JSON");
  return from_json(j);
}

Decoded decode_journal(std::string_view text) {
  Decoded out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty()) continue;
    auto e = decode(line);
    if (e) {
      out.events.push_back(std::move(*e));
    } else {
      ++out.skipped;
    }
  }
  return out;
}

bool matches(const Event& e, const Filter& f) {
  if (e.at_ms < f.since_ms) return false;
  // Membership, quorum and configuration may be why a resource moved: kept for --resource.
  const bool cluster_wide = e.resource.empty() && e.task.empty() && e.resources.empty();
  if (!f.resource.empty() && e.resource != f.resource && !cluster_wide && !acts_on(e, f.resource))
    return false;
  if (!f.node.empty() && e.node != f.node) return false;
  return true;
}

void Journal::add(Event event) {
  events_.push_back(std::move(event));
  while (events_.size() > capacity_) events_.pop_front();
}

std::vector<Event> Journal::select(const Filter& filter) const {
  std::vector<Event> out;
  for (const auto& e : events_)
    if (matches(e, filter)) out.push_back(e);
  return out;
}

Json query_answer(const Journal& journal, const Filter& filter) {
  Json events = Json::array();
  for (const auto& e : journal.select(filter)) events.push_back(to_json(e));
  return Json{{"ok", true}, {"events", std::move(events)}};
}

// ---- why

namespace {

bool started(const Event& e, const std::string& resource) {
  return e.what == kind::kAction && e.resource == resource &&
         (e.task == "start" || e.task == "migrate_from");
}

// How strongly an event explains that `resource` left `from`: a failure of its own first, then
// its node's loss, standby or maintenance, its fencing, then a configuration change; 0: not at all.
int cause_rank(const Event& e, const std::string& resource, const std::string& from) {
  if (e.what == kind::kFailed && e.resource == resource) return 6;
  if (e.node == from && e.what == kind::kLost) return 5;
  if (e.node == from && (e.what == kind::kStandby || e.what == kind::kMaintenance)) return 4;
  if (e.node == from && e.what == kind::kFenced) return 3;
  if (e.what == kind::kConfiguration && (e.resource.empty() || e.resource == resource)) return 2;
  if (e.what == kind::kQuorumLost) return 1;
  return 0;
}

std::string cause_words(const Event& c, const TimeText& at) {
  if (c.what == kind::kFailed) {
    std::string s = c.task + " failed on " + c.node + " (rc=" + std::to_string(c.rc) + " " +
                    scheduler::ocf_result_text(c.rc);
    if (!c.exit_reason.empty()) s += ": " + c.exit_reason;
    return s + ") at " + at(c.at_ms);
  }
  if (c.what == kind::kLost) return c.node + " was lost at " + at(c.at_ms);
  if (c.what == kind::kStandby || c.what == kind::kMaintenance) {
    return c.node + " was put in " + c.what + (c.by.empty() ? "" : " by " + c.by) + " at " +
           at(c.at_ms);
  }
  if (c.what == kind::kFenced) return c.node + " was fenced at " + at(c.at_ms);
  return c.detail + " at " + at(c.at_ms);
}

std::string seconds_since(std::int64_t origin_ms, std::int64_t at_ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+%.3f s", static_cast<double>(at_ms - origin_ms) / 1000.0);
  return buf;
}

// An incident, from its cause to the resource's start: what concerned the resource or its nodes,
// each with its time since the fault. A lost node's fault began when it was last heard (failure
// detection is the span to its loss); any other's at its cause.
void timeline(std::span<const Event> incident, const std::string& resource, const std::string& from,
              const std::string& to, const TimeText& at, std::vector<std::string>& out) {
  const Event& cause = incident.front();
  const bool heard = cause.what == kind::kLost && cause.last_heard_ms != 0;
  const std::int64_t origin = heard ? cause.last_heard_ms : cause.at_ms;
  out.push_back("timeline:");
  const auto line = [&](std::int64_t at_ms, const std::string& text) {
    out.push_back("  " + at(at_ms) + "  " + seconds_since(origin, at_ms) + "  " + text);
  };
  if (heard) line(origin, cause.node + " last heard");
  for (const auto& e : incident) {
    const bool relevant = e.what == kind::kTransition
                              ? acts_on(e, resource)
                              : e.resource == resource || e.node == from || e.node == to ||
                                    e.what == kind::kConfiguration ||
                                    e.what == kind::kQuorumLost || e.what == kind::kQuorumGained;
    if (relevant) line(e.at_ms, e.detail);
  }
  out.push_back("from the fault to " + resource + " running again: " +
                seconds_since(origin, incident.back().at_ms).substr(1));
}

}  // namespace

std::vector<std::string> why(const std::string& resource, const Placement& placement,
                             std::span<const Event> events, const TimeText& at) {
  std::vector<std::string> out;
  std::string where = placement.nodes.empty() ? resource + " is stopped" : resource + " runs on ";
  for (std::size_t i = 0; i < placement.nodes.size(); ++i)
    where += (i ? ", " : "") + placement.nodes[i];
  out.push_back(where + (placement.reason.empty() ? "" : ": " + placement.reason));

  std::size_t s = events.size();
  while (s > 0 && !started(events[s - 1], resource)) --s;
  if (s == 0) {
    out.push_back("no start of " + resource + " is in the journal");
    return out;
  }
  const std::size_t start = s - 1;
  const std::string& to = events[start].node;
  // Where it ran before: its previous start; a stop in between is where it left.
  std::size_t before = start;
  while (before > 0 && !started(events[before - 1], resource)) --before;
  const std::size_t window = before;  // the events after the previous start
  std::string from = before > 0 ? events[before - 1].node : "";
  for (std::size_t i = window; i < start; ++i) {
    const auto& e = events[i];
    if (e.what == kind::kAction && e.resource == resource && e.task == "stop") from = e.node;
  }
  if (from.empty()) {
    out.push_back("started on " + to + " at " + at(events[start].at_ms));
    return out;
  }
  std::optional<std::size_t> cause;
  int best = 0;
  for (std::size_t i = start; i-- > window;) {
    const int rank = cause_rank(events[i], resource, from);
    if (rank > best) {
      best = rank;
      cause = i;
    }
  }
  const std::string when = at(events[start].at_ms);
  const std::string moved = from == to ? "restarted on " + to + " at " + when
                                       : "moved from " + from + " to " + to + " at " + when;
  if (!cause) {
    out.push_back(moved + " (the journal holds no cause)");
    return out;
  }
  const Event& c = events[*cause];
  if (c.what == kind::kFailed) {
    out.push_back("stopped on " + from + " after " + cause_words(c, at) + ", " +
                  (from == to ? "restarted there" : "restarted on " + to) + " at " + when);
  } else if (c.what == kind::kLost) {
    out.push_back(cause_words(c, at) + "; " + resource + " started on " + to + " at " + when);
  } else {
    out.push_back(moved + " because " + cause_words(c, at));
  }
  timeline(events.subspan(*cause, start - *cause + 1), resource, from, to, at, out);
  return out;
}

}  // namespace vigil::history
