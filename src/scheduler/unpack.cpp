// Stage 1: read the configuration and the status section into the working set — what runs where,
// what failed, which nodes are up, unclean or on standby (Pacemaker's unpack.c rules).
#include <algorithm>
#include <cstring>

#include "common/ascii.h"
#include "scheduler/bundle.h"
#include "scheduler/containers.h"
#include "scheduler/digest.h"
#include "scheduler/options.h"
#include "scheduler/rules.h"
#include "scheduler/stages.h"
#include "scheduler/utilization.h"

namespace vigil::scheduler {

namespace {

// Executor status codes as recorded in op-status.
enum ExecStatus {
  kPending = -1,
  kDone = 0,
  kCancelled = 1,
  kTimeout = 2,
  kNotSupported = 3,
  kError = 4,
  kErrorHard = 5,
  kErrorFatal = 6,
  kNotInstalled = 7,
};

}  // namespace

bool watchdog_fencing(const std::map<std::string, std::string>& cluster_options) {
  auto get = [&](const char* k) {
    auto it = cluster_options.find(k);
    return it == cluster_options.end() ? std::string(option_default(k)) : it->second;
  };
  if (is_true(get("have-watchdog"))) return true;
  for (const char* name : {"stonith-watchdog-timeout", "fencing-watchdog-timeout"}) {
    const std::string value = get(name);
    if (value.starts_with('-') || parse_interval_ms(value).value_or(0) > 0) return true;
  }
  return false;
}

namespace {

void read_options(Working& w, pugi::xml_node cib) {
  auto config = cib.child("configuration");
  std::map<std::string, std::string> opts;
  unpack_nvpairs(config.child("crm_config"), "cluster_property_set", {nullptr, w.now}, opts);
  auto get = [&](const char* k) {
    auto it = opts.find(k);
    return it == opts.end() ? std::string(option_default(k)) : it->second;
  };
  w.stonith_enabled = is_true(get("stonith-enabled"));
  w.have_watchdog = watchdog_fencing(opts);
  w.symmetric = is_true(get("symmetric-cluster"));
  w.no_quorum_policy = get("no-quorum-policy");
  std::string quorum = attr(cib, "have-quorum");
  w.have_quorum = quorum.empty() ? false : is_true(quorum);
  // Suicide needs a cluster that once had quorum (or no-quorum-panic); else it means stop.
  if (w.no_quorum_policy == "suicide" &&
      !(w.stonith_enabled && (w.have_quorum || is_true(attr(cib, "no-quorum-panic"))))) {
    w.no_quorum_policy = "stop";
  }
  w.startup_fencing = is_true(get("startup-fencing"));
  w.concurrent_fencing = is_true(get("concurrent-fencing"));
  w.shutdown_lock = is_true(get("shutdown-lock"));
  if (w.shutdown_lock)
    w.shutdown_lock_limit_s = parse_interval_ms(get("shutdown-lock-limit")).value_or(0) / 1000;
  w.stop_orphans = is_true(get("stop-orphan-resources"));
  w.start_failure_fatal = is_true(get("start-failure-is-fatal"));
  w.maintenance_mode = is_true(get("maintenance-mode"));
  w.stop_all = is_true(get("stop-all-resources"));
  w.placement_strategy = ascii_lower(get("placement-strategy"));
  // Pacemaker's pe__unpack_node_health_scores: migrate-on-red and only-green fix the colours'
  // scores; progressive and custom take them from the options.
  w.health_strategy = ascii_lower(get("node-health-strategy"));
  if (w.health_strategy == "migrate-on-red") {
    w.health_red = -kInfinity;
  } else if (w.health_strategy == "only-green") {
    w.health_red = w.health_yellow = -kInfinity;
  } else if (w.health_strategy == "progressive" || w.health_strategy == "custom") {
    w.health_red = parse_score(get("node-health-red"));
    w.health_yellow = parse_score(get("node-health-yellow"));
    w.health_green = parse_score(get("node-health-green"));
    if (w.health_strategy == "progressive") w.health_base = parse_score(get("node-health-base"));
  }
  w.dc_uuid = attr(cib, "dc-uuid");
  w.crm_feature_set = attr(cib, "crm_feature_set");
  unpack_nvpairs(config.child("rsc_defaults"), "meta_attributes", {nullptr, w.now}, w.rsc_defaults);
  unpack_nvpairs(config.child("op_defaults"), "meta_attributes", {nullptr, w.now}, w.op_defaults);
}

void add_node(Working& w, const std::string& id, const std::string& name, bool remote) {
  Node node;
  node.id = id;
  node.name = name;
  node.remote = remote;
  // A remote node is unclean from startup only once a connection resource makes it (link).
  node.unclean = w.startup_fencing && !remote;
  node.is_dc = !w.dc_uuid.empty() && w.dc_uuid == node.id;
  node.attrs["#uname"] = node.name;
  node.attrs["#id"] = node.id;
  node.attrs["#kind"] = remote ? "remote" : "cluster";
  node.attrs["#is_dc"] = node.is_dc ? "true" : "false";
  w.nodes.push_back(std::move(node));
}

void read_nodes(Working& w, pugi::xml_node cib) {
  for (auto n : cib.child("configuration").child("nodes").children("node")) {
    std::string type = attr(n, "type");
    if (type == "ping") continue;  // ping nodes run nothing
    std::string id = attr(n, "id");
    add_node(w, id, n.attribute("uname") ? attr(n, "uname") : id, type == "remote");
  }
  // Node attributes may carry rules that look at other attributes of the same node.
  std::size_t i = 0;
  for (auto n : cib.child("configuration").child("nodes").children("node")) {
    if (attr(n, "type") == "ping") continue;
    Node& node = w.nodes[i++];
    std::map<std::string, std::string> attrs;
    RuleContext ctx{&node.attrs, w.now};
    unpack_nvpairs(n, "instance_attributes", ctx, attrs);
    for (auto& [k, v] : attrs) node.attrs.emplace(k, v);
  }
}

void read_ops(Working& w, Resource& r) {
  for (auto op : r.xml.child("operations").children("op")) {
    auto real = resolve_ref(op);
    OpConfig c;
    c.name = attr(real, "name");
    c.role = attr(real, "role");
    if (c.role == "Master") c.role = "Promoted";
    if (c.role == "Slave") c.role = "Unpromoted";
    c.on_fail = attr(real, "on-fail");
    c.interval_ms = parse_interval_ms(attr(real, "interval")).value_or(0);
    std::map<std::string, std::string> meta;
    unpack_nvpairs(real, "meta_attributes", {nullptr, w.now}, meta);
    if (c.on_fail.empty() && meta.count("on-fail")) c.on_fail = meta["on-fail"];
    std::string enabled = real.attribute("enabled") ? attr(real, "enabled") : meta["enabled"];
    c.enabled = enabled.empty() || is_true(enabled);
    r.ops.push_back(c);
  }
}

Resource* read_resource(Working& w, pugi::xml_node x, Resource* parent,
                        const std::string& suffix = {});

// The <template> a primitive takes its agent and parameters from, if any.
pugi::xml_node template_of(pugi::xml_node primitive) {
  if (!primitive.attribute("template")) return {};
  std::string t = attr(primitive, "template");
  auto resources = primitive.root().child("cib").child("configuration").child("resources");
  for (auto tmpl : resources.children("template")) {
    if (attr(tmpl, "id") == t) return tmpl;
  }
  return {};
}

void read_meta(Working& w, Resource& r) {
  unpack_nvpairs(r.xml, "meta_attributes", {nullptr, w.now}, r.meta);
  // Old CIBs put meta attributes straight on the element.
  for (auto a : r.xml.attributes()) {
    std::string n = a.name();
    if (n == "id" || n == "class" || n == "provider" || n == "type" || n == "description") continue;
    r.meta.emplace(n, a.value());
  }
  // A primitive made from a template has the template's meta attributes unless it sets its own,
  // as Pacemaker expands a template into the primitive.
  if (auto tmpl = template_of(r.xml)) {
    std::map<std::string, std::string> inherited;
    unpack_nvpairs(tmpl, "meta_attributes", {nullptr, w.now}, inherited);
    for (auto& [k, v] : inherited) r.meta.emplace(k, v);
  }
  if (r.parent) {
    for (auto& [k, v] : r.parent->meta) r.meta.emplace(k, v);
  }
  for (auto& [k, v] : w.rsc_defaults) r.meta.emplace(k, v);
  // Pacemaker accepts the old underscore spellings of these names.
  for (const char* old :
       {"target_role", "is_managed", "resource_stickiness", "migration_threshold"}) {
    auto it = r.meta.find(old);
    if (it == r.meta.end()) continue;
    std::string name = old;
    std::replace(name.begin(), name.end(), '_', '-');
    r.meta.emplace(name, it->second);
  }
  auto get = [&](const char* k) -> std::string {
    auto it = r.meta.find(k);
    return it == r.meta.end() ? std::string() : it->second;
  };
  std::string managed = get("is-managed");
  if (!managed.empty()) r.managed = is_true(managed);
  if (w.maintenance_mode) r.managed = false;
  std::string maint = get("maintenance");
  if (!maint.empty() && is_true(maint)) r.managed = false;
  std::string sticky = get("resource-stickiness");
  r.stickiness = sticky.empty() ? 0 : parse_score(sticky);
  std::string threshold = get("migration-threshold");
  if (!threshold.empty()) r.migration_threshold = parse_score(threshold);
  if (r.migration_threshold < 0) r.migration_threshold = 0;
  std::string timeout = get("failure-timeout");
  if (!timeout.empty()) r.failure_timeout_s = parse_interval_ms(timeout).value_or(0) / 1000;
  r.priority = parse_score(get("priority"));
  std::string req = get("requires");
  if (req == "unfencing" && (r.cls == "stonith" || !w.stonith_enabled)) req = "quorum";
  if (req != "nothing" && req != "quorum" && req != "fencing" && req != "unfencing") {
    if (r.cls == "stonith") {
      req = "quorum";
    } else if (w.stonith_enabled) {
      req = "fencing";
    } else {
      req = w.no_quorum_policy == "ignore" ? "nothing" : "quorum";
    }
  }
  r.needs_fencing = req == "fencing" || req == "unfencing";
  r.needs_quorum = req != "nothing";
  std::string ordered = get("ordered"), colocated = get("collocated");
  if (!ordered.empty()) r.ordered = is_true(ordered);
  if (!colocated.empty()) r.colocated = is_true(colocated);
}

Resource* read_resource(Working& w, pugi::xml_node x, Resource* parent, const std::string& suffix) {
  std::string_view tag = x.name();
  auto owned = std::make_unique<Resource>();
  Resource* r = owned.get();
  r->base = attr(x, "id");
  r->id = r->base + suffix;
  r->xml = x;
  r->parent = parent;
  if (tag == "primitive") {
    r->variant = Variant::Primitive;
    pugi::xml_node source = x;
    if (auto tmpl = template_of(x)) source = tmpl;
    r->cls = attr(source, "class");
    r->provider = attr(source, "provider");
    r->type = attr(source, "type");
  } else if (tag == "group") {
    r->variant = Variant::Group;
  } else {
    return nullptr;
  }
  w.adopt(std::move(owned));
  read_meta(w, *r);
  read_ops(w, *r);
  if (r->cls == "stonith") w.have_stonith_resource = true;
  if (r->variant == Variant::Group) {
    for (auto child : x.children("primitive")) {
      if (Resource* c = read_resource(w, child, r, suffix)) r->children.push_back(c);
    }
  }
  return r;
}

void size_tables(Working& w, Resource& r) {
  r.known_on.assign(w.nodes.size(), false);
  r.scores.assign(w.nodes.size(), kAbsent);
  r.score_why.assign(w.nodes.size(), Reason());
  for (Resource* c : r.children) size_tables(w, *c);
}

void mark_orphan(Resource& r) {
  r.orphan = true;
  for (Resource* c : r.children) mark_orphan(*c);
}

// One more instance of a clone, numbered after the existing ones; numbers past clone-max are
// orphans (history of instances the configuration no longer allows).
Resource* add_instance(Working& w, Resource& clone) {
  pugi::xml_node child;
  for (auto c : clone.xml.children()) {
    std::string_view tag = c.name();
    if (tag == "primitive" || tag == "group") {
      child = c;
      break;
    }
  }
  if (!child) return nullptr;
  int number = static_cast<int>(clone.children.size());
  Resource* inst = read_resource(w, child, &clone, ":" + std::to_string(number));
  if (inst == nullptr) return nullptr;
  clone.children.push_back(inst);
  if (number >= clone.clone_max) mark_orphan(*inst);
  if (!clone.scores.empty()) size_tables(w, *inst);
  return inst;
}

int meta_int(const Resource& r, std::initializer_list<const char*> names, int fallback) {
  for (const char* n : names) {
    auto it = r.meta.find(n);
    if (it != r.meta.end()) return std::max(0, parse_score(it->second));
  }
  return fallback;
}

// `bundle`: the bundle whose primitive this clone holds; its meta attributes are inherited.
Resource* read_clone(Working& w, pugi::xml_node x, Resource* bundle = nullptr) {
  auto owned = std::make_unique<Resource>();
  Resource* r = owned.get();
  r->id = r->base = attr(x, "id");
  r->xml = x;
  r->variant = Variant::Clone;
  w.adopt(std::move(owned));
  r->parent = bundle;
  read_meta(w, *r);
  r->parent = nullptr;
  r->bundle = bundle;
  auto flag = [&](const char* name) {
    auto it = r->meta.find(name);
    return it != r->meta.end() && is_true(it->second);
  };
  r->promotable = std::string_view(x.name()) == "master" || flag("promotable");
  r->unique = flag("globally-unique");
  r->interleave = flag("interleave");
  // Clones are a little sticky by default, so that instances do not shuffle for nothing.
  if (r->meta.emplace("resource-stickiness", "1").second) r->stickiness = 1;
  r->meta["globally-unique"] = r->unique ? "true" : "false";
  r->clone_max = meta_int(*r, {"clone-max"}, std::max<int>(1, static_cast<int>(w.nodes.size())));
  r->clone_node_max = meta_int(*r, {"clone-node-max"}, 1);
  if (!r->unique) r->clone_node_max = std::min(r->clone_node_max, 1);
  r->promoted_max = meta_int(*r, {"promoted-max", "master-max"}, 1);
  r->promoted_node_max = meta_int(*r, {"promoted-node-max", "master-node-max"}, 1);
  for (int i = 0; i < std::max(1, r->clone_max); ++i) {
    if (add_instance(w, *r) == nullptr) break;
  }
  return r;
}

// The primitives of the configuration, at top level and in groups (templates resolved).
bool is_remote_primitive(pugi::xml_node x) {
  if (std::string_view(x.name()) != "primitive") return false;
  pugi::xml_node source = x;
  if (auto tmpl = template_of(x)) source = tmpl;
  return is_remote_connection_agent(attr(source, "class"), attr(source, "provider"),
                                    attr(source, "type"));
}

// Pacemaker's unpack_remote_nodes: every ocf:pacemaker:remote primitive makes a remote node of
// its own name, unless the nodes section already has one; so does a primitive's remote-node meta
// (a guest node), at top level or in a group.
void read_remote_nodes(Working& w, pugi::xml_node cib) {
  w.implicit_resources = std::make_shared<pugi::xml_document>();
  for (auto x : cib.child("configuration").child("resources").children()) {
    std::vector<pugi::xml_node> prims;
    if (std::string_view(x.name()) == "group") {
      for (auto c : x.children("primitive")) prims.push_back(c);
    } else {
      prims.push_back(x);
    }
    if (std::string_view(x.name()) == "bundle") {
      for (const auto& name : bundle_node_names(x)) {
        if (w.node_index(name) < 0) add_node(w, name, name, true);
      }
    }
    for (auto p : prims) {
      if (std::string_view(p.name()) != "primitive") continue;
      const std::string id =
          is_remote_primitive(p) ? attr(p, "id") : add_guest_connection(*w.implicit_resources, p);
      if (!id.empty() && w.node_index(id) < 0) add_node(w, id, id, true);
    }
  }
}

// A connection resource and its node know each other; the node is unclean from startup (until
// its state is read, or the connection is placed) as any node the cluster has not seen.
void link_connection(Working& w, Resource& r) {
  if (r.variant != Variant::Primitive || !is_remote_connection_agent(r.cls, r.provider, r.type))
    return;
  r.remote_connection = true;
  std::map<std::string, std::string> params;
  unpack_nvpairs(r.xml, "instance_attributes", {nullptr, w.now}, params);
  if (auto it = params.find("reconnect_interval"); it != params.end()) {
    r.reconnect_interval_ms = parse_interval_ms(it->second).value_or(0);
    // The reconnect delay works as a failure-timeout: the connection stays down until it expires.
    if (r.reconnect_interval_ms > 0) r.failure_timeout_s = r.reconnect_interval_ms / 1000;
  }
  int idx = w.node_index(r.id);
  if (idx < 0 || !w.nodes[static_cast<std::size_t>(idx)].remote) return;
  Node& n = w.nodes[static_cast<std::size_t>(idx)];
  n.connection = &r;
  n.guest = container_of(w, r) != nullptr;
  // A guest is never unclean: it is "fenced" by recovering its container.
  n.unclean = w.startup_fencing && !n.guest;
  if (n.guest) n.attrs["#kind"] = "container";
}

// One of a bundle's own resources (an IP or a connection): it takes the bundle's meta attributes
// but is no instance of it.
Resource* read_bundle_member(Working& w, pugi::xml_node x, Resource& bundle) {
  if (!x) return nullptr;
  Resource* r = read_resource(w, x, &bundle);
  r->parent = nullptr;
  r->bundle = &bundle;
  return r;
}

// Pacemaker's pe__unpack_bundle: a clone of the containers (as Pacemaker places them), with the
// replicas' IPs and connections and the bundled primitive's clone beside it.
Resource* read_bundle(Working& w, pugi::xml_node x) {
  BundleParts parts = expand_bundle(*w.implicit_resources, x);
  if (parts.replicas == 0) {
    w.warnings.push_back("not scheduled: bundle " + attr(x, "id") +
                         " (no docker, podman or rkt, or a primitive it cannot reach)");
    return nullptr;
  }
  auto owned = std::make_unique<Resource>();
  Resource* r = owned.get();
  r->id = r->base = attr(x, "id");
  r->xml = x;
  r->variant = Variant::Clone;
  r->is_bundle = true;
  r->image = parts.image;
  w.adopt(std::move(owned));
  read_meta(w, *r);
  r->clone_max = parts.replicas;
  r->clone_node_max = parts.replicas_per_host;
  r->unique = parts.replicas_per_host > 1;
  for (int n = 0; n < parts.replicas; ++n) {
    const auto i = static_cast<std::size_t>(n);
    r->children.push_back(read_resource(w, parts.containers[i], r));
    r->replica_ips.push_back(read_bundle_member(w, parts.ips[i], *r));
    r->replica_connections.push_back(read_bundle_member(w, parts.connections[i], *r));
  }
  if (parts.clone) {
    r->bundled = read_clone(w, parts.clone, r);
    for (std::size_t n = 0; n < r->replica_connections.size(); ++n) {
      int node = w.node_index(r->replica_connections[n]->id);
      if (node >= 0 && n < r->bundled->children.size())
        w.nodes[static_cast<std::size_t>(node)].bundle_instance = r->bundled->children[n];
    }
  }
  return r;
}

void read_resources(Working& w, pugi::xml_node cib) {
  for (auto x : cib.child("configuration").child("resources").children()) {
    std::string_view tag = x.name();
    if (tag == "primitive" || tag == "group") {
      if (Resource* r = read_resource(w, x, nullptr)) w.top.push_back(r);
    } else if (tag == "clone" || tag == "master") {
      w.top.push_back(read_clone(w, x));
    } else if (tag == "bundle") {
      if (Resource* r = read_bundle(w, x)) w.top.push_back(r);
    }
  }
  for (auto x : w.implicit_resources->children("primitive")) {
    if (w.find(attr(x, "id")) != nullptr) continue;  // a resource of that name exists
    if (Resource* r = read_resource(w, x, nullptr)) w.top.push_back(r);
  }
  for (auto& r : w.all) {
    if (r->parent == nullptr) size_tables(w, *r);
  }
  for (auto& r : w.all) link_connection(w, *r);
}

bool shutdown_requested(const Node& n) {
  auto it = n.attrs.find("shutdown");
  return it != n.attrs.end() && !it->second.empty() && it->second != "0";
}

void node_online_no_fencing(Working& w, int idx, pugi::xml_node state) {
  Node& n = w.nodes[static_cast<std::size_t>(idx)];
  std::string in_ccm = attr(state, "in_ccm"), crmd = attr(state, "crmd"),
              join = attr(state, "join");
  if (!is_true(in_ccm)) return;
  if (crmd == "online") {
    if (join == "member") n.online = true;
  } else if (n.expected_up) {
    w.fence_node(idx, "peer is unexpectedly down");
  }
}

void node_online_fencing(Working& w, int idx, pugi::xml_node state) {
  Node& n = w.nodes[static_cast<std::size_t>(idx)];
  std::string join = attr(state, "join"), crmd = attr(state, "crmd");
  bool has_ccm = state.attribute("in_ccm");
  bool in_cluster = is_true(attr(state, "in_ccm"));
  std::string exp = state.attribute("expected") ? attr(state, "expected") : "down";
  std::string term = n.attrs.count("terminate") ? n.attrs["terminate"] : "";
  bool terminate = is_true(term) || (!term.empty() && term[0] != '0' &&
                                     std::isdigit(static_cast<unsigned char>(term[0])));
  bool crmd_online = crmd == "online";
  bool online = in_cluster;
  if (n.shutdown) {
    online = crmd_online;
  } else if (!has_ccm) {
    w.fence_node(idx, "peer has not been seen by the cluster");
  } else if (join == "banned") {
    w.fence_node(idx, "peer failed Pacemaker membership criteria");
  } else if (!terminate && exp == "down") {
    if (in_cluster || crmd_online) {
      n.standby = true;
      n.pending = true;
    }
  } else if (terminate && join == "down" && !in_cluster && !crmd_online) {
    online = false;  // it was just fenced
  } else if (!in_cluster) {
    w.fence_node(idx, "peer is no longer part of the cluster");
  } else if (!crmd_online) {
    w.fence_node(idx, "peer process is no longer available");
  } else if (terminate) {
    w.fence_node(idx, "termination was requested");
  } else if (join == "member") {
    // active
  } else if (join == "pending" || join == "down") {
    n.standby = true;
    n.pending = true;
  } else {
    w.fence_node(idx, "peer was in an unknown state");
  }
  n.online = online;
}

void read_node_states(Working& w, pugi::xml_node status) {
  for (auto state : status.children("node_state")) {
    int idx = w.node_index(attr(state, "id"));
    if (idx < 0) idx = w.node_index(attr(state, "uname"));
    if (idx < 0) continue;
    Node& n = w.nodes[static_cast<std::size_t>(idx)];
    if (n.remote) {
      // A remote node's state depends on its connection's history, read later; only whether it
      // was fenced counts now.
      n.remote_was_fenced = state.attribute("node_fenced").as_int(0) > 0;
      continue;
    }
    std::map<std::string, std::string> transient;
    unpack_nvpairs(state.child("transient_attributes"), "instance_attributes", {&n.attrs, w.now},
                   transient);
    for (auto& [k, v] : transient) n.attrs[k] = v;
    // As Pacemaker's unpack_transient_attributes: standby and maintenance, from the node's
    // configured or transient attributes, count only for a node the status knows of — a node
    // never seen is simply offline.
    n.standby = is_true(n.attrs.count("standby") ? n.attrs["standby"] : "false");
    n.maintenance = is_true(n.attrs.count("maintenance") ? n.attrs["maintenance"] : "false");
    n.unclean = false;
    n.unseen = false;
    n.shutdown = shutdown_requested(n);
    n.expected_up = !n.shutdown && attr(state, "expected") == "member";
    if (w.stonith_enabled) {
      node_online_fencing(w, idx, state);
    } else {
      node_online_no_fencing(w, idx, state);
    }
    if (!w.have_quorum && n.online && w.no_quorum_policy == "suicide") {
      w.fence_node(idx, "cluster does not have quorum");
    }
  }
}

// ---- resource history -----------------------------------------------------------------------

struct OpRecord {
  pugi::xml_node xml;
  std::string_view id;  // the document's own text, which outlives the unpacking
  std::string task;
  std::int64_t interval_ms = 0;
  int rc = 0, status = 0, call_id = 0, target_rc = -1;
  std::int64_t last_change = 0;
  bool has_last_change = false;
  bool probe() const { return task == "monitor" && interval_ms == 0; }
};

// The operation's attributes in one pass: a steady status of 32 nodes and 10 000 resources holds
// some 330 000 operations of a dozen attributes each, and looking up each name scanned them all
// again. The first of a repeated name counts, as xml_node::attribute finds it.
OpRecord read_op(pugi::xml_node x) {
  pugi::xml_attribute id, task, interval, rc, status, call_id, key, change;
  for (auto a = x.first_attribute(); a; a = a.next_attribute()) {
    const std::string_view name = a.name();
    pugi::xml_attribute* slot = name == "id"               ? &id
                                : name == "operation"      ? &task
                                : name == "interval"       ? &interval
                                : name == "rc-code"        ? &rc
                                : name == "op-status"      ? &status
                                : name == "call-id"        ? &call_id
                                : name == "transition-key" ? &key
                                : name == "last-rc-change" ? &change
                                                           : nullptr;
    if (slot != nullptr && !*slot) *slot = a;
  }
  OpRecord o;
  o.xml = x;
  o.id = id.value();
  o.task = task.value();
  o.interval_ms = interval.as_llong(0);
  o.rc = rc.as_int(0);
  o.status = status.as_int(0);
  o.call_id = call_id.as_int(0);
  // transition-key is action:transition:target-rc:uuid
  const std::string_view k = key.value();
  auto c1 = k.find(':');
  auto c2 = c1 == std::string_view::npos ? c1 : k.find(':', c1 + 1);
  auto c3 = c2 == std::string_view::npos ? c2 : k.find(':', c2 + 1);
  if (c3 != std::string_view::npos)
    o.target_rc = std::atoi(std::string(k.substr(c2 + 1, c3 - c2 - 1)).c_str());
  if (change) {
    o.has_last_change = true;
    o.last_change = change.as_llong(0);
  }
  return o;
}

OnFail parse_on_fail(const std::string& v, bool& known) {
  known = true;
  if (v == "block") return OnFail::Block;
  if (v == "fence") return OnFail::Fence;
  if (v == "standby") return OnFail::Standby;
  if (v == "ignore" || v == "nothing") return OnFail::Ignore;
  if (v == "migrate") return OnFail::Migrate;
  if (v == "stop") return OnFail::Stop;
  if (v == "restart") return OnFail::Recover;
  if (v == "demote") return OnFail::Demote;
  if (v == "restart-container") return OnFail::RestartContainer;
  known = false;
  return OnFail::Recover;
}

struct FailPolicy {
  OnFail on_fail = OnFail::Recover;
  Role fail_role = Role::Started;
};

const OpConfig* find_op_config(const Resource& r, const std::string& task, std::int64_t interval) {
  for (const auto& op : r.ops) {
    if (op.name == task && op.interval_ms == interval) return &op;
  }
  return nullptr;
}

FailPolicy fail_policy(const Working& w, const Resource& r, const std::string& task,
                       std::int64_t interval) {
  FailPolicy p;
  std::string value;
  if (const OpConfig* c = find_op_config(r, task, interval)) value = c->on_fail;
  if (value.empty()) {
    auto it = w.op_defaults.find("on-fail");
    if (it != w.op_defaults.end()) value = it->second;
  }
  if (task == "stop" && (value == "standby" || value == "demote" || value == "stop")) value.clear();
  bool known = false;
  // A connection's failures (but for its probes and starts) reset the connection.
  if ((value.empty() || !r.managed) && r.remote_connection && task != "start" &&
      !(task == "monitor" && interval == 0)) {
    if (!r.managed) {
      p.on_fail = OnFail::Stop;
      p.fail_role = Role::Stopped;
    } else {
      p.on_fail = OnFail::ResetRemote;
      if (r.reconnect_interval_ms > 0) p.fail_role = Role::Stopped;
    }
    return p;
  }
  if (!value.empty()) p.on_fail = parse_on_fail(value, known);
  if (known && p.on_fail == OnFail::Fence && !w.stonith_enabled) p.on_fail = OnFail::Stop;
  if (known && p.on_fail == OnFail::Stop) p.fail_role = Role::Stopped;
  const bool contained = container_of(w, r) != nullptr;
  if (known && p.on_fail == OnFail::RestartContainer && !contained) known = false;
  if (!known) {
    if (contained) {
      // What runs inside a container (a guest node's connection too) recovers with it.
      p.on_fail = OnFail::RestartContainer;
    } else if (task == "stop") {
      p.on_fail = w.stonith_enabled ? OnFail::Fence : OnFail::Block;
    } else {
      p.on_fail = OnFail::Recover;
    }
  }
  if (task == "promote" && p.fail_role == Role::Started) p.fail_role = Role::Unpromoted;
  return p;
}

int cmp_on_fail(OnFail a, OnFail b) {
  return static_cast<int>(a) - static_cast<int>(b);
}

void ban(Resource& r, int node, const Reason& why) {
  auto& s = r.scores[static_cast<std::size_t>(node)];
  s = -kInfinity;
  r.score_why[static_cast<std::size_t>(node)] = why;
}

void ban_tree(Resource& r, int node, const Reason& why) {
  ban(r, node, why);
  for (Resource* c : r.children) ban_tree(*c, node, why);
}

// A failure that rules out a node: for an instance of an anonymous clone the whole clone stays
// off it (any instance would fail the same way), else the resource itself.
void ban_failed(Resource& r, int node, const Reason& why) {
  if (anonymous_instance(r)) {
    ban_tree(*clone_of(&r), node, why);
  } else {
    ban(r, node, why);
  }
}

// The pending bans recorded while reading history, applied when scores are set up.
struct HistoryState {
  Role role = Role::Unknown;
  OnFail on_fail = OnFail::Ignore;
  const OpRecord* last_failure = nullptr;
};

// A resource seen running: instances of promotable clones run unpromoted unless promoted.
Role active_role(const Resource& r) {
  const Resource* c = clone_of(&r);
  return c && c->promotable ? Role::Unpromoted : Role::Started;
}

void set_next_role(Resource& r, Role role, const char* why) {
  r.next_role = role;
  r.next_role_reason = why;
}

// Pacemaker's pe__is_newer_op: >0 when history entry `a` is newer than `b`. A pending entry
// (call id -1) is the newest; on one node the call ids tell, else the times of the last change.
int newer_op(const pugi::xml_node& a, const pugi::xml_node& b, bool same_node_default) {
  const int ca = a.attribute("call-id").as_int(0), cb = b.attribute("call-id").as_int(0);
  if (ca == -1 || cb == -1) return ca == cb ? 0 : (ca == -1 ? 1 : -1);
  const std::string a_node = attr(a, "on_node"), b_node = attr(b, "on_node");
  const bool same_node = a_node.empty() || b_node.empty() ? same_node_default : a_node == b_node;
  if (same_node && ca != cb) return ca < cb ? -1 : 1;
  if (!a.attribute("last-rc-change") || !b.attribute("last-rc-change")) return 0;
  const auto ta = a.attribute("last-rc-change").as_llong();
  const auto tb = b.attribute("last-rc-change").as_llong();
  return ta == tb ? 0 : (ta < tb ? -1 : 1);
}

// The history of resource `id` on the node named `node`, from the status section holding `op`.
pugi::xml_node history_on(const pugi::xml_node& op, const std::string& id, const std::string& node) {
  // lrm_rsc_op < lrm_resource < lrm_resources < lrm < node_state < status
  const auto status = op.parent().parent().parent().parent().parent();
  for (auto state : status.children("node_state")) {
    if (attr(state, "uname") != node) continue;
    return state.child("lrm").child("lrm_resources").find_child_by_attribute("lrm_resource", "id",
                                                                               id.c_str());
  }
  return {};
}

// Whether a history holds an entry newer than `than` that says where the resource is: a start,
// stop or migration, or (`or_stopped_monitor`) a monitor that found it not running.
bool newer_state(const pugi::xml_node& history, const pugi::xml_node& than, bool same_node,
                 bool or_stopped_monitor) {
  for (auto o : history.children("lrm_rsc_op")) {
    if (o == than || newer_op(o, than, same_node) <= 0) continue;
    const std::string task = attr(o, "operation");
    if (task == "start" || task == "stop" || task == "migrate_to" || task == "migrate_from")
      return true;
    if (or_stopped_monitor && task == "monitor" && o.attribute("rc-code").as_int(-1) == 7)
      return true;
  }
  return false;
}

// The migrate_from the target of migration `op` recorded for it, if that succeeded.
pugi::xml_node completed_migrate_from(const OpRecord& op) {
  const std::string source = attr(op.xml, "migrate_source");
  const auto there = history_on(op.xml, attr(op.xml.parent(), "id"), attr(op.xml, "migrate_target"));
  for (auto o : there.children("lrm_rsc_op")) {
    if (attr(o, "operation") == "migrate_from" && attr(o, "migrate_source") == source &&
        o.attribute("rc-code").as_int(-1) == 0 && o.attribute("op-status").as_int(-1) == 0)
      return o;
  }
  return {};
}

void add_running(Working& w, Resource& r, int node);

// The first migrate_from on `target` of a migration from `source`, whatever its result.
pugi::xml_node migrate_from_on(const pugi::xml_node& op, const std::string& id,
                               const std::string& source, const std::string& target) {
  for (auto o : history_on(op, id, target).children("lrm_rsc_op")) {
    if (attr(o, "operation") == "migrate_from" && attr(o, "migrate_source") == source) return o;
  }
  return {};
}

// Pacemaker's newer_state_after_migrate: whether `node` has a newer word on the resource than
// the migration's own record there (a start, stop, migration, or a monitor finding it stopped).
bool newer_state_after_migration(const pugi::xml_node& history, const pugi::xml_node& migrate_to,
                                 const pugi::xml_node& migrate_from, bool on_target) {
  const pugi::xml_node mine = on_target ? migrate_from : migrate_to;
  const pugi::xml_node other = on_target ? migrate_to : migrate_from;
  return mine ? newer_state(history, mine, true, true) : newer_state(history, other, false, true);
}

// Pacemaker's unpack_migrate_to_success: migrate_to succeeded on this node (the source). With a
// successful migrate_from on the target, only the source's stop is left (a "dangling" migration);
// with a failed one, the resource is active on the target too or must be recovered; with none,
// the migration is partial: active on both, to be finished if the target stays the same.
void migrate_to_success(Working& w, Resource& r, const OpRecord& op, HistoryState& h) {
  const std::string source = attr(op.xml, "migrate_source");
  const std::string target = attr(op.xml, "migrate_target");
  const int source_node = w.node_index(source), target_node = w.node_index(target);
  const std::string id = attr(op.xml.parent(), "id");
  const bool source_newer_op = newer_state(op.xml.parent(), op.xml, true, false);
  const auto from = migrate_from_on(op.xml, id, source, target);
  if (source_newer_op && from) return;
  const bool target_newer_state =
      newer_state_after_migration(history_on(op.xml, id, target), op.xml, from, true);
  if (source_newer_op && target_newer_state) return;
  h.role = Role::Started;
  const bool target_online =
      target_node >= 0 && w.nodes[static_cast<std::size_t>(target_node)].online;
  const int from_rc = from.attribute("rc-code").as_int(-1);
  const int from_status = from.attribute("op-status").as_int(-1);
  auto run_on_target = [&] {
    if (std::find(r.running_on.begin(), r.running_on.end(), target_node) == r.running_on.end())
      r.running_on.push_back(target_node);
    add_running(w, r, target_node);
  };
  if (from && from_rc == 0 && from_status == kDone) {
    h.role = Role::Stopped;
    if (source_node >= 0) r.dangling_sources.push_back(source_node);
  } else if (from && from_status != kPending) {
    if (!target_newer_state && target_online) {
      run_on_target();
    } else {
      r.failed = true;
      r.needs_stop = true;
    }
  } else if (!target_newer_state && target_online) {
    run_on_target();
    if (source_node >= 0 && w.nodes[static_cast<std::size_t>(source_node)].online) {
      r.partial_source = source_node;
      r.partial_target = target_node;
    }
  } else if (!source_newer_op) {
    r.failed = true;
    r.needs_stop = true;
  }
}

void update_resource_state(Working& w, Resource& r, const OpRecord& op, int rc, HistoryState& h) {
  bool clear_past_failure = false;
  if (rc == 5 || (op.probe() && (op.rc == 5 || op.rc == 6 || op.status == kNotInstalled))) {
    h.role = Role::Stopped;
  } else if (rc == 7) {
    clear_past_failure = true;
  } else if (op.task == "monitor") {
    if (h.last_failure && h.last_failure->id == op.id) clear_past_failure = true;
    if (h.role < Role::Started) h.role = active_role(r);
  } else if (op.task == "start" || op.task == "migrate_from") {
    h.role = Role::Started;
    clear_past_failure = true;
  } else if (op.task == "stop") {
    h.role = Role::Stopped;
    clear_past_failure = true;
  } else if (op.task == "promote") {
    h.role = Role::Promoted;
    clear_past_failure = true;
  } else if (op.task == "demote") {
    if (h.on_fail == OnFail::Demote) clear_past_failure = true;
    h.role = Role::Unpromoted;
  } else if (op.task == "migrate_to" && attr(op.xml, "migrate_source") ==
                                            attr(op.xml.parent().parent().parent().parent(), "uname")) {
    migrate_to_success(w, r, op, h);
  } else if (h.role < Role::Started) {
    h.role = active_role(r);
  }
  if (clear_past_failure) {
    switch (h.on_fail) {
      case OnFail::Stop:
      case OnFail::Fence:
      case OnFail::Migrate:
      case OnFail::Standby:
        break;
      default:
        h.on_fail = OnFail::Ignore;
        set_next_role(r, Role::Unknown, "clear past failures");
        break;
    }
  }
}

// The failure in words, for the reason of its recovery: "its monitor failed (not running)".
std::string failure_words(const OpRecord& op) {
  std::string what = op.probe() ? "probe" : op.task;
  std::string result = op.status == kNotInstalled ? "not installed"
                       : op.status == kTimeout    ? "timed out"
                                                  : ocf_result_text(op.rc);
  return "its " + what + " failed (" + result + ")";
}

// Pacemaker's unpack_migrate_to_failure: a migration that failed half way may have left the
// resource running on its target as well, unless the target's history says otherwise since.
void migrate_to_failure(Working& w, Resource& r, const OpRecord& op) {
  const std::string source = attr(op.xml, "migrate_source");
  const std::string target = attr(op.xml, "migrate_target");
  const int target_node = w.node_index(target);
  const std::string history_id = attr(op.xml.parent(), "id");
  const auto there = history_on(op.xml, history_id, target);
  bool known = false;
  for (auto o : there.children("lrm_rsc_op"))
    known = known || o.attribute("call-id").as_int(-1) != -1;
  if (!known || target_node < 0) return;
  const auto from = completed_migrate_from(op);
  const bool newer = from ? newer_state(there, from, true, true)
                          : newer_state(there, op.xml, false, true);
  const Node& n = w.nodes[static_cast<std::size_t>(target_node)];
  if (newer || !n.online) return;
  if (std::find(r.running_on.begin(), r.running_on.end(), target_node) == r.running_on.end())
    r.running_on.push_back(target_node);
  add_running(w, r, target_node);
}

void rsc_op_failure(Working& w, Resource& r, int node, const OpRecord& op, int rc,
                    HistoryState& h) {
  h.last_failure = &op;
  r.failure = failure_words(op);
  FailPolicy p = fail_policy(w, r, op.task, op.interval_ms);
  if (cmp_on_fail(h.on_fail, p.on_fail) < 0) h.on_fail = p.on_fail;
  if (op.task == "stop") {
    ban(r, node, "failed stop");
    const Node& n = w.nodes[static_cast<std::size_t>(node)];
    if (!w.can_fence(n))
      w.errors.push_back("no further recovery of " + r.id + " on " + n.name + ": " + r.failure +
                         " and the node cannot be fenced; " + r.id +
                         " stays blocked until a cleanup");
  } else if (op.task == "migrate_to" &&
             attr(op.xml, "migrate_source") == w.nodes[static_cast<std::size_t>(node)].name) {
    migrate_to_failure(w, r, op);
  } else if (op.task == "promote") {
    h.role = Role::Promoted;
  } else if (op.task == "demote") {
    if (p.on_fail == OnFail::Block) {
      h.role = Role::Promoted;
      set_next_role(r, Role::Stopped, "demote with on-fail=block");
    } else if (rc == 7) {
      h.role = Role::Stopped;
    } else {
      h.role = Role::Unpromoted;
    }
  }
  if (op.probe() && rc == 5) {
    h.role = Role::Stopped;
  } else if (h.role < Role::Started) {
    h.role = active_role(r);
  }
  if (p.fail_role != Role::Started && r.next_role < p.fail_role)
    set_next_role(r, p.fail_role, "failure");
  if (p.fail_role == Role::Stopped) {
    for (std::size_t i = 0; i < w.nodes.size(); ++i) ban(r, static_cast<int>(i), "on-fail=stop");
  }
}

// failure-timeout: an old failure no longer counts, and its fail-count gets cleared.
bool operation_expired(Working& w, Resource& r, int node, const OpRecord& op) {
  if (r.failure_timeout_s <= 0 || !op.has_last_change) return false;
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  bool expired = w.now / 1000 >= op.last_change + r.failure_timeout_s;
  int effective = fail_count(w, r, n, true);
  if (expired) {
    if (fail_count(w, r, n, false) > 0) {
      if (effective == 0) {
        if (w.find_action(&r, "clear_failcount", node) < 0) {
          int id = w.new_action(&r, "clear_failcount", node);
          w.actions[static_cast<std::size_t>(id)].optional = false;
          w.actions[static_cast<std::size_t>(id)].why =
              "fail-count of " + r.id + " on " + n.name + " expired (failure-timeout)";
        }
      } else {
        expired = false;
      }
    }
  }
  if (expired && op.probe() && (op.rc == 0 || op.rc == 7 || op.rc == 8)) expired = false;
  return expired;
}

void unpack_op(Working& w, Resource& r, int node, const OpRecord& op, HistoryState& h) {
  if (op.task == "notify" || op.task == "meta-data") return;
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  int rc = op.rc, status = op.status, target = op.target_rc;
  bool expired = status != kNotInstalled && operation_expired(w, r, node, op);
  if (op.task == "monitor") {
    if (rc == 190) rc = 0;
    if (rc == 191) rc = 8;
  }
  bool masked_probe = op.probe() && (rc == 5 || rc == 6 || status == kNotInstalled);
  if (masked_probe) {
    status = kDone;
    rc = 7;
  }
  if (status == kDone || status == kError) {
    status = kDone;
    if (target < 0 || target != rc) status = kError;
    switch (rc) {
      case 0:
        if (op.probe() && target == 7) status = kDone;
        break;
      case 7:
        if (op.probe() || target == rc || !r.managed) {
          status = kDone;
          h.role = Role::Stopped;
          h.on_fail = OnFail::Ignore;
          set_next_role(r, Role::Unknown, "not running");
        }
        break;
      case 8:
        if (op.probe() && rc != target) status = kDone;
        h.role = Role::Promoted;
        break;
      case 9:
        h.role = Role::Promoted;
        status = kError;
        break;
      case 6:
        status = kErrorFatal;
        break;
      case 3:
        status = op.interval_ms == 0 ? kErrorHard : kNotSupported;
        break;
      case 2:
      case 4:
      case 5:
        if (op.task == "stop" && !w.can_fence(n)) {
          r.managed = false;
          r.blocked = true;
        }
        status = kErrorHard;
        break;
      default:
        if (status == kDone) status = kError;
        break;
    }
  }
  if (expired && masked_probe && op.rc != op.target_rc) {
    if (h.role <= Role::Stopped) h.role = Role::Unknown;
    return;
  }
  if (expired && rc != target) return;
  if (masked_probe) {
    update_resource_state(w, r, op, target, h);
    if (r.failed_probe_rc < 0) r.failed_probe_rc = op.rc;
    if (anonymous_instance(r)) {
      ban_failed(r, node, "masked probe failure");
    } else {
      ban(*top_of(&r), node, "masked probe failure");
      if (&r != top_of(&r)) ban(r, node, "masked probe failure");
    }
    return;
  }
  switch (status) {
    case kCancelled:
      return;
    case kPending:
      if (op.task == "start") {
        r.start_pending = true;
        if (h.role < Role::Started) h.role = active_role(r);
      } else if (op.task == "promote") {
        h.role = Role::Promoted;
      }
      if (r.pending_task.empty() && (op.interval_ms != 0 || op.task != "monitor")) {
        r.pending_task = op.task;
        r.pending_node = node;
      }
      return;
    case kDone:
      update_resource_state(w, r, op, rc, h);
      return;
    case kNotInstalled:
      ban_failed(r, node, "hard error");
      rsc_op_failure(w, r, node, op, rc, h);
      return;
    default:
      break;
  }
  FailPolicy p = fail_policy(w, r, op.task, op.interval_ms);
  // A contained resource's failed stop ends with its container's restart: as good as stopped.
  if (p.on_fail == OnFail::Ignore ||
      (p.on_fail == OnFail::RestartContainer && op.task == "stop")) {
    update_resource_state(w, r, op, target, h);
    r.failure_ignored = true;
    if (p.on_fail == OnFail::RestartContainer && cmp_on_fail(h.on_fail, OnFail::Recover) <= 0)
      h.on_fail = p.on_fail;
    return;
  }
  rsc_op_failure(w, r, node, op, rc, h);
  if (status == kErrorHard) {
    ban_failed(r, node, "hard error");
  } else if (status == kErrorFatal) {
    for (std::size_t i = 0; i < w.nodes.size(); ++i)
      ban_failed(r, static_cast<int>(i), "fatal error");
  }
}

std::string meta_of(const Resource& r, const char* name) {
  auto it = r.meta.find(name);
  return it == r.meta.end() ? std::string() : it->second;
}

bool multiply_active(const Working& w, const Resource& r) {
  if (r.needs_fencing) return r.running_on.size() > 1;
  std::size_t clean = 0;
  for (int n : r.running_on) {
    const Node& node = w.nodes[static_cast<std::size_t>(n)];
    if (node.online && !node.unclean) ++clean;
  }
  return clean > 1;
}

// Pacemaker's native_add_running: the resource now counts as active on `node` (already in
// running_on); unmanaged resources stick to it, multiply active ones get multiple-active's policy.
void add_running(Working& w, Resource& r, int node) {
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  if (n.maintenance) r.managed = false;
  if (!r.managed) {
    int& s = r.scores[static_cast<std::size_t>(node)];
    s = s == kAbsent ? kInfinity : add_scores(s, kInfinity);
    r.score_why[static_cast<std::size_t>(node)] = "unmanaged and active here";
    return;
  }
  if (!multiply_active(w, r)) return;
  std::string policy = meta_of(r, "multiple-active");
  if (policy == "stop_only") {
    for (std::size_t i = 0; i < w.nodes.size(); ++i)
      ban(r, static_cast<int>(i), "multiple-active=stop_only");
  } else if (policy == "block") {
    r.managed = false;
    r.blocked = true;
    if (r.parent && meta_of(*r.parent, "multiple-active") == "block") {
      for (Resource* c : r.parent->children) {
        c->managed = false;
        c->blocked = true;
      }
    }
  } else if (policy == "stop_unexpected") {
    r.stop_unexpected = true;
  }
}

// on-fail for a remote connection (Pacemaker's reset-remote): the connection is recovered and
// the remote node fenced, unless it already was; a reconnect_interval keeps it down meanwhile.
void reset_connection(Working& w, Resource& r) {
  r.failed = true;
  r.needs_stop = true;
  int remote = w.remote_node_of(r);
  if (w.stonith_enabled && remote >= 0 && !w.nodes[static_cast<std::size_t>(remote)].remote_was_fenced)
    w.fence_node(remote, "remote connection is unrecoverable");
  if (r.reconnect_interval_ms > 0) set_next_role(r, Role::Stopped, "remote reset");
}

// Pacemaker's stop_action for a container at unpack time: a required stop, so it restarts.
void restart_container(Working& w, Resource& container, int node) {
  if (w.find_action(&container, "stop", node) >= 0) return;
  int id = w.new_action(&container, "stop", node);
  w.actions[static_cast<std::size_t>(id)].optional = false;
  w.actions[static_cast<std::size_t>(id)].why = "a resource inside " + container.id + " failed";
}

void process_rsc_state(Working& w, Resource& r, int node, OnFail on_fail, Role role) {
  Node& n = w.nodes[static_cast<std::size_t>(node)];
  if (role != Role::Unknown) r.known_on[static_cast<std::size_t>(node)] = true;
  if (role > Role::Stopped && !n.online && !n.maintenance && r.managed && n.guest) {
    // Whatever ran in a guest that is down went with it; recovering the container "fences" it.
    r.failed = true;
    r.needs_stop = true;
    w.fence_node(node, r.id + " is thought to be active there");
  } else if (role > Role::Stopped && !n.online && !n.maintenance && r.managed &&
             w.stonith_enabled) {
    if (n.remote && n.connection && !n.connection->failed) {
      // Fenced only if its connection cannot be re-established elsewhere (see place()).
      n.unseen = true;
      w.fence_node(node, r.id +
                             " is active there (fencing will be revoked if remote connection can "
                             "be re-established elsewhere)");
    } else {
      w.fence_node(node, r.id + " is thought to be active there");
    }
  }
  if (n.unclean) on_fail = OnFail::Ignore;
  switch (on_fail) {
    case OnFail::Demote:
      r.failed = true;
      w.create_early(&r, "demote", node);
      break;
    case OnFail::Fence:
      w.fence_node(node, r.id + " failed there");
      break;
    case OnFail::Standby:
      n.standby = true;
      break;
    case OnFail::Block:
      r.managed = false;
      r.blocked = true;
      break;
    case OnFail::Migrate:
      ban(r, node, "on-fail=migrate");
      break;
    case OnFail::Stop:
      set_next_role(r, Role::Stopped, "on-fail=stop");
      break;
    case OnFail::Recover:
      if (role != Role::Stopped && role != Role::Unknown) {
        r.failed = true;
        r.needs_stop = true;
        w.create_early(&r, "stop", node);
      }
      break;
    case OnFail::ResetRemote:
      reset_connection(w, r);
      break;
    case OnFail::RestartContainer:
      r.failed = true;
      r.needs_stop = true;
      if (Resource* c = container_of(w, r)) restart_container(w, *c, node);
      break;
    case OnFail::Ignore:
      break;
  }
  // A failed connection to an unclean remote node means fencing it, reconnected or not.
  if (r.failed && r.remote_connection) {
    if (int remote = w.remote_node_of(r); remote >= 0) {
      Node& rn = w.nodes[static_cast<std::size_t>(remote)];
      if (rn.unclean) rn.unseen = false;
    }
  }
  if (role != Role::Stopped && role != Role::Unknown) {
    if (std::find(r.running_on.begin(), r.running_on.end(), node) == r.running_on.end()) {
      r.running_on.push_back(node);
    }
    add_running(w, r, node);
    switch (on_fail) {
      case OnFail::Ignore:
        break;
      case OnFail::Demote:
      case OnFail::Block:
        r.failed = true;
        break;
      default:
        r.failed = true;
        r.needs_stop = true;
        break;
    }
  } else if (r.clone_name.find(':') != std::string::npos) {
    // An instance number in a stopped history is an older status section's: Pacemaker forgets
    // it, or stopped instances would look like orphans.
    r.clone_name.clear();
  }
}

Role target_role(const Resource& r) {
  auto it = r.meta.find("target-role");
  if (it == r.meta.end()) return Role::Unknown;
  const std::string v = ascii_lower(it->second);
  if (v == "stopped") return Role::Stopped;
  if (v == "started") return Role::Started;
  // The roles of promotable clones mean nothing elsewhere; Promoted is what a promotable
  // instance may become anyway, so only Unpromoted limits it.
  const Resource* clone = clone_of(&r);
  bool promotable = clone != nullptr && clone->promotable;
  if (v == "slave" || v == "unpromoted") return promotable ? Role::Unpromoted : Role::Unknown;
  return Role::Unknown;
}

Resource* orphan_resource(Working& w, pugi::xml_node lrm_rsc) {
  auto owned = std::make_unique<Resource>();
  Resource* r = owned.get();
  r->id = attr(lrm_rsc, "id");
  r->cls = attr(lrm_rsc, "class");
  r->provider = attr(lrm_rsc, "provider");
  r->type = attr(lrm_rsc, "type");
  r->orphan = true;
  r->xml = lrm_rsc;
  for (auto& [k, v] : w.rsc_defaults) r->meta.emplace(k, v);
  if (!w.stop_orphans || w.maintenance_mode) r->managed = false;
  r->known_on.assign(w.nodes.size(), false);
  r->scores.assign(w.nodes.size(), kAbsent);
  r->score_why.assign(w.nodes.size(), Reason());
  // An orphan may only stop: it is allowed nowhere.
  const Reason orphan("orphan");
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    r->scores[i] = -kInfinity;
    r->score_why[i] = orphan;
  }
  w.adopt(std::move(owned));
  w.top.push_back(r);
  return r;
}

// Recurring monitors started after the last start (and not stopped since) are still running.
// The recurring monitors that run since the resource last started here. Without a recorded start
// (its history was cleaned up, or it was found running), a monitor that found it running after
// the last stop stands for the start, as Pacemaker reads such a history; else every cleanup of a
// running resource would schedule its monitor again, transition after transition.
void record_active_monitors(Resource& r, int node, const std::vector<OpRecord>& ops) {
  int start = -1, stop = -1, implied = -1;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    const int at = static_cast<int>(i);
    if (op.task == "stop" && op.status == kDone) stop = at;
    if (op.task == "start" || op.task == "migrate_from") start = at;
    if (op.task == "monitor" && op.status == kDone && (op.rc == 0 || op.rc == 8) && implied <= stop)
      implied = at;
  }
  if (start < 0) start = implied;
  if (start < 0 || start < stop) return;
  for (std::size_t i = static_cast<std::size_t>(start); i < ops.size(); ++i) {
    if (ops[i].interval_ms > 0 && ops[i].status != kPending)
      r.active_monitors.emplace_back(node, ops[i].interval_ms);
  }
}

