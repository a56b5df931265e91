// node: one cluster node's protocol cores composed as one pure state machine — the totem Ring, the
// optional Votequorum, the ProcessGroups and, when configured, the CIB replica (cib_part.h), with
// the ring payload channels that join them. A shell (the daemon, a simulator) feeds Node::step one
// Input at a time, `now` passed in, and carries out the Output. No clock, socket, file or thread
// here; every decision about what to send, when to wake, whom to tell, what to write, when to
// answer and what to log is taken here, so a simulator drives exactly what vigild runs.
//
// Ring payloads start with a channel byte: 1 the process groups (groups.h's wire format), 2
// votequorum (quorum.h's), 3 a nodelist change (nodelist.h's). Frames the Ring addresses to this node itself, and payloads sent while
// stepping (a join list after a ring change, a quorum report, a group request, a CIB message), are
// fed back to the Ring within the same step, so the Output never asks the shell to loop anything
// back. The CIB replica is this node's member `pid` of the group "vigil.cib": the node joins it at
// the first ring and feeds it that group's events itself; they are not notices.
//
// Applying an Output, in this order:
//   1. persist_ring_seq: write it durably, then pass it as Settings::ring_seq_floor after a
//      restart. First, because a frame of this step may name the ring it counts: were the frame
//      out and the write lost in a crash, the restarted node could create a ring of the same id.
//      persist_cib: hand the document to the writer (off the loop; only the newest pending one
//      need be written) and, once written, step Durable{number}. The node never waits for it:
//      what depends on the disk (answers, CibChanged) waits for Durable instead.
//   2. frames: send each to its node, or to every other node when `to` is empty. Then, when
//      feed_watchdog is set, feed the watchdog: only a step may decide it (lease.h, Rule 2).
//   3. timers: arm each at its absolute deadline (replacing that timer's earlier one), or cancel it
//      when the deadline is empty; fire it as TimerFired. A late or stale firing is harmless.
//   4. logs: write each line. Before the notices, because a notice's recipient reacts (logs its
//      own lines, steps the node again) and the log should show the cause before the effect.
//   5. notices, in order: group events to this node's member `pid` of the event's group, view
//      changes for the services, and CibChanged (the durable CIB changed, or became the agreed
//      one) for the controller. One list, in the order they happened: a service's view must not
//      run ahead of, or lag behind, the group events around it (a service joins its group when it
//      sees the first view, and its first group event is the change showing that join).
//   1b. nodelist_changes, in order: each member applies the agreed change (the transport gains or
//      drops the peer; corosync.conf is rewritten). Before the frames: a frame of this step may
//      go to the added node. Then answer each NodelistReply's client (its ticket).
//   6. replies: answer each CibReply's client (its ticket). After the notices: a client told its
//      change is in may act on it at once, and the services should have heard of it first.
//   A recipient of a notice or a reply may step the node again (join, send, commit); the shell
//   then queues that step's notices and replies behind the ones it is delivering, so every
//   recipient sees them in order.
//   7. after the notices and replies: agent_cancels, then agent_runs, then alerts, fence_answers
//      and ready_to_leave (which the shell acts on from a fresh call: it leaves the ring).
// The controller (controller_part.h), when configured, is this node's member `pid` of the group
// "vigil-controller", joined at the first ring like the CIB's; its group events, synced CIB
// documents and views are fed to it after the ring's step, in the order they came.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/common.h"
#include "groups/groups.h"
#include "node/cib_part.h"
#include "node/controller_part.h"
#include "node/lease.h"
#include "node/nodelist.h"
#include "quorum/quorum.h"
#include "totem/totem.h"

