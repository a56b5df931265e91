// quorum/witness: the quorum device of a two-node (or any even) cluster, as corosync-qnetd's net
// model with its ffsplit algorithm does it: a witness on a third machine gives its one vote to
// exactly one partition of each cluster it serves, so after a split only that side has quorum.
// Pure: the witness's decision (Witness) and the node's side of the conversation (DeviceClient)
// are values stepped with the time; `vigil witness` and vigild carry the bytes over TCP, sealed
// with the cluster's authkey.
//
// Wire format, version 2, integers little-endian; a message travels sealed (the shells seal it):
//   "VQWN" u8:version=2 u8:kind body
//   kind 1 ask (node → witness): u16 cluster name length (1..255) + bytes | u32 node id |
//          u64 session | u64 serial | u32 validity ms (1..kMaxValidity) |
//          u8 tie_breaker (0 lowest, 1 highest, 2 node) | u32 tie_breaker node |
//          u16 member count (1..kMaxMembers) | u32 members, ascending, the node among them
//   kind 2 answer (witness → node): u64 session | u64 serial | u8 vote (0 refused, 1 cast) |
//          u32 keeper (the grant's keeper, quorum.h's DeviceGrant; 0 exactly when refused)
// Version 1 answers had no keeper; a version-1 peer is refused by its version byte, so a node and
// a witness of different versions never count a vote (upgrade the witness with the nodes).
// Decoders refuse a wrong magic, version or kind, short or trailing bytes, a zero node id,
// unsorted or duplicate members, a node missing from its own membership, an unknown tie-breaker,
// a keeper with a refusal or a grant without one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/common.h"
#include "quorum/quorum.h"

namespace vigil::quorum {

using NodeId = std::uint32_t;
using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kWitnessVersion = 2;
inline constexpr std::size_t kMaxMembers = 256;
inline constexpr std::uint32_t kMaxValidity = 600000;
inline constexpr std::size_t kMaxClusterName = 255;

// quorum.device.net.tie_breaker: which half of an even split gets the vote.
enum class DeviceTieBreaker : std::uint8_t { Lowest = 0, Highest = 1, Node = 2 };

struct Ask {
  std::string cluster;
  NodeId node = 0;
  std::uint64_t session = 0;  // the asking process's start, so answers to an older one are ignored
  std::uint64_t serial = 0;
  Millis validity = 10000;  // how long the node counts a vote after it asked (device timeout)
  DeviceTieBreaker tie_breaker = DeviceTieBreaker::Lowest;
  NodeId tie_breaker_node = 0;
  std::vector<NodeId> members;  // the node's current ring, ascending
};

struct Answer {
  std::uint64_t session = 0;
  std::uint64_t serial = 0;
  bool vote = false;
  NodeId keeper = 0;  // with a vote: whose side keeps it if the ring changes (quorum.h)
};

Bytes encode_ask(const Ask& ask);
Result<Ask> decode_ask(std::span<const std::uint8_t> bytes);
Bytes encode_answer(const Answer& answer);
Result<Answer> decode_answer(std::span<const std::uint8_t> bytes);

// One witness process's decisions for every cluster it serves. A cluster is named by which
// authkey opened its messages (the shell's index) and its cluster name, so two clusters with the
// same name and different keys never share a vote.
//
// The rules, per cluster (corosync-qdevice(8), ffsplit):
// - The vote goes to one membership (set of node ids) at a time, the holder. A node whose ring is
//   the holder gets it; every other node is refused.
// - Every grant names a keeper, a node of the holder: a node may keep counting a grant after its
//   ring changed while its new ring inherits it (quorum.h's inherits(): the keeper and half the
//   granted ring), until validity after it asked.
// - Stickiness: while the holder's last grant may still count at a node (holder_until, never
//   before any node's own end), the vote goes only to the holder or to a ring that inherits from
//   it, which becomes the holder with the same keeper. So every ring counting a grant of the
//   chain holds its keeper, and two disjoint rings never count the vote at once (quorum.h states
//   the whole argument). The inheriting side of a split gets its grant renewed at once: it never
//   stops counting the vote.
// - Once every grant ran out, the vote goes to the membership with the most nodes among those the
//   connected nodes report, counting only nodes that asked within the validity (a frozen node
//   whose connection stays open does not hold the vote for a ring it no longer speaks for); on a
//   tie, to the one holding the tie-breaker node (the lowest node id by default, the highest, or
//   a named node). Its keeper is the tie-breaker's node within it.
// - A restarted witness knows no grants of its predecessor: it grants nothing for the first
//   validity after it started, by which time every earlier grant ran out at the nodes.
// - An ask whose serial is not past the last one heard from the same node and session is a
//   replay (a sealed frame recorded and sent again, on any connection) and is refused without
//   effect. The last serials of a node's kSessionsKept latest sessions are kept; sessions are not
//   ordered (a node's clock may step back across a restart), so an older session the witness
//   forgot is heard as new.
struct ClusterId {
  std::uint32_t key = 0;
  std::string name;
  auto operator<=>(const ClusterId&) const = default;
};

class Witness {
 public:
  explicit Witness(Millis started) : started_(started) {}

