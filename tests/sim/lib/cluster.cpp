#include "cluster.h"

#include <algorithm>
#include <sstream>

#include "checker.h"
#include "cib_checker.h"
#include "cluster_node.h"
#include "stack_checker.h"
#include "totem/wire.h"

namespace vigil::sim {

using totem::Bytes;
using totem::Ring;
using totem::Timer;

totem::TotemSettings Options::default_settings() {
  totem::TotemSettings s;
  s.token = 1000;
  s.join = 50;
  s.merge = 200;
  return s;
}

namespace {
constexpr std::size_t kTypeAt = 3;  // a frame's type byte, after the magic and the version
const char* const kFaultNames[] = {"loss",  "dup",   "reorder", "partition", "oneway",
                                   "pause", "crash", "leave",   "kill",      "disk"};
constexpr unsigned kFaultCount = sizeof kFaultNames / sizeof kFaultNames[0];
static_assert(kAllFaults == (1U << kFaultCount) - 1);
}  // namespace

Result<unsigned> parse_faults(const std::string& text) {
  if (text == "all") return static_cast<unsigned>(kAllFaults);
  unsigned out = 0;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty() || item == "none") continue;
    bool found = false;
    for (unsigned i = 0; i < kFaultCount; ++i) {
      if (item == kFaultNames[i]) {
        out |= 1U << i;
        found = true;
      }
    }
    if (!found)
      return fail("unknown fault '" + item +
                  "' (known: loss,dup,reorder,partition,oneway,pause,crash,leave,kill,disk,all)");
  }
  return out;
}

std::string faults_to_string(unsigned faults) {
  std::string s;
  for (unsigned i = 0; i < kFaultCount; ++i) {
    if (faults & (1U << i)) s += (s.empty() ? "" : ",") + std::string(kFaultNames[i]);
  }
  return s.empty() ? "none" : s;
}

namespace {
std::string describe(const groups::GroupEvent& e) {
  if (const auto* m = std::get_if<groups::GroupMessage>(&e))
    return std::string(m->data.begin(), m->data.end());
  const auto& c = std::get<groups::GroupChange>(e);
  std::string s = std::string(groups::to_string(c.reason)) + " [";
  for (const auto& m : c.members) s += " " + std::to_string(m.node) + "/" + std::to_string(m.pid);
  return s + " ]";
}
}  // namespace

// ---------------------------------------------------------------- nodes and events

bool Cluster::Later::operator()(const Event& a, const Event& b) const {
  return a.at != b.at ? a.at > b.at : a.order > b.order;
}

Cluster::Cluster(Options options)
    : o_(std::move(options)),
      rng_(o_.seed),
      hangs_(o_.seed * 0x9E3779B97F4A7C15ULL + 0xA6E7),
      checker_(std::make_unique<Checker>()),
      stack_checker_(std::make_unique<StackChecker>(*checker_)) {
  VIGIL_ASSERT(o_.nodes >= 1 && o_.nodes <= 64);
  o_.resources = o_.resources && o_.layer == Layer::Stack;
  cib_checker_ = std::make_unique<CibChecker>(
      *checker_, CibChecker::Copies{[this](NodeId id) -> const cib::Cib* {
                                      const auto& n = *nodes_[id - 1];
                                      return n.alive && n.stack ? &n.stack->cib()->replica().current()
                                                                : nullptr;
                                    },
                                    [this](NodeId id) -> const cib::Cib* {
                                      return nodes_[id - 1]->disk_cib.get();
                                    },
                                    o_.nodes});
  checker_->set_holdings([this](NodeId id, totem::RingId r) -> std::optional<totem::Seq> {
    const Ring* ring = this->ring(id);
    return ring != nullptr ? ring->held_through(r) : std::nullopt;
  });
  for (int i = 0; i < o_.nodes; ++i) {
    auto n = std::make_unique<Node>();
    n->id = static_cast<NodeId>(i + 1);
    nodes_.push_back(std::move(n));
  }
  link_.assign(o_.nodes, std::vector<bool>(o_.nodes, true));
  group_.assign(o_.nodes, 0);
  o_.witness = o_.witness && o_.layer == Layer::Stack;
  if (o_.witness) {
    to_witness_up_.assign(o_.nodes, true);
    from_witness_up_.assign(o_.nodes, true);
    witness_.emplace(0);
  }
}

Cluster::~Cluster() = default;

const Verdict& Cluster::verdict() const {
  return checker_->verdict();
}

const Ring* Cluster::ring(NodeId node) const {
  const Node& n = *nodes_[node - 1];
  return n.alive ? n.running() : nullptr;
}

const node::Node* Cluster::stack(NodeId node) const {
  const Node& n = *nodes_[node - 1];
  return n.alive && n.stack ? &*n.stack : nullptr;
}

void Cluster::trace(const std::string& line) {
  if (o_.trace) *o_.trace << "t=" << now_ << " " << line << "\n";
}

void Cluster::schedule(Event e) {
  e.order = order_++;
  queue_.push(std::move(e));
}

bool Cluster::link_up(NodeId from, NodeId to) const {
  return link_[from - 1][to - 1] && group_[from - 1] == group_[to - 1];
}

void Cluster::transmit(NodeId from, NodeId to, std::shared_ptr<const Bytes> bytes) {
  if (from == to) {  // loopback: a one-node ring's token
    schedule(
        Event{now_, 0, Event::Kind::Frame, to, from, nodes_[to - 1]->generation, {}, bytes, {}});
    return;
  }
  if (!link_up(from, to) || rng_.chance(loss_)) return;
  const int copies = rng_.chance(dup_) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    Millis d = delay();
    if (rng_.chance(reorder_)) d += static_cast<Millis>(rng_.uniform(20)) + 1;
    schedule(Event{now_ + d,
                   0,
                   Event::Kind::Frame,
                   to,
                   from,
                   0,
                   {},
                   bytes,
                   {},
                   0,
                   nodes_[from - 1]->generation});
  }
}

