// Stages 2 and 3: node scores for every resource (location constraints, stickiness, failure
// thresholds), then placement with colocations, the way Pacemaker assigns resources to nodes.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/ascii.h"
#include "scheduler/containers.h"
#include "scheduler/rules.h"
#include "scheduler/stages.h"
#include "scheduler/utilization.h"

namespace vigil::scheduler {

namespace {

// A node's own weight: nodes that are down or shutting down are out of contention — but for a
// remote node, which comes up when its connection is placed.
int base_weight(const Node& n) {
  if (n.remote && n.connection != nullptr && !n.shutdown) return 0;
  return (!n.online || n.shutdown) ? -kInfinity : 0;
}

void add_score(Resource& r, std::size_t node, int score, const Reason& why, const Working& w) {
  int& s = r.scores[node];
  if (s == kAbsent) s = base_weight(w.nodes[node]);
  const bool banned = s <= -kInfinity;
  s = add_scores(s, score);
  // Once -INFINITY, what made it so stays the reason: a ban is not explained by the stickiness
  // added after it.
  if (!banned || score <= -kInfinity) r.score_why[node] = why;
}

void add_score_tree(Resource& r, std::size_t node, int score, const Reason& why,
                    const Working& w) {
  add_score(r, node, score, why, w);
  for (Resource* c : r.children) add_score_tree(*c, node, score, why, w);
}

bool promoted_role(const std::string& role) {
  return role == "Promoted" || role == "Master";
}

// A location for the promoted role counts toward an instance's promotion priority on that node.
void record_promoted_location(Working& w, Resource* r, pugi::xml_node con) {
  if (con.attribute("node")) {
    int n = w.node_index(attr(con, "node"));
    if (n >= 0) w.promoted_locations.push_back({r, n, parse_score(attr(con, "score"))});
    return;
  }
  for (auto rule_ref : con.children("rule")) {
    auto rule = resolve_ref(rule_ref);
    int score = parse_score(attr(rule, "score"));
    std::string score_attr = attr(rule, "score-attribute");
    for (std::size_t i = 0; i < w.nodes.size(); ++i) {
      RuleContext ctx{&w.nodes[i].attrs, w.now};
      if (!rule_matches(rule, ctx)) continue;
      int s = score;
      if (!score_attr.empty()) {
        auto it = w.nodes[i].attrs.find(score_attr);
        if (it == w.nodes[i].attrs.end()) continue;
        s = parse_score(it->second);
      }
      w.promoted_locations.push_back({r, static_cast<int>(i), s});
    }
  }
}

std::vector<std::size_t> apply_location_to(Working& w, Resource* r, pugi::xml_node con,
                                           const std::string& role);

// resource-discovery=exclusive: per resource, the nodes such a constraint reaches. The resource
// (and what it contains) may run on those alone.
using ExclusiveNodes = std::map<Resource*, std::set<std::size_t>>;

// A location constraint names one resource, a tag or template, or sets of them.
void apply_location(Working& w, pugi::xml_node con, ExclusiveNodes& exclusive) {
  const bool exclusive_discovery = attr(con, "resource-discovery") == "exclusive";
  const std::string rule_role = con.child("rule") ? attr(resolve_ref(con.child("rule")), "role") : "";
  auto apply = [&](Resource* r, const std::string& role) {
    auto reached = apply_location_to(w, r, con, role);
    // A constraint for one role only limits where that role runs, not discovery.
    bool any_role = (role.empty() || role == "Started") && (rule_role.empty() || rule_role == "Started");
    if (exclusive_discovery && any_role) exclusive[r].insert(reached.begin(), reached.end());
  };
  for (Resource* r : w.resolve(attr(con, "rsc"))) apply(r, attr(con, "role"));
  for (auto set_ref : con.children("resource_set")) {
    auto set = resolve_ref(set_ref);
    std::string role = set.attribute("role") ? attr(set, "role") : attr(con, "role");
    for (auto ref : set.children("resource_ref")) {
      for (Resource* r : w.resolve(attr(ref, "id"))) apply(r, role);
    }
  }
}

// A #health-* attribute's score: a colour's, or a number.
int health_score(const Working& w, const std::string& value) {
  const std::string v = ascii_lower(value);
  if (v == "red") return w.health_red;
  if (v == "yellow") return w.health_yellow;
  if (v == "green") return w.health_green;
  return parse_score(value);
}

// Pacemaker's pcmk__apply_node_health: a node's health (the sum of its #health-* attributes)
// weighs on every resource there like a location constraint; a negative one spares resources
// with allow-unhealthy-nodes=true.
void apply_node_health(Working& w) {
  if (w.health_strategy.empty() || w.health_strategy == "none") return;
  for (std::size_t n = 0; n < w.nodes.size(); ++n) {
    int health = w.health_base;
    for (auto it = w.nodes[n].attrs.lower_bound("#health"); it != w.nodes[n].attrs.end(); ++it) {
      if (!it->first.starts_with("#health")) break;
      health = add_scores(health, health_score(w, it->second));
    }
    if (health == 0) continue;
    for (Resource* r : w.top) {
      auto allow = r->meta.find("allow-unhealthy-nodes");
      if (health < 0 && allow != r->meta.end() && is_true(allow->second)) continue;
      add_score_tree(*r, n, health, "node health (" + w.health_strategy + ")", w);
    }
  }
}

void ban_undiscovered(Resource& r, const std::set<std::size_t>& nodes) {
  for (Resource* c : r.children) ban_undiscovered(*c, nodes);
  for (std::size_t i = 0; i < r.scores.size(); ++i) {
    if (r.scores[i] == kAbsent || nodes.count(i)) continue;
    r.scores[i] = -kInfinity;
    r.score_why[i] = "resource-discovery=exclusive elsewhere";
  }
}

// Returns the nodes the constraint reached (a rule's only where it matched).
std::vector<std::size_t> apply_location_to(Working& w, Resource* r, pugi::xml_node con,
                                           const std::string& role) {
  std::vector<std::size_t> reached;
  // Role-specific locations (Promoted, Unpromoted) concern promotable clones; Started is any role.
  auto any_role = [](const std::string& role) { return role.empty() || role == "Started"; };
  std::string rule_role = con.child("rule") ? attr(resolve_ref(con.child("rule")), "role") : "";
  if (promoted_role(role) || promoted_role(rule_role)) {
    // A bundle's role constraints are its bundled clone's.
    Resource* target = r->is_bundle && r->bundled ? r->bundled : r;
    if (target->variant == Variant::Clone && target->promotable)
      record_promoted_location(w, target, con);
    return reached;
  }
  if (!any_role(role)) return reached;
  std::string id = attr(con, "id");
  if (con.attribute("node")) {
    int n = w.node_index(attr(con, "node"));
    if (n < 0) return reached;
    add_score_tree(*r, static_cast<std::size_t>(n), parse_score(attr(con, "score")),
                   "location " + id, w);
    reached.push_back(static_cast<std::size_t>(n));
    return reached;
  }
  for (auto rule_ref : con.children("rule")) {
    auto rule = resolve_ref(rule_ref);
    if (!any_role(attr(rule, "role"))) continue;
    std::string score_attr = attr(rule, "score-attribute");
    int score = parse_score(attr(rule, "score"));
    for (std::size_t i = 0; i < w.nodes.size(); ++i) {
      RuleContext ctx{&w.nodes[i].attrs, w.now};
      if (!rule_matches(rule, ctx)) continue;
      int s = score;
      if (!score_attr.empty()) {
        auto it = w.nodes[i].attrs.find(score_attr);
        if (it == w.nodes[i].attrs.end()) continue;
        s = parse_score(it->second);
      }
      add_score_tree(*r, i, s, "location " + id + " rule " + attr(rule, "id"), w);
      reached.push_back(i);
    }
  }
  return reached;
}

void initial_scores(Working& w) {
  const Reason symmetric("symmetric cluster");
  for (auto& r : w.all) {
    for (std::size_t i = 0; i < w.nodes.size(); ++i) {
      int& s = r->scores[i];
      if (s == kAbsent) {
        if (w.symmetric && !r->orphan) {
          s = base_weight(w.nodes[i]);
          r->score_why[i] = symmetric;
        }
      } else {
        // A ban recorded while reading history, on top of the node's own weight.
        s = add_scores(w.symmetric ? base_weight(w.nodes[i]) : base_weight(w.nodes[i]), s);
      }
    }
  }
}

void apply_stickiness(Working& w, Resource& r) {
  for (Resource* c : r.children) apply_stickiness(w, *c);
  if (r.variant != Variant::Primitive) return;
  if (!r.managed || r.stickiness < 1 || r.running_on.size() != 1) return;
  auto node = static_cast<std::size_t>(r.running_on[0]);
  if (!w.symmetric && r.scores[node] == kAbsent) return;
  add_score(r, node, r.stickiness, "resource-stickiness", w);
}

bool clear_failcount_scheduled(const Working& w, const Resource& r, int node) {
  return w.find_action(&r, "clear_failcount", node) >= 0;
}

// The resources that run inside each container (Pacemaker's fillers).
using Fillers = std::unordered_map<const Resource*, std::vector<const Resource*>>;

Fillers fillers_of(const Working& w) {
  Fillers out;
  for (const auto& r : w.all) {
    if (const Resource* c = container_of(w, *r)) out[c].push_back(r.get());
  }
  return out;
}

// Pacemaker's pcmk__threshold_reached: a container's failures include those of what runs inside
// it (not a bundle's container, whose connection may fail on another node).
void apply_failure_threshold(Working& w, Resource& r, const Fillers& fillers) {
  for (Resource* c : r.children) apply_failure_threshold(w, *c, fillers);
  if (r.variant != Variant::Primitive || r.migration_threshold == 0 || r.failure_ignored) return;
  const auto inside = fillers.find(&r);
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (clear_failcount_scheduled(w, r, static_cast<int>(i))) continue;
    int fc = fail_count(w, r, w.nodes[i], true);
    const bool bundled = r.bundle != nullptr || (r.parent != nullptr && r.parent->is_bundle);
    if (inside != fillers.end() && !bundled) {
      for (const Resource* f : inside->second) fc = add_scores(fc, fail_count(w, *f, w.nodes[i], true));
    }
    if (fc > 0 && r.migration_threshold - fc <= 0) {
      add_score(r, i, -kInfinity,
                "fail-count " + std::to_string(fc) + " reached migration-threshold " +
                    std::to_string(r.migration_threshold),
                w);
    }
  }
}

Role parse_role(std::string_view v) {
  if (v == "Started") return Role::Started;
  if (v == "Stopped") return Role::Stopped;
  if (v == "Master" || v == "Promoted") return Role::Promoted;
  if (v == "Slave" || v == "Unpromoted") return Role::Unpromoted;
  return Role::Unknown;
}

void add_colocation(Working& w, std::string id, Resource* dependent, Resource* primary, int score,
                    Role dep_role, Role prim_role, std::string node_attr, bool influence) {
  if (score == 0 || dependent == nullptr || primary == nullptr || dependent == primary) return;
  auto c = std::make_unique<Colocation>();
  c->id = std::move(id);
  c->dependent = dependent;
  c->primary = primary;
  c->score = score;
  c->dependent_role = dep_role;
  c->primary_role = prim_role;
  if (!node_attr.empty()) c->node_attribute = std::move(node_attr);
  c->influence = influence;
  dependent->this_with.push_back(c.get());
  primary->with_this.push_back(c.get());
  w.colocations.push_back(std::move(c));
}

bool critical(const Resource& r) {
  auto it = r.meta.find("critical");
  return it == r.meta.end() || is_true(it->second);
}

void read_colocations(Working& w) {
  // Groups colocate each member with the one before it.
  for (const auto& owned : w.all) {
    Resource* g = owned.get();
    if (g->variant != Variant::Group || !g->colocated) continue;
    for (std::size_t i = 1; i < g->children.size(); ++i) {
      add_colocation(w, "group:internal_colocation", g->children[i], g->children[i - 1], kInfinity,
                     Role::Unknown, Role::Unknown, "", critical(*g->children[i]));
    }
  }
  for (const auto& owned : w.all) {
    // A bundle's connection may run elsewhere than its container (a container on a remote
    // node is reached from that node's own connection host): highly preferred, not required.
    const int score = owned->bundle && owned->remote_connection ? 10000 : kInfinity;
    if (Resource* c = container_of(w, *owned))
      add_colocation(w, "resource-with-container", owned.get(), c, score, Role::Unknown,
                     Role::Unknown, "", true);
  }
  // A bundle replica's address goes where its container goes.
  for (Resource* b : w.top) {
    for (std::size_t n = 0; b->is_bundle && n < b->replica_ips.size(); ++n) {
      if (Resource* ip = b->replica_ips[n])
        add_colocation(w, "ip-with-docker", ip, b->children[n], kInfinity, Role::Unknown,
                       Role::Unknown, "", true);
    }
  }
}

// Pacemaker's bundle nodes: nothing but its replica's instance of the bundled resource may run
// on a replica's guest node, and that instance nowhere else (the clone of those instances only
// on the bundle's nodes).
void keep_to_bundle_nodes(Working& w) {
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    Resource* own = w.nodes[i].bundle_instance;
    if (own == nullptr) continue;
    for (const auto& r : w.all) {
      if (r.get() == own || r.get() == own->parent || r->scores[i] == kAbsent) continue;
      r->scores[i] = -kInfinity;
      r->score_why[i] = "bundle node " + w.nodes[i].name;
    }
  }
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    for (const auto& r : w.all) {
      if (r->parent == nullptr || r->parent->bundle == nullptr) continue;
      Resource* own = w.nodes[i].bundle_instance;
      const bool bundle_node = own != nullptr && own->parent == r->parent;
      if (own != r.get()) {
        r->scores[i] = kAbsent;
      } else if (r->scores[i] == kAbsent || r->scores[i] > -kInfinity) {
        r->scores[i] = kInfinity;
        r->score_why[i] = "its bundle replica's node";
      }
      r->parent->scores[i] = bundle_node ? 0 : kAbsent;
    }
  }
}

