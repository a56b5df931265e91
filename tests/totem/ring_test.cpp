// Ring driven by hand over a tiny lossless in-test network: the protocol's basic behaviour,
// input by input. The randomised, faulty runs are in tests/sim.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>

#include "totem/totem.h"
#include "totem/wire.h"

namespace vigil::totem {
namespace {

// A lossless network with 1 ms latency, delivering in send order.
struct Net {
  struct Pending {
    Millis at;
    NodeId from, to;
    Bytes bytes;
  };
  std::map<NodeId, Ring> rings;
  std::map<NodeId, std::map<Timer, Millis>> timers;
  std::deque<Pending> wire;
  std::map<NodeId, std::vector<Event>> events;
  std::set<NodeId> down;
  // (from, to): from's frames to `to` are refused by to's host (a wrong port for it in from's
  // nodelist): dropped, and from hears PeerUnreachable{to}.
  std::set<std::pair<NodeId, NodeId>> refused;
  std::map<NodeId, std::uint64_t> disk;  // persisted ring sequence numbers
  Millis now = 0;

  explicit Net(int n, TotemSettings s = {}) {
    for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) {
      rings.emplace(id, Ring(id, s, Rng(id), 0));
    }
    for (auto& [id, r] : rings) apply(id, r.step(Start{now}));
  }
  void apply(NodeId id, Effects fx) {
    if (fx.persist_ring_seq) disk[id] = *fx.persist_ring_seq;
    for (const auto& t : fx.timers) {
      if (t.deadline)
        timers[id][t.timer] = *t.deadline;
      else
        timers[id].erase(t.timer);
    }
    for (auto& f : fx.frames) {
      for (auto& [to, r] : rings) {
        if ((f.to && *f.to != to) || (!f.to && to == id)) continue;
        wire.push_back({now + 1, id, to, f.bytes});
      }
    }
    for (auto& e : fx.events) events[id].push_back(std::move(e));
  }
  void step(NodeId id, const Input& in) {
    if (down.count(id)) return;
    Effects fx = rings.at(id).step(in);
    rings.at(id).check_invariants();
    apply(id, std::move(fx));
  }
  // Advances to `until`, frames before timers at equal times.
  void run(Millis until) {
    while (now <= until) {
      while (!wire.empty() && wire.front().at <= now) {
        Pending p = std::move(wire.front());
        wire.pop_front();
        if (refused.count({p.from, p.to}) != 0)
          step(p.from, PeerUnreachable{p.to, now});
        else
          step(p.to, FrameReceived{p.from, p.bytes, now});
      }
      for (auto& [id, ts] : timers) {
        for (auto it = ts.begin(); it != ts.end();) {
          if (it->second <= now) {
            const Timer t = it->first;
            it = ts.erase(it);
            step(id, TimerFired{t, now});
            it = ts.begin();
          } else {
            ++it;
          }
        }
      }
      ++now;
    }
  }
  // Configuration changes of `id` from its `from`-th event on.
  std::vector<const ConfigChange*> configs(NodeId id, ConfigChange::Kind kind,
                                           std::size_t from = 0) {
    std::vector<const ConfigChange*> out;
    for (std::size_t i = from; i < events[id].size(); ++i) {
      const auto& e = events[id][i];
      if (auto* c = std::get_if<ConfigChange>(&e); c && c->kind == kind) out.push_back(c);
    }
    return out;
  }
  std::vector<Bytes> delivered(NodeId id) {
    std::vector<Bytes> out;
    for (const auto& e : events[id]) {
      if (auto* d = std::get_if<Delivery>(&e)) out.push_back(d->payload);
    }
    return out;
  }
};

TEST(Ring, SettingsDefaultsFollowCorosync) {
  const TotemSettings s = TotemSettings{}.resolved();
  EXPECT_EQ(s.token, 3000);
  EXPECT_EQ(s.token_retransmits_before_loss_const, 4);
  EXPECT_EQ(s.join, 50);
  EXPECT_EQ(s.consensus, 3600);
  EXPECT_EQ(s.max_messages, 17);
  EXPECT_EQ(s.send_join, 0);
  EXPECT_EQ(s.token_retransmit, 714);
  EXPECT_EQ(s.hold, 571);
}

TEST(Ring, OneNodeFormsARingAndDeliversItsOwnMessages) {
  Net net(1);
  net.run(500);
  ASSERT_TRUE(net.rings.at(1).operational());
  net.step(1, Send{Bytes{42}, net.now});
  net.run(net.now + 2000);
  EXPECT_EQ(net.delivered(1), std::vector<Bytes>{Bytes{42}});
  const auto regular = net.configs(1, ConfigChange::Kind::Regular);
  ASSERT_EQ(regular.size(), 1U);
  EXPECT_EQ(regular[0]->members, std::vector<NodeId>{1});
}

TEST(Ring, ThreeNodesAgreeOnMembershipAndOrder) {
  Net net(3);
  net.run(1000);
  for (NodeId n = 1; n <= 3; ++n) {
    ASSERT_TRUE(net.rings.at(n).operational()) << n;
    EXPECT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2, 3}));
    EXPECT_EQ(net.rings.at(n).ring_id(), net.rings.at(1).ring_id());
  }
  for (std::uint8_t i = 0; i < 30; ++i)
    net.step(static_cast<NodeId>(1 + i % 3), Send{Bytes{i}, net.now});
  net.run(net.now + 3000);
  ASSERT_EQ(net.delivered(1).size(), 30U);
  EXPECT_EQ(net.delivered(1), net.delivered(2));
  EXPECT_EQ(net.delivered(1), net.delivered(3));
}