Millis Cluster::delay() {
  return o_.latency_min +
         static_cast<Millis>(rng_.uniform(static_cast<std::uint64_t>(o_.latency_jitter) + 1));
}

// The host of a dead process answers a frame to it with a port unreachable, which travels back
// like any datagram (the link back must work; it can be lost) and reaches the sender only if the
// sending process still lives (the error belongs to its socket).
void Cluster::refuse(const Event& frame) {
  if (!link_up(frame.node, frame.from) || rng_.chance(loss_)) return;
  schedule(Event{now_ + delay(),
                 0,
                 Event::Kind::Refused,
                 frame.from,
                 frame.node,
                 frame.sender_generation,
                 {},
                 nullptr,
                 {}});
}

void Cluster::step(NodeId id, const totem::Input& input) {
  Node& n = *nodes_[id - 1];
  const Ring* ring = n.alive ? n.running() : nullptr;
  if (ring == nullptr) return;
  const char* before = o_.trace ? ring->state_name() : nullptr;
  // An operational node hearing another ring's announcement: what the merge rule looks at.
  const auto* frame = std::get_if<totem::FrameReceived>(&input);
  std::optional<Ring> was;
  if (o_.check && frame != nullptr && frame->bytes.size() > kTypeAt &&
      frame->bytes[kTypeAt] == static_cast<std::uint8_t>(totem::wire::Type::MergeDetect) &&
      ring->operational()) {
    was = *ring;
  }
  totem::Effects fx;
  if (n.stack) {
    fx = step_stack(id, std::visit(
                            [&](const auto& in) -> node::Input {
                              using T = std::decay_t<decltype(in)>;
                              if constexpr (std::is_same_v<T, totem::Start>) {
                                return node::Start{in.now};
                              } else if constexpr (std::is_same_v<T, totem::FrameReceived>) {
                                return node::FrameReceived{in.from, in.bytes, in.now};
                              } else if constexpr (std::is_same_v<T, totem::TimerFired>) {
                                return node::TimerFired{static_cast<node::Timer>(in.timer), in.now};
                              } else if constexpr (std::is_same_v<T, totem::Leave>) {
                                return node::Leave{in.now};
                              } else if constexpr (std::is_same_v<T, totem::PeerUnreachable>) {
                                return node::PeerUnreachable{in.node, "simulated", in.now};
                              } else {
                                static_assert(std::is_same_v<T, totem::Send>);
                                VIGIL_ASSERT(!"the stack's workload is group traffic");
                                return node::Start{in.now};
                              }
                            },
                            input));
  } else {
    fx = n.ring->step(input);
    n.ring->check_invariants();
  }
  if (was && !ring->operational()) check_merge_rule(*was, *ring, *frame, fx.frames);
  if (o_.trace && before != ring->state_name()) {
    trace("n" + std::to_string(id) + " " + before + " -> " + ring->state_name());
  }
  apply(id, std::move(fx));
}

// Steps the node core; its group events go to the stack checker, the rest comes back as the
// Ring's effects would (votequorum's timer is armed only for the witness's grant: the simulated
// cluster does not configure last_man_standing).
totem::Effects Cluster::step_stack(NodeId id, const node::Input& input) {
  Node& n = *nodes_[id - 1];
  node::Output out = n.stack->step(input);
  n.stack->check_invariants();
  note_barrier(id);
  if (o_.watchdog) watchdog_step(id, out);
  totem::Effects fx;
  fx.persist_ring_seq = out.persist_ring_seq;
  for (const auto& t : out.timers) {
    if (t.timer == node::Timer::Quorum && !o_.witness) {
      VIGIL_ASSERT(!t.deadline);
      continue;
    }
    fx.timers.push_back(totem::TimerCommand{static_cast<totem::Timer>(t.timer), t.deadline});
  }
  fx.frames = std::move(out.frames);
  // The Ring's deliveries carry the node's own payloads, not the workload's: the totem checkers
  // get the configuration changes, group agreement checks the order.
  for (auto& e : out.ring_events) {
    if (std::holds_alternative<totem::ConfigChange>(e)) fx.events.push_back(std::move(e));
  }
  for (const auto& notice : out.notices) {
    const auto* g = std::get_if<node::GroupNotice>(&notice);
    if (g == nullptr) continue;
    if (o_.trace)
      trace("n" + std::to_string(id) + "/" + std::to_string(g->pid) + " hears " +
            describe(g->event) + " in " + totem::to_string(g->ring) +
            (g->transitional ? " (transitional)" : ""));
    if (o_.check) stack_checker_->on_notice(id, *g);
  }
  if (out.refused)
    checker_->report("workload", "n" + std::to_string(id) + ": " + out.refused->message);
  cib_output(id, out);
  if (o_.check) check_disk(id);
  controller_output(id, out);
  if (o_.witness) {
    device_view(id);
    if (o_.check) check_sides(id);
  }
  return fx;
}

// A barrier opens with the ring's Regular configuration, in the step that installs it. A wait
// during which the ring stopped running (a new membership forming) is not the barrier's and is
// not counted.
void Cluster::note_barrier(NodeId id) {
  Node& n = *nodes_[id - 1];
  const auto awaiting = n.stack->groups().awaiting_join_lists();
  const bool operational = n.stack->ring().operational();
  if (n.barrier && awaiting == n.barrier->ring) {
    n.barrier->operational = n.barrier->operational && operational;
    return;
  }
  const auto& b = n.barrier;
  if (b && b->operational && !awaiting && now_ - b->since > longest_barrier_.took)
    longest_barrier_ =
        BarrierWait{now_ - b->since, id, totem::RingId{b->ring.rep, b->ring.seq}, b->since};
  n.barrier.reset();
  if (awaiting) n.barrier = Node::Barrier{*awaiting, now_, operational};
}

