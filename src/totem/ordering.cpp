// Ordering: the token (sequence numbers, aru, retransmission requests, flow control, parking an
// idle token), agreed and safe delivery, recovery of the old ring's messages, and installing a
// new ring with its transitional and regular configuration changes.
#include <algorithm>

#include "totem/ring_impl.h"

namespace vigil::totem {

namespace {
constexpr std::size_t kMaxRtr = 256;

std::vector<NodeId> minus(const std::vector<NodeId>& a, const NodeSet& b) {
  std::vector<NodeId> out;
  for (NodeId n : a) {
    if (b.count(n) == 0) out.push_back(n);
  }
  return out;
}
}  // namespace

// A message (or token) from further round the ring proves the successor got our token.
void Ring::Impl::note_progress(Seq seq) {
  if (outbound.active && seq > outbound.seq) {
    outbound.active = false;
    cancel(Timer::TokenRetransmit);
  }
}

// ---------------------------------------------------------------- multicast messages
void Ring::Impl::on(Gather& g, const wire::McastFrame& f, const wire::Header& h) {
  (void)h;
  if (f.msg.ring == g.old.ring && !f.msg.recovered) g.old.insert(f.msg);
}

void Ring::Impl::on(Commit& c, const wire::McastFrame& f, const wire::Header& h) {
  // The old ring's messages are frozen as our commit-token entry declared them: a late original
  // reaching one member only would leave the members with different sets.
  (void)c, (void)f, (void)h;
}

void Ring::Impl::on(Recovery& r, const wire::McastFrame& f, const wire::Header& h) {
  (void)h;
  // Old-ring messages count only as they were when recovery began, each carried through the new
  // ring: a late original arriving at one member alone would leave the members with different sets.
  if (f.msg.ring == r.ring.ring) {
    note_progress(f.msg.seq);
    if (f.msg.recovered) store_recovered(r.old, f.msg);
    r.ring.insert(f.msg);
  }
}

void Ring::Impl::on(Operational& o, const wire::McastFrame& f, const wire::Header& h) {
  (void)h;
  // Messages of other rings never start a merge here: merge-detect frames carry the membership
  // the one-way-link rule needs.
  if (f.msg.ring != o.ring.ring) return;
  note_progress(f.msg.seq);
  if (o.ring.insert(f.msg)) deliver_agreed(o.ring, false);
}

void Ring::Impl::store_recovered(Log& old, const Message& wrapper) {
  auto inner = wire::decode_message(wrapper.payload);
  if (inner && inner->ring == old.ring) old.insert(std::move(*inner));
}

// ---------------------------------------------------------------- hold cancel
void Ring::Impl::on(Gather& g, const wire::HoldCancelFrame& f, const wire::Header& h) {
  (void)g, (void)f, (void)h;
}
void Ring::Impl::on(Commit& c, const wire::HoldCancelFrame& f, const wire::Header& h) {
  (void)c, (void)f, (void)h;
}
void Ring::Impl::on(Recovery& r, const wire::HoldCancelFrame& f, const wire::Header& h) {
  (void)r, (void)f, (void)h;
}
void Ring::Impl::on(Operational& o, const wire::HoldCancelFrame& f, const wire::Header& h) {
  if (f.ring == o.ring.ring && o.ring.is_member(h.sender)) release_parked(o);
}

// ---------------------------------------------------------------- the token
void Ring::Impl::on(Gather& g, const wire::TokenFrame& t, const wire::Header& h) {
  (void)g, (void)t, (void)h;  // a token of a ring we abandoned
}
void Ring::Impl::on(Commit& c, const wire::TokenFrame& t, const wire::Header& h) {
  (void)c, (void)t, (void)h;  // cannot be ours: we have not passed rotation 2 yet
}

void Ring::Impl::on(Recovery& r, const wire::TokenFrame& t, const wire::Header& h) {
  (void)h;
  if (t.ring != r.ring.ring || t.token_seq <= r.slot.last_token_seq) return;
  r.token_started = true;
  wire::TokenFrame tok = t;
  const auto n = static_cast<std::uint32_t>(r.ring.members.size());
  if (tok.clean_hops >= n) {
    // A whole rotation found every member holding every recovered message, with nothing left
    // to send: the old ring's messages are exchanged; install the new ring and go on as usual.
    install(r);
    auto& o = std::get<Operational>(state);
    on(o, t, h);
    return;
  }
  const Visit v = visit_token(r.ring, r.slot, tok, &r.resend, false);
  const bool clean = v.sent == 0 && r.resend.empty() && tok.rtr.empty() && tok.aru == tok.seq;
  tok.clean_hops = clean ? tok.clean_hops + 1 : 0;
  forward_token(r.slot, std::move(tok));
}

void Ring::Impl::on(Operational& o, const wire::TokenFrame& t, const wire::Header& h) {
  (void)h;
  if (t.ring != o.ring.ring || t.token_seq <= o.slot.last_token_seq) return;
  if (o.slot.received_at) {
    stats.last_token_rotation = now - *o.slot.received_at;
    ++stats.token_rotations;
  }
  o.slot.received_at = now;
  wire::TokenFrame tok = t;
  // Keep counting hops past installation: at 2 × members every member has installed.
  const auto settled = static_cast<std::uint32_t>(2 * o.ring.members.size());
  tok.clean_hops = std::min(tok.clean_hops + 1, settled);
  const Visit v = visit_token(o.ring, o.slot, tok, nullptr, false);
  deliver_agreed(o.ring, false);
  o.ring.collect(std::min(o.ring.safe, o.ring.delivered));
  const bool idle = v.sent == 0 && pending.empty() && tok.rtr.empty() && tok.aru == tok.seq &&
                    tok.backlog == 0 && tok.clean_hops >= settled;
  forward_or_park(o, std::move(tok), idle);
}

// One visit of the token: answer retransmission requests, ask for what we miss, send new
// messages within the flow-control window, lower or raise the aru, learn what is safe.
Ring::Impl::Visit Ring::Impl::visit_token(Log& log, TokenSlot& slot, wire::TokenFrame& tok,
                                          std::deque<Message>* resend, bool revisit) {
  Visit v;
  if (!revisit) {
    ++stats.tokens_received;
    slot.last_token_seq = tok.token_seq;
    outbound.active = false;
    cancel(Timer::TokenRetransmit);
    arm(Timer::TokenLoss, now + s.token);
  }
  log.high = std::max(log.high, tok.seq);
  int budget = s.max_messages;
  // Retransmission on request.
  std::vector<Seq> still;
  for (Seq q : tok.rtr) {
    const Message* m = log.find(q);
    if (m != nullptr && budget > 0) {
      broadcast(wire::McastFrame{*m});
      ++stats.retransmitted;
      --budget;
    } else {
      still.push_back(q);
    }
  }
  tok.rtr = std::move(still);
  for (Seq q = log.aru + 1; q <= tok.seq && tok.rtr.size() < kMaxRtr; ++q) {
    if (log.store.count(q) == 0 && std::find(tok.rtr.begin(), tok.rtr.end(), q) == tok.rtr.end()) {
      tok.rtr.push_back(q);
    }
  }
  // Flow control: at most max_messages per visit and window_size per rotation, all members.
  tok.fcc -= std::min(tok.fcc, slot.sent_last_visit);
  const int window_left = s.window_size - static_cast<int>(tok.fcc);
  const int allowed = std::max(0, std::min(budget, window_left));
  while (static_cast<int>(v.sent) < allowed) {
    Message m;
    if (resend != nullptr) {
      if (resend->empty()) break;
      m.recovered = true;
      m.payload = wire::encode_message(resend->front());
      resend->pop_front();
    } else {
      if (pending.empty()) break;
      m.safe = pending.front().safe;
      m.payload = std::move(pending.front().payload);
      pending.pop_front();
    }
    send_message(log, tok, std::move(m));
    ++v.sent;
  }
  tok.fcc += v.sent;
  slot.sent_last_visit = revisit ? slot.sent_last_visit + v.sent : v.sent;
  const auto backlog =
      static_cast<std::uint32_t>(resend != nullptr ? resend->size() : pending.size());
  tok.backlog = tok.backlog - std::min(tok.backlog, slot.backlog_contrib) + backlog;
  slot.backlog_contrib = backlog;
  // The aru: whoever misses messages lowers it and owns it until it catches up.
  if (log.aru < tok.aru || tok.aru_id == me || tok.aru_id == 0) {
    tok.aru = log.aru;
    tok.aru_id = tok.aru == tok.seq ? 0 : me;
  }
  // Safe: the aru stayed at or above a message for two visits, so every member holds it.
  if (!revisit) {
    log.safe = std::max(log.safe, std::min(tok.aru, slot.prev_aru));
    slot.prev_aru = tok.aru;
  }
  return v;
}

void Ring::Impl::send_message(Log& log, wire::TokenFrame& tok, Message m) {
  m.ring = log.ring;
  m.seq = ++tok.seq;
  m.origin = me;
  broadcast(wire::McastFrame{m});
  log.insert(std::move(m));
}

void Ring::Impl::forward_token(TokenSlot& slot, wire::TokenFrame tok) {
  tok.token_seq += 1;
  if (std::holds_alternative<Operational>(state)) ++stats.tokens_forwarded;
  outbound = Outbound{encode(tok), slot.next, tok.seq, true};
  fx->frames.push_back(Frame{slot.next, outbound.bytes});
  arm(Timer::TokenRetransmit, now + s.token_retransmit);
}

// Token hold: on an idle ring the representative keeps the token for `hold` ms instead of
// spinning it; a Send or a member's hold-cancel releases it early. Never while a member may still
// be recovering: it needs the token to install.
void Ring::Impl::forward_or_park(Operational& o, wire::TokenFrame tok, bool idle) {
  if (idle && o.ring.ring.rep == me) {
    o.slot.parked = std::move(tok);
    arm(Timer::TokenHold, now + s.hold);
    return;
  }
  forward_token(o.slot, std::move(tok));
}

void Ring::Impl::release_parked(Operational& o) {
  if (!o.slot.parked) return;
  wire::TokenFrame tok = std::move(*o.slot.parked);
  o.slot.parked.reset();
  cancel(Timer::TokenHold);
  visit_token(o.ring, o.slot, tok, nullptr, true);
  deliver_agreed(o.ring, false);
  forward_token(o.slot, std::move(tok));
}

// Agreed order: deliver every message up to the aru in sequence; a safe message waits until
// every member is known to hold it.
void Ring::Impl::deliver_agreed(Log& log, bool transitional) {
  while (true) {
    Seq next = log.delivered + 1;
    if (next > log.aru) {
      if (!faults.deliver_past_aru) return;
      // Injected bug: jump over a missing message.
      auto it = log.store.upper_bound(log.delivered);
      if (it == log.store.end()) return;
      next = it->first;
    }
    const Message* m = log.find(next);
    if (m == nullptr) return;
    if (m->safe && next > log.safe) return;
    log.delivered = next;
    if (!m->recovered) emit_delivery(*m, transitional);
  }
}

void Ring::Impl::emit_delivery(const Message& m, bool transitional) {
  fx->events.push_back(Delivery{m.origin, m.ring, m.seq, transitional, m.safe, m.payload});
}

// ---------------------------------------------------------------- recovery
void Ring::Impl::enter_recovery(Log old, NodeSet proc, NodeSet fail,
                                const wire::CommitFrame& full) {
  cancel_all_timers();
  Recovery r;
  r.ring.ring = full.ring;
  for (const auto& m : full.members) {
    r.ring.members.push_back(m.node);
    r.ring.incarnations[m.node] = m.incarnation;
  }
  r.slot.next = successor(r.ring.members, me);
  r.proc = std::move(proc);
  r.fail = std::move(fail);
  // My transitional group: the new members coming from my old ring — the same incarnation that
  // was in it, not a restart naming a ring like it. Between them, every old message above the
  // lowest aru is sent again through the new ring, so all hold the same set.
  Seq low = old.aru, top_aru = old.aru;
  NodeId top_holder = me;
  for (const auto& m : full.members) {
    const auto was = old.incarnations.find(m.node);
    if (m.old_ring != old.ring || was == old.incarnations.end() || was->second != m.incarnation)
      continue;
    r.transitional.insert(m.node);
    low = std::min(low, m.aru);
    if (m.aru > top_aru || (m.aru == top_aru && m.node < top_holder)) {
      top_aru = m.aru;
      top_holder = m.node;
    }
  }
  if (!faults.skip_recovery) {
    for (auto it = old.store.upper_bound(low); it != old.store.end(); ++it) {
      // Below the best aru one member (the one holding most) resends; above it, all who hold.
      if (it->first <= top_aru && top_holder != me) continue;
      r.resend.push_back(it->second);
    }
  }
  r.old = std::move(old);
  state = std::move(r);
  arm(Timer::TokenLoss, now + s.token);
}

void Ring::Impl::start_token(Recovery& r) {
  r.token_started = true;
  outbound.active = false;
  cancel(Timer::TokenRetransmit);
  wire::TokenFrame tok;
  tok.ring = r.ring.ring;
  tok.token_seq = 1;
  r.slot.last_token_seq = 0;
  on(r, tok, wire::Header{me, incarnation});
}

// Extended virtual synchrony: deliver the old ring's messages that can still be ordered there,
// then the transitional configuration (the survivors from the old ring) and the messages past a
// hole in it, then the new ring's regular configuration.
void Ring::Impl::install(Recovery& r) {
  Log& old = r.old;
  const bool had_config = ever_installed && old.ring == installed_ring;
  if (had_config) {
    deliver_agreed(old, false);
    ConfigChange trans;
    trans.kind = ConfigChange::Kind::Transitional;
    trans.ring = old.ring;
    trans.members = sorted(r.transitional);
    for (NodeId n : minus(old.members, r.transitional)) {
      (left_nodes.count(n) != 0 ? trans.left : trans.failed).push_back(n);
    }
    fx->events.push_back(std::move(trans));
    for (auto it = old.store.upper_bound(old.delivered); it != old.store.end(); ++it) {
      emit_delivery(it->second, true);
    }
  }
  ConfigChange regular;
  regular.kind = ConfigChange::Kind::Regular;
  regular.ring = r.ring.ring;
  regular.members = r.ring.members;
  regular.joined = minus(r.ring.members, r.transitional);
  fx->events.push_back(std::move(regular));

  installed_ring = r.ring.ring;
  installed_members = r.ring.members;
  ever_installed = true;
  // Rule S2: the layer above syncs again for this ring.
  std::erase_if(pending,
                [&](const Pending& p) { return p.sync_for && *p.sync_for != installed_ring; });
  left_nodes.clear();
  std::erase_if(broken, [&](const wire::LinkPair& p) {
    return r.ring.is_member(p.from) && r.ring.is_member(p.to);
  });
  ++stats.rings_installed;

  Operational o;
  o.ring = std::move(r.ring);
  o.slot = std::move(r.slot);
  // Recovered messages occupy the start of the new ring's order and are never delivered again.
  state = std::move(o);
  auto& op = std::get<Operational>(state);
  deliver_agreed(op.ring, false);
  cancel_all_timers();
  arm(Timer::TokenLoss, now + s.token);
  // Merge detection duty rotates: each member announces the ring every members × merge ms, one
  // after another, so a partition hears some member every `merge` ms and, within a rotation,
  // every member — which is what lets a node notice that a link it saw broken works again.
  const auto index =
      std::find(op.ring.members.begin(), op.ring.members.end(), me) - op.ring.members.begin();
  arm(Timer::Merge, now + s.merge * (index + 1));
}

}  // namespace vigil::totem
