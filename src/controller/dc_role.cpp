// The DC role of the controller: the join round that collects every node's history, the DC's
// bookkeeping of node_state, the scheduler runs, and carrying out the transition graph (actions
// sent to their nodes, fencing run here). The role is one variant, so a phase's data exists only
// in that phase.
#include <algorithm>
#include <cstdlib>
#include <set>

#include "common/invariants.h"
#include "controller/controller_impl.h"
#include "scheduler/model.h"

namespace vigil::controller {

namespace {

bool is_resource_task(const std::string& task) {
  static const std::set<std::string> kTasks = {
      "start",  "stop",         "monitor",    "promote",      "demote",
      "notify", "reload",       "reload-agent", "migrate_to", "migrate_from"};
  return kTasks.count(task) != 0;
}

// What the scheduler expects from an action: probes find "not running", monitors of promoted
// instances answer 8.
int expected_rc(const scheduler::GraphAction& a) {
  if (a.promoted) return 8;
  return a.probe ? 7 : 0;
}

// A Transition Summary line with what caused it: "Restart vip (node1): its monitor failed".
std::string summary_words(const scheduler::SummaryLine& line) {
  std::string s = line.verb + " " + line.subject;
  if (!line.details.empty()) s += " (" + line.details + ")";
  if (!line.reason.empty()) s += " " + line.reason;
  return line.why.empty() ? s : s + ": " + line.why;
}

// The fencing alert for an ending fencing, worded as Pacemaker's fencer describes its events;
// rc is its negative errno (ETIME for a timeout, ENOENT for a missing agent, else ENODATA).
FencingEvent fencing_event(const std::string& target, const std::string& task,
                           const std::string& executioner, const std::string& dc,
                           const ActionResult& res, const std::string& ref) {
  const bool ok = res.op_status == kStatusDone && res.rc == 0;
  const int rc = ok                                      ? 0
                 : res.op_status == kStatusTimedOut      ? -62
                 : res.op_status == kStatusNotInstalled ? -2
                                                         : -61;
  const std::string status = ok ? "OK" : res.op_status == kStatusTimedOut ? "Timed out" : "Error";
  const std::string reason = res.exit_reason.empty() ? "" : " (" + res.exit_reason + ")";
  return FencingEvent{target, task,
                      "Operation " + task + " of " + target + " by " + executioner +
                          " for vigil-controller@" + dc + ": " + status + reason + " (ref=" + ref +
                          ")",
                      rc};
}

}  // namespace

// The transition whose actions are out, in whichever phase of the role.
Transition* Controller::Impl::transition() {
  return std::visit(
      Overloaded{[](NotDc&) -> Transition* { return nullptr; },
                 [](Joining& j) { return j.draining ? &*j.draining : nullptr; },
                 [](Settled&) -> Transition* { return nullptr; }, [](Transition& t) { return &t; }},
      role);
}

// The transition is over: a join round goes on without it, a running DC is settled.
void Controller::Impl::end_transition() {
  if (auto* j = std::get_if<Joining>(&role)) j->draining.reset();
  if (std::holds_alternative<Transition>(role)) role = Settled{};
}

// ---------------------------------------------------------------- election
// A join round collects every controller's history: a new DC needs it, and so does a DC that a
// controller joined (its history may not be in the CIB). A lost controller is no reason for one:
// the survivors' histories are in the CIB already, and as in Pacemaker (a lost peer aborts the
// transition, only a joining one is offered a join) the scheduler runs without that wait.
void Controller::Impl::elect(Output& out, Millis now, bool controller_joined) {
  std::optional<Member> chosen;
  if (have_cib) {
    for (const auto& m : view.members) {
      const bool controller = std::find(view.controllers.begin(), view.controllers.end(), m.id) !=
                              view.controllers.end();
      if (controller && (!chosen || m.id < chosen->id)) chosen = m;
    }
  }
  const bool was_dc = is_dc();
  if (chosen != dc) {
    dc = chosen;
    out.log.emplace_back(dc ? "DC is " + dc->name + " (" + id_text(dc->id) + ")"
                            : "no DC: no controller in the membership");
  }
  if (is_dc()) {
    if (!was_dc) out.log.emplace_back("this node is the DC now: starting a join round");
    if (!was_dc || controller_joined) return start_join(out, now);
    // A round under way no longer waits for a controller that left.
    if (auto* round = std::get_if<Joining>(&role)) {
      std::erase_if(round->waiting, [&](NodeId id) {
        return std::find(view.controllers.begin(), view.controllers.end(), id) ==
               view.controllers.end();
      });
    }
  } else {
    role = NotDc{};
    schedule_due.reset();
    lost_unrecorded.clear();
  }
}

// A transition still out goes on draining through the round.
void Controller::Impl::start_join(Output& out, Millis now) {
  ++join_round;
  Joining round{{view.controllers.begin(), view.controllers.end()},
                now + settings.join_timeout,
                std::nullopt};
  if (auto* t = transition()) round.draining = std::move(*t);
  role = std::move(round);
  out.send.push_back(JoinOffer{te_uuid, join_round});
}

void Controller::Impl::join_over(Output& out, Millis now) {
  auto& round = std::get<Joining>(role);
  if (!round.waiting.empty()) {
    std::string late;
    for (auto id : round.waiting) late += " " + uname_of(id);
    out.log.emplace_back(
        "join round " + std::to_string(join_round) + " timed out waiting for" + late,
        Level::warning);
  }
  if (round.draining) {
    Transition t = std::move(*round.draining);
    role = std::move(t);
  } else {
    role = Settled{};
  }
  request_schedule(now);
}

void Controller::Impl::request_schedule(Millis now) {
  const Millis due = now + settings.coalesce;
  schedule_due = schedule_due ? std::min(*schedule_due, due) : due;
}

// ---------------------------------------------------------------- DC: bookkeeping
// The DC's picture of the membership in the CIB: dc-uuid, have-quorum, node_state of every
// node, nodes listed in the configuration; and its version and stack among the properties. Returns false when a change had to be committed
// (the scheduler waits until the CIB shows it).
bool Controller::Impl::bookkeeping(Output& out) {
  cib::CibOp op;
  auto root = cib.root();
  const std::string quorum = view.quorate ? "1" : "0";
  if (id_text(self.id) != root.attribute("dc-uuid").value() ||
      quorum != root.attribute("have-quorum").value()) {
    op.changes.push_back(cib::CibChange::modify(
        "/cib", "<cib dc-uuid=\"" + id_text(self.id) + "\" have-quorum=\"" + quorum + "\"/>"));
  }
  // What Pacemaker's DC records of itself, which crm_mon prints as the stack and the DC's version.
  std::string properties;
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"dc-version", VIGIL_VERSION},
                                    {"cluster-infrastructure", "corosync"}}) {
    const std::string id = "cib-bootstrap-options-" + name;
    auto nv = cib.configuration().child("crm_config").select_node(
        ("cluster_property_set[@id='cib-bootstrap-options']/nvpair[@id='" + id + "']").c_str());
    if (nv.node().attribute("value").value() != value)
      properties += "<nvpair id=\"" + id + "\" name=\"" + name + "\" value=\"" + value + "\"/>";
  }
  if (!properties.empty())
    op.changes.push_back(cib::CibChange::modify(
        "/cib/configuration/crm_config",
        "<crm_config><cluster_property_set id=\"cib-bootstrap-options\">" + properties +
            "</cluster_property_set></crm_config>"));
  auto nodes = cib.configuration().child("nodes");
  std::string missing;
  for (const auto& m : view.members) {
    if (!nodes.find_child_by_attribute("node", "id", id_text(m.id).c_str()))
      missing += "<node id=\"" + id_text(m.id) + "\" uname=\"" + xml_escape(m.name) + "\"/>";
  }
  if (!missing.empty())
    op.changes.push_back(
        cib::CibChange::modify("/cib/configuration/nodes", "<nodes>" + missing + "</nodes>"));
  std::set<std::string> known;
  // Cluster nodes have numeric ids; a remote or mistyped entry is not a node_state of the DC's.
  for (auto n : nodes.children("node")) {
    const std::string_view id = n.attribute("id").value();
    if (!id.empty() && id.size() <= 10 &&
        std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
      known.insert(std::string(id));
  }
  for (const auto& m : view.members) known.insert(id_text(m.id));
  for (const auto& id : known) {
    auto want = wanted_state(id);
    auto state = cib.status().find_child_by_attribute("node_state", "id", id.c_str());
    std::map<std::string, std::string> diff;
    for (const auto& [k, v] : want) {
      if (v != state.attribute(k.c_str()).value()) diff[k] = v;
    }
    if (!diff.empty()) op.changes.push_back(node_state_change(id, diff));
  }
  if (op.changes.empty()) return true;
  out.commits.push_back(std::move(op));
  return false;
}

