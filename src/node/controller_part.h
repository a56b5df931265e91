// controller_part: the node's controller — the pure controller::Controller as this node's member
// of the "vigil-controller" process group, with the rules that join it to the ring, the CIB and the
// operator. Node owns one when its Settings ask for it (it needs the CIB part), feeds it that
// group's events, the synced CIB documents and the views, and carries out what it returns: its
// messages go through the group, its CIB changes through the node's own CIB path, its agent
// actions and alerts out to the shell.
//
// What it decides (the shell only runs agents and answers sockets):
// - Peers' names: corosync.conf's nodelist, else the node entry the peer made in the CIB, else
//   its id. The view the core sees is quorate only while the node also holds its lease (a node
//   that lost it stops what it runs while its watchdog comes), and counts lost nodes as fenced by
//   their watchdog only when this node has one and the CIB's settings pass lease.h's check.
// - The core sees only documents that are durable here and agreed (synced), as before.
// - `vigil node fence`: refused without an agreed CIB or with fencing disabled; else the node's
//   terminate request is committed, and the answer waits until the CIB shows the node fenced
//   (its state down and offline, the request gone) or kFenceWait passed.
// - An orderly stop: the core hands this node's resources over; ready_to_leave says once when
//   it is done, no poll.
// - A join report reaches the DC's CIB before the DC counts it: the core's JoinAck is held until
//   the commit of the report it follows is answered. While the replica reconciles, a commit
//   waits in its queue, but a group message does not; an ack sent at once would let the DC end
//   its round and schedule on a CIB without the report. And once the CIB is agreed again after a
//   reconciliation, the core hears so (Controller::cib_agreed): a report applied to a copy that
//   lost is asked for again, and each node states its transient attributes again.
// The controller's clock is the wall clock (the CIB records seconds since the epoch): it is the
// inputs' `now` plus an offset the shell gives at start and with every ControllerTick.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"
#include "controller/alerts.h"
#include "controller/controller.h"
#include "groups/groups.h"
#include "node/cib_part.h"
#include "node/lease.h"
#include "node/nodelist.h"

namespace vigil::node {

inline constexpr const char* kControllerGroup = "vigil-controller";
inline constexpr Millis kFenceWait = 110000;  // the CLI waits 120 s for the answer

struct ControllerSettings {
  std::uint32_t pid = 0;   // this node's member of the controller group
  std::string node_name;   // this node's name, as the CIB and the operator know it
  std::uint64_t nonce = 0;  // makes this controller's te_uuid unique across restarts
  Millis wall_offset = 0;   // the wall clock minus the inputs' `now`, at start
  // This node's corosync.conf watchdog settings; device empty: no watchdog, no watchdog fencing.
  WatchdogConfig watchdog;
  controller::Settings core;
};

// ---- inputs
// A run or cancel of agent action `token` ended (a recurring monitor reports only changes).
struct AgentResult {
  std::uint64_t token = 0;
  controller::ActionResult result;
  Millis now;
};
// The controller's timer (Timer::Controller) fired; `wall` is the wall clock now, which also
// renews the offset (the wall clock may have been set meanwhile).
struct ControllerTick {
  Millis now;
  Millis wall;
};
// `vigil node fence NODE`; answered by a FenceAnswer with the same ticket.
struct FenceRequest {
  std::uint64_t ticket = 0;
  std::string node;
  Millis now;
};
// Hand this node's resources over before leaving; Output::ready_to_leave says when done.
struct ShutdownRequest {
  Millis now;
};

// ---- outputs
// Alert agents to run for one event: the CIB's alerts section as unpacked when the event came.
struct AlertSend {
  std::shared_ptr<const std::vector<controller::Alert>> alerts;
  controller::AlertEvent event;
};
struct FenceAnswer {
  std::uint64_t ticket = 0;
  Result<std::string> fenced;  // the node's name once fenced, or why not
};

// Its own CIB commits carry tickets from here up, so the node keeps their replies to itself.
inline constexpr std::uint64_t kOwnTickets = std::uint64_t{1} << 63;

// What one ControllerPart call returns; Node carries it out (messages through the group, commits
// through its CIB part, the rest into its Output).
struct ControllerStep {
  std::vector<std::string> send;
  std::vector<CibCommit> commits;  // tickets from kOwnTickets up
  std::vector<controller::LocalAction> run;
  std::vector<std::uint64_t> cancel;
  std::vector<AlertSend> alerts;
  std::vector<FenceAnswer> answers;
  std::vector<controller::TransitionNote> transitions;
  std::vector<controller::WatchdogFencing> watchdog_fencings;
  std::optional<Millis> wake_at;  // the controller's timer, in the inputs' clock
  bool ready_to_leave = false;
  std::vector<std::string> info, warn, error;
};

// fencing-watchdog-timeout when set, else stonith-watchdog-timeout, as Pacemaker 3 reads them.
FencingOptions fencing_options(const cib::Cib& cib);

class ControllerPart {
 public:
  ControllerPart(totem::NodeId self, ControllerSettings settings,
                 std::vector<ListedNode> nodelist);

