#include "node/node.h"

#include <algorithm>
#include <iterator>

namespace vigil::node {

namespace {

std::string join_ids(const std::vector<NodeId>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

void log(Output& out, Level level, Subsystem subsystem, std::string text) {
  out.logs.push_back(LogEvent{level, subsystem, std::move(text)});
}

const std::string& group_of(const groups::GroupEvent& e) {
  return std::visit([](const auto& v) -> const std::string& { return v.group; }, e);
}

}  // namespace

std::string ring_text(const totem::RingId& ring) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string seq;
  for (auto v = ring.seq; v != 0 || seq.empty(); v >>= 4) seq.insert(seq.begin(), kHex[v & 15]);
  return std::to_string(ring.rep) + "." + seq;
}

const char* to_string(Subsystem subsystem) {
  switch (subsystem) {
    case Subsystem::Totem:
      return "TOTEM";
    case Subsystem::Quorum:
      return "QUORUM";
    case Subsystem::Cpg:
      return "CPG";
    case Subsystem::Main:
      return "MAIN";
    case Subsystem::Cib:
      return "CIB";
    case Subsystem::Controller:
      return "CONTROLLER";
  }
  return "MAIN";
}

Node::Node(Settings settings, Rng rng)
    : self_(settings.self),
      totem_settings_(settings.totem.resolved()),
      ring_(settings.self, totem_settings_, rng, settings.ring_seq_floor),
      groups_(settings.self),
      quorum_(std::move(settings.quorum)),
      nodelist_(std::move(settings.nodelist)) {
  if (settings.cib) cib_.emplace(settings.self, std::move(*settings.cib));
  if (settings.controller && cib_)
    controller_.emplace(settings.self, std::move(*settings.controller), nodelist_);
  view_.quorate = quorate();
  if (settings.watchdog_timeout)
    lease_.emplace(LeaseTimes::of(totem_settings_, *settings.watchdog_timeout));
}

void Node::inject(const InjectedFaults& faults) {
  groups_.inject(groups::InjectedFaults{faults.no_join_barrier});
  if (faults.ack_before_durable && cib_) cib_->inject_ack_before_durable();
  if (faults.stale_cib_wins && cib_) cib_->inject_stale_cib_wins();
  if (faults.no_write_retry && cib_) cib_->inject_no_write_retry();
  if (faults.ack_failed_write && cib_) cib_->inject_ack_failed_write();
}

Output Node::step(const Input& input) {
  Output out;
  now_ = std::visit([](const auto& in) { return in.now; }, input);
  std::visit(
      [&](const auto& in) {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, Start>) {
          ring_step(totem::Start{in.now}, out);
          if (lease_)
            out.timers.push_back(
                TimerCommand{Timer::WatchdogFeed, in.now + lease_->times().feed_interval});
        } else if constexpr (std::is_same_v<T, FrameReceived>) {
          ring_step(totem::FrameReceived{in.from, in.bytes, in.now}, out);
        } else if constexpr (std::is_same_v<T, TimerFired>) {
          timer_fired(in, out);
        } else if constexpr (std::is_same_v<T, PeerUnreachable>) {
          unreachable(in, out);
        } else if constexpr (std::is_same_v<T, Leave>) {
          controller_leave(out);
          cib_leave(out);
          ring_step(totem::Leave{in.now}, out);
        } else if constexpr (std::is_same_v<T, GroupJoin>) {
          request(groups_.join(in.group, in.pid), out);
        } else if constexpr (std::is_same_v<T, GroupSend>) {
          request(groups_.message(in.group, in.pid, in.data), out);
        } else if constexpr (std::is_same_v<T, GroupLeave>) {
          request(groups_.leave(in.group, in.pid, in.reason), out);
        } else if constexpr (std::is_same_v<T, CibCommit>) {
          if (!cib_) {
            out.replies.push_back(CibReply{in.ticket, fail("this node keeps no CIB")});
          } else {
            cib_take(cib_->commit(in), out);
          }
        } else if constexpr (std::is_same_v<T, NodelistPropose>) {
          propose(in, out);
        } else if constexpr (std::is_same_v<T, DeviceVote>) {
          device_vote(in, out);
        } else if constexpr (std::is_same_v<T, AgentResult> || std::is_same_v<T, ControllerTick> ||
                             std::is_same_v<T, FenceRequest> ||
                             std::is_same_v<T, ShutdownRequest>) {
          controller_input(input, out);
        } else {
          static_assert(std::is_same_v<T, Durable>, "every input is handled");
          VIGIL_ASSERT(cib_.has_value());  // the shell reports only what it was asked to write
          cib_take(cib_->durable(in), out);
        }
      },
      input);
  drain(out);
  if (lease_) lease_view(out);
  while (!controller_inbox_.empty()) {
    controller_run(out);
    if (lease_) lease_view(out);
  }
  if (cib_) {
    out.persist_cib = cib_->persist();
    if (cib_->retry_due() != cib_retry_armed_) {
      cib_retry_armed_ = cib_->retry_due();
      out.timers.push_back(TimerCommand{Timer::CibRetry, cib_retry_armed_});
    }
  }
#ifndef NDEBUG
  check_invariants();
#endif
  return out;
}