// What node_state must say of a node, as far as the DC decides it: a member without a
// controller is in the ring but not joined; a node outside the ring is down. A member's
// controller sets crmd/join itself when it reports.
std::map<std::string, std::string> Controller::Impl::wanted_state(const std::string& id) const {
  const auto nid = static_cast<NodeId>(std::stoul(id));
  const bool member = std::any_of(view.members.begin(), view.members.end(),
                                  [&](const Member& m) { return m.id == nid; });
  const bool controller =
      std::find(view.controllers.begin(), view.controllers.end(), nid) != view.controllers.end();
  std::map<std::string, std::string> want{{"uname", uname_of(nid)}};
  if (!member) {
    want["in_ccm"] = "false";
    want["crmd"] = "offline";
    want["join"] = "down";
  } else {
    want["in_ccm"] = "true";
    if (!controller) {
      want["crmd"] = "offline";
      want["join"] = "down";
    }
  }
  return want;
}

// What makes a running transition stale: the configuration, the quorum and the nodes counted
// reset (key ""), and each node's state and attributes (key "node_state ID").
std::map<std::string, std::string> Controller::Impl::picture() const {
  std::map<std::string, std::string> p;
  std::string& cluster = p[""];
  cluster = cib.version().str().substr(0, cib.version().str().rfind('.'));
  cluster += view.quorate ? "|q" : "|nq";
  for (auto id : view.reset) cluster += "|reset " + id_text(id);
  for (auto s : cib.status().children("node_state")) {
    std::string& node = p[std::string("node_state ") + s.attribute("id").value()];
    for (const char* k : {"in_ccm", "crmd", "join", "expected"})
      node += std::string("|") + s.attribute(k).value();
    node += cib::element_xml(s.child("transient_attributes"));
  }
  return p;
}

