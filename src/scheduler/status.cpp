// The cluster status in crm_mon's text layout, as crm_simulate prints it before and after a
// transition: the node list, then every resource with its state.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/ascii.h"
#include "scheduler/rules.h"
#include "scheduler/stages.h"

namespace vigil::scheduler {

namespace {

bool runs_anything(const Working& w, int node) {
  for (const auto& r : w.all) {
    if (std::find(r->running_on.begin(), r->running_on.end(), node) != r->running_on.end())
      return true;
  }
  return false;
}

// crm_mon's health of a node: green while node-health-strategy is none; else red when any #health
// attribute says red, else yellow when any says yellow.
std::string node_health(const Working& w, const Node& n) {
  std::string health = "green";
  auto strategy = w.configuration.child("crm_config").select_node(
      "cluster_property_set/nvpair[@name='node-health-strategy']/@value");
  if (!strategy || ascii_lower(strategy.attribute().value()) == "none") return health;
  for (auto it = n.attrs.lower_bound("#health"); it != n.attrs.end(); ++it) {
    if (it->first.rfind("#health", 0) != 0) break;
    const std::string value = ascii_lower(it->second);
    if (value == "red") return value;
    if (value == "yellow") health = value;
  }
  return health;
}

std::string node_status(const Working& w, int idx) {
  const Node& n = w.nodes[static_cast<std::size_t>(idx)];
  if (n.unclean)
    return n.online ? "UNCLEAN (online)" : (n.pending ? "UNCLEAN (pending)" : "UNCLEAN (offline)");
  if (n.pending) return "pending";
  if (n.standby) {
    if (!n.online) return "OFFLINE (standby)";
    return runs_anything(w, idx) ? "standby (with active resources)" : "standby";
  }
  if (n.maintenance) return n.online ? "maintenance" : "OFFLINE (maintenance)";
  if (!n.online) return "OFFLINE";
  const std::string health = node_health(w, n);
  return health == "green" ? "online" : std::string("online (health is ") + (health == "red" ? "RED" : "YELLOW") + ")";
}

void node_list(const Working& w, std::vector<std::string>& out) {
  std::vector<int> order(w.nodes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return node_name_less(w.nodes[static_cast<std::size_t>(a)].name,
                          w.nodes[static_cast<std::size_t>(b)].name);
  });
  std::string online, offline, remote_online, remote_offline, guest_online;
  out.push_back("  * Node List:");
  for (int i : order) {
    const Node& n = w.nodes[static_cast<std::size_t>(i)];
    if (n.unclean || n.pending || n.standby || n.maintenance || node_health(w, n) != "green") {
      const char* kind = n.guest ? "GuestNode " : n.remote ? "RemoteNode " : "Node ";
      out.push_back(std::string("    * ") + kind + n.name + ": " + node_status(w, i));
    } else if (n.online) {
      (n.guest ? guest_online : n.remote ? remote_online : online) += " " + n.name;
    } else if (!n.guest) {  // a guest that is down is not listed
      (n.remote ? remote_offline : offline) += " " + n.name;
    }
  }
  if (!online.empty()) out.push_back("    * Online: [" + online + " ]");
  if (!offline.empty()) out.push_back("    * OFFLINE: [" + offline + " ]");
  if (!remote_online.empty()) out.push_back("    * RemoteOnline: [" + remote_online + " ]");
  if (!remote_offline.empty()) out.push_back("    * RemoteOFFLINE: [" + remote_offline + " ]");
  if (!guest_online.empty()) out.push_back("    * GuestOnline: [" + guest_online + " ]");
}

// A resource the cluster made for itself (a guest's connection): crm_mon does not list it.
bool internal(const Resource& r) {
  auto it = r.meta.find("internal_rsc");
  return it != r.meta.end() && is_true(it->second);
}

std::string agent(const Resource& r) {
  std::string s = r.cls;
  if (r.cls == "ocf") s += ":" + r.provider;
  return s + ":" + r.type;
}

Role target_role_of(const Resource& r) {
  auto it = r.meta.find("target-role");
  if (it == r.meta.end()) return Role::Unknown;
  return ascii_lower(it->second) == "stopped" ? Role::Stopped : Role::Unknown;
}

// Instances of anonymous clones go by their configured id; unique ones keep their number.
const std::string& display_id(const Resource& r) {
  return anonymous_instance(r) && !r.base.empty() ? r.base : r.id;
}

// A running instance of a promotable clone is Unpromoted until promoted, as Pacemaker unpacks it,
// though its history may say only that it started.
Role shown_role(const Resource& r) {
  const Resource* clone = clone_of(&r);
  return r.role == Role::Started && clone != nullptr && clone->promotable ? Role::Unpromoted
                                                                          : r.role;
}

// A primitive's state as crm_mon shows it: a pending operation as the state it leads to
// (crm_simulate shows pending ops too), else its role.
std::string displayed_state(const Resource& r) {
  static const std::map<std::string, std::string> pending_states = {
      {"start", "Starting"},         {"stop", "Stopping"},     {"migrate_to", "Migrating"},
      {"migrate_from", "Migrating"}, {"promote", "Promoting"}, {"demote", "Demoting"}};
  auto it = pending_states.find(r.pending_task);
  return it != pending_states.end() ? it->second : std::string(role_name(shown_role(r)));
}

// `name` and `node` stand in for the resource's id and where it runs (a bundle replica shows its
// bundled resource under the replica's name, on its container's node).
std::string primitive_line(const Working& w, const Resource& r, const std::string& name,
                           int node) {
  std::string s = name + "\t(" + agent(r) + "):\t";
  if (r.orphan) s += " ORPHANED";
  if (r.failed) {
    s += " FAILED";
    if (r.role > Role::Unpromoted) s += std::string(" ") + role_name(r.role);
  } else {
    s += " " + displayed_state(r);
  }
  if (node >= 0) s += " " + w.nodes[static_cast<std::size_t>(node)].name;
  if (r.role == Role::Stopped && r.failed_probe_rc >= 0) {
    static const char* const texts[] = {"ok",
                                        "error",
                                        "invalid parameter",
                                        "unimplemented feature",
                                        "insufficient privileges",
                                        "not installed",
                                        "not configured"};
    if (r.failed_probe_rc <= 6) s += std::string(" (") + texts[r.failed_probe_rc] + ") ";
  }
  std::vector<std::string> flags;
  if (node >= 0) {
    const Node& n = w.nodes[static_cast<std::size_t>(node)];
    if (!n.online && n.unclean) flags.push_back("UNCLEAN");
    if (node == r.lock_node) flags.push_back("LOCKED");
  }
  if (r.pending_task == "monitor") flags.push_back("Monitoring");
  if (target_role_of(r) == Role::Stopped) flags.push_back("disabled");
  if (r.blocked) {
    flags.push_back("blocked");
  } else if (!r.managed) {
    flags.push_back("unmanaged");
  }
  if (r.failure_ignored) flags.push_back("failure ignored");
  if (!flags.empty()) {
    s += " (";
    for (std::size_t i = 0; i < flags.size(); ++i) s += (i ? ", " : "") + flags[i];
    s += ")";
  }
  if (r.running_on.size() > 1) {
    s += " [";
    for (int n : r.running_on) s += " " + w.nodes[static_cast<std::size_t>(n)].name;
    s += " ]";
  }
  return s;
}

// Where a primitive is shown: the node it runs on, or the one it is locked to while stopped.
std::string primitive_line(const Working& w, const Resource& r) {
  const int node = r.running_on.size() == 1 ? r.running_on[0]
                   : r.running_on.empty()   ? r.lock_node
                                            : -1;
  return primitive_line(w, r, display_id(r), node);
}

// crm_mon's bundle display: one line per replica, named by its connection (or container) and
// address, showing the bundled resource's state (or the container's) on the container's node.
void bundle_lines(const Working& w, const Resource& bundle, const std::string& indent,
                  std::vector<std::string>& out) {
  std::string flags = bundle.unique ? " (unique)" : "";
  if (!bundle.managed) flags += " (unmanaged)";
  out.push_back(indent + "* Container bundle" + (bundle.children.size() > 1 ? " set" : "") +
                ": " + bundle.id + " [" + bundle.image + "]" + flags + ":");
  for (std::size_t n = 0; n < bundle.children.size(); ++n) {
    const Resource* container = bundle.children[n];
    const Resource* connection = bundle.replica_connections[n];
    const Resource* shown = container;
    for (const Resource* inst : bundle.bundled ? bundle.bundled->children : std::vector<Resource*>())
      if (instance_number(*inst) == static_cast<int>(n)) shown = inst;
    std::string name = connection ? connection->id : container->id;
    if (const Resource* ip = bundle.replica_ips[n]) {
      auto params = ip->xml.child("instance_attributes").find_child_by_attribute("name", "ip");
      name += std::string(" (") + params.attribute("value").value() + ")";
    }
    const int node = container->running_on.empty() ? -1 : container->running_on.front();
    out.push_back(indent + "  * " + primitive_line(w, *shown, name, node));
  }
}

void resource_lines(const Working& w, const Resource& r, const std::string& indent,
                    std::vector<std::string>& out);

bool any_of_tree(const Resource& r, bool (*pred)(const Resource&)) {
  if (pred(r)) return true;
  return std::any_of(r.children.begin(), r.children.end(),
                     [&](const Resource* c) { return any_of_tree(*c, pred); });
}

std::vector<int> tree_running_on(const Resource& r) {
  std::vector<int> out;
  for (Resource* p : primitives_of(const_cast<Resource*>(&r))) {
    for (int n : p->running_on) {
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
  }
  return out;
}

bool fully_active(const Resource& r) {
  if (r.variant == Variant::Primitive) return !r.running_on.empty();
  return std::all_of(r.children.begin(), r.children.end(),
                     [](const Resource* c) { return fully_active(*c); });
}

Role highest_role(const Resource& r) {
  Role role = r.variant == Variant::Primitive ? shown_role(r) : Role::Stopped;
  for (const Resource* c : r.children) role = std::max(role, highest_role(*c));
  return role;
}

// The clone's target-role, or its child's when the clone has none.
std::string configured_role(const Resource& clone) {
  auto it = clone.meta.find("target-role");
  if (it != clone.meta.end()) return ascii_lower(it->second);
  if (!clone.children.empty()) {
    auto c = clone.children.front()->meta.find("target-role");
    if (c != clone.children.front()->meta.end()) return ascii_lower(c->second);
  }
  return {};
}

std::string node_names(const Working& w, std::vector<int> nodes) {
  std::sort(nodes.begin(), nodes.end(), [&](int a, int b) {
    return node_name_less(w.nodes[static_cast<std::size_t>(a)].name,
                          w.nodes[static_cast<std::size_t>(b)].name);
  });
  std::string s;
  for (int n : nodes) s += " " + w.nodes[static_cast<std::size_t>(n)].name;
  return s;
}

// crm_mon's clone display: instances that need explaining one by one, the rest as node lists
// (Promoted, Started or Unpromoted, Stopped).
void clone_lines(const Working& w, const Resource& clone, const std::string& indent,
                 std::vector<std::string>& out) {
  std::string flags;
  auto add_flag = [&](const char* f) { flags += (flags.empty() ? "" : ", ") + std::string(f); };
  std::string role = configured_role(clone);
  if (clone.promotable) add_flag("promotable");
  if (clone.unique) add_flag("unique");
  if (!clone.managed) add_flag("unmanaged");
  auto own = clone.meta.find("target-role");
  std::string own_role = own == clone.meta.end() ? "" : ascii_lower(own->second);
  if (own_role == "stopped" ||
      (clone.promotable && (own_role == "unpromoted" || own_role == "slave")))
    add_flag("disabled");
  std::string child_id;
  for (auto c : clone.xml.children()) {
    std::string_view tag = c.name();
    if (tag == "primitive" || tag == "group") {
      child_id = c.attribute("id").value();
      break;
    }
  }
  out.push_back(indent + "* Clone Set: " + clone.id + " [" + child_id + "]" +
                (flags.empty() ? "" : " (" + flags + ")") + ":");
  std::string inner = indent + "  ";
  std::vector<int> promoted, started;
  std::vector<const Resource*> stopped_unique;
  for (const Resource* inst : clone.children) {
    auto where = tree_running_on(*inst);
    bool partially_active = !where.empty();
    bool full = false;
    if (clone.unique) {
      full = true;
    } else if (!partially_active) {
      continue;
    } else if (any_of_tree(*inst, [](const Resource& r) { return r.orphan; }) ||
               any_of_tree(*inst, [](const Resource& r) { return !r.managed; }) ||
               any_of_tree(*inst, [](const Resource& r) { return r.failed; })) {
      full = true;
    } else if (fully_active(*inst) && where.size() == 1) {
      const Node& n = w.nodes[static_cast<std::size_t>(where.front())];
      if (!n.online && n.unclean) {
        full = true;
      } else if (highest_role(*inst) > Role::Unpromoted) {
        promoted.push_back(where.front());
      } else {
        started.push_back(where.front());
      }
    } else {
      full = true;
    }
    if (full) resource_lines(w, *inst, inner, out);
  }
  int active = static_cast<int>(promoted.size() + started.size());
  if (!promoted.empty()) out.push_back(inner + "* Promoted: [" + node_names(w, promoted) + " ]");
  if (!started.empty()) {
    std::string label = !clone.promotable                           ? "Started"
                        : (role == "unpromoted" || role == "slave") ? "Unpromoted (target-role)"
                                                                    : "Unpromoted";
    out.push_back(inner + "* " + label + ": [" + node_names(w, started) + " ]");
  }
  if (clone.unique || clone.clone_max <= active) return;
  // Nodes the clone may run on (every node of a symmetric cluster, else where it was probed)
  // that run none of its instances.
  std::vector<int> running = tree_running_on(clone), stopped;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    // A bundle's replica node holds only its own replica's instance.
    const Resource* own = w.nodes[i].bundle_instance;
    if (own != nullptr && own->parent != &clone) continue;
    bool allowed = w.symmetric;
    for (Resource* p : primitives_of(const_cast<Resource*>(&clone)))
      allowed = allowed || p->known_on[i];
    if (!allowed) continue;
    if (std::find(running.begin(), running.end(), static_cast<int>(i)) != running.end()) continue;
    stopped.push_back(static_cast<int>(i));
  }
  if (stopped.empty()) return;
  std::string state = role == "stopped" ? "Stopped (disabled)" : "Stopped";
  out.push_back(inner + "* " + state + ": [" + node_names(w, stopped) + " ]");
}

void resource_lines(const Working& w, const Resource& r, const std::string& indent,
                    std::vector<std::string>& out) {
  if (r.is_bundle) {
    bundle_lines(w, r, indent, out);
    return;
  }
  if (r.variant == Variant::Clone) {
    clone_lines(w, r, indent, out);
    return;
  }
  if (r.variant == Variant::Group) {
    std::string head = indent + "* Resource Group: " + r.id;
    bool all_unmanaged =
        !r.children.empty() && std::all_of(r.children.begin(), r.children.end(),
                                           [](const Resource* c) { return !c->managed; });
    bool disabled = target_role_of(r) == Role::Stopped;
    if (all_unmanaged || disabled) {
      head += " (";
      if (all_unmanaged) head += "unmanaged";
      if (disabled) head += std::string(all_unmanaged ? ", " : "") + "disabled";
      head += ")";
    }
    out.push_back(head + ":");
    for (const Resource* c : r.children) resource_lines(w, *c, indent + "  ", out);
    return;
  }
  if (r.orphan && r.running_on.empty()) return;
  if (internal(r)) return;
  out.push_back(indent + "* " + primitive_line(w, r));
}

}  // namespace