std::vector<Resource*> set_members(Working& w, pugi::xml_node set) {
  std::vector<Resource*> out;
  for (auto ref : set.children("resource_ref")) {
    auto members = w.resolve(attr(ref, "id"));
    out.insert(out.end(), members.begin(), members.end());
  }
  return out;
}

bool set_influence(const std::string& influence, const Resource& r) {
  return influence.empty() ? critical(r) : is_true(influence);
}

// Pacemaker's unpack_colocation_set: the members of one set colocated among themselves.
void colocate_within_set(Working& w, pugi::xml_node set, int score, const std::string& influence) {
  if (set.attribute("score")) score = parse_score(attr(set, "score"));
  if (score == 0) return;
  if (set.attribute("sequential") && !is_true(attr(set, "sequential"))) return;
  Role role = parse_role(attr(set, "role"));
  std::string ordering = set.attribute("ordering") ? attr(set, "ordering") : "group";
  auto members = set_members(w, set);
  std::string id = attr(set, "id");
  for (std::size_t i = 1; i < members.size(); ++i) {
    if (score < 0) {
      // Every member apart from every one before it.
      for (std::size_t j = 0; j < i; ++j) {
        add_colocation(w, id, members[i], members[j], score, role, role, "",
                       set_influence(influence, *members[i]));
      }
    } else if (ordering == "group") {
      add_colocation(w, id, members[i], members[i - 1], score, role, role, "",
                     set_influence(influence, *members[i]));
    } else {
      add_colocation(w, id, members[i - 1], members[i], score, role, role, "",
                     set_influence(influence, *members[i - 1]));
    }
  }
}

// Pacemaker's colocate_rsc_sets: the first set with the second one.
void colocate_sets(Working& w, const std::string& id, pugi::xml_node set1, pugi::xml_node set2,
                   int score, const std::string& influence) {
  if (score == 0) return;
  Role role1 = parse_role(attr(set1, "role")), role2 = parse_role(attr(set2, "role"));
  auto first = set_members(w, set1), second = set_members(w, set2);
  auto sequential = [](pugi::xml_node set) {
    return !set.attribute("sequential") || is_true(attr(set, "sequential"));
  };
  Resource* r1 = sequential(set1) && !first.empty() ? first.front() : nullptr;
  Resource* r2 = sequential(set2) && !second.empty() ? second.back() : nullptr;
  std::vector<Resource*> deps = r1 ? std::vector<Resource*>{r1} : first;
  std::vector<Resource*> prims = r2 ? std::vector<Resource*>{r2} : second;
  for (Resource* d : deps) {
    for (Resource* p : prims)
      add_colocation(w, id, d, p, score, role1, role2, "", set_influence(influence, *d));
  }
}

void read_colocation_constraints(Working& w, pugi::xml_node constraints) {
  for (auto con : constraints.children("rsc_colocation")) {
    if (con.child("resource_set")) {
      int score = parse_score(attr(con, "score"));
      std::string influence = attr(con, "influence");
      pugi::xml_node last;
      for (auto set_ref : con.children("resource_set")) {
        auto set = resolve_ref(set_ref);
        colocate_within_set(w, set, score, influence);
        if (last) colocate_sets(w, attr(con, "id"), last, set, score, influence);
        last = set;
      }
      continue;
    }
    Resource* dep = w.find(attr(con, "rsc"));
    Resource* prim = w.find(attr(con, "with-rsc"));
    if (!dep || !prim) continue;
    std::string inf = attr(con, "influence");
    bool influence = inf.empty() ? critical(*dep) : is_true(inf);
    add_colocation(w, attr(con, "id"), dep, prim, parse_score(attr(con, "score")),
                   parse_role(attr(con, "rsc-role")), parse_role(attr(con, "with-rsc-role")),
                   attr(con, "node-attribute"), influence);
  }
}

