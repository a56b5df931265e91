// totem: membership and totally ordered messaging (the Totem single-ring protocol of Amir, Moser,
// Melliar-Smith et al., ACM TOCS 1995) as a pure state machine. No sockets, clocks or threads:
// a shell feeds Inputs to Ring::step and carries out the Effects it returns.
//
// How a shell (the daemon, the simulator) drives a Ring
// -----------------------------------------------------
//   Ring ring(my_id, settings, Rng(seed), persisted_ring_seq);
//   apply(ring.step(Start{now}));                 // once; the node starts gathering a membership
//   on datagram from node n:  apply(ring.step(FrameReceived{n, bytes, now}));
//   on timer t expiring:      apply(ring.step(TimerFired{t, now}));
//   the layer above sends:    apply(ring.step(Send{payload, now}));
//   SIGTERM / clean shutdown: apply(ring.step(Leave{now}));  then stop feeding the Ring.
//   the kernel refused a datagram to node n's totem port (ICMP port unreachable):
//                             apply(ring.step(PeerUnreachable{n, now}));
// apply(effects), in this order:
//   0. effects.persist_ring_seq, when set: write it durably (it is the highest ring sequence
//      number this node has seen or created) and pass it as `ring_seq_floor` after a restart.
//   1. effects.timers: for each TimerCommand, arm `timer` at the absolute deadline (replacing any
//      earlier deadline for that timer) or cancel it when `deadline` is empty. A timer firing late
//      or after a cancel is harmless: the Ring ignores firings it did not ask for.
//   2. effects.frames: send `bytes` to node `to`, or to every other node when `to` is empty
//      (multicast or unicast to every nodelist entry). A frame addressed to this node itself must
//      be fed straight back as FrameReceived (it only happens on a one-node ring).
//   3. effects.events, in order: a Delivery goes to the layer above; a ConfigChange is a
//      membership change (Transitional first: the survivors of the old ring, then the old ring's
//      last messages, then Regular: the new ring).
//      Every node starts alone: its first event is a Regular configuration (no Transitional
//      before it). A Delivery carries the originating node, the ring that ordered it and its
//      place there; `transitional` marks messages delivered after the Transitional change.
//      Messages handed to Send while no ring is installed wait and go out on the next ring.
// Leave broadcasts a leave announcement (three copies): the others start a new membership at
// once (no token timeout) and report the node under `left` instead of `failed` in their
// Transitional change. After Leave the Ring ignores every input; stop the process when the
// frames are sent. Which nodes see `left` rather than `failed` is each node's own observation.
// PeerUnreachable is the host of a peer saying its totem process is gone (the port is closed,
// the host is up): the membership changes at once, with the peer already given up on, instead of
// after the token and consensus timeouts. A report about a node that is not (or no longer) one we
// are forming or running a ring with is ignored, so duplicate and late reports are harmless; a
// restarted peer merges back as any other partition does (see Ring::Impl::on_unreachable).
// Silent peers (the fast timeline): a gathering node fails a proposed member that it has heard
// nothing from for a whole token period and that no other gathering member's latest Join lists
// as heard, without waiting for the consensus timeout — once the gather is two join periods (plus
// send_join) old, so every live member of the old ring has answered its first Join. Silence while
// a peer may be forming a ring (commit, recovery: it talks to its successor only) does not count,
// and a one-way link's far end (heard by someone) is left to the consensus timeout. After a token
// loss the new ring forms about a token period after the lost peer's last frame (or two join
// periods after the loss), not token + consensus later. The argument is at
// Ring::Impl::fail_silent.
// Frames from an unexpected sender (`from` differs from the frame's sender id) or that do not
// decode are dropped and counted in stats().frames_rejected; authenticate below this layer.
// Payloads are opaque bytes of at most kMaxPayload; frames are at most a header plus one payload,
// so a transport that cannot carry that must fragment below this layer.
//
// Guarantees (checked by tests/sim): extended virtual synchrony — members that install the same
// ring agree on its membership; messages are delivered in one total order; a message is delivered
// in the configuration of the ring that ordered it (the Regular one, or its Transitional one when
// a hole left by lost members prevents ordering it there); members that move together from one
// configuration to the next deliver the same messages in the first.
//
// Sync messages (Send::sync; Corosync's transition queue, new_message_queue_trans, which carries
// its services' synchronisation after every new ring): a layer above that exchanges its state
// after a new ring and holds its other traffic until the exchange is complete (groups' join lists)
// marks the exchange's messages sync, so that they do not wait behind its backlog — under loss a
// token rotation takes hundreds of milliseconds and a backlog of dozens of messages takes seconds.
// Rule S1: at each token visit a node gives the next sequence numbers to its waiting sync
// messages, in the order handed over, before any ordinary message waiting here. Rule S2: a sync
// message still waiting (no sequence number yet) when another ring is installed is dropped, never
// delivered, not even here; it was made for the ring last installed when it was handed over (so
// one handed over while another ring forms is dropped when that ring installs), and the layer
// above sends its state again for the new one. Why the guarantees above still hold: the total order
// is the order of sequence numbers, and a sequence number is given once, by the token holder, to
// one message it then multicasts; every member delivers that message at that number (agreed, safe,
// transitional: by number and configuration, never by how the sender queued it). S1 only changes
// which waiting message the holder numbers next, S2 only drops one no other node has seen. What a
// sync message gives up is its sender's send order: it may be ordered before ordinary messages the
// same node handed over earlier, so the layer above relies on no order between the two kinds.
//
// One-way links (Corosync re-forms endlessly; we settle): a Join lists the nodes its sender has
// heard from recently. A node counts a Join as consent only when the sender hears every proposed
// member, so no ring forms across a link that works in one direction only. When the consensus
// timeout expires, each node records the directed links it has seen broken ("a's frames do not
// reach b": b never heard a, or b's Join does not list a). A node never leaves a working ring to
// merge with a foreign ring when one of its records joins the two memberships. A record is dropped
// as soon as b hears a (b itself, or anyone receiving a Join of b's that lists a); b hearing a
// again is the evidence of a healed link, and b starts the merge. A node we hear that ignores our
// Joins holds such a record against us; we record (us -> it) so its announcements stop pulling us
// into gathers it will not join; it starts the merge itself when its link heals. Every member
// announces its ring in turn (merge-detect), so a healed link is noticed within
// members × `merge` ms. Result: under a standing one-way failure a -> b, the two ends settle in
// different rings (whoever the consensus timeouts excluded) and stay there until the link heals.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/common.h"