std::vector<std::string> render_status(const Working& w) {
  std::vector<std::string> out;
  node_list(w, out);
  out.push_back("");
  out.push_back("  * Full List of Resources:");
  std::vector<Resource*> order = w.top;
  std::stable_sort(order.begin(), order.end(),
                   [](const Resource* a, const Resource* b) { return a->priority > b->priority; });
  std::size_t before = out.size();
  for (const Resource* r : order) resource_lines(w, *r, "    ", out);
  if (out.size() == before) out.push_back("    * No resources");
  return out;
}

std::vector<std::string> cluster_status(const cib::Cib& cib, Millis now) {
  Unpacked u = unpack_status(cib, now);
  return render_status(u.w);
}

std::string disabled_line(const cib::Cib& cib, Millis now) {
  return disabled_line(unpack_status(cib, now).w);
}

std::string disabled_line(const Working& w) {
  int total = 0, disabled = 0, blocked = 0;
  for (const auto& r : w.all) {
    if (r->variant != Variant::Primitive || (r->orphan && r->running_on.empty())) continue;
    ++total;
    Role t = target_role_of(*r);
    if (t == Role::Stopped || (r->parent && target_role_of(*r->parent) == Role::Stopped))
      ++disabled;
    if (r->blocked) ++blocked;
  }
  if (disabled == 0 && blocked == 0) return {};
  return std::to_string(disabled) + " of " + std::to_string(total) +
         " resource instances DISABLED and " + std::to_string(blocked) +
         " BLOCKED from further action due to failure";
}

}  // namespace vigil::scheduler

