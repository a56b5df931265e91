// The simulator's checkers, fed every send, delivery and configuration change as they happen:
// agreement, total order, virtual synchrony (who survives into a transitional configuration, and
// who is reported joined, left or failed), safe delivery, integrity; liveness and the end-of-run
// integrity checks run when the scenario ends.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cluster.h"

namespace vigil::sim {

// Node ids as the checkers' reports print them: "[1,2,3]".
std::string node_list(const std::vector<NodeId>& ids);

// A message's identity in the simulator: the first 8 bytes of its payload.
std::uint64_t payload_uid(const totem::Bytes& payload);

class Checker {
 public:
  // How far a live node holds a ring's messages (Ring::held_through); empty when it keeps none.
  using Holdings = std::function<std::optional<totem::Seq>(NodeId, totem::RingId)>;
  void set_holdings(Holdings holdings) { holdings_ = std::move(holdings); }

  void on_send(NodeId node, std::uint64_t uid, Millis now, std::optional<totem::RingId> ring,
               bool safe);
  void on_event(NodeId node, Millis now, const totem::Event& event);
  void on_restart(NodeId node);  // a fresh incarnation: its history starts over
  void on_crash(NodeId node);
  void on_leave(NodeId node);  // a clean exit: the others may report it as left
  // A failure the simulator itself observes (stability, settling, persistence).
  void report(const std::string& checker, const std::string& detail) { failed(checker, detail); }

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
    int boot = 0;  // which incarnation of the node this view follows
  };
  struct Sent {
    NodeId node;
    Millis at;
    std::optional<totem::RingId> ring;  // the sender's installed ring when it sent
    bool safe;
    int boot;
  };
  struct Slot {
    std::uint64_t uid;
  };
  void failed(const std::string& checker, const std::string& detail);
  void on_delivery(NodeId node, Millis now, const totem::Delivery& d);
  void on_config(NodeId node, Millis now, const totem::ConfigChange& c);
  void check_safe(NodeId node, const totem::Delivery& d, const std::string& where);
  void check_departures(NodeId node, const totem::ConfigChange& c);
  void check_survivors(NodeId node, const totem::ConfigChange& c);
  void check_self_delivery(const std::vector<NodeId>& live, Millis send_cutoff);

  std::map<NodeId, NodeView> nodes_;
  std::map<std::uint64_t, Sent> sent_;
  std::map<std::uint64_t, std::tuple<totem::RingId, std::uint64_t, NodeId>> placed_;  // uid → slot
  std::map<std::pair<totem::RingId, std::uint64_t>, std::uint64_t> slots_;  // slot → uid
  std::map<totem::RingId, std::vector<NodeId>> rings_;
  // new ring → old ring → the transitional set of the members moving from one to the other
  std::map<totem::RingId, std::map<totem::RingId, std::vector<NodeId>>> into_;
  // new ring → member → the ring its incarnation came from (empty: it had none, a fresh start)
  std::map<totem::RingId, std::map<NodeId, std::optional<totem::RingId>>> came_from_;
  std::map<std::pair<totem::RingId, NodeId>, int> boot_in_;  // (ring, member) → its incarnation
  std::map<NodeId, std::set<int>> left_boots_;               // incarnations that left cleanly
  Holdings holdings_;
  std::map<std::pair<totem::RingId, totem::RingId>, std::pair<std::uint64_t, std::uint64_t>> moved_;
  std::map<NodeId, std::set<std::uint64_t>> final_delivered_;
  Verdict verdict_;
};

}  // namespace vigil::sim