std::string Controller::Impl::fingerprint() const {
  std::string f;
  for (const auto& [key, part] : picture()) f += key + "=" + part + "\n";
  return f;
}

// Whether the cluster changed under a running transition. A node the transition fences goes down
// and loses its history and attributes by the transition's own doing: as Pacemaker's
// abort_unless_down, that is no reason to abort, so the starts the fencing allowed go out in this
// transition instead of after a scheduler run that waits for the actions already out.
bool Controller::Impl::stale(const Transition& t) const {
  auto now = picture();
  auto then = t.picture;
  for (const auto& key : t.downed) {
    now.erase(key);
    then.erase(key);
  }
  return now != then;
}

// ---------------------------------------------------------------- DC: transitions
// The scheduler's warnings and errors, each logged once while it lasts: the scheduler runs
// again at every change and would repeat them.
void Controller::Impl::report(Output& out, const scheduler::TransitionGraph& graph) {
  std::vector<std::string> now_reported;
  auto say = [&](const std::string& text, Level level) {
    if (std::find(reported.begin(), reported.end(), text) == reported.end())
      out.log.emplace_back(text, level);
    now_reported.push_back(text);
  };
  for (const auto& w : graph.warnings) say(w, Level::warning);
  for (const auto& e : graph.errors) say(e, Level::error);
  reported = std::move(now_reported);
}

// Whether the CIB shows each lost action, recorded by the DC or by its node (whose own record of
// the request replaces the DC's).
bool Controller::Impl::lost_actions_recorded() {
  if (lost_unrecorded.empty()) return true;  // the usual case: no walk of the status
  cib::for_each_element(cib.status(), [&](pugi::xml_node op) {
    if (std::string_view(op.name()) == "lrm_rsc_op")
      lost_unrecorded.erase(op.attribute("transition-key").value());
  });
  return lost_unrecorded.empty();
}