namespace vigil::scheduler {

namespace {

// The nodes a location constraint (or one of its rules) scores for a resource, with the score.
std::vector<std::pair<int, int>> location_scores(const Working& w, pugi::xml_node con,
                                                 pugi::xml_node rule) {
  std::vector<std::pair<int, int>> out;
  if (!rule) {
    const int n = w.node_index(con.attribute("node").value());
    if (n >= 0) out.emplace_back(n, parse_score(con.attribute("score").value()));
    return out;
  }
  const std::string score_attr = rule.attribute("score-attribute").value();
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (!rule_matches(rule, RuleContext{&w.nodes[i].attrs, w.now})) continue;
    int score = parse_score(rule.attribute("score").value());
    if (!score_attr.empty()) {
      const auto it = w.nodes[i].attrs.find(score_attr);
      if (it == w.nodes[i].attrs.end()) continue;
      score = parse_score(it->second);
    }
    out.emplace_back(static_cast<int>(i), score);
  }
  return out;
}

// crm_mon's ban list: Pacemaker keeps locations newest first (each rule of a constraint is one,
// named by the rule) and each location's nodes by name descending, but an "or" rule's as it found
// them, by name (generate_location_rule appends those); a ban is a negative score.
std::vector<LocationBan> bans(const Working& w) {
  std::vector<pugi::xml_node> constraints;
  for (auto con : w.configuration.child("constraints").children("rsc_location"))
    constraints.push_back(con);
  std::vector<LocationBan> out;
  for (auto it = constraints.rbegin(); it != constraints.rend(); ++it) {
    const auto con = *it;
    std::vector<pugi::xml_node> rules;
    for (auto rule : con.children("rule")) rules.insert(rules.begin(), resolve_ref(rule));
    if (rules.empty()) rules.push_back(pugi::xml_node());
    for (const auto rule : rules) {
      const std::string role =
          rule && rule.attribute("role") ? rule.attribute("role").value() : con.attribute("role").value();
      auto scores = location_scores(w, con, rule);
      const bool ascending = rule && std::string_view(rule.attribute("boolean-op").value()) == "or";
      std::sort(scores.begin(), scores.end(), [&](const auto& a, const auto& b) {
        const auto& x = w.nodes[static_cast<std::size_t>(a.first)].name;
        const auto& y = w.nodes[static_cast<std::size_t>(b.first)].name;
        return ascending ? node_name_less(x, y) : node_name_less(y, x);
      });
      for (const Resource* r : w.resolve(con.attribute("rsc").value())) {
        for (const auto& [node, score] : scores) {
          if (score >= 0) continue;
          out.push_back({rule ? rule.attribute("id").value() : con.attribute("id").value(), r->id,
                         w.nodes[static_cast<std::size_t>(node)].name, score,
                         role == "Promoted" || role == "Master"});
        }
      }
    }
  }
  return out;
}

ResourceState resource_state(const Working& w, const Resource& r) {
  ResourceState s;
  s.id = r.variant == Variant::Primitive ? display_id(r) : r.id;
  // Besides scheduler.h's kinds, a bundle says "bundle" (shown by the status like a clone).
  s.kind = r.variant == Variant::Primitive ? "primitive"
           : r.variant == Variant::Group   ? "group"
           : r.is_bundle                   ? "bundle"
                                           : "clone";
  s.role = r.variant == Variant::Primitive ? displayed_state(r) : role_name(highest_role(r));
  s.orphaned = r.orphan;
  s.blocked = r.blocked;
  s.managed = r.managed;
  s.failed = r.failed;  // its own flag: a clone is not failed because an instance is
  s.failure_ignored = r.failure_ignored;
  s.disabled = target_role_of(r) == Role::Stopped ||
               (r.parent != nullptr && target_role_of(*r.parent) == Role::Stopped);
  s.promotable = r.promotable;
  s.unique = r.unique;
  s.migration_threshold = r.migration_threshold;
  for (const Resource* x = &r; x != nullptr && s.target_role.empty(); x = x->parent) {
    if (auto it = x->meta.find("target-role"); it != x->meta.end()) s.target_role = it->second;
  }
  auto where = tree_running_on(r);
  // A primitive lists its nodes as it was found active on them (crm_mon's XML does); a
  // collective's by name.
  if (r.variant != Variant::Primitive) {
    std::sort(where.begin(), where.end(), [&](int a, int b) {
      return node_name_less(w.nodes[static_cast<std::size_t>(a)].name,
                            w.nodes[static_cast<std::size_t>(b)].name);
    });
  }
  for (int n : where) s.nodes.push_back(w.nodes[static_cast<std::size_t>(n)].name);
  s.active = !where.empty();
  if (r.variant == Variant::Primitive) {
    s.agent = agent(r);
    s.line = primitive_line(w, r);
  }
  for (const Resource* c : r.children) s.children.push_back(resource_state(w, *c));
  // A clone without a target-role of its own takes its child's, as Pacemaker unpacks it.
  if (r.variant == Variant::Clone && s.target_role.empty() && !s.children.empty())
    s.target_role = s.children.front().target_role;
  return s;
}

}  // namespace

