// Membership: gather (join messages, consensus), the commit token, and the reactions of every
// state to joins, leaves and merge-detect announcements.
#include <algorithm>

#include "totem/ring_impl.h"

namespace vigil::totem {

namespace {
bool subset(const std::vector<NodeId>& small, const NodeSet& big) {
  return std::all_of(small.begin(), small.end(), [&](NodeId n) { return big.count(n) != 0; });
}
bool superset(const NodeSet& big, const NodeSet& small) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}
NodeSet minus(const NodeSet& a, const NodeSet& b) {
  NodeSet out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}
}  // namespace

// Leaves whatever state we are in for a fresh gather. The old ring (the last one installed, with
// every message of it we hold) travels along until a new ring is installed.
void Ring::Impl::to_gather(const NodeSet& add, const NodeSet& fail) {
  Log old;
  NodeSet proc;
  // Whose silence already counts (see fail_silent): the members of an operational ring, bound to
  // speak all along, and whatever the gather we leave counted; not a ring being formed, whose
  // members talk to their successor only.
  NodeSet speaking;
  std::map<NodeId, Millis> since;
  std::visit(
      [&](auto& st) {
        using T = std::decay_t<decltype(st)>;
        if constexpr (std::is_same_v<T, Operational>) {
          old = std::move(st.ring);
          speaking.insert(old.members.begin(), old.members.end());
        } else if constexpr (std::is_same_v<T, Recovery>) {
          old = std::move(st.old);
          proc.insert(st.ring.members.begin(), st.ring.members.end());
        } else if constexpr (std::is_same_v<T, Commit>) {
          old = std::move(st.old);
          for (const auto& m : st.token.members) proc.insert(m.node);
        } else {
          old = std::move(st.old);
          proc = st.proc;
          speaking = st.proc;
          since = st.silent_since;
        }
      },
      state);
  proc.insert(old.members.begin(), old.members.end());
  proc.insert(add.begin(), add.end());
  proc.insert(me);
  NodeSet failed = fail;
  failed.erase(me);
  proc.insert(failed.begin(), failed.end());
  for (NodeId n : proc) {
    if (speaking.count(n) == 0) since.emplace(n, now);
  }
  cancel_all_timers();
  state = Gather{std::move(old), std::move(proc), std::move(failed), {}, now, std::move(since)};
  auto& g = std::get<Gather>(state);
  send_join(g);
  arm(Timer::Join, now + s.join);
  arm(Timer::Consensus, now + s.consensus);
  // No consensus check here: the caller may be about to hand this gather the Join that started
  // it; the next Join or join timer decides.
}

void Ring::Impl::send_join(const Gather& g) {
  wire::JoinFrame j;
  j.ring = g.old.ring;
  j.max_ring_seq = max_ring_seq;
  j.proc = sorted(g.proc);
  j.fail = sorted(g.fail);
  j.heard = sorted(heard_recently());
  broadcast(j);
}

// A node consents to our proposal when its latest Join proposes exactly our sets, is fresh, and
// it hears every proposed member: a ring must not form across a link that works one way only.
bool Ring::Impl::consents(const Gather& g, NodeId x, const NodeSet& members) const {
  if (x == me) return superset(heard_recently(), members);
  auto it = g.joins.find(x);
  if (it == g.joins.end()) return false;
  const JoinSeen& seen = it->second;
  return seen.proc == g.proc && seen.fail == g.fail && seen.at + s.consensus >= now &&
         superset(seen.heard, members);
}

void Ring::Impl::try_consensus(Gather& g) {
  const NodeSet members = minus(g.proc, g.fail);
  for (NodeId x : members) {
    if (!consents(g, x, members)) return;
  }
  // Consensus. Only the representative (lowest id) creates the commit token; the others wait
  // for it in gather.
  if (*members.begin() != me) return;
  max_ring_seq += 4;
  wire::CommitFrame token;
  token.ring = RingId{me, max_ring_seq};
  token.rotation = 1;
  for (NodeId n : members) {
    wire::CommitMember m;
    m.node = n;
    m.incarnation = n == me ? incarnation : known_incarnation[n];
    token.members.push_back(m);
  }
  token.members.front() = my_commit_entry(g.old);
  Log old = std::move(g.old);
  NodeSet proc = g.proc, fail = g.fail;
  enter_commit(std::move(old), std::move(proc), std::move(fail), std::move(token));
}

