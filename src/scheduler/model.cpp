#include "scheduler/model.h"

#include "scheduler/containers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <utility>

#include "common/ascii.h"

namespace vigil::scheduler {

int add_scores(int a, int b) {
  if (a <= -kInfinity || b <= -kInfinity) return -kInfinity;
  if (a >= kInfinity || b >= kInfinity) return kInfinity;
  long long sum = static_cast<long long>(a) + b;
  return static_cast<int>(std::clamp<long long>(sum, -kInfinity, kInfinity));
}

int parse_score(std::string_view text) {
  std::string t = ascii_lower(text);
  if (t == "-infinity" || t == "-inf") return -kInfinity;
  if (t == "infinity" || t == "+infinity" || t == "inf" || t == "+inf") return kInfinity;
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  long long v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc()) return 0;
  return static_cast<int>(std::clamp<long long>(v, -kInfinity, kInfinity));
}

bool is_true(std::string_view text) {
  std::string t = ascii_lower(text);
  return t == "true" || t == "on" || t == "yes" || t == "y" || t == "1";
}

namespace {
std::optional<std::int64_t> parse_iso_duration(std::string_view t) {
  // PnYnMnDTnHnMnS; months and years are approximated as Pacemaker does (30 and 365 days).
  std::int64_t total = 0;
  bool in_time = false;
  std::size_t i = 1;
  while (i < t.size()) {
    if (t[i] == 'T') {
      in_time = true;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
    if (j == i || j >= t.size()) return std::nullopt;
    std::int64_t n = 0;
    std::from_chars(t.data() + i, t.data() + j, n);
    std::int64_t unit = 0;
    switch (t[j]) {
      case 'Y':
        unit = 365LL * 86400;
        break;
      case 'M':
        unit = in_time ? 60 : 30LL * 86400;
        break;
      case 'W':
        unit = 7LL * 86400;
        break;
      case 'D':
        unit = 86400;
        break;
      case 'H':
        unit = 3600;
        break;
      case 'S':
        unit = 1;
        break;
      default:
        return std::nullopt;
    }
    total += n * unit;
    i = j + 1;
  }
  return total * 1000;
}
}  // namespace

std::optional<std::int64_t> parse_interval_ms(std::string_view text) {
  std::string t = ascii_lower(text);
  t.erase(std::remove_if(t.begin(), t.end(),
                         [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
          t.end());
  if (t.empty()) return 0;
  if (t[0] == 'p') {
    std::string up(text);
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return parse_iso_duration(up);
  }
  std::size_t j = 0;
  while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
  if (j == 0) return std::nullopt;
  std::int64_t n = 0;
  std::from_chars(t.data(), t.data() + j, n);
  std::string unit = t.substr(j);
  if (unit.empty() || unit == "s" || unit == "sec") return n * 1000;
  if (unit == "ms" || unit == "msec") return n;
  if (unit == "m" || unit == "min") return n * 60000;
  if (unit == "h" || unit == "hr") return n * 3600000;
  if (unit == "us" || unit == "usec") return n / 1000;
  return std::nullopt;
}

std::string Action::key() const {
  std::string base = rsc ? rsc->id : std::string();
  if (task == "stonith" || task == "do_shutdown" || rsc == nullptr) return task;
  if (auto it = extra.find("key"); it != extra.end()) return it->second;
  return base + "_" + task + "_" + std::to_string(interval_ms);
}

int Working::node_index(std::string_view id_or_name) const {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].id == id_or_name) return static_cast<int>(i);
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == id_or_name) return static_cast<int>(i);
  }
  return -1;
}

void ResourceIndex::add(Resource* rsc) {
  if (2 * (count_ + 1) > slots_.size()) grow();
  const std::size_t hash = std::hash<std::string_view>{}(rsc->id), mask = slots_.size() - 1;
  for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
    Slot& s = slots_[at];
    if (s.rsc == nullptr) {
      s = {hash, rsc};
      ++count_;
      return;
    }
    if (s.hash == hash && s.rsc->id == rsc->id) return;
  }
}

void ResourceIndex::grow() {
  std::vector<Slot> old =
      std::exchange(slots_, std::vector<Slot>(std::max<std::size_t>(64, 2 * slots_.size())));
  count_ = 0;
  for (const Slot& s : old) {
    if (s.rsc != nullptr) add(s.rsc);
  }
}

Resource* ResourceIndex::find(std::string_view id) const {
  if (slots_.empty()) return nullptr;
  const std::size_t hash = std::hash<std::string_view>{}(id), mask = slots_.size() - 1;
  for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
    const Slot& s = slots_[at];
    if (s.rsc == nullptr) return nullptr;
    if (s.hash == hash && s.rsc->id == id) return s.rsc;
  }
}