// The parameters an operation runs with: the resource's instance attributes (rules evaluated
// for the node) and those of the configured operation.
bool addressed_by_host(const Resource& r);

std::map<std::string, std::string> op_parameters(const Working& w, const Resource& r, const Node& n,
                                                 const std::string& task, std::int64_t interval,
                                                 bool& op_extra) {
  std::map<std::string, std::string> params;
  RuleContext ctx{&n.attrs, w.now};
  for (auto op : r.xml.child("operations").children("op")) {
    auto real = resolve_ref(op);
    if (attr(real, "name") != task ||
        parse_interval_ms(attr(real, "interval")).value_or(0) != interval)
      continue;
    unpack_nvpairs(real, "instance_attributes", ctx, params);
  }
  op_extra = !params.empty();
  unpack_nvpairs(r.xml, "instance_attributes", ctx, params);
  if (auto tmpl = template_of(r.xml)) unpack_nvpairs(tmpl, "instance_attributes", ctx, params);
  // Groups and clones pass their own instance attributes down to their members.
  for (const Resource* p = r.parent; p != nullptr; p = p->parent)
    unpack_nvpairs(p->xml, "instance_attributes", ctx, params);
  // A bundle connection's "#uname" is its container's host.
  auto addr = params.find("addr");
  if (addressed_by_host(r) && addr != params.end() && addr->second == "#uname") {
    const Resource* container = container_of(w, r);
    addr->second = container && !container->running_on.empty()
                       ? w.nodes[static_cast<std::size_t>(container->running_on.front())].name
                       : n.name;
  }
  return params;
}