// "group with R" is "first member with R"; "R with group" is "R with last member".
void expand_group_colocations(Working& w) {
  (void)w;
  for (const auto& owned : w.all) {
    Resource* g = owned.get();
    if (g->variant != Variant::Group || g->children.empty()) continue;
    Resource* first = g->children.front();
    for (Colocation* c : g->this_with) {
      c->dependent = first;
      first->this_with.push_back(c);
    }
    g->this_with.clear();
    Resource* last = g->colocated ? g->children.back() : g->children.front();
    for (Colocation* c : g->with_this) {
      c->primary = last;
      last->with_this.push_back(c);
    }
    g->with_this.clear();
  }
}

struct TicketState {
  bool granted = false, standby = false;
};

// rsc_ticket: a resource may run only while its ticket is granted (and not in standby); on
// loss, loss-policy says whether it stops, is fenced with its nodes, or freezes where it is.
void apply_ticket(Working& w, Resource& r, const std::string& id, const TicketState& t,
                  const std::string& role, const std::string& loss) {
  if (t.granted && !t.standby) return;
  bool promoted_role_only = role == "Promoted" || role == "Master";
  if (r.variant == Variant::Clone && r.promotable && promoted_role_only) r.promotion_blocked = true;
  for (Resource* c : r.children) apply_ticket(w, *c, id, t, role, loss);
  if (!r.children.empty()) return;
  bool promoted_only = role == "Promoted" || role == "Master";
  bool role_matches = !promoted_only || r.role == Role::Promoted;
  auto ban_all = [&](const char* why) {
    for (std::size_t i = 0; i < w.nodes.size(); ++i)
      add_score(r, i, -kInfinity, std::string(why) + " " + id, w);
  };
  if (!t.granted && !r.running_on.empty()) {
    if (loss == "fence") {
      if (!role_matches) return;
      ban_all("loss of ticket");
      for (int n : r.running_on) w.fence_node(n, "deadman ticket was lost");
    } else if (loss == "freeze") {
      if (!role_matches) return;
      r.managed = false;
      r.blocked = true;
    } else if (loss != "demote" || !promoted_only) {
      ban_all("loss of ticket");
    }
  } else if (!promoted_only || loss == "stop" || loss.empty()) {
    ban_all(t.granted ? "ticket in standby" : "no ticket");
  }
}

void apply_tickets(Working& w, pugi::xml_node cib) {
  std::map<std::string, TicketState> tickets;
  for (auto t : cib.child("status").child("tickets").children("ticket_state")) {
    TicketState s;
    s.granted = is_true(attr(t, "granted"));
    s.standby = is_true(attr(t, "standby"));
    tickets[attr(t, "id")] = s;
  }
  for (auto con : cib.child("configuration").child("constraints").children("rsc_ticket")) {
    std::string loss = attr(con, "loss-policy");
    const TicketState& state = tickets[attr(con, "ticket")];
    for (Resource* r : w.resolve(attr(con, "rsc")))
      apply_ticket(w, *r, attr(con, "id"), state, attr(con, "rsc-role"), loss);
    // Resource sets: every member depends on the ticket in its set's role.
    for (auto set_ref : con.children("resource_set")) {
      auto set = resolve_ref(set_ref);
      for (auto ref : set.children("resource_ref")) {
        for (Resource* r : w.resolve(attr(ref, "id")))
          apply_ticket(w, *r, attr(con, "id"), state, attr(set, "role"), loss);
      }
    }
  }
}

// Location constraints live in the CIB every resource's XML node points into.
// Connections and fencing devices never run on remote nodes (no nesting of connections, and a
// remote node cannot fence).
void avoid_remote_nodes(Working& w) {
  for (auto& r : w.all) {
    if (r->variant != Variant::Primitive || !(r->remote_connection || r->cls == "stonith")) continue;
    for (std::size_t i = 0; i < w.nodes.size(); ++i) {
      if (!w.nodes[i].remote || r->scores[i] == kAbsent) continue;
      r->scores[i] = -kInfinity;
      r->score_why[i] = "remote node";
    }
  }
}

// Pacemaker's shutdown_lock for a primitive: one active on exactly one node that shuts down
// cleanly is locked to it from the shutdown's time; a lock read from the history is given up if
// the resource runs anywhere (Pacemaker then also clears that history). A locked resource is
// banned from every other node. Fence devices and remote connections are never locked.
void lock_to_node(Working& w, Resource& r) {
  if (r.cls == "stonith" || r.remote_connection) return;
  if (r.lock_node >= 0) {
    if (!r.running_on.empty()) {
      r.lock_node = -1;
      r.lock_time = 0;
    }
  } else if (r.running_on.size() == 1) {
    const Node& n = w.nodes[static_cast<std::size_t>(r.running_on[0])];
    auto shutdown = n.attrs.find("shutdown");
    if (n.shutdown && !n.unclean && shutdown != n.attrs.end()) {
      r.lock_node = r.running_on[0];
      r.lock_time = std::strtoll(shutdown->second.c_str(), nullptr, 10);
    }
  }
  if (r.lock_node < 0) return;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (static_cast<int>(i) != r.lock_node) add_score(r, i, -kInfinity, "shutdown-lock", w);
  }
}

// Pacemaker's apply_shutdown_locks: primitives and group members; clones and bundles cannot be
// locked.
void apply_shutdown_locks(Working& w) {
  if (!w.shutdown_lock) return;
  for (Resource* r : w.top) {
    if (r->variant == Variant::Primitive) lock_to_node(w, *r);
    if (r->variant == Variant::Group) {
      for (Resource* member : r->children) lock_to_node(w, *member);
    }
  }
}

}  // namespace

Scored score_nodes(Unpacked in) {
  Working& w = in.w;
  initial_scores(w);
  apply_shutdown_locks(w);
  auto constraints = constraints_of(w);
  apply_tickets(w, constraints.parent().parent());
  ExclusiveNodes exclusive;
  for (auto con : constraints.children("rsc_location")) apply_location(w, con, exclusive);
  for (auto& [r, nodes] : exclusive) ban_undiscovered(*r, nodes);
  apply_node_health(w);
  for (Resource* r : w.top) apply_stickiness(w, *r);
  const Fillers fillers = fillers_of(w);
  for (Resource* r : w.top) apply_failure_threshold(w, *r, fillers);
  for (Resource* b : w.top) {
    for (Resource* r : bundle_members(*b)) {
      apply_stickiness(w, *r);
      apply_failure_threshold(w, *r, fillers);
    }
  }
  read_colocations(w);
  read_colocation_constraints(w, constraints);
  expand_group_colocations(w);
  avoid_remote_nodes(w);
  keep_to_bundle_nodes(w);
  return Scored{std::move(in.w)};
}

// ---- assignment -----------------------------------------------------------------------------

namespace {

bool any_node_available(const Working& w, const std::vector<int>& scores) {
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] != kAbsent && scores[i] >= 0 && node_available(w.nodes[i])) return true;
  }
  return false;
}

const std::string& node_attr(const Node& n, const std::string& name) {
  static const std::string none;
  auto it = n.attrs.find(name);
  return it == n.attrs.end() ? none : it->second;
}

// Pacemaker's pcmk__colocation_affects for placement; `dep` and `prim` may be instances of the
// colocation's clones.
bool colocation_affects_location(const Colocation& c, const Resource& dep, const Resource& prim) {
  if (prim.provisional) return false;
  if (!dep.provisional) return false;
  if (c.score > 0 && c.dependent_role != Role::Unknown && c.dependent_role != dep.next_role)
    return false;
  if (c.score > 0 && c.primary_role != Role::Unknown && c.primary_role != prim.next_role)
    return false;
  if (c.score < 0 && c.dependent_role != Role::Unknown && c.dependent_role == dep.next_role)
    return false;
  if (c.score < 0 && c.primary_role != Role::Unknown && c.primary_role == prim.next_role)
    return false;
  return true;
}

void apply_coloc_to_scores(Working& w, Resource& dep, const Resource& prim, const Colocation& c) {
  const std::string* value = nullptr;
  if (prim.assigned_to >= 0) {
    value = &node_attr(w.nodes[static_cast<std::size_t>(prim.assigned_to)], c.node_attribute);
  } else if (c.score < 0) {
    return;
  }
  std::vector<int> work = dep.scores;
  const Reason why("colocation " + c.id + " with " + prim.id);
  for (std::size_t i = 0; i < work.size(); ++i) {
    if (work[i] == kAbsent) continue;
    if (prim.assigned_to < 0) {
      work[i] = add_scores(-c.score, work[i]);
    } else if (node_attr(w.nodes[i], c.node_attribute) == *value) {
      if (c.score < kInfinity) work[i] = add_scores(c.score, work[i]);
    } else if (c.score >= kInfinity) {
      work[i] = add_scores(-c.score, work[i]);
    }
  }
  if (c.score <= -kInfinity || c.score >= kInfinity || any_node_available(w, work)) {
    for (std::size_t i = 0; i < work.size(); ++i) {
      if (work[i] != dep.scores[i]) dep.score_why[i] = why;
    }
    dep.scores = std::move(work);
  }
}

