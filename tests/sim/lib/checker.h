// The simulator's checkers, fed every send, delivery and configuration change as they happen:
// agreement, total order, virtual synchrony, integrity; liveness and the end-of-run integrity
// checks run when the scenario ends.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cluster.h"

namespace vigil::sim {

// A message's identity in the simulator: the first 8 bytes of its payload.
std::uint64_t payload_uid(const totem::Bytes& payload);

class Checker {
 public:
  void on_send(NodeId node, std::uint64_t uid, Millis now, std::optional<totem::RingId> ring);
  void on_event(NodeId node, Millis now, const totem::Event& event);
  void on_restart(NodeId node);  // a fresh incarnation: its history starts over
  void on_crash(NodeId node);

  // End of run: live nodes, the final ring if converged, when the last fault healed.
  void finish(const std::vector<NodeId>& live, std::optional<totem::RingId> final_ring,
              Millis install_time, Millis last_heal, Millis bound, bool check_liveness,
              Millis send_cutoff);

  const Verdict& verdict() const { return verdict_; }

 private:
  struct NodeView {
    std::optional<totem::RingId> regular;  // current regular configuration
    std::optional<totem::RingId> previous;
    bool in_transitional = false;
    std::optional<totem::RingId> pending_transitional_of;
    std::vector<NodeId> transitional_members;
    std::tuple<std::uint64_t, NodeId, std::uint64_t> last_key{0, 0, 0};
    std::set<std::uint64_t> delivered;
    std::uint64_t count_in_config = 0;  // messages delivered in `regular` (incl. transitional)
    std::uint64_t hash_in_config = 0;
    Millis installed_at = 0;
    bool alive = true;
  };
  struct Sent {
    NodeId node;
    Millis at;
    std::optional<totem::RingId> ring;  // the sender's installed ring when it sent
  };
  struct Slot {
    std::uint64_t uid;
  };
  void failed(const std::string& checker, const std::string& detail);
  void on_delivery(NodeId node, Millis now, const totem::Delivery& d);
  void on_config(NodeId node, Millis now, const totem::ConfigChange& c);

  std::map<NodeId, NodeView> nodes_;
  std::map<std::uint64_t, Sent> sent_;
  std::map<std::uint64_t, std::tuple<totem::RingId, std::uint64_t, NodeId>> placed_;  // uid → slot
  std::map<std::pair<totem::RingId, std::uint64_t>, std::uint64_t> slots_;  // slot → uid
  std::map<totem::RingId, std::vector<NodeId>> rings_;
  std::map<std::pair<totem::RingId, totem::RingId>, std::vector<NodeId>> transitions_;
  std::map<std::pair<totem::RingId, totem::RingId>, std::pair<std::uint64_t, std::uint64_t>> moved_;
  std::map<NodeId, std::set<std::uint64_t>> final_delivered_;
  Verdict verdict_;
};

}  // namespace vigil::sim
