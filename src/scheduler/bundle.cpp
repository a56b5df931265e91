// The implicit resources of a <bundle>, as Pacemaker 2.1.5 makes them (lib/pengine/bundle.c):
// the same ids, parameters and operations, down to the spaces in run_opts.
#include "scheduler/bundle.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "scheduler/model.h"

namespace vigil::scheduler {

namespace {

constexpr const char* kRemotePort = "3121";
constexpr const char* kAuthKey = "/etc/pacemaker/authkey";
constexpr const char* kBundleLogDir = "/var/log/pacemaker/bundles";
constexpr const char* kRemoteDaemon = "/usr/sbin/pacemaker-remoted";

struct Mount {
  std::string source, target, options;
  bool per_replica = false;  // source-dir-root: each replica gets its own subdirectory
};

struct Port {
  std::string source, target;
};

struct Shape {
  std::string agent;  // docker, rkt or podman
  std::string image, run_command, network;
  std::optional<std::string> options;
  std::string ip_range_start, host_netmask, host_interface, control_port;
  bool add_host = true;
  int replicas = 1, per_host = 1, promoted_max = 0;
  std::vector<Mount> mounts;
  std::vector<Port> ports;
  pugi::xml_node primitive;
};

// Pacemaker's pcmk__scan_min_int: absent or unreadable text gives the minimum, as does less.
int scan_min(pugi::xml_node n, const char* name, int minimum) {
  if (!n.attribute(name)) return minimum;
  int value = 0;
  if (std::sscanf(attr(n, name).c_str(), "%d", &value) != 1) return minimum;
  return std::max(value, minimum);
}

// The address after `last` in an IPv4 range, or "" at its end (Pacemaker's next_ip).
std::string next_ip(const std::string& last) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(last.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || c > 253) return "";
  if (d > 253) {
    ++c;
    d = 1;
  } else {
    ++d;
  }
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
         std::to_string(d);
}

std::optional<Shape> read_shape(pugi::xml_node bundle) {
  Shape s;
  pugi::xml_node agent;
  for (const char* name : {"docker", "rkt", "podman"}) {
    agent = bundle.child(name);
    if (agent) {
      s.agent = name;
      break;
    }
  }
  if (!agent) return std::nullopt;
  s.promoted_max = scan_min(agent, agent.attribute("promoted-max") ? "promoted-max" : "masters", 0);
  s.replicas = (!agent.attribute("replicas") && s.promoted_max > 0)
                   ? s.promoted_max
                   : scan_min(agent, "replicas", 1);
  s.per_host = scan_min(agent, "replicas-per-host", 1);
  s.run_command = attr(agent, "run-command");
  if (agent.attribute("options")) s.options = attr(agent, "options");
  s.image = attr(agent, "image");
  s.network = attr(agent, "network");
  if (auto net = bundle.child("network")) {
    s.ip_range_start = attr(net, "ip-range-start");
    s.host_netmask = attr(net, "host-netmask");
    s.host_interface = attr(net, "host-interface");
    s.control_port = attr(net, "control-port");
    if (net.attribute("add-host")) s.add_host = is_true(attr(net, "add-host"));
    for (auto p : net.children()) {
      Port port;
      port.source = attr(p, "port");
      if (port.source.empty()) {
        port.source = attr(p, "range");
      } else {
        port.target = attr(p, "internal-port");
      }
      if (port.source.empty()) continue;
      if (port.target.empty()) port.target = port.source;
      s.ports.push_back(port);
    }
  }
  bool log_mounted = false;
  for (auto m : bundle.child("storage").children()) {
    Mount mount{attr(m, "source-dir"), attr(m, "target-dir"), attr(m, "options"), false};
    if (!m.attribute("source-dir")) {
      mount.source = attr(m, "source-dir-root");
      mount.per_replica = true;
    }
    if (mount.source.empty() || mount.target.empty()) continue;
    if (mount.target == "/var/log") log_mounted = true;
    s.mounts.push_back(mount);
  }
  // A control port without an address range reaches one replica per host only.
  const bool reachable = !s.ip_range_start.empty() || !s.control_port.empty();
  if (s.ip_range_start.empty() && !s.control_port.empty()) s.per_host = 1;
  s.primitive = bundle.child("primitive");
  if (s.primitive && !reachable) return std::nullopt;
  if (s.primitive) {
    // The remote daemon inside needs the cluster's key, and its logs go to the host.
    s.mounts.push_back({kAuthKey, kAuthKey, "", false});
    if (!log_mounted) s.mounts.push_back({kBundleLogDir, "/var/log", "", true});
    const std::string port = s.control_port.empty() ? kRemotePort : s.control_port;
    s.ports.push_back({port, port});
  }
  return s;
}

void add_nvpair(pugi::xml_node set, const std::string& name, const std::string& value) {
  auto nv = set.append_child("nvpair");
  nv.append_attribute("id") = (attr(set, "id") + "-" + name).c_str();
  nv.append_attribute("name") = name.c_str();
  nv.append_attribute("value") = value.c_str();
}

pugi::xml_node add_set(pugi::xml_node rsc, const char* tag, const std::string& id) {
  auto set = rsc.append_child(tag);
  set.append_attribute("id") = id.c_str();
  return set;
}

void add_monitor(pugi::xml_node rsc, const char* interval, const char* timeout) {
  auto op = rsc.append_child("operations").append_child("op");
  const std::string id = attr(rsc, "id");
  op.append_attribute("id") = (id + "-monitor-" + interval).c_str();
  op.append_attribute("name") = "monitor";
  op.append_attribute("interval") = interval;
  if (timeout != nullptr) op.append_attribute("timeout") = timeout;
}

pugi::xml_node add_primitive(pugi::xml_document& into, const std::string& id, const char* provider,
                             const std::string& type) {
  auto p = into.append_child("primitive");
  p.append_attribute("id") = id.c_str();
  p.append_attribute("class") = "ocf";
  p.append_attribute("provider") = provider;
  p.append_attribute("type") = type.c_str();
  return p;
}

// The container's run_opts: what Pacemaker passes to the container engine for replica n.
std::string run_options(const Shape& s, const std::string& prefix, int n, const std::string& ip,
                        const std::string& host_entries, std::string& per_replica_dirs) {
  const bool rkt = s.agent == "rkt";
  const std::string name = prefix + "-" + std::to_string(n);
  const std::string env = rkt ? "--environment=" : "-e ";
  std::string out;
  if (s.agent == "docker") out += " --restart=no";
  if (!s.ip_range_start.empty()) out += std::string(rkt ? " --hostname=" : " -h ") + name;
  out += " " + env + "PCMK_stderr=1";
  if (!s.network.empty()) out += " --net=" + s.network;
  out += " " + env + "PCMK_remote_port=" + (s.control_port.empty() ? kRemotePort : s.control_port);
  int volume = 0;
  for (const Mount& m : s.mounts) {
    std::string source = m.source;
    if (m.per_replica) {
      source += "/" + name;
      per_replica_dirs += (per_replica_dirs.empty() ? "" : ",") + source;
    }
    if (rkt) {
      const std::string vol = "vol" + std::to_string(volume++);
      out += " --volume " + vol + ",kind=host,source=" + source +
             (m.options.empty() ? "" : "," + m.options) + " --mount volume=" + vol +
             ",target=" + m.target;
    } else {
      out += " -v " + source + ":" + m.target + (m.options.empty() ? "" : ":" + m.options);
    }
  }
  for (const Port& p : s.ports) {
    if (rkt) {
      out += " --port=" + p.target + ":" + (ip.empty() ? "" : ip + ":") + p.source;
    } else if (!ip.empty()) {
      out += " -p " + ip + ":" + p.source + ":" + p.target;
    } else if (s.network != "host") {
      out += " -p " + p.source + ":" + p.target;
    }
  }
  // Pacemaker keeps these leading spaces even for empty values: removing them would change the
  // recorded digests and restart every container.
  if (s.options) out += " " + *s.options;
  out += " " + host_entries;
  return out;
}

pugi::xml_node add_container(pugi::xml_document& into, const Shape& s, const std::string& prefix,
                             int n, const std::string& ip, const std::string& host_entries) {
  auto p =
      add_primitive(into, prefix + "-" + s.agent + "-" + std::to_string(n), "heartbeat", s.agent);
  auto params = add_set(p, "instance_attributes", prefix + "-attributes-" + std::to_string(n));
  add_nvpair(params, "image", s.image);
  add_nvpair(params, "allow_pull", "true");
  add_nvpair(params, "force_kill", "false");
  add_nvpair(params, "reuse", "false");
  std::string dirs;
  add_nvpair(params, "run_opts", run_options(s, prefix, n, ip, host_entries, dirs));
  add_nvpair(params, "mount_points", dirs);
  if (s.primitive) {
    add_nvpair(params, "run_cmd", s.run_command.empty() ? kRemoteDaemon : s.run_command);
  } else if (!s.run_command.empty()) {
    add_nvpair(params, "run_cmd", s.run_command);
  }
  add_nvpair(params, "monitor_cmd", "/bin/true");
  add_monitor(p, "60s", nullptr);
  // Utilization belongs to the container: the bundled primitive's guest node has no capacity.
  if (auto u = s.primitive.child("utilization")) p.append_copy(u);
  return p;
}

pugi::xml_node add_ip(pugi::xml_document& into, const Shape& s, const std::string& prefix, int n,
                      const std::string& ip) {
  auto p = add_primitive(into, prefix + "-ip-" + ip, "heartbeat", "IPaddr2");
  auto params = add_set(p, "instance_attributes", prefix + "-attributes-" + std::to_string(n));
  add_nvpair(params, "ip", ip);
  if (!s.host_interface.empty()) add_nvpair(params, "nic", s.host_interface);
  add_nvpair(params, "cidr_netmask", s.host_netmask.empty() ? "32" : s.host_netmask);
  add_monitor(p, "60s", nullptr);
  return p;
}

pugi::xml_node add_connection(pugi::xml_document& into, const Shape& s, const std::string& id,
                              const std::string& container, const std::string& ip) {
  auto p = add_primitive(into, id, "pacemaker", "remote");
  auto meta = add_set(p, "meta_attributes", id + "-meta_attributes");
  add_nvpair(meta, "internal_rsc", "true");
  add_nvpair(meta, "container", container);
  auto params = add_set(p, "instance_attributes", id + "-instance_attributes");
  // "#uname": the host the container runs on (Pacemaker's REMOTE_CONTAINER_HACK).
  add_nvpair(params, "addr", ip.empty() ? "#uname" : ip);
  add_nvpair(params, "port", s.control_port.empty() ? kRemotePort : s.control_port);
  add_monitor(p, "30s", "30s");
  return p;
}

// The bundled primitive as a clone of `replicas` instances (its id keeps Pacemaker's old
// "-master" for promotable bundles, so that histories still match).
pugi::xml_node add_clone(pugi::xml_document& into, const Shape& s, const std::string& prefix) {
  auto c = into.append_child("clone");
  c.append_attribute("id") = (prefix + (s.promoted_max > 0 ? "-master" : "-clone")).c_str();
  auto meta = add_set(c, "meta_attributes", prefix + "-clone-meta");
  add_nvpair(meta, "ordered", "true");
  add_nvpair(meta, "clone-max", std::to_string(s.replicas));
  add_nvpair(meta, "clone-node-max", std::to_string(s.per_host));
  add_nvpair(meta, "globally-unique", s.per_host > 1 ? "true" : "false");
  if (s.promoted_max > 0) {
    add_nvpair(meta, "promotable", "true");
    add_nvpair(meta, "promoted-max", std::to_string(s.promoted_max));
  }
  auto prim = c.append_copy(s.primitive);
  prim.remove_child("utilization");
  return c;
}

}  // namespace

