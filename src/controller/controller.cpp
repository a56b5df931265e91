// The controller core: the node part (runs what the DC asks, records results and fail counts)
// and the DC part (join rounds, bookkeeping of node_state, scheduling, carrying out the graph).
#include "controller/controller.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "controller/fencing.h"
#include "controller/status_ops.h"
#include "scheduler/digest.h"
#include "scheduler/model.h"

namespace vigil::controller {

namespace {

constexpr int kPendingRc = 193;  // Pacemaker's rc-code of an operation still running
constexpr int kStatusPending = -1, kStatusDone = 0, kStatusCancelled = 1, kStatusTimedOut = 2;
constexpr int kStatusNotInstalled = 7;
using Level = LogLine::Level;

std::string id_text(NodeId id) {
  return std::to_string(id);
}

// The transition key Pacemaker writes with every result: action:transition:target-rc:te-uuid.
std::string transition_key(const ExecuteRequest& r) {
  return std::to_string(r.action) + ":" + std::to_string(r.transition) + ":" +
         std::to_string(r.target_rc) + ":" + r.te_uuid;
}

bool is_resource_task(const std::string& task) {
  static const std::set<std::string> kTasks = {"start",  "stop",   "monitor", "promote",
                                               "demote", "notify", "reload",  "reload-agent"};
  return kTasks.count(task) != 0;
}

// What the scheduler expects from an action: probes find "not running", monitors of promoted
// instances answer 8.
int expected_rc(const scheduler::GraphAction& a) {
  if (a.promoted) return 8;
  return a.probe ? 7 : 0;
}

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

// A Transition Summary line with what caused it: "Restart vip (node1): its monitor failed".
std::string summary_words(const scheduler::SummaryLine& line) {
  std::string s = line.verb + " " + line.subject;
  if (!line.details.empty()) s += " (" + line.details + ")";
  if (!line.reason.empty()) s += " " + line.reason;
  return line.why.empty() ? s : s + ": " + line.why;
}

struct InFlight {
  Millis deadline = 0;
  std::uint64_t fence_token = 0;  // a fencing action the DC runs itself
};

enum class ActionState { Waiting, InFlight, Done, Failed };

struct Transition {
  int id = 0;
  scheduler::TransitionGraph graph;
  std::vector<ActionState> state;
  std::map<int, InFlight> in_flight;
  bool aborted = false;
  std::string abort_reason;
};

// A local operation the node runs for the DC (or a recurring monitor it keeps running).
struct LocalOp {
  ExecuteRequest request;
  std::string agent_class, provider, type;
  std::string digest;
  bool recurring = false;
  bool fencing = false;  // DC-only: runs a fence device against `request.resource` (the target)
  std::vector<FenceLevel> fence_plan;  // the levels to try, and where in them this run is
  std::size_t fence_level = 0, fence_device = 0;
};

}  // namespace

struct Controller::Impl {
  Member self;
  std::string te_uuid;
  Settings settings;
  cib::Cib cib;
  bool have_cib = false;
  ClusterView view;

  // ---- node part
  LrmHistory history;
  int call_id = 0;
  std::uint64_t next_token = 1;
  std::map<std::uint64_t, LocalOp> ops;  // by token
  bool reported_once = false;
  // Resources of `history` the CIB has shown in this node's lrm: one missing since was deleted
  // there (a cleanup), while one not shown yet may only wait for this node's report.
  std::set<std::string> in_cib;
  std::optional<Millis> shutdown_since;  // this node asked to leave
  bool shutdown_acknowledged = false;    // the DC's do_shutdown came: it may leave now
  bool escalation_noted = false;         // shutdown-escalation passed, and the log says so

  // ---- DC part
  std::vector<std::string> reported;  // the scheduler's warnings and errors last logged
  std::optional<Member> dc;
  std::uint64_t join_round = 0;
  std::set<NodeId> join_waiting;
  Millis join_deadline = 0;
  bool joined = false;  // the join round of this term is over
  std::optional<Transition> transition;
  int transition_counter = 0;
  std::optional<Millis> schedule_due;
  Millis last_schedule = 0;
  std::string scheduled_fingerprint;  // what the last scheduler run saw
  std::string running_fingerprint;    // the relevant picture when the transition started
  int completed = 0, aborted = 0;

  bool is_dc() const { return dc && dc->id == self.id; }

