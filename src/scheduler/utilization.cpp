#include "scheduler/utilization.h"

#include <algorithm>
#include <climits>
#include <iterator>
#include <limits>

#include "scheduler/rules.h"

namespace vigil::scheduler {

namespace {

int utilization_value(const std::string& s) {
  long long v = 0;
  std::size_t i = 0;
  bool negative = !s.empty() && s[0] == '-';
  if (negative || (!s.empty() && s[0] == '+')) i = 1;
  if (i >= s.size()) return 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return 0;  // Pacemaker uses 0 for an invalid value
    v = std::min<long long>(v * 10 + (s[i] - '0'), INT_MAX);
  }
  return static_cast<int>(negative ? -v : v);
}

std::map<std::string, int> read_sets(pugi::xml_node parent, const RuleContext& ctx) {
  std::map<std::string, std::string> raw;
  unpack_nvpairs(parent, "utilization", ctx, raw);
  std::map<std::string, int> out;
  for (const auto& [k, v] : raw) out[k] = utilization_value(v);
  return out;
}

int remaining(const Node& node, const std::string& key) {
  auto it = node.capacity.find(key);
  return it == node.capacity.end() ? 0 : it->second;
}

bool enough(const Node& node, const std::map<std::string, int>& need) {
  return std::all_of(need.begin(), need.end(),
                     [&](const auto& kv) { return kv.second <= remaining(node, kv.first); });
}

bool available_for(const Working& w, const Resource& r, std::size_t i) {
  return node_available(w.nodes[i]) && r.scores[i] != kAbsent && r.scores[i] >= 0;
}

bool affects_location(const Colocation& c, const Resource& dep, const Resource& prim) {
  if (c.score > 0 && c.dependent_role != Role::Unknown && c.dependent_role != dep.next_role)
    return false;
  if (c.score > 0 && c.primary_role != Role::Unknown && c.primary_role != prim.next_role)
    return false;
  return true;
}

// Pacemaker's colocated_resources: everything bound to r by mandatory colocations.
void colocated(Resource& r, const Resource& origin, std::vector<Resource*>& out) {
  if (std::find(out.begin(), out.end(), &r) != out.end()) return;
  out.push_back(&r);
  for (Colocation* c : r.this_with) {
    if (c->primary == &origin || c->score < kInfinity) continue;
    if (affects_location(*c, r, *c->primary)) colocated(*c->primary, origin, out);
  }
  for (Colocation* c : r.with_this) {
    if (c->dependent == &origin || c->score < kInfinity) continue;
    if (r.variant == Variant::Clone && c->dependent->variant != Variant::Clone) continue;
    if (affects_location(*c, *c->dependent, r)) colocated(*c->dependent, origin, out);
  }
}

void add_unassigned(const Resource& r, std::map<std::string, int>& sum) {
  if (r.variant == Variant::Primitive) {
    if (!r.provisional) return;
    for (const auto& [k, v] : r.utilization) sum[k] += v;
    return;
  }
  if (r.variant == Variant::Group && !r.colocated) {
    if (!r.children.empty()) add_unassigned(*r.children.front(), sum);
    return;
  }
  for (const Resource* c : r.children) add_unassigned(*c, sum);
}

}  // namespace

void read_utilization(Working& w) {
  auto nodes = w.all.empty() ? pugi::xml_node() : w.all.front()->xml.root();
  for (auto n : nodes.child("cib").child("configuration").child("nodes").children("node")) {
    int idx = w.node_index(n.attribute("id").value());
    if (idx < 0) continue;
    Node& node = w.nodes[static_cast<std::size_t>(idx)];
    node.capacity = read_sets(n, RuleContext{&node.attrs, w.now});
  }
  for (auto& r : w.all) {
    if (r->variant == Variant::Primitive && !r->orphan)
      r->utilization = read_sets(r->xml, RuleContext{nullptr, w.now});
  }
}

int compare_capacities(const Node& a, const Node& b) {
  int result = 0;
  for (const auto& [k, v] : a.capacity) {
    int other = remaining(b, k);
    if (v > other) --result;
    if (v < other) ++result;
  }
  for (const auto& [k, v] : b.capacity) {
    if (a.capacity.count(k)) continue;
    if (0 > v) --result;
    if (0 < v) ++result;
  }
  return result;
}

