// `vigil status` as crm_mon shows the cluster: the summary, the node list, the resources, the
// fail counts and the failed actions, in crm_mon's text layout, its XML and a JSON form. The node
// and resource states come from the scheduler's reading of the CIB (the same one `vigil simulate`
// prints); the failed actions from the operation history in the CIB's status section.
#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "status/status.h"
#include "control/request.h"
#include "scheduler/options.h"
#include "scheduler/scheduler.h"

namespace vigil::status {

using Json = nlohmann::json;

namespace {

std::string time_text(std::int64_t seconds, const char* format, bool utc) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (utc) {
    ::gmtime_r(&t, &tm);
  } else {
    ::localtime_r(&t, &tm);
  }
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// Pacemaker's "2011-07-11 12:04:11Z" (UTC) for seconds since the epoch.
std::string iso_time(std::int64_t seconds) {
  return time_text(seconds, "%Y-%m-%d %H:%M:%SZ", true);
}

}  // namespace

std::string crm_time(std::int64_t seconds) {
  return time_text(seconds, "%a %b %e %H:%M:%S %Y", false);
}

const char* exec_status_text(int status) {
  switch (status) {
    case -1:
      return "pending";
    case 0:
      return "complete";
    case 1:
      return "Cancelled";
    case 2:
      return "Timed Out";
    case 3:
      return "NOT SUPPORTED";
    case 4:
      return "Error";
    case 5:
      return "Hard error";
    case 6:
      return "Fatal error";
    case 7:
      return "Not installed";
    case 8:
      return "Internal communication failure";
    case 9:
      return "Cannot execute now";
    case 10:
      return "No fence device";
    case 11:
      return "CIB secrets unavailable";
    default:
      return "UNKNOWN";
  }
}

namespace {

std::string attr(const pugi::xml_node& n, const char* name) {
  return n.attribute(name).value();
}

// A cluster property (crm_config), or "".
std::string property(const cib::Cib& cib, std::string_view name) {
  for (auto set : cib.configuration().child("crm_config").children("cluster_property_set")) {
    for (auto nv : set.children("nvpair")) {
      if (name == nv.attribute("name").value()) return attr(nv, "value");
    }
  }
  return {};
}

// One failed operation from the status section's history.
struct FailedOp {
  pugi::xml_node xml;
  std::string key, resource, task, node, exit_reason;
  int rc = 0, status = 0;
  std::int64_t interval_ms = 0, last_change = 0, exec_ms = 0;
};

// The resource an operation key ("RSC_TASK_INTERVAL") names, as crm_mon reads it: the key, not
// the history entry's resource, names the resource of a failed action.
std::string resource_of_key(const std::string& key) {
  auto end = key.rfind('_');
  if (end == std::string::npos || end == 0) return key;
  for (const char* task : {"_migrate_to", "_migrate_from"}) {
    const std::string t = task;
    if (end >= t.size() && key.compare(end - t.size(), t.size(), t) == 0)
      return key.substr(0, end - t.size());
  }
  const auto task = key.rfind('_', end - 1);
  return task == std::string::npos ? key : key.substr(0, task);
}

std::int64_t number(const pugi::xml_node& n, const char* name, std::int64_t otherwise = 0) {
  const char* v = n.attribute(name).value();
  if (*v == '\0') return otherwise;
  char* end = nullptr;
  const long long x = std::strtoll(v, &end, 10);
  return *end == '\0' ? x : otherwise;
}

// The rc the controller expected, from transition-key "action:transition:target-rc:uuid".
int expected_rc(const pugi::xml_node& op) {
  std::string key = attr(op, "transition-key");
  auto a = key.find(':');
  auto b = a == std::string::npos ? a : key.find(':', a + 1);
  auto c = b == std::string::npos ? b : key.find(':', b + 1);
  if (c == std::string::npos) return 0;
  return std::atoi(key.substr(b + 1, c - b - 1).c_str());
}

bool is_probe(const pugi::xml_node& op) {
  return attr(op, "operation") == "monitor" && number(op, "interval") == 0;
}

// The operations of one resource on one node, by call id (the order they ran in).
std::vector<pugi::xml_node> history_of(const pugi::xml_node& lrm_resource) {
  std::vector<pugi::xml_node> ops;
  for (auto op : lrm_resource.children("lrm_rsc_op")) ops.push_back(op);
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) {
    return number(a, "call-id") < number(b, "call-id");
  });
  return ops;
}