TEST(Ring, SafeMessagesAreDeliveredOnceEveryMemberHoldsThem) {
  Net net(3);
  net.run(1000);
  net.step(2, Send{Bytes{1}, net.now, true});
  net.step(2, Send{Bytes{2}, net.now});
  // The token visits node 2, which multicasts both; one rotation later every member holds
  // them, a second rotation later every member knows it.
  net.run(net.now + 3000);
  for (NodeId n = 1; n <= 3; ++n) {
    EXPECT_EQ(net.delivered(n), (std::vector<Bytes>{Bytes{1}, Bytes{2}})) << n;
    for (const auto& e : net.events[n]) {
      if (const auto* d = std::get_if<Delivery>(&e)) {
        EXPECT_EQ(d->safe, d->payload == Bytes{1});
      }
    }
  }
}

TEST(Ring, AtMostMaxMessagesPerTokenVisit) {
  TotemSettings s;
  s.max_messages = 3;
  Net net(2, s);
  net.run(1000);
  for (std::uint8_t i = 0; i < 10; ++i) net.step(1, Send{Bytes{i}, net.now});
  // Count messages node 1 multicasts in response to one token.
  std::size_t most = 0;
  for (int visit = 0; visit < 20 && net.rings.at(1).backlog() > 0; ++visit) {
    const std::size_t before = net.rings.at(1).backlog();
    net.run(net.now + 1);
    most = std::max(most, before - net.rings.at(1).backlog());
  }
  EXPECT_LE(most, 3U);
  net.run(net.now + 1000);
  EXPECT_EQ(net.delivered(2).size(), 10U);
}

// Rule S1 (totem.h): a sync message waiting behind ordinary ones takes the next sequence numbers;
// sync messages keep their own order, and every member delivers the same order.
TEST(Ring, SyncMessagesAreOrderedBeforeTheOrdinaryOnesWaiting) {
  Net net(3);
  net.run(1000);
  for (std::uint8_t i = 0; i < 40; ++i) net.step(2, Send{Bytes{i}, net.now});
  net.step(2, Send{Bytes{100}, net.now, false, true});
  net.step(2, Send{Bytes{101}, net.now, true, true});
  net.run(net.now + 3000);
  std::vector<Bytes> expected{Bytes{100}, Bytes{101}};
  for (std::uint8_t i = 0; i < 40; ++i) expected.push_back(Bytes{i});
  for (NodeId n = 1; n <= 3; ++n) EXPECT_EQ(net.delivered(n), expected) << n;
}