// A simulation reads CIBs whose secrets were masked: when the digest of the non-secret
// parameters (op-secure-digest) still matches, nothing really changed.
bool only_private_changed(const Resource& r, const OpRecord& op,
                          const std::map<std::string, std::string>& params) {
  std::string recorded = attr(op.xml, "op-secure-digest");
  if (recorded.empty()) return false;
  std::string secret = " " + attr(op.xml, "op-secure-params") + " ";
  std::map<std::string, std::string> open;
  for (const auto& [k, v] : params) {
    if (secret.find(" " + k + " ") != std::string::npos) continue;
    if (r.cls == "stonith" && k.rfind("pcmk_", 0) == 0) continue;
    open.emplace(k, v);
  }
  return parameters_digest(open) == recorded;
}

// Pacemaker's configuration check of an active resource's last start (or promote): a changed
// parameter digest means a restart, or a reload when the agent recorded what it can reload.
void check_definition(const Working& w, Resource& r, int node, const std::vector<OpRecord>& ops) {
  if (r.orphan) return;
  int start = -1, stop = -1;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].task == "stop" && ops[i].status == kDone) stop = static_cast<int>(i);
    if (ops[i].task == "start" || ops[i].task == "migrate_from") start = static_cast<int>(i);
  }
  if (start < stop) return;
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  for (std::size_t i = static_cast<std::size_t>(std::max(start, 0)); i < ops.size(); ++i) {
    const OpRecord& op = ops[i];
    if (op.interval_ms != 0 ||
        (op.task != "start" && op.task != "promote" && op.task != "migrate_from"))
      continue;
    bool op_extra = false;
    auto params = op_parameters(w, r, n, op.task, 0, op_extra);
    std::string recorded = attr(op.xml, "op-digest");
    std::string restart_recorded = attr(op.xml, "op-restart-digest");
    bool restart = false, reload = false;
    if (!restart_recorded.empty()) {
      std::string keep = " " + attr(op.xml, "op-force-restart") + " ";
      std::map<std::string, std::string> restart_params;
      for (const auto& [k, v] : params) {
        if (keep.find(" " + k + " ") != std::string::npos) restart_params.emplace(k, v);
      }
      if (parameters_digest(restart_params) != restart_recorded) restart = true;
    }
    if (!restart && (recorded.empty() || recorded != parameters_digest(params))) {
      if (!recorded.empty() && op_extra) {
        restart = true;
      } else if (!restart_recorded.empty()) {
        reload = true;
      } else {
        restart = true;
      }
    }
    if ((restart || reload) && only_private_changed(r, op, params)) continue;
    if (restart) r.definition_changed = true;
    if (reload && r.managed && !r.failed) {
      // A reload of a start still in flight becomes a stop (and a fresh start).
      if (r.start_pending) {
        r.stop_for_reload = true;
      } else {
        r.reload = true;
      }
    }
  }
}