// Self-addressed frames and payloads sent while stepping go round within this step.
void Node::drain(Output& out) {
  while (!pending_.empty()) {
    auto next = std::move(pending_.front());
    pending_.pop_front();
    if (next.self_frame) {
      ring_step(totem::FrameReceived{self_, next.bytes, now_}, out);
    } else {
      ring_step(totem::Send{.payload = std::move(next.bytes), .now = now_, .sync = next.sync}, out);
    }
  }
}

void Node::request(Result<Bytes> payload, Output& out) {
  if (!payload.ok()) {
    out.refused = payload.error();
    return;
  }
  broadcast(Channel::Groups, *payload);
}

// A part's own message to its group; a refusal is logged as `failure` says.
void Node::send_to_group(const char* group, std::uint32_t pid, std::string_view body,
                         LogEvent failure, Output& out) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(body.data());
  auto sent = groups_.message(group, pid, std::span<const std::uint8_t>(data, body.size()));
  if (sent.ok()) return broadcast(Channel::Groups, *sent);
  failure.text = std::string("cannot send to ") + group + ": " + sent.error().message;
  out.logs.push_back(std::move(failure));
}

void Node::broadcast(Channel channel, std::span<const std::uint8_t> body, bool sync) {
  Bytes payload{static_cast<std::uint8_t>(channel)};
  payload.insert(payload.end(), body.begin(), body.end());
  pending_.push_back(Pending{false, std::move(payload), sync});
}

// Within one Ring step a token is taken before it is sent on; a ring installed in the step has
// told the lease already (changed()).
void Node::ring_step(const totem::Input& input, Output& out) {
  const totem::RingStats before = ring_.stats();
  take(ring_.step(input), out);
  if (!lease_) return;
  const auto& after = ring_.stats();
  if (after.tokens_received != before.tokens_received)
    lease_->received(ring_.ring_id(), ring_.operational(), ring_.members(), now_);
  if (after.tokens_forwarded != before.tokens_forwarded)
    lease_->forwarded(ring_.ring_id(), now_);
}

// Rule 2: the feeding timer's step, and only it, feeds the watchdog while the lease holds.
void Node::feed(Output& out) {
  if (!lease_->feeds(now_)) return;
  out.feed_watchdog = true;
  out.timers.push_back(TimerCommand{Timer::WatchdogFeed, now_ + lease_->times().feed_interval});
}