wire::CommitMember Ring::Impl::my_commit_entry(const Log& old) const {
  wire::CommitMember m;
  m.node = me;
  m.incarnation = incarnation;
  m.old_ring = old.ring;
  m.aru = old.aru;
  m.high = old.highest_held();
  m.filled = true;
  return m;
}

// Consensus timeout: give up on the nodes that stand in the way, and record what we saw of
// their links so a one-way link cannot pull the survivors back into endless re-forming. Only
// evidence counts: a node we do not hear; a node we hear that ignores our joins; a gathering node
// whose Join shows it does not hear another gathering node that we hear (the deaf end of a one-way
// link). Nodes that merely have not caught up with our sets yet stay.
void Ring::Impl::consensus_timeout(Gather& g) {
  NodeSet members = minus(g.proc, g.fail);
  NodeSet dropped;
  for (NodeId x : members) {
    if (x == me || heard_recently(x)) continue;
    broken.insert(wire::LinkPair{x, me});
    dropped.insert(x);
  }
  members = minus(members, dropped);
  NodeSet gathering{me};
  for (NodeId x : members) {
    auto it = g.joins.find(x);
    if (it != g.joins.end() && it->second.at + s.consensus >= now) gathering.insert(x);
  }
  for (NodeId x : members) {
    if (x == me) continue;
    if (gathering.count(x) == 0) {
      // We hear it, yet it ignores our joins: it knows of a broken link between us and will
      // start the merge itself once that link works. Until then it must not pull us back in.
      broken.insert(wire::LinkPair{me, x});
      dropped.insert(x);
      continue;
    }
    const NodeSet& heard = g.joins[x].heard;
    for (NodeId y : gathering) {
      if (heard.count(y) == 0) {
        broken.insert(wire::LinkPair{y, x});
        dropped.insert(x);
      }
    }
  }
  g.fail.insert(dropped.begin(), dropped.end());
  arm(Timer::Consensus, now + s.consensus);
  if (!dropped.empty()) send_join(g);
  try_consensus(g);
}

// Rule (silent peers): a proposed member that has sent us nothing for a whole token period is
// failed at once, without waiting for the consensus timeout. The consensus timeout would fail it
// anyway (it drops whoever was not heard for consensus / 2 < token), so this only decides sooner
// on stronger evidence, and records the link as the timeout does. Silent to everyone: a peer
// that another gathering member lists as heard in its latest Join is the far end of a one-way
// link, not a lost node, and the consensus timeout sorts such links out (it records who hears
// whom, so the membership settles). The silence must be one in which a live peer speaks, else
// one node's mistake would spread (the others adopt our fail set, and the failed peer fails us
// back):
//  - a member of an operational ring announces it (merge-detect) and passes the token;
//  - a gathering node sends a Join every join period;
//  - a member of our old ring that is still operational answers our first Join at once (it
//    gathers too), so nobody is judged before the gather is `answer` old (two join periods plus
//    the send_join jitter), which also covers a peer whose announcements fell into a long
//    merge-detect rotation (members × merge may exceed the token);
//  - a node forming a ring (commit, recovery) talks to its successor only: its silence there
//    does not count, so a gather entered from commit or recovery, and a node that newly enters
//    the proposal, count silence from then on (Gather::silent_since).
// After a token loss the lost peer has been silent since it died, so the new ring forms when the
// later of "token loss + answer" and "its last frame + token" comes, not token loss + consensus.
void Ring::Impl::fail_silent(Gather& g) {
  const Millis answer = 2 * s.join + s.send_join;
  if (now < g.began + answer) return;
  const NodeSet members = minus(g.proc, g.fail);
  NodeSet heard_by_others;
  for (const auto& [y, seen] : g.joins) {
    if (members.count(y) != 0) heard_by_others.insert(seen.heard.begin(), seen.heard.end());
  }
  NodeSet silent;
  for (NodeId x : members) {
    if (x == me || heard_by_others.count(x) != 0) continue;
    Millis since = g.began - s.token;  // never heard at all: silent as long as we looked
    if (auto heard = last_heard.find(x); heard != last_heard.end()) since = heard->second;
    if (auto counted = g.silent_since.find(x); counted != g.silent_since.end()) {
      since = std::max(since, counted->second);
    }
    if (since + s.token <= now) silent.insert(x);
  }
  for (NodeId x : silent) broken.insert(wire::LinkPair{x, me});
  g.fail.insert(silent.begin(), silent.end());
}