Resource* Working::find(std::string_view id) const {
  return by_id.find(id);
}

std::vector<Resource*> Working::resolve(std::string_view id) const {
  if (id.empty()) return {};
  if (Resource* r = find(id)) return {r};
  std::vector<Resource*> out;
  for (auto tag : configuration.child("tags").children("tag")) {
    if (id != tag.attribute("id").value()) continue;
    for (auto ref : tag.children("obj_ref")) {
      auto members = resolve(ref.attribute("id").value());
      out.insert(out.end(), members.begin(), members.end());
    }
    return out;
  }
  for (Resource* r : top) {
    if (r->variant == Variant::Primitive && id == r->xml.attribute("template").value())
      out.push_back(r);
  }
  return out;
}

Resource* Working::adopt(std::unique_ptr<Resource> r) {
  Resource* raw = r.get();
  by_id.add(raw);
  all.push_back(std::move(r));
  return raw;
}

int Working::new_action(Resource* rsc, std::string task, int node, std::int64_t interval_ms) {
  Action a;
  a.id = static_cast<int>(actions.size());
  a.rsc = rsc;
  a.task = std::move(task);
  a.node = node;
  a.interval_ms = interval_ms;
  auto early = early_births.find({rsc, a.task, node, interval_ms});
  a.born = early != early_births.end() ? early->second : births++;
  actions.push_back(std::move(a));
  if (rsc) rsc->actions.push_back(actions.back().id);
  return actions.back().id;
}

void Working::create_early(const Resource* rsc, const std::string& task, int node,
                           std::int64_t interval_ms) {
  if (early_births.emplace(std::make_tuple(rsc, task, node, interval_ms), births).second) ++births;
}

int Working::find_action(const Resource* rsc, std::string_view task, int node,
                         std::int64_t interval_ms) const {
  if (rsc == nullptr) return -1;
  for (int id : rsc->actions) {
    const Action& a = actions[static_cast<std::size_t>(id)];
    if (a.task == task && a.interval_ms == interval_ms && (node < 0 || a.node == node) &&
        !a.probe) {
      return id;
    }
  }
  return -1;
}

void Working::order(int first, int then, std::uint32_t flags) {
  if (first < 0 || then < 0 || first == then) return;
  orderings.push_back({first, then, flags});
}

bool Working::can_fence(const Node& node) const {
  if (const Resource* c = guest_container(node)) {
    // By stopping its container: possible while each host of it is up or can be fenced.
    return std::all_of(c->running_on.begin(), c->running_on.end(), [this](int h) {
      const Node& host = nodes[static_cast<std::size_t>(h)];
      return host.online || can_fence(host);
    });
  }
  if (!stonith_enabled || !have_stonith_resource) return false;
  // Without quorum a partition may still fence the nodes in its own membership.
  return have_quorum || no_quorum_policy == "ignore" || node.online;
}

void Working::fence_node(int node, const std::string& reason) {
  Node& n = nodes[static_cast<std::size_t>(node)];
  if (Resource* c = guest_container(n)) {
    // A guest is fenced by recovering its container; it stays clean, so that it can run
    // resources again in this transition once the container is back.
    if (c->failed || !c->managed) return;
    n.remote_requires_reset = true;
    c->failed = true;
    c->needs_stop = true;
    if (n.fence_reason.empty()) n.fence_reason = reason;
    return;
  }
  if (n.remote) {
    // A remote node whose connection is unmanaged is left alone; else every reason counts, even
    // on a node unclean since startup, as the first reason is the one its fencing gives.
    if (n.connection != nullptr && !n.connection->managed) return;
    n.remote_requires_reset = true;
  } else if (n.unclean) {
    return;
  }
  n.unclean = true;
  if (n.fence_reason.empty()) n.fence_reason = reason;
  create_early(nullptr, "stonith", node);
}

bool Working::have_remote_nodes() const {
  return std::any_of(nodes.begin(), nodes.end(), [](const Node& n) { return n.remote; });
}

int Working::remote_node_of(const Resource& connection) const {
  if (!connection.remote_connection) return -1;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].remote && nodes[i].name == connection.id) return static_cast<int>(i);
  }
  return -1;
}