// Rule S2: a sync message not yet sent when another ring is installed is dropped; an ordinary one
// waits for the new ring.
TEST(Ring, ASyncMessageForAnEarlierRingIsDroppedUnsent) {
  TotemSettings s;
  s.token = 1000;
  Net net(3, s);
  net.run(1000);
  const RingId first = net.rings.at(2).ring_id();
  net.down.insert(3);
  net.wire.clear();
  while (net.rings.at(2).operational() && net.now < 5000) net.run(net.now);
  ASSERT_FALSE(net.rings.at(2).operational());
  net.step(2, Send{Bytes{7}, net.now, false, true});
  net.step(2, Send{Bytes{8}, net.now});
  EXPECT_EQ(net.rings.at(2).backlog(), 2U);
  net.run(net.now + 5000);
  ASSERT_NE(net.rings.at(2).ring_id(), first);
  for (NodeId n = 1; n <= 2; ++n) EXPECT_EQ(net.delivered(n), std::vector<Bytes>{Bytes{8}}) << n;
}

TEST(Ring, CrashedNodeIsDroppedWithTransitionalThenRegularConfiguration) {
  TotemSettings s;
  s.token = 1000;
  Net net(3, s);
  net.run(1000);
  net.down.insert(3);
  net.wire.clear();  // its last frames die with it
  const std::size_t seen1 = net.events[1].size(), seen2 = net.events[2].size();
  const Millis crash = net.now;
  net.run(crash + 5000);
  for (NodeId n = 1; n <= 2; ++n) {
    const auto trans = net.configs(n, ConfigChange::Kind::Transitional, n == 1 ? seen1 : seen2);
    ASSERT_EQ(trans.size(), 1U);
    EXPECT_EQ(trans[0]->members, (std::vector<NodeId>{1, 2}));
    EXPECT_EQ(trans[0]->failed, std::vector<NodeId>{3});
    EXPECT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2}));
  }
  EXPECT_GE(net.rings.at(1).stats().token_losses + net.rings.at(2).stats().token_losses, 1U);
}

TEST(Ring, LeaveIsReportedAsLeftNotFailedAndFasterThanTokenLoss) {
  TotemSettings s;
  s.token = 3000;
  Net net(3, s);
  net.run(1000);
  const std::size_t seen = net.events[1].size();
  net.step(3, Leave{net.now});
  net.down.insert(3);
  const Millis left_at = net.now;
  net.run(left_at + 3000);  // well before token + consensus
  const auto trans = net.configs(1, ConfigChange::Kind::Transitional, seen);
  ASSERT_EQ(trans.size(), 1U);
  EXPECT_EQ(trans[0]->left, std::vector<NodeId>{3});
  EXPECT_TRUE(trans[0]->failed.empty());
}

