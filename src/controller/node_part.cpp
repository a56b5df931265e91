// The node part of the controller: runs what the DC asks with the node's executor, records each
// result in its own node_state (lrm history, fail counts), answers join offers with that history,
// and leaves in order (shutdown, the DC's acknowledgement, shutdown-escalation).
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <set>

#include "cib/edit.h"
#include "controller/controller_impl.h"
#include "scheduler/digest.h"
#include "scheduler/model.h"

namespace vigil::controller {

namespace {

constexpr int kPendingRc = 193;  // Pacemaker's rc-code of an operation still running

// A probe that finds the resource running (or promoted) is news, not a failure.
bool probe_finding(const ExecuteRequest& r, int rc, int op_status) {
  return r.task == "monitor" && r.interval_ms == 0 && op_status == 0 &&
         (rc == 0 || rc == 7 || rc == 8);
}

// How an action is named in the log: "probe" for a one-shot monitor, else its task.
std::string action_words(const ExecuteRequest& r) {
  return r.task == "monitor" && r.interval_ms == 0 ? "probe" : r.task;
}

// An action's result in crm_mon's words: "not running (7)", "timed out after 20000ms".
std::string outcome_words(const ActionResult& res) {
  if (res.op_status == kStatusTimedOut)
    return res.exit_reason.empty() ? "timed out" : res.exit_reason;
  std::string words =
      res.op_status == kStatusNotInstalled
          ? "agent not installed"
          : scheduler::ocf_result_text(res.rc) + (" (" + std::to_string(res.rc) + ")");
  return res.exit_reason.empty() ? words : words + ": " + res.exit_reason;
}

}  // namespace

void Controller::Impl::on_offer(Output& out, NodeId from, const JoinOffer& offer) {
  (void)from;
  cib::CibOp op;
  const std::string id = id_text(self.id);
  // Expected down only once the DC ordered the leave (Pacemaker's join sets member, its
  // do_shutdown down): down before that, with the shutdown attribute lost, leaves a node the
  // scheduler holds pending, its stops unrunnable, the leave never ordered.
  op.changes.push_back(
      node_state_change(id, {{"uname", self.name},
                             {"in_ccm", "true"},
                             {"crmd", "online"},
                             {"join", "member"},
                             {"expected", local.shutdown_acknowledged ? "down" : "member"}}));
  // Unguarded (history_written's requirement left out): a join round follows a reconciliation,
  // whose agreed copy may lack records this node wrote to a losing copy; the report restores them.
  for (auto& c : lrm_changes(id, self.name, local.history)) op.changes.push_back(std::move(c));
  if (!local.reported_once) {
    // A controller that just started states only what this life set (a shutdown it asked for
    // before this report, a value set since it started; Pacemaker's attrd erases its node's
    // attributes when it starts): an earlier life's fail counts go.
    for (auto& c : attributes_replaced(cib, id, self.name, stated_attributes()))
      op.changes.push_back(std::move(c));
    local.reported_once = true;
  } else {
    for (auto& c : attributes_restated()) op.changes.push_back(std::move(c));
  }
  out.commits.push_back(std::move(op));
  out.send.push_back(JoinAck{offer.te_uuid, offer.round});
}

// This node's transient attributes as this life states them: those it knows, and its shutdown
// request while it asks to leave.
std::map<std::string, std::string> Controller::Impl::stated_attributes() const {
  auto stated = local.attributes;
  if (local.shutdown_since) stated["shutdown"] = std::to_string(*local.shutdown_since / 1000);
  return stated;
}

// What makes the CIB hold this node's transient attributes as the node states them. A later
// report, or the agreed CIB after a reconciliation, may meet another member's older copy: it may
// have lost this life's values (a shutdown request the DC would never order, a fail count, a
// promotion score) or kept cleared ones (an earlier life's shutdown, a fail count cleaned up on
// this side). The set is replaced whole: a value set by its own nvpair could sit beside another
// writer's nvpair of the same name (the CLI names its own).
std::vector<cib::CibChange> Controller::Impl::attributes_restated() const {
  const std::string id = id_text(self.id);
  const auto stated = stated_attributes();
  if (node_attributes(cib, id) == stated) return {};
  return attributes_replaced(cib, id, self.name, stated);
}

// A commit's changes to this node's transient attributes: others' (a cleanup, a value the CLI
// set) or this node's own coming back. The node takes them as an attrd takes a peer's update.
// A controller that just started takes none from its first document: those are an earlier
// life's.
void Controller::Impl::follow_attributes(const cib::Cib& next) {
  if (!have_cib) return;
  const std::string id = id_text(self.id);
  const auto before = node_attributes(cib, id);
  const auto after = node_attributes(next, id);
  if (before == after) return;
  for (const auto& [name, value] : after) {
    const auto was = before.find(name);
    if (was == before.end() || was->second != value) local.attributes[name] = value;
  }
  for (const auto& [name, value] : before) {
    if (!after.contains(name)) local.attributes.erase(name);
  }
  local.attributes.erase("shutdown");  // shutdown_since's
}

// Once the CIB is agreed after a reconciliation, as Pacemaker's attrd writes all its values
// after the CIB was replaced. Before its first report this life has stated nothing: that report
// clears the rest.
void Controller::Impl::restate_attributes(Output& out) {
  if (!local.reported_once) return;
  cib::CibOp op;
  op.changes = attributes_restated();
  if (op.changes.empty()) return;
  out.commits.push_back(std::move(op));
  out.log.emplace_back("the reconciled CIB differs from " + self.name +
                       "'s transient attributes: stated again");
}

// A cleanup (crm_resource --cleanup) deletes a resource's lrm_resource from the CIB. As
// Pacemaker's controller does when it deletes a history, the node forgets it and ends the
// resource's recurring monitors: its next report would otherwise write the deleted records
// back, and the scheduler's probe is to decide afresh. Only the records the CIB had shown go
// (call-ids up to the highest shown): a result that came in since is news the cleanup never saw,
// and the DC may wait for it. The report that failed on the deletion (commit_history) is made
// again, with the fail count such a result added: the node holds it, and the count goes with its
// failure's record.
void Controller::Impl::forget_deleted_history(Output& out) {
  auto lrm = cib.status()
                 .find_child_by_attribute("node_state", "id", id_text(self.id).c_str())
                 .child("lrm")
                 .child("lrm_resources");
  bool forgot = false;
  for (auto it = local.history.begin(); it != local.history.end();) {
    const std::string& rsc = it->first;
    if (auto shown = lrm.find_child_by_attribute("lrm_resource", "id", rsc.c_str())) {
      int& highest = local.in_cib[rsc];
      for (auto op : shown.children("lrm_rsc_op"))
        highest = std::max(highest, op.attribute("call-id").as_int(0));
      ++it;
      continue;
    }
    const auto seen = local.in_cib.find(rsc);
    if (seen == local.in_cib.end()) {
      ++it;
      continue;
    }
    for (auto op = local.ops.begin(); op != local.ops.end();) {
      const bool monitor = op->second.recurring && op->second.request.resource == rsc;
      if (monitor) out.cancel.push_back(op->first);
      op = monitor ? local.ops.erase(op) : std::next(op);
    }
    out.log.emplace_back("the history of " + rsc + " on " + self.name +
                         " was deleted: forgotten, its recurring monitors ended");
    std::erase_if(it->second.ops,
                  [&](const auto& kv) { return kv.second.call_id <= seen->second; });
    local.in_cib.erase(seen);
    forgot = true;
    it = it->second.ops.empty() ? local.history.erase(it) : std::next(it);
  }
  if (forgot) commit_history(out, attributes_restated());
}

// The node's whole lrm section, as its history holds it. Each resource the CIB has shown must be
// there still: a report built before this node saw a cleanup delete one must not write the
// deleted records back (the cleanup's failure would come back). Such a report is refused as a
// whole, and made again once the node sees the deletion (forget_deleted_history). Pacemaker
// avoids the race by having the node's own controller delete the history, in order with its
// updates (crm_resource --cleanup asks the node's controller to).
std::vector<cib::CibChange> Controller::Impl::history_written() const {
  const std::string id = id_text(self.id);
  std::vector<cib::CibChange> changes;
  for (const auto& [rsc, call_id] : local.in_cib)
    changes.push_back(cib::CibChange::modify(
        "/cib/status/node_state[@id='" + id + "']/lrm/lrm_resources/lrm_resource[@id='" + rsc +
            "']",
        "<lrm_resource id=\"" + xml_escape(rsc) + "\"/>"));
  for (auto& c : lrm_changes(id, self.name, local.history)) changes.push_back(std::move(c));
  return changes;
}

void Controller::Impl::commit_history(Output& out, std::vector<cib::CibChange> extra) {
  cib::CibOp op;
  op.changes = history_written();
  for (auto& c : extra) op.changes.push_back(std::move(c));
  out.commits.push_back(std::move(op));
}

std::string Controller::Impl::last_failure_id(const std::string& resource) {
  return resource + "_last_failure_0";
}

std::string Controller::Impl::record_id(const ExecuteRequest& r) {
  if (r.interval_ms > 0) return r.resource + "_" + r.task + "_" + std::to_string(r.interval_ms);
  return r.resource + "_last_0";
}

void Controller::Impl::record(const LocalOp& op, int rc, int op_status, Millis exec_ms,
                              const std::string& reason, Millis now) {
  auto& rh = local.history[op.request.resource];
  if (rh.type.empty()) {
    rh.cls = op.agent_class;
    rh.provider = op.provider;
    rh.type = op.type;
  }
  OpRecord rec;
  rec.id = record_id(op.request);
  rec.operation_key = op.request.key;
  rec.operation = op.request.task;
  rec.transition_key = transition_key(op.request);
  rec.transition_magic =
      std::to_string(op_status) + ":" + std::to_string(rc) + ";" + rec.transition_key;
  rec.exit_reason = reason;
  rec.on_node = self.name;
  rec.call_id = op_status == kStatusPending ? -1 : ++local.call_id;
  rec.rc = rc;
  rec.op_status = op_status;
  rec.interval_ms = op.request.interval_ms;
  rec.last_rc_change = now / 1000;
  rec.exec_time = exec_ms;
  if (op.request.interval_ms == 0) rec.op_digest = op.digest;
  auto meta = [&](const char* k) {
    auto it = op.request.meta.find(k);
    return it == op.request.meta.end() ? std::string() : it->second;
  };
  rh.shutdown_lock = std::strtoll(meta("shutdown_lock").c_str(), nullptr, 10);
  if (op.request.task == "migrate_to" || op.request.task == "migrate_from") {
    rec.migrate_source = meta("migrate_source");
    rec.migrate_target = meta("migrate_target");
  }
  const bool failed =
      op_status > kStatusDone || (op_status == kStatusDone && rc != op.request.target_rc);
  if (failed && !probe_finding(op.request, rc, op_status)) {
    OpRecord failure = rec;
    failure.id = last_failure_id(op.request.resource);
    rh.ops[failure.id] = failure;
  }
  if (op.request.task == "stop" && op_status == kStatusDone && rc == 0) {
    // The stop ended the recurring monitors: their records go, as Pacemaker's controller
    // deletes a cancelled monitor's; the last failure stays until a cleanup or failure-timeout.
    std::erase_if(rh.ops, [&](const auto& kv) {
      return kv.second.interval_ms > 0 && kv.first != last_failure_id(op.request.resource);
    });
  }
  // A recurring monitor that fails stays recorded with its result; a one-shot record replaces
  // the last one.
  rh.ops[rec.id] = rec;
}

ResourceEvent Controller::Impl::resource_event(const LocalOp& op, const ActionResult& res) const {
  const auto& r = op.request;
  return ResourceEvent{self.name,   r.resource, r.task,      r.interval_ms, r.target_rc,
                       res.op_status, res.rc,   res.exec_ms, op.timeout};
}

std::vector<cib::CibChange> Controller::Impl::count_failure(const LocalOp& op, Millis now) {
  const auto& r = op.request;
  const std::string fc = fail_count_name(r.resource, r.task, r.interval_ms);
  const auto known = local.attributes.find(fc);
  int count = scheduler::parse_score(known != local.attributes.end() ? known->second : "0");
  // As Pacemaker's DC (the graph's failed-stop-offset and failed-start-offset): a failed stop
  // always sets INFINITY, a failed start too unless start-failure-is-fatal is off; any other
  // failure adds one.
  const bool fatal_start =
      r.task == "start" && scheduler::is_true(cluster_option(cib, "start-failure-is-fatal"));
  std::string value = r.task == "stop" || fatal_start
                          ? "INFINITY"
                          : std::to_string(scheduler::add_scores(count, 1));
  if (value == std::to_string(scheduler::kInfinity)) value = "INFINITY";
  const std::map<std::string, std::string> values{
      {fc, value},
      {last_failure_name(r.resource, r.task, r.interval_ms), std::to_string(now / 1000)}};
  for (const auto& [name, v] : values) local.attributes[name] = v;
  return {attribute_change(id_text(self.id), self.name, values)};
}

void Controller::Impl::on_execute(Output& out, const ExecuteRequest& r, Millis now) {
  if (r.node != self.id) return;
  if (r.task == "do_shutdown") {
    // The DC has moved off this node whatever it could: it is expected down from now on.
    // Said once: a repeated acknowledgement changes nothing, so it makes no new transition.
    if (local.shutdown_acknowledged) return;
    if (!local.shutdown_since) {
      // Ordered from a shutdown attribute an earlier life left in a CIB copy that came back:
      // taken, it would mark this node expected down for good (the scheduler then holds it
      // pending, its resources stuck). The stale request goes instead.
      cib::CibOp op;
      op.changes = attributes_restated();
      if (!op.changes.empty()) out.commits.push_back(std::move(op));
      out.log.emplace_back("a shutdown " + self.name + " did not ask for is withdrawn",
                           Level::warning);
      return;
    }
    local.shutdown_acknowledged = true;
    cib::CibOp op;
    op.changes.push_back(node_state_change(id_text(self.id), {{"expected", "down"}}));
    out.commits.push_back(std::move(op));
    out.log.emplace_back("the DC acknowledged the shutdown of " + self.name);
    for (const auto& active : still_active())
      out.log.emplace_back(self.name + " leaves with " + active, Level::error);
    return;
  }
  if (r.task == "clear_failcount") {
    auto failure = [&](const auto& kv) { return cib::is_failure_attribute(kv.first, r.resource); };
    std::erase_if(local.attributes, failure);
    auto attrs = node_attributes(cib, id_text(self.id));
    std::erase_if(attrs, failure);
    // As Pacemaker's handle_failcount_op: the failure's record goes with its count.
    auto rh = local.history.find(r.resource);
    if (rh != local.history.end()) rh->second.ops.erase(last_failure_id(r.resource));
    commit_history(out, attributes_replaced(cib, id_text(self.id), self.name, attrs));
    return;
  }
  LocalOp op;
  op.request = r;
  // The DC's definition, not this node's copy of the CIB, which may not have the resource yet.
  const ResourceDefinition& d = r.definition;
  op.agent_class = d.cls;
  op.provider = d.provider;
  op.type = d.type;
  if (d.cls.empty()) {
    out.log.emplace_back("cannot run " + r.key + ": the DC named no agent for " + r.resource,
                         Level::warning);
    // As Pacemaker's controller fakes it, a notification that cannot run succeeds.
    if (r.task == "notify") return note_result(out, r, {0, kStatusDone, 0, ""});
    record(op, 5, 7, 0, "no such resource", now);
    commit_history(out);
    return;
  }
  LocalAction action;
  action.token = local.next_token++;
  action.resource = r.resource;
  action.name = r.task;
  action.interval = r.interval_ms;
  action.timeout = d.timeout;
  action.params = d.params;
  action.meta = r.meta;
  action.meta["on_node"] = self.name;
  action.meta["on_node_uuid"] = id_text(self.id);
  op.digest = scheduler::parameters_digest(action.params);
  op.timeout = action.timeout;
  op.recurring = r.interval_ms > 0;
  // Stopping or migrating ends every recurring monitor of the resource (Pacemaker's controller
  // stops them before it changes the resource's state: a monitor between migrate_to and the
  // source's stop would find it gone and count a failure); a new monitor replaces the old.
  const bool ends_monitors = r.task == "stop" || r.task == "migrate_to" || r.task == "migrate_from";
  if (ends_monitors || op.recurring) {
    for (auto it = local.ops.begin(); it != local.ops.end();) {
      const bool same = it->second.recurring && it->second.request.resource == r.resource &&
                        (ends_monitors || it->second.request.interval_ms == r.interval_ms);
      if (same) {
        out.cancel.push_back(it->first);
        out.alerts.push_back(resource_event(it->second, {0, kStatusCancelled, 0, ""}));
        it = local.ops.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!op.recurring && r.task != "monitor" && r.task != "notify") {
    // Recorded as pending first, so that a new DC after a crash sees it running.
    record(op, kPendingRc, kStatusPending, 0, "", now);
    commit_history(out);
  }
  auto agent = AgentSpec::of(op.agent_class, op.provider, op.type);
  local.ops.emplace(action.token, std::move(op));
  // An agent no executor could run (a class vigil lacks, a name that is no file) ends as an
  // executor reports it: not installed.
  if (!agent)
    return on_local_done(out, action.token, {5, kStatusNotInstalled, 0, agent.error().message},
                         now);
  action.agent = *agent;
  out.run.push_back(std::move(action));
}

void Controller::Impl::on_local_done(Output& out, std::uint64_t token, const ActionResult& res,
                                     Millis now) {
  auto it = local.ops.find(token);
  if (it == local.ops.end()) return;  // cancelled, or from before a stop
  LocalOp op = it->second;
  if (!op.recurring) local.ops.erase(it);
  if (op.fencing) return fence_done(out, std::move(op), res, now);
  if (res.op_status == kStatusCancelled) return;
  // Pacemaker sends no resource alert for a notification (lrmd_send_resource_alert skips them).
  if (op.request.task == "notify") return note_result(out, op.request, res);
  out.alerts.push_back(resource_event(op, res));
  record(op, res.rc, res.op_status, res.exec_ms, res.exit_reason, now);
  std::vector<cib::CibChange> extra;
  const bool failed = res.op_status != kStatusDone || res.rc != op.request.target_rc;
  if (failed && !probe_finding(op.request, res.rc, res.op_status)) {
    out.log.emplace_back(action_words(op.request) + " of " + op.request.resource + " on " +
                             self.name + ": " + outcome_words(res),
                         Level::warning);
    extra = count_failure(op, now);
  }
  commit_history(out, std::move(extra));
}

// A notification leaves no history (Pacemaker's controller does not record one): its result goes
// straight to the DC, and a failure is only logged.
void Controller::Impl::note_result(Output& out, const ExecuteRequest& r, const ActionResult& res) {
  if (res.op_status != kStatusDone || res.rc != 0)
    out.log.emplace_back(r.key + " of " + r.resource + " on " + self.name + ": " +
                             outcome_words(res),
                         Level::warning);
  out.send.push_back(ActionResultNote{r.te_uuid, r.transition, r.action, res.rc, res.op_status});
}

// What may still run here, each with its last operation: a resource counts as inactive only
// after a successful stop or a probe that found it not running (or its agent missing, which
// Pacemaker takes for not running); anything else (a failed stop, a start) may have left it
// active.
std::vector<std::string> Controller::Impl::still_active() const {
  std::vector<std::string> out;
  for (const auto& [id, h] : local.history) {
    const OpRecord* last = nullptr;
    for (const auto& [rid, op] : h.ops) {
      if (op.interval_ms == 0 && (!last || op.call_id > last->call_id)) last = &op;
    }
    if (!last) continue;
    const bool stopped = last->operation == "stop" && last->rc == 0 && last->op_status == 0;
    const bool probe = last->operation == "monitor";
    const bool not_running = probe && (last->rc == 5 || last->rc == 6 || last->rc == 7 ||
                                       last->op_status == kStatusNotInstalled);
    if (stopped || not_running) continue;
    ActionResult res{last->rc, last->op_status, 0, last->exit_reason};
    out.push_back(id + " still active (its last " + (probe ? "probe" : last->operation) + ": " +
                  outcome_words(res) + ")");
  }
  return out;
}

Millis Controller::Impl::shutdown_escalation() const {
  return scheduler::parse_interval_ms(cluster_option(cib, "shutdown-escalation")).value_or(1200000);
}

// Pacemaker's shutdown-escalation: a node whose shutdown the DC holds back (a stop that cannot
// run) leaves anyway once it has passed.
void Controller::Impl::note_escalation(Output& out, Millis now) {
  if (!local.shutdown_since || local.shutdown_acknowledged || local.escalation_noted || !have_cib)
    return;
  if (now - *local.shutdown_since < shutdown_escalation()) return;
  local.escalation_noted = true;
  std::string what;
  for (const auto& active : still_active()) what += "; " + active;
  out.log.emplace_back("shutdown-escalation passed without the DC's acknowledgement: " + self.name +
                           " leaves" + what,
                       Level::error);
}

bool Controller::Impl::ready_to_leave() const {
  if (!local.shutdown_since) return false;
  if (!have_cib) return true;  // nothing was ever handed to this node
  for (const auto& [token, op] : local.ops) {
    if (!op.recurring) return false;  // a stop (or a fencing this DC runs) is under way
  }
  if (local.escalation_noted) return true;
  // The DC's do_shutdown comes after the stops it ordered, and only once none is left that
  // could run; the others take the departure for a clean one once the CIB says so.
  if (!local.shutdown_acknowledged) return false;
  auto state = cib.status().find_child_by_attribute("node_state", "id", id_text(self.id).c_str());
  return std::string_view(state.attribute("expected").value()) == "down";
}

}  // namespace vigil::controller