// The lease's effects on the host (see the header): feeding, holding, and the two checkers.
void Cluster::watchdog_step(NodeId id, const node::Output& out) {
  Node& n = *nodes_[id - 1];
  const auto& lease = *n.stack->lease();
  if (out.feed_watchdog) arm_watchdog(id, now_ + *o_.watchdog);
  if (lease.state() == node::LeaseState::Held) n.holds = true;
  const auto& view = n.stack->view();
  for (NodeId lost : view.reset) {
    if (!n.named_reset.insert(lost).second || !o_.check) continue;
    const Node& l = *nodes_[lost - 1];
    if (l.holds)
      checker_->report("watchdog", "n" + std::to_string(id) + " names n" + std::to_string(lost) +
                                       " reset at " + std::to_string(now_) +
                                       " while its host may still run resources (watchdog due " +
                                       (l.watchdog_due ? std::to_string(*l.watchdog_due) : "-") +
                                       ")");
  }
  for (auto it = n.named_reset.begin(); it != n.named_reset.end();) {
    const bool still = std::binary_search(view.reset.begin(), view.reset.end(), *it);
    it = still ? std::next(it) : n.named_reset.erase(it);
  }
  // Calm for the whole span: no loss, no one-way link, nothing healed, this node not paused.
  const Millis since = std::max({last_heal_, link_changed_, n.resumed_at});
  const bool calm = loss_ == 0 && since + lease.times().span < now_ &&
                    std::all_of(link_.begin(), link_.end(), [](const auto& row) {
                      return std::all_of(row.begin(), row.end(), [](bool up) { return up; });
                    });
  if (o_.check && calm && lease.lost_at() == now_ && view.quorate &&
      lease.lost_because().rfind("no token rotation", 0) == 0)
    checker_->report("lease", "n" + std::to_string(id) + " lost its lease at " +
                                  std::to_string(now_) + " in a quorate ring: " +
                                  lease.lost_because());
}

void Cluster::arm_watchdog(NodeId id, Millis due) {
  Node& n = *nodes_[id - 1];
  n.watchdog_due = due;
  const std::uint64_t arm = ++n.watchdog_arms;
  at(due + node::kResetLatency, [this, id, arm] {
    Node& host = *nodes_[id - 1];
    if (host.watchdog_arms != arm || !host.watchdog_due) return;
    trace("n" + std::to_string(id) + "'s watchdog resets its host");
    if (host.alive) stop(id, false);
    host_down(id);
    at(now_ + 1000, [this, id] {
      if (!nodes_[id - 1]->alive) restart(id);
    });
  });
}

// The host is off: its watchdog and whatever ran there are gone.
void Cluster::host_down(NodeId id) {
  Node& n = *nodes_[id - 1];
  n.refuses = false;
  n.holds = false;
  n.watchdog_due.reset();
  n.active.clear();
  n.hung_stops.clear();
}

// The node's CIB outputs: a write for the disk, replies for the workload's clients.
void Cluster::cib_output(NodeId id, node::Output& out) {
  Node& n = *nodes_[id - 1];
  for (const auto& l : out.logs) {
    if (o_.trace && l.subsystem == node::Subsystem::Cib)
      trace("n" + std::to_string(id) + " CIB: " + l.text);
  }
  if (out.persist_cib) {
    if (o_.trace)
      trace("n" + std::to_string(id) + " applied CIB " + out.persist_cib->cib.version().str());
    if (o_.check) cib_checker_->on_memory(id);
    n.next_write = std::move(out.persist_cib);
    if (!n.writing) write_next(id);
  }
  for (const auto& r : out.replies) {
    if (o_.trace)
      trace("n" + std::to_string(id) + " answers commit " + std::to_string(r.ticket) + ": " +
            (r.result.ok() ? "OK" : r.result.error().message));
    if (o_.check) cib_checker_->on_reply(id, r);
    if (auto it = user_commits_.find({id, r.ticket}); it != user_commits_.end()) {
      auto answered = std::move(it->second);
      user_commits_.erase(it);
      answered(r.result.ok());
    }
  }
  if (o_.check) cib_checker_->check_synced(live_stacks());
}

// The disk writes the newest document handed over, then reports it (Durable); a crash meanwhile
// loses it. A paused process (its writer thread too) finishes when it resumes.
void Cluster::write_next(NodeId id) {
  Node& n = *nodes_[id - 1];
  if (!n.next_write) return;
  n.writing = std::move(n.next_write);
  n.next_write.reset();
  const auto delay = 1 + rng_.uniform(static_cast<std::uint64_t>(o_.disk_delay));
  finish_write(id, n.generation, now_ + static_cast<Millis>(delay));
}

void Cluster::finish_write(NodeId id, std::uint64_t generation, Millis when) {
  at(when, [this, id, generation] {
    Node& n = *nodes_[id - 1];
    if (n.generation != generation || !n.writing) return;
    if (n.paused_until > now_) return finish_write(id, generation, n.paused_until);
    const auto number = n.writing->number;
    if (now_ < n.disk_full_until) {  // CibFile::save fails before its rename: the old copy stays
      const std::string version = n.writing->cib.version().str();
      n.writing.reset();
      trace("n" + std::to_string(id) + " cannot write CIB " + version + ": disk full");
      apply(id, step_stack(id, node::Durable{number, nullptr,
                                             Error{"cannot write the CIB: No space left on device"},
                                             now_}));
      return write_next(id);
    }
    n.disk_cib = std::make_shared<const cib::Cib>(std::move(n.writing->cib));
    n.writing.reset();
    if (o_.check) cib_checker_->on_disk(id);
    trace("n" + std::to_string(id) + " wrote CIB " + n.disk_cib->version().str());
    apply(id, step_stack(id, node::Durable{number, n.disk_cib, std::nullopt, now_}));
    write_next(id);
  });
}

std::size_t Cluster::cib_acknowledged() const {
  return cib_checker_->acknowledged();
}

std::vector<const node::Node*> Cluster::live_stacks() const {
  std::vector<const node::Node*> out;
  for (const auto& n : nodes_) {
    if (n->alive && n->stack) out.push_back(&*n->stack);
  }
  return out;
}