void Ring::Impl::enter_commit(Log old, NodeSet proc, NodeSet fail, wire::CommitFrame token) {
  cancel_all_timers();
  std::vector<NodeId> ring;
  for (const auto& m : token.members) ring.push_back(m.node);
  state = Commit{std::move(old), std::move(proc), std::move(fail), token};
  arm(Timer::TokenLoss, now + s.token);
  pass_on(token, ring);
}

void Ring::Impl::pass_on(const wire::CommitFrame& token, const std::vector<NodeId>& ring) {
  const NodeId next = successor(ring, me);
  outbound = Outbound{encode(token), next, 0, true};
  fx->frames.push_back(Frame{next, outbound.bytes});
  arm(Timer::TokenRetransmit, now + s.token_retransmit);
}

// ---------------------------------------------------------------- joins
// A Join may only grow the proc set up to what our own Joins can carry (wire::kMaxList); a Join
// naming more nodes than any real cluster has is dropped instead of breaking our next send.
static bool fits_wire_limit(const Gather& g, const wire::JoinFrame& j) {
  NodeSet all = g.proc;
  all.insert(j.proc.begin(), j.proc.end());
  all.insert(j.fail.begin(), j.fail.end());
  return all.size() + 2 <= wire::kMaxList;  // room for the sender and for us
}

void Ring::Impl::on(Gather& g, const wire::JoinFrame& j, const wire::Header& h) {
  const NodeId from = h.sender;
  max_ring_seq = std::max(max_ring_seq, j.max_ring_seq);
  absorb_links(from, j);
  if (g.fail.count(from) != 0) return;  // we gave up on it for this round
  if (!fits_wire_limit(g, j)) {
    ++stats.frames_rejected;
    return;
  }
  bool changed = false;
  bool grew = false;
  if (contains(j.fail, me)) {
    // It gave up on us: the two of us cannot be in one ring this round.
    g.proc.insert(from);
    g.fail.insert(from);
    changed = true;
  } else {
    g.joins[from] = JoinSeen{j, to_set(j.proc), to_set(j.fail), to_set(j.heard), now};
    for (NodeId p : j.proc) {
      if (!g.proc.insert(p).second) continue;
      grew = true;
      g.silent_since.emplace(p, now);
    }
    for (NodeId f : j.fail) {
      if (f == me) continue;
      g.proc.insert(f);
      changed |= g.fail.insert(f).second;
    }
    changed |= grew;
  }
  if (grew) arm(Timer::Consensus, now + s.consensus);  // newcomers get a full round to agree
  if (changed) send_join(g);
  try_consensus(g);
}

void Ring::Impl::on(Operational& o, const wire::JoinFrame& j, const wire::Header& h) {
  const NodeId from = h.sender;
  max_ring_seq = std::max(max_ring_seq, j.max_ring_seq);
  // A Join that gives up on us is no invitation: leaving our ring for it would only form a
  // ring of one and invite the same again.
  if (contains(j.fail, me)) return;
  const wire::Packet again{h, j};
  if (o.ring.is_member(from)) {
    absorb_links(from, j);
    // A member that gathers from our ring lost the token, or moved on to another ring: either
    // way this ring is over. A Join naming an older ring is a leftover of the gather that formed
    // this one.
    if (j.ring == o.ring.ring || j.ring.seq > o.ring.ring.seq) {
      to_gather({}, {});
      dispatch(again);  // now in Gather
    }
    return;
  }
  std::vector<NodeId> theirs{from};
  for (NodeId p : j.proc) {
    if (!contains(j.fail, p)) theirs.push_back(p);
  }
  // A recorded broken link keeps us apart unless this Join proves the links work both ways:
  // its sender hears all of us and we hear all of them. (Two rings that each recorded the other
  // as refusing would otherwise ignore each other forever.)
  if (!may_merge_with(from, theirs) &&
      !(std::all_of(o.ring.members.begin(), o.ring.members.end(),
                    [&](NodeId m) { return contains(j.heard, m); }) &&
        std::all_of(theirs.begin(), theirs.end(),
                    [&](NodeId t) { return heard_within(t, probe_window(theirs.size())); }))) {
    return;
  }
  to_gather({from}, {});
  dispatch(again);
}

