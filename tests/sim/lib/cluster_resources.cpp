// Layer::Stack with resources (cluster.h): the controllers' simulated agents, the users' resource
// workload, and the checkers over what really runs on each host.
#include <algorithm>

#include "checker.h"
#include "cluster.h"
#include "cluster_node.h"

namespace vigil::sim {

namespace {

constexpr Millis kEpoch = 1'700'000'000'000;  // the wall clock at the simulation's start
constexpr const char* kClone = "ping";        // the clone's primitive: it may run everywhere
constexpr const char* kFenceDevice = "fence";  // with fencing: the device's primitive
// The primitives outside the clone, each of which runs on one host at most.
const std::vector<std::string> kSingles = {"vip", "web-fs", "web-server"};
const std::vector<std::string> kGroup = {"web-fs", "web-server"};  // group web, in its order

// Short timeouts, so that a hung agent times out within the run.
std::string primitive(const std::string& id, const std::string& provider, const std::string& type,
                      const std::string& inside = "") {
  auto op = [&](const std::string& name, const std::string& interval) {
    return "<op id=\"" + id + "-" + name + "\" name=\"" + name + "\" interval=\"" + interval +
           "\" timeout=\"2s\"/>";
  };
  return "<primitive id=\"" + id + "\" class=\"ocf\" provider=\"" + provider + "\" type=\"" + type +
         "\">" + inside + "<operations>" + op("start", "0") + op("stop", "0") +
         op("monitor", "2s") + "</operations></primitive>";
}

// With watchdog fencing, a lost node counts as fenced once its lease provably ran out; with a
// fence device, once the device reset it.
cib::CibOp configuration(const std::string& no_quorum_policy, bool watchdog_fencing,
                         bool device_fencing) {
  cib::CibOp op;
  op.changes.push_back(cib::CibChange::create(
      "/cib/configuration/crm_config",
      std::string("<cluster_property_set id=\"sim-options\">") +
          (watchdog_fencing || device_fencing
               ? "<nvpair id=\"sim-stonith\" name=\"stonith-enabled\" value=\"true\"/>"
               : "<nvpair id=\"sim-stonith\" name=\"stonith-enabled\" value=\"false\"/>") +
          (watchdog_fencing
               ? "<nvpair id=\"sim-swt\" name=\"stonith-watchdog-timeout\" value=\"-1\"/>"
               : "") +
          "<nvpair id=\"sim-nqp\" name=\"no-quorum-policy\" value=\"" + no_quorum_policy +
          "\"/></cluster_property_set>"));
  const std::string resources = "/cib/configuration/resources";
  op.changes.push_back(cib::CibChange::create(
      resources, primitive("vip", "heartbeat", "IPaddr2",
                           "<instance_attributes id=\"vip-ia\"><nvpair id=\"vip-ip\" "
                           "name=\"ip\" value=\"192.0.2.10\"/></instance_attributes>")));
  op.changes.push_back(cib::CibChange::create(
      resources, "<group id=\"web\">" + primitive("web-fs", "heartbeat", "Filesystem") +
                     primitive("web-server", "heartbeat", "apache") + "</group>"));
  op.changes.push_back(cib::CibChange::create(
      resources, "<clone id=\"ping-clone\">" + primitive(kClone, "pacemaker", "ping") + "</clone>"));
  if (device_fencing)
    op.changes.push_back(cib::CibChange::create(
        resources, "<primitive id=\"" + std::string(kFenceDevice) +
                       "\" class=\"stonith\" type=\"fence_sim\"><operations>" +
                       "<op id=\"fence-start\" name=\"start\" interval=\"0\" timeout=\"2s\"/>" +
                       "<op id=\"fence-stop\" name=\"stop\" interval=\"0\" timeout=\"2s\"/>" +
                       "<op id=\"fence-monitor\" name=\"monitor\" interval=\"2s\" timeout=\"2s\"/>" +
                       "</operations></primitive>"));
  return op;
}

// The history id names a clone's instance "ping:1"; the host runs the primitive.
std::string primitive_of(const std::string& history_id) {
  return history_id.substr(0, history_id.find(':'));
}

// crm node standby|online: the node's permanent attribute.
cib::CibChange standby(NodeId node, const char* value) {
  const std::string t = std::to_string(node);
  return cib::CibChange::modify("/cib/configuration/nodes/node[@id='" + t + "']",
                                "<node id=\"" + t + "\"><instance_attributes id=\"nodes-" + t +
                                    "\"><nvpair id=\"nodes-" + t +
                                    "-standby\" name=\"standby\" value=\"" + value +
                                    "\"/></instance_attributes></node>");
}

bool configured(const cib::Cib& doc) {
  return static_cast<bool>(doc.find_id("vip"));
}

// crm resource cleanup of every resource: the fail counts go, and the history of what failed (a
// fail count, or a failed operation's record: the node's own report may have written a history
// back over an earlier cleanup), so the cluster probes it again.
cib::CibOp cleanup(const cib::Cib& doc) {
  cib::CibOp op;
  for (auto state : doc.status().children("node_state")) {
    const std::string node = state.attribute("id").value();
    std::set<std::string> failed;
    for (auto set : state.child("transient_attributes").children("instance_attributes")) {
      for (auto nv : set.children("nvpair")) {
        const std::string name = nv.attribute("name").value();
        for (const std::string prefix : {"fail-count-", "last-failure-"}) {
          if (name.rfind(prefix, 0) != 0) continue;
          failed.insert(primitive_of(name.substr(prefix.size(), name.find('#') - prefix.size())));
          op.changes.push_back(cib::CibChange::remove(
              "/cib/status/node_state[@id='" + node +
              "']/transient_attributes/instance_attributes/nvpair[@id='" + nv.attribute("id").value() +
              "']"));
        }
      }
    }
    for (auto lrm : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
      const std::string id = lrm.attribute("id").value();
      const bool failure = static_cast<bool>(
          lrm.find_child_by_attribute("lrm_rsc_op", "id", (id + "_last_failure_0").c_str()));
      if (failed.count(primitive_of(id)) == 0 && !failure) continue;
      op.changes.push_back(cib::CibChange::remove("/cib/status/node_state[@id='" + node +
                                                  "']/lrm/lrm_resources/lrm_resource[@id='" + id +
                                                  "']"));
    }
  }
  return op;
}

}  // namespace

node::ControllerSettings Cluster::controller_settings(NodeId id, std::uint64_t boots) const {
  node::ControllerSettings c;
  c.pid = static_cast<std::uint32_t>(3000 + boots);
  c.node_name = "n" + std::to_string(id);
  c.nonce = o_.seed * 1000 + id * 16 + boots;
  c.wall_offset = kEpoch;
  if (o_.watchdog) {  // corosync.conf's resources {} and quorum {} as the simulated cluster has
                      // them
    c.watchdog.origin = "simulated corosync.conf";
    c.watchdog.device = "simulated";
    c.watchdog.watchdog_timeout = *o_.watchdog;
    c.watchdog.times = node::LeaseTimes::of(o_.settings.resolved(), *o_.watchdog);
    c.watchdog.quorum_provider = true;
    c.watchdog.nodes = nodes_.size();
    c.watchdog.quorum_device = o_.witness;
  }
  return c;
}

// A host booting before the heal may find a resource running (started outside the cluster) —
// but not with fencing, where every moment is checked.
void Cluster::boot_agents(NodeId id) {
  if (fenced_cluster() || now_ >= agents_calm_ || !rng_.chance(0.2)) return;
  const auto& rsc = kSingles[rng_.uniform(kSingles.size())];
  trace("n" + std::to_string(id) + " boots with " + rsc + " running");
  nodes_[id - 1]->active.insert(rsc);
}

// What the controller asked of the host, and a shutdown's end.
void Cluster::controller_output(NodeId id, node::Output& out) {
  Node& n = *nodes_[id - 1];
  for (const auto& l : out.logs) {
    if (o_.trace && l.subsystem == node::Subsystem::Controller)
      trace("n" + std::to_string(id) + " CONTROLLER: " + l.text);
  }
  for (auto token : out.agent_cancels) n.monitors.erase(token);
  for (const auto& a : out.agent_runs) run_agent(id, a);
  if (out.ready_to_leave && n.leaving) {
    const auto generation = n.generation;
    at(now_, [this, id, generation] {
      if (nodes_[id - 1]->generation == generation && nodes_[id - 1]->alive) leave(id);
    });
  }
}

// A one-shot action ends after a seeded latency; until the agents calm down, a start may fail,
// and a start or a stop may hang past its timeout. A recurring monitor looks every interval (from
// its last run's end, as the executor times it) and reports changes; until the agents calm down a
// run may hang too.
void Cluster::run_agent(NodeId id, const controller::LocalAction& a) {
  Node& n = *nodes_[id - 1];
  if (o_.trace)
    trace("n" + std::to_string(id) + " agent " + a.name + " " + a.resource +
          (a.interval ? " every " + std::to_string(a.interval) : "") + " (token " +
          std::to_string(a.token) + ")");
  if (a.agent.standard == AgentClass::Stonith && (a.name == "reboot" || a.name == "off"))
    return fence(id, a);
  if (a.interval > 0) {
    n.monitors[a.token] = Node::Monitor{a, std::nullopt};
    monitor_due(id, n.generation, a.token, now_ + 1 + static_cast<Millis>(rng_.uniform(50)));
    return;
  }
  // A stop that times out calls for fencing its node: with watchdog fencing alone (the node
  // resetting itself while it stays a member) not simulated.
  const bool wild = now_ < agents_calm_;
  const bool hang =
      (wild && a.name == "start" && rng_.chance(0.05)) ||
      (wild && a.name == "stop" && (!watchdog_fencing() || o_.fencing) && hangs_.chance(0.15));
  const Millis latency = hang ? a.timeout : 5 + static_cast<Millis>(rng_.uniform(300));
  finish_agent(id, n.generation, a, now_ + latency, hang);
}

void Cluster::finish_agent(NodeId id, std::uint64_t generation, controller::LocalAction a,
                           Millis when, bool hang) {
  at(when, [this, id, generation, a = std::move(a), hang] {
    Node& n = *nodes_[id - 1];
    if (n.generation != generation || !n.alive) return;  // the executor died with the process
    if (n.paused_until > now_) return finish_agent(id, generation, a, n.paused_until, hang);
    controller::ActionResult r;
    r.exec_ms = 10;
    r.rc = 0;
    const std::string rsc = primitive_of(a.resource);
    if (hang) {
      trace("n" + std::to_string(id) + "'s " + a.name + " of " + a.resource + " hung");
      r = timed_out(a);
      // The executor killed the agent: a start may have brought the resource up by then (not
      // with fencing, where hosts are checked at every moment), a stop left it running.
      if (a.name == "start" && !fenced_cluster() && hangs_.chance(0.5)) n.active.insert(rsc);
      if (a.name == "stop") n.hung_stops.insert(rsc);
      if (a.name == "stop" && o_.inject_stop_timeout_ok) r = controller::ActionResult{0, 0, 10, {}};
    } else if (a.name == "start") {
      if (now_ < agents_calm_ && rng_.chance(0.05)) {
        r.rc = 1;
      } else {
        n.active.insert(rsc);
      }
      if (o_.inject_start_before_transition && rsc != kClone) {
        Node& next = *nodes_[id % nodes_.size()];
        if (next.alive) next.active.insert(rsc);
      }
    } else if (a.name == "stop") {
      n.active.erase(rsc);
      n.hung_stops.erase(rsc);
    } else if (a.name == "monitor") {
      r.rc = n.active.count(rsc) ? 0 : 7;
    }
    check_resources();
    agent_result(id, a.token, r);
  });
}

// The fence device: a power switch every host reaches, whatever the network does. After a seeded
// delay it resets the target's host (the parameter pcmk_host_argument names, "port") and only then
// answers the fencer: success, as a fence agent's reboot does once the power cycled.
void Cluster::fence(NodeId id, const controller::LocalAction& a) {
  const auto port = a.params.find("port");
  NodeId target = 0;
  for (const auto& n : nodes_) {
    if (port != a.params.end() && port->second == "n" + std::to_string(n->id)) target = n->id;
  }
  const auto generation = nodes_[id - 1]->generation;
  at(now_ + 100 + static_cast<Millis>(rng_.uniform(900)), [this, id, generation, target, a] {
    if (target != 0 && !o_.inject_fence_no_reset) {
      trace("the fence device resets n" + std::to_string(target) + "'s host (asked by n" +
            std::to_string(id) + ")");
      ++fenced_;
      if (nodes_[target - 1]->alive) stop(target, false);
      host_down(target);
      at(now_ + 1000, [this, target] {
        if (!nodes_[target - 1]->alive) restart(target);
      });
    }
    fence_answer(id, generation, a.token, target != 0 ? 0 : 1, now_);
  });
}

void Cluster::fence_answer(NodeId id, std::uint64_t generation, std::uint64_t token, int rc,
                           Millis when) {
  at(when, [this, id, generation, token, rc] {
    Node& n = *nodes_[id - 1];
    if (n.generation != generation || !n.alive) return;  // the fencer is gone (perhaps fenced)
    if (n.paused_until > now_) return fence_answer(id, generation, token, rc, n.paused_until);
    agent_result(id, token, controller::ActionResult{rc, 0, 10, {}});
  });
}

void Cluster::monitor_due(NodeId id, std::uint64_t generation, std::uint64_t token, Millis when) {
  at(when, [this, id, generation, token] {
    Node& n = *nodes_[id - 1];
    if (n.generation != generation || !n.alive) return;
    if (n.paused_until > now_) return monitor_due(id, generation, token, n.paused_until);
    auto it = n.monitors.find(token);
    if (it == n.monitors.end()) return;  // cancelled
    const auto& action = it->second.action;
    const bool hang = now_ < agents_calm_ && hangs_.chance(0.05);
    const Millis end = now_ + (hang ? action.timeout : 0);
    monitor_due(id, generation, token, end + action.interval);
    if (hang) return monitor_hung(id, generation, token, end);
    controller::ActionResult r;
    r.rc = n.active.count(primitive_of(action.resource)) ? 0 : 7;
    report_monitor(id, token, r);
  });
}

// The executor's answer for an agent that did not answer within its timeout (executor.cpp).
controller::ActionResult Cluster::timed_out(const controller::LocalAction& a) {
  ++timed_out_[a.name];
  return controller::ActionResult{1, 2, a.timeout,
                                  "timed out after " + std::to_string(a.timeout) + "ms"};
}

// A monitor run that hangs is reported timed out at its timeout, if the monitor still runs.
void Cluster::monitor_hung(NodeId id, std::uint64_t generation, std::uint64_t token, Millis when) {
  at(when, [this, id, generation, token] {
    Node& n = *nodes_[id - 1];
    if (n.generation != generation || !n.alive) return;
    if (n.paused_until > now_) return monitor_hung(id, generation, token, n.paused_until);
    auto it = n.monitors.find(token);
    if (it == n.monitors.end()) return;  // cancelled while it ran
    trace("n" + std::to_string(id) + "'s monitor of " + it->second.action.resource + " hung");
    report_monitor(id, token, timed_out(it->second.action));
  });
}

// A recurring monitor's result goes to the node only when (status, rc) changed, as the executor's.
void Cluster::report_monitor(NodeId id, std::uint64_t token, const controller::ActionResult& r) {
  auto& last = nodes_[id - 1]->monitors.at(token).last;
  if (last == std::pair{r.op_status, r.rc}) return;
  last = {r.op_status, r.rc};
  agent_result(id, token, r);
}

void Cluster::agent_result(NodeId id, std::uint64_t token, const controller::ActionResult& r) {
  if (o_.trace)
    trace("n" + std::to_string(id) + " agent result token " + std::to_string(token) + " rc " +
          std::to_string(r.rc) + " status " + std::to_string(r.op_status));
  apply(id, step_stack(id, node::AgentResult{token, r, now_}));
}

// The resource workload: the configuration first, then until the heal users' actions, then a
// cleanup of everything and every node back online.
void Cluster::plan_resources(Millis heal_at) {
  no_quorum_policy_ = rng_.chance(0.5) && !fenced_cluster() ? "ignore" : "stop";
  agents_calm_ = heal_at;
  configure(300);
  const Millis gap = 300 + static_cast<Millis>(rng_.uniform(1500));
  for (Millis t = 2000; t < heal_at; t += gap) at(t, [this] { user_action(); });
  clean_up_all(heal_at + liveness_bound());
  for (Millis t = 0; t < end_; t += 250) at(t, [this] { check_resources(); });
}

NodeId Cluster::any_live() {
  std::vector<NodeId> live;
  for (const auto& n : nodes_) {
    if (n->alive && n->stack && n->paused_until <= now_) live.push_back(n->id);
  }
  return live.empty() ? 0 : live[rng_.uniform(live.size())];
}

// Committed from a random live node until every live replica has it.
void Cluster::configure(Millis when) {
  at(when, [this] {
    const auto stacks = live_stacks();
    const bool everywhere = !stacks.empty() && std::all_of(stacks.begin(), stacks.end(), [](auto* s) {
      return configured(s->cib()->replica().current());
    });
    if (everywhere) return;
    configure(now_ + 1000);
    const NodeId id = any_live();
    if (id == 0 || configured(nodes_[id - 1]->stack->cib()->replica().current())) return;
    user_commit(id, "configure",
                configuration(no_quorum_policy_, watchdog_fencing(), device_fencing()));
  });
}

// One user's action at a random live node: standby and, later, online; a cleanup; or a resource
// killed behind its agent's back (its monitor finds it failed).
void Cluster::user_action() {
  const NodeId id = any_live();
  if (id == 0) return;
  const auto pick = rng_.uniform(3);
  if (pick == 0) {
    const NodeId target = static_cast<NodeId>(rng_.uniform(nodes_.size()) + 1);
    user_commit(id, "standby n" + std::to_string(target), {{standby(target, "on")}});
    at(now_ + 500 + static_cast<Millis>(rng_.uniform(2000)), [this, target] {
      if (const NodeId by = any_live())
        user_commit(by, "online n" + std::to_string(target), {{standby(target, "off")}});
    });
  } else if (pick == 1) {
    user_commit(id, "cleanup", cleanup(nodes_[id - 1]->stack->cib()->replica().current()));
  } else {
    Node& host = *nodes_[id - 1];
    if (host.active.empty()) return;
    auto it = host.active.begin();
    std::advance(it, static_cast<long>(rng_.uniform(host.active.size())));
    trace("n" + std::to_string(id) + "'s " + *it + " dies behind its agent");
    host.active.erase(it);
  }
}

// After the heal: every node back online and every failure cleaned up, again until it is in.
void Cluster::clean_up_all(Millis when) {
  at(when, [this] {
    if (cleaned_up_) return;
    const NodeId id = any_live();
    if (id == 0) return clean_up_all(now_ + 500);
    cib::CibOp op = cleanup(nodes_[id - 1]->stack->cib()->replica().current());
    for (const auto& n : nodes_) op.changes.push_back(standby(n->id, "off"));
    hold_leaves();
    clean_up_all(now_ + 2000);  // until one is answered OK
    user_commit(id, "final cleanup", std::move(op), [this](bool ok) { cleaned_up_ = ok; });
  });
}

// A stop that hung for real blocks its resource, and a shutdown that must stop it, until a
// cleanup, as Pacemaker waits for shutdown-escalation: a node still leaving at the final cleanup
// while the CIB shows such a stop failed leaves only after it, later than the liveness bound.
// (A stop the DC recorded failed with no agent hanging excuses nothing: seed 4 2.)
void Cluster::hold_leaves() {
  const bool blocked = std::any_of(nodes_.begin(), nodes_.end(), [this](const auto& n) {
    return !n->hung_stops.empty() && stop_failed(n->hung_stops, n->id);
  });
  for (auto& n : nodes_) {
    if (!blocked || !n->alive || !n->leaving || n->leave_held) continue;
    n->leave_held = true;
    trace("n" + std::to_string(n->id) + "'s leave is held by a hung stop until the final cleanup");
  }
}

void Cluster::user_commit(NodeId id, std::string what, cib::CibOp op,
                          std::function<void(bool)> answered) {
  Node& n = *nodes_[id - 1];
  const auto ticket = ++n.tickets;
  trace("n" + std::to_string(id) + " user: " + what + " (ticket " + std::to_string(ticket) + ")");
  for (const auto& c : op.changes)
    if (c.kind == cib::CibChange::Kind::remove) trace("  removes " + c.address);
  if (answered) user_commits_[{id, ticket}] = std::move(answered);
  apply(id, step_stack(id, node::CibCommit{ticket, std::move(op), now_}));
}

// An orderly leave: the controller hands the node's resources over, then the node leaves.
void Cluster::shut_down(NodeId id) {
  Node& n = *nodes_[id - 1];
  if (!n.alive || n.leaving) return;
  trace("n" + std::to_string(id) + " shuts down");
  n.leaving = true;
  apply(id, step_stack(id, node::ShutdownRequest{now_}));
}

// A node that left starts again at `when`, or once its shutdown is over.
void Cluster::restart_after_leave(NodeId id, Millis when) {
  at(when, [this, id] {
    Node& n = *nodes_[id - 1];
    if (!n.alive && n.leave_held) {
      // Its return is the membership's last change: liveness counts from here.
      n.leave_held = false;
      leave_released_ = now_;
    }
    if (!n.alive) return restart(id);
    if (nodes_[id - 1]->leaving) restart_after_leave(id, now_ + 500);
  });
}

// Every live node in one ring that has stood for Options::settle, and nothing disturbed the
// membership meanwhile.
bool Cluster::settled() const {
  if (!converged()) return false;
  for (const auto& n : nodes_) {
    if (n->alive) {
      const auto it = installed_at_.find(n->running()->ring_id());
      return it != installed_at_.end() && std::max(it->second, disturbed_) + o_.settle <= now_;
    }
  }
  return false;
}

// Whether a live replica records a failed stop that blocks `rsc`'s stops: its own, or a later
// member's of its group (Pacemaker orders a group's stops last member first, and an unrunnable
// stop blocks those after it on every node: corpus case unmanaged-block-restart). Without
// fencing such a resource stays where it runs, on two hosts too, until a cleanup.
bool Cluster::stop_blocked(const std::string& rsc) const {
  std::set<std::string> blocking = {rsc};
  const auto member = std::find(kGroup.begin(), kGroup.end(), rsc);
  if (member != kGroup.end()) blocking.insert(member, kGroup.end());
  return stop_failed(blocking, std::nullopt);
}

// Whether a live replica records a failed stop of one of `rscs` (on node `on`, or anywhere).
bool Cluster::stop_failed(const std::set<std::string>& rscs, std::optional<NodeId> on) const {
  for (const auto* stack : live_stacks()) {
    for (auto state : stack->cib()->replica().current().status().children("node_state")) {
      if (on && state.attribute("id").as_uint() != *on) continue;
      for (auto lrm : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
        if (rscs.count(lrm.attribute("id").value()) == 0) continue;
        for (auto op : lrm.children("lrm_rsc_op")) {
          if (std::string_view(op.attribute("operation").value()) == "stop" &&
              (op.attribute("rc-code").as_int(0) != 0 || op.attribute("op-status").as_int(0) != 0))
            return true;
        }
      }
    }
  }
  return false;
}

// No primitive outside the clone runs on two hosts once the membership settled — with watchdog
// fencing, ever. (Hosts count whether or not their process lives: a killed node's resources run
// on.) Without fencing, a resource a failed stop blocks is excused until a settle after the
// CIB stopped showing the failure (the final cleanup clears it).
void Cluster::check_resources() {
  if (!o_.resources || !o_.check || !(settled() || fenced_cluster())) return;
  ++resources_checked_;
  for (const auto& rsc : kSingles) {
    std::string where;
    int count = 0;
    for (const auto& n : nodes_) {
      if (n->active.count(rsc) == 0) continue;
      ++count;
      where += " n" + std::to_string(n->id);
    }
    if (count > 1 && !fenced_cluster()) {
      if (stop_blocked(rsc)) {
        if (last_blocked_.count(rsc) == 0)
          trace(rsc + " runs on" + where + ", blocked by a failed stop");
        last_blocked_[rsc] = now_;
      }
      if (last_blocked_.count(rsc) != 0 && now_ < last_blocked_[rsc] + o_.settle) continue;
    }
    if (count > 1)
      return checker_->report("resource safety",
                              rsc + " runs on" + where + " at " + std::to_string(now_) + " ms" +
                                  (settled() ? " in a settled cluster" : " with fencing") +
                                  " (no-quorum-policy=" + no_quorum_policy_ + ")");
  }
}

// At the end, the faults over and the cluster settled: every resource that can run runs — each
// primitive outside the clone on one live host, the clone's somewhere — unless every node is in
// standby in the agreed document.
void Cluster::check_resources_end() {
  if (!o_.resources || !o_.check || !settled()) return;
  const auto stacks = live_stacks();
  if (stacks.empty()) return;
  const cib::Cib& doc = stacks.front()->cib()->replica().current();
  if (!configured(doc)) return checker_->report("resource liveness", "never configured");
  // Leaving as the hosts were told, not as the CIB says: a shutdown attribute or expected="down"
  // an earlier life left behind excuses nothing (seed 1835: the nodes had come back, and a
  // cluster that ran nothing because of such leftovers was the controller's bug).
  const bool staying = std::any_of(nodes_.begin(), nodes_.end(),
                                   [](const auto& n) { return n->alive && !n->leaving; });
  if (!staying) return;  // every live node is shutting down: nothing may run
  if (!stacks.front()->view().quorate && no_quorum_policy_ != "ignore") return;
  std::vector<std::string> all = kSingles;
  all.push_back(kClone);
  for (const auto& rsc : all) {
    bool runs = false;
    for (const auto& n : nodes_) runs = runs || (n->alive && n->active.count(rsc) != 0);
    if (!runs)
      return checker_->report("resource liveness",
                              rsc + " runs nowhere at the end, " +
                                  std::to_string(now_ - std::max(disturbed_, last_install_)) +
                                  " ms after the cluster settled");
  }
}

}  // namespace vigil::sim