// A node stopped while it still recovers into a ring that a peer already runs names the ring it
// last installed in its Leave, older than the peer's: the peer still counts it left, not failed
// (a clean shutdown must not get a node fenced).
TEST(Ring, ALeaveFromAMemberStillRecoveringIntoOurRingMeansLeft) {
  Net net(3);
  // The token installs the ring at 1, then 2, then 3: catch 3 between.
  bool caught = false;
  for (int i = 0; i < 2000 && !caught; ++i) {
    net.run(net.now);
    caught = net.rings.at(1).members().size() == 3 && net.rings.at(2).members().size() == 3 &&
             net.rings.at(1).operational() && net.rings.at(2).operational() &&
             !net.rings.at(3).operational();
  }
  ASSERT_TRUE(caught) << "nodes 1 and 2 never ran the ring of three before node 3";
  const std::size_t seen = net.events[1].size();
  net.step(3, Leave{net.now});
  net.down.insert(3);
  net.run(net.now + 3000);  // well before token + consensus
  const auto trans = net.configs(1, ConfigChange::Kind::Transitional, seen);
  ASSERT_EQ(trans.size(), 1U);
  EXPECT_EQ(trans[0]->members, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(trans[0]->left, std::vector<NodeId>{3});
  EXPECT_TRUE(trans[0]->failed.empty());
}

// ---- PeerUnreachable: a refused datagram (ICMP port unreachable) stands for a dead process.

bool contains_both(const std::vector<NodeId>& members, NodeId a, NodeId b) {
  return std::find(members.begin(), members.end(), a) != members.end() &&
         std::find(members.begin(), members.end(), b) != members.end();
}

// The Join frames among effects, decoded.
std::vector<wire::JoinFrame> joins_in(const Effects& fx) {
  std::vector<wire::JoinFrame> out;
  for (const auto& f : fx.frames) {
    auto p = wire::decode(f.bytes);
    if (p.ok()) {
      if (const auto* j = std::get_if<wire::JoinFrame>(&p->body)) out.push_back(*j);
    }
  }
  return out;
}

TEST(Ring, UnreachableMemberIsFailedAtOnceNotAfterTheTokenTimeout) {
  TotemSettings s;
  s.token = 3000;  // token + consensus: 6.6 s the survivors would otherwise wait
  Net net(3, s);
  net.run(1000);
  ASSERT_EQ(net.rings.at(1).members(), (std::vector<NodeId>{1, 2, 3}));
  const std::size_t seen1 = net.events[1].size(), seen2 = net.events[2].size();
  net.down.insert(3);
  net.wire.clear();
  const Millis killed = net.now;
  // Node 1's next datagram to node 3 is refused by node 3's host; only node 1 hears of it.
  net.step(1, PeerUnreachable{3, net.now});
  EXPECT_STREQ(net.rings.at(1).state_name(), "gather");
  net.run(killed + 100);  // a few join rounds, far below the token timeout
  for (NodeId n = 1; n <= 2; ++n) {
    ASSERT_TRUE(net.rings.at(n).operational()) << n;
    EXPECT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2})) << n;
    const auto trans = net.configs(n, ConfigChange::Kind::Transitional, n == 1 ? seen1 : seen2);
    ASSERT_EQ(trans.size(), 1U) << n;
    EXPECT_EQ(trans[0]->failed, std::vector<NodeId>{3}) << "a refusal is a failure, not a leave";
    EXPECT_TRUE(trans[0]->left.empty());
    EXPECT_EQ(net.rings.at(n).stats().token_losses, 0U) << n;
  }
  EXPECT_EQ(net.rings.at(1).stats().peers_unreachable, 1U);
}

TEST(Ring, UnreachableReportsAboutNonMembersAndMyselfAreIgnored) {
  Net net(2);
  net.run(1000);
  ASSERT_TRUE(net.rings.at(1).operational());
  const RingId ring = net.rings.at(1).ring_id();
  for (NodeId who : {NodeId{1}, NodeId{7}}) {  // myself; a nodelist entry never started
    const Effects fx = net.rings.at(1).step(PeerUnreachable{who, net.now});
    EXPECT_TRUE(fx.frames.empty()) << who;
    EXPECT_TRUE(fx.timers.empty()) << who;
    EXPECT_TRUE(fx.events.empty()) << who;
  }
  EXPECT_TRUE(net.rings.at(1).operational());
  EXPECT_EQ(net.rings.at(1).ring_id(), ring);
  // Nothing happens before Start either.
  Ring fresh(1, TotemSettings{}, Rng(1));
  EXPECT_TRUE(fresh.step(PeerUnreachable{2, 0}).frames.empty());
}