// Merge-detect rotates through a ring's members, so a ring of n is fully heard every n × merge.
Millis Ring::Impl::probe_window(std::size_t ring_size) const {
  return std::max<Millis>(s.consensus / 2, 2 * s.merge * static_cast<Millis>(ring_size));
}

bool Ring::Impl::heard_within(NodeId n, Millis window) const {
  if (n == me) return true;
  auto it = last_heard.find(n);
  return it != last_heard.end() && it->second + window >= now;
}

void Ring::Impl::join_while_forming(const NodeSet& proc, const NodeSet& fail,
                                    const std::vector<NodeId>& forming, const wire::JoinFrame& j,
                                    const wire::Header& h, const wire::Packet& again) {
  const NodeId from = h.sender;
  max_ring_seq = std::max(max_ring_seq, j.max_ring_seq);
  absorb_links(from, j);
  if (fail.count(from) != 0 || contains(j.fail, me)) return;
  if (contains(forming, from) && subset(j.proc, proc) && subset(j.fail, fail)) {
    return;  // a leftover of the gather that agreed on this ring
  }
  if (!contains(forming, from) && !may_merge_with(from, {from})) return;
  to_gather({}, {});
  dispatch(again);
}

void Ring::Impl::on(Commit& c, const wire::JoinFrame& j, const wire::Header& h) {
  std::vector<NodeId> forming;
  for (const auto& m : c.token.members) forming.push_back(m.node);
  join_while_forming(c.proc, c.fail, forming, j, h, wire::Packet{h, j});
}

void Ring::Impl::on(Recovery& r, const wire::JoinFrame& j, const wire::Header& h) {
  join_while_forming(r.proc, r.fail, r.ring.members, j, h, wire::Packet{h, j});
}

// ---------------------------------------------------------------- commit token
void Ring::Impl::on(Gather& g, const wire::CommitFrame& c, const wire::Header& h) {
  (void)h;
  if (c.rotation != 1 || c.ring.seq <= installed_ring.seq) return;
  std::vector<NodeId> ring;
  for (const auto& m : c.members) ring.push_back(m.node);
  if (to_set(ring) != minus(g.proc, g.fail)) return;  // not the ring we agreed on
  auto mine = std::find_if(c.members.begin(), c.members.end(),
                           [&](const wire::CommitMember& m) { return m.node == me; });
  if (mine == c.members.end() || mine->incarnation != incarnation) return;
  max_ring_seq = std::max(max_ring_seq, c.ring.seq);
  wire::CommitFrame token = c;
  token.members[static_cast<std::size_t>(mine - c.members.begin())] = my_commit_entry(g.old);
  Log old = std::move(g.old);
  NodeSet proc = g.proc, fail = g.fail;
  enter_commit(std::move(old), std::move(proc), std::move(fail), std::move(token));
}

