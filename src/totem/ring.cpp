// Ring: input dispatch, timers, peers and links — the machinery every protocol state shares.
#include <algorithm>

#include "totem/ring_impl.h"

namespace vigil::totem {

std::string to_string(const RingId& ring) {
  return std::to_string(ring.rep) + "/" + std::to_string(ring.seq);
}

const char* to_string(Timer timer) {
  switch (timer) {
    case Timer::TokenLoss:
      return "token-loss";
    case Timer::TokenRetransmit:
      return "token-retransmit";
    case Timer::TokenHold:
      return "token-hold";
    case Timer::Join:
      return "join";
    case Timer::Consensus:
      return "consensus";
    case Timer::Merge:
      return "merge";
  }
  return "?";
}

TotemSettings TotemSettings::resolved() const {
  TotemSettings r = *this;
  if (r.token_retransmit <= 0) {
    r.token_retransmit = static_cast<Millis>(static_cast<double>(r.token) /
                                             (r.token_retransmits_before_loss_const + 0.2));
  }
  if (r.hold <= 0) r.hold = r.token_retransmit * 8 / 10;
  if (r.consensus <= 0) r.consensus = r.token * 12 / 10;
  r.token_retransmit = std::max<Millis>(r.token_retransmit, 1);
  r.hold = std::max<Millis>(r.hold, 1);
  r.join = std::max<Millis>(r.join, 1);
  r.merge = std::max<Millis>(r.merge, 1);
  r.max_messages = std::max(r.max_messages, 1);
  r.window_size = std::max(r.window_size, r.max_messages);
  return r;
}

// ---------------------------------------------------------------- set helpers
std::vector<NodeId> sorted(const NodeSet& s) {
  return {s.begin(), s.end()};
}
NodeSet to_set(const std::vector<NodeId>& v) {
  return {v.begin(), v.end()};
}
bool contains(const std::vector<NodeId>& v, NodeId n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}
NodeId successor(const std::vector<NodeId>& ring, NodeId me) {
  auto it = std::find(ring.begin(), ring.end(), me);
  VIGIL_ASSERT(it != ring.end());
  ++it;
  return it == ring.end() ? ring.front() : *it;
}

// ---------------------------------------------------------------- Log
bool Log::insert(Message m) {
  const Seq s = m.seq;
  if (s <= aru || store.count(s) != 0) return false;
  store.emplace(s, std::move(m));
  high = std::max(high, s);
  while (store.count(aru + 1) != 0) ++aru;
  return true;
}

const Message* Log::find(Seq s) const {
  auto it = store.find(s);
  return it == store.end() ? nullptr : &it->second;
}

bool Log::is_member(NodeId n) const {
  return contains(members, n);
}

void Log::collect(Seq upto) {
  upto = std::min(upto, aru);
  if (upto <= gc) return;
  store.erase(store.begin(), store.upper_bound(upto));
  gc = upto;
}

// ---------------------------------------------------------------- Ring
Ring::Impl::Impl(NodeId id, const TotemSettings& settings, Rng r, std::uint64_t ring_seq_floor)
    : me(id),
      s(settings.resolved()),
      rng(std::move(r)),
      incarnation(rng.next() | 1),
      // Above the floor, as Corosync does at start: the boot ring must never be named like a ring
      // this node created before, or the members still running that ring would take the
      // restarted node for a survivor of it. Persisted with the first step.
      max_ring_seq(ring_seq_floor + 4),
      persisted_ring_seq(ring_seq_floor) {
  Log boot;
  boot.ring = RingId{me, max_ring_seq};
  boot.members = {me};
  boot.incarnations[me] = incarnation;
  state = Gather{std::move(boot), {me}, {}, {}, 0, {}};
  installed_ring = RingId{me, max_ring_seq};
  installed_members = {me};
}

Effects Ring::Impl::step(const Input& in) {
  Effects effects;
  fx = &effects;
  healed_from.reset();
  if (left) return effects;
  std::visit(
      [&](const auto& i) {
        using T = std::decay_t<decltype(i)>;
        now = std::max(now, i.now);
        if constexpr (std::is_same_v<T, Start>) {
          if (started) return;
          started = true;
          to_gather({}, {});
        } else if (!started) {
          // Nothing happens before Start.
        } else if constexpr (std::is_same_v<T, FrameReceived>) {
          on_frame(i.from, i.bytes);
        } else if constexpr (std::is_same_v<T, TimerFired>) {
          auto& armed = timers[static_cast<int>(i.timer)];
          if (!armed || *armed > now) return;  // cancelled, re-armed, or early: not ours
          armed.reset();
          on_timer(i.timer);
        } else if constexpr (std::is_same_v<T, Send>) {
          on_send(i);
        } else if constexpr (std::is_same_v<T, Leave>) {
          on_leave();
        } else if constexpr (std::is_same_v<T, PeerUnreachable>) {
          on_unreachable(i.node);
        }
      },
      in);
  if (max_ring_seq > persisted_ring_seq) {
    persisted_ring_seq = max_ring_seq;
    effects.persist_ring_seq = max_ring_seq;
  }
  fx = nullptr;
  return effects;
}

void Ring::Impl::arm(Timer t, Millis deadline) {
  timers[static_cast<int>(t)] = deadline;
  fx->timers.push_back(TimerCommand{t, deadline});
}

void Ring::Impl::cancel(Timer t) {
  auto& armed = timers[static_cast<int>(t)];
  if (!armed) return;
  armed.reset();
  fx->timers.push_back(TimerCommand{t, std::nullopt});
}

void Ring::Impl::cancel_all_timers() {
  for (int t = 0; t < kTimerCount; ++t) cancel(static_cast<Timer>(t));
  outbound.active = false;
}

Bytes Ring::Impl::encode(const wire::Body& body) const {
  return wire::encode(wire::Packet{wire::Header{me, incarnation}, body});
}

void Ring::Impl::broadcast(const wire::Body& body) {
  fx->frames.push_back(Frame{std::nullopt, encode(body)});
}

void Ring::Impl::unicast(NodeId to, const wire::Body& body) {
  fx->frames.push_back(Frame{to, encode(body)});
}

void Ring::Impl::on_frame(NodeId from, std::span<const std::uint8_t> bytes) {
  auto packet = wire::decode(bytes);
  if (!packet || packet->header.sender != from) {
    ++stats.frames_rejected;
    return;
  }
  if (from == me) {
    // Only our own token travelling a one-node ring comes back; anything else is a stale copy.
    if (packet->header.incarnation != incarnation)
      ++stats.frames_rejected;
    else
      dispatch(*packet);
    return;
  }
  if (!note_peer(packet->header)) return;
  dispatch(*packet);
}

// Records that a peer is alive. A changed incarnation means the peer restarted: whatever we knew
// about its links is void, and if it is a member of our ring the ring has lost it.
bool Ring::Impl::note_peer(const wire::Header& h) {
  const NodeId from = h.sender;
  // Every node list we send must fit its wire limit: a flood of senders we have never heard of
  // (forged, or a misconfigured network) is dropped rather than grown into an unsendable list.
  // One place is kept for ourselves, who are always in the heard list.
  if (last_heard.size() + 1 >= wire::kMaxList && last_heard.count(from) == 0) {
    ++stats.frames_rejected;
    return false;
  }
  last_heard[from] = now;
  auto known = known_incarnation.find(from);
  const bool restarted = known != known_incarnation.end() && known->second != h.incarnation;
  known_incarnation[from] = h.incarnation;
  if (restarted) {
    std::erase_if(broken, [&](const wire::LinkPair& p) { return p.from == from || p.to == from; });
  }
  const auto members = current_members();
  if (broken.erase(wire::LinkPair{from, me}) != 0) {
    // A link we had seen broken works again: that is the signal to merge with its far end.
    healed_from = from;
    if (std::holds_alternative<Operational>(state) && !contains(members, from)) {
      to_gather({from}, {});
      return true;
    }
  }
  if (restarted && contains(members, from) && member_incarnation(from) != h.incarnation &&
      !std::holds_alternative<Gather>(state)) {
    to_gather({}, {});
  }
  return true;
}

void Ring::Impl::dispatch(const wire::Packet& p) {
  std::visit([&](auto& st, const auto& body) { on(st, body, p.header); }, state, p.body);
}

void Ring::Impl::on_timer(Timer t) {
  switch (t) {
    case Timer::TokenLoss:
      if (std::holds_alternative<Gather>(state)) return;
      ++stats.token_losses;
      to_gather({}, {});
      return;
    case Timer::TokenRetransmit:
      if (!outbound.active) return;
      fx->frames.push_back(Frame{outbound.to, outbound.bytes});
      ++stats.tokens_retransmitted;
      arm(Timer::TokenRetransmit, now + s.token_retransmit);
      return;
    case Timer::TokenHold:
      if (auto* o = std::get_if<Operational>(&state)) release_parked(*o);
      return;
    case Timer::Join:
      if (auto* g = std::get_if<Gather>(&state)) {
        fail_silent(*g);
        send_join(*g);
        try_consensus(*g);
        if (!std::holds_alternative<Gather>(state)) return;
        const Millis jitter =
            s.send_join > 0
                ? static_cast<Millis>(rng.uniform(static_cast<std::uint64_t>(s.send_join) + 1))
                : 0;
        arm(Timer::Join, now + s.join + jitter);
      }
      return;
    case Timer::Consensus:
      if (auto* g = std::get_if<Gather>(&state)) consensus_timeout(*g);
      return;
    case Timer::Merge:
      if (auto* o = std::get_if<Operational>(&state)) {
        broadcast(wire::MergeDetectFrame{o->ring.ring, o->ring.members});
        arm(Timer::Merge, now + s.merge * static_cast<Millis>(o->ring.members.size()));
      }
      return;
  }
}

void Ring::Impl::on_send(const Send& send) {
  VIGIL_ASSERT(send.payload.size() <= kMaxPayload);
  const bool was_idle = pending.empty();
  if (send.sync) {
    // Rule S1: after the sync messages already waiting, before every ordinary one.
    const auto first_ordinary =
        std::find_if(pending.begin(), pending.end(), [](const Pending& p) { return !p.sync_for; });
    pending.insert(first_ordinary, Pending{send.payload, send.safe, installed_ring});
  } else {
    pending.push_back(Pending{send.payload, send.safe, std::nullopt});
  }
  auto* o = std::get_if<Operational>(&state);
  if (o == nullptr) return;
  if (o->slot.parked) {
    release_parked(*o);
  } else if (was_idle && o->ring.members.size() > 1) {
    // The representative may be parking the token on an idle ring: ask for it.
    broadcast(wire::HoldCancelFrame{o->ring.ring});
  }
}

void Ring::Impl::on_leave() {
  // Several copies: a lost announcement only costs the others a token timeout.
  for (int i = 0; i < 3; ++i) broadcast(wire::LeaveFrame{installed_ring});
  cancel_all_timers();
  left = true;
}

bool Ring::Impl::heard_recently(NodeId n) const {
  if (n == me) return true;
  auto it = last_heard.find(n);
  return it != last_heard.end() && it->second + s.consensus / 2 >= now;
}

NodeSet Ring::Impl::heard_recently() const {
  NodeSet out{me};
  for (const auto& [n, at] : last_heard) {
    if (at + s.consensus / 2 >= now) out.insert(n);
  }
  return out;
}

std::vector<NodeId> Ring::Impl::current_members() const {
  return std::visit(
      [&](const auto& st) -> std::vector<NodeId> {
        using T = std::decay_t<decltype(st)>;
        if constexpr (std::is_same_v<T, Operational>) return st.ring.members;
        if constexpr (std::is_same_v<T, Recovery>) return st.ring.members;
        if constexpr (std::is_same_v<T, Commit>) {
          std::vector<NodeId> out;
          for (const auto& m : st.token.members) out.push_back(m.node);
          return out;
        }
        if constexpr (std::is_same_v<T, Gather>) return sorted(st.proc);
      },
      state);
}

std::uint64_t Ring::Impl::member_incarnation(NodeId n) const {
  return std::visit(
      [&](const auto& st) -> std::uint64_t {
        using T = std::decay_t<decltype(st)>;
        const std::map<NodeId, std::uint64_t>* inc = nullptr;
        if constexpr (std::is_same_v<T, Operational>) inc = &st.ring.incarnations;
        if constexpr (std::is_same_v<T, Recovery>) inc = &st.ring.incarnations;
        if constexpr (std::is_same_v<T, Commit>) {
          for (const auto& m : st.token.members) {
            if (m.node == n) return m.incarnation;
          }
        }
        if (inc != nullptr) {
          auto it = inc->find(n);
          if (it != inc->end()) return it->second;
        }
        auto k = known_incarnation.find(n);
        return k == known_incarnation.end() ? 0 : k->second;
      },
      state);
}

bool Ring::Impl::separated_by_broken_link(const std::vector<NodeId>& mine,
                                          const std::vector<NodeId>& theirs) const {
  for (const auto& p : broken) {
    if ((contains(mine, p.from) && contains(theirs, p.to)) ||
        (!faults.merge_rule_one_way && contains(theirs, p.from) && contains(mine, p.to))) {
      return true;
    }
  }
  return false;
}

// Merge rule for one-way links: never disturb a working ring to merge with nodes that a recorded
// broken link separates from it — unless this very frame proves the link healed.
bool Ring::Impl::may_merge_with(NodeId from, const std::vector<NodeId>& theirs) const {
  if (healed_from == from) return true;
  return !separated_by_broken_link(current_members(), theirs);
}

void Ring::Impl::absorb_links(NodeId from, const wire::JoinFrame& j) {
  // `from` hears everyone it lists: those links work.
  for (NodeId y : j.heard) broken.erase(wire::LinkPair{y, from});
}

const char* Ring::Impl::state_name() const {
  if (left) return "left";
  return std::visit(
      [](const auto& st) {
        using T = std::decay_t<decltype(st)>;
        if constexpr (std::is_same_v<T, Gather>) return "gather";
        if constexpr (std::is_same_v<T, Commit>) return "commit";
        if constexpr (std::is_same_v<T, Recovery>) return "recovery";
        if constexpr (std::is_same_v<T, Operational>) return "operational";
      },
      state);
}

namespace {
void check_log(const Log& log, NodeId me, bool past_aru_allowed) {
  VIGIL_ASSERT(contains(log.members, me));
  VIGIL_ASSERT(std::is_sorted(log.members.begin(), log.members.end()));
  VIGIL_ASSERT(log.gc <= log.aru);
  VIGIL_ASSERT(log.aru <= log.high);
  VIGIL_ASSERT(log.gc <= log.delivered);
  if (!past_aru_allowed) VIGIL_ASSERT(log.delivered <= log.aru);
  VIGIL_ASSERT(log.store.empty() || log.store.begin()->first > log.gc);
  VIGIL_ASSERT(log.store.count(log.aru + 1) == 0);
}
}  // namespace

void Ring::Impl::check_invariants() const {
  if (left || !started) return;
  VIGIL_ASSERT(std::is_partitioned(pending.begin(), pending.end(),
                                   [](const Pending& p) { return p.sync_for.has_value(); }));
  const bool loose = faults.deliver_past_aru;
  std::visit(
      [&](const auto& st) {
        using T = std::decay_t<decltype(st)>;
        if constexpr (std::is_same_v<T, Gather>) {
          check_log(st.old, me, loose);
          VIGIL_ASSERT(st.proc.count(me) == 1);
          VIGIL_ASSERT(st.fail.count(me) == 0);
          VIGIL_ASSERT(
              std::includes(st.proc.begin(), st.proc.end(), st.fail.begin(), st.fail.end()));
        } else if constexpr (std::is_same_v<T, Commit>) {
          check_log(st.old, me, loose);
          VIGIL_ASSERT(!st.token.members.empty());
        } else if constexpr (std::is_same_v<T, Recovery>) {
          check_log(st.old, me, loose);
          check_log(st.ring, me, loose);
          VIGIL_ASSERT(st.transitional.count(me) == 1);
          VIGIL_ASSERT(st.slot.next == successor(st.ring.members, me));
        } else if constexpr (std::is_same_v<T, Operational>) {
          check_log(st.ring, me, loose);
          VIGIL_ASSERT(st.slot.next == successor(st.ring.members, me));
          VIGIL_ASSERT(st.ring.ring == installed_ring);
          VIGIL_ASSERT(!st.slot.parked || timers[static_cast<int>(Timer::TokenHold)].has_value());
          VIGIL_ASSERT(timers[static_cast<int>(Timer::TokenLoss)].has_value());
        }
      },
      state);
}

// ---------------------------------------------------------------- public face
Ring::Ring(NodeId me, const TotemSettings& settings, Rng rng, std::uint64_t ring_seq_floor)
    : impl_(std::make_unique<Impl>(me, settings, std::move(rng), ring_seq_floor)) {}
Ring::Ring(const Ring& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Ring& Ring::operator=(const Ring& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Ring::Ring(Ring&&) noexcept = default;
Ring& Ring::operator=(Ring&&) noexcept = default;
Ring::~Ring() = default;

Effects Ring::step(const Input& input) {
  return impl_->step(input);
}
void Ring::check_invariants() const {
  impl_->check_invariants();
}
NodeId Ring::id() const {
  return impl_->me;
}
const char* Ring::state_name() const {
  return impl_->state_name();
}
bool Ring::operational() const {
  return !impl_->left && std::holds_alternative<Operational>(impl_->state);
}
RingId Ring::ring_id() const {
  return impl_->installed_ring;
}
std::vector<NodeId> Ring::members() const {
  return impl_->installed_members;
}
std::size_t Ring::backlog() const {
  return impl_->pending.size();
}
const RingStats& Ring::stats() const {
  return impl_->stats;
}
std::optional<Seq> Ring::held_through(RingId ring) const {
  if (impl_->left) return std::nullopt;
  return std::visit(
      [&](const auto& st) -> std::optional<Seq> {
        using T = std::decay_t<decltype(st)>;
        if constexpr (std::is_same_v<T, Operational> || std::is_same_v<T, Recovery>) {
          if (st.ring.ring == ring) return st.ring.aru;
        }
        if constexpr (!std::is_same_v<T, Operational>) {
          if (st.old.ring == ring) return st.old.aru;
        }
        return std::nullopt;
      },
      impl_->state);
}
std::vector<std::pair<NodeId, NodeId>> Ring::broken_links() const {
  std::vector<std::pair<NodeId, NodeId>> out;
  for (const auto& p : impl_->broken) out.emplace_back(p.from, p.to);
  return out;
}
void Ring::inject(const InjectedFaults& faults) {
  impl_->faults = faults;
}

}  // namespace vigil::totem