std::string strip_instance(const std::string& id) {
  auto colon = id.rfind(':');
  return colon == std::string::npos ? id : id.substr(0, colon);
}

// The member of an instance (the instance itself, or a member of a cloned group) whose
// configured id is `base`.
Resource* member_with_base(Resource* inst, const std::string& base) {
  for (Resource* p : primitives_of(inst)) {
    if (p->base == base) return p;
  }
  return nullptr;
}

// Where an instance is active or has an operation in flight.
std::vector<int> instance_locations(Resource* inst) {
  std::vector<int> out;
  for (Resource* p : primitives_of(inst)) {
    for (int n : p->running_on) {
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    if (p->pending_node >= 0 && std::find(out.begin(), out.end(), p->pending_node) == out.end())
      out.push_back(p->pending_node);
  }
  return out;
}

bool blocked_anywhere(Resource* r) {
  for (Resource* p : primitives_of(r)) {
    if (p->blocked) return true;
  }
  return r->blocked;
}

// Pacemaker's find_anonymous_clone: history recorded under the bare id belongs to the instance
// already active on that node, else to the first free instance, else to a new orphan instance.
Resource* anonymous_instance_for(Working& w, int node, Resource& clone, const std::string& base) {
  Resource* found = nullptr;
  Resource* inactive = nullptr;
  bool skip_inactive = false;
  for (Resource* inst : clone.children) {
    auto where = instance_locations(inst);
    if (!where.empty()) {
      if (where.front() != node) continue;
      Resource* m = member_with_base(inst, base);
      if (m && !m->running_on.empty()) {
        skip_inactive = true;  // a second history for the same node: an orphan
      } else if (m) {
        found = m;
        break;
      }
    } else if (!skip_inactive && inactive == nullptr && !blocked_anywhere(inst)) {
      inactive = member_with_base(inst, base);
      if (inactive && inactive->pending_node >= 0 && inactive->pending_node != node)
        inactive = nullptr;
    }
  }
  if (found == nullptr && !skip_inactive) found = inactive;
  const Node& n = w.nodes[static_cast<std::size_t>(node)];
  bool universal = clone.clone_max >= static_cast<int>(w.nodes.size());
  // Without fencing, an instance on a lost node does not use up an instance number.
  if (found && !found->needs_fencing && (!n.online || n.unclean) && !universal) found = nullptr;
  if (found == nullptr) {
    if (Resource* inst = add_instance(w, clone)) found = member_with_base(inst, base);
  }
  return found;
}

// Pacemaker's unpack_find_resource: which configured resource a history entry belongs to.
Resource* history_resource(Working& w, int node, const std::string& id) {
  Resource* r = w.find(id);
  if (r == nullptr) {
    Resource* zero = w.find(strip_instance(id) + ":0");
    if (zero == nullptr || !anonymous_instance(*zero)) return nullptr;
    r = zero;
  } else if (r->variant != Variant::Primitive) {
    return nullptr;
  }
  if (anonymous_instance(*r) && clone_of(r)->bundle != nullptr) {
    // A bundled resource's history belongs to the replica whose guest node recorded it.
    Resource* inst = w.nodes[static_cast<std::size_t>(node)].bundle_instance;
    if (inst == nullptr || inst->parent != clone_of(r)) return nullptr;
    if (id != inst->id) inst->clone_name = id;
    return inst;
  }
  if (anonymous_instance(*r)) {
    Resource* clone = clone_of(r);
    std::string base = r->base.empty() ? strip_instance(id) : r->base;
    r = anonymous_instance_for(w, node, *clone, base);
    if (r && id != r->id) r->clone_name = id;
  }
  return r;
}

// A history's operations, oldest first; pending operations (call-id -1) are the newest. Into
// `ops`, which the caller reuses from one history to the next: a steady status of 32 nodes and
// 10 000 resources holds 320 000 histories, most of one operation, and a vector of its own each
// was an allocation and a free apiece.
void sorted_ops(pugi::xml_node lrm_rsc, std::vector<OpRecord>& ops) {
  ops.clear();
  for (auto op : lrm_rsc.children("lrm_rsc_op")) ops.push_back(read_op(op));
  std::stable_sort(ops.begin(), ops.end(), [](const OpRecord& a, const OpRecord& b) {
    int ca = a.call_id < 0 ? INT32_MAX : a.call_id, cb = b.call_id < 0 ? INT32_MAX : b.call_id;
    return ca < cb;
  });
}

// A bundle connection whose address is "#uname" (its container's host): its parameters are
// known only once every history is read, the container's included.
bool addressed_by_host(const Resource& r) {
  if (r.bundle == nullptr || !r.remote_connection) return false;
  auto params = r.xml.child("instance_attributes");
  return std::string(params.find_child_by_attribute("name", "addr").attribute("value").value()) ==
         "#uname";
}

// Pacemaker's unpack_shutdown_lock: a history recorded with shutdown-lock (the time its node
// shut down) locks the resource to that node, unless shutdown-lock-limit has passed since.
// (Pacemaker then also clears the expired history, an lrm_delete vigil does not schedule.)
void unpack_shutdown_lock(const Working& w, Resource& r, int node, pugi::xml_node lrm_rsc) {
  const std::int64_t since = lrm_rsc.attribute("shutdown-lock").as_llong(0);
  if (since == 0) return;
  if (w.shutdown_lock_limit_s > 0 && w.now / 1000 > since + w.shutdown_lock_limit_s) return;
  r.lock_node = node;
  r.lock_time = since;
}

// `ops`: room for the history's operations (see sorted_ops).
void unpack_lrm_resource(Working& w, int node, pugi::xml_node lrm_rsc, std::vector<OpRecord>& ops) {
  sorted_ops(lrm_rsc, ops);
  if (ops.empty()) return;
  std::string id = attr(lrm_rsc, "id");
  Resource* r = history_resource(w, node, id);
  if (r == nullptr) r = orphan_resource(w, lrm_rsc);
  if (id != r->id || anonymous_instance(*r)) r->history_ids[node] = id;
  if (w.shutdown_lock) unpack_shutdown_lock(w, *r, node, lrm_rsc);
  Role saved = r->role;
  HistoryState h;
  for (const auto& op : ops) unpack_op(w, *r, node, op, h);
  record_active_monitors(*r, node, ops);
  // Pacemaker's process_recurring makes each (as optional actions) as it reads them.
  for (const auto& [where, interval] : r->active_monitors) {
    if (where == node && w.nodes[static_cast<std::size_t>(node)].online)
      w.create_early(r, "monitor", node, interval);
  }
  process_rsc_state(w, *r, node, h.on_fail, h.role);
  // The source's stop after a migrate_to does not stop what the partial migration left running
  // on its target.
  if (h.role == Role::Stopped && r->partial_source == node && r->partial_target >= 0 &&
      !r->running_on.empty())
    h.role = Role::Started;
  if (std::find(r->running_on.begin(), r->running_on.end(), node) != r->running_on.end()) {
    if (addressed_by_host(*r)) {
      w.host_addressed.push_back({r, node, lrm_rsc});
    } else {
      check_definition(w, *r, node, ops);
    }
  }
  Role req = target_role(*r);
  if (req != Role::Unknown && (r->next_role == Role::Unknown || req < r->next_role)) {
    set_next_role(*r, req, "target-role");
  }
  r->role = std::max(saved, h.role);
}

// Pacemaker's determine_remote_online_status: a remote node is up while its connection is
// started and has not failed; a guest also needs its container up, and a host that is not lost.
void remote_online_status(Working& w, Node& n) {
  const Resource* rsc = n.connection;
  if (rsc == nullptr) {
    n.online = false;
    return;
  }
  const Resource* container = w.guest_container(n);
  if (rsc->role == Role::Started) n.online = true;
  if (rsc->role == Role::Started && rsc->next_role == Role::Stopped) n.shutdown = true;
  const Node* host = container && rsc->running_on.size() == 1
                         ? &w.nodes[static_cast<std::size_t>(rsc->running_on[0])]
                         : nullptr;
  if (container && container->failed) {
    n.online = false;
    n.remote_requires_reset = true;
  } else if (rsc->failed) {
    n.online = false;
  } else if (rsc->role == Role::Stopped || (container && container->role == Role::Stopped)) {
    n.online = false;
    n.remote_requires_reset = false;
  } else if (host && !host->online && host->unclean) {
    n.online = false;
    n.remote_requires_reset = true;
  }
}

// Pacemaker's unpack_handle_remote_attrs: a remote node's attributes, read once its connection
// is known.
void remote_node_attributes(Working& w, Node& n, pugi::xml_node state) {
  if (!n.remote_requires_reset) {
    n.unclean = false;
    n.unseen = false;
  }
  std::map<std::string, std::string> transient;
  unpack_nvpairs(state.child("transient_attributes"), "instance_attributes", {&n.attrs, w.now},
                 transient);
  for (auto& [k, v] : transient) n.attrs[k] = v;
  if (shutdown_requested(n)) n.shutdown = true;
  if (n.attrs.count("standby") && is_true(n.attrs["standby"])) n.standby = true;
  if ((n.attrs.count("maintenance") && is_true(n.attrs["maintenance"])) ||
      (n.connection && !n.connection->managed))
    n.maintenance = true;
}

// Whether a node's history can be read in this pass: a remote node's only once its connection is
// known to run (a remote node's whatever its connection when shutdown locks are on); without
// fencing or shutdown locks, an offline cluster node's never (it cannot be trusted).
bool history_readable(const Working& w, const Node& n, bool last_pass) {
  if (n.remote && (last_pass || n.connection == nullptr)) return last_pass;
  if (n.remote) {
    const Resource* container = w.guest_container(n);
    if (container == nullptr && w.shutdown_lock) return true;
    return n.connection->role == Role::Started &&
           (container == nullptr || container->role == Role::Started);
  }
  return w.stonith_enabled || w.shutdown_lock || n.online;
}

// Pacemaker's unpack_node_history, pass after pass until nothing more can be read: remote nodes'
// histories wait for their connections', which other nodes record.
bool read_history_pass(Working& w, pugi::xml_node status, bool last_pass) {
  bool progress = false;
  for (auto state : status.children("node_state")) {
    int idx = w.node_index(attr(state, "id"));
    if (idx < 0) idx = w.node_index(attr(state, "uname"));
    if (idx < 0) continue;
    Node& n = w.nodes[static_cast<std::size_t>(idx)];
    if (n.unpacked || !history_readable(w, n, last_pass)) continue;
    if (n.remote) {
      remote_online_status(w, n);
      remote_node_attributes(w, n, state);
    }
    n.unpacked = true;
    std::vector<OpRecord> ops;
    for (auto lrm_rsc : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
      unpack_lrm_resource(w, idx, lrm_rsc, ops);
    }
    progress = true;
  }
  return progress;
}

void read_history(Working& w, pugi::xml_node status) {
  for (std::size_t pass = 0; pass <= w.nodes.size() && read_history_pass(w, status, false);
       ++pass) {
  }
  // Then the remote nodes whose connection is not up, when fencing can vouch for them.
  if (w.stonith_enabled) read_history_pass(w, status, true);
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    Node& n = w.nodes[i];
    if (!n.remote) continue;
    if (n.shutdown && n.connection) set_next_role(*n.connection, Role::Stopped, "remote shutdown");
    if (!n.unpacked) remote_online_status(w, n);
  }
}