namespace vigil::totem {

using NodeId = std::uint32_t;
using Seq = std::uint64_t;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMaxPayload = 1 << 20;

// A ring is named by its representative (lowest member id) and a sequence number that grows with
// every ring any member has seen.
struct RingId {
  NodeId rep = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const RingId&) const = default;
};
std::string to_string(const RingId& ring);

// corosync.conf totem{} names and defaults (milliseconds). Zero for a derived value means
// "compute it as Corosync does" (see resolved()).
struct TotemSettings {
  Millis token = 3000;
  int token_retransmits_before_loss_const = 4;
  Millis token_retransmit = 0;  // token / (token_retransmits_before_loss_const + 0.2)
  Millis hold = 0;              // 0.8 * token_retransmit: how long an idle ring parks the token
  Millis join = 50;
  Millis consensus = 0;   // 1.2 * token
  Millis merge = 200;     // how often some member of a ring announces it to other partitions
  Millis send_join = 0;   // joins are delayed by a random 0..send_join
  int max_messages = 17;  // new messages per token visit
  int window_size = 50;   // new messages per token rotation, all members together

  TotemSettings resolved() const;
};

enum class Timer : std::uint8_t { TokenLoss, TokenRetransmit, TokenHold, Join, Consensus, Merge };
constexpr int kTimerCount = 6;
const char* to_string(Timer timer);

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
struct Send {
  Bytes payload;
  Millis now;
  bool safe = false;  // deliver only once every member is known to hold it
  // A synchronisation message of the layer above for the ring installed now: ordered before the
  // ordinary messages waiting here, dropped if another ring is installed first (see "Sync
  // messages" above).
  bool sync = false;
};
struct Leave {
  Millis now;
};
// Only a refusal by the peer's host counts (ICMP port unreachable, ECONNREFUSED): a host or
// network unreachable is what a cut link causes for a moment, and says nothing of the process.
struct PeerUnreachable {
  NodeId node;
  Millis now;
};
using Input = std::variant<Start, FrameReceived, TimerFired, Send, Leave, PeerUnreachable>;

