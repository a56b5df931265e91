// quorum: votequorum as corosync's votequorum(5) describes it, as a pure state machine. The daemon
// steps it with each installed membership, with what peers report about themselves, and with the
// time; it answers whether this partition is quorate and the figures `corosync-quorumtool -s`
// shows (expected votes, highest expected, total votes, quorum, flags).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/common.h"

namespace vigil::quorum {

using NodeId = std::uint32_t;

// auto_tie_breaker_node: which node's side of an even split keeps quorum.
enum class TieBreaker { Lowest, Highest, List };

struct NodeVotes {
  NodeId id = 0;
  std::uint32_t votes = 1;  // nodelist quorum_votes
};

// The quorum {} section plus the nodelist's votes, as corosync.conf states them.
struct Settings {
  std::vector<NodeVotes> nodelist;              // empty without a nodelist (multicast discovery)
  std::optional<std::uint32_t> expected_votes;  // quorum.expected_votes overrides the nodelist sum
  std::uint32_t default_votes = 1;              // quorum.votes, for nodes not in the nodelist
  bool two_node = false;
  std::optional<bool> wait_for_all;  // unset: two_node implies it
  bool last_man_standing = false;
  Millis last_man_standing_window = 10000;
  bool auto_tie_breaker = false;
  TieBreaker tie_breaker = TieBreaker::Lowest;
  std::vector<NodeId> tie_breaker_nodes;  // for TieBreaker::List, in order of preference
  // quorum.device.votes: a quorum device's (the witness's, witness.h) votes, counted in the
  // expected votes always and in the total only while the device casts them (device()). 0: none.
  std::uint32_t device_votes = 0;
};

// What a peer says about itself (the daemon relays these through the ring).
struct PeerReport {
  std::uint32_t expected_votes = 0;
  bool quorate = false;
  bool waiting_for_all = false;
};

// A node's report travels the ring to its peers as a votequorum message. Wire format, version 1,
// integers little-endian:
//   "VQRM" u8:version=1 u8:kind body
//   kind 1 report: u32:expected_votes | u8:flags (bit 0 quorate, bit 1 waiting_for_all)
// decode_report() rejects a wrong magic, version or kind, a body shorter than its kind's, trailing
// bytes, unknown flags, and expected votes of 0 or above kMaxExpectedVotes: votequorum keeps the
// highest expectation it hears, so one absurd report would take quorum away from the partition for
// good. Later kinds (an operator's new expected votes, a qdevice's vote) take the next numbers.
inline constexpr std::uint32_t kMaxExpectedVotes = 65535;
inline constexpr std::uint8_t kWireVersion = 1;
enum class MessageKind : std::uint8_t { Report = 1 };
std::vector<std::uint8_t> encode_report(const PeerReport& report);
Result<PeerReport> decode_report(std::span<const std::uint8_t> bytes);

struct Flags {
  bool two_node = false;
  bool quorate = false;
  bool wait_for_all = false;
  bool last_man_standing = false;
  bool auto_tie_breaker = false;
  bool qdevice = false;  // a quorum device is configured
};

// A quorum device's grant (the witness's answer, quorum/witness.h): its vote counts for the ring
// `members` until `until` (this node's time, measured from when it asked, so it ends before the
// witness stops holding it), and names the keeper, the one node whose side keeps the vote if the
// ring changes before the grant runs out.
struct DeviceGrant {
  std::vector<NodeId> members;  // ascending
  NodeId keeper = 0;            // one of members
  Millis until = 0;
  bool operator==(const DeviceGrant&) const = default;
};

// The rule that keeps the device's vote through a membership change (corosync keeps it by holding
// its sync phase until every qdevice voted for the new ring, up to sync_timeout; vigil has no such
// barrier, so the grant carries it). A ring inherits a grant made for `granted` when it holds the
// grant's keeper and at least half of `granted`'s nodes; a node whose ring changes keeps counting
// the vote until the grant's end if its new ring inherits, else drops it at once.
//
// Why at most one side of a split counts the vote:
// 1. A node counts the vote only for the ring it asked about, or for a ring inheriting a grant its
//    ring held; inheriting needs the keeper, and a grant handed on keeps its keeper. So every ring
//    that counts a grant of one chain holds that chain's keeper.
// 2. The keeper is a member of one ring at a time, so two rings of a split (disjoint) cannot both
//    hold it; an old ring that still names it is one whose members have not yet seen it leave, as
//    any totem view may lag, and the ring lease (node/lease.h) covers that.
// 3. The witness (witness.h) grants, while any grant of the chain may still count (until the
//    latest one's end, which is never before a node's own end), only the holder or a ring that
//    inherits from it, and hands the same keeper on; it starts a new chain with a new keeper only
//    after the last grant ran out everywhere. A restarted witness waits one validity first.
// 4. A replayed or late answer counts nowhere: a node takes only the answer to its latest ask, and
//    a new ring makes a new ask.
// Half of the granted ring (not just the keeper) is asked for so that the inheriting side is the
// one ffsplit would choose: no other side of the split can be larger, and on an even split the
// keeper (the tie-breaker's node when the chain began) decides, as with
// keep_active_partition_tie_breaker.
bool inherits(const std::vector<NodeId>& ring, const std::vector<NodeId>& granted, NodeId keeper);

// The quorum device's line in corosync-quorumtool's membership list ("0 1 Qdevice").
struct DeviceVotes {
  std::uint32_t votes = 0;  // configured
  bool cast = false;        // counted now
};

struct Status {
  bool quorate = false;
  bool waiting_for_all = false;  // wait_for_all is configured and not yet satisfied
  std::uint32_t expected_votes = 0;
  std::uint32_t highest_expected = 0;
  std::uint32_t total_votes = 0;
  std::uint32_t quorum = 0;
  Flags flags;
  std::vector<NodeVotes> members;  // the current membership, by node id
  std::optional<DeviceVotes> device;
};

// The flags as corosync-quorumtool prints them: "2Node Quorate WaitForAll Qdevice ".
std::string flags_text(const Flags& flags);

class Votequorum {
 public:
  // Fails when the settings give votequorum nothing to count (no nodelist and no expected_votes),
  // more than kMaxExpectedVotes, or contradict each other (two_node with more than two expected
  // votes or with a quorum device, a tie-breaker list that is empty).
  static Result<Votequorum> create(Settings settings);

