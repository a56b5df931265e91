// with_membership: the status section as the daemon sees the cluster now (scheduler.h).
#include "scheduler/model.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {

namespace {

pugi::xml_node child_or_add(pugi::xml_node parent, const char* name) {
  auto c = parent.child(name);
  return c ? c : parent.append_child(name);
}

void set(pugi::xml_node n, const char* name, const char* value) {
  auto a = n.attribute(name);
  (a ? a : n.append_attribute(name)) = value;
}

}  // namespace

cib::Cib with_membership(const cib::Cib& in, const std::vector<NodeFact>& facts,
                         std::optional<bool> quorate) {
  cib::Cib cib = in;
  auto nodes = cib.section("nodes");
  auto status = child_or_add(cib.root(), "status");
  for (const auto& f : facts) {
    auto node = nodes.find_child(
        [&](const pugi::xml_node& n) { return attr(n, "id") == f.id || attr(n, "uname") == f.name; });
    if (!node) {
      node = nodes.append_child("node");
      node.append_attribute("id") = f.id.c_str();
      node.append_attribute("uname") = f.name.c_str();
      node.append_attribute("type") = "member";
    }
    const std::string node_id = attr(node, "id");
    auto state = status.find_child_by_attribute("node_state", "id", node_id.c_str());
    if (!state) {
      state = status.append_child("node_state");
      state.append_attribute("id") = node_id.c_str();
      state.append_attribute("uname") = attr(node, "uname").c_str();
      state.append_attribute("join") = f.online ? "member" : "down";
      state.append_attribute("expected") = f.online ? "member" : "down";
    }
    // The membership the daemon sees now is newer than what the DC last wrote.
    set(state, "in_ccm", f.online ? "true" : "false");
    set(state, "crmd", f.online ? "online" : "offline");
  }
  if (quorate) set(cib.root(), "have-quorum", *quorate ? "1" : "0");
  return cib;
}

}  // namespace vigil::scheduler