Resource* assign(Working& w, Resource& r, int prefer = -1);
void finalize(Working& w, Resource& r, int chosen, bool force, const std::string& why);
std::vector<int> sorted_nodes(const Working& w, const Resource& r, int active);

bool blocked_tree(const Resource& r) {
  if (r.blocked) return true;
  return std::any_of(r.children.begin(), r.children.end(),
                     [](const Resource* c) { return blocked_tree(*c); });
}

// The instance of `clone` assigned to `node` (not blocked), or nullptr.
Resource* instance_on(Resource& clone, int node) {
  for (Resource* inst : clone.children) {
    if (inst->assigned_to == node && node >= 0 && !blocked_tree(*inst)) return inst;
  }
  return nullptr;
}

Role next_role_of(const Resource& inst) {
  if (inst.variant != Variant::Primitive && !inst.children.empty())
    return next_role_of(*inst.children.front());
  return inst.next_role;
}

int assigned_node(const Resource& inst);

// A colocation with one role of a promotable clone, while placing the dependent: the nodes of
// the instances in that role gain the score (a mandatory one keeps the dependent to them).
void apply_coloc_with_role(Working& w, Resource& dep, Resource& clone, const Colocation& c) {
  std::vector<int> weight(w.nodes.size(), kAbsent);
  for (Resource* inst : clone.children) {
    int node = assigned_node(*inst);
    if (node < 0 || next_role_of(*inst) != c.primary_role) continue;
    auto n = static_cast<std::size_t>(node);
    const Resource* p = inst;
    while (p->variant != Variant::Primitive && !p->children.empty()) p = p->children.front();
    weight[n] = p->scores[n] == kAbsent ? 0 : p->scores[n];
    if (c.score >= kInfinity) continue;
    const std::string& value = node_attr(w.nodes[n], c.node_attribute);
    for (std::size_t i = 0; i < dep.scores.size(); ++i) {
      if (dep.scores[i] == kAbsent || node_attr(w.nodes[i], c.node_attribute) != value) continue;
      dep.scores[i] = add_scores(dep.scores[i], c.score);
      dep.score_why[i] =
          "colocation " + c.id + " with " + role_name(c.primary_role) + " " + clone.id;
    }
  }
  if (c.score < kInfinity ||
      (c.dependent_role == Role::Promoted && c.primary_role == Role::Promoted))
    return;
  for (std::size_t i = 0; i < dep.scores.size(); ++i) {
    if (dep.scores[i] == kAbsent) continue;
    if (weight[i] == kAbsent) {
      dep.scores[i] = -kInfinity;
      dep.score_why[i] =
          "colocation " + c.id + ": no " + role_name(c.primary_role) + " " + clone.id + " here";
    } else {
      dep.scores[i] = add_scores(dep.scores[i], weight[i]);
    }
  }
}

// Pacemaker's clone colocation: interleaved clones pair instances node by node; a mandatory
// colocation keeps the dependent to nodes with an instance; else each instance adds its score.
void apply_coloc_with_clone(Working& w, Resource& dep, Resource& clone, const Colocation& c) {
  if (clone.provisional) return;
  if (clone.promotable && c.primary_role != Role::Unknown) {
    apply_coloc_with_role(w, dep, clone, c);
    return;
  }
  const Resource* dep_clone = clone_of(c.dependent);
  bool interleave = c.dependent->variant == Variant::Clone && dep_clone && dep_clone->interleave &&
                    dep_clone->clone_node_max == clone.clone_node_max;
  if (interleave) {
    Resource* pair = nullptr;
    for (int n : sorted_nodes(w, dep, -1)) {
      if ((pair = instance_on(clone, n)) != nullptr) break;
    }
    if (pair != nullptr) {
      if (colocation_affects_location(c, dep, *pair)) apply_coloc_to_scores(w, dep, *pair, c);
    } else if (c.score >= kInfinity) {
      finalize(w, dep, -1, true, "no instance of " + clone.id + " to pair with");
    }
    return;
  }
  if (c.score >= kInfinity) {
    std::vector<bool> allowed(w.nodes.size(), false);
    for (Resource* inst : clone.children) {
      if (inst->assigned_to >= 0 && !blocked_tree(*inst))
        allowed[static_cast<std::size_t>(inst->assigned_to)] = true;
    }
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (allowed[i] || dep.scores[i] == kAbsent) continue;
      dep.scores[i] = -kInfinity;
      dep.score_why[i] = "colocation " + c.id + ": no instance of " + clone.id + " here";
    }
    return;
  }
  for (Resource* inst : clone.children) {
    if (colocation_affects_location(c, dep, *inst)) apply_coloc_to_scores(w, dep, *inst, c);
  }
}

void apply_this_with(Working& w, Resource& r, Colocation& c) {
  bool archive = c.dependent_role >= Role::Promoted || (c.score < 0 && c.score > -kInfinity);
  std::vector<int> saved = archive ? r.scores : std::vector<int>();
  std::vector<Reason> saved_why = archive ? r.score_why : std::vector<Reason>();
  assign(w, *c.primary);
  if (!r.provisional) return;
  if (c.primary->variant == Variant::Clone) {
    apply_coloc_with_clone(w, r, *c.primary, c);
  } else if (colocation_affects_location(c, r, *c.primary)) {
    apply_coloc_to_scores(w, r, *c.primary, c);
  }
  if (archive && !any_node_available(w, r.scores)) {
    r.scores = std::move(saved);
    r.score_why = std::move(saved_why);
  }
}

constexpr int kInfinityHack = kInfinity * 2;  // marks a node unusable while merging scores

int best_score_matching(const Working& w, const Resource& r, const std::string& attr_name,
                        const std::string& value) {
  int best = -kInfinity;
  for (std::size_t i = 0; i < r.scores.size(); ++i) {
    if (r.scores[i] == kAbsent) continue;
    if (r.scores[i] > best && node_available(w.nodes[i]) &&
        node_attr(w.nodes[i], attr_name) == value) {
      best = r.scores[i];
    }
  }
  return best;
}

void add_scores_matching_attr(const Working& w, std::vector<int>& nodes, const Resource& r,
                              const std::string& attr_name, float factor, bool only_positive) {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i] == kAbsent) continue;
    int score = best_score_matching(w, r, attr_name, node_attr(w.nodes[i], attr_name));
    if (factor < 0 && score < 0) continue;
    if (nodes[i] == kInfinityHack) continue;
    float f = factor * static_cast<float>(score);
    int weight = static_cast<int>(f < 0 ? f - 0.5f : f + 0.5f);
    if (weight == 0 && score != 0) weight = factor > 0 ? 1 : (factor < 0 ? -1 : 0);
    int next = add_scores(weight, nodes[i]);
    if (only_positive && next < 0 && nodes[i] > 0) {
      nodes[i] = kInfinityHack;
      continue;
    }
    if (only_positive && next < 0 && nodes[i] == 0) continue;
    nodes[i] = next;
  }
}

bool has_influence(const Colocation& c) {
  // A bundle's connection follows its container cheaply; it does not move a healthy container
  // that runs in one place.
  const Resource& primary = *c.primary;
  if (c.dependent->bundle && c.dependent->remote_connection && !primary.failed &&
      primary.running_on.size() == 1)
    return false;
  return c.influence || c.dependent->running_on.empty();
}

// Pacemaker's pcmk__add_colocated_node_scores: fold the preferences of resources colocated
// with `r` (attenuated by the colocation score) into `nodes`.
void add_colocated_scores(Working& w, Resource& r, std::vector<int>& nodes,
                          const std::string& attr_name, float factor, bool only_positive,
                          bool rollback = true) {
  if (r.merging) return;
  r.merging = true;
  std::vector<int> work = nodes;
  Resource* src = &r;
  if (r.variant == Variant::Group) {
    if (r.children.empty()) {
      r.merging = false;
      return;
    }
    src = r.children.front();
    add_colocated_scores(w, *src, work, attr_name, factor, only_positive);
  } else {
    add_scores_matching_attr(w, work, r, attr_name, factor, only_positive);
  }
  if (any_node_available(w, work)) {
    float multiplier = factor < 0 ? -1.0f : 1.0f;
    for (Colocation* c : r.with_this) {
      if (!has_influence(*c)) continue;
      float f = multiplier * static_cast<float>(c->score) / static_cast<float>(kInfinity);
      add_colocated_scores(w, *c->dependent, work, c->node_attribute, f, only_positive);
    }
  } else if (rollback) {
    // Rolling back optional scores that would leave nothing available.
    r.merging = false;
    return;
  }
  if (only_positive) {
    for (auto& s : work) {
      if (s == kInfinityHack) s = 1;
    }
  }
  nodes = std::move(work);
  r.merging = false;
}