void finish_resources(Working& w) {
  for (auto& r : w.all) {
    if (r->variant != Variant::Primitive) continue;
    // running_on keeps the order Pacemaker's native_add_running gives it: the order in which the
    // history showed the resource active (crm_mon's "FAILED [ kimball castor ]").
    if (r->running_on.empty()) r->role = Role::Stopped;
    Role req = target_role(*r);
    if (req != Role::Unknown && r->next_role == Role::Unknown && req == Role::Stopped) {
      set_next_role(*r, req, "target-role");
    }
    if (r->role == Role::Stopped && r->next_role == Role::Unknown && req == Role::Stopped) {
      set_next_role(*r, Role::Stopped, "target-role");
    }
  }
  // Groups and clones take the highest role of their members (groups inside clones first).
  for (auto it = w.all.rbegin(); it != w.all.rend(); ++it) {
    Resource* g = it->get();
    if (g->variant == Variant::Primitive || g->children.empty()) continue;
    g->role = Role::Stopped;
    for (auto* c : g->children) g->role = std::max(g->role, c->role);
  }
}

}  // namespace

int fail_count(const Working& w, const Resource& rsc, const Node& node, bool effective,
               std::int64_t* last_failure) {
  const std::string& id = failure_id(rsc);
  const std::string fc = "fail-count-" + id, lf = "last-failure-" + id;
  // As Pacemaker's generate_fail_regex: NAME, NAME#OP_INTERVAL, and for an anonymous clone's
  // instance also the legacy per-instance NAME:N (and NAME:N#OP_INTERVAL), all counted together.
  const bool any_instance = anonymous_instance(rsc);
  auto matches = [any_instance](const std::string& key, const std::string& prefix) {
    if (key.compare(0, prefix.size(), prefix) != 0) return false;
    std::size_t at = prefix.size();
    if (any_instance && at < key.size() && key[at] == ':') {
      const std::size_t digits = key.find_first_not_of("0123456789", at + 1);
      if (digits == at + 1) return false;
      at = digits == std::string::npos ? key.size() : digits;
    }
    return at == key.size() || key[at] == '#';
  };
  int count = 0;
  std::int64_t last = 0;
  for (const auto& [k, v] : node.attrs) {
    if (matches(k, fc)) count = add_scores(count, parse_score(v));
    if (matches(k, lf)) last = std::max<std::int64_t>(last, std::atoll(v.c_str()));
  }
  if (last_failure && count > 0 && last > 0) *last_failure = last;
  if (effective && count > 0 && last > 0 && rsc.failure_timeout_s > 0) {
    if (w.now / 1000 > last + rsc.failure_timeout_s) count = 0;
  }
  return count;
}

