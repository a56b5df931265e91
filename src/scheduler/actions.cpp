// Stages 4 and 5: the actions that take every resource from its current role and node to its next
// ones (with probes, recurring monitors, fencing and shutdowns), then the ordering edges between
// them with Pacemaker's flag propagation: a mandatory action makes its dependents mandatory, an
// unrunnable one makes them unrunnable, each change recorded as the reason.
#include <algorithm>
#include <array>
#include <map>

#include "common/ascii.h"
#include "scheduler/containers.h"
#include "scheduler/rules.h"
#include "scheduler/stages.h"
#include "scheduler/utilization.h"

namespace vigil::scheduler {

namespace {

bool active(const Resource& r) {
  return !r.running_on.empty();
}

// Pacemaker's update_resource_action_runnable: can this action run at all right now?
void settle_runnable(Working& w, Action& a) {
  if (a.pseudo || a.rsc == nullptr) return;
  Resource& r = *a.rsc;
  if (a.node < 0) {
    a.runnable = false;
    return;
  }
  Node& n = w.nodes[static_cast<std::size_t>(a.node)];
  // A guest that is down but not lost comes up with its container within this transition.
  if (!n.online && (!n.guest || n.remote_requires_reset)) {
    a.runnable = false;
    if (r.managed && a.task == "stop" && !n.unclean) w.fence_node(a.node, "stop is unrunnable");
    return;
  }
  if (n.pending) {
    a.runnable = false;
    return;
  }
  bool needs_quorum =
      (a.task == "start" || a.task == "promote") && (r.needs_quorum || r.needs_fencing);
  std::string policy = w.no_quorum_policy;
  if (policy == "demote") {
    // Promotable instances keep running (unpromoted); everything else stops.
    policy = (r.role == Role::Promoted || r.role == Role::Unpromoted) ? "ignore" : "stop";
  }
  if (!needs_quorum || w.have_quorum || policy == "ignore") {
    a.runnable = true;
    return;
  }
  if (policy == "stop") {
    a.runnable = false;
    a.reason = "no quorum";
  } else if (w.no_quorum_policy == "freeze") {
    if (!active(r) || r.next_role > r.role) {
      a.runnable = false;
      a.reason = "quorum freeze";
    }
  }
}

// Pacemaker's custom_action for a resource: find or create, then settle optional and runnable.
int rsc_action(Working& w, Resource& r, const std::string& task, int node, bool optional,
               std::int64_t interval = 0) {
  int id = w.find_action(&r, task, node, interval);
  bool fresh = id < 0;
  if (fresh) {
    id = w.new_action(&r, task, node, interval);
    act(w, id).optional = optional;
  }
  Action& a = act(w, id);
  if (!r.managed && a.node >= 0 && !a.pseudo && interval == 0) {
    a.optional = true;
  } else if (!optional) {
    a.optional = false;
  }
  settle_runnable(w, a);
  return id;
}

void explain(Working& w, int id, const std::string& why) {
  Action& a = act(w, id);
  if (a.why.empty()) a.why = why;
}

std::string node_name(const Working& w, int n) {
  return n < 0 ? "no node" : w.nodes[static_cast<std::size_t>(n)].name;
}

// ---- resource state transitions (Pacemaker's role matrices) -----------------------------------

// What multiple-active makes of a resource found active on several nodes.
std::string multiple_active_words(const Resource& r) {
  auto it = r.meta.find("multiple-active");
  const std::string policy = it == r.meta.end() ? "stop_start" : it->second;
  if (policy == "block") return "blocked (multiple-active=block)";
  if (policy == "stop_only") return "stopping it everywhere (multiple-active=stop_only)";
  if (policy == "stop_unexpected") return "stopping the unexpected copies";
  return "stopping it everywhere, then starting it once";
}

// multiple-active=stop_unexpected keeps the copy on the node the resource is placed on.
bool is_expected_node(const Resource& r, int node) {
  return r.stop_unexpected && r.restarting && r.next_role > Role::Stopped && r.assigned_to == node;
}

void stop_resource(Working& w, Resource& r, bool optional, const std::string& why) {
  for (int node : r.running_on) {
    if (is_expected_node(r, node)) continue;
    // A partial migration goes on where it was heading: no stop there.
    if (r.partial_target == node && r.assigned_to == node) continue;
    int id = rsc_action(w, r, "stop", node, optional);
    if (r.assigned_to < 0) {
      act(w, id).reason = "node availability";
    } else if (r.restarting && r.stop_unexpected) {
      act(w, id).reason = "being multiply active";
    }
    if (!r.managed) act(w, id).runnable = false;
    explain(w, id, why);
  }
}

void start_resource(Working& w, Resource& r, int node, bool optional, const std::string& why) {
  int id = rsc_action(w, r, "start", node, true);
  if (act(w, id).runnable && !optional) act(w, id).optional = false;
  if (r.definition_changed) {
    act(w, id).optional = false;
    act(w, id).reason = "resource definition change";
  }
  if (is_expected_node(r, node)) act(w, id).pseudo = true;
  explain(w, id, why);
}

void promote_resource(Working& w, Resource& r, int node, bool optional, const std::string& why) {
  int start = w.find_action(&r, "start", node);
  if (start >= 0 && !act(w, start).runnable) {
    // Pacemaker cancels a promotion whose start cannot run: blocked, with no reason of its own.
    int id = w.find_action(&r, "promote", node);
    if (id < 0) id = w.new_action(&r, "promote", node);
    act(w, id).runnable = false;
    act(w, id).optional = optional;
    explain(w, id, why + "; its start cannot run");
    return;
  }
  int id = rsc_action(w, r, "promote", node, optional);
  explain(w, id, why);
}

void demote_resource(Working& w, Resource& r, bool optional, const std::string& why) {
  for (int node : r.running_on) explain(w, rsc_action(w, r, "demote", node, optional), why);
}

Role next_step(Role from, Role to) {
  // Pacemaker's rsc_state_matrix: the immediate next role on the way from `from` to `to`.
  static const Role m[5][5] = {
      {Role::Unknown, Role::Stopped, Role::Stopped, Role::Stopped, Role::Stopped},
      {Role::Stopped, Role::Stopped, Role::Started, Role::Unpromoted, Role::Unpromoted},
      {Role::Stopped, Role::Stopped, Role::Started, Role::Unpromoted, Role::Promoted},
      {Role::Stopped, Role::Stopped, Role::Stopped, Role::Unpromoted, Role::Promoted},
      {Role::Stopped, Role::Unpromoted, Role::Unpromoted, Role::Unpromoted, Role::Promoted},
  };
  return m[static_cast<int>(from)][static_cast<int>(to)];
}

// Carries out one step from `from` to `to`; false when there is nothing to do.
bool transition(Working& w, Resource& r, Role from, Role to, int node, bool optional,
                const std::string& why) {
  if (from == to) return false;
  if (to == Role::Stopped || (from == Role::Unpromoted && to == Role::Started)) {
    if (from == Role::Promoted) {
      demote_resource(w, r, optional, why);
    } else {
      stop_resource(w, r, optional, why);
    }
    return true;
  }
  if (from == Role::Stopped) {
    if (node >= 0) start_resource(w, r, node, optional, why);
    return node >= 0;
  }
  if (to == Role::Promoted) {
    if (node >= 0) promote_resource(w, r, node, optional, why);
    return node >= 0;
  }
  if (from == Role::Promoted) {
    demote_resource(w, r, optional, why);
    return true;
  }
  return false;
}

}  // namespace

std::string placement_why(const Working& w, const Resource& r) {
  std::string s;
  if (r.assigned_to >= 0) {
    s = "placed on " + node_name(w, r.assigned_to);
  } else {
    s = "cannot run anywhere";
    // Name what kept it off each node (its score and the last constraint that set it).
    for (std::size_t i = 0; i < w.nodes.size() && i < 4; ++i) {
      int score = r.scores[i];
      std::string v = score <= -kInfinity || score == kAbsent ? "-INFINITY" : std::to_string(score);
      s += (i ? ", " : " (") + w.nodes[i].name + " " + v;
      if (!r.score_why[i].empty()) s += " by " + r.score_why[i].str();
      if (!node_available(w.nodes[i])) s += ", " + unavailable_why(w.nodes[i]);
    }
    if (!w.nodes.empty()) s += ")";
  }
  if (!r.next_role_reason.empty()) s += ": " + r.next_role_reason;
  return s;
}

namespace {

// Pacemaker's pe_rsc_allow_migrate: allow-migrate=true, or unset on a remote node's connection
// (so a remote node can float without stopping what runs on it).
bool allows_migration(const Resource& r) {
  auto it = r.meta.find("allow-migrate");
  if (it != r.meta.end()) return is_true(it->second);
  return r.remote_connection && r.meta.count("container") == 0;
}

// Pacemaker's pcmk__rsc_can_migrate, for a primitive that moves to another node.
bool can_migrate(const Working& w, const Resource& r, int current) {
  if (!allows_migration(r) || !r.managed || r.failed || r.start_pending || current < 0 ||
      r.assigned_to < 0)
    return false;
  return !w.nodes[static_cast<std::size_t>(current)].unclean &&
         !w.nodes[static_cast<std::size_t>(r.assigned_to)].unclean;
}

void create_primitive_actions(Working& w, Resource& r) {
  if (!w.have_quorum && w.no_quorum_policy == "demote" &&
      (r.role == Role::Promoted || r.role == Role::Unpromoted) && r.next_role > Role::Unpromoted) {
    r.next_role = Role::Unpromoted;
    r.next_role_reason = "no-quorum-policy=demote";
  }
  if (r.next_role == Role::Unknown || (r.assigned_to < 0 && r.managed))
    r.next_role = r.assigned_to >= 0 ? Role::Started : Role::Stopped;
  int current = current_node_of(w, r);
  std::size_t all_active = r.running_on.size(), clean_active = 0;
  for (int n : r.running_on) {
    const Node& node = w.nodes[static_cast<std::size_t>(n)];
    if (node.online && !node.unclean) ++clean_active;
  }
  bool need_stop = false, need_promote = false, moving = false;
  std::string why = placement_why(w, r);
  if (current >= 0 && r.assigned_to >= 0 && current != r.assigned_to &&
      r.next_role >= Role::Started) {
    moving = true;
    need_stop = true;
    why = "moves from " + node_name(w, current) + " to " + node_name(w, r.assigned_to) + ": " + why;
  }
  // A completed migration's source still has its stop to do.
  for (int n : r.dangling_sources) {
    const int id = rsc_action(w, r, "stop", n, false);
    act(w, id).extra["dangling"] = "true";
    explain(w, id, "a live migration to another node completed: " + r.id + " stops here");
  }
  // Pacemaker's check of a partial migration: it goes on only to the target it began with.
  if (r.partial_source >= 0 &&
      !(moving && all_active == 2 && can_migrate(w, r, current) && current == r.partial_source &&
        r.assigned_to == r.partial_target)) {
    need_stop = true;
    r.partial_source = r.partial_target = -1;
    r.partial_abandoned = true;
    current = current_node_of(w, r);  // where it runs, now that no migration is going on
  }
  bool multiply_active = r.partial_source < 0 && !r.partial_abandoned &&
                         (r.needs_fencing ? all_active > 1 : clean_active > 1);
  if (!multiply_active) r.stop_unexpected = false;
  if (multiply_active) {
    need_stop = true;
    std::string where;
    for (int n : r.running_on) where += " " + node_name(w, n);
    why = r.id + " is active on " + std::to_string(all_active) + " nodes";
    w.errors.push_back(why + " (" + where.substr(1) + "): " + multiple_active_words(r));
  }
  if (r.start_pending && r.assigned_to >= 0) rsc_action(w, r, "start", r.assigned_to, true);
  if (!moving) {
    if (r.failed) {
      if (r.needs_stop) {
        need_stop = true;
        why = r.failure.empty() ? r.id + " failed on " + node_name(w, current) : r.failure;
      } else if (r.next_role == Role::Promoted) {
        need_promote = true;
      }
    } else if (r.blocked) {
      need_stop = true;
    }
  }
  // Down to Stopped on the current node, then back up to the current role on the next node.
  r.restarting = true;
  Role role = r.role;
  while (role != Role::Stopped) {
    Role next = next_step(role, Role::Stopped);
    if (!transition(w, r, role, next, current, !need_stop, why)) break;
    role = next;
  }
  while (r.role <= r.next_role && role != r.role && !r.blocked) {
    Role next = next_step(role, r.role);
    bool required = need_stop || (next == Role::Promoted && need_promote);
    if (!transition(w, r, role, next, r.assigned_to, !required, why)) break;
    role = next;
  }
  r.restarting = false;
  if (r.stop_for_reload && current >= 0) rsc_action(w, r, "stop", current, false);
  // Then from the current role to the next one.
  role = r.role;
  while (role != r.next_role) {
    Role next = next_step(role, r.next_role);
    if (!transition(w, r, role, next, r.assigned_to, false, why)) break;
    role = next;
  }
}

bool op_applies_to_role(const OpConfig& op, Role role) {
  if (op.role.empty()) return role != Role::Promoted || true;
  if (op.role == "Stopped") return false;
  if (op.role == "Started") return role == Role::Started;
  if (op.role == "Promoted") return role == Role::Promoted;
  if (op.role == "Unpromoted") return role == Role::Unpromoted || role == Role::Started;
  return false;
}

void create_recurring(Working& w, Resource& r) {
  if (r.assigned_to < 0 || r.next_role == Role::Stopped) return;
  int start = w.find_action(&r, "start", r.assigned_to);
  bool starting = start >= 0 && !act(w, start).optional;
  for (const auto& op : r.ops) {
    if (op.name != "monitor" || op.interval_ms <= 0 || !op.enabled) continue;
    if (!op_applies_to_role(op, r.next_role)) continue;
    bool known =
        std::find(r.active_monitors.begin(), r.active_monitors.end(),
                  std::make_pair(r.assigned_to, op.interval_ms)) != r.active_monitors.end();
    bool optional = !starting && known;
    int id = rsc_action(w, r, "monitor", r.assigned_to, optional, op.interval_ms);
    if (start >= 0 && !act(w, start).runnable) act(w, id).runnable = false;
    if (!r.managed) act(w, id).optional = true;
    if (op.role == "Promoted") act(w, id).extra["promoted"] = "true";
    explain(w, id, starting ? "recurring monitor after start" : "recurring monitor not yet active");
    if (start >= 0) w.order(start, id, kOrderImpliesThen | kOrderRunnableLeft);
  }
}

std::vector<int> actions_by_task(Working& w, Resource& r, const std::string& task);

// Pacemaker's pcmk__create_migration_actions: instead of a stop here and a start there, the
// agent moves the running resource (migrate_to on the source, migrate_from on the target); the
// source's stop follows to clean up, and the start is a pseudo action (the resource runs by then).
// Whatever later forces a plain restart clears `migratable` and so undoes the migration.
void create_migration(Working& w, Resource& r) {
  const int source = current_node_of(w, r), target = r.assigned_to;
  if (source < 0 || target < 0 || source == target || r.next_role < Role::Started ||
      r.partial_abandoned || !can_migrate(w, r, source))
    return;
  const int stop = w.find_action(&r, "stop", source);
  const int start = w.find_action(&r, "start", target);
  if (stop < 0 || start < 0) return;
  // A partial migration's migrate_to has run already: only its migrate_from is left.
  const bool partial = r.partial_target >= 0;
  const int to = partial ? -1 : rsc_action(w, r, "migrate_to", source, true);
  const int from = rsc_action(w, r, "migrate_from", target, true);
  const std::map<std::string, std::string> meta{
      {"migrate_source", w.nodes[static_cast<std::size_t>(source)].name},
      {"migrate_target", w.nodes[static_cast<std::size_t>(target)].name}};
  const std::string why = "live migration (allow-migrate=true): " + act(w, start).why;
  if (to >= 0) {
    act(w, to).meta = meta;
    // Recorded as pending: a source lost mid-migration may have touched the target already.
    if (!r.remote_connection) act(w, to).meta["record_pending"] = "true";
    explain(w, to, why);
  }
  act(w, from).meta = meta;
  explain(w, from, why);
  for (int id : {start, stop, to, from}) {
    if (id >= 0) act(w, id).migratable = true;
  }
  act(w, start).pseudo = true;
  for (int id : r.actions) {
    if (act(w, id).probe) w.order(id, partial ? from : to, kOrderOptional);
  }
  if (to >= 0) w.order(to, from, kOrderOptional | kOrderImpliesFirstMigratable);
  // Every stop, as Pacemaker orders by key: a stop elsewhere (the resource was active on more
  // nodes) cannot be part of the migration, and so forces a plain stop and start.
  for (int s : actions_by_task(w, r, "stop"))
    w.order(from, s, kOrderOptional | kOrderImpliesFirstMigratable);
  w.order(from, start, kOrderOptional | kOrderImpliesFirstMigratable | kOrderPseudoLeft);
}

void create_group_actions(Working& w, Resource& g) {
  for (Resource* c : g.children) create_primitive_actions(w, *c);
  for (const char* task : {"start", "running", "stop", "stopped"}) {
    int id = w.new_action(&g, task, -1);
    act(w, id).pseudo = true;
    act(w, id).runnable = true;
    act(w, id).optional = true;
  }
  g.next_role = g.children.empty() ? Role::Stopped : g.children.front()->next_role;
}

// Whether an instance has a mandatory, runnable action of that task (Pacemaker's
// clone_update_pseudo_status).
bool instance_will(Working& w, Resource& inst, const std::string& task) {
  for (Resource* p : primitives_of(&inst)) {
    for (int id : p->actions) {
      const Action& a = act(w, id);
      if (a.task == task && !a.optional && (a.runnable || a.pseudo) && !a.probe) return true;
    }
  }
  return false;
}

bool instance_active(Resource& inst) {
  for (Resource* p : primitives_of(&inst)) {
    if (!p->running_on.empty()) return true;
  }
  return false;
}

int clone_pseudo(Working& w, Resource& clone, const char* task, bool optional, bool runnable) {
  int id = w.new_action(&clone, task, -1);
  act(w, id).pseudo = true;
  act(w, id).optional = optional;
  act(w, id).runnable = runnable;
  return id;
}

// A promotable clone's (or bundle's) promote/demote pseudo-actions, over the instances of
// `clone`: each is optional unless an instance promotes (or demotes).
void create_role_pseudos(Working& w, Resource& owner, const Resource& clone) {
  bool promoting = false, demoting = false;
  for (Resource* inst : clone.children) {
    promoting = promoting || instance_will(w, *inst, "promote");
    demoting = demoting || instance_will(w, *inst, "demote");
  }
  clone_pseudo(w, owner, "promote", !promoting, true);
  clone_pseudo(w, owner, "promoted", !promoting, true);
  clone_pseudo(w, owner, "demote", !demoting, true);
  clone_pseudo(w, owner, "demoted", !demoting, true);
}

void create_clone_actions(Working& w, Resource& clone) {
  bool starting = false, stopping = false, active = false;
  // Pacemaker's allow_dependent_migrations: while no instance restarts, what depends on the
  // clone's stop may still migrate.
  bool dependents_migrate = true;
  for (Resource* inst : clone.children) {
    if (inst->variant == Variant::Group) {
      create_group_actions(w, *inst);
    } else {
      create_primitive_actions(w, *inst);
    }
    const bool inst_starts = instance_will(w, *inst, "start");
    const bool inst_stops = instance_will(w, *inst, "stop");
    dependents_migrate = dependents_migrate && !(inst_starts && inst_stops);
    starting = starting || inst_starts;
    stopping = stopping || inst_stops;
    active = active || instance_active(*inst);
  }
  clone_pseudo(w, clone, "start", !starting, true);
  clone_pseudo(w, clone, "running", !starting, active || starting);
  act(w, clone_pseudo(w, clone, "stop", !stopping, true)).migratable = dependents_migrate;
  clone_pseudo(w, clone, "stopped", !stopping, true);
  if (clone.promotable) create_role_pseudos(w, clone, clone);
}

// Pacemaker's pcmk__bundle_create_actions: the replicas' resources, the bundle's own
// start/stop pseudo-actions over its containers, the bundled clone's actions, and for a
// promotable bundle its promote/demote pseudo-actions.
void create_bundle_actions(Working& w, Resource& bundle) {
  create_clone_actions(w, bundle);
  for (Resource* r : bundle_members(bundle)) {
    if (r->variant == Variant::Clone) {
      create_clone_actions(w, *r);
    } else {
      create_primitive_actions(w, *r);
    }
  }
  if (bundle.bundled != nullptr && bundle.bundled->promotable)
    create_role_pseudos(w, bundle, *bundle.bundled);
}

// ---- probes ------------------------------------------------------------------------------------

bool discovery_never(const Working& w, const Resource& r, int node) {
  (void)w;
  (void)r;
  (void)node;
  return false;
}

bool known_anywhere_on(const Resource& r, std::size_t node) {
  if (r.variant == Variant::Primitive) return r.known_on[node];
  return std::any_of(r.children.begin(), r.children.end(),
                     [&](const Resource* c) { return known_anywhere_on(*c, node); });
}

// An anonymous clone is probed once per node: through the instance known there, else the one
// placed there, else the lowest-numbered one. Returns that instance for every node.
std::vector<Resource*> probed_instances(const Working& w, Resource& clone) {
  std::vector<Resource*> by_number = clone.children;
  std::stable_sort(by_number.begin(), by_number.end(), [](const Resource* a, const Resource* b) {
    return instance_number(*a) < instance_number(*b);
  });
  std::vector<Resource*> out(w.nodes.size(), by_number.empty() ? nullptr : by_number.front());
  std::vector<int> rank(w.nodes.size(), 2);  // 0 known there, 1 placed there, 2 the first one
  for (Resource* inst : by_number) {
    for (std::size_t n = 0; n < w.nodes.size(); ++n) {
      if (rank[n] > 0 && known_anywhere_on(*inst, n)) {
        out[n] = inst;
        rank[n] = 0;
      }
    }
    const Resource* first = inst;
    while (first->variant != Variant::Primitive && !first->children.empty())
      first = first->children.front();
    if (first->assigned_to >= 0 && rank[static_cast<std::size_t>(first->assigned_to)] > 1) {
      out[static_cast<std::size_t>(first->assigned_to)] = inst;
      rank[static_cast<std::size_t>(first->assigned_to)] = 1;
    }
  }
  return out;
}

// What becomes of a remote node's connection in this transition.
enum class Connection { Unknown, Alive, Resting, Failed, Stopped };

Connection connection_state(const Working& w, const Node& n) {
  const Resource& c = *n.connection;
  const int host = current_node_of(w, c);
  if (c.next_role == Role::Stopped || c.assigned_to < 0) {
    // On a lost host with nowhere to go, nothing on the remote node can be reached but by fencing.
    if (host >= 0 && w.nodes[static_cast<std::size_t>(host)].unclean) return Connection::Failed;
    if (!c.failed) return Connection::Stopped;
    auto shutdown = n.attrs.find("shutdown");
    bool shutting_down =
        shutdown != n.attrs.end() && !shutdown->second.empty() && shutdown->second != "0";
    // Whether a fenced node's connection recovers is known only once the reconnect delay ends.
    if (c.next_role == Role::Stopped && c.reconnect_interval_ms > 0 && n.remote_was_fenced &&
        !shutting_down)
      return Connection::Unknown;
    return Connection::Failed;
  }
  if (host < 0) return Connection::Unknown;
  const Node& h = w.nodes[static_cast<std::size_t>(host)];
  if (h.unclean || !h.online) return Connection::Resting;
  return Connection::Alive;
}

// Whether a guest's container is about to go down (Pacemaker's guest_resource_will_stop).
bool guest_will_stop(const Node& guest, const Resource& container) {
  if (guest.remote_requires_reset || container.failed || container.next_role == Role::Stopped)
    return true;
  return container.role > Role::Stopped && container.assigned_to >= 0 &&
         std::find(container.running_on.begin(), container.running_on.end(),
                   container.assigned_to) == container.running_on.end();
}

// Pacemaker probes nothing in a guest whose container is stopped or stopping: what runs there
// is known (nothing, soon). Starts there wait instead for the container's probe or stop.
bool guest_needs_no_probe(Working& w, const Node& guest, Resource& r) {
  Resource* container = w.guest_container(guest);
  if (container == nullptr) return false;
  Resource* top = top_of(&r);
  if (container->role == Role::Stopped) {
    const int on = container->assigned_to;
    if (on >= 0 && !container->known_on[static_cast<std::size_t>(on)])
      w.later.push_back({container, "monitor", top, "start", kOrderOptional});
    return true;
  }
  if (guest_will_stop(guest, *container)) {
    w.later.push_back({container, "stop", top, "start", kOrderOptional});
    return true;
  }
  return false;
}

// A resource that holds a guest node, or lives inside another resource, is not looked for on
// nodes: the guest cannot hold its own kind, and the container's state stands for what it holds.
bool never_probed(const Working& w, const Resource& r, const Node& node) {
  auto c = r.meta.find("container");
  if (!r.remote_connection && c != r.meta.end() && c->second != r.id && w.find(c->second))
    return true;
  if (!node.guest) return false;
  return std::any_of(w.nodes.begin(), w.nodes.end(),
                     [&](const Node& n) { return w.guest_container(n) == &r; });
}

void schedule_probes(Working& w) {
  std::map<Resource*, std::vector<Resource*>> probed;  // anonymous clone -> instance per node
  for (Resource* r : w.top) {
    if (r->variant == Variant::Clone && !r->unique && !r->is_bundle)
      probed[r] = probed_instances(w, *r);
  }
  auto wanted = [&](Resource& r, std::size_t n) {
    Resource* clone = clone_of(&r);
    // A bundle's containers are resources of their own; its bundled instances have one node each.
    if (clone == nullptr || clone->unique || clone->is_bundle) return true;
    if (clone->bundle) return w.nodes[n].bundle_instance == &r;
    Resource* inst = &r;
    while (inst->parent != clone) inst = inst->parent;
    return probed[clone][n] == inst;
  };
  for (int ni : nodes_by_name(w)) {
    const auto n = static_cast<std::size_t>(ni);
    const Node& node = w.nodes[n];
    if (!node.online && node.remote && node.connection &&
        connection_state(w, node) == Connection::Failed)
      w.fence_node(static_cast<int>(n), "the connection is unrecoverable");
    if (!node.online || node.unclean) continue;
    for (const auto& owned : w.all) {
      Resource& r = *owned;
      if (r.variant != Variant::Primitive || r.orphan) continue;
      // A remote node runs neither fencing devices nor connections: nothing to find out there.
      if (node.remote && (r.cls == "stonith" || r.remote_connection)) continue;
      // A bundle's replica node holds nothing but its replica's instance.
      if (node.bundle_instance && node.bundle_instance != &r) continue;
      if (never_probed(w, r, node)) continue;
      if (r.known_on[n] || discovery_never(w, r, static_cast<int>(n))) continue;
      if (!wanted(r, n)) continue;
      if (guest_needs_no_probe(w, node, r)) continue;
      int id = w.new_action(&r, "monitor", static_cast<int>(n));
      Action& p = act(w, id);
      p.probe = true;
      p.optional = false;
      p.runnable = !node.pending;
      p.why = "probe: state of " + r.id + " on " + node.name + " is unknown";
    }
  }
}

void order_probes(Working& w) {
  for (const auto& owned : w.all) {
    Resource& r = *owned;
    if (r.variant != Variant::Primitive) continue;
    for (int id : std::vector<int>(r.actions)) {
      if (!act(w, id).probe) continue;
      std::uint32_t flags = kOrderOptional;
      if (!act(w, id).runnable && r.running_on.empty()) flags |= kOrderRunnableLeft;
      for (int s : r.actions) {
        if (act(w, s).task == "start") w.order(id, s, flags);
      }
    }
  }
}

// ---- fencing and shutdown ----------------------------------------------------------------------

bool any_managed(const Working& w) {
  for (const auto& r : w.all) {
    if (r->variant == Variant::Primitive && r->managed) return true;
  }
  return false;
}

void order_vs_fence(Working& w, int fence) {
  int target = act(w, fence).node;
  for (const auto& owned : w.all) {
    Resource& r = *owned;
    if (r.variant != Variant::Primitive || !r.managed) continue;
    for (int id : std::vector<int>(r.actions)) {
      Action& a = act(w, id);
      bool needs = a.task == "start" || a.task == "promote";
      if (needs && r.needs_fencing) {
        w.order(fence, id, kOrderOptional);
      } else if (needs && a.task == "start" &&
                 r.scores[static_cast<std::size_t>(target)] != kAbsent &&
                 !r.known_on[static_cast<std::size_t>(target)]) {
        w.order(fence, id, kOrderOptional | kOrderRunnableLeft);
      }
      if ((a.task == "stop" || a.task == "demote") && a.node == target && !a.probe) {
        a.pseudo = true;
        a.runnable = true;
        a.why += (a.why.empty() ? "" : "; ") + std::string("implied by fencing of ") +
                 node_name(w, target);
        // A guest's "fencing" is its container's stop: what ran there stops after it anyway.
        if (r.needs_fencing || w.nodes[static_cast<std::size_t>(target)].guest) {
          w.order(fence, id, kOrderOptional | kOrderPreserve);
          if (r.parent)
            w.order(fence, w.find_action(r.parent, "stop"), kOrderOptional | kOrderPreserve);
        }
      }
    }
  }
}

// Pacemaker's pcmk__order_stops_before_shutdown: every stop on the node is required before its
// shutdown, and one that cannot run holds the shutdown back (a failed stop without fencing leaves
// the node waiting for shutdown-escalation). As there, only resources neither managed nor blocked
// (is-managed=false, maintenance) are left out, and nothing on a node in maintenance.
void order_stops_before_shutdown(Working& w, int shutdown) {
  const int node = act(w, shutdown).node;
  if (w.nodes[static_cast<std::size_t>(node)].maintenance) return;
  for (const auto& r : w.all) {
    if (!r->managed && !r->blocked) continue;
    for (int a : r->actions) {
      Action& stop = act(w, a);
      if (stop.task != "stop" || stop.node != node) continue;
      stop.optional = false;
      w.order(a, shutdown, kOrderOptional | kOrderRunnableLeft);
    }
  }
}

// Pacemaker's pcmk__fence_guest: a guest's fencing is a pseudo-action that only marks the moment
// its container is down (after the container's stop, or its host's fencing that implies it), so
// that what ran in the guest counts as stopped from then on.
void fence_guest(Working& w, int node, Resource& container) {
  const Node& guest = w.nodes[static_cast<std::size_t>(node)];
  const int stop = w.find_action(&container, "stop");
  const bool restarts = w.find_action(&container, "start") >= 0;
  int id = w.new_action(nullptr, "stonith", node);
  Action& f = act(w, id);
  f.optional = false;
  f.pseudo = true;
  f.runnable = true;
  f.extra["stonith_action"] = restarts ? "reboot" : "off";
  f.reason = "guest is unclean";
  f.why = "fence " + guest.name + " by recovering " + container.id +
          (guest.fence_reason.empty() ? "" : ": " + guest.fence_reason);
  if (stop >= 0 && act(w, stop).pseudo) {
    for (const Action& a : w.actions) {
      if (a.rsc == nullptr && a.task == "stonith" && a.node == act(w, stop).node)
        w.order(a.id, id, kOrderRunnableLeft | kOrderImpliesThen);
    }
  } else if (stop >= 0) {
    w.order(stop, id, kOrderRunnableLeft | kOrderImpliesThen);
  } else if (int conn_stop = w.find_action(guest.connection, "stop"); conn_stop >= 0) {
    w.order(conn_stop, id, kOrderOptional);
  }
  order_vs_fence(w, id);
}

void schedule_fencing_and_shutdowns(Working& w) {
  bool have_managed = any_managed(w);
  int dc_down = -1;
  std::vector<int> fencing, shutdowns;
  for (int ni : nodes_by_name(w)) {
    const auto n = static_cast<std::size_t>(ni);
    Node& node = w.nodes[n];
    if (Resource* container = w.guest_container(node)) {
      if (node.remote_requires_reset && have_managed && w.can_fence(node))
        fence_guest(w, static_cast<int>(n), *container);
      continue;
    }
    if (have_managed && node.unclean && w.can_fence(node)) {
      int id = w.new_action(nullptr, "stonith", static_cast<int>(n));
      Action& f = act(w, id);
      f.optional = false;
      f.extra["stonith_action"] = "reboot";
      f.reason = node.fence_reason.empty() ? "node is unclean" : node.fence_reason;
      f.why = "fence " + node.name + ": " + f.reason;
      order_vs_fence(w, id);
      if (node.is_dc) {
        dc_down = id;
      } else {
        if (!fencing.empty() && !w.concurrent_fencing) w.order(fencing.back(), id, kOrderOptional);
        fencing.push_back(id);
      }
    } else if (node.online && node.shutdown && !node.remote) {  // remote nodes get no shutdown
      int id = w.new_action(nullptr, "do_shutdown", static_cast<int>(n));
      Action& s = act(w, id);
      s.optional = false;
      s.why = node.name + " is shutting down";
      order_stops_before_shutdown(w, id);
      if (node.is_dc) {
        dc_down = id;
      } else {
        shutdowns.push_back(id);
      }
    }
  }
  if (dc_down >= 0) {
    if (act(w, dc_down).task == "do_shutdown") {
      for (int s : shutdowns) w.order(s, dc_down, kOrderOptional);
    }
    // After the chain of the others' fencing, or after each when they run at once.
    if (w.concurrent_fencing) {
      for (int f : fencing) w.order(f, dc_down, kOrderOptional);
    } else if (!fencing.empty()) {
      w.order(fencing.back(), dc_down, kOrderOptional);
    }
  }
}

// ---- orderings --------------------------------------------------------------------------------

std::vector<int> actions_by_task(Working& w, Resource& r, const std::string& task) {
  std::vector<int> out;
  for (int id : r.actions) {
    if (act(w, id).task == task && act(w, id).interval_ms == 0 && !act(w, id).probe)
      out.push_back(id);
  }
  return out;
}

bool rsc_stopped(const Resource& r) {
  if (r.variant != Variant::Primitive) {
    for (const Resource* c : r.children) {
      if (!rsc_stopped(*c)) return false;
    }
    return true;
  }
  return r.role == Role::Stopped;
}

// Pacemaker orders against a collective resource's completion ("running", "stopped") when it
// comes first in an ordering with another resource.
std::string first_task_for(const Resource& r, const std::string& task, const Resource* then) {
  if (r.variant == Variant::Primitive || then == &r) return task;
  if (then && then->parent == &r) return task;
  // A bundle's own resources (its bundled clone's instances too) take the bundle's own action.
  for (const Resource* p = then; p != nullptr; p = p->parent) {
    if (p->bundle == &r) return task;
  }
  if (task == "start") return "running";
  if (task == "stop") return "stopped";
  if (r.variant == Variant::Clone && task == "promote") return "promoted";
  if (r.variant == Variant::Clone && task == "demote") return "demoted";
  return task;
}

// Orderings between two clones pair their instances node by node when the clone that must wait
// (the one stopping first, for stops and demotes) is interleaved.
bool interleave_applies(const Resource& first, const Resource& then, const std::string& then_task) {
  if (&first == &then || first.variant != Variant::Clone || then.variant != Variant::Clone)
    return false;
  const Resource& decides = (then_task == "stop" || then_task == "demote") ? first : then;
  return decides.interleave;
}

int instance_node(const Resource& inst, bool current) {
  const Resource* p = &inst;
  while (p->variant != Variant::Primitive && !p->children.empty()) p = p->children.front();
  if (current) return p->running_on.empty() ? -1 : p->running_on.front();
  return p->assigned_to;
}

// The action of a member behind a collective resource's completion pseudo-action.
std::string member_task(const std::string& task) {
  if (task == "running") return "start";
  if (task == "stopped") return "stop";
  if (task == "promoted") return "promote";
  if (task == "demoted") return "demote";
  return task;
}

std::string member_task_of(const Resource& inst, const std::string& task) {
  return inst.variant == Variant::Primitive ? member_task(task) : task;
}

// Pairs the instances of two interleaved clones (creating their orderings when `create`); an
// instance of `then` with no partner may not start. True when an instance was held back.
bool order_instances(Working& w, Resource& first, const std::string& first_task, Resource& then,
                     const std::string& then_task, std::uint32_t flags, bool create) {
  bool changed = false;
  bool current = first_task == "stopped" || first_task == "demoted";
  for (Resource* then_inst : then.children) {
    int node = instance_node(*then_inst, false);
    Resource* pair = nullptr;
    if (node >= 0) {
      for (Resource* f : first.children) {
        if (instance_node(*f, current) == node) {
          pair = f;
          break;
        }
      }
    }
    std::vector<int> thens = actions_by_task(w, *then_inst, member_task_of(*then_inst, then_task));
    if (pair == nullptr) {
      // Nothing of `first` will be active beside this instance: it may not start.
      if (!current && (flags & (kOrderRunnableLeft | kOrderImpliesThen))) {
        for (Resource* p : primitives_of(then_inst)) {
          if (p->assigned_to < 0) continue;
          changed = true;
          w.nodes[static_cast<std::size_t>(p->assigned_to)].assigned--;
          p->assigned_to = -1;
          p->next_role = Role::Stopped;
          p->next_role_reason = "no instance of " + first.id + " beside it";
        }
        for (int t : thens) {
          if (act(w, t).task == "start" || act(w, t).task == "promote") {
            act(w, t).runnable = false;
            if (act(w, t).reason.empty())
              act(w, t).reason = "unrunnable " + first.id + " " + first_task;
          }
        }
      }
      continue;
    }
    if (!create) continue;
    std::vector<int> firsts = actions_by_task(w, *pair, member_task_of(*pair, first_task));
    for (int f : firsts) {
      for (int t : thens) w.order(f, t, flags);
    }
  }
  return changed;
}

// Holding an instance back can leave instances of clones ordered after it without a partner.
void settle_interleaved(Working& w) {
  for (std::size_t round = 0; round <= w.all.size(); ++round) {
    bool changed = false;
    for (const auto& o : w.interleaved) {
      changed = order_instances(w, *o.first, o.first_task, *o.then, o.then_task, o.flags, false) ||
                changed;
    }
    if (!changed) break;
  }
}

// The actions of `first` an ordering starts from; when it has none, one that stands for them
// (unrunnable for a primitive with no node to run on), as Pacemaker's rsc_order_first creates.
std::vector<int> first_actions(Working& w, Resource* first, const std::string& first_task) {
  std::vector<int> firsts = actions_by_task(w, *first, first_task);
  if (!firsts.empty() || (rsc_stopped(*first) && first_task == "stop")) return firsts;
  int id = w.new_action(first, first_task, -1);
  act(w, id).optional = true;
  settle_runnable(w, act(w, id));
  if (first->variant != Variant::Primitive) {
    act(w, id).pseudo = true;
    act(w, id).runnable = true;
  }
  return {id};
}

bool is_ancestor(const Resource* of, const Resource* r) {
  for (const Resource* p = r->parent; p != nullptr; p = p->parent) {
    if (p == of) return true;
  }
  return false;
}

void order_tasks(Working& w, Resource& first, const std::string& first_task, Resource& then,
                 const std::string& then_task, std::uint32_t flags) {
  for (int f : actions_by_task(w, first, first_task)) {
    for (int t : actions_by_task(w, then, then_task)) w.order(f, t, flags);
  }
}

// Pacemaker's pcmk__order_migration_equivalents: an ordering of starts, stops, promotes or
// demotes between two unrelated resources holds for their migrations as well.
void order_migration_equivalents(Working& w, Resource& first, const std::string& first_task,
                                 Resource& then, const std::string& then_task) {
  if (&first == &then || is_ancestor(&first, &then) || is_ancestor(&then, &first)) return;
  const bool first_migrates = allows_migration(first), then_migrates = allows_migration(then);
  if (!first_migrates && !then_migrates) return;
  const std::uint32_t only_plain =
      kOrderOptional | (first_migrates ? kOrderApplyFirstNonMigratable : kOrderNone);
  if (first_task == "start" && then_task == "start") {
    if (first_migrates && then_migrates)
      order_tasks(w, first, "migrate_from", then, "migrate_to", kOrderOptional);
    if (then_migrates) order_tasks(w, first, "start", then, "migrate_to", only_plain);
  } else if (then_migrates && first_task == "stop" && then_task == "stop") {
    order_tasks(w, first, "stop", then, "migrate_to", only_plain);
    if (then.partial_target >= 0) order_tasks(w, first, "stop", then, "migrate_from", only_plain);
  } else if (then_migrates && first_task == "promote" && then_task == "start") {
    order_tasks(w, first, "promote", then, "migrate_to", kOrderOptional);
  } else if (then_migrates && first_task == "demote" && then_task == "stop") {
    order_tasks(w, first, "demote", then, "migrate_to", kOrderOptional);
    if (then.partial_target >= 0)
      order_tasks(w, first, "demote", then, "migrate_from", kOrderOptional);
  }
}

void order_resources(Working& w, Resource* first, std::string first_task, Resource* then,
                     const std::string& then_task, std::uint32_t flags) {
  first_task = first_task_for(*first, first_task, then);
  if (first == then && actions_by_task(w, *first, first_task).empty()) return;
  std::vector<int> firsts = first_actions(w, first, first_task);
  if (firsts.empty()) return;
  std::vector<int> thens = actions_by_task(w, *then, then_task);
  bool interleaved = interleave_applies(*first, *then, then_task);
  if (interleaved) {
    order_instances(w, *first, first_task, *then, then_task, flags, true);
    w.interleaved.push_back({first, first_task, then, then_task, flags});
  }
  for (int f : firsts) {
    // A dangling migration's stop does not make the resource start again (Pacemaker's
    // pe_action_dangle).
    const std::uint32_t own = first == then && act(w, f).extra.count("dangling")
                                  ? flags & ~kOrderImpliesThen
                                  : flags;
    for (int t : thens) w.order(f, t, interleaved ? (own | kOrderInterleaved) : own);
  }
  order_migration_equivalents(w, *first, first_task, *then, then_task);
}

void internal_orderings(Working& w, Resource& r);

void promotable_orderings(Working& w, Resource& clone, const std::vector<Resource*>& children,
                          bool ordered) {
  order_resources(w, &clone, "demoted", &clone, "stop", kOrderOptional);
  order_resources(w, &clone, "running", &clone, "promote", kOrderRunnableLeft);
  order_resources(w, &clone, "stopped", &clone, "promote", kOrderOptional);
  order_resources(w, &clone, "demoted", &clone, "start", kOrderOptional);
  order_resources(w, &clone, "demoted", &clone, "promote", kOrderOptional);
  order_resources(w, &clone, "demote", &clone, "demoted", kOrderOptional);
  order_resources(w, &clone, "promote", &clone, "promoted", kOrderOptional);
  Resource* last = nullptr;
  for (Resource* inst : children) {
    order_resources(w, inst, "demote", inst, "promote", kOrderOptional);
    order_resources(w, &clone, "promote", inst, "promote", kOrderOptional);
    order_resources(w, inst, "promote", &clone, "promoted", kOrderOptional);
    if (ordered && last) order_resources(w, last, "promote", inst, "promote", kOrderOptional);
    order_resources(w, &clone, "demote", inst, "demote", kOrderImpliesFirstPrinted);
    order_resources(w, inst, "demote", &clone, "demoted", kOrderImpliesThenPrinted);
    if (ordered && last) order_resources(w, inst, "demote", last, "demote", kOrderOptional);
    last = inst;
  }
}

void clone_internal_orderings(Working& w, Resource& clone) {
  order_resources(w, &clone, "stopped", &clone, "start", kOrderOptional);
  order_resources(w, &clone, "start", &clone, "running", kOrderRunnableLeft);
  order_resources(w, &clone, "stop", &clone, "stopped", kOrderRunnableLeft);
  bool ordered = false;
  auto it = clone.meta.find("ordered");
  if (it != clone.meta.end()) ordered = is_true(it->second);
  std::vector<Resource*> children = clone.children;
  if (ordered) {
    std::stable_sort(children.begin(), children.end(), [](const Resource* a, const Resource* b) {
      return instance_number(*a) < instance_number(*b);
    });
  }
  Resource* last = nullptr;
  for (Resource* inst : children) {
    internal_orderings(w, *inst);
    order_resources(w, &clone, "start", inst, "start",
                    kOrderRunnableLeft | kOrderImpliesFirstPrinted);
    order_resources(w, inst, "start", &clone, "running", kOrderImpliesThenPrinted);
    if (ordered && last) order_resources(w, last, "start", inst, "start", kOrderOptional);
    order_resources(w, &clone, "stop", inst, "stop", kOrderImpliesFirstPrinted);
    order_resources(w, inst, "stop", &clone, "stopped", kOrderImpliesThenPrinted);
    if (ordered && last) order_resources(w, inst, "stop", last, "stop", kOrderOptional);
    last = inst;
  }
  if (clone.promotable) promotable_orderings(w, clone, children, ordered);
}

// Pacemaker's pcmk__bundle_internal_constraints.
void bundle_internal_orderings(Working& w, Resource& bundle) {
  for (std::size_t n = 0; n < bundle.children.size(); ++n) {
    Resource* container = bundle.children[n];
    internal_orderings(w, *container);
    order_resources(w, &bundle, "start", container, "start",
                    kOrderRunnableLeft | kOrderImpliesFirstPrinted);
    if (bundle.bundled && n < bundle.bundled->children.size()) {
      for (Resource* inst : bundle.bundled->children) {
        if (instance_number(*inst) == static_cast<int>(n))
          order_resources(w, &bundle, "stop", inst, "stop", kOrderImpliesFirstPrinted);
      }
    }
    order_resources(w, &bundle, "stop", container, "stop", kOrderImpliesFirstPrinted);
    order_resources(w, container, "start", &bundle, "running", kOrderImpliesThenPrinted);
    order_resources(w, container, "stop", &bundle, "stopped", kOrderImpliesThenPrinted);
    if (Resource* ip = bundle.replica_ips[n]) {
      internal_orderings(w, *ip);
      order_resources(w, ip, "start", container, "start", kOrderRunnableLeft | kOrderPreserve);
      order_resources(w, container, "stop", ip, "stop", kOrderImpliesFirst | kOrderPreserve);
    }
    if (Resource* connection = bundle.replica_connections[n]) {
      internal_orderings(w, *connection);
      // Its probe needs the container up (Pacemaker's bundle probe ordering).
      for (int probe : std::vector<int>(connection->actions)) {
        if (!act(w, probe).probe) continue;
        for (int start : actions_by_task(w, *container, "start")) w.order(start, probe, kOrderOptional);
      }
    }
  }
  Resource* child = bundle.bundled;
  if (child == nullptr) return;
  order_resources(w, &bundle, "start", child, "start", kOrderImpliesFirstPrinted);
  order_resources(w, &bundle, "stop", child, "stop", kOrderImpliesFirstPrinted);
  order_resources(w, child, "running", &bundle, "running", kOrderImpliesThenPrinted);
  order_resources(w, child, "stopped", &bundle, "stopped", kOrderImpliesThenPrinted);
  internal_orderings(w, *child);
  if (!child->promotable) return;
  order_resources(w, &bundle, "stopped", &bundle, "start", kOrderOptional);
  order_resources(w, &bundle, "stopped", &bundle, "promote", kOrderOptional);
  order_resources(w, &bundle, "demoted", &bundle, "stop", kOrderOptional);
  order_resources(w, &bundle, "demoted", &bundle, "start", kOrderOptional);
  order_resources(w, &bundle, "demoted", &bundle, "promote", kOrderOptional);
  order_resources(w, &bundle, "running", &bundle, "promote", kOrderOptional);
  order_resources(w, &bundle, "demote", &bundle, "demoted", kOrderOptional);
  order_resources(w, child, "demoted", &bundle, "demoted", kOrderImpliesThenPrinted);
  order_resources(w, &bundle, "demote", child, "demote", kOrderImpliesFirstPrinted);
  order_resources(w, child, "promoted", &bundle, "promoted", kOrderImpliesThenPrinted);
  order_resources(w, &bundle, "promote", child, "promote", kOrderImpliesFirstPrinted);
}

void internal_orderings(Working& w, Resource& r) {
  if (r.is_bundle) {
    bundle_internal_orderings(w, r);
    return;
  }
  if (r.variant == Variant::Clone) {
    clone_internal_orderings(w, r);
    return;
  }
  if (r.variant == Variant::Group) {
    order_resources(w, &r, "stop", &r, "stopped", kOrderRunnableLeft);
    order_resources(w, &r, "stopped", &r, "start", kOrderOptional);
    order_resources(w, &r, "start", &r, "running", kOrderRunnableLeft);
    Resource* prev = nullptr;
    Resource* last_active = nullptr;
    for (Resource* m : r.children) {
      internal_orderings(w, *m);
      std::uint32_t down = kOrderImpliesFirstPrinted, post_down = kOrderImpliesThenPrinted;
      if (prev == nullptr && r.ordered) {
        down |= kOrderOptional;
        post_down = kOrderImpliesThen;
      }
      order_resources(w, &r, "stop", m, "stop", down);
      order_resources(w, m, "stop", &r, "stopped", post_down);
      order_resources(w, &r, "start", m, "start", kOrderImpliesFirstPrinted);
      order_resources(w, m, "start", &r, "running",
                      kOrderRunnableLeft | kOrderImpliesThen | kOrderImpliesThenPrinted);
      if (!r.ordered) {
        order_resources(w, &r, "start", m, "start",
                        kOrderImpliesThen | kOrderRunnableLeft | kOrderImpliesFirstPrinted);
      } else if (prev != nullptr) {
        order_resources(w, prev, "start", m, "start", kOrderImpliesThen | kOrderRunnableLeft);
        order_resources(w, m, "stop", prev, "stop", kOrderOptional | kOrderRestart);
      }
      if (!m->running_on.empty()) {
        if (r.ordered && prev && prev->running_on.empty() && last_active &&
            !last_active->running_on.empty()) {
          order_resources(w, m, "stop", last_active, "stop", kOrderOptional);
        }
        last_active = m;
      }
      prev = m;
    }
    return;
  }
  if (!r.managed) return;
  order_resources(w, &r, "stop", &r, "start", kOrderOptional | kOrderImpliesThen | kOrderRestart);
  if (Resource* c = container_of(w, r)) {
    order_resources(w, c, "start", &r, "start", kOrderImpliesThen | kOrderRunnableLeft);
    order_resources(w, &r, "stop", c, "stop", kOrderImpliesFirst);
  }
  if (r.role > Role::Unpromoted) {
    order_resources(w, &r, "demote", &r, "stop", kOrderPromotedImpliesFirst);
    order_resources(w, &r, "start", &r, "promote", kOrderRunnableLeft);
  }
}

std::uint32_t kind_flags(const std::string& kind, const std::string& first_task, int symmetry) {
  // symmetry: 0 asymmetric, 1 symmetric, 2 the inverse half of a symmetric ordering
  std::uint32_t flags = kOrderOptional;
  if (kind != "Mandatory") return flags;
  if (symmetry == 0) return flags | kOrderAsymmetrical;
  if (symmetry == 1) {
    flags |= kOrderImpliesThen;
    if (first_task == "start" || first_task == "promote") flags |= kOrderRunnableLeft;
    return flags;
  }
  return flags | kOrderImpliesFirst;
}

std::string invert(const std::string& task) {
  if (task == "start") return "stop";
  if (task == "stop") return "start";
  if (task == "promote") return "demote";
  if (task == "demote") return "promote";
  return "";
}

// clone-min on the first clone (or the older require-all="false"): the dependent may start once
// that many instances can.
int minimum_first_instances(const Resource& first, pugi::xml_node con) {
  if (first.variant != Variant::Clone) return 0;
  auto it = first.meta.find("clone-min");
  if (it != first.meta.end()) return std::max(0, parse_score(it->second));
  if (con.attribute("require-all") && !is_true(attr(con, "require-all"))) return 1;
  return 0;
}

// A pseudo-action that becomes runnable once `minimum` of the firsts' actions are, ordered
// before every then.
void order_after_some(Working& w, const std::string& key, const std::vector<Resource*>& firsts,
                      const std::string& first_task, const std::vector<Resource*>& thens,
                      const std::string& then_task, std::uint32_t flags, int minimum) {
  int met = w.new_action(nullptr, key, -1);
  act(w, met).pseudo = true;
  act(w, met).optional = true;
  act(w, met).extra["required"] = std::to_string(minimum);
  act(w, met).why = "at least " + std::to_string(minimum) + " of its inputs can " + first_task;
  for (Resource* r : firsts) {
    auto found = actions_by_task(w, *r, first_task);
    if (found.empty()) {
      // An input that will not happen still counts, as unrunnable.
      int id = w.new_action(r, first_task, -1);
      settle_runnable(w, act(w, id));
      found.push_back(id);
    }
    for (int f : found) w.order(f, met, kOrderOneOrMore | kOrderImpliesThenPrinted);
  }
  for (Resource* r : thens) {
    for (int t : actions_by_task(w, *r, then_task)) w.order(met, t, flags | kOrderRunnableLeft);
  }
}

void order_after_minimum(Working& w, const std::string& id, Resource& first,
                         const std::string& first_task, Resource& then,
                         const std::string& then_task, std::uint32_t flags, int minimum) {
  order_after_some(w, "clone-one-or-more:" + id, first.children, first_task, {&then}, then_task,
                   flags, minimum);
}

// ---- resource sets in orderings (Pacemaker's unpack_order_set and order_rsc_sets) --------------

std::string ordering_kind(pugi::xml_node x, const std::string& parent) {
  if (x.attribute("kind")) {
    const std::string k = ascii_lower(attr(x, "kind"));
    return k == "optional" ? "Optional" : (k == "serialize" ? "Serialize" : "Mandatory");
  }
  if (x.attribute("score")) return parse_score(attr(x, "score")) == 0 ? "Optional" : "Mandatory";
  return parent;
}

// 0 asymmetric, 1 symmetric.
int ordering_symmetry(pugi::xml_node x, const std::string& parent_kind,
                      const char* parent_symmetrical) {
  std::string kind =
      (x.attribute("kind") || x.attribute("score")) ? ordering_kind(x, parent_kind) : parent_kind;
  const char* sym =
      x.attribute("symmetrical") ? x.attribute("symmetrical").value() : parent_symmetrical;
  if (sym != nullptr) return is_true(sym) && kind != "Serialize" ? 1 : 0;
  return kind == "Serialize" ? 0 : 1;
}

std::vector<Resource*> ordered_set_members(Working& w, pugi::xml_node set) {
  std::vector<Resource*> out;
  for (auto ref : set.children("resource_ref")) {
    auto members = w.resolve(attr(ref, "id"));
    out.insert(out.end(), members.begin(), members.end());
  }
  return out;
}

void order_within_set(Working& w, pugi::xml_node set, const std::string& parent_kind,
                      const char* parent_symmetrical) {
  std::string action = set.attribute("action") ? attr(set, "action") : "start";
  std::string kind = ordering_kind(set, parent_kind);
  bool sequential = !set.attribute("sequential") || is_true(attr(set, "sequential"));
  int symmetry = ordering_symmetry(set, parent_kind, parent_symmetrical);
  auto members = ordered_set_members(w, set);
  if (members.size() == 1) return;
  std::uint32_t flags = kind_flags(kind, action, symmetry);
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (kind == "Serialize") {
      for (std::size_t j = i + 1; j < members.size(); ++j)
        order_resources(w, members[i], action, members[j], action, flags);
    } else if (sequential && i > 0) {
      order_resources(w, members[i - 1], action, members[i], action, flags);
    }
  }
  if (symmetry == 0) return;
  std::string inverse = invert(action);
  if (inverse.empty()) return;
  flags = kind_flags(kind, inverse, 2);
  for (std::size_t i = 1; sequential && i < members.size(); ++i)
    order_resources(w, members[i], inverse, members[i - 1], inverse, flags);
}

// symmetry: 0 asymmetric, 1 symmetric, 2 the inverse half of a symmetric ordering.
void order_sets(Working& w, pugi::xml_node set1, pugi::xml_node set2, const std::string& kind,
                int symmetry) {
  bool inverse = symmetry == 2;
  std::string a1 = set1.attribute("action") ? attr(set1, "action") : "start";
  std::string a2 = set2.attribute("action") ? attr(set2, "action") : "start";
  if (inverse) {
    a1 = invert(a1);
    a2 = invert(a2);
  }
  bool require_all = !set1.attribute("require-all") || is_true(attr(set1, "require-all"));
  if (a1 == "stop" || a1 == "demote") require_all = true;
  std::uint32_t flags = kind_flags(kind, a2, symmetry);
  auto first = ordered_set_members(w, set1), second = ordered_set_members(w, set2);
  if (!require_all) {
    order_after_some(w, "one-or-more:" + attr(set1, "id"), first, a1, second, a2, flags, 1);
    return;
  }
  auto explicitly_sequential = [](pugi::xml_node set) {
    return set.attribute("sequential") && is_true(attr(set, "sequential"));
  };
  std::vector<Resource*> firsts = first, thens = second;
  if (explicitly_sequential(set1) && !first.empty())
    firsts = {inverse ? first.front() : first.back()};
  if (explicitly_sequential(set2) && !second.empty())
    thens = {inverse ? second.back() : second.front()};
  for (Resource* f : firsts) {
    for (Resource* t : thens) order_resources(w, f, a1, t, a2, flags);
  }
}

void order_with_sets(Working& w, pugi::xml_node con) {
  std::string kind = ordering_kind(con, "Mandatory");
  const char* symmetrical =
      con.attribute("symmetrical") ? con.attribute("symmetrical").value() : nullptr;
  int symmetry = ordering_symmetry(con, kind, nullptr);
  pugi::xml_node last;
  for (auto set_ref : con.children("resource_set")) {
    auto set = resolve_ref(set_ref);
    order_within_set(w, set, kind, symmetrical);
    if (last) {
      order_sets(w, last, set, kind, symmetry);
      if (symmetry == 1) order_sets(w, set, last, kind, 2);
    }
    last = set;
  }
}

void constraint_orderings(Working& w, pugi::xml_node constraints) {
  for (auto con : constraints.children("rsc_order")) {
    if (con.child("resource_set")) {
      order_with_sets(w, con);
      continue;
    }
    Resource* first = w.find(attr(con, "first"));
    Resource* then = w.find(attr(con, "then"));
    if (!first || !then) continue;
    std::string first_task = con.attribute("first-action") ? attr(con, "first-action") : "start";
    std::string then_task = con.attribute("then-action") ? attr(con, "then-action") : first_task;
    std::string kind = "Mandatory";
    if (con.attribute("kind")) {
      const std::string k = ascii_lower(attr(con, "kind"));
      // An unknown kind is Mandatory, as Pacemaker resets it.
      kind = k == "optional" ? "Optional" : (k == "serialize" ? "Serialize" : "Mandatory");
    } else if (con.attribute("score") && parse_score(attr(con, "score")) == 0) {
      kind = "Optional";
    }
    int symmetry = kind == "Serialize" ? 0 : 1;
    if (con.attribute("symmetrical"))
      symmetry = is_true(attr(con, "symmetrical")) && kind != "Serialize" ? 1 : 0;
    int minimum = minimum_first_instances(*first, con);
    if (minimum > 0) {
      order_after_minimum(w, attr(con, "id"), *first, first_task, *then, then_task,
                          kind_flags(kind, first_task, symmetry), minimum);
    } else {
      order_resources(w, first, first_task, then, then_task,
                      kind_flags(kind, first_task, symmetry));
    }
    if (symmetry == 1) {
      std::string ift = invert(first_task), itt = invert(then_task);
      if (!ift.empty() && !itt.empty()) {
        order_resources(w, then, itt, first, ift, kind_flags(kind, ift, 2));
      }
    }
  }
}

// ---- flag propagation (Pacemaker's pcmk__update_action_for_orderings) --------------------------

struct Flags {
  bool optional = true, runnable = true;
};

void clear_because(Working& w, Action& a, bool Flags::*flag, const Action& because) {
  bool& field = flag == &Flags::optional ? a.optional : a.runnable;
  if (!field) return;
  field = false;
  if (a.rsc != because.rsc && a.reason.empty()) {
    std::string verb = flag == &Flags::optional ? "required" : "unrunnable";
    a.reason = verb + (because.rsc ? " " + because.rsc->id : std::string()) + " " + because.task;
  }
  (void)w;
}

// Pacemaker clears pe_action_migrate_runnable giving the newest cause: a plain stop or start
// happens because of it.
void clear_migratable_because(Action& a, const Action& because) {
  if (!a.migratable) return;
  a.migratable = false;
  if (a.rsc != because.rsc)
    a.reason = "unrunnable" + (because.rsc ? " " + because.rsc->id : std::string()) + " " + because.task;
}

// The action of a clone's instance that a clone pseudo-action stands for.
int instance_action(Working& w, Resource& inst, const std::string& task) {
  std::string t = member_task_of(inst, task);
  for (int c : inst.actions) {
    const Action& ca = act(w, c);
    if (ca.task == t && ca.interval_ms == 0 && !ca.probe) return c;
  }
  return -1;
}

Flags clone_action_flags(Working& w, Action& a) {
  Flags f{a.optional, a.runnable};
  bool any_runnable = false, any = false;
  for (Resource* inst : a.rsc->children) {
    int id = instance_action(w, *inst, a.task);
    if (id < 0) continue;
    any = true;
    if (f.optional && !act(w, id).optional) {
      f.optional = false;
      a.optional = false;
    }
    if (act(w, id).runnable) any_runnable = true;
  }
  bool starts = a.task == "start" || a.task == "promote";
  if (starts && any && !any_runnable && f.runnable) {
    f.runnable = false;
    a.runnable = false;
  }
  return f;
}

Flags action_flags(Working& w, Action& a) {
  Flags f{a.optional, a.runnable};
  if (a.rsc != nullptr && a.rsc->variant == Variant::Clone) return clone_action_flags(w, a);
  if (a.rsc == nullptr || a.rsc->variant != Variant::Group) return f;
  std::string task = member_task(a.task);
  for (Resource* m : a.rsc->children) {
    int id = -1;
    for (int c : m->actions) {
      if (act(w, c).task == task && act(w, c).interval_ms == 0 && !act(w, c).probe) {
        id = c;
        break;
      }
    }
    if (id >= 0) {
      if (f.optional && !act(w, id).optional) {
        f.optional = false;
        a.optional = false;
      }
      if (task != a.task && f.runnable && !act(w, id).runnable) {
        f.runnable = false;
        a.runnable = false;
      }
    } else if (task != "stop" && task != "demote") {
      f.runnable = false;
    }
  }
  return f;
}

// A clone's action as seen by an action on one node (Pacemaker's action_flags_for_ordering):
// optional unless an instance's action on that node is mandatory; runnable if the clone's
// action is, or an instance's action there is.
Flags clone_flags_on(Working& w, const Action& a, int node, Flags aggregate) {
  Flags f{true, false};
  for (Resource* inst : a.rsc->children) {
    if (inst->variant == Variant::Group) {
      std::string task = member_task(a.task);
      for (Resource* m : inst->children) {
        for (int id : m->actions) {
          const Action& ma = act(w, id);
          if (ma.task != task || ma.node != node || ma.interval_ms != 0 || ma.probe) continue;
          if (!ma.optional) f.optional = false;
          if (ma.runnable) f.runnable = true;
        }
      }
      continue;
    }
    std::string task = member_task(a.task);
    for (int id : inst->actions) {
      const Action& ia = act(w, id);
      if (ia.task != task || ia.node != node || ia.interval_ms != 0 || ia.probe) continue;
      if (!ia.optional) f.optional = false;
      if (ia.runnable) f.runnable = true;
    }
  }
  f.runnable = f.runnable || aggregate.runnable;
  return f;
}

void restart_ordering(Working& w, Action& first, Action& then, bool filter_optional,
                      bool filter_runnable) {
  bool reason = false;
  if (filter_optional && !then.optional) reason = true;
  if (filter_runnable && !then.runnable && then.rsc->managed && first.rsc == then.rsc)
    reason = true;
  if (!reason) return;
  if (first.runnable) clear_because(w, first, &Flags::optional, then);
  if (!then.optional) clear_because(w, first, &Flags::optional, then);
  if (!then.migratable) clear_migratable_because(first, then);
  if (!first.optional && !first.runnable) clear_because(w, then, &Flags::runnable, first);
}

void asymmetric_ordering(Working& w, Action& first, Action& then) {
  if (then.rsc == nullptr) return;
  Role then_role = then.rsc->role;
  if (then_role == Role::Stopped && then.task == "stop") return;
  if (then_role >= Role::Started && then.optional && then.node >= 0 &&
      then.rsc->running_on.size() == 1 && then.node == then.rsc->running_on[0] &&
      then.task == "start") {
    return;
  }
  if (!first.runnable) {
    clear_because(w, then, &Flags::optional, first);
    clear_because(w, then, &Flags::runnable, first);
  }
}

void update_ordered(Working& w, Action& first, Action& then, Flags flags, bool filter_optional,
                    bool filter_runnable, std::uint32_t type) {
  if (type & kOrderAsymmetrical) asymmetric_ordering(w, first, then);
  if ((type & kOrderImpliesFirst) && !then.optional) {
    if (filter_optional && !flags.optional && first.optional)
      clear_because(w, first, &Flags::optional, then);
    if (first.migratable && !then.migratable) clear_migratable_because(first, then);
  }
  if ((type & kOrderPromotedImpliesFirst) && then.rsc && then.rsc->role == Role::Promoted &&
      filter_optional && !then.optional) {
    clear_because(w, first, &Flags::optional, then);
    if (first.migratable && !then.migratable) clear_migratable_because(first, then);
  }
  if ((type & kOrderImpliesFirstMigratable) && filter_optional) {
    if (!then.migratable || !then.runnable) clear_because(w, first, &Flags::runnable, then);
    if (!then.optional) clear_because(w, first, &Flags::optional, then);
  }
  if ((type & kOrderPseudoLeft) && filter_optional && !first.runnable) {
    clear_migratable_because(then, first);
    then.pseudo = false;
  }
  if ((type & kOrderRunnableLeft) && filter_runnable && then.runnable && !flags.runnable) {
    clear_because(w, then, &Flags::runnable, first);
    clear_migratable_because(then, first);
  }
  if ((type & kOrderImpliesThen) && filter_optional && then.optional && !flags.optional &&
      !first.migratable) {
    clear_because(w, then, &Flags::optional, first);
  }
  if ((type & kOrderRestart) && first.rsc && then.rsc && first.rsc->variant == Variant::Primitive &&
      then.rsc->variant == Variant::Primitive) {
    restart_ordering(w, first, then, filter_optional, filter_runnable);
  }
}

void update_then(Working& w, Action& first, Action& then, Flags flags, bool fo, bool fr,
                 std::uint32_t type) {
  update_ordered(w, first, then, flags, fo, fr, type);
  if (then.rsc && then.rsc->variant == Variant::Clone) {
    for (Resource* inst : then.rsc->children) {
      int id = -1;
      for (int c : inst->actions) {
        const Action& ca = act(w, c);
        if (ca.task == then.task && ca.interval_ms == 0 && !ca.probe) {
          id = c;
          break;
        }
      }
      if (id >= 0 && act(w, id).runnable) update_then(w, first, act(w, id), flags, fo, fr, type);
    }
    return;
  }
  if (then.rsc && then.rsc->variant == Variant::Group) {
    for (Resource* m : then.rsc->children) {
      for (int id : m->actions) {
        Action& ma = act(w, id);
        if (ma.task == then.task && ma.interval_ms == 0 && !ma.probe) {
          update_ordered(w, first, ma, flags, fo, fr, type);
          break;
        }
      }
    }
  }
}

// A pseudo-action that needs only some of its inputs: runnable while enough of them are.
void apply_one_or_more(Working& w, const Ordering& o) {
  Action& then = act(w, o.then);
  if (!then.runnable) return;
  int needed = std::atoi(then.extra["required"].c_str()), runnable = 0;
  for (const Ordering& other : w.orderings) {
    if (other.then == o.then && (other.flags & kOrderOneOrMore) && act(w, other.first).runnable)
      ++runnable;
  }
  if (runnable < needed) then.runnable = false;
  if (!act(w, o.first).optional) then.optional = false;
}

void apply_ordering(Working& w, const Ordering& o) {
  if (o.flags & kOrderInterleaved) return;
  if (o.flags & kOrderOneOrMore) {
    apply_one_or_more(w, o);
    return;
  }
  Action& first = act(w, o.first);
  Action& then = act(w, o.then);
  Flags ff = action_flags(w, first);
  if (first.rsc && first.rsc->variant == Variant::Clone && then.node >= 0)
    ff = clone_flags_on(w, first, then.node, ff);
  (void)action_flags(w, then);
  std::uint32_t type = o.flags;
  if (type & kOrderImpliesThen) {
    if (then.rsc) {
      update_then(w, first, then, Flags{ff.optional, true}, true, false, kOrderImpliesThen);
    } else if (!ff.optional && then.optional) {
      then.optional = false;
    }
  }
  if ((type & kOrderRestart) && then.rsc)
    update_then(w, first, then, ff, true, true, kOrderRestart);
  if (type & kOrderImpliesFirst) {
    if (first.rsc) {
      update_ordered(w, first, then, ff, true, false, kOrderImpliesFirst);
    } else if (!ff.optional && first.runnable) {
      first.runnable = false;
    }
  }
  if ((type & kOrderPromotedImpliesFirst) && then.rsc) {
    update_then(w, first, then, Flags{ff.optional, true}, true, false, kOrderPromotedImpliesFirst);
  }
  if (type & kOrderRunnableLeft) {
    if (then.rsc) {
      update_then(w, first, then, ff, false, true, kOrderRunnableLeft);
    } else if (!ff.runnable && then.runnable) {
      then.runnable = false;
    }
  }
  if ((type & kOrderAsymmetrical) && then.rsc)
    update_then(w, first, then, ff, false, true, kOrderAsymmetrical);
  for (const std::uint32_t migration : {kOrderImpliesFirstMigratable, kOrderPseudoLeft}) {
    if ((type & migration) && then.rsc) update_then(w, first, then, ff, true, false, migration);
  }
  // An unmanaged, blocked resource that cannot stop holds back whatever must follow its stop.
  if ((type & (kOrderImpliesThen | kOrderImpliesFirst | kOrderRestart)) && first.rsc &&
      !first.rsc->managed && first.rsc->blocked && !first.runnable && first.task == "stop" &&
      then.runnable) {
    then.runnable = false;
  }
}

// The actions one ordering can change: its two ends and, for a group's pseudo-action, the
// members' actions of the same kind.
void touched_by(Working& w, int id, std::vector<int>& out) {
  out.push_back(id);
  const Action& a = act(w, id);
  if (a.rsc != nullptr && a.rsc->variant == Variant::Clone) {
    for (Resource* inst : a.rsc->children) {
      int c = instance_action(w, *inst, a.task);
      if (c >= 0) touched_by(w, c, out);
      for (int x : inst->actions) {
        if (x != c && act(w, x).task == a.task && act(w, x).interval_ms == 0 && !act(w, x).probe)
          touched_by(w, x, out);
      }
    }
    return;
  }
  if (a.rsc == nullptr || a.rsc->variant != Variant::Group) return;
  std::string task = member_task(a.task);
  for (Resource* m : a.rsc->children) {
    for (int c : m->actions) {
      const Action& ma = act(w, c);
      if ((ma.task == task || ma.task == a.task) && ma.interval_ms == 0 && !ma.probe)
        out.push_back(c);
    }
  }
}

// The orderings touching each action (those whose ends touched_by gives it), in the orderings'
// order: action a's are orderings[from[a] .. from[a + 1]) of `by_action`. Flat arrays rather than
// a vector per action: some 50 000 actions in a steady cluster of 10 000 resources, each list a
// few entries and an allocation of its own.
struct Touching {
  std::vector<int> from, by_action;
  const int* begin(int action) const {
    return by_action.data() + from[static_cast<std::size_t>(action)];
  }
  const int* end(int action) const {
    return by_action.data() + from[static_cast<std::size_t>(action) + 1];
  }
};

// Two passes over the orderings, counting and then filling: the (action, ordering) pairs of a
// single pass, some 750 000 at 32 nodes and 10 000 resources (12 MiB with a vector's room to
// spare), took three times the memory of the lists they make.
Touching touching_orderings(Working& w) {
  std::vector<int> ends;
  auto each_pair = [&w, &ends](auto&& take) {
    for (std::size_t i = 0; i < w.orderings.size(); ++i) {
      ends.clear();
      touched_by(w, w.orderings[i].first, ends);
      touched_by(w, w.orderings[i].then, ends);
      for (int e : ends) take(static_cast<std::size_t>(e), static_cast<int>(i));
    }
  };
  Touching t;
  t.from.assign(w.actions.size() + 1, 0);
  each_pair([&t](std::size_t action, int) { ++t.from[action + 1]; });
  for (std::size_t a = 1; a < t.from.size(); ++a) t.from[a] += t.from[a - 1];
  t.by_action.resize(static_cast<std::size_t>(t.from.back()));
  std::vector<int> next(t.from.begin(), t.from.end() - 1);
  each_pair([&t, &next](std::size_t action, int ordering) {
    t.by_action[static_cast<std::size_t>(next[action]++)] = ordering;
  });
  return t;
}

void propagate(Working& w) {
  // Orderings touching each action, and the group pseudo-actions whose flags follow it.
  const Touching touching = touching_orderings(w);
  // Every change only clears a flag, so the worklist empties; each ordering is re-applied only
  // when one of the actions it reads has changed.
  std::vector<int> queue;
  std::vector<char> queued(w.orderings.size(), 1);
  for (std::size_t i = w.orderings.size(); i > 0; --i) queue.push_back(static_cast<int>(i - 1));
  std::vector<int> ends;
  std::vector<std::array<bool, 4>> before;
  while (!queue.empty()) {
    int o = queue.back();
    queue.pop_back();
    queued[static_cast<std::size_t>(o)] = 0;
    const Ordering& ord = w.orderings[static_cast<std::size_t>(o)];
    ends.clear();
    touched_by(w, ord.first, ends);
    touched_by(w, ord.then, ends);
    before.clear();
    auto flags_of = [](const Action& a) {
      return std::array<bool, 4>{a.optional, a.runnable, a.migratable, a.pseudo};
    };
    for (int e : ends) before.push_back(flags_of(act(w, e)));
    apply_ordering(w, ord);
    for (std::size_t k = 0; k < ends.size(); ++k) {
      const Action& a = act(w, ends[k]);
      if (before[k] == flags_of(a)) continue;
      std::vector<int> affected = {ends[k]};
      // A member's change can change its group's pseudo-actions.
      for (Resource* p = a.rsc ? a.rsc->parent : nullptr; p != nullptr; p = p->parent) {
        for (int g : p->actions) affected.push_back(g);
      }
      for (int x : affected) {
        for (const int* t_at = touching.begin(x); t_at != touching.end(x); ++t_at) {
          const int t = *t_at;
          if (!queued[static_cast<std::size_t>(t)]) {
            queued[static_cast<std::size_t>(t)] = 1;
            queue.push_back(t);
          }
        }
      }
    }
  }
}

void clear_failcounts_of_orphans(Working& w) {
  if (!w.stop_orphans) return;
  for (const auto& owned : w.all) {
    Resource& r = *owned;
    if (!r.orphan) continue;
    for (std::size_t n = 0; n < w.nodes.size(); ++n) {
      if (!w.nodes[n].online || fail_count(w, r, w.nodes[n], true) == 0) continue;
      int id = rsc_action(w, r, "clear_failcount", static_cast<int>(n), false);
      explain(w, id, r.id + " is orphaned");
    }
  }
}

}  // namespace