TEST(Ring, UnreachableInGatherFailsASilentPeerOnceAndConsensusFollows) {
  Ring r(1, TotemSettings{}, Rng(1));
  (void)r.step(Start{0});
  // Node 2 asks to form a ring of 1, 2 and 3: both are in our proc set now, node 3 has not
  // spoken yet, so we wait in gather.
  wire::JoinFrame j;
  j.ring = RingId{2, 0};
  j.proc = {1, 2, 3};
  j.heard = {1, 2, 3};
  const Bytes join = wire::encode({wire::Header{2, 5}, j});
  (void)r.step(FrameReceived{2, join, 10});
  ASSERT_STREQ(r.state_name(), "gather");
  // Node 3's host refuses: node 3 was never heard, it is failed at once.
  const auto sent = joins_in(r.step(PeerUnreachable{3, 20}));
  r.check_invariants();
  ASSERT_EQ(sent.size(), 1U) << "the Join that tells the others node 3 is given up on";
  EXPECT_EQ(sent[0].fail, std::vector<NodeId>{3});
  EXPECT_EQ(sent[0].proc, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_STREQ(r.state_name(), "gather") << "node 2 has not agreed to fail node 3 yet";
  // A duplicate report changes nothing.
  EXPECT_TRUE(joins_in(r.step(PeerUnreachable{3, 21})).empty());
  // Node 2 just spoke: a refusal now is no dead process (a wrong port for it, say), the consensus
  // timeout deals with it.
  EXPECT_TRUE(joins_in(r.step(PeerUnreachable{2, 30})).empty());
  EXPECT_STREQ(r.state_name(), "gather");
  // Silent for two join periods, node 2 is failed too, and the rest (just us) agree at once.
  (void)r.step(PeerUnreachable{2, 10 + 2 * TotemSettings{}.resolved().join + 1});
  r.check_invariants();
  EXPECT_STREQ(r.state_name(), "commit");
}

// SIGTERM: the peer sends its Leave, then its port closes. The refusal of a datagram sent after
// that can be read before the Leave; the peer still counts as left (not failed: no fencing).
TEST(Ring, ALeaveReadAfterTheRefusalStillMeansLeft) {
  for (int nodes : {2, 3}) {
    TotemSettings s;
    s.token = 3000;
    Net net(nodes, s);
    net.run(1000);
    const auto last = static_cast<NodeId>(nodes);
    const std::size_t seen = net.events[1].size();
    net.step(last, Leave{net.now});  // its Leave frames are on the wire, 1 ms away
    net.down.insert(last);
    net.step(1, PeerUnreachable{last, net.now});
    net.run(net.now + 500);
    const auto trans = net.configs(1, ConfigChange::Kind::Transitional, seen);
    ASSERT_EQ(trans.size(), 1U) << nodes;
    EXPECT_EQ(trans[0]->left, std::vector<NodeId>{last}) << nodes;
    EXPECT_TRUE(trans[0]->failed.empty()) << nodes;
    EXPECT_TRUE(net.rings.at(1).operational()) << nodes;
  }
}

TEST(Ring, DuplicateUnreachableReportsChangeTheMembershipOnce) {
  TotemSettings s;
  s.token = 3000;
  Net net(3, s);
  net.run(1000);
  const std::size_t seen = net.events[1].size();
  net.down.insert(3);
  net.wire.clear();
  // Every datagram to the dead port brings a report, to every sender, for a while.
  for (int i = 0; i < 20; ++i) {
    net.step(1 + static_cast<NodeId>(i % 2), PeerUnreachable{3, net.now});
    net.run(net.now + 10);
  }
  net.run(net.now + 1000);
  EXPECT_EQ(net.configs(1, ConfigChange::Kind::Regular, seen).size(), 1U);
  EXPECT_EQ(net.rings.at(1).members(), (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(net.rings.at(2).members(), (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(net.rings.at(1).stats().peers_unreachable + net.rings.at(2).stats().peers_unreachable,
            1U);
}

// A late report (the peer died, restarted at once and is back in the ring when the refusal of an
// older datagram comes in) costs one membership round; the peer merges back and the ring settles.
TEST(Ring, ALateReportAboutARestartedPeerDoesNotKeepItOut) {
  TotemSettings s;
  s.token = 3000;
  Net net(3, s);
  net.run(1000);
  net.down.insert(3);
  net.wire.clear();
  net.step(1, PeerUnreachable{3, net.now});
  net.run(net.now + 200);
  ASSERT_EQ(net.rings.at(1).members(), (std::vector<NodeId>{1, 2}));
  // Node 3 restarts (a fresh incarnation) and merges back.
  net.down.erase(3);
  net.rings.erase(3);
  net.timers.erase(3);
  net.rings.emplace(3, Ring(3, s, Rng(33), net.disk[3]));
  net.step(3, Start{net.now});
  net.run(net.now + 2000);
  ASSERT_EQ(net.rings.at(1).members(), (std::vector<NodeId>{1, 2, 3}));
  // The refusal of a datagram sent before the restart arrives only now, at both survivors.
  net.step(1, PeerUnreachable{3, net.now});
  net.step(2, PeerUnreachable{3, net.now});
  const std::size_t seen = net.events[3].size();
  net.run(net.now + 3000);
  for (NodeId n = 1; n <= 3; ++n) {
    EXPECT_TRUE(net.rings.at(n).operational()) << n;
    EXPECT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2, 3})) << n;
  }
  // Out and back in, then quiet: no flapping.
  EXPECT_LE(net.configs(3, ConfigChange::Kind::Regular, seen).size(), 2U);
  const std::size_t settled = net.events[1].size();
  net.run(net.now + 10000);
  EXPECT_TRUE(net.configs(1, ConfigChange::Kind::Regular, settled).empty());
}

// A live peer we cannot reach (its host refuses our frames: a wrong port for it in our nodelist)
// keeps calling us. We must not follow every call into a gather that fails it again: the
// membership settles, as under any standing one-way link failure.
TEST(Ring, AStandingRefusalSettlesInsteadOfFlapping) {
  TotemSettings s;
  s.token = 1000;
  Net net(3, s);
  net.run(1000);
  ASSERT_EQ(net.rings.at(1).members(), (std::vector<NodeId>{1, 2, 3}));
  net.refused.insert({1, 2});
  net.run(30000);
  const std::size_t changes = net.configs(1, ConfigChange::Kind::Regular).size() +
                              net.configs(2, ConfigChange::Kind::Regular).size() +
                              net.configs(3, ConfigChange::Kind::Regular).size();
  net.run(90000);
  EXPECT_EQ(net.configs(1, ConfigChange::Kind::Regular).size() +
                net.configs(2, ConfigChange::Kind::Regular).size() +
                net.configs(3, ConfigChange::Kind::Regular).size(),
            changes)
      << "still re-forming a minute later";
  for (NodeId n = 1; n <= 3; ++n) {
    EXPECT_TRUE(net.rings.at(n).operational()) << n;
    const auto m = net.rings.at(n).members();
    EXPECT_FALSE(contains_both(m, 1, 2)) << "n" << n << " shares a ring across the refusal";
  }
  // The port is fixed: the two ends merge again.
  net.refused.clear();
  net.run(net.now + 20000);
  for (NodeId n = 1; n <= 3; ++n)
    EXPECT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2, 3})) << n;
}