// Which of lease.h's rules counted `id` as reset at `by`, for the log.
std::string Node::reset_reason(NodeId id, Millis by) const {
  const auto& t = lease_->times();
  if (auto refused = lease_->refused_at(id); refused && by == *refused + t.refused_wait)
    return "lease.h Rule 5: " + std::to_string(t.refused_wait) +
           " ms after its host refused a datagram, as it does once its vigild is dead";
  return "lease.h Rule 3: " + std::to_string(t.wait) + " ms after the ring last vouched for it";
}

// The services hear of a lost lease and of lost nodes now provably reset (Rule 3); the earliest
// reset still to come is woken for.
void Node::lease_view(Output& out) {
  const bool was_leased = view_.leased;
  const auto was_reset = view_.reset;
  lease_->feeds(now_);  // a lease that ran out is lost now, whether or not the feed timer fired
  view_.leased = lease_->state() != LeaseState::Lost;
  std::erase_if(view_.reset, [&](NodeId id) {
    return std::binary_search(view_.members.begin(), view_.members.end(), id);
  });
  std::optional<Millis> next;
  // Every node seen, and every node of the nodelist: a node this process never saw in a ring (it
  // restarted after that node was lost) may still have to be counted reset before its resources
  // start elsewhere. Rule 3 counts such a node from the floor.
  std::vector<NodeId> known = seen_;
  for (const auto& listed : nodelist_)
    if (std::find(known.begin(), known.end(), listed.id) == known.end()) known.push_back(listed.id);
  for (auto id : known) {
    if (id == self_ || std::binary_search(view_.members.begin(), view_.members.end(), id) ||
        std::find(view_.reset.begin(), view_.reset.end(), id) != view_.reset.end())
      continue;
    const auto by = lease_->reset_by(id, now_);
    if (by && now_ >= *by) {
      view_.reset.push_back(id);
      log(out, Level::Info, Subsystem::Main,
          "node " + std::to_string(id) + " is reset by its watchdog by now (" +
              reset_reason(id, *by) + ")");
    } else if (by) {
      next = std::min(next.value_or(*by), *by);
    }
  }
  std::sort(view_.reset.begin(), view_.reset.end());
  if (next) out.timers.push_back(TimerCommand{Timer::LeaseExpiry, *next});
  if (was_leased && !view_.leased)
    log(out, Level::Warn, Subsystem::Main,
        "watchdog lease lost: " + lease_->lost_because() +
            "; the watchdog is no longer fed, so it resets this node within " +
            std::to_string(lease_->times().watchdog_timeout) + " ms; stopping its resources");
  if (was_leased != view_.leased || was_reset != view_.reset) tell_view(false, out);
}

void Node::take(totem::Effects fx, Output& out) {
  if (fx.persist_ring_seq)
    out.persist_ring_seq = std::max(out.persist_ring_seq.value_or(0), *fx.persist_ring_seq);
  for (const auto& t : fx.timers)
    out.timers.push_back(TimerCommand{static_cast<Timer>(t.timer), t.deadline});
  for (auto& f : fx.frames) {
    if (f.to && *f.to == self_) {
      pending_.push_back(Pending{true, std::move(f.bytes)});
    } else {
      out.frames.push_back(std::move(f));
    }
  }
  for (const auto& e : fx.events) {
    if (const auto* d = std::get_if<totem::Delivery>(&e)) {
      event_ring_ = d->config;
      event_transitional_ = d->transitional;
      delivered(*d, out);
    } else {
      const auto& c = std::get<totem::ConfigChange>(e);
      event_ring_ = c.ring;
      event_transitional_ = c.kind == totem::ConfigChange::Kind::Transitional;
      changed(c, now_, out);
    }
  }
  std::move(fx.events.begin(), fx.events.end(), std::back_inserter(out.ring_events));
}