void apply_with_this(Working& w, Resource& r, Colocation& c) {
  if (!has_influence(c)) return;
  float factor = static_cast<float>(c.score) / static_cast<float>(kInfinity);
  std::vector<int> before = r.scores;
  add_colocated_scores(w, *c.dependent, r.scores, c.node_attribute, factor, false);
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i] != r.scores[i])
      r.score_why[i] = "colocated " + c.dependent->id + " (" + c.id + ")";
  }
}

int current_node(const Working& w, const Resource& r) {
  if (r.running_on.empty()) return -1;
  // A partial migration is where it started from, and nowhere while its source has stopped it.
  if (r.partial_source >= 0) {
    const bool there = std::find(r.running_on.begin(), r.running_on.end(), r.partial_source) !=
                       r.running_on.end();
    return there ? r.partial_source : -1;
  }
  // Resources that need fencing count as running on the first node they are active on; others
  // on the first node that is up and clean.
  if (r.needs_fencing) return r.running_on.front();
  for (int n : r.running_on) {
    const Node& node = w.nodes[static_cast<std::size_t>(n)];
    if (node.online && !node.unclean) return n;
  }
  return r.running_on.front();
}

void finalize(Working& w, Resource& r, int chosen, bool force, const std::string& why) {
  if (!force && chosen >= 0) {
    const Node& n = w.nodes[static_cast<std::size_t>(chosen)];
    if (r.scores[static_cast<std::size_t>(chosen)] < 0 || !node_available(n)) {
      r.next_role = Role::Stopped;
      r.next_role_reason = "node availability";
      chosen = -1;
    }
  }
  r.provisional = false;
  r.assigned_to = chosen;
  if (chosen < 0) {
    r.next_role = Role::Stopped;
    if (r.next_role_reason.empty()) r.next_role_reason = "unable to allocate";
    return;
  }
  w.nodes[static_cast<std::size_t>(chosen)].assigned++;
  consume_capacity(w.nodes[static_cast<std::size_t>(chosen)], r);
  r.next_role_reason = why;
}

// The allowed nodes of r, best first (Pacemaker's pcmk__sort_nodes).
std::vector<int> sorted_nodes(const Working& w, const Resource& r, int active) {
  std::vector<int> nodes;
  for (std::size_t i = 0; i < r.scores.size(); ++i) {
    if (r.scores[i] != kAbsent) nodes.push_back(static_cast<int>(i));
  }
  auto eff = [&](int n) {
    return node_available(w.nodes[static_cast<std::size_t>(n)])
               ? r.scores[static_cast<std::size_t>(n)]
               : -kInfinity;
  };
  std::stable_sort(nodes.begin(), nodes.end(), [&](int a, int b) {
    int ea = eff(a), eb = eff(b);
    if (ea != eb) return ea > eb;
    const Node& node_a = w.nodes[static_cast<std::size_t>(a)];
    const Node& node_b = w.nodes[static_cast<std::size_t>(b)];
    if (w.placement_strategy == "minimal") return node_a.name < node_b.name;
    if (w.placement_strategy == "balanced") {
      int c = compare_capacities(node_a, node_b);
      if (c != 0) return c < 0;
    }
    int na = node_a.assigned, nb = node_b.assigned;
    if (na != nb) return na < nb;
    if (active >= 0 && (a == active) != (b == active)) return a == active;
    return w.nodes[static_cast<std::size_t>(a)].name < w.nodes[static_cast<std::size_t>(b)].name;
  });
  return nodes;
}

// Why r leaves `node`, where it runs: the node's state (standby, offline …), else the score that
// put it behind (a ban, a failure past migration-threshold, a constraint) and what set it.
std::string left_why(const Working& w, const Resource& r, int node) {
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  if (auto state = unavailable_why(n); !state.empty()) return "leaves " + n.name + ": " + state;
  const int score = r.scores[static_cast<std::size_t>(node)];
  const std::string& because = r.score_why[static_cast<std::size_t>(node)];
  return "leaves " + n.name + ": its score there is " +
         (score <= -kInfinity || score == kAbsent ? std::string("-INFINITY")
                                                  : std::to_string(score)) +
         (because.empty() ? "" : " by " + because);
}

void assign_best_node(Working& w, Resource& r, int prefer) {
  int most_free = ban_insufficient_capacity(w, r);
  if (prefer < 0) prefer = most_free;
  int active = current_node(w, r);
  std::vector<int> nodes = sorted_nodes(w, r, active);
  if (nodes.empty()) {
    finalize(w, r, -1, false, "");
    return;
  }
  int best = nodes.front();
  if (prefer >= 0) {
    auto p = static_cast<std::size_t>(prefer);
    if (r.scores[p] != kAbsent && r.scores[p] >= r.scores[static_cast<std::size_t>(best)] &&
        node_available(w.nodes[p])) {
      const std::string& because = r.score_why[p];
      finalize(w, r, prefer, false,
               "kept where it runs (score " + std::to_string(r.scores[p]) +
                   (because.empty() ? "" : " by " + because) + ")");
      return;
    }
  }
  int chosen = best;
  int chosen_score = r.scores[static_cast<std::size_t>(chosen)];
  const Resource* clone = clone_of(&r);
  bool unique_instance = clone != nullptr && clone != &r && clone->unique;
  if (!unique_instance && chosen_score > 0 &&
      node_available(w.nodes[static_cast<std::size_t>(chosen)]) && active >= 0 &&
      node_available(w.nodes[static_cast<std::size_t>(active)])) {
    for (std::size_t k = 1; k < nodes.size(); ++k) {
      if (r.scores[static_cast<std::size_t>(nodes[k])] != chosen_score) break;
      if (nodes[k] == active) chosen = active;
    }
  }
  std::string why = "best score " + std::to_string(r.scores[static_cast<std::size_t>(chosen)]);
  const std::string& because = r.score_why[static_cast<std::size_t>(chosen)];
  if (!because.empty()) why += " (" + because + ")";
  if (active >= 0 && chosen != active) why += "; " + left_why(w, r, active);
  finalize(w, r, chosen, false, why);
}

// Pacemaker's remote_connection_assigned: a placed connection brings its node up (and a node
// that was to be fenced only for what it last ran is spared); else the node goes down.
void connection_assigned(Working& w, const Resource& connection) {
  int remote = w.remote_node_of(connection);
  if (remote < 0) return;
  Node& n = w.nodes[static_cast<std::size_t>(remote)];
  if (connection.assigned_to >= 0 && connection.next_role != Role::Stopped) {
    n.online = true;
    if (n.unseen) n.unclean = false;
  } else {
    n.shutdown = true;
  }
}

Resource* assign_primitive(Working& w, Resource& r, int prefer) {
  if (r.bundle && r.bundle->provisional && !r.bundle->assigning) assign(w, *r.bundle, prefer);
  if (r.parent && r.parent->provisional && !r.parent->assigning) assign(w, *r.parent, prefer);
  if (!r.provisional) return &r;
  if (r.assigning) return nullptr;
  r.assigning = true;
  // Copy: assigning a primary can add colocations to this list (group expansion is done).
  auto this_with = r.this_with;
  std::stable_sort(this_with.begin(), this_with.end(),
                   [](const Colocation* a, const Colocation* b) {
                     return a->primary->priority > b->primary->priority;
                   });
  for (Colocation* c : this_with) apply_this_with(w, r, *c);
  auto with_this = r.with_this;
  for (Colocation* c : with_this) apply_with_this(w, r, *c);
  if (r.next_role == Role::Stopped) {
    for (std::size_t i = 0; i < r.scores.size(); ++i) {
      if (r.scores[i] == kAbsent) r.scores[i] = base_weight(w.nodes[i]);
      r.scores[i] = -kInfinity;
      r.score_why[i] = "target-role=Stopped";
    }
  } else if (r.next_role > r.role && !w.have_quorum && w.no_quorum_policy == "freeze") {
    r.next_role = r.role;
    r.next_role_reason = "no-quorum-policy=freeze";
  }
  if (w.stonith_enabled && !w.have_stonith_resource) r.managed = false;
  if (!r.managed) {
    r.next_role = r.role;
    finalize(w, r, current_node(w, r), true, "unmanaged: stays where it is");
  } else if (w.stop_all) {
    finalize(w, r, -1, true, "stop-all-resources");
  } else if (r.provisional) {
    assign_best_node(w, r, prefer);
  }
  r.assigning = false;
  if (r.remote_connection) connection_assigned(w, r);
  return &r;
}

void assign_clone(Working& w, Resource& clone);
void assign_bundle(Working& w, Resource& bundle);