void Cluster::apply(NodeId id, totem::Effects fx) {
  Node& n = *nodes_[id - 1];
  if (fx.persist_ring_seq) n.disk_ring_seq = *fx.persist_ring_seq;
  for (const auto& t : fx.timers) {
    n.timers[static_cast<int>(t.timer)] = t.deadline;
    if (t.deadline) {
      schedule(Event{*t.deadline,
                     0,
                     Event::Kind::Timer,
                     id,
                     0,
                     n.generation,
                     t.timer,
                     nullptr,
                     {},
                     *t.deadline});
    }
  }
  for (auto& f : fx.frames) {
    if (o_.check) check_persisted(n, f.bytes);
    auto bytes = std::make_shared<const Bytes>(std::move(f.bytes));
    if (f.to) {
      transmit(id, *f.to, bytes);
    } else {
      for (const auto& other : nodes_) {
        if (other->id != id) transmit(id, other->id, bytes);
      }
    }
  }
  for (const auto& e : fx.events) {
    if (const auto* c = std::get_if<totem::ConfigChange>(&e)) {
      ++config_changes_;
      if (c->kind == totem::ConfigChange::Kind::Regular) {
        installed_at_[c->ring] = last_install_ = now_;
        if (expect_stable_) check_stable(id, *c);
      }
      if (o_.trace) {
        std::string members;
        for (NodeId m : c->members) members += (members.empty() ? "" : ",") + std::to_string(m);
        trace("n" + std::to_string(id) + " config " +
              (c->kind == totem::ConfigChange::Kind::Regular ? "regular " : "transitional ") +
              totem::to_string(c->ring) + " [" + members + "]");
      }
    } else if (o_.trace) {
      const auto& d = std::get<totem::Delivery>(e);
      const std::uint64_t uid = payload_uid(d.payload);
      trace("n" + std::to_string(id) + " deliver n" + std::to_string(uid >> 32) + "#" +
            std::to_string(uid & 0xffffffffU) + " ring " + totem::to_string(d.config) + " seq " +
            std::to_string(d.seq) + (d.transitional ? " (transitional)" : ""));
    }
    if (o_.check) checker_->on_event(id, now_, e);
    for (auto& hook : hooks_) hook(id, now_, e);
  }
}

// The contract of Effects::persist_ring_seq: the ring sequence a frame names (a Join's highest
// seen, a new ring's commit token) is on disk before the frame leaves, so a crash right after the
// send cannot bring the node back naming rings it already named.
void Cluster::check_persisted(const Node& n, const Bytes& frame) {
  if (frame.size() <= kTypeAt) return;
  const auto type = static_cast<totem::wire::Type>(frame[kTypeAt]);
  if (type != totem::wire::Type::Join && type != totem::wire::Type::Commit) return;
  auto p = totem::wire::decode(frame);
  if (!p) return;
  std::uint64_t named = 0;
  if (const auto* j = std::get_if<totem::wire::JoinFrame>(&p->body)) named = j->max_ring_seq;
  if (const auto* c = std::get_if<totem::wire::CommitFrame>(&p->body)) named = c->ring.seq;
  if (named > n.disk_ring_seq) {
    checker_->report("persistence", "n" + std::to_string(n.id) + " sends a frame naming ring seq " +
                                        std::to_string(named) + " with only " +
                                        std::to_string(n.disk_ring_seq) + " on disk");
  }
}

