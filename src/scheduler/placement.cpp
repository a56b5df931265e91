// Stages 2 and 3: node scores for every resource (location constraints, stickiness, failure
// thresholds), then placement with colocations, the way Pacemaker assigns resources to nodes.
#include <algorithm>
#include <cstring>
#include <map>

#include "scheduler/rules.h"
#include "scheduler/stages.h"

namespace vigil::scheduler {

namespace {

std::string attr(pugi::xml_node n, const char* name) {
  return n.attribute(name).value();
}

// A node's own weight: nodes that are down or shutting down are out of contention.
int base_weight(const Node& n) {
  return (!n.online || n.shutdown) ? -kInfinity : 0;
}

void add_score(Resource& r, std::size_t node, int score, const std::string& why, const Working& w) {
  int& s = r.scores[node];
  if (s == kAbsent) s = base_weight(w.nodes[node]);
  s = add_scores(s, score);
  r.score_why[node] = why;
}

void add_score_tree(Resource& r, std::size_t node, int score, const std::string& why,
                    const Working& w) {
  add_score(r, node, score, why, w);
  for (Resource* c : r.children) add_score_tree(*c, node, score, why, w);
}

void apply_location(Working& w, pugi::xml_node con) {
  Resource* r = w.find(attr(con, "rsc"));
  // Role-specific locations (Promoted, Unpromoted) concern promotable clones; Started is any role.
  auto any_role = [](const std::string& role) { return role.empty() || role == "Started"; };
  if (r == nullptr || !any_role(attr(con, "role"))) return;
  std::string id = attr(con, "id");
  if (con.attribute("node")) {
    int n = w.node_index(attr(con, "node"));
    if (n < 0) return;
    add_score_tree(*r, static_cast<std::size_t>(n), parse_score(attr(con, "score")),
                   "location " + id, w);
    return;
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
    }
  }
}

void initial_scores(Working& w) {
  for (auto& r : w.all) {
    for (std::size_t i = 0; i < w.nodes.size(); ++i) {
      int& s = r->scores[i];
      if (s == kAbsent) {
        if (w.symmetric && !r->orphan) {
          s = base_weight(w.nodes[i]);
          r->score_why[i] = "symmetric cluster";
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

void apply_failure_threshold(Working& w, Resource& r) {
  for (Resource* c : r.children) apply_failure_threshold(w, *c);
  if (r.variant != Variant::Primitive || r.migration_threshold == 0 || r.failure_ignored) return;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (clear_failcount_scheduled(w, r, static_cast<int>(i))) continue;
    int fc = fail_count(w, r, w.nodes[i], true);
    if (fc > 0 && r.migration_threshold - fc <= 0) {
      add_score(r, i, -kInfinity,
                "migration-threshold " + std::to_string(r.migration_threshold) + " reached (" +
                    std::to_string(fc) + " failures)",
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
  for (Resource* g : w.top) {
    if (g->variant != Variant::Group || !g->colocated) continue;
    for (std::size_t i = 1; i < g->children.size(); ++i) {
      add_colocation(w, "group:internal_colocation", g->children[i], g->children[i - 1], kInfinity,
                     Role::Unknown, Role::Unknown, "", critical(*g->children[i]));
    }
  }
}

void read_colocation_constraints(Working& w, pugi::xml_node constraints) {
  for (auto con : constraints.children("rsc_colocation")) {
    if (con.child("resource_set")) {
      w.warnings.push_back("colocation sets are not scheduled: " + attr(con, "id"));
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
  for (Resource* g : w.top) {
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
    Resource* r = w.find(attr(con, "rsc"));
    if (r == nullptr) {
      if (con.child("resource_set"))
        w.warnings.push_back("ticket sets are not scheduled: " + attr(con, "id"));
      continue;
    }
    std::string loss = attr(con, "loss-policy");
    apply_ticket(w, *r, attr(con, "id"), tickets[attr(con, "ticket")], attr(con, "rsc-role"), loss);
  }
}

// Location constraints live in the CIB every resource's XML node points into.
pugi::xml_node constraints_of(const Working& w) {
  for (const auto& r : w.all) {
    if (!r->orphan && r->xml)
      return r->xml.root().child("cib").child("configuration").child("constraints");
  }
  return {};
}

}  // namespace

Scored score_nodes(Unpacked in) {
  Working& w = in.w;
  initial_scores(w);
  auto constraints = constraints_of(w);
  apply_tickets(w, constraints.parent().parent());
  for (auto con : constraints.children("rsc_location")) apply_location(w, con);
  for (Resource* r : w.top) apply_stickiness(w, *r);
  for (Resource* r : w.top) apply_failure_threshold(w, *r);
  read_colocations(w);
  read_colocation_constraints(w, constraints);
  expand_group_colocations(w);
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

bool colocation_affects_location(const Colocation& c) {
  const Resource& dep = *c.dependent;
  const Resource& prim = *c.primary;
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
  std::string why = "colocation " + c.id + " with " + prim.id;
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

Resource* assign(Working& w, Resource& r);

void apply_this_with(Working& w, Resource& r, Colocation& c) {
  bool archive = c.dependent_role >= Role::Promoted || (c.score < 0 && c.score > -kInfinity);
  std::vector<int> saved = archive ? r.scores : std::vector<int>();
  std::vector<std::string> saved_why = archive ? r.score_why : std::vector<std::string>();
  assign(w, *c.primary);
  if (colocation_affects_location(c)) apply_coloc_to_scores(w, r, *c.primary, c);
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
  return c.influence || c.dependent->running_on.empty();
}

// Pacemaker's pcmk__add_colocated_node_scores: fold the preferences of resources colocated
// with `r` (attenuated by the colocation score) into `nodes`.
void add_colocated_scores(Working& w, Resource& r, std::vector<int>& nodes,
                          const std::string& attr_name, float factor, bool only_positive) {
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
  } else {
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
  r.next_role_reason = why;
}

void assign_best_node(Working& w, Resource& r) {
  std::vector<int> nodes;
  for (std::size_t i = 0; i < r.scores.size(); ++i) {
    if (r.scores[i] != kAbsent) nodes.push_back(static_cast<int>(i));
  }
  int active = current_node(w, r);
  auto eff = [&](int n) {
    return node_available(w.nodes[static_cast<std::size_t>(n)])
               ? r.scores[static_cast<std::size_t>(n)]
               : -kInfinity;
  };
  std::stable_sort(nodes.begin(), nodes.end(), [&](int a, int b) {
    int ea = eff(a), eb = eff(b);
    if (ea != eb) return ea > eb;
    int na = w.nodes[static_cast<std::size_t>(a)].assigned,
        nb = w.nodes[static_cast<std::size_t>(b)].assigned;
    if (na != nb) return na < nb;
    if (active >= 0 && (a == active) != (b == active)) return a == active;
    return w.nodes[static_cast<std::size_t>(a)].name < w.nodes[static_cast<std::size_t>(b)].name;
  });
  if (nodes.empty()) {
    finalize(w, r, -1, false, "");
    return;
  }
  int chosen = nodes.front();
  int chosen_score = r.scores[static_cast<std::size_t>(chosen)];
  if (chosen_score > 0 && node_available(w.nodes[static_cast<std::size_t>(chosen)]) &&
      active >= 0 && node_available(w.nodes[static_cast<std::size_t>(active)])) {
    for (std::size_t k = 1; k < nodes.size(); ++k) {
      if (r.scores[static_cast<std::size_t>(nodes[k])] != chosen_score) break;
      if (nodes[k] == active) chosen = active;
    }
  }
  std::string why = "best score " + std::to_string(r.scores[static_cast<std::size_t>(chosen)]);
  const std::string& because = r.score_why[static_cast<std::size_t>(chosen)];
  if (!because.empty()) why += " (" + because + ")";
  finalize(w, r, chosen, false, why);
}

Resource* assign_primitive(Working& w, Resource& r) {
  if (r.parent && r.parent->provisional && !r.parent->assigning) assign(w, *r.parent);
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
  } else {
    assign_best_node(w, r);
  }
  r.assigning = false;
  return &r;
}

Resource* assign(Working& w, Resource& r) {
  if (r.variant == Variant::Primitive) return assign_primitive(w, r);
  if (!r.provisional || r.assigning) return &r;
  r.assigning = true;
  if (!r.children.empty()) r.role = r.children.front()->role;
  for (Resource* c : r.children) assign(w, *c);
  if (!r.children.empty()) {
    r.next_role = r.children.front()->next_role;
    r.assigned_to = r.children.front()->assigned_to;
  }
  r.assigning = false;
  r.provisional = false;
  return &r;
}

}  // namespace

int current_node_of(const Working& w, const Resource& r) {
  return current_node(w, r);
}

Placed place(Scored in) {
  Working& w = in.w;
  std::vector<Resource*> order = w.top;
  std::stable_sort(order.begin(), order.end(),
                   [](const Resource* a, const Resource* b) { return a->priority > b->priority; });
  for (Resource* r : order) assign(w, *r);
  return Placed{std::move(in.w)};
}

}  // namespace vigil::scheduler