void Ring::Impl::on(Commit& c, const wire::CommitFrame& f, const wire::Header& h) {
  (void)h;
  if (f.ring != c.token.ring) return;
  const bool all_filled = std::all_of(f.members.begin(), f.members.end(),
                                      [](const wire::CommitMember& m) { return m.filled; });
  const bool rep = f.ring.rep == me;
  if (!all_filled) return;
  if ((f.rotation == 1 && rep) || (f.rotation == 2 && !rep)) {
    // Rotation 1 came back to the representative complete, or rotation 2 reached a member:
    // everyone's old-ring state is known, recovery starts.
    wire::CommitFrame second = f;
    second.rotation = 2;
    Log old = std::move(c.old);
    NodeSet proc = c.proc, fail = c.fail;
    enter_recovery(std::move(old), std::move(proc), std::move(fail), second);
    // Fast path: when every member already holds exactly its old ring's messages (aru = highest
    // held, the same across each old ring), recovery has nothing to exchange: install now.
    if (nothing_to_exchange(second)) install(std::get<Recovery>(state));
    std::vector<NodeId> ring;
    for (const auto& m : second.members) ring.push_back(m.node);
    pass_on(second, ring);
  }
}

bool Ring::Impl::nothing_to_exchange(const wire::CommitFrame& full) const {
  std::map<RingId, std::pair<Seq, Seq>> groups;  // old ring -> (lowest aru, highest held)
  for (const auto& m : full.members) {
    auto [g, fresh] = groups.emplace(m.old_ring, std::make_pair(m.aru, m.high));
    g->second.first = std::min(g->second.first, m.aru);
    g->second.second = std::max(g->second.second, m.high);
  }
  return std::all_of(groups.begin(), groups.end(),
                     [](const auto& g) { return g.second.first == g.second.second; });
}

void Ring::Impl::on(Recovery& r, const wire::CommitFrame& f, const wire::Header& h) {
  (void)h;
  // Rotation 2 back at the representative: the commit token becomes the new ring's token.
  if (f.ring == r.ring.ring && f.rotation == 2 && f.ring.rep == me && !r.token_started) {
    start_token(r);
  }
}

void Ring::Impl::on(Operational& o, const wire::CommitFrame& f, const wire::Header& h) {
  (void)h;
  // Rotation 2 back at a representative that took the fast path: start the ring's token, every
  // member has installed. Anything else is a late copy of the commit token.
  if (f.ring != o.ring.ring || f.rotation != 2 || f.ring.rep != me || o.slot.last_token_seq != 0) {
    return;
  }
  wire::TokenFrame tok;
  tok.ring = o.ring.ring;
  tok.token_seq = 1;
  tok.clean_hops = static_cast<std::uint32_t>(2 * o.ring.members.size());
  on(o, tok, wire::Header{me, incarnation});
}

// ---------------------------------------------------------------- leave
// A member of the installed ring that says it leaves has left cleanly, even when we had already
// failed it: its closed port can refuse our datagrams (on_unreachable) before its Leave is read.
// Only the incarnation that was in that ring: a restart of a member that crashed, leaving again,
// does not turn the crash into a clean exit.
bool Ring::Impl::note_leave(const wire::Header& h) {
  const Log& installed = std::visit(
      [](const auto& st) -> const Log& {
        if constexpr (std::is_same_v<std::decay_t<decltype(st)>, Operational>) return st.ring;
        else return st.old;
      },
      state);
  auto inc = installed.incarnations.find(h.sender);
  if (inc == installed.incarnations.end() || inc->second != h.incarnation) return false;
  left_nodes.insert(h.sender);
  return true;
}

void Ring::Impl::on(Gather& g, const wire::LeaveFrame& f, const wire::Header& h) {
  (void)f;
  note_leave(h);
  if (g.proc.count(h.sender) == 0 || g.fail.count(h.sender) != 0) return;
  g.fail.insert(h.sender);
  send_join(g);
  try_consensus(g);
}

void Ring::Impl::on(Commit& c, const wire::LeaveFrame& f, const wire::Header& h) {
  (void)f;
  note_leave(h);
  if (c.proc.count(h.sender) == 0) return;
  to_gather({}, {h.sender});
}

void Ring::Impl::on(Recovery& r, const wire::LeaveFrame& f, const wire::Header& h) {
  (void)f;
  note_leave(h);
  if (r.proc.count(h.sender) == 0) return;
  to_gather({}, {h.sender});
}

// The ring a Leave names is the one its sender last installed: older than ours when it stopped
// while still recovering into ours. So a member's incarnation decides, not the ring: a Leave
// from an earlier life of a member that came back is not this member leaving.
void Ring::Impl::on(Operational& o, const wire::LeaveFrame& f, const wire::Header& h) {
  (void)f;
  if (!o.ring.is_member(h.sender) || !note_leave(h)) return;
  to_gather({}, {h.sender});
}