// The one-way-link rule of totem.h: a node never leaves a working ring to merge with another
// ring's announcement when one of its broken-link records joins the two memberships — in either
// direction — unless this very frame proved the recorded link healed. A merge shows in the Join the
// node sends on leaving: it proposes nodes of the announced ring from outside its own. A node may
// leave on such a frame for a reason of its own ring instead (the sender, a member, shows another
// incarnation: as far as the node can tell that member restarted, and the ring has lost it); it
// then proposes its own ring's members only, and no record is crossed.
void Cluster::check_merge_rule(const Ring& was, const Ring& now, const totem::FrameReceived& f,
                               const std::vector<totem::Frame>& sent) {
  auto p = totem::wire::decode(f.bytes);
  const auto* announce = p ? std::get_if<totem::wire::MergeDetectFrame>(&p->body) : nullptr;
  const auto before = was.broken_links(), after = now.broken_links();
  const std::pair<NodeId, NodeId> heard{f.from, was.id()};
  const bool healed = std::find(before.begin(), before.end(), heard) != before.end() &&
                      std::find(after.begin(), after.end(), heard) == after.end();
  if (announce == nullptr || healed) return;
  const auto mine = was.members();
  auto in = [](const std::vector<NodeId>& v, NodeId x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  const auto merging = [&] {
    for (const auto& frame : sent) {
      auto q = totem::wire::decode(frame.bytes);
      const auto* join = q ? std::get_if<totem::wire::JoinFrame>(&q->body) : nullptr;
      if (join == nullptr) continue;
      return std::any_of(join->proc.begin(), join->proc.end(), [&](NodeId x) {
        return !in(join->fail, x) && !in(mine, x) && in(announce->members, x);
      });
    }
    return false;
  };
  if (!merging()) return;
  for (const auto& [a, b] : after) {
    if ((in(mine, a) && in(announce->members, b)) || (in(announce->members, a) && in(mine, b))) {
      return checker_->report(
          "merge rule", "n" + std::to_string(was.id()) + " left ring " +
                            totem::to_string(was.ring_id()) + " for the announcement of " +
                            totem::to_string(announce->ring) + " from n" + std::to_string(f.from) +
                            " though its record " + std::to_string(a) + "->" + std::to_string(b) +
                            " separates them");
    }
  }
}

// No membership change without a fault: lost, duplicated or late frames are retransmitted or
// ignored, so a node that installed a ring of every node never installs another. (Each lost copy of
// the token costs a retransmit period, so at high loss a few losses in one rotation do add up to a
// token timeout; at kQuietLoss that is below one rotation in a million.)
void Cluster::check_stable(NodeId node, const totem::ConfigChange& c) {
  Node& n = *nodes_[node - 1];
  if (n.whole_ring) {
    checker_->report("stability", "n" + std::to_string(node) + " installs " +
                                      totem::to_string(c.ring) + " at " + std::to_string(now_) +
                                      " ms, though it had formed " +
                                      totem::to_string(*n.whole_ring) +
                                      " with every node and no node or link failed since");
  } else if (c.members.size() == nodes_.size()) {
    n.whole_ring = c.ring;
  }
}

// Under a standing one-way link failure the membership settles within the liveness bound after
// the last heal: every node operational in a ring whose members agree, the link's two ends apart.
void Cluster::check_settled(const std::vector<NodeId>& live) {
  const Millis bound = last_heal_ + liveness_bound();
  if (last_install_ > bound) {
    return checker_->report("liveness", "still re-forming under a standing one-way failure: a " +
                                            std::string("ring installed at ") +
                                            std::to_string(last_install_) + " ms, after " +
                                            std::to_string(bound) + " ms");
  }
  for (NodeId id : live) {
    const Ring& r = *nodes_[id - 1]->running();
    bool agreed = r.operational();
    for (NodeId m : r.members()) {
      const Ring* other = ring(m);
      agreed =
          agreed && other != nullptr && other->operational() && other->ring_id() == r.ring_id();
    }
    if (!agreed) {
      return checker_->report("liveness", "n" + std::to_string(id) +
                                              " did not settle: " + r.state_name() + " in " +
                                              totem::to_string(r.ring_id()));
    }
    const auto m = r.members();
    if (std::find(m.begin(), m.end(), 1) != m.end() && std::find(m.begin(), m.end(), 2) != m.end())
      return checker_->report("liveness", "n" + std::to_string(id) + " shares ring " +
                                              totem::to_string(r.ring_id()) +
                                              " with both ends of the broken link 1->2");
  }
}

void Cluster::process(const Event& e) {
  ++events_;
  now_ = std::max(now_, e.at);
  if (e.kind == Event::Kind::Action) {
    e.action();
    return;
  }
  Node& n = *nodes_[e.node - 1];
  if (!n.alive) {
    if (e.kind == Event::Kind::Frame && n.refuses && e.from != e.node) refuse(e);
    return;
  }
  if (n.paused_until > now_) {
    // A paused process sees its frames and timers only when it resumes.
    Event later = e;
    later.at = n.paused_until;
    schedule(std::move(later));
    return;
  }
  if (e.kind == Event::Kind::Timer) {
    if (e.generation != n.generation || n.timers[static_cast<int>(e.timer)] != e.deadline) return;
    n.timers[static_cast<int>(e.timer)].reset();
    step(e.node, totem::TimerFired{e.timer, now_});
    return;
  }
  if (e.kind == Event::Kind::Refused) {
    if (e.generation != n.generation) return;
    trace("n" + std::to_string(e.node) + " hears n" + std::to_string(e.from) + " is unreachable");
    step(e.node, totem::PeerUnreachable{e.from, now_});
    return;
  }
  if (e.from == e.node && e.generation != n.generation) return;
  step(e.node, totem::FrameReceived{e.from, *e.bytes, now_});
}

// ---------------------------------------------------------------- controls
// A node's disk fills for a while, one to three times. Drawn from a generator of its own, so
// that adding the class leaves the seed's plan of the others as it was.
void Cluster::plan_disk_faults(Millis begin, Millis end) {
  Rng disk(o_.seed * 0x9E3779B97F4A7C15ULL + 0xD15C);
  const auto events = disk.between(1, 3);
  for (std::int64_t i = 0; i < events; ++i) {
    const auto id = static_cast<NodeId>(disk.uniform(static_cast<std::uint64_t>(o_.nodes)) + 1);
    const Millis t = begin + static_cast<Millis>(disk.uniform(static_cast<std::uint64_t>(end - begin)));
    const Millis until = std::min<Millis>(end, t + disk.between(200, 4000));
    at(t, [this, id, until] {
      Node& n = *nodes_[id - 1];
      n.disk_full_until = std::max(n.disk_full_until, until);
      trace("n" + std::to_string(id) + "'s disk is full until " + std::to_string(until));
    });
  }
}

// The "cib disk" checker: once its disk has room, a node's disk does not stay behind its replica,
// with no write under way, for longer than the core's retry interval (a paused node counts from
// its resumption: its timers waited).
void Cluster::check_disk(NodeId id) {
  Node& n = *nodes_[id - 1];
  const bool behind = n.alive && n.stack && !n.writing && !n.next_write &&
                      !n.stack->cib()->stopped() &&
                      n.stack->cib()->replica().current().version() != n.disk_cib->version();
  if (!behind) {
    n.behind_since.reset();
    return;
  }
  if (!n.behind_since) n.behind_since = now_;
  const Millis since = std::max({*n.behind_since, n.disk_full_until, n.resumed_at});
  if (now_ > since + node::CibPart::kWriteRetry + 100)
    checker_->report("cib disk", "n" + std::to_string(id) + "'s disk holds CIB " +
                                     n.disk_cib->version().str() + ", its replica " +
                                     n.stack->cib()->replica().current().version().str() +
                                     ", and no write is under way, " +
                                     std::to_string(now_ - since) + " ms after its disk had room");
}

void Cluster::start_all() {
  for (auto& n : nodes_) restart(n->id);
}

void Cluster::restart(NodeId id) {
  Node& n = *nodes_[id - 1];
  if (gone_ == id) return;
  if (n.watchdog_due && !n.alive) {
    // vigild waits out a watchdog its killed predecessor left armed (lease.h, Rule 5).
    at(*n.watchdog_due + node::kResetLatency + 1, [this, id] {
      if (!nodes_[id - 1]->alive) restart(id);
    });
    return;
  }
  ++n.generation;
  ++n.boots;
  n.alive = true;
  disturbed();
  n.refuses = false;
  n.paused_until = 0;
  std::fill(n.timers.begin(), n.timers.end(), std::nullopt);
  Rng rng(o_.seed * 1000003ULL + id * 7919ULL + n.boots);
  if (o_.layer == Layer::Stack) {
    quorum::Settings q;
    for (const auto& other : nodes_) q.nodelist.push_back({other->id, 1});
    q.device_votes = o_.witness ? 1 : 0;
    auto vq = quorum::Votequorum::create(q);
    VIGIL_ASSERT(vq.ok());
    // With a witness, a nodelist (corosync-qdevice needs one): the lease counts its nodes too.
    std::vector<node::ListedNode> nodelist;
    if (o_.witness)
      for (const auto& other : nodes_)
        nodelist.push_back({other->id, "n" + std::to_string(other->id), {}, 1});
    n.stack.emplace(node::Settings{id, o_.settings, std::move(*vq), n.disk_ring_seq,
                                   node::CibSettings{static_cast<std::uint32_t>(2000 + n.boots),
                                                     "n" + std::to_string(id), *n.disk_cib},
                                   o_.watchdog, std::move(nodelist),
                                   o_.resources ? std::optional(controller_settings(id, n.boots))
                                                : std::nullopt},
                    rng);
    n.stack->inject(o_.stack_inject);
    n.in_group = false;
    if (o_.resources) boot_agents(id);
    stack_checker_->on_restart(id);
    n.named_reset.clear();
    if (o_.watchdog) arm_watchdog(id, now_ + *o_.watchdog);  // opening it arms it
    if (o_.witness) boot_device(id);
    if (o_.check) cib_checker_->on_memory(id);
  } else {
    n.ring.emplace(id, o_.settings, rng, n.disk_ring_seq);
    n.ring->inject(o_.inject);
  }
  checker_->on_restart(id);
  trace("n" + std::to_string(id) + " starts (boot " + std::to_string(n.boots) + ")");
  step(id, totem::Start{now_});
}

void Cluster::stop(NodeId id, bool host_up) {
  Node& n = *nodes_[id - 1];
  n.alive = false;
  n.refuses = host_up;
  n.ring.reset();
  n.stack.reset();
  n.barrier.reset();
  n.writing.reset();  // the disk keeps only what was written
  n.next_write.reset();
  n.monitors.clear();  // the executor's, gone with the process; what they watch runs on
  n.leaving = false;
  stop_device(id, host_up);
  disturbed();
  ++n.generation;
  checker_->on_crash(id);
  if (o_.check && o_.layer == Layer::Stack) cib_checker_->on_crash(id);
}

void Cluster::crash(NodeId id) {
  if (!nodes_[id - 1]->alive) return;
  trace("n" + std::to_string(id) + " crashes with its host");
  stop(id, false);
  host_down(id);
}

void Cluster::kill(NodeId id) {
  if (!nodes_[id - 1]->alive) return;
  trace("n" + std::to_string(id) + " is killed (its host lives)");
  stop(id, true);
}

void Cluster::leave(NodeId id) {
  if (!nodes_[id - 1]->alive) return;
  trace("n" + std::to_string(id) + " leaves");
  Node& n = *nodes_[id - 1];
  step(id, totem::Leave{now_});
  if (n.stack && n.stack->view().leased) {  // stopped its resources, disarmed its watchdog
    n.holds = false;
    n.watchdog_due.reset();
  }
  if (o_.check) checker_->on_leave(id);
  stop(id, true);
}

void Cluster::pause(NodeId id, Millis until) {
  Node& n = *nodes_[id - 1];
  if (!n.alive) return;
  n.paused_until = until;
  n.resumed_at = until;
  disturbed_ = std::max(disturbed_, until);
  trace("n" + std::to_string(id) + " pauses until " + std::to_string(until));
}

void Cluster::send(NodeId id, Bytes payload, bool safe) {
  Node& n = *nodes_[id - 1];
  if (!n.alive || n.paused_until > now_) return;
  std::optional<totem::RingId> ring;
  if (n.running()->operational()) ring = n.running()->ring_id();
  if (o_.check) checker_->on_send(id, payload_uid(payload), now_, ring, safe);
  step(id, totem::Send{std::move(payload), now_, safe});
}

void Cluster::set_link(NodeId from, NodeId to, bool up) {
  link_[from - 1][to - 1] = up;
  link_changed_ = now_;
  disturbed();
  trace("link n" + std::to_string(from) + "->n" + std::to_string(to) + (up ? " up" : " down"));
}

void Cluster::partition(const std::vector<std::vector<NodeId>>& groups) {
  disturbed();
  std::string text;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    text += g ? " | " : "";
    for (NodeId n : groups[g]) {
      group_[n - 1] = static_cast<int>(g);
      text += std::to_string(n) + " ";
    }
  }
  trace("partition " + text);
}

