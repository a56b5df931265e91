// The controller core's inside, shared by its parts: controller.cpp (the public face and what
// both roles use), node_part.cpp (what this node runs for the DC: its operation history, local
// operations, shutdown and hand-over) and dc_role.cpp (the DC role, a variant: not DC, a join
// round, settled, or a transition under way). Internal to the module and its tests.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "controller/controller.h"
#include "controller/fencing.h"
#include "controller/status_ops.h"
#include "scheduler/scheduler.h"

namespace vigil::controller {

constexpr int kStatusPending = -1, kStatusDone = 0, kStatusCancelled = 1, kStatusTimedOut = 2;
constexpr int kStatusNotInstalled = 7;
using Level = LogLine::Level;

inline std::string id_text(NodeId id) {
  return std::to_string(id);
}

// The transition key Pacemaker writes with every result: action:transition:target-rc:te-uuid.
inline std::string transition_key(const ExecuteRequest& r) {
  return std::to_string(r.action) + ":" + std::to_string(r.transition) + ":" +
         std::to_string(r.target_rc) + ":" + r.te_uuid;
}

struct InFlight {
  Millis deadline = 0;
  std::uint64_t fence_token = 0;  // a fencing action the DC runs itself
};

enum class ActionState { Waiting, InFlight, Done, Failed };

struct Transition {
  int id = 0;
  scheduler::TransitionGraph graph;
  std::vector<ActionState> state;     // by action id
  std::map<int, InFlight> in_flight;  // the actions out, by id
  std::map<std::string, std::string> picture;  // the relevant picture when it started
  // The nodes (picture keys) this transition fenced or is fencing: their state is expected to
  // change (Pacemaker's match_down_event).
  std::set<std::string> downed;
  bool aborted = false;
  std::string abort_reason;
};

// ---- the DC role: this node's part in the term, exactly one of these

struct NotDc {};

// A join round: every controller reports its resource history before the scheduler runs.
struct Joining {
  std::set<NodeId> waiting;  // controllers whose report is not in yet
  Millis deadline = 0;       // then the round ends without them
  // The transition of the previous round, aborted by the membership change that started this
  // one, while its actions out still report or time out.
  std::optional<Transition> draining;
};

// Joined, with no transition: the scheduler runs when due.
struct Settled {};

using Role = std::variant<NotDc, Joining, Settled, Transition>;

// A local operation the node runs for the DC (or a recurring monitor it keeps running).
struct LocalOp {
  ExecuteRequest request;
  std::string agent_class, provider, type;
  std::string digest;
  Millis timeout = 0;
  bool recurring = false;
  bool fencing = false;  // DC-only: runs a fence device against `request.resource` (the target)
  std::vector<FenceLevel> fence_plan;  // the levels to try, and where in them this run is
  std::size_t fence_level = 0, fence_device = 0;
};

// The node part: what this node ran for the DC and what it runs now, and its leaving.
struct LocalNode {
  LrmHistory history;
  int call_id = 0;
  std::uint64_t next_token = 1;
  std::map<std::uint64_t, LocalOp> ops;  // by token
  bool reported_once = false;
  // Resources of `history` the CIB has shown in this node's lrm, each with the highest call-id of
  // its records shown: one missing since was deleted there (a cleanup), together with the records
  // up to that call-id; one not shown yet may only wait for this node's report.
  std::map<std::string, int> in_cib;
  std::optional<Millis> shutdown_since;  // this node asked to leave
  bool shutdown_acknowledged = false;    // the DC's do_shutdown came: it may leave now
  bool escalation_noted = false;         // shutdown-escalation passed, and the log says so
  // This node's transient attributes as this life knows them, but `shutdown` (shutdown_since
  // states it): those it wrote (fail counts) and those others changed by a commit it saw (a
  // cleanup, a value set by the CLI). As Pacemaker's attrd, whose values for its own node take
  // priority when the attribute managers sync, the node is their authority: a reconciliation that
  // adopts a copy that lost some or still holds cleared ones is followed by a report of these.
  std::map<std::string, std::string> attributes;
};

struct Controller::Impl {
  Member self;
  std::string te_uuid;
  Settings settings;
  cib::Cib cib;
  bool have_cib = false;
  ClusterView view;

  LocalNode local;  // the node part