  std::uint32_t pid() const { return pid_; }
  bool stopped() const { return stopped_; }
  const controller::Controller& core() const { return core_; }

  ControllerStep event(const groups::GroupEvent& e, Millis now);
  ControllerStep cib_changed(const CibChanged& change, Millis now);
  // The node's view (members, quorum, lease, reset nodes) changed.
  ControllerStep view(const std::vector<totem::NodeId>& members, bool quorate, bool leased,
                      const std::vector<totem::NodeId>& reset, Millis now);
  ControllerStep nodelist(std::vector<ListedNode> nodelist, Millis now);
  ControllerStep agent_result(const AgentResult& r);
  ControllerStep tick(Millis now, std::optional<Millis> wall);
  ControllerStep fence(const FenceRequest& f);
  ControllerStep committed(std::uint64_t ticket, const Result<cib::Cib>& result, Millis now);
  ControllerStep shutdown(Millis now);
  // Timer::FenceWait fired: the waits that ran out are answered.
  ControllerStep fence_timer(Millis now);
  // The node is leaving: fence waits are answered, nothing more is fed to the core.
  ControllerStep stop();

  // The end of the earliest fence wait (Timer::FenceWait), if any.
  std::optional<Millis> fence_due() const;
  bool owns(std::uint64_t ticket) const { return ticket >= kOwnTickets; }
  void check_invariants() const;

 private:
  struct FenceWait {
    std::uint64_t ticket = 0;
    std::string node;
    Millis until = 0;
  };
  Millis wall(Millis now) const { return now + wall_offset_; }
  void carry_out(controller::Output out, ControllerStep& step);
  void push_view(Millis now, ControllerStep& step);
  std::string name_of(totem::NodeId id) const;
  bool names_changed() const;
  bool watchdog_fencing() const;
  void unpack_alerts(ControllerStep& step);
  void check_fenced(ControllerStep& step);
  void check_ready(ControllerStep& step);
  void release_acks(std::uint64_t ticket, ControllerStep& step);

  totem::NodeId self_;
  std::uint32_t pid_;
  std::string name_;
  Millis wall_offset_;
  WatchdogConfig watchdog_;
  std::vector<ListedNode> nodelist_;
  controller::Controller core_;
  std::shared_ptr<const cib::Cib> cib_;  // the newest synced durable document; null before
  bool synced_ = false;                  // and this node still holds the agreed CIB
  std::vector<totem::NodeId> members_, reset_;
  bool quorate_ = false, leased_ = true;
  std::vector<totem::NodeId> controllers_;  // nodes in the controller group
  std::map<totem::NodeId, std::string> pushed_names_;  // the names the core last heard
  bool pushed_fencing_ = false;                         // the watchdog fencing it last heard
  bool viewed_ = false;                                 // a view went to the core
  std::shared_ptr<const std::vector<controller::Alert>> alerts_;
  std::vector<std::string> alert_warnings_;
  std::string alerts_text_;  // the section's text, to unpack it only when it changes
  std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> fence_commits_;  // own → ticket, node
  std::vector<FenceWait> fence_waits_;
  std::uint64_t own_tickets_ = kOwnTickets;
  std::multimap<std::uint64_t, std::string> held_acks_;  // own commit ticket → encoded JoinAck
  bool shutdown_ = false, told_ready_ = false;
  bool stopped_ = false;
};

}  // namespace vigil::node
