#include "checker.h"

#include <algorithm>
#include <iterator>
#include <sstream>

namespace vigil::sim {

using totem::ConfigChange;
using totem::RingId;
using totem::to_string;

std::uint64_t payload_uid(const totem::Bytes& payload) {
  std::uint64_t uid = 0;
  for (std::size_t i = 0; i < 8 && i < payload.size(); ++i) {
    uid |= static_cast<std::uint64_t>(payload[i]) << (8 * i);
  }
  return uid;
}

std::string node_list(const std::vector<NodeId>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

namespace {
std::string uid_name(std::uint64_t uid) {
  return "n" + std::to_string(uid >> 32) + "#" + std::to_string(uid & 0xffffffffU);
}
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}
}  // namespace

void Checker::failed(const std::string& checker, const std::string& detail) {
  if (!verdict_.ok) return;  // the first failure is the interesting one
  verdict_ = Verdict{false, checker, detail};
}

void Checker::on_send(NodeId node, std::uint64_t uid, Millis now, std::optional<RingId> ring,
                      bool safe) {
  sent_[uid] = Sent{node, now, ring, safe, nodes_[node].boot};
}

void Checker::on_restart(NodeId node) {
  const int boot = nodes_[node].boot + 1;
  nodes_[node] = NodeView{};
  nodes_[node].boot = boot;
}
void Checker::on_crash(NodeId node) {
  nodes_[node].alive = false;
}
void Checker::on_leave(NodeId node) {
  left_boots_[node].insert(nodes_[node].boot);
  nodes_[node].alive = false;
}

void Checker::on_event(NodeId node, Millis now, const totem::Event& event) {
  if (const auto* d = std::get_if<totem::Delivery>(&event)) {
    on_delivery(node, now, *d);
  } else {
    on_config(node, now, std::get<ConfigChange>(event));
  }
}

void Checker::on_delivery(NodeId node, Millis now, const totem::Delivery& d) {
  (void)now;
  NodeView& v = nodes_[node];
  const std::uint64_t uid = payload_uid(d.payload);
  const std::string where = "n" + std::to_string(node) + " delivering " + uid_name(uid) +
                            " (ring " + to_string(d.config) + " seq " + std::to_string(d.seq) + ")";
  // Integrity: sent, by whom it says, once.
  auto s = sent_.find(uid);
  if (s == sent_.end() || s->second.node != d.sender) {
    return failed("integrity", where + ": never sent by n" + std::to_string(d.sender));
  }
  if (!v.delivered.insert(uid).second) return failed("integrity", where + ": duplicate delivery");
  if (d.safe != s->second.safe) {
    return failed("integrity", where + ": delivered as " + (d.safe ? "safe" : "agreed") +
                                   ", sent as the other");
  }
  // Total order: one slot per message, one message per slot, slots ascending at every node.
  const auto slot = std::make_tuple(d.config, d.seq, d.sender);
  auto [placed, fresh] = placed_.emplace(uid, slot);
  if (!fresh && placed->second != slot) {
    return failed("total order", where + ": elsewhere it was ring " +
                                     to_string(std::get<0>(placed->second)) + " seq " +
                                     std::to_string(std::get<1>(placed->second)));
  }
  auto [owner, new_slot] = slots_.emplace(std::make_pair(d.config, d.seq), uid);
  if (!new_slot && owner->second != uid) {
    return failed("total order",
                  where + ": that slot holds " + uid_name(owner->second) + " elsewhere");
  }
  const auto key = std::make_tuple(d.config.seq, d.config.rep, d.seq);
  if (key <= v.last_key) return failed("total order", where + ": out of order at this node");
  v.last_key = key;
  // Virtual synchrony: delivered in the configuration of the ring that ordered it.
  if (!v.regular || *v.regular != d.config) {
    return failed("virtual synchrony", where + " while in configuration " +
                                           (v.regular ? to_string(*v.regular) : "none"));
  }
  if (d.transitional != v.in_transitional) {
    return failed("virtual synchrony",
                  where + ": transitional flag disagrees with the configuration");
  }
  ++v.count_in_config;
  v.hash_in_config += mix(uid);
  if (d.safe && !d.transitional) check_safe(node, d, where);
}

// Safe delivery in a regular configuration: every member still holding the ring's log holds the
// message (a member that crashed, restarted or moved on has no log to ask).
void Checker::check_safe(NodeId node, const totem::Delivery& d, const std::string& where) {
  if (!holdings_) return;
  for (NodeId y : rings_[d.config]) {
    if (y == node || !nodes_[y].alive) continue;
    const auto held = holdings_(y, d.config);
    if (held && *held < d.seq) {
      return failed("safe delivery", where + " as safe, but n" + std::to_string(y) +
                                         " holds that ring's messages only up to seq " +
                                         std::to_string(*held));
    }
  }
}

void Checker::on_config(NodeId node, Millis now, const ConfigChange& c) {
  NodeView& v = nodes_[node];
  const std::string who = "n" + std::to_string(node);
  if (!std::is_sorted(c.members.begin(), c.members.end()) ||
      std::find(c.members.begin(), c.members.end(), node) == c.members.end()) {
    return failed("agreement", who + ": configuration " + to_string(c.ring) + " " +
                                   node_list(c.members) + " is unsorted or lacks the node itself");
  }
  if (c.kind == ConfigChange::Kind::Transitional) {
    if (!v.regular || *v.regular != c.ring || v.in_transitional) {
      return failed("virtual synchrony", who + ": transitional configuration of " +
                                             to_string(c.ring) + " outside that ring");
    }
    v.in_transitional = true;
    v.transitional_members = c.members;
    return check_departures(node, c);
  }
  // Agreement: one membership per ring id.
  auto [ring, fresh] = rings_.emplace(c.ring, c.members);
  if (!fresh && ring->second != c.members) {
    return failed("agreement", who + " installs " + to_string(c.ring) + " as " +
                                   node_list(c.members) + ", others as " + node_list(ring->second));
  }
  if (v.regular) {
    if (!v.in_transitional) {
      return failed("virtual synchrony", who + ": regular configuration " + to_string(c.ring) +
                                             " without a transitional one first");
    }
    const auto step = std::make_pair(*v.regular, c.ring);
    auto [t, first] = into_[c.ring].emplace(*v.regular, v.transitional_members);
    if (!first && t->second != v.transitional_members) {
      return failed("agreement", who + ": transitional set " + node_list(v.transitional_members) +
                                     " from " + to_string(step.first) + " to " +
                                     to_string(step.second) + ", others " + node_list(t->second));
    }
    // Nodes that move together deliver the same messages in the configuration they leave.
    const auto mine = std::make_pair(v.count_in_config, v.hash_in_config);
    auto [m, first_mover] = moved_.emplace(step, mine);
    if (!first_mover && m->second != mine) {
      std::ostringstream d;
      d << who << " moved from " << to_string(step.first) << " to " << to_string(step.second)
        << " having delivered " << mine.first << " messages there, another mover "
        << m->second.first << " (or a different set)";
      return failed("virtual synchrony", d.str());
    }
  }
  check_survivors(node, c);
  if (!verdict_.ok) return;
  v.previous = v.regular;
  v.regular = c.ring;
  v.in_transitional = false;
  v.count_in_config = 0;
  v.hash_in_config = 0;
  v.installed_at = now;
}

// A transitional configuration of ring R: its members are members of R; every other member of R
// is reported once, as left or failed, and `left` only for an incarnation that left cleanly.
void Checker::check_departures(NodeId node, const ConfigChange& c) {
  const std::string who = "n" + std::to_string(node) + ": transitional configuration of " +
                          to_string(c.ring) + " " + node_list(c.members);
  const std::vector<NodeId>& old = rings_[c.ring];
  std::vector<NodeId> gone, reported = c.left;
  if (!std::includes(old.begin(), old.end(), c.members.begin(), c.members.end())) {
    return failed("virtual synchrony", who + " names nodes outside that ring " + node_list(old));
  }
  std::set_difference(old.begin(), old.end(), c.members.begin(), c.members.end(),
                      std::back_inserter(gone));
  reported.insert(reported.end(), c.failed.begin(), c.failed.end());
  std::sort(reported.begin(), reported.end());
  if (reported != gone) {
    return failed("virtual synchrony", who + " reports left " + node_list(c.left) + " and failed " +
                                           node_list(c.failed) + ", but " + node_list(gone) +
                                           " are gone");
  }
  for (NodeId y : c.left) {
    auto boot = boot_in_.find({c.ring, y});
    if (boot != boot_in_.end() && left_boots_[y].count(boot->second) == 0) {
      return failed("virtual synchrony", who + " reports n" + std::to_string(y) +
                                             " as left, but it never left cleanly from there");
    }
  }
}

// A regular configuration: a member survives from old ring R into the new one exactly when its
// incarnation came from R — a restart or a newcomer is never a survivor, even one whose start
// named a ring like R; `joined` lists the members that did not come along with this node.
void Checker::check_survivors(NodeId node, const ConfigChange& c) {
  NodeView& v = nodes_[node];
  const std::string who = "n" + std::to_string(node) + " installing " + to_string(c.ring);
  const std::vector<NodeId> mine = v.regular ? v.transitional_members : std::vector<NodeId>{node};
  std::vector<NodeId> joined;
  std::set_difference(c.members.begin(), c.members.end(), mine.begin(), mine.end(),
                      std::back_inserter(joined));
  if (c.joined != joined) {
    return failed("virtual synchrony", who + " reports joined " + node_list(c.joined) +
                                           ", expected " + node_list(joined));
  }
  came_from_[c.ring][node] = v.regular;
  boot_in_[{c.ring, node}] = v.boot;
  for (const auto& [old, survivors] : into_[c.ring]) {
    for (const auto& [y, from] : came_from_[c.ring]) {
      const bool listed = std::find(survivors.begin(), survivors.end(), y) != survivors.end();
      if (listed != (from == old)) {
        return failed("virtual synchrony",
                      "moving from " + to_string(old) + " to " + to_string(c.ring) + ", n" +
                          std::to_string(y) + (listed ? " is" : " is not") +
                          " a survivor in the transitional set " + node_list(survivors) +
                          ", but its incarnation came from " +
                          (from ? to_string(*from) : std::string("a fresh start")));
      }
    }
  }
}

void Checker::finish(const std::vector<NodeId>& live, std::optional<RingId> final_ring,
                     Millis install_time, Millis last_heal, Millis bound, bool check_liveness,
                     Millis send_cutoff) {
  if (!verdict_.ok) return;
  if (check_liveness) {
    if (!final_ring) {
      return failed("liveness", "live nodes " + node_list(live) + " did not end in one ring");
    }
    if (install_time > last_heal + bound) {
      return failed("liveness", "one ring of " + node_list(live) + " formed at " +
                                    std::to_string(install_time) + " ms, more than " +
                                    std::to_string(bound) + " ms after the last heal at " +
                                    std::to_string(last_heal) + " ms");
    }
  }
  check_self_delivery(live, send_cutoff);
  if (!verdict_.ok || !final_ring) return;
  // Integrity: a message sent in the final, stable ring reaches every member.
  for (const auto& [uid, s] : sent_) {
    if (!s.ring || *s.ring != *final_ring || s.at > send_cutoff) continue;
    if (std::find(live.begin(), live.end(), s.node) == live.end()) continue;
    for (NodeId n : live) {
      if (nodes_[n].delivered.count(uid) == 0) {
        return failed("integrity", uid_name(uid) + " sent in stable ring " +
                                       to_string(*final_ring) + " never delivered at n" +
                                       std::to_string(n));
      }
    }
  }
}

// Integrity: a node that stays up delivers every message it sent, even one sent in a ring that
// broke before ordering it (it goes out on the next ring) or ordered there past a hole (it is
// delivered in the transitional configuration).
void Checker::check_self_delivery(const std::vector<NodeId>& live, Millis send_cutoff) {
  for (const auto& [uid, s] : sent_) {
    if (s.at > send_cutoff || std::find(live.begin(), live.end(), s.node) == live.end()) continue;
    const NodeView& v = nodes_[s.node];
    if (v.boot == s.boot && v.delivered.count(uid) == 0) {
      return failed("integrity", uid_name(uid) + " sent at " + std::to_string(s.at) +
                                     " ms by n" + std::to_string(s.node) +
                                     ", which stayed up, never delivered there");
    }
  }
}

}  // namespace vigil::sim
