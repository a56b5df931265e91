// controller: Pacemaker's controller (crmd) as a pure core, one per node. It elects the
// designated controller (DC), and the DC runs the scheduler on the replicated CIB and carries out
// the transition graph: each action goes to its node as a message through the controller process
// group; the node runs it with its executor and records the result in its own node_state of the
// CIB status (lrm history, fail counts in transient_attributes), where the DC finds it. Fencing
// actions run on the DC through the fence agent of a configured stonith resource.
//
// No I/O and no clocks: the daemon feeds inputs (CIB changes, the cluster view, peer messages,
// agent results, timer ticks) with `now` (wall-clock milliseconds since the epoch, since the CIB
// records seconds since the epoch) and carries out the returned Output in order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"
#include "controller/alerts.h"
#include "controller/status_ops.h"
#include "common/agent_spec.h"
#include "common/common.h"
#include "scheduler/scheduler.h"

namespace vigil::controller {

using NodeId = std::uint32_t;

struct Member {
  NodeId id = 0;
  std::string name;
  bool operator==(const Member&) const = default;
};

// What the ring, votequorum and the controller group say now.
struct ClusterView {
  std::vector<Member> members;  // nodes in the ring
  bool quorate = false;
  std::vector<NodeId> controllers;  // nodes whose controller is in the controller group
  // Watchdog fencing (node/lease.h): on when the watchdog settings passed their check; `reset`:
  // lost nodes the ring shows reset by their watchdog since they left (sorted). The DC counts
  // such a node as fenced when no fence device can fence it.
  bool watchdog_fencing = false;
  std::vector<NodeId> reset;
  bool operator==(const ClusterView&) const = default;
};

// ---- messages between controllers (through the controller group, in ring order) -------------

// The DC asks a node to run one action of its transition.
struct ExecuteRequest {
  std::string te_uuid;  // the DC's identity for this term: results carry it back
  int transition = 0;
  int action = 0;
  NodeId node = 0;
  std::string resource;  // the history id (clone instances as the cluster knows them)
  std::string task;      // start, stop, monitor, clear_failcount, ...
  std::int64_t interval_ms = 0;
  int target_rc = 0;
  std::string key;  // rsc_start_0
  // CRM_meta_* attributes for the agent, without the prefix: a notifying clone's notify_* lists.
  std::map<std::string, std::string> meta;
  ResourceDefinition definition;
};
// A new DC asks every controller to report its resource history (Pacemaker's join offer).
struct JoinOffer {
  std::string te_uuid;
  std::uint64_t round = 0;
};
// Sent once the report's commit has been answered (node/controller_part.h holds it until then):
// the DC then finds the report in its CIB.
struct JoinAck {
  std::string te_uuid;
  std::uint64_t round = 0;
};
// A node's result of an action whose result is not recorded in the CIB (a notification: as
// Pacemaker's controller, the node sends it straight to the DC).
struct ActionResultNote {
  std::string te_uuid;
  int transition = 0;
  int action = 0;
  int rc = 0;
  int op_status = 0;
};
using Message = std::variant<ExecuteRequest, JoinOffer, JoinAck, ActionResultNote>;

// Wire encoding, version 2, little-endian: u8 version | u8 kind (1 execute, 2 offer, 3 ack,
// 4 result) | fields, each string as u32 length + bytes, integers fixed width, a map as u32 count
// + its pairs in ascending key order; version 2 added the execute request's definition.
// decode() rejects unknown versions and kinds, short and long input, and maps out of order, so
// that every message has one spelling.
std::string encode(const Message& m);
Result<Message> decode(std::string_view bytes);

// ---- what the node runs locally --------------------------------------------------------------

struct LocalAction {
  std::uint64_t token = 0;  // names the action in ActionDone and CancelRecurring
  std::string resource;     // OCF_RESOURCE_INSTANCE
  AgentSpec agent;          // ocf:vigil:webserver, stonith:fence_dummy
  std::string name;         // start, stop, monitor, reboot, off, ...
  Millis interval = 0;      // > 0: a recurring monitor that reports only changes
  Millis timeout = 20000;
  std::map<std::string, std::string> params;
  // OCF_RESKEY_CRM_meta_<name> values beyond the executor's own (name, interval, timeout): for a
  // resource action, as Pacemaker, the node's name (on_node) and cluster id (on_node_uuid).
  std::map<std::string, std::string> meta;
};

struct ActionResult {
  int rc = 1;         // OCF result
  int op_status = 0;  // Pacemaker's op-status: 0 done, 1 cancelled, 2 timed out, 7 not installed...
  Millis exec_ms = 0;
  std::string exit_reason;
};

// A line for the daemon's log, at the level Pacemaker's controller would use for it.
struct LogLine {
  enum class Level { info, warning, error };
  Level level = Level::info;
  std::string text;
  explicit LogLine(std::string t, Level l = Level::info) : level(l), text(std::move(t)) {}
  bool operator==(const LogLine&) const = default;
};

// A transition this node, as DC, started or ended: what the node's journal records of it
// (history::transition_event), the scheduling step of an incident's timeline.
struct TransitionNote {
  enum class Stage { started, completed, aborted };
  int id = 0;
  Stage stage = Stage::started;
  std::vector<scheduler::SummaryLine> summary;  // what it does
  std::string reason;                           // aborted: why
};

// A node this node, as DC, counted as fenced by its own watchdog once its lease provably ran out
// (node/lease.h), no fence device run: what the shell counts and journals of it, as it counts a
// device's fencing from the agent's run. Pacemaker's fencer names this device "watchdog".
struct WatchdogFencing {
  std::string target;
  std::string action;  // reboot or off, as the scheduler asked
};

struct Output {
  std::vector<cib::CibOp> commits;    // in order; each applies to whatever CIB it meets
  std::vector<Message> send;          // to the controller group
  std::vector<LocalAction> run;       // one-shot (interval 0) or recurring
  std::vector<std::uint64_t> cancel;  // recurring operations to cancel
  std::optional<Millis> wake_at;      // call tick() then (replaces the previous one)
  std::vector<LogLine> log;           // notable decisions, for the daemon's log
  std::vector<AlertEvent> alerts;     // events for the alert agents (alerts.h), in order
  std::vector<TransitionNote> transitions;
  std::vector<WatchdogFencing> watchdog_fencings;
};

struct Settings {
  Millis coalesce = 50;        // changes within this window make one scheduler run
  Millis join_timeout = 5000;  // a controller that does not answer a join offer is left out
  Millis action_slack = 5000;  // added to an action's own timeout before the DC gives up on it
  Millis recheck = 60000;      // idle re-run (failure-timeout expiry), cluster-recheck-interval
};

enum class TransitionState { Idle, Joining, Running, Aborting };
const char* to_string(TransitionState s);

struct Status {
  std::optional<Member> dc;
  bool is_dc = false;
  TransitionState state = TransitionState::Idle;
  int transition = 0;
  int actions_total = 0, actions_done = 0, actions_in_flight = 0;
  int transitions_completed = 0, transitions_aborted = 0;
};

class Controller {
 public:
  // `self` is this node; `nonce` makes this controller's te_uuid unique across restarts.
  Controller(Member self, std::uint64_t nonce, Settings settings = {});
  ~Controller();
  Controller(Controller&&) noexcept;
  Controller& operator=(Controller&&) noexcept;

