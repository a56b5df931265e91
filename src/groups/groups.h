// groups: closed process groups over the ring, like Corosync's CPG. A member (a node and a process
// id on it) joins a named group, sends to it, and receives the group's messages in the ring's total
// order, interleaved with configuration changes that list the members, who joined, who left and
// why. Pure: the daemon hands in what the ring delivered and sends what this returns through it.
//
// Group messages ride in ring payloads, version 2, little-endian:
//   u8 version | u8 kind (1 join, 2 leave, 3 message, 4 join list) | body
//   join/leave/message: u16 name length | name | u32 pid | (message) data…
//   join list: u32 ring rep | u64 ring seq | u32 count | count × (u16 name length | name | u32 pid)
// After every new ring, each node sends a join list of its own members, so a newcomer learns the
// groups and everyone learns the newcomer's members, in the same order; other payloads wait until
// every member's join list is in (a barrier, as CPG's sync), so that all nodes see them after the
// same view. Every new ring, not only one that brings nodes in: a ring can end before its barrier
// completes, and the next ring of the same nodes must finish the exchange. A join list names the
// ring it was made for: one made for an earlier ring and ordered only in this one (it waited in
// the sender's backlog) is applied but does not count for this ring's barrier — it may predate
// members the sender has now. Join lists are the ring's sync messages (totem.h, rules S1 and S2):
// sent before the sender's other waiting payloads, and one still unsent when another ring is
// installed is dropped (the node sends a new one for that ring), so a barrier does not wait for
// the senders' backlogs. Being ordered before the sender's earlier joins, leaves and messages is
// harmless: a join list lists what was delivered when it was made, and what was still waiting
// applies on top of it. (In send order, a stale list could follow a leave queued before it and
// bring the member back.)
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/common.h"

namespace vigil::groups {

using NodeId = std::uint32_t;
using Bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t kMaxGroupName = 128;
// The most data one group message carries: with its header it must fit one ring payload (1 MiB).
inline constexpr std::size_t kMaxMessage = (1 << 20) - 512;

// The ring a join list is made for (totem's ring id).
struct RingTag {
  NodeId rep = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const RingTag&) const = default;
};

struct Member {
  NodeId node = 0;
  std::uint32_t pid = 0;
  auto operator<=>(const Member&) const = default;
};

// Why the membership changed (CPG's reasons, same numbers).
enum class Reason : std::uint8_t { Join = 1, Leave = 2, NodeDown = 3, NodeUp = 4, ProcDown = 5 };
const char* to_string(Reason reason);

struct GroupMessage {
  std::string group;
  Member sender;
  Bytes data;
};
struct GroupChange {
  std::string group;
  std::vector<Member> members;  // after the change, sorted
  std::vector<Member> joined;
  std::vector<Member> left;
  Reason reason = Reason::Join;
};
using GroupEvent = std::variant<GroupMessage, GroupChange>;

struct Output {
  // Payloads for the ring, in order: join lists only, sent as the ring's sync messages (totem.h,
  // Send::sync) so that they do not wait behind this node's backlog.
  std::vector<Bytes> send;
  std::vector<GroupEvent> events;  // for this node's members of the groups named
};

// Test-only switches proving that the simulator's checkers catch a broken barrier. Never set in a
// real daemon.
struct InjectedFaults {
  bool no_join_barrier = false;  // deliver before every join list is in (as before df43fe1)
};

class ProcessGroups {
 public:
  explicit ProcessGroups(NodeId self) : self_(self) {}

  // A local process asks; the payload goes through the ring and takes effect when delivered.
  Result<Bytes> join(const std::string& group, std::uint32_t pid);
  Result<Bytes> leave(const std::string& group, std::uint32_t pid, Reason reason = Reason::Leave);
  // Refuses data over kMaxMessage (the ring would not carry it).
  Result<Bytes> message(const std::string& group, std::uint32_t pid,
                        std::span<const std::uint8_t> data);

  // The ring delivered a payload from `sender`. A payload that does not decode is counted and
  // ignored (it passed authentication, so it is a bug or a newer version, never a crash).
  Output delivered(NodeId sender, std::span<const std::uint8_t> payload);
  // The ring's Transitional configuration: members of nodes that are gone leave (Leave when the
  // node announced it, NodeDown otherwise); payloads held by an unfinished barrier are released.
  Output transitional(const std::vector<NodeId>& survivors,
                      const std::vector<NodeId>& left_cleanly);
  // A new ring (its Regular configuration): members of nodes not in it leave (NodeDown), this node
  // sends its join list and the barrier starts.
  Output regular(const std::vector<NodeId>& members, RingTag ring);

  // This node's members of a group: who receives its events.
  std::vector<std::uint32_t> local_members(const std::string& group) const;
  std::vector<Member> members(const std::string& group) const;
  std::vector<std::string> group_names() const;
  std::uint64_t undecodable() const { return undecodable_; }
  // The ring whose join lists the barrier still waits for; empty once it is complete.
  std::optional<RingTag> awaiting_join_lists() const {
    return awaiting_.empty() ? std::nullopt : std::optional<RingTag>(ring_);
  }

  // Aborts (VIGIL_ASSERT) when the state is inconsistent: an empty group kept, payloads held
  // with no join list awaited.
  void check_invariants() const;
  void inject(const InjectedFaults& faults) { faults_ = faults; }

 private:
  void add(Output& out, const std::string& group, const std::vector<Member>& joined, Reason reason);
  void remove(Output& out, const std::string& group, const std::vector<Member>& left,
              Reason reason);
  bool has_local(const std::string& group) const;
  Output deliver_now(NodeId sender, std::span<const std::uint8_t> payload);
  void release(Output& out);
  Output configuration(const std::vector<NodeId>& nodes, const std::vector<NodeId>& left_cleanly,
                       const RingTag* new_ring);
  bool barrier_list(std::span<const std::uint8_t> payload) const;

  NodeId self_;
  std::map<std::string, std::set<Member>> groups_;
  std::uint64_t undecodable_ = 0;
  std::set<NodeId> awaiting_;                   // new-ring members whose join list is due
  std::vector<std::pair<NodeId, Bytes>> held_;  // payloads delivered meanwhile, in order
  InjectedFaults faults_;
  RingTag ring_;  // the ring this node is in, whose join lists the barrier waits for
  // The nodes of the last configuration (none yet: every sender counts). A join from a node
  // outside it — the old ring's last messages, delivered after its Transitional change — would
  // bring back a member of a node that is gone.
  std::optional<std::set<NodeId>> present_;
};

}  // namespace vigil::groups