void consume_capacity(Node& node, const Resource& r) {
  for (const auto& [k, v] : r.utilization) {
    auto it = node.capacity.find(k);
    node.capacity[k] = it == node.capacity.end() ? 0 : it->second - v;
  }
}

void release_capacity(Node& node, const Resource& r) {
  for (const auto& [k, v] : r.utilization) node.capacity[k] = remaining(node, k) + v;
}

int ban_insufficient_capacity(Working& w, Resource& r) {
  if (w.placement_strategy == "default") return -1;
  std::vector<Resource*> chain;
  colocated(r, r, chain);
  std::map<std::string, int> need;
  for (const Resource* c : chain) add_unassigned(*c, need);
  bool any = false;
  int most_free = -1;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (!available_for(w, r, i)) continue;
    any = any || enough(w.nodes[i], need);
    if (most_free < 0 ||
        compare_capacities(w.nodes[i], w.nodes[static_cast<std::size_t>(most_free)]) < 0)
      most_free = static_cast<int>(i);
  }
  const auto& limit = any ? need : r.utilization;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (!available_for(w, r, i) || enough(w.nodes[i], limit)) continue;
    r.scores[i] = -kInfinity;
    r.score_why[i] = "not enough capacity (placement-strategy " + w.placement_strategy + ")";
  }
  return any ? -1 : most_free;
}

}  // namespace vigil::scheduler

namespace vigil::scheduler {

namespace {

bool uses_capacity(const Working& w, const Resource& r) {
  return w.placement_strategy != "default" && r.variant == Variant::Primitive && r.managed &&
         !r.utilization.empty();
}

// The primitives in the order Pacemaker makes their internal constraints.
void primitives_in_order(Resource* r, std::vector<Resource*>& out) {
  if (r->variant == Variant::Primitive) out.push_back(r);
  for (Resource* c : r->children) primitives_in_order(c, out);
  for (Resource* m : bundle_members(*r)) primitives_in_order(m, out);
}

std::vector<Resource*> capacity_users(const Working& w) {
  std::vector<Resource*> all, out;
  for (Resource* r : resources_by_priority(w)) primitives_in_order(r, all);
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const Resource* r) { return uses_capacity(w, *r); });
  return out;
}

// Where a resource may run as far as its node table says (Pacemaker's allowed nodes, by name).
std::vector<int> allowed_nodes(const Working& w, const Resource& r) {
  std::vector<int> out;
  for (int n : nodes_by_name(w)) {
    if (r.scores[static_cast<std::size_t>(n)] != kAbsent) out.push_back(n);
  }
  return out;
}

}  // namespace

void create_load_stopped(Working& w) {
  w.load_stopped.assign(w.nodes.size(), -1);
  auto ensure = [&](int node) {
    int& id = w.load_stopped[static_cast<std::size_t>(node)];
    if (id >= 0) return;
    id =
        w.new_action(nullptr, "load_stopped_" + w.nodes[static_cast<std::size_t>(node)].name, node);
    w.actions[static_cast<std::size_t>(id)].pseudo = true;
    w.actions[static_cast<std::size_t>(id)].optional = false;
  };
  for (const Resource* r : capacity_users(w)) {
    for (int n : r->running_on) ensure(n);
    for (int n : allowed_nodes(w, *r)) ensure(n);
  }
}

void order_load_stopped(Working& w) {
  for (const Resource* r : capacity_users(w)) {
    auto each = [&](const char* task, auto&& f) {
      for (int id : r->actions) {
        const Action& a = w.actions[static_cast<std::size_t>(id)];
        if (a.task == task && a.interval_ms == 0 && !a.probe) f(id);
      }
    };
    for (int n : r->running_on) {
      each("stop", [&](int stop) {
        w.order(stop, w.load_stopped[static_cast<std::size_t>(n)], kOrderLoad);
      });
    }
    for (int n : allowed_nodes(w, *r)) {
      const int load = w.load_stopped[static_cast<std::size_t>(n)];
      each("start", [&](int start) { w.order(load, start, kOrderLoad); });
      each("migrate_to", [&](int migrate) { w.order(load, migrate, kOrderLoad); });
    }
  }
}

}  // namespace vigil::scheduler