void Controller::Impl::maybe_schedule(Output& out, Millis now) {
  if (!std::holds_alternative<Settled>(role)) return;
  if (schedule_due && now < *schedule_due) return;
  schedule_due.reset();
  if (!lost_actions_recorded()) {
    schedule_due = now + 1000;  // should the record be lost, a join round asks the node again
    return;
  }
  if (!bookkeeping(out)) {
    // The CIB change that shows it brings us back here; retry should the commit be lost.
    schedule_due = now + 1000;
    return;
  }
  const std::string seen = cib.version().str() + fingerprint();
  if (seen == scheduled_fingerprint && now < last_schedule + settings.recheck) return;
  scheduled_fingerprint = seen;
  last_schedule = now;
  auto graph = scheduler::schedule(cib, now);
  report(out, graph);
  if (graph.empty()) return;
  Transition t;
  t.id = ++transition_counter;
  t.state.assign(graph.actions.size(), ActionState::Waiting);
  t.graph = std::move(graph);
  out.log.emplace_back("transition " + std::to_string(t.id) + ": " +
                       std::to_string(t.graph.actions.size()) + " actions");
  for (const auto& line : t.graph.summary) out.log.emplace_back(summary_words(line));
  out.transitions.push_back({t.id, TransitionNote::Stage::started, t.graph.summary, {}});
  t.picture = picture();
  role = std::move(t);
  fire(out, now);
}

int Controller::Impl::batch_limit() const {
  return std::max(0, std::atoi(cluster_option(cib, "batch-limit").c_str()));
}

void Controller::Impl::fire(Output& out, Millis now) {
  auto& t = *transition();
  const int limit = batch_limit();
  bool progress = true;
  while (progress && !t.aborted) {
    progress = false;
    for (const auto& a : t.graph.actions) {
      auto& st = t.state[static_cast<std::size_t>(a.id)];
      if (st != ActionState::Waiting) continue;
      const bool ready = std::all_of(a.after.begin(), a.after.end(), [&](int d) {
        return t.state[static_cast<std::size_t>(d)] == ActionState::Done;
      });
      if (!ready) continue;
      if (a.pseudo || a.node.empty()) {
        st = ActionState::Done;
        progress = true;
        continue;
      }
      if (limit > 0 && static_cast<int>(t.in_flight.size()) >= limit) break;
      start_action(out, a, now);
      progress = true;
    }
  }
  check_finished(out, now);
}

void Controller::Impl::start_action(Output& out, const scheduler::GraphAction& a, Millis now) {
  auto& t = *transition();
  auto& st = t.state[static_cast<std::size_t>(a.id)];
  if (a.task == "stonith") {
    if (auto id = id_of(a.node)) t.downed.insert("node_state " + id_text(*id));
  }
  if (a.task == "stonith" && view.watchdog_fencing && fence_plan(cib, a.node).empty())
    return watchdog_fence(out, a);
  if (a.task == "stonith") {
    st = ActionState::InFlight;
    t.in_flight[a.id] = InFlight{now + stonith_timeout() + settings.action_slack, 0};
    if (!start_fencing(out, a, now)) {
      st = ActionState::Failed;
      t.in_flight.erase(a.id);
      abort(out, "no fence device can fence " + a.node);
    }
    return;
  }
  auto node = id_of(a.node);
  if (!node) {
    st = ActionState::Failed;
    abort(out, "action " + a.key + " is for unknown node " + a.node);
    return;
  }
  const ExecuteRequest r = request_of(a, *node);
  out.send.push_back(r);
  if (!is_resource_task(a.task)) {
    st = ActionState::Done;  // clear_failcount and the like: the node just writes the CIB
    return;
  }
  st = ActionState::InFlight;
  t.in_flight[a.id] = InFlight{now + r.definition.timeout + settings.action_slack, 0};
}

// What the DC asks of `node` for action `a` of the running transition.
ExecuteRequest Controller::Impl::request_of(const scheduler::GraphAction& a, NodeId node) const {
  ExecuteRequest r;
  r.te_uuid = te_uuid;
  r.transition = transition_counter;
  r.action = a.id;
  r.node = node;
  r.resource = a.history_id.empty() ? a.resource : a.history_id;
  r.task = a.task;
  r.interval_ms = a.interval_ms;
  r.target_rc = expected_rc(a);
  r.key = a.key;
  r.meta = a.meta;
  // The DC's CIB is the one it scheduled from: the resource is in it.
  if (is_resource_task(a.task))
    r.definition = resource_definition(cib, r.resource, id_text(node), a.task, a.interval_ms);
  return r;
}