Resource* assign(Working& w, Resource& r, int prefer) {
  if (r.variant == Variant::Primitive) return assign_primitive(w, r, prefer);
  if (r.variant == Variant::Clone && r.bundle && r.bundle->provisional && !r.bundle->assigning) {
    assign(w, *r.bundle, prefer);
    return &r;
  }
  if (r.is_bundle) {
    assign_bundle(w, r);
    return &r;
  }
  if (r.variant == Variant::Clone) {
    assign_clone(w, r);
    return &r;
  }
  if (!r.provisional || r.assigning) return &r;
  r.assigning = true;
  if (!r.children.empty()) r.role = r.children.front()->role;
  for (Resource* c : r.children) assign(w, *c, prefer);
  if (!r.children.empty()) {
    r.next_role = r.children.front()->next_role;
    r.assigned_to = r.children.front()->assigned_to;
  }
  r.assigning = false;
  r.provisional = false;
  return &r;
}

// ---- clones (Pacemaker's pcmk__clone_allocate and distribute_children) ------------------------

// Where an instance (or a cloned group's members) is active.
std::vector<int> active_nodes(const Working& w, Resource& inst) {
  std::vector<int> out;
  for (Resource* p : primitives_of(&inst)) {
    for (int n : p->running_on) {
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
  }
  (void)w;
  return out;
}

int instance_current_node(const Working& w, Resource& inst) {
  if (inst.variant == Variant::Primitive) return current_node(w, inst);
  for (Resource* p : primitives_of(&inst)) {
    int n = current_node(w, *p);
    if (n >= 0) return n;
  }
  return -1;
}

bool failed_tree(const Resource& r) {
  if (r.failed) return true;
  return std::any_of(r.children.begin(), r.children.end(),
                     [](const Resource* c) { return failed_tree(*c); });
}

// The score an instance gets on its current node from the clone's colocations.
int colocated_score_on(Working& w, Resource& clone, Resource& inst, int node) {
  std::vector<int> nodes(w.nodes.size(), kAbsent);
  nodes[static_cast<std::size_t>(node)] = 0;
  for (Colocation* c : clone.this_with) {
    add_colocated_scores(w, *c->primary, nodes, c->node_attribute,
                         static_cast<float>(c->score) / static_cast<float>(kInfinity), false,
                         false);
  }
  for (Colocation* c : clone.with_this) {
    if (!has_influence(*c)) continue;
    add_colocated_scores(w, *c->dependent, nodes, c->node_attribute,
                         static_cast<float>(c->score) / static_cast<float>(kInfinity), true);
  }
  (void)inst;
  return nodes[static_cast<std::size_t>(node)];
}

// Pacemaker's pcmk__cmp_instance: negative when a should be assigned before b.
int compare_instances(Working& w, Resource& clone, Resource& a, Resource& b) {
  auto na = active_nodes(w, a), nb = active_nodes(w, b);
  if (!na.empty() && !nb.empty() && na.size() != nb.size()) return na.size() < nb.size() ? -1 : 1;
  int node_a = instance_current_node(w, a), node_b = instance_current_node(w, b);
  auto allowed = [](const Resource& r, int& node) {
    if (node < 0) return true;
    int s = r.scores[static_cast<std::size_t>(node)];
    if (s == kAbsent || s < 0) {
      node = -1;
      return false;
    }
    return true;
  };
  bool can_a = allowed(a, node_a), can_b = allowed(b, node_b);
  if (can_a != can_b) return can_a ? -1 : 1;
  if (a.priority != b.priority) return a.priority > b.priority ? -1 : 1;
  if (node_a < 0 && node_b < 0) return 0;
  if (node_a < 0 || node_b < 0) return node_a < 0 ? 1 : -1;
  bool up_a = node_available(w.nodes[static_cast<std::size_t>(node_a)]);
  bool up_b = node_available(w.nodes[static_cast<std::size_t>(node_b)]);
  if (up_a != up_b) return up_a ? -1 : 1;
  bool parent_a = clone.scores[static_cast<std::size_t>(node_a)] != kAbsent;
  bool parent_b = clone.scores[static_cast<std::size_t>(node_b)] != kAbsent;
  if (!parent_a && !parent_b) return 0;
  if (parent_a != parent_b) return parent_a ? -1 : 1;
  bool failed_a = failed_tree(a), failed_b = failed_tree(b);
  if (failed_a != failed_b) return failed_a ? 1 : -1;
  int sa = colocated_score_on(w, clone, a, node_a), sb = colocated_score_on(w, clone, b, node_b);
  if (sa != sb) return sa > sb ? -1 : 1;
  return instance_number(a) - instance_number(b);
}

void add_unique(std::vector<Colocation*>& list, Colocation* c) {
  if (std::find(list.begin(), list.end(), c) == list.end()) list.push_back(c);
}

// The clone's colocations become the instance's own (for a cloned group: its first member is
// the dependent, its last member the primary). Optional positive preferences only count when
// not every node gets an instance.
void append_parent_colocations(Resource& clone, Resource& inst, bool all) {
  Resource* first =
      inst.variant == Variant::Group && !inst.children.empty() ? inst.children.front() : &inst;
  Resource* last =
      inst.variant == Variant::Group && !inst.children.empty() ? inst.children.back() : &inst;
  for (Colocation* c : clone.this_with) {
    if (all || c->score < 0 || c->score >= kInfinity) add_unique(first->this_with, c);
  }
  for (Colocation* c : clone.with_this) {
    if (!c->influence && !c->dependent->running_on.empty()) continue;
    if (all || c->score < 0) add_unique(last->with_this, c);
  }
}

void add_score_recursive(Resource& r, std::size_t node, int score, const Reason& why) {
  if (r.scores[node] != kAbsent) {
    r.scores[node] = add_scores(r.scores[node], score);
    r.score_why[node] = why;
  }
  for (Resource* c : r.children) add_score_recursive(*c, node, score, why);
}

// Pacemaker's can_run_instance over all nodes: unavailable nodes, nodes the clone may not use
// and nodes already holding clone-node-max instances are taken away from the instance.
void limit_instance(Working& w, Resource& clone, Resource& inst, int limit) {
  // Each reason made once and shared by every node it holds for: at 32 nodes, a steady cluster's
  // 200 clones' instances took 200 000 copies of the same few words.
  const Reason cannot_run("clone instance cannot run here");
  const Reason clone_score("clone " + clone.id + " score");
  const Reason node_max("clone-node-max " + std::to_string(limit) + " reached");
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    // Only nodes the instance (or a member of it) has a score for are touched.
    int parent = clone.scores[i];
    if (!node_available(w.nodes[i]) || inst.orphan || parent == kAbsent) {
      add_score_recursive(inst, i, -kInfinity, cannot_run);
    } else if (parent < 0) {
      add_score_recursive(inst, i, parent, clone_score);
    } else if (clone.instance_count[i] >= limit) {
      add_score_recursive(inst, i, -kInfinity, node_max);
    }
  }
}

struct Snapshot {
  Resource* r;
  std::vector<int> scores;
  std::vector<Reason> why;
  Role next_role;
  std::string next_role_reason;
};

void snapshot(Resource& r, std::vector<Snapshot>& out) {
  out.push_back({&r, r.scores, r.score_why, r.next_role, r.next_role_reason});
  for (Resource* c : r.children) snapshot(*c, out);
}

// Undo an assignment (Pacemaker's pcmk__unassign_resource after restoring the scores).
void restore(Working& w, std::vector<Snapshot>& saved) {
  for (auto& s : saved) {
    Resource& r = *s.r;
    if (r.variant == Variant::Primitive && r.assigned_to >= 0) {
      w.nodes[static_cast<std::size_t>(r.assigned_to)].assigned--;
      release_capacity(w.nodes[static_cast<std::size_t>(r.assigned_to)], r);
    }
    r.assigned_to = -1;
    r.provisional = true;
    r.scores = std::move(s.scores);
    r.score_why = std::move(s.why);
    r.next_role = s.next_role;
    r.next_role_reason = std::move(s.next_role_reason);
  }
}

int assigned_node(const Resource& inst) {
  if (inst.variant == Variant::Group)
    return inst.children.empty() ? -1 : inst.children.front()->assigned_to;
  return inst.assigned_to;
}

// Pacemaker's allocate_instance: the node chosen for one instance, or -1.
int assign_instance(Working& w, Resource& clone, Resource& inst, int prefer, bool all_coloc,
                    int limit) {
  if (!inst.provisional) return assigned_node(inst);
  if (inst.assigning) return -1;
  append_parent_colocations(clone, inst, all_coloc);
  if (prefer >= 0) {
    int s = inst.scores[static_cast<std::size_t>(prefer)];
    if (s == kAbsent || s < 0) return -1;
  }
  limit_instance(w, clone, inst, limit);
  std::vector<Snapshot> saved;
  if (prefer >= 0) snapshot(inst, saved);
  assign(w, inst, prefer);
  int chosen = assigned_node(inst);
  if (chosen >= 0 && prefer >= 0 && chosen != prefer) {
    restore(w, saved);
    chosen = -1;
  }
  if (chosen >= 0) clone.instance_count[static_cast<std::size_t>(chosen)]++;
  return chosen;
}