namespace vigil::node {

using NodeId = totem::NodeId;
using Bytes = std::vector<std::uint8_t>;

// The ring payload's first byte: which layer it belongs to.
enum class Channel : std::uint8_t { Groups = 1, Quorum = 2, Nodelist = 3 };

// Corosync's way of naming a ring: the representative's node id, a dot, the sequence in hex.
std::string ring_text(const totem::RingId& ring);

// Totem's six timers, same order and numbers, votequorum's deadlines (the last_man_standing
// window, the end of the quorum device's grant), the watchdog lease's (lease.h): the feeding
// period and the next lost node's reset, the controller's, and the CIB part's write retry.
enum class Timer : std::uint8_t {
  TokenLoss,
  TokenRetransmit,
  TokenHold,
  Join,
  Consensus,
  Merge,
  Quorum,
  WatchdogFeed,
  LeaseExpiry,
  Controller,  // the controller's next wake-up: the shell steps ControllerTick (or TimerFired)
  FenceWait,   // the earliest `vigil node fence` wait runs out
  CibRetry     // write the CIB again after the disk refused it (cib_part.h)
};
inline constexpr int kTimerCount = totem::kTimerCount + 6;

struct Settings {
  NodeId self = 0;
  totem::TotemSettings totem;
  std::optional<quorum::Votequorum> quorum;  // empty: no quorum provider, always quorate
  std::uint64_t ring_seq_floor = 0;          // what persist_ring_seq last asked to store
  std::optional<CibSettings> cib;            // empty: this node keeps no CIB
  // The watchdog's timeout as the device granted it; empty: no watchdog, no lease.
  std::optional<Millis> watchdog_timeout;
  // corosync.conf's nodelist; empty: none (multicast discovery), and no change to it is taken.
  std::vector<ListedNode> nodelist;
  // Empty: this node runs no controller. Needs the CIB.
  std::optional<ControllerSettings> controller;
};

// ---- inputs
struct Start {
  Millis now;
};
struct FrameReceived {
  NodeId from;
  std::span<const std::uint8_t> bytes;
  Millis now;
};
struct TimerFired {
  Timer timer;
  Millis now;
};
// The peer's host refused a datagram to its totem port; `where` names the address for the log.
struct PeerUnreachable {
  NodeId node;
  std::string where;
  Millis now;
};
// Leave the ring cleanly; afterwards the node ignores every input.
struct Leave {
  Millis now;
};
// The layers above, as this node's member `pid` of a group.
struct GroupJoin {
  std::string group;
  std::uint32_t pid;
  Millis now;
};
struct GroupSend {
  std::string group;
  std::uint32_t pid;
  std::span<const std::uint8_t> data;
  Millis now;
};
struct GroupLeave {
  std::string group;
  std::uint32_t pid;
  groups::Reason reason;  // Leave, or ProcDown when the process went away
  Millis now;
};
// A client's change to the nodelist: checked here first (an error comes back at once as a
// NodelistReply), then ordered through the ring; answered when it comes back in order.
struct NodelistPropose {
  NodelistChange change;
  Millis now;
};
// The quorum device's latest grant (quorum/witness.h's DeviceClient, run by the shell), or none:
// votequorum counts the vote while the grant covers this node's ring (quorum.h's inherits()).
// The shell steps it whenever the grant changes, a renewal included.
struct DeviceVote {
  std::optional<quorum::DeviceGrant> grant;
  Millis now;
};
// CibCommit and Durable (cib_part.h): a client's change, and the disk's report. AgentResult,
// ControllerTick, FenceRequest and ShutdownRequest (controller_part.h): for the controller.
using Input = std::variant<Start, FrameReceived, TimerFired, PeerUnreachable, Leave, GroupJoin,
                           GroupSend, GroupLeave, CibCommit, Durable, NodelistPropose,
                           DeviceVote, AgentResult, ControllerTick, FenceRequest, ShutdownRequest>;

// ---- output
struct TimerCommand {
  Timer timer;
  std::optional<Millis> deadline;  // empty: cancel
};
enum class Level : std::uint8_t { Debug, Info, Warn, Error };
enum class Subsystem : std::uint8_t { Totem, Quorum, Cpg, Main, Cib, Controller };
// "TOTEM", "QUORUM", "CPG", "MAIN", "CIB", "CONTROLLER"
const char* to_string(Subsystem subsystem);
struct LogEvent {
  Level level;
  Subsystem subsystem;
  std::string text;
};
// A group event for this node's member `pid` of the event's group. `last`: the member left with
// this event, nothing more comes for it. `ring` and `transitional` name the configuration it came
// in: members that hear an event in the same Regular configuration hear the same group membership
// and the same order of messages (what the simulator checks).
struct GroupNotice {
  std::uint32_t pid;
  groups::GroupEvent event;
  bool last = false;
  totem::RingId ring;
  bool transitional = false;
};
struct View {
  std::vector<NodeId> members;  // sorted; empty before the first ring
  bool quorate = true;
  totem::RingId ring;
  // With a watchdog (lease.h): false once this node's lease is lost (its resources must stop),
  // and the nodes seen before, outside the ring, that are provably reset since (sorted).
  bool leased = true;
  std::vector<NodeId> reset;
  bool operator==(const View&) const = default;
};
// The view the services see changed: a new ring (`new_ring`), a change of quorum or of the lease.
struct ViewChange {
  View view;
  bool new_ring = false;
};
using Notice = std::variant<GroupNotice, ViewChange, CibChanged>;
// A change every member took at this point of the order, and the nodelist after it.
struct NodelistApplied {
  NodelistChange change;
  std::vector<ListedNode> nodelist;
  bool own = false;  // this node proposed it: change.ticket is this node's
};
// The end of a NodelistPropose of this node: taken, or why not.
struct NodelistReply {
  std::uint64_t ticket = 0;
  Result<void> result;
};

struct Output {
  std::optional<std::uint64_t> persist_ring_seq;
  std::optional<CibPersist> persist_cib;
  std::vector<totem::Frame> frames;  // never addressed to this node
  std::vector<TimerCommand> timers;
  std::vector<LogEvent> logs;
  std::vector<Notice> notices;
  std::vector<CibReply> replies;
  std::vector<NodelistApplied> nodelist_changes;
  std::vector<NodelistReply> nodelist_replies;
  std::optional<Error> refused;  // a group request refused (nothing was sent)
  // The controller's: agent actions to cancel (recurring, by token), then to run (each ends in
  // an AgentResult with its token); alert agents to run; answers to FenceRequests; the
  // transitions it started or ended as DC and the nodes it counted as fenced by their watchdog,
  // for the journal and the metrics; and, once after a ShutdownRequest, that this node's
  // resources are handed over and it may Leave.
  std::vector<std::uint64_t> agent_cancels;
  std::vector<controller::LocalAction> agent_runs;
  std::vector<AlertSend> alerts;
  std::vector<FenceAnswer> fence_answers;
  std::vector<controller::TransitionNote> transitions;
  std::vector<controller::WatchdogFencing> watchdog_fencings;
  bool ready_to_leave = false;
  // Feed the watchdog now (after the frames; lease.h's Rule 2). Only a WatchdogFeed step sets it.
  bool feed_watchdog = false;
  // What the Ring delivered in this step, in order (moved, not copied): for observers such as the
  // simulator's totem checkers. The daemon ignores it.
  std::vector<totem::Event> ring_events;
};

// Test-only switches proving that the simulator's checkers catch composition bugs.
struct InjectedFaults {
  bool no_join_barrier = false;     // groups deliver payloads before every join list is in
  bool ack_before_durable = false;  // a CIB commit is answered once applied, before Durable
  bool stale_cib_wins = false;      // CIB reconciliation keeps the lowest version offered
  bool no_write_retry = false;      // a CIB write that failed is not tried again
  bool ack_failed_write = false;    // a CIB write that failed is taken as written by the answers
};

class Node {
 public:
  explicit Node(Settings settings, Rng rng);