// ---------------------------------------------------------------- peer unreachable
// Rule: a peer whose host refused our datagram (its totem port is closed) has lost its process,
// as surely as one whose token never came back — so act as on token loss, without the wait:
//  - Operational: the peer is a member of our ring → gather, the peer already in the fail set.
//  - Gather: the peer is in our proc set, not yet failed, and silent (no frame of it for two join
//    periods; a gathering node sends a Join every period) → fail it and send the Join that says
//    so (the others adopt the fail set from it).
//  - Commit, Recovery: the peer is a member of the ring being formed → that ring cannot complete
//    (its token would die with the peer): gather again without it, as a Leave does.
//  - Anything else (ourselves, a stranger, a node already failed or outside the ring) → ignore.
// A peer that shuts down cleanly sends its Leave and then closes its port; the refusal of a later
// datagram can still be read first. So a new gather waits for the join timer (or the others'
// Joins) before deciding, and the Leave read meanwhile makes the peer `left`, not `failed` (see
// note_leave) — a two-node ring's survivor would otherwise form its ring of one at once.
// Every datagram to a dead port brings its own report, so duplicates are the rule; the checks
// above make every report after the first a no-op. A report can also arrive late, after the
// peer restarted: in gather its new Joins make it not silent; in a ring it costs one membership
// round. The fail set lives in one gather round only, and a ring installed without the peer
// treats its Joins as a partition's to merge with (see on(Operational&, JoinFrame)), so a
// restarted peer comes back as usual. A peer that talks to us while its host refuses our frames
// (a wrong port for it in our nodelist) is no dead process: the silence condition leaves it to
// the consensus timeout, which records the one-way link so the membership settles.
void Ring::Impl::on_unreachable(NodeId peer) {
  if (peer == me) return;
  if (auto* g = std::get_if<Gather>(&state)) {
    if (g->proc.count(peer) == 0 || g->fail.count(peer) != 0 || heard_within(peer, 2 * s.join))
      return;
    g->fail.insert(peer);
    ++stats.peers_unreachable;
    send_join(*g);
    try_consensus(*g);  // a silent peer's Leave would have come long ago
  } else if (contains(current_members(), peer)) {
    ++stats.peers_unreachable;
    to_gather({}, {peer});
  }
}

// ---------------------------------------------------------------- merge detect
void Ring::Impl::on(Gather& g, const wire::MergeDetectFrame& f, const wire::Header& h) {
  (void)g, (void)f, (void)h;  // our joins reach them; their gather starts from those
}
void Ring::Impl::on(Commit& c, const wire::MergeDetectFrame& f, const wire::Header& h) {
  (void)c, (void)f, (void)h;  // merge once this ring is installed
}
void Ring::Impl::on(Recovery& r, const wire::MergeDetectFrame& f, const wire::Header& h) {
  (void)r, (void)f, (void)h;
}

void Ring::Impl::on(Operational& o, const wire::MergeDetectFrame& f, const wire::Header& h) {
  if (f.ring == o.ring.ring) return;
  // A member announcing another ring has left ours; a stranger's ring is a partition to merge.
  if (o.ring.is_member(h.sender) && f.ring.seq <= o.ring.ring.seq) return;
  if (!may_merge_with(h.sender, f.members)) {
    // Blocked by a record: offer a probe Join listing whom we hear; the other side merges only
    // if it proves the links work both ways (see the Join handler above).
    wire::JoinFrame probe;
    probe.ring = o.ring.ring;
    probe.max_ring_seq = max_ring_seq;
    probe.proc = o.ring.members;
    for (const auto& [n, at] : last_heard) {
      if (heard_within(n, probe_window(f.members.size()))) probe.heard.push_back(n);
    }
    probe.heard.push_back(me);
    std::sort(probe.heard.begin(), probe.heard.end());
    unicast(h.sender, probe);
    return;
  }
  to_gather(to_set(f.members), {});
}

}  // namespace vigil::totem