void Node::timer_fired(const TimerFired& t, Output& out) {
  if (t.timer == Timer::WatchdogFeed) {
    if (lease_) feed(out);
    return;
  }
  if (t.timer == Timer::LeaseExpiry) return;  // lease_view() looks at the lost nodes every step
  if (t.timer == Timer::Controller) {
    if (controller_) controller_take(controller_->tick(t.now, std::nullopt), out);
    return;
  }
  if (t.timer == Timer::FenceWait) {
    if (controller_) controller_take(controller_->fence_timer(t.now), out);
    return;
  }
  if (t.timer == Timer::CibRetry) {
    cib_retry_armed_.reset();
    if (cib_) cib_take(cib_->retry(t.now), out);
    return;
  }
  if (t.timer == Timer::Quorum) {
    if (!quorum_) return;
    const bool was = quorate();
    quorum_->tick(t.now);
    quorum_changed(was, false, out);
    return;
  }
  const auto before = ring_.stats().token_losses;
  ring_step(totem::TimerFired{static_cast<totem::Timer>(t.timer), t.now}, out);
  if (ring_.stats().token_losses == before) return;
  token_lost_ = true;
  log(out, Level::Info, Subsystem::Totem,
      "token lost: not received for " + std::to_string(totem_settings_.token) +
          " ms; a processor failed, forming a new membership (consensus timeout " +
          std::to_string(totem_settings_.consensus) + " ms)");
}

void Node::device_vote(const DeviceVote& v, Output& out) {
  if (!quorum_ || !quorum_->status().device) return;
  const bool was = quorate();
  const bool cast_before = quorum_->status().device->cast;
  quorum_->device(v.grant, v.now);
  const bool cast = quorum_->status().device->cast;
  if (cast != cast_before)
    log(out, Level::Info, Subsystem::Quorum,
        std::string("quorum device ") + (cast ? "casts its vote for" : "withdrew its vote from") +
            " this partition");
  quorum_changed(was, false, out);
}

// The Ring decides whether a refusal changes the membership (it ignores peers outside it and
// repeats); the line is logged when it does.
void Node::unreachable(const PeerUnreachable& p, Output& out) {
  if (lease_) lease_->refused(p.node, p.now);
  const auto before = ring_.stats().peers_unreachable;
  ring_step(totem::PeerUnreachable{p.node, p.now}, out);
  if (ring_.stats().peers_unreachable == before) return;
  refused_.insert(p.node);
  log(out, Level::Warn, Subsystem::Totem,
      "peer " + std::to_string(p.node) + " (" + p.where +
          ") unreachable: its totem port is closed, so its vigild is gone; processor failed, "
          "forming a new membership without it");
}

void Node::delivered(const totem::Delivery& d, Output& out) {
  if (d.payload.empty()) return;
  const std::span<const std::uint8_t> body(d.payload.data() + 1, d.payload.size() - 1);
  switch (static_cast<Channel>(d.payload[0])) {
    case Channel::Groups:
      fan_out(groups_.delivered(d.sender, body), out);
      return;
    case Channel::Quorum:
      if (!quorum_) return;
      if (auto r = quorum::decode_report(body); r.ok()) {
        const bool was = quorate();
        quorum_->peer(d.sender, *r);
        quorum_changed(was, false, out);
      } else {
        log(out, Level::Warn, Subsystem::Quorum,
            "from node " + std::to_string(d.sender) + ": " + r.error().message);
      }
      return;
    case Channel::Nodelist:
      nodelist_delivered(d.sender, body, out);
      return;
  }
  log(out, Level::Debug, Subsystem::Main,
      "ignoring a ring payload for unknown channel " + std::to_string(d.payload[0]) +
          " from node " + std::to_string(d.sender));
}

// The nodelist after `change`, judged by the list and the ring every member holds at this point.
Result<std::vector<ListedNode>> Node::after(const NodelistChange& change) const {
  if (nodelist_.empty())
    return fail("this cluster has no nodelist (its nodes are found by multicast): nothing to change");
  return apply_change(nodelist_, change, view_.members);
}

