// replica: one node's copy of the replicated CIB, as a pure state machine driven by the events of
// the CIB's process group (messages in the ring's total order, interleaved with configuration
// changes). It returns the messages to send and the outcomes of local requests; the caller sends,
// persists and answers.
//
// How every member ends up with the same document:
//   - a change is an Op message; every member applies it in delivery order with apply(), so a
//     refused op is refused everywhere and only its originator answers the client;
//   - after every configuration change of the group the lowest member sends a Request naming the
//     member list (and so does a member that ignored a request for the view it now has: see
//     below); every member whose view is that list answers with an Offer (its version and
//     digest) tagged with the request's round id (requester, requester's counter). Once every
//     member's offer for the round is in, all pick the same winner with choose_cib(); when some
//     member holds something else, the winner sends its whole document for that round, in Sync
//     parts small enough for the ring (a large CIB spans several), and everyone adopts it;
//   - an op too large for one group message is refused at once, before it is sent;
//   - ops delivered while reconciling wait in a queue and are applied, in order, once the agreed
//     document is held. The round's request is the cut, not the configuration change: when a
//     member takes part in a round (the request names its view) it drops what it queued before
//     the request, and each originator sends its own dropped, unanswered ops again, so they are
//     delivered once more after the request and applied there, once. Members do not all see the
//     same changes — a newcomer whose join was delivered before every join list learns the members
//     already there one change at a time, changes the others never see — but every member of a
//     round sees its request at the same place in the ring's order, so all queue the same ops
//     after it (vigil-sim --layer stack, 8 nodes, seed 7: the newcomer dropped four ops at such a
//     change, nobody sent them again, and it ended synced four changes behind). When the request
//     came before the newcomer's view was whole, the newcomer sends one once it is (seed 147).
// A round id is unique (the requester's counter only grows), so offers and syncs of an older
// round that arrive late never count in a newer one.
//
// Wire format, version 2, integers little-endian:
//   "CIBR" u8:version=2 u8:kind body
//   kind 1 op:      u64:request | u32:len CibOp bytes (op.h's encoding)
//   kind 2 request: u64:round | u32:count count × (u32 node, u32 pid)
//   kind 3 offer:   round id | 3 × i64 version | u32:len digest (at most 128 bytes)
//   kind 4 sync:    round id | u32 part | u32 parts | u32:len this part of the CIB XML
//   round id:       u32 node | u32 pid | u64 round (the requester and its counter)
// decode_message() rejects a wrong magic, version or kind, lengths beyond the input, member
// counts over kMaxMembers, part numbers outside 0..parts-1 or parts over kMaxSyncParts, and
// trailing bytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"
#include "groups/groups.h"

namespace vigil::cib {

inline constexpr std::size_t kMaxMembers = 4096;
inline constexpr std::size_t kSyncPart = 256 * 1024;  // XML bytes per Sync message
inline constexpr std::uint32_t kMaxSyncParts = 4096;  // a CIB of up to 1 GiB

struct OpMessage {
  std::uint64_t request = 0;  // the originator's number for it
  CibOp op;
  bool operator==(const OpMessage&) const = default;
};
struct RoundId {
  groups::Member requester;
  std::uint64_t round = 0;
  auto operator<=>(const RoundId&) const = default;
};
struct RequestMessage {
  std::uint64_t round = 0;
  std::vector<groups::Member> members;  // the view the requester saw
  bool operator==(const RequestMessage&) const = default;
};
struct OfferMessage {
  RoundId round;
  Version version;
  std::string digest;
  bool operator==(const OfferMessage&) const = default;
};
struct SyncMessage {
  RoundId round;
  std::uint32_t part = 0, parts = 1;
  std::string xml;  // this part
  bool operator==(const SyncMessage&) const = default;
};
using ReplicaMessage = std::variant<OpMessage, RequestMessage, OfferMessage, SyncMessage>;

std::string encode_message(const ReplicaMessage& message);
Result<ReplicaMessage> decode_message(std::string_view bytes);

// A local request that ended: applied (the new document) or refused everywhere.
struct Outcome {
  std::uint64_t request = 0;
  Result<Cib> result;
};

struct ReplicaOutput {
  std::vector<std::string> send;  // encoded messages for the group, in order
  std::vector<Outcome> done;      // answer these only after persisting current() when changed
  bool changed = false;           // current() changed: persist it, tell the listeners
  // Another member's document replaced this one's (before `done`): changes applied here before
  // may not be in it.
  bool adopted = false;
  std::vector<std::string> log;   // reconciliations, conflicts, adopted documents
  std::vector<std::string> warn;  // undecodable messages, lost changes
};

class Replica {
 public:
  // `initial` is the newest valid copy on disk (or an empty CIB at first start).
  Replica(groups::Member self, Cib initial);

  // A local client asks for `op`; `request` is the caller's unique number for it.
  ReplicaOutput commit(std::uint64_t request, CibOp op);
  ReplicaOutput change(const groups::GroupChange& change);
  ReplicaOutput message(const groups::GroupMessage& message);

  bool synced() const { return synced_; }
  const Cib& current() const { return cib_; }
  const std::string& digest() const { return digest_; }
  const std::vector<groups::Member>& members() const { return members_; }
  // Local requests sent and not yet answered.
  std::size_t pending() const { return pending_.size(); }

  // Test-only: reconciliation keeps the lowest version offered (the simulator must catch it).
  void inject_stale_cib_wins() { stale_cib_wins_ = true; }

  // What holds between steps; every step ends by checking it in debug and ci builds
  // (common/invariants.h), and the simulator checks it after each of its steps.
  void check_invariants() const;

 private:
  friend struct ReplicaProbe;  // tests plant inconsistent states through it, to see checks fire
  struct Queued {
    groups::Member sender;
    OpMessage op;
  };
  void apply(const groups::Member& sender, const OpMessage& m, ReplicaOutput& out);
  void requested(const groups::Member& sender, const RequestMessage& request, ReplicaOutput& out);
  void offered(const groups::Member& sender, OfferMessage offer, ReplicaOutput& out);
  void synced_by(const groups::Member& sender, const SyncMessage& sync, ReplicaOutput& out);
  void decide(ReplicaOutput& out);
  void send_document(ReplicaOutput& out) const;
  void adopt(Cib cib, ReplicaOutput& out);
  void become_synced(ReplicaOutput& out);
  void set(Cib cib);
  std::string name(const groups::Member& m) const;

  groups::Member self_;
  Cib cib_;
  std::string digest_;
  bool joined_ = false;
  bool synced_ = false;
  std::vector<groups::Member> members_;
  std::uint64_t requests_sent_ = 0;
  std::optional<RoundId> round_;  // the reconciliation under way
  // The views of the requests ignored since our last round (another member's, for a view we did
  // not hold): reaching one of them, we ask again. Bounded by kMissedViews, the oldest dropped.
  std::vector<std::vector<groups::Member>> missed_;
  std::map<groups::Member, OfferMessage> offers_;
  std::optional<groups::Member> winner_;  // set once every offer is in, until the sync arrives
  std::vector<Queued> queue_;
  std::string sync_xml_;                    // the winner's document, as its parts arrive
  std::uint32_t sync_next_ = 0;             // the part expected next
  std::map<std::uint64_t, CibOp> pending_;  // our requests, by number, until they are answered
  bool stale_cib_wins_ = false;
};

}  // namespace vigil::cib