  // ---- helpers
  std::string uname_of(NodeId id) const {
    for (const auto& m : view.members) {
      if (m.id == id) return m.name;
    }
    auto n = cib.configuration().child("nodes").find_child_by_attribute("node", "id",
                                                                        id_text(id).c_str());
    return n ? n.attribute("uname").value() : id_text(id);
  }
  std::optional<NodeId> id_of(const std::string& uname) const {
    for (const auto& m : view.members) {
      if (m.name == uname) return m.id;
    }
    for (auto n : cib.configuration().child("nodes").children("node")) {
      if (uname == n.attribute("uname").value())
        return static_cast<NodeId>(n.attribute("id").as_ullong(0));
    }
    return std::nullopt;
  }

  void finish(Output& out, Millis now) {
    std::optional<Millis> wake;
    auto earliest = [&](Millis t) { wake = wake ? std::min(*wake, t) : t; };
    if (is_dc()) {
      if (!joined) earliest(join_deadline);
      if (schedule_due) earliest(*schedule_due);
      if (transition) {
        for (const auto& [id, f] : transition->in_flight) earliest(f.deadline);
      } else if (joined && last_schedule > 0) {
        earliest(last_schedule + settings.recheck);
      }
    }
    if (shutdown_since && !shutdown_acknowledged && !escalation_noted && have_cib)
      earliest(*shutdown_since + shutdown_escalation());
    if (wake) out.wake_at = std::max(*wake, now);
  }

  // ---------------------------------------------------------------- election
  void elect(Output& out, Millis now) {
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
      start_join(out, now);
    } else {
      transition.reset();
      schedule_due.reset();
      joined = false;
    }
  }

  void start_join(Output& out, Millis now) {
    ++join_round;
    joined = false;
    join_waiting = {view.controllers.begin(), view.controllers.end()};
    join_deadline = now + settings.join_timeout;
    out.send.push_back(JoinOffer{te_uuid, join_round});
  }

  void join_over(Output& out, Millis now) {
    if (!join_waiting.empty()) {
      std::string late;
      for (auto id : join_waiting) late += " " + uname_of(id);
      out.log.emplace_back(
          "join round " + std::to_string(join_round) + " timed out waiting for" + late,
          Level::warning);
    }
    joined = true;
    join_waiting.clear();
    request_schedule(now);
  }

  void request_schedule(Millis now) {
    const Millis due = now + settings.coalesce;
    schedule_due = schedule_due ? std::min(*schedule_due, due) : due;
  }

  // ---------------------------------------------------------------- node part
  void on_offer(Output& out, NodeId from, const JoinOffer& offer) {
    (void)from;
    cib::CibOp op;
    const std::string id = id_text(self.id);
    op.changes.push_back(node_state_change(id, {{"uname", self.name},
                                                {"in_ccm", "true"},
                                                {"crmd", "online"},
                                                {"join", "member"},
                                                {"expected", shutdown_since ? "down" : "member"}}));
    for (auto& c : lrm_changes(id, self.name, history)) op.changes.push_back(std::move(c));
    if (!reported_once) {
      // A controller that just started has no attributes yet: earlier lives' fail counts go.
      for (auto& c : attributes_replaced(cib, id, self.name, {}))
        op.changes.push_back(std::move(c));
      reported_once = true;
    }
    out.commits.push_back(std::move(op));
    out.send.push_back(JoinAck{offer.te_uuid, offer.round});
  }

  // A cleanup (crm_resource --cleanup) deletes a resource's lrm_resource from the CIB. As
  // Pacemaker's controller does when it deletes a history, the node forgets it and ends the
  // resource's recurring monitors: its next report would otherwise write the deleted records
  // back, and the scheduler's probe is to decide afresh.
  void forget_deleted_history(Output& out) {
    auto lrm = cib.status()
                   .find_child_by_attribute("node_state", "id", id_text(self.id).c_str())
                   .child("lrm")
                   .child("lrm_resources");
    for (auto it = history.begin(); it != history.end();) {
      const std::string& rsc = it->first;
      if (lrm.find_child_by_attribute("lrm_resource", "id", rsc.c_str())) {
        in_cib.insert(rsc);
        ++it;
        continue;
      }
      if (in_cib.count(rsc) == 0) {
        ++it;
        continue;
      }
      for (auto op = ops.begin(); op != ops.end();) {
        const bool monitor = op->second.recurring && op->second.request.resource == rsc;
        if (monitor) out.cancel.push_back(op->first);
        op = monitor ? ops.erase(op) : std::next(op);
      }
      out.log.emplace_back("the history of " + rsc + " on " + self.name +
                           " was deleted: forgotten, its recurring monitors ended");
      in_cib.erase(rsc);
      it = history.erase(it);
    }
  }