  // A new ring was installed with these members (this node included).
  void membership(Millis now, const std::vector<NodeId>& members);
  // The nodelist changed at the same point of every member's order (node/nodelist.h): expected
  // votes follow it up or down, as corosync's votequorum does on a reload, unless
  // quorum.expected_votes is written. Every member takes the same change, so the members'
  // reported expectations are taken to follow too (their next reports confirm it).
  void nodelist(std::vector<NodeVotes> nodelist);
  // A member reported its own state.
  void peer(NodeId id, const PeerReport& report);
  // The quorum device's latest grant (witness.h's DeviceClient), or none (refused, lost): its vote
  // counts while the grant covers this ring (inherits() above) and has not run out.
  void device(std::optional<DeviceGrant> grant, Millis now);
  // Time passed; the last_man_standing window may have closed, the device's grant may have run out.
  void tick(Millis now);
  // When tick() next needs to be called, if ever.
  std::optional<Millis> wake_at() const;

  const Status& status() const { return status_; }
  bool quorate() const { return status_.quorate; }
  // What this node reports to its peers.
  PeerReport report() const;

 private:
  explicit Votequorum(Settings settings);
  std::uint32_t votes_of(NodeId id) const;
  bool tie_breaker_present() const;
  bool two_node_active(std::uint32_t highest) const;
  void recalculate();
  bool device_counts(Millis now) const;

  Settings settings_;
  bool wait_for_all_ = false;
  bool waiting_ = false;
  // Never decreases except by a last_man_standing recalculation (votequorum never lowers
  // expected votes on its own).
  std::uint32_t expected_ = 0;
  bool device_cast_ = false;
  std::optional<DeviceGrant> device_grant_;
  std::vector<NodeId> members_;
  std::vector<NodeId> known_;  // every node configured or seen: lowest/highest tie-breaker
  std::vector<NodeId> seen_;   // every node seen in a membership: the tie-breaker list
  std::vector<std::pair<NodeId, PeerReport>> reports_;
  std::optional<Millis> lms_deadline_;
  Status status_;
};

}  // namespace vigil::quorum