// Pacemaker's controld_record_action_timeout: an action whose result did not come in time is
// recorded in its node's history as timed out, pending-newest (call id -1). The request may still
// reach the node and run (seed 33: a start sent at 3.8 s ran at 10.8 s, the ring having held it);
// with nothing recorded the scheduler took the resource for stopped there and started it
// elsewhere. Recorded, a start counts as failed there, perhaps active: it is stopped there first.
// Only actions that may leave the resource active where the history does not show it: after a
// lost stop or monitor the history still shows it active there and the scheduler asks again,
// where a stop recorded failed would block the resource, or its node's leave, until a cleanup
// (seed 4 2 without fencing: the stop's own result had gone with a cleanup).
cib::CibOp Controller::Impl::lost_action_record(const scheduler::GraphAction& a,
                                                const ExecuteRequest& r, Millis now) const {
  static const std::set<std::string> kActivating = {"start", "promote", "migrate_to",
                                                    "migrate_from"};
  cib::CibOp op;
  if (kActivating.count(a.task) == 0) return op;
  const std::string nid = id_text(r.node);
  ResourceHistory h;
  // The agent the request named, as Pacemaker records the graph action's resource.
  h.cls = r.definition.cls;
  h.provider = r.definition.provider;
  h.type = r.definition.type;
  OpRecord rec;
  rec.id = record_id(r);
  rec.operation_key = r.key;
  rec.operation = r.task;
  rec.transition_key = transition_key(r);
  rec.transition_magic = std::to_string(kStatusTimedOut) + ":1;" + rec.transition_key;
  rec.exit_reason = "Controller on " + a.node + " did not return result in time";
  rec.on_node = a.node;
  rec.call_id = -1;
  rec.rc = 1;
  rec.op_status = kStatusTimedOut;
  rec.interval_ms = r.interval_ms;
  rec.last_rc_change = now / 1000;
  h.ops[rec.id] = rec;
  OpRecord failure = rec;
  failure.id = last_failure_id(r.resource);
  h.ops[failure.id] = failure;
  op.changes.push_back(cib::CibChange::modify(
      "/cib/status", "<status><node_state id=\"" + nid + "\" uname=\"" + xml_escape(a.node) +
                         "\">" + lrm_xml(nid, {{r.resource, h}}) + "</node_state></status>"));
  return op;
}

Millis Controller::Impl::stonith_timeout() const {
  return scheduler::parse_interval_ms(cluster_option(cib, "stonith-timeout")).value_or(60000);
}

bool Controller::Impl::start_fencing(Output& out, const scheduler::GraphAction& a, Millis now) {
  LocalOp op;
  op.fencing = true;
  op.fence_plan = fence_plan(cib, a.node);
  if (op.fence_plan.empty()) return false;
  op.request.te_uuid = te_uuid;
  op.request.transition = transition()->id;
  op.request.action = a.id;
  op.request.resource = a.node;  // the target
  op.request.task = a.fence_type.empty() ? "reboot" : a.fence_type;
  run_fence_device(out, std::move(op), now);
  return true;
}

// Without a device, watchdog fencing: the target is fenced once the ring shows its lease ran out
// (ClusterView::reset). Until then the action fails and the transition ends; the list's change
// makes the scheduler run again (it is part of the fingerprint), and that run fences it.
void Controller::Impl::watchdog_fence(Output& out, const scheduler::GraphAction& a) {
  auto& st = transition()->state[static_cast<std::size_t>(a.id)];
  const auto id = id_of(a.node);
  if (!id || std::find(view.reset.begin(), view.reset.end(), *id) == view.reset.end()) {
    st = ActionState::Failed;
    abort(out, "waiting for the watchdog of " + a.node + ": its lease has not provably run out");
    return;
  }
  const std::string action = a.fence_type.empty() ? "reboot" : a.fence_type;
  out.log.emplace_back("fencing " + a.node + ": done by its watchdog (its lease ran out)");
  out.alerts.push_back(fencing_event(a.node, action, "its watchdog", self.name,
                                     ActionResult{0, kStatusDone, 0, ""}, a.key));
  out.watchdog_fencings.push_back(WatchdogFencing{a.node, action});
  if (auto state = fenced(a.node); !state.changes.empty()) out.commits.push_back(std::move(state));
  st = ActionState::Done;
}