TEST(Ring, RestartedNodeNamesNewRingsAboveItsPersistedSequence) {
  Net net(2);
  net.run(1000);
  const RingId first = net.rings.at(1).ring_id();
  ASSERT_EQ(net.disk[1], first.seq);
  // Node 1 restarts: a fresh incarnation with the persisted floor; it is admitted again.
  net.rings.erase(1);
  net.timers.erase(1);
  net.wire.clear();
  net.rings.emplace(1, Ring(1, TotemSettings{}, Rng(99), net.disk[1]));
  net.step(1, Start{net.now});
  net.run(net.now + 12000);
  for (NodeId n = 1; n <= 2; ++n) {
    EXPECT_TRUE(net.rings.at(n).operational()) << n;
    EXPECT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2})) << n;
    EXPECT_GT(net.rings.at(n).ring_id().seq, first.seq) << n;
  }
}

// The representative restarts before the others notice it died. Whether its floor is the ring
// sequence it persisted (its boot ring must not be named like the ring it created) or one write
// short of it (a lost write: its new incarnation gives it away), it is no survivor of its old
// ring: the others report it failed and then joined, and its own first configuration lists them
// as joined (seen: `transitional [1,2,3]`, nothing failed, and an empty `joined` at node 1).
TEST(Ring, RestartedRepresentativeIsNoSurvivorOfTheRingItCreated) {
  for (const std::uint64_t lost : {0, 4}) {
    TotemSettings s;
    s.token = 1000;
    Net net(3, s);
    net.run(1000);
    ASSERT_EQ(net.rings.at(2).ring_id().rep, 1U);
    ASSERT_EQ(net.disk[1], net.rings.at(2).ring_id().seq);
    std::erase_if(net.wire, [](const Net::Pending& p) { return p.from == 1 || p.to == 1; });
    net.rings.erase(1);
    net.timers.erase(1);
    net.events.erase(1);
    net.rings.emplace(1, Ring(1, s, Rng(77), net.disk[1] - lost));
    net.step(1, Start{net.now});
    const std::size_t seen2 = net.events[2].size();
    net.run(net.now + 5000);
    for (NodeId n = 1; n <= 3; ++n) {
      ASSERT_EQ(net.rings.at(n).members(), (std::vector<NodeId>{1, 2, 3})) << n;
    }
    const auto trans = net.configs(2, ConfigChange::Kind::Transitional, seen2);
    ASSERT_FALSE(trans.empty()) << "lost " << lost;
    EXPECT_EQ(trans[0]->members, (std::vector<NodeId>{2, 3})) << "lost " << lost;
    EXPECT_EQ(trans[0]->failed, std::vector<NodeId>{1}) << "lost " << lost;
    const auto joined2 = net.configs(2, ConfigChange::Kind::Regular, seen2);
    ASSERT_FALSE(joined2.empty());
    EXPECT_EQ(joined2[0]->joined, std::vector<NodeId>{1}) << "lost " << lost;
    const auto first1 = net.configs(1, ConfigChange::Kind::Regular);
    ASSERT_FALSE(first1.empty());
    EXPECT_EQ(first1.back()->joined, (std::vector<NodeId>{2, 3})) << "lost " << lost;
  }
}