void Cluster::heal() {
  for (auto& row : link_) std::fill(row.begin(), row.end(), true);
  if (o_.one_way_forever && o_.nodes > 1 && now_ >= *o_.one_way_forever) link_[0][1] = false;
  std::fill(group_.begin(), group_.end(), 0);
  loss_ = dup_ = reorder_ = 0;
  if (o_.witness) heal_witness();
  last_heal_ = now_;
  disturbed();
  trace("network healed");
}

void Cluster::at(Millis t, std::function<void()> action) {
  schedule(
      Event{std::max(t, now_), 0, Event::Kind::Action, 0, 0, 0, {}, nullptr, std::move(action)});
}

void Cluster::run_until(Millis t) {
  while (!queue_.empty() && queue_.top().at <= t) {
    Event e = queue_.top();
    queue_.pop();
    process(e);
  }
  now_ = std::max(now_, t);
}

bool Cluster::converged() const {
  std::optional<totem::RingId> id;
  std::vector<NodeId> live;
  for (const auto& n : nodes_) {
    if (n->alive) live.push_back(n->id);
  }
  for (NodeId l : live) {
    const Ring& r = *nodes_[l - 1]->running();
    if (!r.operational() || r.members() != live) return false;
    if (id && *id != r.ring_id()) return false;
    id = r.ring_id();
  }
  return true;
}

