// Ring::Impl: the protocol engine behind Ring::step. ring.cpp holds dispatch, timers and the
// shared machinery; membership.cpp gather and commit; ordering.cpp the token, delivery, recovery
// and installing a ring.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <set>

#include "totem/ring_state.h"

namespace vigil::totem {

struct Pending {
  Bytes payload;
  bool safe = false;
  std::optional<RingId> sync_for;  // a sync message (totem.h): the ring it was handed over in
};

struct Ring::Impl {
  Impl(NodeId id, const TotemSettings& settings, Rng r, std::uint64_t ring_seq_floor);

  // ---- identity and settings
  NodeId me;
  TotemSettings s;
  Rng rng;
  std::uint64_t incarnation;
  std::uint64_t max_ring_seq;
  std::uint64_t persisted_ring_seq;

  // ---- protocol state
  State state;
  bool started = false;
  bool left = false;
  bool ever_installed = false;
  RingId installed_ring;
  std::vector<NodeId> installed_members;
  std::deque<Pending> pending;  // sync messages first (rule S1)
  std::map<NodeId, Millis> last_heard;
  std::map<NodeId, std::uint64_t> known_incarnation;
  std::set<wire::LinkPair> broken;  // directed links known not to work
  NodeSet left_nodes;               // announced Leave since the last install
  std::array<std::optional<Millis>, kTimerCount> timers{};
  Outbound outbound;
  InjectedFaults faults;
  RingStats stats;

  // ---- per step
  Effects* fx = nullptr;
  Millis now = 0;
  std::optional<NodeId> healed_from;  // this frame's sender just proved a broken link works

  Effects step(const Input& in);
  void check_invariants() const;

  // ring.cpp: plumbing
  void arm(Timer t, Millis deadline);
  void cancel(Timer t);
  void cancel_all_timers();
  void broadcast(const wire::Body& body);
  void unicast(NodeId to, const wire::Body& body);
  Bytes encode(const wire::Body& body) const;
  void on_frame(NodeId from, std::span<const std::uint8_t> bytes);
  void dispatch(const wire::Packet& p);
  bool note_peer(const wire::Header& h);
  void on_timer(Timer t);
  void on_send(const Send& send);
  void on_leave();
  void on_unreachable(NodeId peer);
  NodeSet heard_recently() const;
  bool heard_recently(NodeId n) const;
  bool heard_within(NodeId n, Millis window) const;
  Millis probe_window(std::size_t ring_size) const;
  std::vector<NodeId> current_members() const;
  std::uint64_t member_incarnation(NodeId n) const;
  bool separated_by_broken_link(const std::vector<NodeId>& mine,
                                const std::vector<NodeId>& theirs) const;
  bool may_merge_with(NodeId from, const std::vector<NodeId>& theirs) const;
  void absorb_links(NodeId from, const wire::JoinFrame& j);
  const char* state_name() const;

  // membership.cpp
  void to_gather(const NodeSet& add, const NodeSet& fail);
  void send_join(const Gather& g);
  void try_consensus(Gather& g);
  bool consents(const Gather& g, NodeId x, const NodeSet& members) const;
  void consensus_timeout(Gather& g);
  void fail_silent(Gather& g);
  void enter_commit(Log old, NodeSet proc, NodeSet fail, wire::CommitFrame token);
  void pass_on(const wire::CommitFrame& token, const std::vector<NodeId>& ring);
  wire::CommitMember my_commit_entry(const Log& old) const;
  void on(Gather& g, const wire::JoinFrame& j, const wire::Header& h);
  void on(Commit& c, const wire::JoinFrame& j, const wire::Header& h);
  void on(Recovery& r, const wire::JoinFrame& j, const wire::Header& h);
  void on(Operational& o, const wire::JoinFrame& j, const wire::Header& h);
  void join_while_forming(const NodeSet& proc, const NodeSet& fail,
                          const std::vector<NodeId>& forming, const wire::JoinFrame& j,
                          const wire::Header& h, const wire::Packet& again);
  void on(Gather& g, const wire::CommitFrame& c, const wire::Header& h);
  void on(Commit& c, const wire::CommitFrame& f, const wire::Header& h);
  void on(Recovery& r, const wire::CommitFrame& f, const wire::Header& h);
  void on(Operational& o, const wire::CommitFrame& f, const wire::Header& h);
  bool note_leave(const wire::Header& h);
  void on(Gather& g, const wire::LeaveFrame& f, const wire::Header& h);
  void on(Commit& c, const wire::LeaveFrame& f, const wire::Header& h);
  void on(Recovery& r, const wire::LeaveFrame& f, const wire::Header& h);
  void on(Operational& o, const wire::LeaveFrame& f, const wire::Header& h);
  void on(Gather& g, const wire::MergeDetectFrame& f, const wire::Header& h);
  void on(Commit& c, const wire::MergeDetectFrame& f, const wire::Header& h);
  void on(Recovery& r, const wire::MergeDetectFrame& f, const wire::Header& h);
  void on(Operational& o, const wire::MergeDetectFrame& f, const wire::Header& h);

  // ordering.cpp
  void on(Gather& g, const wire::McastFrame& f, const wire::Header& h);
  void on(Commit& c, const wire::McastFrame& f, const wire::Header& h);
  void on(Recovery& r, const wire::McastFrame& f, const wire::Header& h);
  void on(Operational& o, const wire::McastFrame& f, const wire::Header& h);
  void on(Gather& g, const wire::TokenFrame& t, const wire::Header& h);
  void on(Commit& c, const wire::TokenFrame& t, const wire::Header& h);
  void on(Recovery& r, const wire::TokenFrame& t, const wire::Header& h);
  void on(Operational& o, const wire::TokenFrame& t, const wire::Header& h);
  void on(Gather& g, const wire::HoldCancelFrame& f, const wire::Header& h);
  void on(Commit& c, const wire::HoldCancelFrame& f, const wire::Header& h);
  void on(Recovery& r, const wire::HoldCancelFrame& f, const wire::Header& h);
  void on(Operational& o, const wire::HoldCancelFrame& f, const wire::Header& h);
  void enter_recovery(Log old, NodeSet proc, NodeSet fail, const wire::CommitFrame& full);
  void start_token(Recovery& r);
  struct Visit {
    std::uint32_t sent = 0;
  };
  Visit visit_token(Log& log, TokenSlot& slot, wire::TokenFrame& tok, std::deque<Message>* resend,
                    bool revisit);
  void forward_token(TokenSlot& slot, wire::TokenFrame tok);
  void forward_or_park(Operational& o, wire::TokenFrame tok, bool idle);
  void release_parked(Operational& o);
  void send_message(Log& log, wire::TokenFrame& tok, Message m);
  void deliver_agreed(Log& log, bool transitional);
  void emit_delivery(const Message& m, bool transitional);
  void install(Recovery& r);
  bool nothing_to_exchange(const wire::CommitFrame& full) const;
  void store_recovered(Log& old, const Message& wrapper);
  void note_progress(Seq seq);
};

std::vector<NodeId> sorted(const NodeSet& s);
NodeSet to_set(const std::vector<NodeId>& v);
bool contains(const std::vector<NodeId>& v, NodeId n);
NodeId successor(const std::vector<NodeId>& ring, NodeId me);

}  // namespace vigil::totem