// ---- remote nodes (Pacemaker's pcmk_sched_remote.c) -------------------------------------------

void order_after_connection_start(Working& w, Resource& connection, int then, std::uint32_t flags) {
  for (int f : first_actions(w, &connection, "start"))
    w.order(f, then, kOrderRunnableLeft | kOrderPreserve | flags);
}

void order_before_connection_stop(Working& w, int first, Resource& connection,
                                  std::uint32_t flags) {
  for (int t : actions_by_task(w, connection, "stop")) w.order(first, t, kOrderPreserve | flags);
}

// An action on a remote node runs through its connection: after the connection starts, before it
// stops; when the connection cannot be recovered, what runs there can only be ended by fencing.
void order_remote_action(Working& w, int id) {
  const int node = act(w, id).node;
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  Resource& c = *n.connection;
  const Connection state = connection_state(w, n);
  std::string task = act(w, id).task;
  if (task == "migrate_to" || task == "migrate_from") task = "stop";
  if (task == "start" || task == "promote") {
    order_after_connection_start(w, c, id, state == Connection::Failed ? kOrderImpliesThen : kOrderNone);
  } else if (task == "stop") {
    if (state == Connection::Failed) {
      w.fence_node(node, "resources are active but connection is unrecoverable");
    } else if (state == Connection::Alive || c.next_role == Role::Stopped) {
      order_before_connection_stop(w, id, c, kOrderImpliesFirst);
    } else {
      order_after_connection_start(w, c, id, 0);
    }
  } else if (task == "demote") {
    if (state == Connection::Resting || state == Connection::Unknown)
      order_after_connection_start(w, c, id, 0);
  } else if (act(w, id).interval_ms > 0) {
    order_after_connection_start(w, c, id, kOrderImpliesThen);
  } else {
    if (task == "monitor" && state == Connection::Failed)
      w.fence_node(node, "resources are in unknown state and connection is unrecoverable");
    if (current_node_of(w, c) >= 0 && state == Connection::Stopped) {
      order_before_connection_stop(w, id, c, kOrderRunnableLeft);
    } else {
      order_after_connection_start(w, c, id, 0);
    }
  }
}

