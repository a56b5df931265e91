// The Ring's private state: one struct per protocol state, each owning the data that only means
// something in that state (DESIGN.md: "Protocol states own their data").
#pragma once

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "totem/totem.h"
#include "totem/wire.h"

namespace vigil::totem {

using wire::Message;
using NodeSet = std::set<NodeId>;

// One ring's messages as this node holds them.
struct Log {
  RingId ring;
  std::vector<NodeId> members;  // ascending; the token travels in this order
  std::map<NodeId, std::uint64_t> incarnations;
  std::map<Seq, Message> store;  // held messages above `gc`
  Seq aru = 0;                   // every message up to here is held (or was, and is collected)
  Seq high = 0;                  // highest sequence number known to be assigned
  Seq delivered = 0;             // handed to the layer above up to here
  Seq safe = 0;                  // every member holds every message up to here
  Seq gc = 0;  // dropped up to here: every member holds them and they are delivered

  bool insert(Message m);  // false for a duplicate
  const Message* find(Seq s) const;
  Seq highest_held() const { return store.empty() ? aru : std::max(aru, store.rbegin()->first); }
  bool is_member(NodeId n) const;
  void collect(Seq upto);
};

// This node's place on a ring the token travels: Operational and Recovery.
struct TokenSlot {
  NodeId next = 0;
  std::uint64_t last_token_seq = 0;
  Seq prev_aru = 0;  // the token's aru at my previous visit: safe delivery needs two rotations
  std::uint32_t sent_last_visit = 0;
  std::uint32_t backlog_contrib = 0;
  std::optional<wire::TokenFrame> parked;  // held while the ring is idle
  std::optional<Millis> received_at;       // this ring's token was last taken here (operational)
};

struct JoinSeen {
  wire::JoinFrame join;
  NodeSet proc, fail, heard;
  Millis at = 0;
};

struct Gather {
  Log old;
  NodeSet proc, fail;
  std::map<NodeId, JoinSeen> joins;  // the latest Join of each node during this gather
  Millis began = 0;
  // From when a proposed member's silence counts (Ring::Impl::fail_silent): absent means always
  // (a member of the operational ring we left, bound to speak all along).
  std::map<NodeId, Millis> silent_since;
};

struct Commit {
  Log old;
  NodeSet proc, fail;
  wire::CommitFrame token;  // as last passed on
};

struct Recovery {
  Log old;
  Log ring;  // the new ring; carries the old ring's messages wrapped as `recovered`
  TokenSlot slot;
  NodeSet proc, fail;
  NodeSet transitional;  // new members coming from my old ring
  std::deque<Message> resend;
  bool token_started = false;
};

struct Operational {
  Log ring;
  TokenSlot slot;
};

using State = std::variant<Gather, Commit, Recovery, Operational>;

// The last token or commit token sent, resent until the successor shows it got it.
struct Outbound {
  Bytes bytes;
  NodeId to = 0;
  Seq seq = 0;
  bool active = false;
};

}  // namespace vigil::totem