// After the last heal a node may need: a token timeout to notice, two consensus rounds (one to
// give up on a stale proposal, one to agree), a merge-detect period, and the commit and recovery
// rotations; twice that covers the worst interleaving.
Millis Cluster::liveness_bound() const {
  const totem::TotemSettings s = o_.settings.resolved();
  return 2 * (s.token + 2 * s.consensus + s.merge * o_.nodes + 10 * s.join);
}

// ---------------------------------------------------------------- scenario
void Cluster::plan_faults() {
  const Millis begin = 1000, end = begin + o_.fault_window;
  const totem::TotemSettings s = o_.settings.resolved();
  auto at = [&](Millis t, std::function<void()> f) {
    schedule(Event{t, 0, Event::Kind::Action, 0, 0, 0, {}, nullptr, std::move(f)});
  };
  auto pick = [&]() {
    return static_cast<NodeId>(rng_.uniform(static_cast<std::uint64_t>(o_.nodes)) + 1);
  };
  auto when = [&]() {
    return begin + static_cast<Millis>(rng_.uniform(static_cast<std::uint64_t>(o_.fault_window)));
  };
  if (o_.faults & (kLoss | kDuplicate | kReorder)) {
    const double loss =
        (o_.faults & kLoss) ? o_.max_loss * static_cast<double>(rng_.uniform(101)) / 100.0 : 0;
    const double dup = (o_.faults & kDuplicate) ? 0.05 : 0;
    const double reorder = (o_.faults & kReorder) ? 0.1 : 0;
    // A quiet run misbehaves from the start, so the first ring forms through it too.
    at(expect_stable_ ? 0 : begin, [=, this] {
      loss_ = loss, dup_ = dup, reorder_ = reorder;
      trace("network: loss " + std::to_string(loss) + " dup " + std::to_string(dup) + " reorder " +
            std::to_string(reorder));
    });
  }
  std::vector<unsigned> kinds;
  for (unsigned k : {kPartition, kOneWay, kPause, kCrash, kLeave, kKill}) {
    if (o_.faults & k) kinds.push_back(k);
  }
  const int events = kinds.empty() ? 0 : static_cast<int>(rng_.between(1, o_.max_fault_events));
  for (int i = 0; i < events; ++i) {
    const unsigned kind = kinds[rng_.uniform(kinds.size())];
    const Millis t = when();
    const Millis until =
        std::min<Millis>(end, t + rng_.between(s.token, 3 * s.token + s.consensus));
    if (kind == kPartition && o_.nodes > 1) {
      std::vector<std::vector<NodeId>> groups(
          static_cast<std::size_t>(rng_.between(2, std::min(3, o_.nodes))));
      for (int n = 1; n <= o_.nodes; ++n)
        groups[rng_.uniform(groups.size())].push_back(static_cast<NodeId>(n));
      at(t, [=, this] { partition(groups); });
      at(until, [=, this] {
        std::fill(group_.begin(), group_.end(), 0);
        disturbed();
        trace("partition healed");
      });
    } else if (kind == kOneWay && o_.nodes > 1) {
      const NodeId a = pick();
      NodeId b = pick();
      if (b == a) b = a % static_cast<NodeId>(o_.nodes) + 1;
      at(t, [=, this] { set_link(a, b, false); });
      at(until, [=, this] { set_link(a, b, true); });
    } else if (kind == kPause) {
      const NodeId a = pick();
      const Millis length = rng_.between(s.token + s.token / 2, 3 * s.token);
      at(t, [=, this] { pause(a, now_ + length); });
    } else if (kind == kCrash) {
      const NodeId a = pick();
      at(t, [=, this] { crash(a); });
      at(until, [=, this] {
        if (!nodes_[a - 1]->alive) restart(a);
      });
    } else if (kind == kKill) {
      // Restarts come at any time, even before anyone noticed the death (a supervisor restarts
      // at once): refusals of datagrams sent to the dead process then reach the survivors late.
      const NodeId a = pick();
      const Millis back = t + rng_.between(1, std::max<Millis>(1, until - t));
      at(t, [=, this] { kill(a); });
      at(back, [=, this] {
        if (!nodes_[a - 1]->alive) restart(a);
      });
    } else if (kind == kLeave) {
      const NodeId a = pick();
      at(t, [=, this] { o_.resources ? shut_down(a) : leave(a); });
      restart_after_leave(a, until);
    }
  }
  if (o_.witness) plan_witness_faults(begin, end);
  if (o_.layer == Layer::Stack && (o_.faults & kDiskFull)) plan_disk_faults(begin, end);
  // Pauses end on their own; everything else is healed here.
  at(end + 3 * s.token, [this] { heal(); });
}

void Cluster::add_workload(Millis until) {
  for (const auto& n : nodes_) {
    if (o_.layer == Layer::Stack) {
      const NodeId id = n->id;
      for (Millis t = now_ + 200; t < until;
           t += 1 + static_cast<Millis>(
                        rng_.uniform(static_cast<std::uint64_t>(o_.send_interval) * 2))) {
        schedule(Event{
            t, 0, Event::Kind::Action, 0, 0, 0, {}, nullptr, [this, id] { group_action(id); }});
      }
      continue;
    }
    const NodeId id = n->id;
    Millis t = now_ + 200 +
               static_cast<Millis>(rng_.uniform(static_cast<std::uint64_t>(o_.send_interval) * 2));
    while (t < until) {
      schedule(Event{t, 0, Event::Kind::Action, 0, 0, 0, {}, nullptr, [this, id] {
                       Node& node = *nodes_[id - 1];
                       Bytes payload(std::max<std::size_t>(o_.payload_size, 8), 0);
                       const std::uint64_t uid =
                           (static_cast<std::uint64_t>(id) << 32) | ++node.sent;
                       for (int i = 0; i < 8; ++i)
                         payload[static_cast<std::size_t>(i)] =
                             static_cast<std::uint8_t>(uid >> (8 * i));
                       send(id, std::move(payload), node.sent % 4 == 0);
                     }});
      t += 1 + static_cast<Millis>(rng_.uniform(static_cast<std::uint64_t>(o_.send_interval) * 2));
    }
  }
}