Resource* container_of(const Working& w, const Resource& r) {
  if (r.variant != Variant::Primitive) return nullptr;
  auto it = r.meta.find("container");
  if (it == r.meta.end() || it->second.empty() || it->second == r.id) return nullptr;
  Resource* c = w.find(it->second);
  if (c == nullptr || c->variant != Variant::Primitive || c->remote_connection) return nullptr;
  // A resource placed in a guest's container by name is meant to run on the guest itself, which
  // vigil does not model; only the guest's connection lives beside its container.
  if (c->meta.count("remote-node") && !is_remote_connection_agent(r.cls, r.provider, r.type))
    return nullptr;
  return c;
}

Resource* Working::guest_container(const Node& node) const {
  return node.guest && node.connection ? container_of(*this, *node.connection) : nullptr;
}

bool is_remote_connection_agent(std::string_view cls, std::string_view provider,
                                std::string_view type) {
  return cls == "ocf" && provider == "pacemaker" && type == "remote";
}

std::vector<Resource*> primitives_of(Resource* rsc) {
  if (rsc->variant == Variant::Primitive) return {rsc};
  std::vector<Resource*> out;
  for (Resource* c : rsc->children) {
    auto sub = primitives_of(c);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::vector<Resource*> bundle_members(const Resource& bundle) {
  std::vector<Resource*> out;
  for (std::size_t n = 0; n < bundle.replica_ips.size(); ++n) {
    if (bundle.replica_ips[n]) out.push_back(bundle.replica_ips[n]);
    if (bundle.replica_connections[n]) out.push_back(bundle.replica_connections[n]);
  }
  if (bundle.bundled) out.push_back(bundle.bundled);
  return out;
}

Resource* clone_of(Resource* rsc) {
  for (Resource* p = rsc; p != nullptr; p = p->parent) {
    if (p->variant == Variant::Clone) return p;
  }
  return nullptr;
}

const Resource* clone_of(const Resource* rsc) {
  return clone_of(const_cast<Resource*>(rsc));
}

int instance_number(const Resource& rsc) {
  auto colon = rsc.id.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(rsc.id.c_str() + colon + 1);
}

bool anonymous_instance(const Resource& rsc) {
  const Resource* c = clone_of(&rsc);
  // A bundle's containers have ids of their own.
  return c != nullptr && c != &rsc && !c->unique && !c->is_bundle;
}

const std::string& failure_id(const Resource& rsc) {
  return anonymous_instance(rsc) && !rsc.base.empty() ? rsc.base : rsc.id;
}

Resource* top_of(Resource* rsc) {
  while (rsc->parent) rsc = rsc->parent;
  return rsc;
}

bool node_available(const Node& node) {
  return node.online && !node.shutdown && !node.unclean && !node.standby && !node.maintenance;
}

// Node names sort with digit runs compared as numbers, case-insensitively (as Pacemaker does).
bool node_name_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      long long x = std::stoll(a.substr(i, std::min<std::size_t>(i2 - i, 18)));
      long long y = std::stoll(b.substr(j, std::min<std::size_t>(j2 - j, 18)));
      if (x != y) return x < y;
      i = i2;
      j = j2;
      continue;
    }
    const char ca = ascii_lower(a[i]);
    const char cb = ascii_lower(b[j]);
    if (ca != cb) return ca < cb;
    ++i;
    ++j;
  }
  return (a.size() - i) < (b.size() - j);
}

std::vector<Resource*> resources_by_priority(const Working& w) {
  std::vector<Resource*> top;
  std::copy_if(w.top.begin(), w.top.end(), std::back_inserter(top),
               [](const Resource* r) { return !r->orphan; });
  std::stable_sort(top.begin(), top.end(),
                   [](const Resource* a, const Resource* b) { return a->priority > b->priority; });
  std::copy_if(w.top.begin(), w.top.end(), std::back_inserter(top),
               [](const Resource* r) { return r->orphan; });
  return top;
}

std::vector<int> nodes_by_name(const Working& w) {
  std::vector<int> out(w.nodes.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int>(i);
  std::stable_sort(out.begin(), out.end(), [&](int a, int b) {
    return node_name_less(w.nodes[static_cast<std::size_t>(a)].name,
                          w.nodes[static_cast<std::size_t>(b)].name);
  });
  return out;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::Unknown:
      return "Unknown";
    case Role::Stopped:
      return "Stopped";
    case Role::Started:
      return "Started";
    case Role::Unpromoted:
      return "Unpromoted";
    case Role::Promoted:
      return "Promoted";
  }
  return "Unknown";
}

pugi::xml_node constraints_of(const Working& w) {
  for (const auto& r : w.all) {
    if (!r->orphan && r->xml)
      return r->xml.root().child("cib").child("configuration").child("constraints");
  }
  return {};
}

}  // namespace vigil::scheduler