  // A change of the agreed CIB: `cib` follows the document before by commits (Node's CIB part
  // shows only durable ones, so some may be skipped).
  Output cib_changed(const cib::Cib& cib, Millis now);
  // The CIB is agreed again after a reconciliation, and `cib` is the agreed document: another
  // member's copy may have replaced the one before, and lost what was committed to it (a node's
  // report, its transient attributes) or kept what was changed since. As Pacemaker's DC after
  // its CIB is replaced, the DC asks every node for its history again before it schedules; as
  // Pacemaker's attrd after a replace, each node states its own transient attributes again.
  Output cib_agreed(const cib::Cib& cib, Millis now);
  Output view_changed(const ClusterView& view, Millis now);
  Output message(NodeId from, const Message& m, Millis now);
  Output action_done(std::uint64_t token, const ActionResult& result, Millis now);
  Output tick(Millis now);
  // An operator's request (`vigil node fence NODE`): the DC writes the fence request into the
  // node's transient attributes (terminate=true), which makes the scheduler fence it.
  Result<cib::CibOp> fence_request(const std::string& node_name) const;
  // An orderly leave (Pacemaker's shutdown): the node sets its `shutdown` attribute, which makes
  // the DC move its resources away and acknowledge with do_shutdown (expected="down"). The daemon
  // leaves the ring once ready_to_leave() — then the others take the departure for a clean one,
  // not a failure to fence — or once shutdown-escalation has passed without it (the DC holds
  // the shutdown back while a stop cannot run); the tick at that time logs what is left running.
  Output request_shutdown(Millis now);
  bool ready_to_leave() const;

  Status status() const;
  // How many transitions this controller has started and how many have ended (completed or
  // aborted), in constant time: the shell compares them around every step, status() counts.
  struct TransitionCounts {
    int started = 0, ended = 0;
  };
  TransitionCounts transition_counts() const;

  // What holds between steps; every step ends by checking it in debug and ci builds
  // (common/invariants.h).
  void check_invariants() const;

  struct Impl;

 private:
  friend struct ControllerProbe;  // tests plant inconsistent states through it, to see checks fire
  std::unique_ptr<Impl> impl_;
};

// Pacemaker's fail-count attribute names (2.1): fail-count-<rsc>#<op>_<interval ms>.
std::string fail_count_name(const std::string& rsc, const std::string& op, std::int64_t interval);
std::string last_failure_name(const std::string& rsc, const std::string& op, std::int64_t interval);

}  // namespace vigil::controller