void distribute_instances(Working& w, Resource& clone) {
  int available = 0;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (clone.scores[i] != kAbsent && node_available(w.nodes[i])) ++available;
  }
  int max = clone.clone_max;
  bool all_coloc = max < available;
  int per_node = available > 0 ? std::max(1, max / available) : 1;
  int allocated = 0;
  // First keep as many instances as possible where they are active.
  for (Resource* inst : clone.children) {
    if (allocated >= max) break;
    if (active_nodes(w, *inst).empty() || !inst->provisional || failed_tree(*inst)) continue;
    int current = instance_current_node(w, *inst);
    if (current < 0 || !node_available(w.nodes[static_cast<std::size_t>(current)])) continue;
    if (clone.scores[static_cast<std::size_t>(current)] != kAbsent &&
        clone.instance_count[static_cast<std::size_t>(current)] >= per_node)
      continue;
    if (assign_instance(w, clone, *inst, current, all_coloc, clone.clone_node_max) >= 0)
      ++allocated;
  }
  for (Resource* inst : clone.children) {
    if (!inst->provisional) continue;
    if (allocated >= max) {
      for (std::size_t i = 0; i < w.nodes.size(); ++i)
        add_score_recursive(*inst, i, -kInfinity, "clone-max " + std::to_string(max) + " reached");
      continue;
    }
    if (assign_instance(w, clone, *inst, -1, all_coloc, clone.clone_node_max) >= 0) ++allocated;
  }
}

// ---- promotable clones (Pacemaker's pcmk_sched_promotable.c) ----------------------------------

// The promotion score an instance's agent recorded on a node (master-<id> node attribute), or
// nullopt when none is recorded or it does not count there.
// Pacemaker's pe_node_attribute_calculated: a resource with container-attribute-target=host
// reads a guest node's attributes from the host its container runs on (none while it runs
// nowhere).
const Node* attribute_node(const Working& w, const Resource& r, int node) {
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  auto target = r.meta.find("container-attribute-target");
  const Resource* container = w.guest_container(n);
  if (target == r.meta.end() || ascii_lower(target->second) != "host" || container == nullptr)
    return &n;
  if (container->running_on.empty()) return nullptr;
  return &w.nodes[static_cast<std::size_t>(container->running_on.front())];
}

std::optional<int> promotion_score(const Working& w, const Resource& r, int node) {
  if (r.variant != Variant::Primitive) {
    std::optional<int> total;
    for (const Resource* c : r.children) {
      if (auto s = promotion_score(w, *c, node)) total = total.value_or(0) + *s;
    }
    return total;
  }
  auto n = static_cast<std::size_t>(node);
  bool none_probed = r.running_on.empty() &&
                     std::none_of(r.known_on.begin(), r.known_on.end(), [](bool b) { return b; });
  bool here = r.known_on[n] ||
              std::find(r.running_on.begin(), r.running_on.end(), node) != r.running_on.end();
  if (anonymous_instance(r)) {
    // Any instance's probe on the node speaks for the anonymous clone there.
    const Resource* clone = clone_of(&r);
    bool other_active = false, probed = false;
    for (const Resource* inst : clone->children) {
      for (Resource* p : primitives_of(const_cast<Resource*>(inst))) {
        if (p->base != r.base) continue;
        if (std::find(p->running_on.begin(), p->running_on.end(), node) != p->running_on.end())
          other_active = other_active || p != &r;
        probed = probed || p->known_on[n];
      }
    }
    if (!other_active && probed) here = true;
  }
  if (!here && !none_probed) return std::nullopt;
  if (r.scores[n] == kAbsent) return std::nullopt;
  const Node* source = attribute_node(w, r, node);
  if (source == nullptr) return std::nullopt;
  const auto& attrs = source->attrs;
  // The agent on the node sets the score under the name its history there is kept under.
  auto known = r.history_ids.find(node);
  auto it = attrs.find("master-" + (known != r.history_ids.end() ? known->second : r.id));
  if (it == attrs.end() && anonymous_instance(r)) it = attrs.find("master-" + r.base);
  if (it == attrs.end()) return std::nullopt;
  return parse_score(it->second);
}

void add_promotion_scores(Working& w, Resource& clone) {
  for (Resource* inst : clone.children) {
    for (std::size_t i = 0; i < w.nodes.size(); ++i) {
      if (inst->variant != Variant::Primitive || inst->scores[i] == kAbsent ||
          !node_available(w.nodes[i]))
        continue;
      int score = promotion_score(w, *inst, static_cast<int>(i)).value_or(0);
      if (score > 0) {
        inst->scores[i] = add_scores(inst->scores[i], score);
        inst->score_why[i] = "promotion score";
      }
      inst->priority = std::max(inst->priority, score);
    }
  }
}

void set_tree_role(Resource& r, Role from, Role to) {
  if (r.role == from) r.role = to;
  for (Resource* c : r.children) set_tree_role(*c, from, to);
}

void set_tree_next_role(Resource& r, Role role, const char* why) {
  r.next_role = role;
  r.next_role_reason = why;
  for (Resource* c : r.children) set_tree_next_role(*c, role, why);
}

// Colocations of the clone's promoted (or unpromoted) role with other resources weigh on which
// instance is promoted (Pacemaker's pcmk__apply_coloc_to_priority and
// pcmk__update_promotable_dependent_priority).
void apply_role_colocations(Working& w, Resource& clone, Resource& inst, int chosen) {
  const std::string* here = nullptr;
  for (Colocation* c : clone.this_with) {
    if (c->dependent_role != Role::Promoted && c->dependent_role != Role::Unpromoted) continue;
    Resource& prim = *c->primary;
    here = &node_attr(w.nodes[static_cast<std::size_t>(chosen)], c->node_attribute);
    if (prim.variant == Variant::Clone) {
      if (c->dependent_role != Role::Promoted) continue;
      bool found = false;
      for (Resource* pi : prim.children) {
        int n = assigned_node(*pi);
        if (n < 0 || (c->primary_role != Role::Unknown && next_role_of(*pi) != c->primary_role))
          continue;
        if (node_attr(w.nodes[static_cast<std::size_t>(n)], c->node_attribute) == *here) {
          found = true;
          break;
        }
      }
      if (found) {
        inst.priority = add_scores(inst.priority, c->score);
      } else if (c->score >= kInfinity) {
        inst.priority = -kInfinity;
      }
      continue;
    }
    if (prim.assigned_to < 0) continue;
    if (node_attr(w.nodes[static_cast<std::size_t>(prim.assigned_to)], c->node_attribute) !=
        *here) {
      if (c->score >= kInfinity && c->dependent_role == Role::Promoted) inst.priority = -kInfinity;
      continue;
    }
    if (c->primary_role != Role::Unknown && c->primary_role != prim.next_role) continue;
    int sign = c->dependent_role == Role::Unpromoted ? -1 : 1;
    inst.priority = add_scores(sign * c->score, inst.priority);
  }
}

// Pacemaker's sort_promotable_instances: the clone's own node scores, plus the priorities of the
// instances placed there, plus colocations with the promoted role, decide the order in which
// instances are considered for promotion.
void merge_promotion_table(Working& w, Resource& clone,
                           std::vector<std::pair<Resource*, int>>& order) {
  std::vector<int> table = clone.scores;
  for (auto& [inst, sort_index] : order) {
    int chosen = assigned_node(*inst);
    if (sort_index < 0 || chosen < 0) continue;
    auto n = static_cast<std::size_t>(chosen);
    table[n] = add_scores(sort_index, table[n] == kAbsent ? 0 : table[n]);
  }
  for (Colocation* c : clone.this_with) {
    if (c->dependent_role != Role::Promoted) continue;
    // A mandatory colocation applies even when it leaves no node to promote on.
    add_colocated_scores(w, *c->primary, table, c->node_attribute,
                         static_cast<float>(c->score) / static_cast<float>(kInfinity), false,
                         c->score < kInfinity);
  }
  for (Colocation* c : clone.with_this) {
    if (c->primary_role != Role::Promoted || !has_influence(*c)) continue;
    add_colocated_scores(w, *c->dependent, table, c->node_attribute,
                         static_cast<float>(c->score) / static_cast<float>(kInfinity), true);
  }
  if (clone.promotion_blocked) {
    for (auto& t : table) {
      if (t != kAbsent) t = -kInfinity;
    }
  }
  for (auto& [inst, sort_index] : order) {
    int chosen = assigned_node(*inst);
    const Resource* first = inst;
    while (first->variant != Variant::Primitive && !first->children.empty())
      first = first->children.front();
    if (!first->managed && first->next_role == Role::Promoted) {
      sort_index = kInfinity;
    } else if (chosen >= 0 && sort_index >= 0) {
      int t = table[static_cast<std::size_t>(chosen)];
      sort_index = t == kAbsent ? sort_index : t;
    }
  }
}

