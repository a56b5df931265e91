#include "controller/fencing.h"

#include <regex.h>

#include <algorithm>
#include <optional>

#include "controller/status_ops.h"
#include "scheduler/rules.h"

namespace vigil::controller {

namespace {

std::vector<std::string> words(const std::string& text, const std::string& separators) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from < text.size()) {
    const auto end = std::min(text.find_first_of(separators, from), text.size());
    if (end > from) out.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return out;
}

std::string param(const std::map<std::string, std::string>& params, const std::string& name,
                  const std::string& fallback = "") {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

// The port pcmk_host_map gives `target` ("node1:1;node2:2,3" — Pacemaker also takes '=' and
// spaces), or an empty string.
std::string mapped_port(const std::string& map, const std::string& target) {
  for (const auto& entry : words(map, "; \t\n")) {
    const auto sep = entry.find_first_of(":=");
    if (sep != std::string::npos && entry.substr(0, sep) == target) return entry.substr(sep + 1);
  }
  return "";
}

// A device's own view of whether it reaches `target` (pcmk_host_check). A dynamic-list or
// status check would ask the agent; without that question the device is taken at its word.
bool reaches(const std::map<std::string, std::string>& params, const std::string& target) {
  const std::string list = param(params, "pcmk_host_list"), map = param(params, "pcmk_host_map");
  std::string check = param(params, "pcmk_host_check");
  if (check.empty()) check = list.empty() && map.empty() ? "dynamic-list" : "static-list";
  if (check != "static-list") return true;
  const auto names = words(list, " ,;\t\n");
  return std::find(names.begin(), names.end(), target) != names.end() ||
         !mapped_port(map, target).empty();
}

std::optional<FenceDevice> device_for(const cib::Cib& cib, pugi::xml_node primitive,
                                      const std::string& target) {
  auto agent = AgentSpec::of("stonith", primitive.attribute("provider").value(),
                             primitive.attribute("type").value());
  if (!agent) return std::nullopt;
  FenceDevice d{primitive.attribute("id").value(), *agent,
                resource_params(cib, primitive, "reboot", 0)};
  const std::string argument = param(d.params, "pcmk_host_argument", "port");
  if (argument != "none") {
    const std::string port = mapped_port(param(d.params, "pcmk_host_map"), target);
    d.params[argument] = port.empty() ? target : port;
  }
  return d;
}

std::vector<pugi::xml_node> stonith_primitives(const cib::Cib& cib) {
  std::vector<pugi::xml_node> out;
  cib::for_each_element(cib.configuration().child("resources"), [&](pugi::xml_node p) {
    if (std::string_view(p.name()) == "primitive" &&
        std::string_view(p.attribute("class").value()) == "stonith")
      out.push_back(p);
  });
  return out;
}

// The node's permanent attributes (the node list's instance_attributes), for target-attribute.
std::map<std::string, std::string> node_attributes_of(const cib::Cib& cib,
                                                      const std::string& target) {
  std::map<std::string, std::string> out;
  auto node =
      cib.configuration().child("nodes").find_child_by_attribute("node", "uname", target.c_str());
  scheduler::unpack_nvpairs(node, "instance_attributes", {}, out);
  return out;
}

bool level_names(pugi::xml_node level, const std::string& target,
                 const std::map<std::string, std::string>& attrs) {
  if (auto t = level.attribute("target")) return target == t.value();
  if (auto p = level.attribute("target-pattern")) {
    // POSIX extended, as Pacemaker's fencer compiles it; an unusable pattern names no node.
    regex_t re;
    if (regcomp(&re, p.value(), REG_EXTENDED | REG_NOSUB) != 0) return false;
    const bool match = regexec(&re, target.c_str(), 0, nullptr, 0) == 0;
    regfree(&re);
    return match;
  }
  if (auto a = level.attribute("target-attribute"))
    return param(attrs, a.value()) == level.attribute("target-value").value();
  return false;
}

}  // namespace

std::vector<FenceLevel> fence_plan(const cib::Cib& cib, const std::string& target) {
  const auto primitives = stonith_primitives(cib);
  auto primitive = [&](const std::string& id) {
    auto it = std::find_if(primitives.begin(), primitives.end(),
                           [&](pugi::xml_node p) { return id == p.attribute("id").value(); });
    return it == primitives.end() ? pugi::xml_node() : *it;
  };
  const auto attrs = node_attributes_of(cib, target);
  std::map<long long, FenceLevel> by_index;
  for (auto level : cib.configuration().child("fencing-topology").children("fencing-level")) {
    if (!level_names(level, target, attrs)) continue;
    FenceLevel devices;
    for (const auto& id : words(level.attribute("devices").value(), ",")) {
      auto p = primitive(id);
      auto device = p ? device_for(cib, p, target) : std::nullopt;
      if (!device) {
        devices.clear();  // a level naming a device that is gone cannot succeed
        break;
      }
      devices.push_back(std::move(*device));
    }
    if (!devices.empty()) by_index[level.attribute("index").as_llong()] = std::move(devices);
  }
  std::vector<FenceLevel> plan;
  for (auto& [index, devices] : by_index) plan.push_back(std::move(devices));
  if (!plan.empty()) return plan;

  std::vector<std::pair<long long, FenceDevice>> alone;
  for (auto p : primitives) {
    auto d = device_for(cib, p, target);
    if (!d || !reaches(d->params, target)) continue;
    std::map<std::string, std::string> meta;
    scheduler::unpack_nvpairs(p, "meta_attributes", {}, meta);
    alone.emplace_back(std::atoll(param(meta, "priority", "0").c_str()), std::move(*d));
  }
  std::stable_sort(alone.begin(), alone.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [priority, d] : alone) plan.push_back({std::move(d)});
  return plan;
}

}  // namespace vigil::controller