// Runs the device the op has reached in its plan; each device gets stonith-timeout.
void Controller::Impl::run_fence_device(Output& out, LocalOp op, Millis now) {
  const auto& device = op.fence_plan[op.fence_level][op.fence_device];
  LocalAction action;
  action.token = local.next_token++;
  action.resource = device.id;
  action.name = op.request.task;
  action.timeout = stonith_timeout();
  action.params = device.params;
  if (auto* t = transition(); t && t->id == op.request.transition) {
    auto& f = t->in_flight[op.request.action];
    f.fence_token = action.token;
    f.deadline = now + stonith_timeout() + settings.action_slack;
  }
  out.log.emplace_back("fencing " + op.request.resource + " (" + op.request.task + ") with " +
                       device.id + " (level " + std::to_string(op.fence_level + 1) + ")");
  action.agent = device.agent;
  local.ops.emplace(action.token, std::move(op));
  out.run.push_back(std::move(action));
}

// Topology rule: a level succeeds when all its devices do; on a failure the next level is tried.
void Controller::Impl::fence_done(Output& out, LocalOp op, const ActionResult& res, Millis now) {
  const std::string target = op.request.resource;
  const bool ok = res.op_status == kStatusDone && res.rc == 0;
  const std::string& device = op.fence_plan[op.fence_level][op.fence_device].id;
  out.log.emplace_back("fencing of " + target + " with " + device +
                           (ok ? " succeeded" : " failed") +
                           (res.exit_reason.empty() ? "" : ": " + res.exit_reason),
                       ok ? Level::info : Level::error);
  const bool more_in_level = ok && op.fence_device + 1 < op.fence_plan[op.fence_level].size();
  const bool next_level = !ok && op.fence_level + 1 < op.fence_plan.size();
  if (more_in_level || next_level) {
    op.fence_device = more_in_level ? op.fence_device + 1 : 0;
    op.fence_level += next_level ? 1 : 0;
    return run_fence_device(out, std::move(op), now);
  }
  out.alerts.push_back(fencing_event(target, op.request.task, self.name, self.name, res,
                                     transition_key(op.request)));
  if (auto state = fenced(target); ok && !state.changes.empty())
    out.commits.push_back(std::move(state));
  auto* running = transition();
  if (!running || running->id != op.request.transition) return;
  auto& t = *running;
  t.in_flight.erase(op.request.action);
  t.state[static_cast<std::size_t>(op.request.action)] =
      ok ? ActionState::Done : ActionState::Failed;
  if (!ok) abort(out, "fencing of " + target + " failed");
  fire(out, now);
}

// The fenced node's state: down as expected, no history, no attributes.
cib::CibOp Controller::Impl::fenced(const std::string& target) const {
  cib::CibOp c;
  auto id = id_of(target);
  if (!id) return c;
  const std::string nid = id_text(*id);
  c.changes.push_back(node_state_change(nid, {{"uname", target},
                                              {"in_ccm", "false"},
                                              {"crmd", "offline"},
                                              {"join", "down"},
                                              {"expected", "down"}}));
  for (auto& x : lrm_changes(nid, target, {})) c.changes.push_back(std::move(x));
  for (auto& x : attributes_replaced(cib, nid, target, {})) c.changes.push_back(std::move(x));
  return c;
}

void Controller::Impl::abort(Output& out, const std::string& why) {
  auto* t = transition();
  if (!t || t->aborted) return;
  t->aborted = true;
  t->abort_reason = why;
  out.log.emplace_back("transition " + std::to_string(t->id) + " aborted: " + why);
}

void Controller::Impl::check_finished(Output& out, Millis now) {
  if (!transition()) return;
  auto& t = *transition();
  if (!t.in_flight.empty()) return;
  const bool all_done = std::all_of(t.state.begin(), t.state.end(),
                                    [](ActionState s) { return s == ActionState::Done; });
  if (!t.aborted && !all_done) {
    // Nothing in flight and nothing can fire: actions wait on failed ones.
    abort(out, "actions left that cannot run");
  }
  if (t.aborted) {
    ++aborted;
    out.transitions.push_back(
        {t.id, TransitionNote::Stage::aborted, t.graph.summary, t.abort_reason});
  } else {
    ++completed;
    out.log.emplace_back("transition " + std::to_string(t.id) + " complete");
    out.transitions.push_back({t.id, TransitionNote::Stage::completed, t.graph.summary, {}});
  }
  end_transition();
  request_schedule(now);
}