// Pacemaker's pcmk__set_instance_roles: the instances with the highest promotion priority are
// promoted, up to promoted-max overall and promoted-node-max per node.
void set_instance_roles(Working& w, Resource& clone) {
  std::vector<int> promoted_here(w.nodes.size(), 0);
  std::vector<std::pair<Resource*, int>> order;  // instance, sort index
  for (Resource* inst : clone.children) {
    set_tree_role(*inst, Role::Started, Role::Unpromoted);
    int chosen = assigned_node(*inst);
    Role next = inst->variant == Variant::Primitive
                    ? inst->next_role
                    : (inst->children.empty() ? Role::Unknown : inst->children.front()->next_role);
    int priority = -kInfinity;
    if (chosen >= 0 && next != Role::Stopped) {
      if (next == Role::Started || next == Role::Unknown) {
        priority = promotion_score(w, *inst, chosen).value_or(-1);
      } else if (next == Role::Promoted) {
        priority = inst->priority;
      }
      for (const auto& loc : w.promoted_locations) {
        if ((loc.rsc == &clone || loc.rsc == inst) && loc.node == chosen)
          priority = add_scores(priority, loc.score);
      }
    }
    inst->priority = priority;
    if (chosen >= 0) apply_role_colocations(w, clone, *inst, chosen);
    order.emplace_back(inst, next == Role::Promoted ? kInfinity : inst->priority);
  }
  merge_promotion_table(w, clone, order);
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    Role ra = a.first->role, rb = b.first->role;
    if (ra != rb) return ra > rb;
    return compare_instances(w, clone, *a.first, *b.first) < 0;
  });
  int promoted = 0;
  for (auto& [inst, sort_index] : order) {
    int chosen = assigned_node(*inst);
    const Resource* first = inst;
    while (first->variant != Variant::Primitive && !first->children.empty())
      first = first->children.front();
    bool unmanaged_promoted = !first->managed && first->role == Role::Promoted;
    bool ok = sort_index >= 0 && (promoted < clone.promoted_max || !first->managed) &&
              chosen >= 0 && (first->managed || unmanaged_promoted) &&
              (inst->priority >= 0 || unmanaged_promoted) &&
              node_available(w.nodes[static_cast<std::size_t>(chosen)]) &&
              clone.scores[static_cast<std::size_t>(chosen)] != kAbsent &&
              (promoted_here[static_cast<std::size_t>(chosen)] < clone.promoted_node_max ||
               !first->managed);
    if (ok && inst->role < Role::Promoted && !w.have_quorum && w.no_quorum_policy == "freeze")
      ok = false;
    if (!ok) {
      set_tree_next_role(*inst, chosen >= 0 ? Role::Unpromoted : Role::Stopped,
                         "unpromoted instance");
      continue;
    }
    promoted_here[static_cast<std::size_t>(chosen)]++;
    ++promoted;
    set_tree_next_role(*inst, Role::Promoted, "promoted instance");
  }
}

void assign_clone(Working& w, Resource& clone) {
  if (!clone.provisional || clone.assigning) return;
  if (clone.promotable) add_promotion_scores(w, clone);
  clone.assigning = true;
  for (Colocation* c : std::vector<Colocation*>(clone.this_with)) assign(w, *c->primary);
  for (Colocation* c : std::vector<Colocation*>(clone.with_this)) {
    if (!has_influence(*c)) continue;
    add_colocated_scores(w, *c->dependent, clone.scores, c->node_attribute,
                         static_cast<float>(c->score) / static_cast<float>(kInfinity), true);
  }
  std::stable_sort(clone.children.begin(), clone.children.end(), [&](Resource* a, Resource* b) {
    return compare_instances(w, clone, *a, *b) < 0;
  });
  clone.instance_count.assign(w.nodes.size(), 0);
  distribute_instances(w, clone);
  if (clone.promotable) set_instance_roles(w, clone);
  clone.assigning = false;
  clone.provisional = false;
}

// Pacemaker's pcmk__bundle_allocate: the containers as a clone's instances, then each replica's
// address and connection with its container, then the bundled clone on the replicas' nodes.
void assign_bundle(Working& w, Resource& bundle) {
  if (!bundle.provisional || bundle.assigning) return;
  // Replica n's container stays bundle.children[n] (assigning a clone sorts its instances).
  const std::vector<Resource*> replicas = bundle.children;
  assign_clone(w, bundle);
  bundle.children = replicas;
  bundle.assigning = true;
  // A replica in a container on a remote node is reached through that node's connection host:
  // Pacemaker Remote takes one connection at a time.
  for (std::size_t n = 0; n < replicas.size(); ++n) {
    Resource* connection = bundle.replica_connections[n];
    const int host = replicas[n]->assigned_to;
    if (connection == nullptr || host < 0) continue;
    const Node& node = w.nodes[static_cast<std::size_t>(host)];
    if (node.remote && node.connection)
      add_colocation(w, "child-remote-with-docker-remote", connection, node.connection, kInfinity,
                     Role::Unknown, Role::Unknown, "", true);
  }
  for (Resource* r : bundle_members(bundle)) assign(w, *r);
  bundle.assigning = false;
}

}  // namespace

int current_node_of(const Working& w, const Resource& r) {
  return current_node(w, r);
}

// Pacemaker's cmp_resources, used when a placement strategy is set: higher priority first, then
// the resource (with what it is colocated with) that scores higher where it runs, then the one
// that scores higher on the nodes taken best first.
std::vector<int> colocated_preferences(Working& w, Resource& r) {
  Resource* src = r.variant == Variant::Group && !r.children.empty() ? r.children.front() : &r;
  std::vector<int> nodes = src->scores;
  for (Colocation* c : src->this_with) {
    add_colocated_scores(w, *c->primary, nodes, c->node_attribute,
                         static_cast<float>(c->score) / static_cast<float>(kInfinity), false,
                         false);
  }
  return nodes;
}

void sort_for_strategy(Working& w, std::vector<Resource*>& order) {
  std::vector<int> by_name(w.nodes.size());
  for (std::size_t i = 0; i < by_name.size(); ++i) by_name[i] = static_cast<int>(i);
  std::sort(by_name.begin(), by_name.end(), [&](int a, int b) {
    const Node& na = w.nodes[static_cast<std::size_t>(a)];
    const Node& nb = w.nodes[static_cast<std::size_t>(b)];
    if (node_available(na) != node_available(nb)) return node_available(na);
    if (w.placement_strategy == "balanced") {
      int c = compare_capacities(na, nb);
      if (c != 0) return c < 0;
    }
    return na.name < nb.name;
  });
  std::map<Resource*, std::vector<int>> prefs;
  for (Resource* r : order) prefs[r] = colocated_preferences(w, *r);
  auto weight = [&](Resource* r, int node) {
    if (node < 0) return -kInfinity;
    int s = prefs[r][static_cast<std::size_t>(node)];
    return s == kAbsent ? -kInfinity : s;
  };
  auto current = [&](Resource* r) {
    Resource* p = r;
    while (p->variant != Variant::Primitive && !p->children.empty()) p = p->children.front();
    return current_node(w, *p);
  };
  std::stable_sort(order.begin(), order.end(), [&](Resource* a, Resource* b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    int wa = weight(a, current(a)), wb = weight(b, current(b));
    if (wa != wb) return wa > wb;
    for (int n : by_name) {
      wa = weight(a, n);
      wb = weight(b, n);
      if (wa != wb) return wa > wb;
    }
    return false;
  });
}

Placed place(Scored in) {
  Working& w = in.w;
  std::vector<Resource*> order = w.top;
  std::stable_sort(order.begin(), order.end(),
                   [](const Resource* a, const Resource* b) { return a->priority > b->priority; });
  if (w.placement_strategy != "default") sort_for_strategy(w, order);
  // Connections first: where they run decides which remote nodes are up.
  for (Resource* r : order) {
    if (r->remote_connection) assign(w, *r);
  }
  for (Resource* r : order) assign(w, *r);
  return Placed{std::move(in.w)};
}

std::string unavailable_why(const Node& node) {
  if (node.unclean) return node.name + " is unclean";
  if (!node.online) return node.name + " is offline";
  if (node.shutdown) return node.name + " is shutting down";
  // Before standby: a pending node is marked standby too, and cannot even stop what it runs.
  if (node.pending) return node.name + " is pending (not ready to run resources)";
  if (node.standby) return node.name + " is in standby";
  if (node.maintenance) return node.name + " is in maintenance";
  return "";
}

}  // namespace vigil::scheduler