  // ---- DC part
  std::optional<Member> dc;            // as elected from the view
  Role role;                           // this node's part as DC, NotDc unless dc is self
  std::optional<Millis> schedule_due;  // the DC runs the scheduler then
  // Transition keys of lost actions whose timeout record the CIB does not show yet: the scheduler
  // waits for them (lost_action_record).
  std::set<std::string> lost_unrecorded;
  // Kept across terms: round and transition numbers only grow, and a DC elected again does not
  // repeat what it last said and scheduled.
  std::vector<std::string> reported;  // the scheduler's warnings and errors last logged
  std::uint64_t join_round = 0;
  int transition_counter = 0;
  Millis last_schedule = 0;
  std::string scheduled_fingerprint;  // what the last scheduler run saw
  int completed = 0, aborted = 0;

  // ---- both roles (controller.cpp)
  bool is_dc() const { return dc && dc->id == self.id; }
  std::string uname_of(NodeId id) const;
  void membership_alerts(Output& out, const ClusterView& next) const;
  void attribute_alerts(Output& out, const cib::Cib& next) const;
  std::optional<NodeId> id_of(const std::string& uname) const;
  void finish(Output& out, Millis now);
  void take_cib(Output& out, const cib::Cib& next, Millis now);
  void check_invariants() const;

  // ---- node part (node_part.cpp)
  void on_offer(Output& out, NodeId from, const JoinOffer& offer);
  std::map<std::string, std::string> stated_attributes() const;
  std::vector<cib::CibChange> attributes_restated() const;
  void follow_attributes(const cib::Cib& next);
  void restate_attributes(Output& out);
  void forget_deleted_history(Output& out);
  std::vector<cib::CibChange> history_written() const;
  void commit_history(Output& out, std::vector<cib::CibChange> extra = {});
  static std::string last_failure_id(const std::string& resource);
  static std::string record_id(const ExecuteRequest& r);
  void record(const LocalOp& op, int rc, int op_status, Millis exec_ms, const std::string& reason,
              Millis now);
  std::vector<cib::CibChange> count_failure(const LocalOp& op, Millis now);
  ResourceEvent resource_event(const LocalOp& op, const ActionResult& res) const;
  void on_execute(Output& out, const ExecuteRequest& r, Millis now);
  void on_local_done(Output& out, std::uint64_t token, const ActionResult& res, Millis now);
  void note_result(Output& out, const ExecuteRequest& r, const ActionResult& res);
  std::vector<std::string> still_active() const;
  Millis shutdown_escalation() const;
  void note_escalation(Output& out, Millis now);
  bool ready_to_leave() const;

  // ---- DC role (dc_role.cpp)
  Transition* transition();
  const Transition* transition() const { return const_cast<Impl*>(this)->transition(); }
  void end_transition();
  void elect(Output& out, Millis now, bool controller_joined);
  void start_join(Output& out, Millis now);
  void join_over(Output& out, Millis now);
  void request_schedule(Millis now);
  bool bookkeeping(Output& out);
  std::map<std::string, std::string> wanted_state(const std::string& id) const;
  std::map<std::string, std::string> picture() const;
  std::string fingerprint() const;
  bool stale(const Transition& t) const;
  void report(Output& out, const scheduler::TransitionGraph& graph);
  void maybe_schedule(Output& out, Millis now);
  int batch_limit() const;
  void fire(Output& out, Millis now);
  void start_action(Output& out, const scheduler::GraphAction& a, Millis now);
  ExecuteRequest request_of(const scheduler::GraphAction& a, NodeId node) const;
  cib::CibOp lost_action_record(const scheduler::GraphAction& a, const ExecuteRequest& r,
                                Millis now) const;
  bool lost_actions_recorded();
  Millis stonith_timeout() const;
  bool start_fencing(Output& out, const scheduler::GraphAction& a, Millis now);
  void watchdog_fence(Output& out, const scheduler::GraphAction& a);
  void run_fence_device(Output& out, LocalOp op, Millis now);
  void fence_done(Output& out, LocalOp op, const ActionResult& res, Millis now);
  cib::CibOp fenced(const std::string& target) const;
  void abort(Output& out, const std::string& why);
  void check_finished(Output& out, Millis now);
  void match_results(Output& out, Millis now);
  void on_result_note(Output& out, const ActionResultNote& n, Millis now);
  void drop_lost_actions();
  void expire_actions(Output& out, Millis now);
  void dc_step(Output& out, Millis now);
};

}  // namespace vigil::controller