  // A node asked (its connection carries it). The answer echoes its session and serial; an
  // error says why the ask was refused (a replay), and the shell ends that connection.
  Result<Answer> ask(std::uint32_t key, const Ask& ask, Millis now);
  // The connection of that node's `session` closed: its reports no longer count.
  void disconnected(const ClusterId& cluster, NodeId node, std::uint64_t session);

  struct Seat {
    bool connected = false;
    std::uint64_t session = 0;
    std::vector<NodeId> members;
    Millis asked_at = 0;
  };
  // The last serial of one of a node's sessions, and when it was heard.
  struct Heard {
    std::uint64_t session = 0;
    std::uint64_t serial = 0;
    Millis at = 0;
  };
  static constexpr std::size_t kSessionsKept = 8;
  struct Cluster {
    std::map<NodeId, Seat> nodes;
    std::map<NodeId, std::vector<Heard>> heard;  // at most kSessionsKept per node
    std::optional<std::vector<NodeId>> holder;
    NodeId keeper = 0;        // of the holder's chain of grants
    Millis holder_until = 0;  // every grant of the chain has run out at the nodes by then
    Millis validity = 0;
    DeviceTieBreaker tie_breaker = DeviceTieBreaker::Lowest;
    NodeId tie_breaker_node = 0;
  };
  const std::map<ClusterId, Cluster>& clusters() const { return clusters_; }

 private:
  Millis started_;
  std::map<ClusterId, Cluster> clusters_;
};

// The node's side (corosync-qdevice's): asks the witness every quarter of the device timeout and
// at once on a new ring; counts the vote from an answer to its latest ask, for the ring it asked
// about or one that inherits it (quorum.h), until the timeout after that ask was sent — measured
// from the send, so the node stops counting before the witness stops holding the grant.
struct DeviceSettings {
  std::string cluster;
  NodeId self = 0;
  Millis timeout = 10000;  // quorum.device.timeout
  DeviceTieBreaker tie_breaker = DeviceTieBreaker::Lowest;
  NodeId tie_breaker_node = 0;
};

class DeviceClient {
 public:
  DeviceClient(DeviceSettings settings, std::uint64_t session);

  // A new ring was installed: the vote for the old one counts on only if the new ring inherits it.
  void membership(std::vector<NodeId> members, Millis now);
  // The connection to the witness opened or closed; asks go out only while it is open.
  void connected(bool up, Millis now);
  // The ask to send now, if one is due.
  std::optional<Ask> due(Millis now);
  void answer(const Answer& answer, Millis now);
  // Whether the device's vote counts for this node's ring now.
  bool cast(Millis now) const;
  // The grant behind it, for the node core's votequorum (which applies the same rule itself).
  std::optional<DeviceGrant> grant(Millis now) const;
  // When due() or cast() next change on their own.
  std::optional<Millis> wake_at(Millis now) const;

 private:
  Millis interval() const { return settings_.timeout / 4; }

  DeviceSettings settings_;
  std::uint64_t session_;
  std::vector<NodeId> members_;
  bool up_ = false;
  std::uint64_t serial_ = 0;  // of the latest ask sent
  Millis asked_at_ = 0;
  std::optional<Millis> next_ask_;
  std::optional<DeviceGrant> grant_;  // the latest, while it counts for members_
};

}  // namespace vigil::quorum