// An action on a guest node waits for its container as well as for its connection; when the
// container fails, the guest's stops and demotes are implied by the container's stop.
void order_guest_action(Working& w, int id, Resource& container) {
  const int node = act(w, id).node;
  Resource& c = *w.nodes[static_cast<std::size_t>(node)].connection;
  if (container.failed) w.fence_node(node, "container failed");
  std::string task = act(w, id).task;
  if (task == "migrate_to" || task == "migrate_from") task = "stop";
  if (task == "start" || task == "promote") {
    order_after_connection_start(w, container, id, kOrderImpliesThen);
    order_after_connection_start(w, c, id, kOrderNone);
  } else if (task == "stop" || task == "demote") {
    if (!container.failed) order_before_connection_stop(w, id, c, kOrderNone);
  } else {
    order_after_connection_start(w, c, id, act(w, id).interval_ms > 0 ? kOrderImpliesThen : kOrderNone);
  }
}

// Newest action first, as Pacemaker walks its action list: which one fences a node first decides
// the reason the fencing gives.
void order_remote_actions(Working& w) {
  for (std::size_t i = w.actions.size(); i-- > 0;) {
    const Action& a = w.actions[i];
    if (a.rsc == nullptr || a.node < 0 || a.pseudo) continue;
    const Node& n = w.nodes[static_cast<std::size_t>(a.node)];
    if (!n.remote || n.connection == nullptr) continue;
    if (Resource* container = w.guest_container(n)) {
      order_guest_action(w, static_cast<int>(i), *container);
    } else {
      order_remote_action(w, static_cast<int>(i));
    }
  }
}