  Output step(const Input& input);

  // Aborts (VIGIL_ASSERT) when the composed state is inconsistent; step() runs it after every
  // input in debug builds.
  void check_invariants() const;

  NodeId id() const { return self_; }
  const totem::Ring& ring() const { return ring_; }
  const std::optional<quorum::Votequorum>& quorum() const { return quorum_; }
  const groups::ProcessGroups& groups() const { return groups_; }
  const View& view() const { return view_; }
  const CibPart* cib() const { return cib_ ? &*cib_ : nullptr; }
  const ControllerPart* controller() const { return controller_ ? &*controller_ : nullptr; }
  const std::optional<Lease>& lease() const { return lease_; }
  const std::vector<ListedNode>& nodelist() const { return nodelist_; }
  // Every node ever seen in a ring with this one, in order of first sight.
  const std::vector<NodeId>& seen() const { return seen_; }
  void inject(const InjectedFaults& faults);

 private:
  struct Pending {  // what the Ring is fed within the step that produced it
    bool self_frame;
    Bytes bytes;
    bool sync = false;  // totem's Send::sync
  };
  void ring_step(const totem::Input& input, Output& out);
  void take(totem::Effects fx, Output& out);
  void broadcast(Channel channel, std::span<const std::uint8_t> body, bool sync = false);
  void send_to_group(const char* group, std::uint32_t pid, std::string_view body,
                     LogEvent failure, Output& out);
  void request(Result<Bytes> payload, Output& out);
  void delivered(const totem::Delivery& d, Output& out);
  void changed(const totem::ConfigChange& c, Millis now, Output& out);
  void fan_out(const groups::Output& groups_out, Output& out);
  void quorum_changed(bool was_quorate, bool new_ring, Output& out);
  void unreachable(const PeerUnreachable& p, Output& out);
  void timer_fired(const TimerFired& t, Output& out);
  void device_vote(const DeviceVote& v, Output& out);
  void log_failed(const std::vector<NodeId>& failed, Output& out);
  Result<std::vector<ListedNode>> after(const NodelistChange& change) const;
  void propose(const NodelistPropose& p, Output& out);
  void nodelist_delivered(NodeId sender, std::span<const std::uint8_t> body, Output& out);
  bool quorate() const { return !quorum_ || quorum_->quorate(); }
  // node_cib.cpp: the CIB group's events and the CIB inputs, to and from the CibPart.
  bool cib_member(const std::string& group, std::uint32_t pid) const;
  void cib_join(Output& out);
  void cib_leave(Output& out);
  void cib_take(CibStep step, Output& out);
  void drain(Output& out);
  // node_controller.cpp: the controller group's events and the controller's inputs and steps.
  using ControllerEvent =
      std::variant<groups::GroupEvent, CibChanged, View, std::vector<ListedNode>>;
  bool controller_member(const std::string& group, std::uint32_t pid) const;
  void controller_join(Output& out);
  void controller_leave(Output& out);
  void controller_input(const Input& input, Output& out);
  void controller_run(Output& out);
  void controller_take(ControllerStep step, Output& out);
  void tell_view(bool new_ring, Output& out);
  void lease_step(const totem::RingStats& before, Output& out);
  void feed(Output& out);
  void lease_view(Output& out);
  std::string reset_reason(NodeId id, Millis by) const;

  NodeId self_;
  totem::TotemSettings totem_settings_;
  totem::Ring ring_;
  groups::ProcessGroups groups_;
  std::optional<quorum::Votequorum> quorum_;
  std::optional<quorum::PeerReport> last_report_;
  std::optional<CibPart> cib_;
  bool cib_joined_ = false;
  std::optional<ControllerPart> controller_;
  bool controller_joined_ = false;
  std::deque<ControllerEvent> controller_inbox_;  // empty between steps
  std::optional<Millis> fence_armed_;             // Timer::FenceWait as last armed
  std::optional<Millis> cib_retry_armed_;         // Timer::CibRetry as last armed
  std::optional<Lease> lease_;
  std::deque<Pending> pending_;  // empty between steps
  View view_;
  std::vector<NodeId> seen_;
  std::vector<ListedNode> nodelist_;
  std::set<NodeId> refused_;  // failed on a refusal since the last ring was installed
  bool token_lost_ = false;   // the token timed out here since then
  Millis now_ = 0;            // of the input being stepped
  // The configuration the Ring event being handled came in, for GroupNotice.
  totem::RingId event_ring_;
  bool event_transitional_ = false;
};

}  // namespace vigil::node