BundleParts expand_bundle(pugi::xml_document& into, pugi::xml_node bundle) {
  BundleParts parts;
  auto shape = read_shape(bundle);
  if (!shape) return parts;
  const Shape& s = *shape;
  const std::string prefix = attr(bundle, "id");
  parts.image = s.image;
  parts.replicas = s.replicas;
  parts.replicas_per_host = s.per_host;
  parts.promoted_max = s.promoted_max;
  // Every container learns every replica's address, so the host entries come first.
  std::vector<std::string> ips;
  std::string host_entries;
  for (int n = 0; n < s.replicas && !s.ip_range_start.empty(); ++n) {
    std::string ip = n == 0 ? s.ip_range_start : next_ip(ips.back());
    const std::string name = prefix + "-" + std::to_string(n);
    if (s.add_host && s.agent != "rkt") {
      host_entries += " --add-host=" + name + ":" + ip;
    } else {
      host_entries += " --hosts-entry=" + ip + "=" + name;
    }
    ips.push_back(ip);
  }
  for (int n = 0; n < s.replicas; ++n) {
    const std::string ip = n < static_cast<int>(ips.size()) ? ips[static_cast<std::size_t>(n)] : "";
    auto container = add_container(into, s, prefix, n, ip, host_entries);
    parts.containers.push_back(container);
    parts.ips.push_back(ip.empty() ? pugi::xml_node() : add_ip(into, s, prefix, n, ip));
    parts.connections.push_back(
        s.primitive
            ? add_connection(into, s, prefix + "-" + std::to_string(n), attr(container, "id"), ip)
            : pugi::xml_node());
  }
  if (s.primitive) parts.clone = add_clone(into, s, prefix);
  return parts;
}

std::vector<std::string> bundle_node_names(pugi::xml_node bundle) {
  std::vector<std::string> out;
  auto shape = read_shape(bundle);
  if (!shape || !shape->primitive) return out;
  for (int n = 0; n < shape->replicas; ++n)
    out.push_back(attr(bundle, "id") + "-" + std::to_string(n));
  return out;
}

}  // namespace vigil::scheduler
