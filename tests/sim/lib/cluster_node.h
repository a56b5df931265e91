// The simulated cluster's per-node state and its event queue's entries, shared by cluster.cpp and
// cluster_resources.cpp.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "cluster.h"

namespace vigil::sim {

struct Cluster::Node {
  NodeId id;
  std::optional<totem::Ring> ring;         // Layer::Totem
  std::optional<node::Node> stack;  // Layer::Stack
  bool in_group = false;            // Layer::Stack: its member joined group "g" (asked to)
  const totem::Ring* running() const { return stack ? &stack->ring() : ring ? &*ring : nullptr; }
  bool alive = false;
  bool refuses = false;  // process gone, host up: datagrams to it come back refused
  Millis paused_until = 0;
  std::uint64_t generation = 0;  // bumps on crash, so stale timers and frames die with it
  std::uint64_t disk_ring_seq = 0;
  std::uint64_t boots = 0;
  std::uint32_t sent = 0;
  std::optional<totem::RingId> whole_ring;  // the first ring of every node it installed
  // Layer::Stack: the join-list barrier its group layer has open, since when, and whether the ring
  // stayed operational all along.
  struct Barrier {
    groups::RingTag ring;
    Millis since = 0;
    bool operational = true;
  };
  std::optional<Barrier> barrier;
  std::vector<std::optional<Millis>> timers =
      std::vector<std::optional<Millis>>(node::kTimerCount);  // the Ring's first, then the node's
  // Layer::Stack: the CIB disk — what is written, the write under way, the newest one waiting.
  std::shared_ptr<const cib::Cib> disk_cib = std::make_shared<const cib::Cib>();
  std::optional<node::CibPersist> writing, next_write;
  Millis disk_full_until = 0;  // the host's disk: writes fail before then
  std::optional<Millis> behind_since;  // the disk behind the replica, no write under way
  std::uint64_t tickets = 0;
  // With a watchdog: the host's timer (bumped on each arm, so a stale expiry is ignored), whether
  // the host may hold resources, the lost nodes this node's view has named reset, its last pause.
  std::optional<Millis> watchdog_due;
  std::uint64_t watchdog_arms = 0;
  bool holds = false;
  std::set<NodeId> named_reset;
  Millis resumed_at = 0;
  // With resources: what really runs on the host (it outlives the process, not the host), the
  // process's recurring monitors (token → the action and the result it last reported), and a
  // shutdown under way (the node leaves once its controller says its resources are handed over).
  std::set<std::string> active;
  struct Monitor {
    controller::LocalAction action;
    std::optional<std::pair<int, int>> last;  // (op_status, rc) last reported
  };
  std::map<std::uint64_t, Monitor> monitors;
  bool leaving = false;
  // Resources whose stop hung on this host and did not succeed since: what the cluster blocks
  // for real, with a shutdown waiting on them, until a cleanup.
  std::set<std::string> hung_stops;
  bool leave_held = false;  // shutting down at the final cleanup while a hung stop blocked
  // With a witness: the shell's device client, the ring it was last told, the grant the core was
  // last given, when the last message each way arrives (the connection keeps their order), and
  // the pump's one pending wake-up.
  std::optional<quorum::DeviceClient> device;
  std::vector<NodeId> device_members;
  std::optional<quorum::DeviceGrant> device_grant;
  Millis to_witness_last = 0, from_witness_last = 0;
  std::optional<Millis> device_wake;  // the client's next wake-up, as scheduled (bumped below)
  std::uint64_t device_wakes = 0;
};

struct Cluster::Event {
  // Refused: the port unreachable for a frame that reached a dead process, on its way back.
  enum class Kind { Frame, Timer, Action, Refused };
  Millis at;
  std::uint64_t order;
  Kind kind;
  NodeId node;      // receiver, timer owner, or acting node
  NodeId from = 0;  // sender; for Refused, the node that refused
  std::uint64_t generation = 0;
  totem::Timer timer = totem::Timer::TokenLoss;
  std::shared_ptr<const totem::Bytes> bytes;
  std::function<void()> action;
  Millis deadline = 0;  // a timer's own deadline; `at` moves when its node is paused
  std::uint64_t sender_generation = 0;  // Frame: the sender's process, which a refusal reaches
};

}  // namespace vigil::sim