// Results of the running transition, read from the nodes' lrm history.
void Controller::Impl::match_results(Output& out, Millis now) {
  if (!transition()) return;
  auto& t = *transition();
  std::vector<int> finished;
  for (const auto& [id, f] : t.in_flight) {
    if (f.fence_token != 0) continue;
    const auto& a = t.graph.actions[static_cast<std::size_t>(id)];
    auto node = id_of(a.node);
    if (!node) continue;
    ExecuteRequest r{te_uuid, t.id, id, *node, "", "", 0, expected_rc(a), "", {}, {}};
    const std::string key = transition_key(r);
    auto state = cib.status().find_child_by_attribute("node_state", "id", id_text(*node).c_str());
    pugi::xml_node found;
    cib::for_each_element(state.child("lrm"), [&](pugi::xml_node op) {
      if (!found && key == op.attribute("transition-key").value() &&
          op.attribute("op-status").as_int(0) != kStatusPending &&
          std::string_view(op.attribute("id").value()).find("_last_failure_") ==
              std::string_view::npos)
        found = op;
    });
    if (!found) continue;
    const bool ok = found.attribute("op-status").as_int(0) == kStatusDone &&
                    found.attribute("rc-code").as_int(-1) == r.target_rc;
    t.state[static_cast<std::size_t>(id)] = ok ? ActionState::Done : ActionState::Failed;
    if (!ok)
      abort(out, a.key + " on " + a.node + " returned rc=" + found.attribute("rc-code").value());
    finished.push_back(id);
  }
  for (int id : finished) t.in_flight.erase(id);
  if (!finished.empty()) fire(out, now);
}

// A notification's result, which the node sends instead of recording it. As in Pacemaker, a
// failed one leaves no history and no fail count (nothing to recover), but the transition that
// counted on it is aborted and the scheduler runs again.
void Controller::Impl::on_result_note(Output& out, const ActionResultNote& n, Millis now) {
  auto* t = transition();
  if (!is_dc() || !t || n.te_uuid != te_uuid || n.transition != t->id ||
      t->in_flight.count(n.action) == 0 || t->in_flight[n.action].fence_token != 0)
    return;
  const auto& a = t->graph.actions[static_cast<std::size_t>(n.action)];
  const bool ok = n.op_status == kStatusDone && n.rc == 0;
  t->in_flight.erase(n.action);
  t->state[static_cast<std::size_t>(n.action)] = ok ? ActionState::Done : ActionState::Failed;
  if (!ok) abort(out, a.key + " on " + a.node + " returned rc=" + std::to_string(n.rc));
  fire(out, now);
}

// Actions on a node whose controller is gone will never report: they count as failed now
// rather than at their timeout, so recovery does not wait for it.
void Controller::Impl::drop_lost_actions() {
  auto& t = *transition();
  std::vector<int> lost;
  for (const auto& [id, f] : t.in_flight) {
    if (f.fence_token != 0) continue;
    auto node = id_of(t.graph.actions[static_cast<std::size_t>(id)].node);
    if (!node || std::find(view.controllers.begin(), view.controllers.end(), *node) ==
                     view.controllers.end())
      lost.push_back(id);
  }
  for (int id : lost) {
    t.in_flight.erase(id);
    t.state[static_cast<std::size_t>(id)] = ActionState::Failed;
  }
}

void Controller::Impl::expire_actions(Output& out, Millis now) {
  if (!transition()) return;
  auto& t = *transition();
  std::vector<int> late;
  for (const auto& [id, f] : t.in_flight) {
    if (now >= f.deadline) late.push_back(id);
  }
  for (int id : late) {
    const auto& a = t.graph.actions[static_cast<std::size_t>(id)];
    if (auto fence = t.in_flight[id].fence_token) {
      local.ops.erase(fence);
    } else if (auto node = id_of(a.node)) {
      const ExecuteRequest r = request_of(a, *node);
      if (auto record = lost_action_record(a, r, now); !record.changes.empty()) {
        out.commits.push_back(std::move(record));
        lost_unrecorded.insert(transition_key(r));
      }
    }
    t.in_flight.erase(id);
    t.state[static_cast<std::size_t>(id)] = ActionState::Failed;
    abort(out, a.key + " on " + a.node + " timed out");
  }
  if (!late.empty()) check_finished(out, now);
}

void Controller::Impl::dc_step(Output& out, Millis now) {
  if (!is_dc()) return;
  if (auto* round = std::get_if<Joining>(&role);
      round && (round->waiting.empty() || now >= round->deadline))
    join_over(out, now);
  expire_actions(out, now);
  maybe_schedule(out, now);
}

}  // namespace vigil::controller