// Checked here first, so a plain mistake is answered at once; checked again by every member when
// it comes back in order, since other changes or a new ring may come first.
void Node::propose(const NodelistPropose& p, Output& out) {
  if (auto checked = after(p.change); !checked) {
    out.nodelist_replies.push_back(NodelistReply{p.change.ticket, checked.error()});
    return;
  }
  broadcast(Channel::Nodelist, encode_change(p.change));
}

void Node::nodelist_delivered(NodeId sender, std::span<const std::uint8_t> body, Output& out) {
  auto change = decode_change(body);
  if (!change) {
    log(out, Level::Warn, Subsystem::Main,
        "from node " + std::to_string(sender) + ": " + change.error().message);
    return;
  }
  auto list = after(*change);
  if (sender == self_)
    out.nodelist_replies.push_back(
        NodelistReply{change->ticket, list ? Result<void>{} : Result<void>(list.error())});
  if (!list) {
    log(out, Level::Warn, Subsystem::Main,
        "nodelist change from node " + std::to_string(sender) + " refused: " +
            list.error().message);
    return;
  }
  const bool added = change->kind == NodelistChange::Kind::Add;
  // A removal names the node by id only: its name is the old list's.
  const auto who = describe(added ? change->node : *find_listed(nodelist_, std::to_string(change->node.id)));
  nodelist_ = std::move(*list);
  // A removed node is out of the ring and no longer this cluster's: status stops listing it.
  if (!added) std::erase(seen_, change->node.id);
  std::string votes_text;
  if (quorum_) {
    std::vector<quorum::NodeVotes> votes;
    for (const auto& n : nodelist_) votes.push_back({n.id, n.votes});
    const bool was = quorate();
    quorum_->nodelist(std::move(votes));
    quorum_changed(was, false, out);
    votes_text = ", expected votes " + std::to_string(quorum_->status().expected_votes);
  }
  log(out, Level::Info, Subsystem::Main,
      "nodelist: " + who + (added ? " added" : " removed") + " (asked on node " +
          std::to_string(sender) + "); " + std::to_string(nodelist_.size()) + " node(s) listed" +
          votes_text);
  out.nodelist_changes.push_back(NodelistApplied{std::move(*change), nodelist_, sender == self_});
  if (controller_) controller_inbox_.emplace_back(nodelist_);
}

// Why the old ring's lost members are gone, as far as this node saw it: their port refused us,
// or the token timed out here; otherwise another member found out and we followed its Join.
void Node::log_failed(const std::vector<NodeId>& failed, Output& out) {
  std::vector<NodeId> closed, other;
  for (auto id : failed) (refused_.count(id) != 0 ? closed : other).push_back(id);
  if (!closed.empty())
    log(out, Level::Warn, Subsystem::Totem,
        "Node(s) " + join_ids(closed) + " failed (totem port closed)");
  if (other.empty()) return;
  log(out, Level::Warn, Subsystem::Totem,
      "Node(s) " + join_ids(other) + " failed (" +
          (token_lost_ ? "token lost" : "gone without a leave message") + ")");
}

void Node::changed(const totem::ConfigChange& c, Millis now, Output& out) {
  if (c.kind == totem::ConfigChange::Kind::Transitional) {
    fan_out(groups_.transitional(c.members, c.left), out);
    if (!c.left.empty())
      log(out, Level::Info, Subsystem::Totem,
          "Node(s) " + join_ids(c.left) + " left the ring cleanly");
    log_failed(c.failed, out);
    return;
  }
  refused_.clear();
  token_lost_ = false;
  view_.ring = c.ring;
  view_.members = c.members;
  std::sort(view_.members.begin(), view_.members.end());
  for (auto id : c.members) {
    if (std::find(seen_.begin(), seen_.end(), id) == seen_.end()) seen_.push_back(id);
  }
  log(out, Level::Info, Subsystem::Totem,
      "A new membership (" + ring_text(c.ring) + ") was formed. Members[" +
          std::to_string(c.members.size()) + "]: " + join_ids(c.members) +
          (c.joined.empty() ? "" : " joined: " + join_ids(c.joined)));
  fan_out(groups_.regular(c.members, groups::RingTag{c.ring.rep, c.ring.seq}), out);
  const bool was = quorate();
  if (quorum_) quorum_->membership(now, c.members);
  quorum_changed(was, true, out);
  cib_join(out);
  controller_join(out);
  if (lease_) lease_->installed(quorate(), c.members, !c.joined.empty(), now);
}