std::string add_guest_connection(pugi::xml_document& into, pugi::xml_node primitive) {
  std::map<std::string, std::string> m;
  for (auto set : primitive.children("meta_attributes")) {
    for (auto nv : set.children("nvpair")) m[attr(nv, "name")] = attr(nv, "value");
  }
  auto get = [&m](const char* name) {
    auto it = m.find(name);
    return it == m.end() ? std::string() : it->second;
  };
  const std::string name = get("remote-node");
  if (name.empty()) return name;
  auto p = into.append_child("primitive");
  p.append_attribute("id") = name.c_str();
  p.append_attribute("class") = "ocf";
  p.append_attribute("provider") = "pacemaker";
  p.append_attribute("type") = "remote";
  auto meta = p.append_child("meta_attributes");
  meta.append_attribute("id") = (name + "-meta_attributes").c_str();
  auto add = [](pugi::xml_node set, const std::string& n, const std::string& v) {
    auto nv = set.append_child("nvpair");
    nv.append_attribute("name") = n.c_str();
    nv.append_attribute("value") = v.c_str();
  };
  add(meta, "internal_rsc", "true");
  add(meta, "container", attr(primitive, "id"));
  if (m.count("remote-allow-migrate")) add(meta, "allow-migrate", get("remote-allow-migrate"));
  if (m.count("is-managed")) add(meta, "is-managed", get("is-managed"));
  if (m.count("remote-addr") || m.count("remote-port")) {
    auto params = p.append_child("instance_attributes");
    params.append_attribute("id") = (name + "-instance_attributes").c_str();
    if (m.count("remote-addr")) add(params, "addr", get("remote-addr"));
    if (m.count("remote-port")) add(params, "port", get("remote-port"));
  }
  auto ops = p.append_child("operations");
  auto op = [&ops, &name](const char* task, const char* interval, const std::string& timeout) {
    auto o = ops.append_child("op");
    o.append_attribute("id") = (name + "-" + task + "-interval-" + interval).c_str();
    o.append_attribute("name") = task;
    o.append_attribute("interval") = interval;
    o.append_attribute("timeout") = timeout.c_str();
  };
  op("monitor", "30s", "30s");
  op("start", "0", m.count("remote-connect-timeout") ? get("remote-connect-timeout") : "60s");
  return name;
}

Unpacked unpack_status(const cib::Cib& cib, Millis now) {
  Unpacked out;
  Working& w = out.w;
  w.now = now;
  auto root = cib.root();
  w.configuration = root.child("configuration");
  read_options(w, root);
  read_nodes(w, root);
  read_remote_nodes(w, root);
  read_resources(w, root);
  if (w.have_watchdog) w.have_stonith_resource = true;
  // Unseen nodes count as unclean only where they could be fenced at all.
  if (!w.stonith_enabled || !w.have_stonith_resource) {
    for (auto& n : w.nodes) n.unclean = false;
  }
  auto status = root.child("status");
  read_node_states(w, status);
  read_history(w, status);
  std::vector<OpRecord> ops;
  for (const auto& check : w.host_addressed) {
    sorted_ops(check.history, ops);
    check_definition(w, *check.rsc, check.node, ops);
  }
  finish_resources(w);
  read_utilization(w);
  return out;
}

}  // namespace vigil::scheduler