Planned create_actions(Placed in) {
  Working& w = in.w;
  create_load_stopped(w);  // Pacemaker makes them with the internal constraints, before probes
  schedule_probes(w);
  clear_failcounts_of_orphans(w);
  for (Resource* r : w.top) {
    if (r->is_bundle) {
      create_bundle_actions(w, *r);
    } else if (r->variant == Variant::Group) {
      create_group_actions(w, *r);
    } else if (r->variant == Variant::Clone) {
      create_clone_actions(w, *r);
    } else {
      create_primitive_actions(w, *r);
    }
  }
  for (const auto& r : w.all) {
    if (r->variant != Variant::Primitive) continue;
    create_recurring(w, *r);
    create_migration(w, *r);
  }
  // Before fencing is scheduled: an unrecoverable connection is one more reason to fence.
  if (w.have_remote_nodes()) order_remote_actions(w);
  schedule_fencing_and_shutdowns(w);
  return Planned{std::move(in.w)};
}

// A deferred ordering; from "monitor", it starts from the probe on the node `first` is placed on.
void order_later(Working& w, const ResourceOrder& o) {
  if (o.first_task != "monitor") {
    order_resources(w, o.first, o.first_task, o.then, o.then_task, o.flags);
    return;
  }
  for (int p : o.first->actions) {
    if (!act(w, p).probe || act(w, p).node != o.first->assigned_to) continue;
    for (int t : actions_by_task(w, *o.then, o.then_task)) w.order(p, t, o.flags);
  }
}

// Pacemaker's ordering_is_invalid: no ordering but the cluster's own may make a guest's
// container wait for what runs in that guest (it could only end in a loop through the guest's
// fencing).
void drop_guest_container_orderings(Working& w) {
  std::erase_if(w.orderings, [&w](const Ordering& o) {
    const Action& first = act(w, o.first);
    const Action& then = act(w, o.then);
    if ((o.flags & kOrderPreserve) || first.rsc == nullptr || then.rsc == nullptr ||
        first.node < 0)
      return false;
    return w.guest_container(w.nodes[static_cast<std::size_t>(first.node)]) == then.rsc;
  });
}

Ordered order_actions(Planned in) {
  Working& w = in.w;
  for (Resource* r : w.top) internal_orderings(w, *r);
  order_probes(w);
  constraint_orderings(w, constraints_of(w));
  for (const ResourceOrder& o : w.later) order_later(w, o);
  order_load_stopped(w);
  settle_interleaved(w);
  if (w.have_remote_nodes()) drop_guest_container_orderings(w);
  propagate(w);
  create_notifications(w);
  return Ordered{std::move(in.w)};
}

}  // namespace vigil::scheduler