  void commit_history(Output& out, std::vector<cib::CibChange> extra = {}) {
    cib::CibOp op;
    op.changes = lrm_changes(id_text(self.id), self.name, history);
    for (auto& c : extra) op.changes.push_back(std::move(c));
    out.commits.push_back(std::move(op));
  }

  static std::string last_failure_id(const std::string& resource) {
    return resource + "_last_failure_0";
  }

  static std::string record_id(const ExecuteRequest& r) {
    if (r.interval_ms > 0) return r.resource + "_" + r.task + "_" + std::to_string(r.interval_ms);
    return r.resource + "_last_0";
  }

  void record(const LocalOp& op, int rc, int op_status, Millis exec_ms, const std::string& reason,
              Millis now) {
    auto& rh = history[op.request.resource];
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
    rec.call_id = op_status == kStatusPending ? -1 : ++call_id;
    rec.rc = rc;
    rec.op_status = op_status;
    rec.interval_ms = op.request.interval_ms;
    rec.last_rc_change = now / 1000;
    rec.exec_time = exec_ms;
    if (op.request.interval_ms == 0) rec.op_digest = op.digest;
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

  std::vector<cib::CibChange> count_failure(const LocalOp& op, Millis now) {
    const auto& r = op.request;
    const std::string fc = fail_count_name(r.resource, r.task, r.interval_ms);
    auto attrs = node_attributes(cib, id_text(self.id));
    int count = scheduler::parse_score(attrs.count(fc) ? attrs[fc] : "0");
    const bool fatal_start = r.task == "start" && scheduler::is_true(cluster_option(
                                                      cib, "start-failure-is-fatal", "true"));
    std::string value = fatal_start ? "INFINITY" : std::to_string(scheduler::add_scores(count, 1));
    if (value == std::to_string(scheduler::kInfinity)) value = "INFINITY";
    return {attribute_change(
        id_text(self.id), self.name,
        {{fc, value},
         {last_failure_name(r.resource, r.task, r.interval_ms), std::to_string(now / 1000)}})};
  }

  void on_execute(Output& out, const ExecuteRequest& r, Millis now) {
    if (r.node != self.id) return;
    if (r.task == "do_shutdown") {
      // The DC has moved off this node whatever it could: it is expected down from now on.
      // Said once: a repeated acknowledgement changes nothing, so it makes no new transition.
      if (shutdown_acknowledged) return;
      shutdown_acknowledged = true;
      cib::CibOp op;
      op.changes.push_back(node_state_change(id_text(self.id), {{"expected", "down"}}));
      out.commits.push_back(std::move(op));
      out.log.emplace_back("the DC acknowledged the shutdown of " + self.name);
      for (const auto& active : still_active())
        out.log.emplace_back(self.name + " leaves with " + active, Level::error);
      return;
    }
    if (r.task == "clear_failcount") {
      auto attrs = node_attributes(cib, id_text(self.id));
      std::erase_if(attrs, [&](const auto& kv) {
        for (const std::string prefix : {"fail-count-", "last-failure-"}) {
          const std::string p = prefix + r.resource;
          if (kv.first.compare(0, p.size(), p) == 0 &&
              (kv.first.size() == p.size() || kv.first[p.size()] == '#'))
            return true;
        }
        return false;
      });
      // As Pacemaker's handle_failcount_op: the failure's record goes with its count.
      auto rh = history.find(r.resource);
      if (rh != history.end()) rh->second.ops.erase(last_failure_id(r.resource));
      commit_history(out, attributes_replaced(cib, id_text(self.id), self.name, attrs));
      return;
    }
    LocalOp op;
    op.request = r;
    auto prim = primitive_of(cib, r.resource);
    if (prim) {
      op.agent_class = prim.attribute("class").value();
      op.provider = prim.attribute("provider").value();
      op.type = prim.attribute("type").value();
    } else if (auto it = history.find(r.resource); it != history.end()) {
      // An orphan (removed from the configuration) is stopped with the agent it ran with.
      op.agent_class = it->second.cls;
      op.provider = it->second.provider;
      op.type = it->second.type;
    } else {
      out.log.emplace_back("cannot run " + r.key + ": no resource " + r.resource, Level::warning);
      record(op, 5, 7, 0, "no such resource", now);
      commit_history(out);
      return;
    }
    LocalAction action;
    action.token = next_token++;
    action.resource = r.resource;
    action.agent = op.agent_class + ":" + (op.provider.empty() ? "" : op.provider + ":") + op.type;
    action.name = r.task;
    action.interval = r.interval_ms;
    action.timeout = op_timeout(cib, prim, r.task, r.interval_ms);
    action.params = resource_params(cib, prim, r.task, r.interval_ms);
    action.meta = {{"on_node", self.name}, {"on_node_uuid", id_text(self.id)}};
    op.digest = scheduler::parameters_digest(action.params);
    op.recurring = r.interval_ms > 0;
    if (r.task == "stop" || op.recurring) {
      // Stopping ends every recurring monitor of the resource; a new monitor replaces the old.
      for (auto it = ops.begin(); it != ops.end();) {
        const bool same = it->second.recurring && it->second.request.resource == r.resource &&
                          (r.task == "stop" || it->second.request.interval_ms == r.interval_ms);
        if (same) {
          out.cancel.push_back(it->first);
          it = ops.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!op.recurring && !(r.task == "monitor")) {
      // Recorded as pending first, so that a new DC after a crash sees it running.
      record(op, kPendingRc, kStatusPending, 0, "", now);
      commit_history(out);
    }
    ops.emplace(action.token, op);
    out.run.push_back(std::move(action));
  }

  void on_local_done(Output& out, std::uint64_t token, const ActionResult& res, Millis now) {
    auto it = ops.find(token);
    if (it == ops.end()) return;  // cancelled, or from before a stop
    LocalOp op = it->second;
    if (!op.recurring) ops.erase(it);
    if (op.fencing) return fence_done(out, std::move(op), res, now);
    if (res.op_status == kStatusCancelled) return;
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

  // ---------------------------------------------------------------- DC: bookkeeping
  // The DC's picture of the membership in the CIB: dc-uuid, have-quorum, node_state of every
  // node, nodes listed in the configuration. Returns false when a change had to be committed
  // (the scheduler waits until the CIB shows it).
  bool bookkeeping(Output& out) {
    cib::CibOp op;
    auto root = cib.root();
    const std::string quorum = view.quorate ? "1" : "0";
    if (id_text(self.id) != root.attribute("dc-uuid").value() ||
        quorum != root.attribute("have-quorum").value()) {
      op.changes.push_back(cib::CibChange::modify(
          "/cib", "<cib dc-uuid=\"" + id_text(self.id) + "\" have-quorum=\"" + quorum + "\"/>"));
    }
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
  std::map<std::string, std::string> wanted_state(const std::string& id) const {
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

  // What makes a running transition stale: the configuration, the node states, the attributes.
  std::string fingerprint() const {
    std::string f = cib.version().str().substr(0, cib.version().str().rfind('.'));
    for (auto s : cib.status().children("node_state")) {
      for (const char* k : {"id", "in_ccm", "crmd", "join", "expected"})
        f += std::string("|") + s.attribute(k).value();
      f += cib::element_xml(s.child("transient_attributes"));
    }
    f += view.quorate ? "|q" : "|nq";
    return f;
  }

  // ---------------------------------------------------------------- DC: transitions
  // The scheduler's warnings and errors, each logged once while it lasts: the scheduler runs
  // again at every change and would repeat them.
  void report(Output& out, const scheduler::TransitionGraph& graph) {
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

  void maybe_schedule(Output& out, Millis now) {
    if (!is_dc() || !joined || transition) return;
    if (schedule_due && now < *schedule_due) return;
    schedule_due.reset();
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
    transition = std::move(t);
    running_fingerprint = fingerprint();
    fire(out, now);
  }

  int batch_limit() const {
    return std::max(0, std::atoi(cluster_option(cib, "batch-limit", "0").c_str()));
  }

  void fire(Output& out, Millis now) {
    auto& t = *transition;
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

  void start_action(Output& out, const scheduler::GraphAction& a, Millis now) {
    auto& t = *transition;
    auto& st = t.state[static_cast<std::size_t>(a.id)];
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
    ExecuteRequest r;
    r.te_uuid = te_uuid;
    r.transition = t.id;
    r.action = a.id;
    r.node = *node;
    r.resource = a.history_id.empty() ? a.resource : a.history_id;
    r.task = a.task;
    r.interval_ms = a.interval_ms;
    r.target_rc = expected_rc(a);
    r.key = a.key;
    out.send.push_back(r);
    if (!is_resource_task(a.task)) {
      st = ActionState::Done;  // clear_failcount and the like: the node just writes the CIB
      return;
    }
    st = ActionState::InFlight;
    auto prim = primitive_of(cib, r.resource);
    t.in_flight[a.id] =
        InFlight{now + op_timeout(cib, prim, a.task, a.interval_ms) + settings.action_slack, 0};
  }

  Millis stonith_timeout() const {
    return scheduler::parse_interval_ms(cluster_option(cib, "stonith-timeout", "60s"))
        .value_or(60000);
  }

  bool start_fencing(Output& out, const scheduler::GraphAction& a, Millis now) {
    LocalOp op;
    op.fencing = true;
    op.fence_plan = fence_plan(cib, a.node);
    if (op.fence_plan.empty()) return false;
    op.request.te_uuid = te_uuid;
    op.request.transition = transition->id;
    op.request.action = a.id;
    op.request.resource = a.node;  // the target
    op.request.task = a.fence_type.empty() ? "reboot" : a.fence_type;
    run_fence_device(out, std::move(op), now);
    return true;
  }

  // Runs the device the op has reached in its plan; each device gets stonith-timeout.
  void run_fence_device(Output& out, LocalOp op, Millis now) {
    const auto& device = op.fence_plan[op.fence_level][op.fence_device];
    LocalAction action;
    action.token = next_token++;
    action.resource = device.id;
    action.agent = "stonith:" + device.type;
    action.name = op.request.task;
    action.timeout = stonith_timeout();
    action.params = device.params;
    if (transition && transition->id == op.request.transition) {
      auto& f = transition->in_flight[op.request.action];
      f.fence_token = action.token;
      f.deadline = now + stonith_timeout() + settings.action_slack;
    }
    out.log.emplace_back("fencing " + op.request.resource + " (" + op.request.task + ") with " +
                         device.id + " (level " + std::to_string(op.fence_level + 1) + ")");
    ops.emplace(action.token, std::move(op));
    out.run.push_back(std::move(action));
  }

  // Topology rule: a level succeeds when all its devices do; on a failure the next level is tried.
  void fence_done(Output& out, LocalOp op, const ActionResult& res, Millis now) {
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
    if (auto state = fenced(target); ok && !state.changes.empty())
      out.commits.push_back(std::move(state));
    if (!transition || transition->id != op.request.transition) return;
    auto& t = *transition;
    t.in_flight.erase(op.request.action);
    t.state[static_cast<std::size_t>(op.request.action)] =
        ok ? ActionState::Done : ActionState::Failed;
    if (!ok) abort(out, "fencing of " + target + " failed");
    fire(out, now);
  }

  // The fenced node's state: down as expected, no history, no attributes.
  cib::CibOp fenced(const std::string& target) const {
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

  void abort(Output& out, const std::string& why) {
    if (!transition || transition->aborted) return;
    transition->aborted = true;
    transition->abort_reason = why;
    out.log.emplace_back("transition " + std::to_string(transition->id) + " aborted: " + why);
  }

  void check_finished(Output& out, Millis now) {
    if (!transition) return;
    auto& t = *transition;
    if (!t.in_flight.empty()) return;
    const bool all_done = std::all_of(t.state.begin(), t.state.end(),
                                      [](ActionState s) { return s == ActionState::Done; });
    if (!t.aborted && !all_done) {
      // Nothing in flight and nothing can fire: actions wait on failed ones.
      abort(out, "actions left that cannot run");
    }
    if (t.aborted) {
      ++aborted;
    } else {
      ++completed;
      out.log.emplace_back("transition " + std::to_string(t.id) + " complete");
    }
    transition.reset();
    request_schedule(now);
  }

  // Results of the running transition, read from the nodes' lrm history.
  void match_results(Output& out, Millis now) {
    if (!transition) return;
    auto& t = *transition;
    std::vector<int> finished;
    for (const auto& [id, f] : t.in_flight) {
      if (f.fence_token != 0) continue;
      const auto& a = t.graph.actions[static_cast<std::size_t>(id)];
      auto node = id_of(a.node);
      if (!node) continue;
      ExecuteRequest r{te_uuid, t.id, id, *node, "", "", 0, expected_rc(a), ""};
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

  // Actions on a node whose controller is gone will never report: they count as failed now
  // rather than at their timeout, so recovery does not wait for it.
  void drop_lost_actions() {
    auto& t = *transition;
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

  // What may still run here, each with its last operation: a resource counts as inactive only
  // after a successful stop or a probe that found it not running (or its agent missing, which
  // Pacemaker takes for not running); anything else (a failed stop, a start) may have left it
  // active.
  std::vector<std::string> still_active() const {
    std::vector<std::string> out;
    for (const auto& [id, h] : history) {
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

  Millis shutdown_escalation() const {
    return scheduler::parse_interval_ms(cluster_option(cib, "shutdown-escalation", "20min"))
        .value_or(1200000);
  }

  // Pacemaker's shutdown-escalation: a node whose shutdown the DC holds back (a stop that cannot
  // run) leaves anyway once it has passed.
  void note_escalation(Output& out, Millis now) {
    if (!shutdown_since || shutdown_acknowledged || escalation_noted || !have_cib) return;
    if (now - *shutdown_since < shutdown_escalation()) return;
    escalation_noted = true;
    std::string what;
    for (const auto& active : still_active()) what += "; " + active;
    out.log.emplace_back("shutdown-escalation passed without the DC's acknowledgement: " +
                             self.name + " leaves" + what,
                         Level::error);
  }

  bool ready_to_leave() const {
    if (!shutdown_since) return false;
    if (!have_cib) return true;  // nothing was ever handed to this node
    for (const auto& [token, op] : ops) {
      if (!op.recurring) return false;  // a stop (or a fencing this DC runs) is under way
    }
    if (escalation_noted) return true;
    // The DC's do_shutdown comes after the stops it ordered, and only once none is left that
    // could run; the others take the departure for a clean one once the CIB says so.
    if (!shutdown_acknowledged) return false;
    auto state = cib.status().find_child_by_attribute("node_state", "id", id_text(self.id).c_str());
    return std::string_view(state.attribute("expected").value()) == "down";
  }

  void expire_actions(Output& out, Millis now) {
    if (!transition) return;
    auto& t = *transition;
    std::vector<int> late;
    for (const auto& [id, f] : t.in_flight) {
      if (now >= f.deadline) late.push_back(id);
    }
    for (int id : late) {
      const auto& a = t.graph.actions[static_cast<std::size_t>(id)];
      if (auto fence = t.in_flight[id].fence_token) ops.erase(fence);
      t.in_flight.erase(id);
      t.state[static_cast<std::size_t>(id)] = ActionState::Failed;
      abort(out, a.key + " on " + a.node + " timed out");
    }
    if (!late.empty()) check_finished(out, now);
  }

  void dc_step(Output& out, Millis now) {
    if (!is_dc()) return;
    if (!joined && (join_waiting.empty() || now >= join_deadline)) join_over(out, now);
    expire_actions(out, now);
    maybe_schedule(out, now);
  }
};

Controller::Controller(Member self, std::uint64_t nonce, Settings settings)
    : impl_(std::make_unique<Impl>()) {
  impl_->self = std::move(self);
  impl_->te_uuid = std::to_string(impl_->self.id) + "-" + std::to_string(nonce);
  impl_->settings = settings;
}

Controller::~Controller() = default;
Controller::Controller(Controller&&) noexcept = default;
Controller& Controller::operator=(Controller&&) noexcept = default;

Output Controller::cib_changed(const cib::Cib& cib, Millis now) {
  Output out;
  auto& s = *impl_;
  s.cib = cib;
  const bool first = !s.have_cib;
  s.have_cib = true;
  s.forget_deleted_history(out);
  if (first) s.elect(out, now);
  if (s.is_dc()) {
    s.match_results(out, now);
    if (s.transition && !s.transition->aborted && s.fingerprint() != s.running_fingerprint)
      s.abort(out, "the cluster changed");
    if (s.transition) s.check_finished(out, now);
    if (!s.transition) s.request_schedule(now);
    s.dc_step(out, now);
  }
  s.finish(out, now);
  return out;
}

Output Controller::view_changed(const ClusterView& view, Millis now) {
  Output out;
  auto& s = *impl_;
  const bool controllers_changed = view.controllers != s.view.controllers;
  const bool changed = !(view == s.view);
  s.view = view;
  if (changed) {
    const bool was_dc = s.is_dc();
    s.elect(out, now);
    if (was_dc && s.is_dc() && !controllers_changed) s.request_schedule(now);
    if (s.transition) s.abort(out, "the membership changed");
    if (s.transition) s.drop_lost_actions();
    if (s.transition) s.check_finished(out, now);
  }
  s.dc_step(out, now);
  s.finish(out, now);
  return out;
}

Output Controller::message(NodeId from, const Message& m, Millis now) {
  Output out;
  auto& s = *impl_;
  if (const auto* e = std::get_if<ExecuteRequest>(&m)) {
    // Only the DC of this view gives orders; a deposed DC's late requests are dropped.
    if (s.dc && s.dc->id == from) s.on_execute(out, *e, now);
  } else if (const auto* o = std::get_if<JoinOffer>(&m)) {
    // Answered even before this node knows the DC (its CIB may still be reconciling): the
    // report is this node's own history, true whoever asks.
    s.on_offer(out, from, *o);
  } else {
    const auto& a = std::get<JoinAck>(m);
    if (s.is_dc() && a.te_uuid == s.te_uuid && a.round == s.join_round) s.join_waiting.erase(from);
    s.dc_step(out, now);
  }
  s.finish(out, now);
  return out;
}

Output Controller::action_done(std::uint64_t token, const ActionResult& result, Millis now) {
  Output out;
  impl_->on_local_done(out, token, result, now);
  impl_->dc_step(out, now);
  impl_->finish(out, now);
  return out;
}

Output Controller::tick(Millis now) {
  Output out;
  impl_->note_escalation(out, now);
  impl_->dc_step(out, now);
  impl_->finish(out, now);
  return out;
}

Result<cib::CibOp> Controller::fence_request(const std::string& node_name) const {
  const auto& s = *impl_;
  auto id = s.id_of(node_name);
  if (!id) return fail("fence: no node named '" + node_name + "' in the cluster");
  cib::CibOp op;
  op.changes.push_back(attribute_change(id_text(*id), node_name, {{"terminate", "true"}}));
  return op;
}

Output Controller::request_shutdown(Millis now) {
  Output out;
  auto& s = *impl_;
  if (s.shutdown_since) return out;
  s.shutdown_since = now;
  if (s.have_cib) {
    cib::CibOp op;
    op.changes.push_back(attribute_change(id_text(s.self.id), s.self.name,
                                          {{"shutdown", std::to_string(now / 1000)}}));
    out.commits.push_back(std::move(op));
    out.log.emplace_back(s.self.name + " is shutting down: its resources move away first");
  }
  s.finish(out, now);
  return out;
}

bool Controller::ready_to_leave() const {
  return impl_->ready_to_leave();
}

Status Controller::status() const {
  const auto& s = *impl_;
  Status st;
  st.dc = s.dc;
  st.is_dc = s.is_dc();
  st.transitions_completed = s.completed;
  st.transitions_aborted = s.aborted;
  if (st.is_dc && !s.joined) st.state = TransitionState::Joining;
  if (s.transition) {
    st.state = s.transition->aborted ? TransitionState::Aborting : TransitionState::Running;
    st.transition = s.transition->id;
    st.actions_total = static_cast<int>(s.transition->graph.actions.size());
    for (auto a : s.transition->state) st.actions_done += a == ActionState::Done;
    st.actions_in_flight = static_cast<int>(s.transition->in_flight.size());
  } else {
    st.transition = s.transition_counter;
  }
  return st;
}

const char* to_string(TransitionState s) {
  switch (s) {
    case TransitionState::Idle:
      return "idle";
    case TransitionState::Joining:
      return "joining";
    case TransitionState::Running:
      return "running";
    case TransitionState::Aborting:
      return "aborting";
  }
  return "?";
}

std::string fail_count_name(const std::string& rsc, const std::string& op, std::int64_t interval) {
  return "fail-count-" + rsc + "#" + op + "_" + std::to_string(interval);
}

std::string last_failure_name(const std::string& rsc, const std::string& op,
                              std::int64_t interval) {
  return "last-failure-" + rsc + "#" + op + "_" + std::to_string(interval);
}

}  // namespace vigil::controller