// Tells the peers this node's votequorum state when it changed (or after a membership change),
// logs a change of quorum, re-arms the last_man_standing window and tells the services.
void Node::quorum_changed(bool was_quorate, bool new_ring, Output& out) {
  if (quorum_) {
    const auto report = quorum_->report();
    if (new_ring || !last_report_ || report.quorate != last_report_->quorate ||
        report.expected_votes != last_report_->expected_votes ||
        report.waiting_for_all != last_report_->waiting_for_all) {
      last_report_ = report;
      broadcast(Channel::Quorum, quorum::encode_report(report));
    }
    out.timers.push_back(TimerCommand{Timer::Quorum, quorum_->wake_at()});
  }
  if (quorate() != was_quorate) {
    log(out, Level::Info, Subsystem::Quorum,
        quorate()
            ? "This node is within the primary component and will provide service."
            : "This node is within the non-primary component and will NOT provide any services.");
  }
  view_.quorate = quorate();
  if (lease_ && !new_ring && quorate() != was_quorate) lease_->quorum(quorate(), now_);
  if (quorate() != was_quorate || new_ring) tell_view(new_ring, out);
}

// Each group event goes to this node's members of its group; a member that just left still hears
// of its own leave, and that is its last event.
void Node::fan_out(const groups::Output& groups_out, Output& out) {
  // Join lists, the group layer's sync after a new ring: ahead of the ring's backlog.
  for (const auto& p : groups_out.send) broadcast(Channel::Groups, p, true);
  for (const auto& e : groups_out.events) {
    const auto& group = group_of(e);
    auto notice = [&](std::uint32_t pid, bool last) {
      if (cib_member(group, pid)) {
        if (!last) cib_take(cib_->event(e), out);
        return;
      }
      if (controller_member(group, pid)) {
        if (!last) controller_inbox_.emplace_back(e);
        return;
      }
      out.notices.push_back(GroupNotice{pid, e, last, event_ring_, event_transitional_});
    };
    const auto local = groups_.local_members(group);  // a CIB step may join or leave
    for (auto pid : local) notice(pid, false);
    const auto* change = std::get_if<groups::GroupChange>(&e);
    if (!change) continue;
    for (const auto& m : change->left) {
      if (m.node == self_) notice(m.pid, true);
    }
    log(out, Level::Debug, Subsystem::Cpg,
        "group " + group + ": " + std::to_string(change->members.size()) + " member(s) after " +
            groups::to_string(change->reason));
  }
}

void Node::check_invariants() const {
  ring_.check_invariants();
  if (cib_) cib_->check_invariants();
  if (controller_) controller_->check_invariants();
  VIGIL_ASSERT(controller_inbox_.empty());
  groups_.check_invariants();
  VIGIL_ASSERT(pending_.empty());
  VIGIL_ASSERT(std::is_sorted(view_.members.begin(), view_.members.end()));
  VIGIL_ASSERT(view_.members.empty() ||
               std::binary_search(view_.members.begin(), view_.members.end(), self_));
  VIGIL_ASSERT(view_.quorate == quorate());
  VIGIL_ASSERT(!lease_ || view_.leased == (lease_->state() != LeaseState::Lost));
  VIGIL_ASSERT(std::is_sorted(view_.reset.begin(), view_.reset.end()));
  for (auto id : view_.members)
    VIGIL_ASSERT(std::find(seen_.begin(), seen_.end(), id) != seen_.end());
}

}  // namespace vigil::node
