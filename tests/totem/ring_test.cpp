// Ring driven by hand over a tiny lossless in-test network: the protocol's basic behaviour,
// input by input. The randomised, faulty runs are in tests/sim.
#include <gtest/gtest.h>

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

TEST(Ring, StaleTimerFiringsAreIgnored) {
  Ring r(1, TotemSettings{}, Rng(1));
  (void)r.step(Start{0});
  const Effects fx = r.step(TimerFired{Timer::TokenHold, 10});
  EXPECT_TRUE(fx.frames.empty());
  EXPECT_TRUE(fx.events.empty());
}

}  // namespace
}  // namespace vigil::totem