TEST(Ring, RejectsGarbageAndSpoofedSenders) {
  Ring r(1, TotemSettings{}, Rng(1));
  (void)r.step(Start{0});
  const Bytes junk{1, 2, 3};
  (void)r.step(FrameReceived{2, junk, 1});
  const Bytes leave = wire::encode({wire::Header{3, 1}, wire::LeaveFrame{RingId{3, 0}}});
  (void)r.step(FrameReceived{2, leave, 1});  // claims to be 3, arrives from 2
  EXPECT_EQ(r.stats().frames_rejected, 2U);
  r.check_invariants();
}

// A rotation is timed between two receipts of the token at one node, from the times passed in:
// on the idle ring the representative parks the token for `hold`, so each rotation seen at node
// 2 is the hold and three 1 ms hops; while messages wait, the token only makes its hops.
TEST(Ring, TokenRotationsAreTimedFromTheTimesPassedIn) {
  Net net(3);
  net.run(3000);  // formed and settled: the ring is idle
  ASSERT_TRUE(net.rings.at(2).operational());
  // Each rotation seen at node 2 over the next `span` ms, stepped 1 ms at a time.
  const auto rotations = [&](Millis span) {
    std::vector<Millis> seen;
    for (Millis t = 0; t < span; ++t) {
      const auto before = net.rings.at(2).stats().token_rotations;
      net.run(net.now + 1);
      const RingStats& now = net.rings.at(2).stats();
      if (now.token_rotations != before) seen.push_back(now.last_token_rotation);
    }
    return seen;
  };
  const Millis hold = TotemSettings{}.resolved().hold;
  const auto idle = rotations(10 * (hold + 3));
  ASSERT_GE(idle.size(), 8U);
  EXPECT_EQ(std::count(idle.begin(), idle.end(), hold + 3), std::ssize(idle))
      << testing::PrintToString(idle);

  for (std::uint8_t i = 0; i < 200; ++i) net.step(1, Send{Bytes{i}, net.now});
  // While messages wait, the token is not held: a rotation is its three 1 ms hops.
  const auto busy = rotations(100);
  EXPECT_GE(std::count(busy.begin(), busy.end(), Millis{3}), 5) << testing::PrintToString(busy);
  EXPECT_EQ(std::count_if(busy.begin(), busy.end(), [](Millis m) { return m < 3; }), 0);
}

TEST(Ring, StaleTimerFiringsAreIgnored) {
  Ring r(1, TotemSettings{}, Rng(1));
  (void)r.step(Start{0});
  const Effects fx = r.step(TimerFired{Timer::TokenHold, 10});
  EXPECT_TRUE(fx.frames.empty());
  EXPECT_TRUE(fx.events.empty());
}

}  // namespace
}  // namespace vigil::totem