// One step of a node's group workload: its member joins group "g" (pid 1000 + boot), then sends
// to it, now and then leaving and joining again.
void Cluster::group_action(NodeId id) {
  Node& n = *nodes_[id - 1];
  if (!n.alive || !n.stack || n.paused_until > now_) return;
  const auto pid = static_cast<std::uint32_t>(1000 + n.boots);
  if (rng_.chance(o_.commit_share)) return cib_commit(id);
  if (!n.in_group) {
    n.in_group = true;
    return apply(id, step_stack(id, node::GroupJoin{"g", pid, now_}));
  }
  if (rng_.chance(0.05)) {
    n.in_group = false;
    return apply(id, step_stack(id, node::GroupLeave{"g", pid, groups::Reason::Leave, now_}));
  }
  const std::string data =
      "n" + std::to_string(id) + "b" + std::to_string(n.boots) + "#" + std::to_string(++n.sent);
  apply(id, step_stack(id, node::GroupSend{
                               "g",
                               pid,
                               {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()},
                               now_}));
}

// A client of node `id` creates resource r<k>, k unique in the run.
void Cluster::cib_commit(NodeId id) {
  Node& n = *nodes_[id - 1];
  const std::string rsc = "r" + std::to_string(++commits_);
  // With resources, a template: nothing the controllers would place.
  cib::CibOp op{{cib::CibChange::create(
      "/cib/configuration/resources", std::string(o_.resources ? "<template" : "<primitive") +
                                          " id=\"" + rsc +
                                          "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>")}};
  const auto ticket = ++n.tickets;
  if (o_.check) cib_checker_->on_commit(id, ticket, rsc);
  trace("n" + std::to_string(id) + " commits " + rsc + " (ticket " + std::to_string(ticket) + ")");
  apply(id, step_stack(id, node::CibCommit{ticket, std::move(op), now_}));
}

// Once the live nodes settled in one ring, its members agree on quorum, and it is what
// votequorum counts for that many of the configured nodes (one vote each, no options), with the
// witness's vote when there is one (healed by then: it votes for the only ring it hears of).
void Cluster::check_quorum(const std::vector<NodeId>& live) {
  if (!converged() || live.empty()) return;
  std::vector<std::pair<NodeId, bool>> quorate;
  for (NodeId id : live) quorate.emplace_back(id, nodes_[id - 1]->stack->view().quorate);
  const totem::RingId ring = nodes_[live.front() - 1]->running()->ring_id();
  stack_checker_->check_quorum(ring, quorate);
  const std::size_t device = o_.witness ? 1 : 0;
  const bool expected = live.size() + device >= (nodes_.size() + device) / 2 + 1;
  if (checker_->verdict().ok && quorate.front().second != expected) {
    checker_->report("quorum agreement", "settled ring " + totem::to_string(ring) + " of " +
                                             std::to_string(live.size()) + " of " +
                                             std::to_string(nodes_.size()) + " nodes says " +
                                             (quorate.front().second ? "quorate" : "not quorate"));
  }
}

Verdict Cluster::run() {
  const totem::TotemSettings s = o_.settings.resolved();
  const Millis heal_at = 1000 + o_.fault_window + 3 * s.token;
  end_ = heal_at + liveness_bound() + 4 * s.token;
  if (o_.resources) end_ += 2 * o_.settle;  // the DC's transitions after the ring settled
  expect_stable_ = o_.check && (o_.faults & ~(kLoss | kDuplicate | kReorder)) == 0 &&
                   o_.max_loss <= kQuietLoss && !o_.one_way_forever;
  start_all();
  plan_faults();
  if (o_.resources) plan_resources(heal_at);
  if (o_.one_way_forever && o_.nodes > 1) {
    schedule(Event{*o_.one_way_forever, 0, Event::Kind::Action, 0, 0, 0, {}, nullptr, [this] {
                     set_link(1, 2, false);
                   }});
  }
  if (o_.workload) add_workload(end_ - 4 * s.token);
  // The checkers run after every step; stop at the first failure.
  while (!queue_.empty() && queue_.top().at <= end_ && checker_->verdict().ok) {
    Event e = queue_.top();
    queue_.pop();
    process(e);
  }
  now_ = std::max(now_, end_);
  std::vector<NodeId> live;
  for (const auto& n : nodes_) {
    if (n->alive) live.push_back(n->id);
  }
  for (const auto& n : nodes_) {
    if (!n->alive) continue;
    std::string members;
    const Ring& r = *n->running();
    for (NodeId m : r.members()) members += (members.empty() ? "" : ",") + std::to_string(m);
    std::string links;
    for (const auto& [a, b] : r.broken_links())
      links += " " + std::to_string(a) + "->" + std::to_string(b);
    trace("end: n" + std::to_string(n->id) + " " + r.state_name() + " ring " +
          totem::to_string(r.ring_id()) + " [" + members + "] broken links:" + links);
  }
  std::optional<totem::RingId> final_ring;
  if (converged() && !live.empty()) final_ring = nodes_[live.front() - 1]->running()->ring_id();
  if (o_.check && o_.layer == Layer::Stack) {
    stack_checker_->check_order();
    check_quorum(live);
    if (converged() && checker_->verdict().ok) cib_checker_->check_end(live_stacks());
    if (checker_->verdict().ok) check_resources_end();
  }
  const Millis install_time = final_ring ? installed_at_[*final_ring] : 0;
  if (o_.check && o_.one_way_forever) check_settled(live);
  checker_->finish(live, final_ring, install_time, std::max(last_heal_, leave_released_),
                   liveness_bound(),
                   o_.check_liveness && !o_.one_way_forever, end_ - 3 * s.token);
  return checker_->verdict();
}

}  // namespace vigil::sim