ClusterState cluster_state(const cib::Cib& cib, Millis now) {
  Unpacked u = unpack_status(cib, now);
  const Working& w = u.w;
  ClusterState out;
  out.have_quorum = w.have_quorum;
  out.stonith_enabled = w.stonith_enabled;
  out.symmetric = w.symmetric;
  out.maintenance_mode = w.maintenance_mode;
  out.stop_all = w.stop_all;
  out.no_quorum_policy = w.no_quorum_policy;
  std::vector<int> order(w.nodes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return node_name_less(w.nodes[static_cast<std::size_t>(a)].name,
                          w.nodes[static_cast<std::size_t>(b)].name);
  });
  for (int i : order) {
    const Node& n = w.nodes[static_cast<std::size_t>(i)];
    NodeState s{n.id,          n.name,    n.online,  n.standby,
                n.maintenance, n.pending, n.unclean, n.shutdown,
                n.expected_up, n.is_dc,   0,         node_status(w, i), node_health(w, n)};
    for (const auto& r : w.all) {
      if (r->variant == Variant::Primitive &&
          std::find(r->running_on.begin(), r->running_on.end(), i) != r->running_on.end())
        ++s.resources_running;
    }
    out.nodes.push_back(std::move(s));
  }
  std::vector<Resource*> top = w.top;
  std::stable_sort(top.begin(), top.end(),
                   [](const Resource* a, const Resource* b) { return a->priority > b->priority; });
  for (const Resource* r : top) {
    if (r->variant == Variant::Primitive && r->orphan && r->running_on.empty()) continue;
    if (internal(*r)) continue;
    out.resources.push_back(resource_state(w, *r));
  }
  for (const auto& r : w.all) {
    if (r->variant != Variant::Primitive || (r->orphan && r->running_on.empty())) continue;
    ++out.instances;
    if (target_role_of(*r) == Role::Stopped ||
        (r->parent && target_role_of(*r->parent) == Role::Stopped))
      ++out.disabled;
    if (r->blocked) ++out.blocked;
  }
  out.bans = bans(w);
  for (int i : order) {
    const Node& n = w.nodes[static_cast<std::size_t>(i)];
    std::set<std::string> seen;  // anonymous clone instances share one fail count
    for (const auto& r : w.all) {
      if (r->variant != Variant::Primitive || !seen.insert(failure_id(*r)).second) continue;
      std::int64_t last = 0;
      int count = fail_count(w, *r, n, false, &last);
      if (count > 0)
        out.fail_counts.push_back({n.name, failure_id(*r), count, last, r->migration_threshold});
    }
  }
  return out;
}

}  // namespace vigil::scheduler