// Failed operations as crm_mon lists them: an op that did not complete, or completed with an rc
// other than the one expected; a probe finding a resource running, stopped or not installed is
// not a failure. Each operation key counts once per node (the history keeps a last_failure copy).
// Only online nodes' failures are listed: an unclean node's history says what may still run
// there, not what failed.
std::vector<FailedOp> failed_ops(const cib::Cib& cib, const scheduler::ClusterState& cluster) {
  std::vector<FailedOp> out;
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> online;
  for (const auto& n : cluster.nodes)
    if (n.online) online.insert(n.name);
  for (auto state : cib.status().children("node_state")) {
    if (!online.count(attr(state, "uname"))) continue;
    for (auto rsc : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
      for (auto op : history_of(rsc)) {
        FailedOp f{op,
                   attr(op, "operation_key"),
                   attr(rsc, "id"),
                   attr(op, "operation"),
                   attr(op, "on_node"),
                   attr(op, "exit-reason")};
        if (f.key.empty()) f.key = attr(op, "id");
        if (f.node.empty()) f.node = attr(state, "uname");
        f.rc = static_cast<int>(number(op, "rc-code"));
        f.status = static_cast<int>(number(op, "op-status"));
        f.interval_ms = number(op, "interval");
        f.last_change = number(op, "last-rc-change");
        f.exec_ms = number(op, "exec-time");
        f.resource = resource_of_key(f.key);
        const bool probe = is_probe(op);
        if (f.status == -1 || f.status == 1) continue;
        // Pacemaker judges an op the executor finished, or reported as an error, by its rc
        // against the one expected.
        const bool judged_by_rc = f.status == 0 || f.status == 4;
        if (judged_by_rc && f.rc == expected_rc(op)) continue;
        if (judged_by_rc && probe && (f.rc == 0 || f.rc == 7 || f.rc == 8)) continue;
        if (probe && (f.rc == 5 || f.status == 7)) continue;  // shown as "not installed"
        if (!seen.insert({f.key, f.node}).second) continue;
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

// Pacemaker's readable interval: each unit only for more than one of it, so "10s", "1m30s",
// "60s" (one minute), "1000ms" (one second), "1.500s".
std::string readable_interval(std::int64_t ms) {
  std::string s;
  for (auto [unit, name] : {std::pair<std::int64_t, const char*>{86400000, "d"},
                            {3600000, "h"},
                            {60000, "m"}}) {
    if (ms > unit) {
      s += std::to_string(ms / unit) + name;
      ms %= unit;
    }
  }
  if (ms > 1000) {
    s += std::to_string(ms / 1000);
    if (ms % 1000 != 0) {
      char frac[8];
      std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
      s += frac;
    }
    s += "s";
    ms = 0;
  }
  if (ms > 0) s += std::to_string(ms) + "ms";
  return s.empty() ? "0s" : s;
}

std::string failed_line(const FailedOp& f) {
  std::string s = f.resource + " ";
  if (f.interval_ms != 0) s += readable_interval(f.interval_ms) + "-interval ";
  s +=
      (f.task == "monitor" && f.interval_ms == 0 ? std::string("probe") : f.task) + " on " + f.node;
  if (f.status == 0) {
    s += std::string(" returned '") + scheduler::ocf_result_text(f.rc) + "'";
    if (!f.exit_reason.empty()) s += " (" + f.exit_reason + ")";
  } else {
    s += std::string(" could not be executed (") + exec_status_text(f.status);
    if (!f.exit_reason.empty()) s += ": " + f.exit_reason;
    s += ")";
  }
  if (f.last_change > 0) s += " at " + crm_time(f.last_change);
  if (f.exec_ms > 0) s += " after " + readable_interval(f.exec_ms);
  return s;
}

struct Summary {
  std::string stack, dc_name, dc_id, dc_version, last_written, user, client, origin;
};

// `live`: vigild answered. crm_mon names the stack the CIB records, "unknown" when it records
// none; a running vigil cluster, whose controller records none, is "vigil".
Summary summary_of(const cib::Cib& cib, const scheduler::ClusterState& state, bool live) {
  Summary s;
  s.stack = property(cib, "cluster-infrastructure");
  if (s.stack.empty()) s.stack = live ? "vigil" : "unknown";
  for (const auto& n : state.nodes) {
    if (n.is_dc) {
      s.dc_name = n.name;
      s.dc_id = n.id;
    }
  }
  s.dc_version = property(cib, "dc-version");
  s.last_written = attr(cib.root(), "cib-last-written");
  s.user = attr(cib.root(), "update-user");
  s.client = attr(cib.root(), "update-client");
  s.origin = attr(cib.root(), "update-origin");
  return s;
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void summary_text(std::ostream& out, const Summary& s, const scheduler::ClusterState& state,
                  Millis now) {
  out << "Cluster Summary:\n  * Stack: " << s.stack << "\n  * Current DC: ";
  if (s.dc_name.empty()) {
    out << "NONE\n";
  } else {
    out << s.dc_name << " (version " << (s.dc_version.empty() ? "unknown" : s.dc_version)
        << ") - partition " << (state.have_quorum ? "with" : "WITHOUT") << " quorum\n";
  }
  out << "  * Last updated: " << crm_time(now / 1000) << "\n";
  if (!s.last_written.empty()) {
    out << "  * Last change:  " << s.last_written;
    if (!s.user.empty()) out << " by " << s.user;
    if (!s.client.empty()) out << " via " << s.client;
    if (!s.origin.empty()) out << " on " << s.origin;
    out << "\n";
  }
  out << "  * " << plural(state.nodes.size(), "node") << " configured\n"
      << "  * " << plural(static_cast<std::size_t>(state.instances), "resource instance")
      << " configured";
  if (state.disabled > 0 && state.blocked > 0) {
    out << " (" << state.disabled << " DISABLED, " << state.blocked
        << " BLOCKED from further action due to failure)";
  } else if (state.disabled > 0) {
    out << " (" << state.disabled << " DISABLED)";
  } else if (state.blocked > 0) {
    out << " (" << state.blocked << " BLOCKED from further action due to failure)";
  }
  out << "\n";
  if (state.maintenance_mode) {
    out << "\n              *** Resource management is DISABLED ***\n"
           "  The cluster will not attempt to start, stop or recover services\n";
  }
}

// Sources whose frames fail authentication (another authkey, crypto set otherwise): such a node
// never joins, and nothing else in the status says why.
void authentication_warnings(std::ostream& out, const Json& daemon) {
  if (!daemon.is_object() || !daemon.contains("transport")) return;
  for (const auto& u : daemon["transport"].value("unauthentic_sources", Json::array())) {
    out << "  * WARNING: " << plural(u.value("frames", 0u), "frame") << " from "
        << u.value("address", "") << " (claiming node " << u.value("node", 0u)
        << ") failed authentication, the last " << u.value("last_ms_ago", std::int64_t{0}) / 1000
        << " s ago: " << u.value("cause", "") << "\n";
  }
}

// cluster_status() lines, as crm_simulate indents them: the node list, and one block of lines
// per top-level resource (in the order of ClusterState::resources).
struct StatusLines {
  std::vector<std::string> nodes;
  std::vector<std::vector<std::string>> blocks;
};

StatusLines split_status(const std::vector<std::string>& lines) {
  StatusLines s;
  std::size_t i = 1;  // after "  * Node List:"
  for (; i < lines.size() && !lines[i].empty(); ++i) s.nodes.push_back(lines[i].substr(2));
  for (i += 2; i < lines.size(); ++i) {  // after the blank line and "  * Full List of Resources:"
    if (lines[i] == "    * No resources") continue;
    if (lines[i].rfind("    * ", 0) == 0) s.blocks.emplace_back();
    if (!s.blocks.empty()) s.blocks.back().push_back(lines[i].substr(2));
  }
  return s;
}

// A primitive's line on a node's own list: without the node's name.
std::string without_node(const std::string& line, const std::string& node) {
  const std::string tail = " " + node;
  auto at = line.find(tail);
  while (at != std::string::npos) {
    const auto end = at + tail.size();
    if (end == line.size() || line[end] == ' ') return line.substr(0, at) + line.substr(end);
    at = line.find(tail, end);
  }
  return line;
}

// A group's block without its inactive members, counted on its header ("Resource Group: g (1
// member inactive):").
std::vector<std::string> without_inactive_members(const scheduler::ResourceState& g,
                                                  const std::vector<std::string>& block) {
  std::set<std::string> inactive;
  for (const auto& c : g.children)
    if (!c.active) inactive.insert(c.id);
  if (inactive.empty() || block.empty()) return block;
  std::vector<std::string> out{block[0]};
  // The count leads the header's flags in one parenthesis: "(2 members inactive, unmanaged)".
  const std::string count = std::to_string(inactive.size()) + " member" +
                            (inactive.size() == 1 ? "" : "s") + " inactive";
  const auto flags = out[0].rfind(" (");
  if (out[0].size() > 2 && out[0].compare(out[0].size() - 2, 2, "):") == 0 &&
      flags != std::string::npos) {
    out[0].insert(flags + 2, count + ", ");
  } else {
    out[0].insert(out[0].size() - 1, " (" + count + ")");
  }
  for (std::size_t i = 1; i < block.size(); ++i) {
    const auto name = block[i].find("* ") + 2;
    const auto end = block[i].find_first_of("\t ", name);
    if (!inactive.count(block[i].substr(name, end - name))) out.push_back(block[i]);
  }
  return out;
}

// Where a line's "* " starts: its depth in the tree.
std::size_t indent_of(const std::string& line) { return line.find("* "); }

// A top-level block as crm_mon's active view shows it: a clone without its "Stopped: [ … ]" list,
// and every group, a clone's instances too, without its inactive members.
std::vector<std::string> active_block(const scheduler::ResourceState& r,
                                      const std::vector<std::string>& block) {
  if (r.kind == "group") return without_inactive_members(r, block);
  if (r.kind != "clone") return block;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < block.size(); ++i) {
    const auto& l = block[i];
    if (l.rfind("    * Stopped", 0) == 0 && l.find(": [ ") != std::string::npos) continue;
    const auto group = std::find_if(r.children.begin(), r.children.end(), [&](const auto& c) {
      const std::string head = "* Resource Group: " + c.id;
      return c.kind == "group" && l.compare(indent_of(l), head.size(), head) == 0 &&
             (l[indent_of(l) + head.size()] == ':' || l[indent_of(l) + head.size()] == ' ');
    });
    if (group == r.children.end()) {
      out.push_back(l);
      continue;
    }
    std::size_t end = i + 1;
    while (end < block.size() && indent_of(block[end]) > indent_of(l)) ++end;
    for (auto& g : without_inactive_members(*group, {block.begin() + static_cast<long>(i),
                                                     block.begin() + static_cast<long>(end)}))
      out.push_back(std::move(g));
    i = end - 1;
  }
  return out;
}

void primitives_on(const scheduler::ResourceState& r, const std::string& node,
                   std::vector<std::string>& out) {
  if (r.kind == "primitive") {
    if (std::find(r.nodes.begin(), r.nodes.end(), node) != r.nodes.end())
      out.push_back(without_node(r.line, node));
    return;
  }
  for (const auto& c : r.children) primitives_on(c, node, out);
}

void by_node_text(std::ostream& out, const scheduler::ClusterState& state) {
  for (const auto& n : state.nodes) {
    out << "  * Node " << n.name << ": " << n.status << ":\n";
    std::vector<std::string> lines;
    for (const auto& r : state.resources) primitives_on(r, n.name, lines);
    if (!n.online && lines.empty()) continue;
    out << "    * Resources:\n";
    for (const auto& l : lines) out << "      * " << l << "\n";
  }
}

void migration_summary(std::ostream& out, const scheduler::ClusterState& state) {
  out << "\nMigration Summary:\n";
  std::string node;
  for (const auto& f : state.fail_counts) {
    if (f.node != node) out << "  * Node: " << f.node << ":\n";
    node = f.node;
    out << "    * " << f.resource << ": migration-threshold=" << f.migration_threshold
        << " fail-count=" << f.count;
    if (f.last_failure > 0) out << " last-failure='" << crm_time(f.last_failure) << "'";
    out << "\n";
  }
}

}  // namespace

cib::Cib effective_cib(const StatusInput& in) {
  return control::with_reported_membership(in.cib ? *in.cib : cib::Cib(), in.daemon);
}

std::string render_status(const StatusInput& in, const StatusOptions& options) {
  const cib::Cib cib = effective_cib(in);
  const auto state = scheduler::cluster_state(cib, in.now);
  const auto lines = split_status(scheduler::cluster_status(cib, in.now));
  VIGIL_ASSERT(lines.blocks.size() == state.resources.size());
  const bool inactive =
      options.inactive || (options.crm_status && !options.failcounts && !options.by_node);
  std::ostringstream out;
  summary_text(out, summary_of(cib, state, in.daemon.is_object()), state, in.now);
  authentication_warnings(out, in.daemon);
  out << "\nNode List:\n";
  if (options.by_node) {
    by_node_text(out, state);
  } else {
    for (const auto& l : lines.nodes) out << l << "\n";
  }
  if (options.by_node) {
    if (inactive) {
      out << "\nInactive Resources:\n";
      bool any = false;
      for (std::size_t i = 0; i < state.resources.size(); ++i) {
        if (state.resources[i].active) continue;
        any = true;
        for (const auto& l : lines.blocks[i]) out << l << "\n";
      }
      if (!any) out << "  * No inactive resources\n";
    }
  } else {
    out << "\n" << (inactive ? "Full List of Resources:\n" : "Active Resources:\n");
    bool any = false;
    for (std::size_t i = 0; i < state.resources.size(); ++i) {
      if (!inactive && !state.resources[i].active) continue;
      any = true;
      for (const auto& l : inactive ? lines.blocks[i]
                                    : active_block(state.resources[i], lines.blocks[i]))
        out << l << "\n";
    }
    if (!any) out << (inactive ? "  * No resources\n" : "  * No active resources\n");
  }
  if (options.failcounts) migration_summary(out, state);
  const auto failed = failed_ops(cib, state);
  if (!failed.empty()) {
    out << "\nFailed Resource Actions:\n";
    for (const auto& f : failed) out << "  * " << failed_line(f) << "\n";
  }
  if (options.crm_status) out << "\n";
  return out.str();
}

namespace {

const char* yes(bool b) {
  return b ? "true" : "false";
}

pugi::xml_node add(pugi::xml_node parent, const char* name,
                   std::initializer_list<std::pair<const char*, std::string>> attrs) {
  auto n = parent.append_child(name);
  for (const auto& [k, v] : attrs) n.append_attribute(k) = v.c_str();
  return n;
}

void resource_xml(pugi::xml_node parent, const scheduler::ResourceState& r,
                  const scheduler::ClusterState& state) {
  auto node_of = [&](const std::string& name) -> const scheduler::NodeState* {
    for (const auto& n : state.nodes)
      if (n.name == name) return &n;
    return nullptr;
  };
  if (r.kind == "primitive") {
    auto x = add(parent, "resource",
                 {{"id", r.id},
                  {"resource_agent", r.agent},
                  {"role", r.role},
                  {"active", yes(r.active)},
                  {"orphaned", yes(r.orphaned)},
                  {"blocked", yes(r.blocked)},
                  {"managed", yes(r.managed)},
                  {"failed", yes(r.failed)},
                  {"failure_ignored", yes(r.failure_ignored)},
                  {"nodes_running_on", std::to_string(r.nodes.size())}});
    if (!r.target_role.empty())
      x.insert_attribute_after("target_role", x.attribute("role")) = r.target_role.c_str();
    // crm_mon's "cached" says whether the node is online: a resource on a lost node is only
    // known from its last recorded history.
    for (const auto& n : r.nodes) {
      const auto* node = node_of(n);
      add(x, "node",
          {{"name", n}, {"id", node ? node->id : ""}, {"cached", yes(node && node->online)}});
    }
    return;
  }
  pugi::xml_node x;
  if (r.kind == "group") {
    x = add(parent, "group",
            {{"id", r.id},
             {"number_resources", std::to_string(r.children.size())},
             {"managed", yes(r.managed)},
             {"disabled", yes(r.disabled)}});
  } else {
    x = add(parent, "clone",
            {{"id", r.id},
             {"multi_state", yes(r.promotable)},
             {"unique", yes(r.unique)},
             {"managed", yes(r.managed)},
             {"disabled", yes(r.disabled)},
             {"failed", yes(r.failed)},
             {"failure_ignored", yes(r.failure_ignored)}});
    if (!r.target_role.empty()) x.append_attribute("target_role") = r.target_role.c_str();
  }
  for (const auto& c : r.children) resource_xml(x, c, state);
}

// The resource a history entry belongs to, as crm_mon names it: an anonymous clone's instance
// ("drbd:1") by the clone's primitive ("drbd"); else the entry's own id.
std::string shown_id(const std::string& id, const std::map<std::string, int>& known) {
  if (known.count(id)) return id;
  const auto colon = id.rfind(':');
  if (colon != std::string::npos && known.count(id.substr(0, colon))) return id.substr(0, colon);
  return id;
}

void history_xml(pugi::xml_node parent, const cib::Cib& cib, const scheduler::ClusterState& state) {
  std::map<std::string, int> thresholds;
  std::function<void(const scheduler::ResourceState&)> walk =
      [&](const scheduler::ResourceState& r) {
        if (r.kind == "primitive") thresholds[r.id] = r.migration_threshold;
        for (const auto& c : r.children) walk(c);
      };
  for (const auto& r : state.resources) walk(r);
  std::set<std::string> online;
  for (const auto& n : state.nodes)
    if (n.online) online.insert(n.name);
  // crm_mon leaves out notifications and probes that found the resource stopped, and a resource
  // or node with nothing left to show; the list itself is there once a node is online.
  auto shown = [](const pugi::xml_node& rsc) {
    std::vector<pugi::xml_node> ops;
    for (auto op : history_of(rsc)) {
      if (attr(op, "operation") == "notify") continue;
      if (is_probe(op) && number(op, "rc-code") == 7) continue;
      ops.push_back(op);
    }
    return ops;
  };
  pugi::xml_node history;
  for (auto ns : cib.status().children("node_state")) {
    if (!online.count(attr(ns, "uname"))) continue;
    if (!history) history = parent.append_child("node_history");
    pugi::xml_node node;
    for (auto rsc : ns.child("lrm").child("lrm_resources").children("lrm_resource")) {
      const auto ops = shown(rsc);
      if (ops.empty()) continue;
      if (!node) node = add(history, "node", {{"name", attr(ns, "uname")}});
      const std::string id = shown_id(attr(rsc, "id"), thresholds);
      const bool known = thresholds.count(id) > 0;
      // A history of a resource no longer configured is an orphan resource of the scheduler's,
      // which crm_mon finds like any other: its "orphan" says only whether none was found at all.
      auto h = add(node, "resource_history",
                   {{"id", id},
                    {"orphan", "false"},
                    {"migration-threshold", std::to_string(known ? thresholds[id] : 1000000)}});
      for (const auto& f : state.fail_counts) {
        if (f.resource != id || f.node != attr(ns, "uname")) continue;
        h.append_attribute("fail-count") = f.count;
        if (f.last_failure > 0)
          h.append_attribute("last-failure") = crm_time(f.last_failure).c_str();
      }
      for (auto op : ops) {
        // crm_mon reads the rc as at least 0: a pending op's -1 shows as 0.
        const int rc = std::max(0, static_cast<int>(number(op, "rc-code")));
        auto o = add(h, "operation_history",
                     {{"call", attr(op, "call-id")},
                      {"task", is_probe(op) ? "probe" : attr(op, "operation")},
                      {"rc", std::to_string(rc)},
                      {"rc_text", scheduler::ocf_result_text(rc)}});
        if (number(op, "interval") != 0)
          o.append_attribute("interval") = (attr(op, "interval") + "ms").c_str();
        if (number(op, "last-rc-change") > 0)
          o.append_attribute("last-rc-change") = crm_time(number(op, "last-rc-change")).c_str();
        for (const char* time : {"exec-time", "queue-time"})
          if (op.attribute(time)) o.append_attribute(time) = (attr(op, time) + "ms").c_str();
      }
    }
  }
}

// A node's attributes as crm_mon lists them: the configured ones and the transient ones (which
// win), by name, without those the cluster keeps for itself.
std::map<std::string, std::string> node_attributes(const cib::Cib& cib, const std::string& id) {
  std::map<std::string, std::string> out;
  auto take = [&](const pugi::xml_node& holder) {
    for (auto set : holder.children("instance_attributes"))
      for (auto nv : set.children("nvpair")) out[attr(nv, "name")] = attr(nv, "value");
  };
  take(cib.configuration().child("nodes").find_child_by_attribute("node", "id", id.c_str()));
  take(cib.status()
           .find_child_by_attribute("node_state", "id", id.c_str())
           .child("transient_attributes"));
  std::erase_if(out, [](const auto& kv) {
    for (const char* own : {"fail-count-", "last-failure-", "shutdown", "terminate", "standby", "#"})
      if (kv.first.rfind(own, 0) == 0) return true;
    return false;
  });
  return out;
}

void running_primitives(const scheduler::ResourceState& r, const std::string& node,
                        std::vector<std::string>& out) {
  if (r.kind == "primitive" && std::find(r.nodes.begin(), r.nodes.end(), node) != r.nodes.end())
    out.push_back(r.id.substr(0, r.id.rfind(':')));
  for (const auto& c : r.children) running_primitives(c, node, out);
}

// What crm_mon expects of a ping attribute on a node: a ping (or pingd) resource running there
// whose `name` (default "pingd") is the attribute expects its multiplier (default 1) times the
// number of hosts in its space-separated host_list.
std::optional<long> ping_expected(const cib::Cib& cib, const scheduler::ClusterState& state,
                                  const std::string& node, const std::string& attribute) {
  std::vector<std::string> running;
  for (const auto& r : state.resources) running_primitives(r, node, running);
  for (const auto& id : running) {
    auto prim = cib.configuration().child("resources").find_node([&](const pugi::xml_node& x) {
      return std::string_view(x.name()) == "primitive" && id == x.attribute("id").value();
    });
    const std::string type = attr(prim, "type");
    if (type != "ping" && type != "pingd") continue;
    std::map<std::string, std::string> params{{"name", "pingd"}};
    for (auto set : prim.children("instance_attributes"))
      for (auto nv : set.children("nvpair")) params[attr(nv, "name")] = attr(nv, "value");
    if (params["name"] != attribute) continue;
    const std::string& hosts = params["host_list"];
    const long count = hosts.empty() ? 0 : 1 + std::count(hosts.begin(), hosts.end(), ' ');
    char* end = nullptr;
    const long multiplier = std::strtol(params["multiplier"].c_str(), &end, 10);
    return count * (params["multiplier"].empty() || *end != '\0' ? 1 : multiplier);
  }
  return std::nullopt;
}

void node_attributes_xml(pugi::xml_node parent, const cib::Cib& cib,
                         const scheduler::ClusterState& state) {
  pugi::xml_node list;
  for (const auto& n : state.nodes) {
    if (!n.online) continue;
    const auto attrs = node_attributes(cib, n.id);
    if (attrs.empty()) continue;
    if (!list) list = parent.append_child("node_attributes");
    auto node = add(list, "node", {{"name", n.name}});
    for (const auto& [name, value] : attrs) {
      auto a = add(node, "attribute", {{"name", name}, {"value", value}});
      if (const auto expected = ping_expected(cib, state, n.name, name))
        a.append_attribute("expected") = std::to_string(*expected).c_str();
    }
  }
}

// The tickets as crm_mon lists them: those with a state in the status section, then those only
// constraints name (revoked until granted).
struct Ticket {
  std::string id;
  bool granted = false, standby = false;
  std::int64_t last_granted = 0;
};

std::vector<Ticket> tickets_of(const cib::Cib& cib) {
  std::vector<Ticket> tickets;
  auto known = [&](const std::string& id) {
    return std::any_of(tickets.begin(), tickets.end(), [&](const Ticket& t) { return t.id == id; });
  };
  for (auto t : cib.status().child("tickets").children("ticket_state")) {
    if (known(attr(t, "id"))) continue;
    tickets.push_back({attr(t, "id"), t.attribute("granted").as_bool(),
                       t.attribute("standby").as_bool(), number(t, "last-granted")});
  }
  for (auto c : cib.configuration().child("constraints").children("rsc_ticket")) {
    if (!known(attr(c, "ticket"))) tickets.push_back({attr(c, "ticket")});
  }
  return tickets;
}

void tickets_xml(pugi::xml_node parent, const cib::Cib& cib) {
  const auto tickets = tickets_of(cib);
  if (tickets.empty()) return;
  auto list = parent.append_child("tickets");
  for (const auto& ticket : tickets) {
    auto t = add(list, "ticket",
                 {{"id", ticket.id},
                  {"status", ticket.granted ? "granted" : "revoked"},
                  {"standby", yes(ticket.standby)}});
    if (ticket.last_granted > 0)
      t.append_attribute("last-granted") = crm_time(ticket.last_granted).c_str();
  }
}

// A property's duration in milliseconds ("60s", "1m", "500ms", bare seconds), else `otherwise`.
std::int64_t duration_ms(const std::string& text, std::int64_t otherwise) {
  if (text.empty()) return otherwise;
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  const std::string unit = end;
  if (end == text.c_str() || n < 0) return otherwise;
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "ms") return n;
  if (unit == "m" || unit == "min") return n * 60000;
  if (unit == "h") return n * 3600000;
  return otherwise;
}

// A cluster option's duration in milliseconds: its value, else Pacemaker's default.
std::int64_t option_ms(const cib::Cib& cib, const char* name) {
  return duration_ms(property(cib, name),
                     duration_ms(std::string(scheduler::option_default(name)), 0));
}

}  // namespace

std::string status_xml(const StatusInput& in, const std::string& request) {
  const cib::Cib cib = effective_cib(in);
  const auto state = scheduler::cluster_state(cib, in.now);
  const auto s = summary_of(cib, state, in.daemon.is_object());
  cib::Cib doc;
  doc.doc().reset();
  auto result =
      add(doc.doc().root(), "pacemaker-result", {{"api-version", "2.25"}, {"request", request}});
  auto summary = result.append_child("summary");
  add(summary, "stack", {{"type", s.stack}});
  if (s.dc_name.empty()) {
    add(summary, "current_dc", {{"present", "false"}});
  } else {
    add(summary, "current_dc",
        {{"present", "true"},
         {"version", s.dc_version},
         {"name", s.dc_name},
         {"id", s.dc_id},
         {"with_quorum", yes(state.have_quorum)},
         {"mixed_version", "false"}});
  }
  add(summary, "last_update", {{"time", crm_time(in.now / 1000)}});
  add(summary, "last_change",
      {{"time", s.last_written}, {"user", s.user}, {"client", s.client}, {"origin", s.origin}});
  add(summary, "nodes_configured", {{"number", std::to_string(state.nodes.size())}});
  add(summary, "resources_configured",
      {{"number", std::to_string(state.instances)},
       {"disabled", std::to_string(state.disabled)},
       {"blocked", std::to_string(state.blocked)}});
  add(summary, "cluster_options",
      {{"stonith-enabled", yes(state.stonith_enabled)},
       {"symmetric-cluster", yes(state.symmetric)},
       {"no-quorum-policy", state.no_quorum_policy},
       {"maintenance-mode", yes(state.maintenance_mode)},
       {"stop-all-resources", yes(state.stop_all)},
       {"stonith-timeout-ms", std::to_string(option_ms(cib, "stonith-timeout"))},
       {"priority-fencing-delay-ms", std::to_string(option_ms(cib, "priority-fencing-delay"))}});
  auto nodes = result.append_child("nodes");
  for (const auto& n : state.nodes) {
    auto x = add(nodes, "node",
                 {{"name", n.name},
                  {"id", n.id},
                  {"online", yes(n.online)},
                  {"standby", yes(n.standby)},
                  {"standby_onfail", "false"},
                  {"maintenance", yes(n.maintenance)},
                  {"pending", yes(n.pending)},
                  {"unclean", yes(n.unclean)},
                  {"health", n.health},
                  {"shutdown", yes(n.shutdown)},
                  {"expected_up", yes(n.expected_up)},
                  {"is_dc", yes(n.is_dc)},
                  {"resources_running", std::to_string(n.resources_running)},
                  {"type", "member"}});
    // Each node's controller records its feature set among its transient attributes, since
    // feature set 3.15.1; crm_mon shows it for online nodes.
    if (!n.online) continue;
    auto fs = cib.doc().select_node(("/cib/status/node_state[@id='" + n.id +
                                     "']/transient_attributes/instance_attributes/"
                                     "nvpair[@name='#feature-set']/@value")
                                        .c_str());
    x.insert_attribute_after("feature_set", x.attribute("health")) =
        fs ? fs.attribute().value() : "<3.15.1";
  }
  auto resources = result.append_child("resources");
  for (const auto& r : state.resources) resource_xml(resources, r, state);
  node_attributes_xml(result, cib, state);
  history_xml(result, cib, state);
  const auto failed = failed_ops(cib, state);
  if (!failed.empty()) {
    auto failures = result.append_child("failures");
    for (const auto& f : failed) {
      // An entry without an operation key is named by its id; the times and task only when the
      // entry records when it happened.
      const bool keyed = static_cast<bool>(f.xml.attribute("operation_key"));
      auto x = add(failures, "failure",
                   {{keyed ? "op_key" : "id", f.key},
                    {"node", f.node},
                    {"exitstatus", scheduler::ocf_result_text(f.rc)},
                    {"exitreason", f.exit_reason.empty() ? "none" : f.exit_reason},
                    {"exitcode", std::to_string(f.rc)},
                    {"call", attr(f.xml, "call-id")},
                    {"status", exec_status_text(f.status)}});
      if (f.last_change <= 0) continue;
      x.append_attribute("last-rc-change") = iso_time(f.last_change).c_str();
      for (auto [name, from] : {std::pair<const char*, const char*>{"queued", "queue-time"},
                                {"exec", "exec-time"},
                                {"interval", "interval"},
                                {"task", "operation"}}) {
        if (f.xml.attribute(from)) x.append_attribute(name) = attr(f.xml, from).c_str();
      }
    }
  }
  tickets_xml(result, cib);
  if (!state.bans.empty()) {
    auto bans = result.append_child("bans");
    for (const auto& b : state.bans) {
      add(bans, "ban",
          {{"id", b.id},
           {"resource", b.resource},
           {"node", b.node},
           {"weight", std::to_string(b.weight)},
           {"promoted-only", yes(b.promoted_only)},
           {"master_only", yes(b.promoted_only)}});
    }
  }
  add(result, "status", {{"code", "0"}, {"message", "OK"}});
  return doc.to_xml();
}

namespace {

Json resource_json(const scheduler::ResourceState& r) {
  Json j{{"id", r.id},           {"type", r.kind},         {"role", r.role},
         {"active", r.active},   {"managed", r.managed},   {"failed", r.failed},
         {"blocked", r.blocked}, {"disabled", r.disabled}, {"nodes", r.nodes}};
  if (r.kind == "primitive") j["agent"] = r.agent;
  if (!r.children.empty()) {
    j["children"] = Json::array();
    for (const auto& c : r.children) j["children"].push_back(resource_json(c));
  }
  return j;
}

}  // namespace

Json status_json(const StatusInput& in) {
  const cib::Cib cib = effective_cib(in);
  const auto state = scheduler::cluster_state(cib, in.now);
  const auto s = summary_of(cib, state, in.daemon.is_object());
  Json j;
  j["summary"] = {{"stack", s.stack},
                  {"current_dc",
                   s.dc_name.empty() ? Json(nullptr) : Json{{"name", s.dc_name}, {"id", s.dc_id}}},
                  {"quorate", state.have_quorum},
                  {"last_updated", crm_time(in.now / 1000)},
                  {"last_change", s.last_written},
                  {"nodes_configured", state.nodes.size()},
                  {"resources_configured", state.instances},
                  {"resources_disabled", state.disabled},
                  {"resources_blocked", state.blocked}};
  if (in.daemon.is_object() && in.daemon.contains("ring"))
    j["summary"]["ring_id"] = in.daemon["ring"].value("id", "");
  // corosync.conf's cluster_name, else the CIB's cluster-name property.
  std::string name = in.daemon.is_object() ? in.daemon.value("cluster_name", "") : "";
  j["summary"]["cluster_name"] = name.empty() ? property(cib, "cluster-name") : name;
  j["nodes"] = Json::array();
  for (const auto& n : state.nodes) {
    j["nodes"].push_back({{"id", n.id},
                          {"name", n.name},
                          {"online", n.online},
                          {"standby", n.standby},
                          {"maintenance", n.maintenance},
                          {"unclean", n.unclean},
                          {"is_dc", n.is_dc},
                          {"status", n.status},
                          {"resources_running", n.resources_running}});
  }
  j["resources"] = Json::array();
  for (const auto& r : state.resources) j["resources"].push_back(resource_json(r));
  j["fail_counts"] = Json::array();
  for (const auto& f : state.fail_counts) {
    j["fail_counts"].push_back({{"node", f.node},
                                {"resource", f.resource},
                                {"fail_count", f.count},
                                {"last_failure", f.last_failure}});
  }
  j["failures"] = Json::array();
  for (const auto& f : failed_ops(cib, state)) {
    j["failures"].push_back({{"op_key", f.key},
                             {"node", f.node},
                             {"rc", f.rc},
                             {"rc_text", scheduler::ocf_result_text(f.rc)},
                             {"status", exec_status_text(f.status)},
                             {"exit_reason", f.exit_reason},
                             {"text", failed_line(f)}});
  }
  j["tickets"] = Json::array();
  for (const auto& t : tickets_of(cib)) {
    j["tickets"].push_back({{"id", t.id},
                            {"granted", t.granted},
                            {"standby", t.standby},
                            {"last_granted", t.last_granted}});
  }
  return j;
}

}  // namespace vigil::status
