// Carrying out a transition graph in simulation, as crm_simulate does: every action succeeds, in
// the order a graph executor would fire them, and its result is recorded in the CIB's status
// section the way the controller would record it.
#include <algorithm>
#include <cstring>

#include "scheduler/scheduler.h"

namespace vigil::scheduler {

namespace {

pugi::xml_node child_with_id(pugi::xml_node parent, const char* name, const std::string& id) {
  for (auto c : parent.children(name)) {
    if (id == c.attribute("id").value()) return c;
  }
  return {};
}

pugi::xml_node ensure_child(pugi::xml_node parent, const char* name) {
  auto c = parent.child(name);
  return c ? c : parent.append_child(name);
}

pugi::xml_node node_state(pugi::xml_node status, pugi::xml_node cib, const std::string& uname) {
  for (auto s : status.children("node_state")) {
    if (uname == s.attribute("uname").value()) return s;
  }
  std::string id = uname;
  for (auto n : cib.child("configuration").child("nodes").children("node")) {
    if (uname == n.attribute("uname").value()) id = n.attribute("id").value();
  }
  auto s = status.append_child("node_state");
  s.append_attribute("id") = id.c_str();
  s.append_attribute("uname") = uname.c_str();
  s.append_attribute("in_ccm") = "true";
  s.append_attribute("crmd") = "online";
  s.append_attribute("join") = "member";
  s.append_attribute("expected") = "member";
  return s;
}

pugi::xml_node primitive_config(pugi::xml_node cib, const std::string& id) {
  return cib.child("configuration").child("resources").find_node([&](pugi::xml_node n) {
    return std::strcmp(n.name(), "primitive") == 0 && id == n.attribute("id").value();
  });
}

int next_call_id(pugi::xml_node status) {
  int max = 0;
  for (auto s : status.children("node_state")) {
    for (auto r : s.child("lrm").child("lrm_resources").children("lrm_resource")) {
      for (auto op : r.children("lrm_rsc_op"))
        max = std::max(max, op.attribute("call-id").as_int(0));
    }
  }
  return max + 1;
}

void record_op(pugi::xml_node cib, const GraphAction& a, int call_id) {
  auto status = ensure_child(cib, "status");
  auto state = node_state(status, cib, a.node);
  auto rscs = ensure_child(ensure_child(state, "lrm"), "lrm_resources");
  if (!state.child("lrm").attribute("id"))
    state.child("lrm").append_attribute("id") = state.attribute("id").value();
  auto lrm_rsc = child_with_id(rscs, "lrm_resource", a.resource);
  if (!lrm_rsc) {
    lrm_rsc = rscs.append_child("lrm_resource");
    lrm_rsc.append_attribute("id") = a.resource.c_str();
    auto conf = primitive_config(cib, a.resource);
    for (const char* k : {"class", "provider", "type"}) {
      if (conf.attribute(k)) lrm_rsc.append_attribute(k) = conf.attribute(k).value();
    }
  }
  bool recurring = a.interval_ms > 0;
  std::string id = a.resource + (recurring ? "_monitor_" + std::to_string(a.interval_ms)
                                           : std::string("_last_0"));
  if (auto old = child_with_id(lrm_rsc, "lrm_rsc_op", id)) lrm_rsc.remove_child(old);
  if (a.task == "stop") {
    // Stopping cancels the recurring monitors.
    for (auto op = lrm_rsc.child("lrm_rsc_op"); op;) {
      auto next = op.next_sibling("lrm_rsc_op");
      if (op.attribute("interval").as_llong(0) > 0) lrm_rsc.remove_child(op);
      op = next;
    }
  }
  int rc = 0;
  if (a.probe) rc = 7;
  auto op = lrm_rsc.append_child("lrm_rsc_op");
  op.append_attribute("id") = id.c_str();
  op.append_attribute("operation_key") = a.key.c_str();
  op.append_attribute("operation") = a.task.c_str();
  op.append_attribute("transition-key") = ("0:0:" + std::to_string(rc) + ":vigil-simulate").c_str();
  op.append_attribute("call-id") = call_id;
  op.append_attribute("rc-code") = rc;
  op.append_attribute("op-status") = 0;
  op.append_attribute("interval") = static_cast<long long>(a.interval_ms);
}

void record_fencing(pugi::xml_node cib, const GraphAction& a) {
  auto status = ensure_child(cib, "status");
  auto state = node_state(status, cib, a.node);
  for (const char* k : {"in_ccm", "crmd", "join", "expected"}) {
    if (!state.attribute(k)) state.append_attribute(k);
  }
  state.attribute("in_ccm") = "false";
  state.attribute("crmd") = "offline";
  state.attribute("join") = "down";
  state.attribute("expected") = "down";
  while (auto lrm = state.child("lrm")) state.remove_child(lrm);
  while (auto t = state.child("transient_attributes")) state.remove_child(t);
}

void clear_failcount(pugi::xml_node cib, const GraphAction& a) {
  auto status = cib.child("status");
  for (auto s : status.children("node_state")) {
    if (a.node != s.attribute("uname").value()) continue;
    for (auto set : s.child("transient_attributes").children("instance_attributes")) {
      for (auto nv = set.child("nvpair"); nv;) {
        auto next = nv.next_sibling("nvpair");
        std::string name = nv.attribute("name").value();
        for (const char* prefix : {"fail-count-", "last-failure-"}) {
          std::string p = prefix + a.resource;
          if (name.compare(0, p.size(), p) == 0 &&
              (name.size() == p.size() || name[p.size()] == '#')) {
            set.remove_child(nv);
            break;
          }
        }
        nv = next;
      }
    }
  }
}

}  // namespace

Execution execute(const cib::Cib& cib, const TransitionGraph& graph) {
  Execution ex{{}, cib};
  std::vector<bool> done(graph.actions.size(), false);
  auto root = ex.revised.root();
  int call_id = next_call_id(root.child("status"));
  // Passes over the graph in order, firing every action whose inputs are complete.
  for (std::size_t pass = 0; pass <= graph.actions.size(); ++pass) {
    bool fired = false;
    for (const auto& a : graph.actions) {
      if (done[static_cast<std::size_t>(a.id)]) continue;
      bool ready = std::all_of(a.after.begin(), a.after.end(),
                               [&](int d) { return done[static_cast<std::size_t>(d)]; });
      if (!ready) continue;
      done[static_cast<std::size_t>(a.id)] = true;
      ex.fired.push_back(a.id);
      fired = true;
      if (a.pseudo) continue;
      if (a.task == "stonith") {
        record_fencing(root, a);
      } else if (a.task == "clear_failcount") {
        clear_failcount(root, a);
      } else if (!a.resource.empty() && !a.node.empty()) {
        record_op(root, a, call_id++);
      }
    }
    if (!fired) break;
  }
  return ex;
}

}  // namespace vigil::scheduler