// ---- effects
struct Frame {
  std::optional<NodeId> to;  // empty: every other node
  Bytes bytes;
};
struct TimerCommand {
  Timer timer;
  std::optional<Millis> deadline;  // empty: cancel
};
struct Delivery {
  NodeId sender;
  RingId config;  // the ring that ordered the message
  Seq seq;        // its place in that ring's order
  bool transitional;
  bool safe;
  Bytes payload;
};
struct ConfigChange {
  enum class Kind : std::uint8_t { Transitional, Regular };
  Kind kind;
  RingId ring;  // Transitional: the old ring; Regular: the new one
  std::vector<NodeId> members;
  std::vector<NodeId> joined;  // Regular: members that were not in the transitional set
  std::vector<NodeId> left;    // Transitional: old members that announced Leave
  std::vector<NodeId> failed;  // Transitional: old members lost without a Leave
};
using Event = std::variant<Delivery, ConfigChange>;

struct Effects {
  // Store durably before sending any frame; pass back as ring_seq_floor after a restart, so a
  // restarted node never names a ring (not even the one it starts alone in) like one it created
  // before. The Ring starts 4 above the floor, as Corosync does, and persists that at once.
  std::optional<std::uint64_t> persist_ring_seq;
  std::vector<TimerCommand> timers;
  std::vector<Frame> frames;
  std::vector<Event> events;
};

// Debug switches for proving that the simulator's checkers catch protocol bugs. Never set in a
// real daemon.
struct InjectedFaults {
  bool deliver_past_aru = false;  // deliver a received message although an earlier one is missing
  bool skip_recovery = false;     // install a new ring without exchanging the old ring's messages
  // The merge rule honouring a broken-link record in one direction only (from our ring to theirs):
  // a link recorded broken from their side no longer keeps a working ring from merging.
  bool merge_rule_one_way = false;
};

struct RingStats {
  std::uint64_t frames_rejected = 0;  // undecodable or from an unexpected peer
  std::uint64_t retransmitted = 0;    // messages sent again on request
  std::uint64_t tokens_retransmitted = 0;
  std::uint64_t rings_installed = 0;
  std::uint64_t token_losses = 0;       // memberships started because the token was lost
  std::uint64_t peers_unreachable = 0;  // peers failed on PeerUnreachable
  // Tokens of the ring being recovered or run taken here, and tokens of the operational ring sent
  // on (retransmissions not counted): what the watchdog lease (node/lease.h) counts rotations by.
  std::uint64_t tokens_received = 0;
  std::uint64_t tokens_forwarded = 0;
  // The times between two receipts of the operational ring's token here: a rotation, and at an
  // idle ring's representative the hold too (Corosync's stats.srp.mtt_rx_token averages the
  // same). A step takes at most one token, so a shell that reads these after each step sees every
  // rotation; the clock is whole milliseconds, so one on a fast network may take 0.
  std::uint64_t token_rotations = 0;
  Millis last_token_rotation = 0;
};

class Ring {
 public:
  Ring(NodeId me, const TotemSettings& settings, Rng rng, std::uint64_t ring_seq_floor = 0);
  Ring(const Ring& other);
  Ring& operator=(const Ring& other);
  Ring(Ring&&) noexcept;
  Ring& operator=(Ring&&) noexcept;
  ~Ring();

  Effects step(const Input& input);

  // Aborts (VIGIL_ASSERT) when the protocol state is inconsistent; run after each step in tests.
  void check_invariants() const;

  NodeId id() const;
  const char* state_name() const;  // "gather", "commit", "recovery", "operational", "left"
  bool operational() const;
  RingId ring_id() const;               // the ring last installed
  std::vector<NodeId> members() const;  // of that ring
  std::size_t backlog() const;          // messages waiting for the token
  const RingStats& stats() const;
  // Every message of `ring` up to the result is held here; empty when this node keeps no log of
  // that ring (never in it, moved on, or left). What a checker of safe delivery asks.
  std::optional<Seq> held_through(RingId ring) const;
  // Directed links (from, to) this node believes do not work; what the merge rule consults.
  std::vector<std::pair<NodeId, NodeId>> broken_links() const;
  void inject(const InjectedFaults& faults);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::totem
