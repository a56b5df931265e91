// The node core composed: several Node cores in-process over a tiny deterministic network (every
// frame takes 1 ms, links can be cut, hosts can vanish), stepped on a shared clock as the daemon
// steps one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "node/node.h"
#include "quorum/witness.h"

namespace vigil::node {
namespace {

totem::TotemSettings fast_totem() {
  totem::TotemSettings s;
  s.token = 1000;
  return s;
}

std::optional<quorum::Votequorum> votequorum(int nodes, std::uint32_t device_votes = 0) {
  quorum::Settings s;
  s.device_votes = device_votes;
  for (int id = 1; id <= nodes; ++id) s.nodelist.push_back({static_cast<NodeId>(id), 1});
  auto vq = quorum::Votequorum::create(s);
  EXPECT_TRUE(vq.ok());
  return std::move(*vq);
}

std::vector<ListedNode> listed(int nodes) {
  std::vector<ListedNode> out;
  for (int id = 1; id <= nodes; ++id)
    out.push_back({static_cast<NodeId>(id), "n" + std::to_string(id),
                   {"127.0.0." + std::to_string(id)}, 1});
  return out;
}

std::string text_of(const groups::GroupEvent& e) {
  if (const auto* m = std::get_if<groups::GroupMessage>(&e))
    return "msg " + std::to_string(m->sender.node) + " " +
           std::string(m->data.begin(), m->data.end());
  const auto& c = std::get<groups::GroupChange>(e);
  std::string s = std::string("change ") + groups::to_string(c.reason) + ":";
  for (const auto& m : c.members) s += " " + std::to_string(m.node) + "/" + std::to_string(m.pid);
  return s;
}

class Net {
 public:
  struct Peer {
    std::unique_ptr<Node> node;
    std::array<std::optional<Millis>, kTimerCount> timers;
    bool up = true;
    std::uint64_t persisted = 0;
    std::map<std::uint32_t, std::vector<std::string>> heard;  // by pid
    std::vector<ViewChange> views;
    std::vector<LogEvent> logs;
    std::vector<NodelistApplied> applied;
    std::vector<NodelistReply> nodelist_replies;
    std::vector<Millis> feeds;               // when the node fed its watchdog
    std::map<NodeId, Millis> seen_reset;     // when a lost node first showed up as reset
    std::optional<Millis> lease_lost;        // when the view first said the lease is lost
    bool paused = false;                     // frames wait in `held`, timers wait
    std::vector<std::pair<NodeId, Bytes>> held;
    std::vector<totem::Delivery> delivered;  // what the ring delivered, every channel
  };

  Net(int nodes, bool with_quorum, std::optional<Millis> watchdog = std::nullopt,
      std::uint32_t device_votes = 0) {
    for (int i = 1; i <= nodes; ++i) {
      const auto id = static_cast<NodeId>(i);
      peers_[id].node = std::make_unique<Node>(
          Settings{id, fast_totem(), with_quorum ? votequorum(nodes, device_votes) : std::nullopt, 0,
                   std::nullopt, watchdog, listed(nodes), std::nullopt},
          Rng(id));
    }
  }

  Peer& operator[](NodeId id) { return peers_.at(id); }
  Millis now() const { return now_; }

  Output step(NodeId id, const Input& input) {
    auto out = peers_.at(id).node->step(input);
    apply(id, out);
    return out;
  }
  void start_all() {
    for (auto& [id, p] : peers_) step(id, Start{now_});
  }
  void start(NodeId id) { step(id, Start{now_}); }
  void cut(NodeId a, NodeId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void crash(NodeId id) { peers_.at(id).up = false; }
  void heal(NodeId a, NodeId b) {
    cut_.erase({a, b});
    cut_.erase({b, a});
  }
  // A frozen process: nothing runs, datagrams wait in its socket and are read after the thaw.
  void pause(NodeId id) { peers_.at(id).paused = true; }
  void resume(NodeId id) {
    auto& p = peers_.at(id);
    p.paused = false;
    auto held = std::move(p.held);
    for (auto& [from, bytes] : held) step(id, FrameReceived{from, bytes, now_});
  }

  // Frames first, then the earliest timer (lowest node, lowest timer on a tie); bounded.
  void run_until(Millis until) {
    for (int i = 0; i < 1'000'000; ++i) {
      const auto timer = next_timer();
      const bool frame_due = !wire_.empty() && (!timer || wire_.front().at <= timer->at);
      const Millis next = frame_due ? wire_.front().at : timer ? timer->at : until + 1;
      if (next > until) break;
      now_ = next;
      if (frame_due) {
        auto f = std::move(wire_.front());
        wire_.pop_front();
        auto& to = peers_.at(f.to);
        if (to.up && to.paused) to.held.emplace_back(f.from, std::move(f.bytes));
        if (to.up && !to.paused) step(f.to, FrameReceived{f.from, f.bytes, now_});
        continue;
      }
      peers_.at(timer->node).timers[timer->index].reset();
      step(timer->node, TimerFired{static_cast<Timer>(timer->index), now_});
    }
    now_ = std::max(now_, until);
  }

 private:
  struct InFlight {
    Millis at;
    NodeId from, to;
    Bytes bytes;
  };
  struct Due {
    Millis at;
    NodeId node;
    std::size_t index;
  };

  std::optional<Due> next_timer() const {
    std::optional<Due> best;
    for (const auto& [id, p] : peers_) {
      if (!p.up || p.paused) continue;
      for (std::size_t t = 0; t < p.timers.size(); ++t) {
        if (p.timers[t] && (!best || *p.timers[t] < best->at)) best = Due{*p.timers[t], id, t};
      }
    }
    return best;
  }

  void apply(NodeId id, const Output& out) {
    auto& p = peers_.at(id);
    if (out.persist_ring_seq) {
      EXPECT_GE(*out.persist_ring_seq, p.persisted);
      p.persisted = *out.persist_ring_seq;
    }
    for (const auto& f : out.frames) {
      EXPECT_NE(f.to, std::optional<NodeId>(id)) << "a frame to itself left node " << id;
      for (const auto& [to, q] : peers_) {
        if (to == id || (f.to && *f.to != to) || cut_.count({id, to}) != 0) continue;
        wire_.push_back(InFlight{now_ + 1, id, to, f.bytes});
      }
    }
    for (const auto& t : out.timers) p.timers[static_cast<std::size_t>(t.timer)] = t.deadline;
    if (out.feed_watchdog) p.feeds.push_back(now_);
    p.applied.insert(p.applied.end(), out.nodelist_changes.begin(), out.nodelist_changes.end());
    for (const auto& r : out.nodelist_replies) p.nodelist_replies.push_back(r);
    p.logs.insert(p.logs.end(), out.logs.begin(), out.logs.end());
    for (const auto& e : out.ring_events) {
      if (const auto* d = std::get_if<totem::Delivery>(&e)) p.delivered.push_back(*d);
    }
    for (const auto& n : out.notices) {
      if (const auto* g = std::get_if<GroupNotice>(&n)) {
        p.heard[g->pid].push_back(text_of(g->event));
      } else {
        const auto& v = std::get<ViewChange>(n);
        // A ring is named only after its sequence is persisted (by this output or an earlier one).
        EXPECT_LE(v.view.ring.seq, p.persisted) << "node " << id;
        p.views.push_back(v);
        for (auto lost : v.view.reset) p.seen_reset.emplace(lost, now_);
        if (!v.view.leased && !p.lease_lost) p.lease_lost = now_;
      }
    }
  }

  std::map<NodeId, Peer> peers_;
  std::deque<InFlight> wire_;  // every frame takes 1 ms, so this stays in time order
  std::set<std::pair<NodeId, NodeId>> cut_;
  Millis now_ = 0;
};

bool logged(const Net::Peer& p, Subsystem subsystem, const std::string& words) {
  return std::any_of(p.logs.begin(), p.logs.end(), [&](const LogEvent& l) {
    return l.subsystem == subsystem && l.text.find(words) != std::string::npos;
  });
}

// A nodelist change asked on one member is ordered through the ring and taken by every member at
// the same point: the list, votequorum's expected votes and the proposer's answer follow it.
TEST(Node, ANodelistChangeIsTakenByEveryMemberAndExpectedVotesFollow) {
  Net net(3, true);
  net.start_all();
  net.run_until(3000);
  ASSERT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2, 3}));
  const ListedNode n4{4, "n4", {"127.0.0.4"}, 1};
  auto asked = net.step(2, NodelistPropose{{NodelistChange::Kind::Add, n4, 11}, net.now()});
  EXPECT_TRUE(asked.nodelist_replies.empty());  // answered once it comes back in order
  net.run_until(net.now() + 3000);
  const auto& replies = net[2].nodelist_replies;
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].ticket, 11u);
  EXPECT_TRUE(replies[0].result.ok());
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(net[id].node->nodelist().size(), 4u) << id;
    EXPECT_EQ(net[id].node->quorum()->status().expected_votes, 4u) << id;
    EXPECT_EQ(net[id].node->quorum()->status().quorum, 3u) << id;
    EXPECT_EQ(net[id].applied.size(), 1u) << id;
  }
  // A duplicate is answered at once and goes nowhere; a member of the ring cannot be removed.
  auto twice = net.step(1, NodelistPropose{{NodelistChange::Kind::Add, n4, 12}, net.now()});
  ASSERT_EQ(twice.nodelist_replies.size(), 1u);
  EXPECT_EQ(twice.nodelist_replies[0].result.error().message,
            "nodelist_add: node 4 (n4): node id 4 is already node 4 (n4)'s");
  auto member = net.step(1, NodelistPropose{{NodelistChange::Kind::Remove, {3, "", {}, 1}, 13},
                                            net.now()});
  ASSERT_EQ(member.nodelist_replies.size(), 1u);
  EXPECT_FALSE(member.nodelist_replies[0].result.ok());
  // Node 4 never came: removing it brings expected votes back on every member.
  net.step(3, NodelistPropose{{NodelistChange::Kind::Remove, {4, "", {}, 1}, 14}, net.now()});
  net.run_until(net.now() + 3000);
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(net[id].node->nodelist().size(), 3u) << id;
    EXPECT_EQ(net[id].node->quorum()->status().expected_votes, 3u) << id;
    EXPECT_EQ(net[id].node->quorum()->status().highest_expected, 3u) << id;
    ASSERT_EQ(net[id].applied.size(), 2u) << id;
    EXPECT_EQ(net[id].applied[1].change.kind, NodelistChange::Kind::Remove);
    EXPECT_EQ(net[id].node->seen().size(), 3u);
  }
  EXPECT_TRUE(logged(net[1], Subsystem::Main,
                     "nodelist: node 4 (n4) removed (asked on node 3); 3 node(s) listed, expected "
                     "votes 3"));
}

TEST(Node, ThreeNodesFormOneRingAndTellTheServices) {
  Net net(3, false);
  net.start_all();
  net.run_until(3000);
  for (NodeId id = 1; id <= 3; ++id) {
    const auto& v = net[id].node->view();
    EXPECT_EQ(v.members, (std::vector<NodeId>{1, 2, 3})) << "node " << id;
    EXPECT_EQ(v.ring, net[1].node->view().ring);
    EXPECT_TRUE(v.quorate);  // no quorum provider
    ASSERT_FALSE(net[id].views.empty());
    EXPECT_EQ(net[id].views.back().view, v);
    EXPECT_TRUE(net[id].views.back().new_ring);
    EXPECT_TRUE(logged(net[id], Subsystem::Totem, "A new membership (1."));
  }
}

// Each node's member hears the same changes and messages in the same order, whoever sent them.
TEST(Node, GroupMessagesAreDeliveredInTheSameOrderEverywhere) {
  Net net(3, false);
  net.start_all();
  net.run_until(3000);
  for (NodeId id = 1; id <= 3; ++id) {
    auto out = net.step(id, GroupJoin{"g", 100 + id, net.now()});
    EXPECT_FALSE(out.refused);
  }
  net.run_until(3100);
  for (int round = 0; round < 5; ++round) {
    for (NodeId id = 1; id <= 3; ++id) {
      const std::string data = "m" + std::to_string(round);
      net.step(id, GroupSend{"g",
                             100 + id,
                             {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()},
                             net.now()});
    }
    net.run_until(net.now() + 7);
  }
  net.run_until(5000);
  const auto& first = net[1].heard[101];
  // Node 1 joined first: it hears every join and all fifteen messages.
  EXPECT_EQ(std::count_if(first.begin(), first.end(),
                          [](const std::string& s) { return s.starts_with("msg"); }),
            15);
  EXPECT_EQ(first.back().substr(0, 3), "msg");
  for (NodeId id = 2; id <= 3; ++id) {
    const auto& heard = net[id].heard[100 + id];
    ASSERT_LE(heard.size(), first.size());
    // A later joiner's history is the tail of node 1's from its own join on.
    EXPECT_TRUE(
        std::equal(heard.begin(), heard.end(), first.end() - static_cast<long>(heard.size())))
        << "node " << id;
  }
}

// A new ring's join lists are the ring's sync messages: a node's join list goes out ahead of the
// group messages waiting in its backlog, so the others' barriers do not wait for that backlog.
TEST(Node, AJoinListGoesOutAheadOfTheBacklogAfterANewRing) {
  Net net(3, false);
  net.start(1);
  net.start(2);
  net.run_until(3000);
  ASSERT_EQ(net[2].node->view().members, (std::vector<NodeId>{1, 2}));
  ASSERT_FALSE(net.step(2, GroupJoin{"g", 7, net.now()}).refused);
  net.run_until(3100);
  // A backlog of many rotations (a rotation takes 50 messages), and at once a node comes.
  const Bytes data{1, 2, 3};
  for (int i = 0; i < 1000; ++i)
    ASSERT_FALSE(net.step(2, GroupSend{"g", 7, data, net.now()}).refused);
  net.start(3);
  net.run_until(6000);
  ASSERT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2, 3}));
  const totem::RingId ring = net[1].node->view().ring;
  // Node 2's payloads as node 1 delivered them in the new ring: its join list first.
  std::vector<std::uint8_t> kinds;  // groups' payload kinds (4: join list)
  for (const auto& d : net[1].delivered) {
    if (d.sender == 2 && d.config == ring && d.payload.size() > 2 &&
        d.payload[0] == static_cast<std::uint8_t>(Channel::Groups))
      kinds.push_back(d.payload[2]);
  }
  ASSERT_GT(kinds.size(), 1u);
  EXPECT_EQ(kinds.front(), 4) << "node 2's join list waited behind its backlog";
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), 4), 1);
}

TEST(Node, QuorumIsReachedAndLostWithTheMajority) {
  Net net(3, true);
  net.start_all();
  net.run_until(3000);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_TRUE(net[id].node->view().quorate) << "node " << id;
    EXPECT_TRUE(logged(net[id], Subsystem::Quorum, "within the primary component"));
  }
  net.cut(3, 1);
  net.cut(3, 2);
  net.run_until(10000);
  EXPECT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2}));
  EXPECT_TRUE(net[1].node->view().quorate);
  EXPECT_TRUE(net[2].node->view().quorate);
  EXPECT_EQ(net[3].node->view().members, (std::vector<NodeId>{3}));
  EXPECT_FALSE(net[3].node->view().quorate);
  EXPECT_FALSE(net[3].views.back().view.quorate);
  EXPECT_TRUE(logged(net[3], Subsystem::Quorum,
                     "This node is within the non-primary component and will NOT provide any "
                     "services."));
}

// The ring sequence to persist comes in the output whose frames first name it, and a node started
// again from what it persisted never names a ring as before.
TEST(Node, TheRingSequenceIsPersistedBeforeAnyFrameNamesIt) {
  Node alone(Settings{1, fast_totem(), std::nullopt, 40, std::nullopt, std::nullopt, {}, std::nullopt}, Rng(1));
  auto out = alone.step(Start{0});
  ASSERT_TRUE(out.persist_ring_seq);
  EXPECT_GE(*out.persist_ring_seq, 44u);
  Net net(2, false);  // the Net checks every view against what was persisted by then
  net.start_all();
  net.run_until(3000);
  EXPECT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2}));
  EXPECT_GE(net[1].persisted, net[1].node->view().ring.seq);
}

TEST(Node, ALoneNodeLoopsItsOwnFramesWithinTheStep) {
  Net net(1, false);
  net.start_all();
  net.run_until(1000);
  EXPECT_EQ(net[1].node->view().members, (std::vector<NodeId>{1}));
  const std::string data = "x";
  net.step(1, GroupJoin{"g", 7, net.now()});
  net.step(1,
           GroupSend{"g", 7, {reinterpret_cast<const std::uint8_t*>(data.data()), 1}, net.now()});
  net.run_until(1100);
  EXPECT_EQ(net[1].heard[7], (std::vector<std::string>{"change join: 1/7", "msg 1 x"}));
  auto refused = net.step(1, GroupJoin{"", 7, net.now()});
  ASSERT_TRUE(refused.refused);
  EXPECT_NE(refused.refused->message.find("group name"), std::string::npos);
  EXPECT_TRUE(refused.frames.empty());
}

TEST(Node, ALostTokenIsLoggedAsTheReasonForTheNewMembership) {
  Net net(3, false);
  net.start_all();
  net.run_until(3000);
  net.crash(3);
  net.run_until(10000);
  EXPECT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2}));
  const bool timed_out = logged(net[1], Subsystem::Totem, "token lost: not received for 1000 ms") ||
                         logged(net[2], Subsystem::Totem, "token lost: not received for 1000 ms");
  EXPECT_TRUE(timed_out);
  EXPECT_TRUE(logged(net[1], Subsystem::Totem, "Node(s) 3 failed ("));
}

TEST(Node, APeerUnreachableIsLoggedOnceAndNamedAsTheCause) {
  Net net(3, false);
  net.start_all();
  net.run_until(3000);
  net.crash(3);
  auto out = net.step(1, PeerUnreachable{3, "127.0.0.3:5405", net.now()});
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_EQ(out.logs[0].level, Level::Warn);
  EXPECT_NE(out.logs[0].text.find("peer 3 (127.0.0.3:5405) unreachable: its totem port is closed"),
            std::string::npos);
  // A repeat changes nothing and says nothing.
  EXPECT_TRUE(net.step(1, PeerUnreachable{3, "127.0.0.3:5405", net.now()}).logs.empty());
  net.run_until(6000);
  EXPECT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2}));
  EXPECT_TRUE(logged(net[1], Subsystem::Totem, "Node(s) 3 failed (totem port closed)"));
}

// ---- the watchdog lease (lease.h)

constexpr Millis kWatchdog = 400;  // fed every 100 ms

// The longest the node went without feeding between `from` and `to` (a gap running past `to`
// counts up to `to`).
Millis longest_hunger(const Net::Peer& p, Millis from, Millis to) {
  Millis last = from, longest = 0;
  for (auto at : p.feeds) {
    if (at < from || at > to) continue;
    longest = std::max(longest, at - last);
    last = at;
  }
  return std::max(longest, to - last);
}

TEST(Lease, TheFiguresOfTheHeaderComment) {
  totem::TotemSettings s;
  s.token = 3650;  // token 3000 on three nodes
  const auto t = LeaseTimes::of(s.resolved(), 1000);
  EXPECT_EQ(t.span, 11680);
  EXPECT_EQ(t.wait, 13188);
  EXPECT_EQ(t.margin(), 508);
  EXPECT_EQ(t.feed_interval, 250);
}

// Rule 1: only a rotation this node started and saw come back, in a quorate ring, renews.
TEST(Lease, OnlyARotationItStartedRenews) {
  totem::TotemSettings s;
  s.token = 1000;
  Lease lease(LeaseTimes::of(s.resolved(), kWatchdog));
  const totem::RingId a{1, 4}, b{1, 8};
  lease.installed(true, {1, 2, 3}, true, 0);
  lease.received(a, true, {1, 2, 3}, 10);  // a receipt alone
  EXPECT_EQ(lease.state(), LeaseState::Idle);
  lease.forwarded(a, 20);
  lease.installed(true, {1, 2, 3}, true, 30);  // a new ring in between
  lease.received(b, true, {1, 2, 3}, 40);
  EXPECT_EQ(lease.state(), LeaseState::Idle);
  lease.forwarded(b, 50);
  lease.forwarded(b, 60);  // a retransmission: the rotation still started at 50
  lease.received(b, true, {1, 2, 3}, 70);
  EXPECT_EQ(lease.state(), LeaseState::Held);
  const Millis span = lease.times().span;
  EXPECT_TRUE(lease.feeds(50 + span - 1));
  EXPECT_FALSE(lease.feeds(50 + span));
  EXPECT_EQ(lease.state(), LeaseState::Lost);
  // Lost for good: a later rotation does not bring it back.
  lease.forwarded(b, 50 + span + 1);
  lease.received(b, true, {1, 2, 3}, 50 + span + 2);
  EXPECT_FALSE(lease.feeds(50 + span + 3));
}

TEST(Lease, QuorumLostLosesIt) {
  totem::TotemSettings s;
  s.token = 1000;
  Lease lease(LeaseTimes::of(s.resolved(), kWatchdog));
  const totem::RingId a{1, 4};
  lease.installed(true, {1, 2, 3}, true, 0);
  lease.forwarded(a, 10);
  lease.received(a, true, {1, 2, 3}, 20);
  ASSERT_EQ(lease.state(), LeaseState::Held);
  lease.quorum(false, 30);
  EXPECT_FALSE(lease.feeds(31));
  EXPECT_EQ(lease.lost_because(), "quorum lost");
  lease.quorum(true, 40);
  EXPECT_FALSE(lease.feeds(41));
}

// Rule 3: a survivor names a lost node reset only a whole wait after its record, and only once
// its own rotations show that node's lease ran out.
TEST(Lease, ResetByCountsFromTheRecordOrTheFloor) {
  totem::TotemSettings s;
  s.token = 1000;
  Lease lease(LeaseTimes::of(s.resolved(), kWatchdog));
  const auto& t = lease.times();
  const totem::RingId a{1, 4}, b{1, 8};
  lease.installed(true, {1, 2, 3}, true, 0);
  lease.forwarded(a, 5);
  lease.received(a, true, {1, 2, 3}, 100);  // r(3) = 100
  lease.installed(true, {1, 2}, false, 2000);  // no joins, the floor stays at 0
  // Until this node's own rotation started after r(3) + lapse, it cannot say.
  EXPECT_FALSE(lease.reset_by(3, 2100));
  Millis now = 2100;
  while (now < 100 + t.lapse + 200) {  // rotations every 100 ms keep it held
    lease.forwarded(b, now);
    lease.received(b, true, {1, 2}, now + 50);
    now += 100;
  }
  ASSERT_TRUE(lease.reset_by(3, now));
  EXPECT_EQ(*lease.reset_by(3, now), 100 + t.wait);
  // A node never seen with this one counts from the floor, the first quorate ring.
  EXPECT_EQ(*lease.reset_by(9, now), 0 + t.wait);
  // A ring with a joined member raises the floor for everyone outside it.
  lease.installed(true, {1, 2, 3}, true, now);
  EXPECT_FALSE(lease.reset_by(3, now));
}

// A ring installed without quorum that gains it later (the witness's vote came) sets the floor
// then: the survivor of a peer gone for good can name it reset, a wait after the gain.
TEST(Lease, QuorumGainedWithinARingSetsTheFloor) {
  totem::TotemSettings s;
  s.token = 1000;
  Lease lease(LeaseTimes::of(s.resolved(), kWatchdog));
  const auto& t = lease.times();
  const totem::RingId a{2, 4};
  lease.installed(false, {2}, false, 0);
  lease.refused(1, 100);  // from before the gain: proves nothing any more
  lease.quorum(true, 3000);
  Millis now = 3000;
  while (now < 3000 + t.lapse + 200) {
    lease.forwarded(a, now);
    lease.received(a, true, {2}, now + 50);
    now += 100;
  }
  ASSERT_EQ(lease.state(), LeaseState::Held);
  EXPECT_FALSE(lease.refused_at(1));
  ASSERT_TRUE(lease.reset_by(1, now));
  EXPECT_EQ(*lease.reset_by(1, now), 3000 + t.wait);
}

// Rule 5: a refusal proves the process dead, so its host is reset a watchdog timeout (stretched)
// and a reset's latency later, whatever the ring last saw of it; until a ring has it back.
TEST(Lease, ARefusalCountsFromItself) {
  totem::TotemSettings s;
  s.token = 3650;
  Lease lease(LeaseTimes::of(s.resolved(), 1000));
  EXPECT_EQ(lease.times().refused_wait, 1273);  // ⌈(⌈1000 · 1.01⌉ + 250) · 1.01⌉
  const totem::RingId a{1, 4}, b{1, 8};
  lease.installed(true, {1, 2, 3}, true, 0);
  lease.forwarded(a, 5);
  lease.received(a, true, {1, 2, 3}, 100);
  lease.refused(3, 150);
  lease.refused(3, 400);  // a later refusal proves less
  lease.installed(true, {1, 2}, false, 200);
  lease.forwarded(b, 210);
  lease.received(b, true, {1, 2}, 220);
  ASSERT_TRUE(lease.reset_by(3, 300));
  EXPECT_EQ(*lease.reset_by(3, 300), 150 + 1273);
  EXPECT_FALSE(lease.reset_by(2, 300)) << "node 2 was not refused: Rule 3's wait";
  // Node 3 is back in a ring: a later loss of it waits Rule 3's span again.
  lease.installed(true, {1, 2, 3}, true, 5000);
  lease.installed(true, {1, 2}, false, 6000);
  lease.forwarded(b, 6010);
  lease.received(b, true, {1, 2}, 6020);
  EXPECT_FALSE(lease.reset_by(3, 6030));
}

// A refusal before a ring with a joined member proves nothing any more: the joined member may
// come from a quorate ring in which a vigild restarted on the refused host won a lease.
TEST(Lease, ARingWithAJoinedMemberForgetsTheRefusalsBeforeIt) {
  totem::TotemSettings s;
  s.token = 3650;
  Lease lease(LeaseTimes::of(s.resolved(), 1000));
  const totem::RingId a{1, 4}, b{1, 8};
  lease.installed(true, {1, 2, 3}, true, 0);
  lease.forwarded(a, 5);
  lease.received(a, true, {1, 2, 3}, 100);
  lease.refused(2, 150);  // node 2 killed; node 1 cut off too: this node is alone
  lease.installed(true, {1, 3}, true, 9000);  // node 1 joins back, from a ring with node 2
  lease.forwarded(b, 9010);
  lease.received(b, true, {1, 3}, 9020);
  EXPECT_FALSE(lease.refused_at(2));
  EXPECT_FALSE(lease.reset_by(2, 9030)) << "Rule 3 counts from the floor, 9000";
}

// Rule 4, with token 3000 on three nodes and a 1 s watchdog (margin 508 ms).
WatchdogConfig three_nodes_with_a_watchdog() {
  totem::TotemSettings s;
  s.token = 3650;
  WatchdogConfig c;
  c.origin = "corosync.conf";
  c.device = "/dev/watchdog";
  c.watchdog_timeout = 1000;
  c.times = LeaseTimes::of(s.resolved(), 1000);
  c.quorum_provider = true;
  c.nodes = 3;
  return c;
}

FencingOptions watchdog_fencing(const std::string& text, std::optional<Millis> ms) {
  FencingOptions o;
  o.timeout_text = text;
  o.timeout = ms;
  return o;
}

std::string refusal(const WatchdogConfig& c, const FencingOptions& o) {
  auto r = check_watchdog_fencing(c, o);
  return r.ok() ? "" : r.error().message;
}

TEST(Lease, SettingsThatHoldTurnWatchdogFencingOn) {
  const auto c = three_nodes_with_a_watchdog();
  EXPECT_EQ(*check_watchdog_fencing(c, watchdog_fencing("0", 0)), false);
  EXPECT_EQ(*check_watchdog_fencing(c, watchdog_fencing("2s", 2000)), true);
  EXPECT_EQ(*check_watchdog_fencing(c, watchdog_fencing("-1", -1000)), true);  // 2 × 1 s
  auto off = watchdog_fencing("2s", 2000);
  off.stonith_enabled = false;
  EXPECT_EQ(*check_watchdog_fencing(c, off), false);
}

TEST(Lease, UnsafeSettingsAreRefusedWithTheNumbers) {
  auto c = three_nodes_with_a_watchdog();
  EXPECT_EQ(refusal(c, watchdog_fencing("1s", 1000)),
            "stonith-watchdog-timeout=1s (1000 ms) is shorter than resources.watchdog_timeout "
            "(1000 ms) + the lease's margin (508 ms) = 1508 ms: a lost node could still run its "
            "resources when the survivors start them");
  auto ignore = watchdog_fencing("0", 0);
  ignore.no_quorum_policy = "ignore";
  EXPECT_THAT(refusal(c, ignore),
              ::testing::StartsWith("no-quorum-policy=ignore cannot hold with a watchdog "
                                    "(resources.watchdog_device: /dev/watchdog in corosync.conf)"));
  EXPECT_THAT(refusal(c, ignore), ::testing::HasSubstr("a third vote (a witness)"));
  EXPECT_THAT(refusal(c, ignore),
              ::testing::HasSubstr("run `vigil witness --listen ADDRESS:5403 --key "
                                   "/etc/corosync/authkey` on a third machine and add quorum { "
                                   "device { model: net; net { host: ADDRESS } } }"));
  auto two = c;
  two.nodes = 2;
  EXPECT_THAT(refusal(two, watchdog_fencing("2s", 2000)),
              ::testing::HasSubstr("watchdog fencing on 2 nodes needs quorum.auto_tie_breaker"));
  EXPECT_THAT(refusal(two, watchdog_fencing("2s", 2000)),
              ::testing::HasSubstr("quorum { device { model: net; net { host: ADDRESS } } }"));
  auto witnessed = two;
  witnessed.quorum_device = true;
  EXPECT_EQ(refusal(witnessed, watchdog_fencing("2s", 2000)), "");
  two.auto_tie_breaker = true;
  EXPECT_EQ(refusal(two, watchdog_fencing("2s", 2000)), "");
  auto no_quorum = c;
  no_quorum.quorum_provider = false;
  EXPECT_THAT(refusal(no_quorum, watchdog_fencing("2s", 2000)),
              ::testing::HasSubstr("needs quorum { provider: corosync_votequorum }"));
  auto none = c;
  none.device.clear();
  EXPECT_EQ(refusal(none, watchdog_fencing("2s", 2000)),
            "stonith-watchdog-timeout=2s: watchdog fencing needs a watchdog, and "
            "resources.watchdog_device is off in corosync.conf on this node");
  EXPECT_EQ(refusal(c, watchdog_fencing("soon", std::nullopt)),
            "stonith-watchdog-timeout=soon: not a duration");
}

// Two nodes and a witness (quorum/witness.h) through the whole node core: the link between the
// nodes is cut, each forms a ring of its own, and the witness's vote makes exactly one quorate.
TEST(Node, AfterASplitTheWitnessVoteMakesExactlyOneOfTwoNodesQuorate) {
  Net net(2, true, std::nullopt, 1);
  quorum::Witness witness(0);
  std::map<NodeId, quorum::DeviceClient> clients;
  std::map<NodeId, std::vector<NodeId>> rings;
  for (NodeId id : {1u, 2u}) {
    clients.emplace(id, quorum::DeviceClient({"c", id, 1000}, 7));
    clients.at(id).connected(true, 0);
  }
  // The shell's part (daemon/device_service.cpp): tell each new ring, carry asks and answers.
  auto exchange = [&](Millis until) {
    for (Millis t = net.now(); t <= until; t += 50) {
      net.run_until(t);
      for (auto& [id, client] : clients) {
        if (net[id].views.empty()) continue;
        const auto& members = net[id].views.back().view.members;
        if (members != rings[id]) client.membership(rings[id] = members, t);
        if (auto ask = client.due(t)) client.answer(*witness.ask(0, *ask, t), t);
        net.step(id, DeviceVote{client.grant(t), t});
      }
      const auto quorate = [&](NodeId id) {
        return !net[id].views.empty() && net[id].views.back().view.quorate;
      };
      ASSERT_FALSE(quorate(1) && quorate(2) && rings[1] != rings[2])
          << "both halves quorate at " << t;
    }
  };
  net.start_all();
  exchange(5000);
  for (NodeId id : {1u, 2u}) {
    EXPECT_EQ(net[id].node->quorum()->status().total_votes, 3u);
    EXPECT_EQ(net[id].node->quorum()->status().expected_votes, 3u);
  }
  const auto before_cut = net[1].views.size();
  net.cut(1, 2);
  exchange(15000);
  EXPECT_EQ(rings[1], std::vector<NodeId>{1});
  EXPECT_EQ(rings[2], std::vector<NodeId>{2});
  // The keeper's half (the lowest node id) counts the vote through its ring change (quorum.h's
  // inherits()): it never has a view without quorum, so it never stops what it runs.
  ASSERT_GT(net[1].views.size(), before_cut);
  for (auto i = before_cut; i < net[1].views.size(); ++i)
    EXPECT_TRUE(net[1].views[i].view.quorate) << "view " << i << " of node 1";
  EXPECT_FALSE(net[2].views.back().view.quorate);
  net.heal(1, 2);
  exchange(25000);
  EXPECT_TRUE(net[1].views.back().view.quorate && net[2].views.back().view.quorate);
}

TEST(Node, WithAWatchdogEveryMemberFeedsWhileItsRingHasQuorum) {
  Net net(3, true, kWatchdog);
  net.start_all();
  net.run_until(10000);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(net[id].node->lease()->state(), LeaseState::Held) << "node " << id;
    EXPECT_LE(longest_hunger(net[id], 0, 10000), kWatchdog / 4) << "node " << id;
    EXPECT_TRUE(net[id].node->view().leased);
  }
}

// A failure during a membership change's gather: the survivors wait out the token and the
// consensus timeout (2.2 s here, against a 400 ms watchdog) and keep feeding throughout; a node
// joining later changes nothing either.
TEST(Node, MembershipChangesThatKeepQuorumResetNobody) {
  Net net(3, true, kWatchdog);
  net.start_all();
  net.run_until(3000);
  net.crash(3);
  net.run_until(12000);
  for (NodeId id = 1; id <= 2; ++id) {
    EXPECT_EQ(net[id].node->view().members, (std::vector<NodeId>{1, 2}));
    EXPECT_EQ(net[id].node->lease()->state(), LeaseState::Held) << "node " << id;
    EXPECT_LE(longest_hunger(net[id], 0, 12000), kWatchdog / 4) << "node " << id;
    EXPECT_FALSE(net[id].lease_lost);
  }
}

TEST(Node, ANodeJoiningAQuorateRingResetsNobody) {
  Net net(3, true, kWatchdog);
  net.start(1);
  net.start(2);
  net.run_until(3000);
  ASSERT_EQ(net[1].node->lease()->state(), LeaseState::Held);
  net.start(3);
  net.run_until(10000);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(net[id].node->view().members, (std::vector<NodeId>{1, 2, 3}));
    EXPECT_EQ(net[id].node->lease()->state(), LeaseState::Held) << "node " << id;
    EXPECT_FALSE(net[id].lease_lost);
  }
  for (NodeId id = 1; id <= 2; ++id)
    EXPECT_LE(longest_hunger(net[id], 0, 10000), kWatchdog / 4) << "node " << id;
}

// The survivors count a crashed node as reset no earlier than its watchdog could have reset it
// (its last feed + the timeout + the reset's latency), and do so within the wait after their
// last token of the old ring (at most a token timeout after the crash).
// Three nodes with a watchdog; at 3000 `fault` befalls node 3, and the others run until 20000.
// Node 3's last feed before the fault.
template <class Fault>
Millis lose_node_3(Net& net, Fault&& fault) {
  net.start_all();
  net.run_until(3000);
  fault();
  const Millis last_feed = net[3].feeds.back();
  net.run_until(20000);
  return last_feed;
}

TEST(Node, ACrashedNodeCountsAsResetOnlyAfterItsWatchdogFired) {
  Net net(3, true, kWatchdog);
  const Millis last_feed = lose_node_3(net, [&] { net.crash(3); });
  const auto& t = net[1].node->lease()->times();
  for (NodeId id = 1; id <= 2; ++id) {
    ASSERT_EQ(net[id].seen_reset.count(3), 1u) << "node " << id;
    const Millis said = net[id].seen_reset[3];
    EXPECT_GE(said, last_feed + kWatchdog + kResetLatency) << "node " << id;
    EXPECT_LE(said, 3000 + fast_totem().token + t.wait) << "node " << id;
    EXPECT_EQ(net[id].node->view().reset, (std::vector<NodeId>{3}));
  }
}

// kill -9: node 3's host refuses the survivors' next datagram; they count it as reset a stretched
// watchdog timeout and a reset's latency after that refusal, not a lease's span after its last
// token — and never before its watchdog could have fired.
TEST(Node, AKilledNodeCountsAsResetSoonAfterTheRefusal) {
  Net net(3, true, kWatchdog);
  Millis refused = 0;
  const Millis last_feed = lose_node_3(net, [&] {
    net.crash(3);
    net.run_until(3050);
    refused = net.now();
    net.step(1, PeerUnreachable{3, "127.0.0.3:5405", refused});
  });
  const auto& t = net[1].node->lease()->times();
  ASSERT_EQ(net[1].seen_reset.count(3), 1u);
  EXPECT_EQ(net[1].seen_reset[3], refused + t.refused_wait);
  EXPECT_GE(net[1].seen_reset[3], last_feed + kWatchdog + kResetLatency);
  EXPECT_LT(t.refused_wait, t.wait - fast_totem().token);
  // Node 2 heard no refusal: it waits Rule 3's span from its last token.
  ASSERT_EQ(net[2].seen_reset.count(3), 1u);
  EXPECT_GT(net[2].seen_reset[3], net[1].seen_reset[3]);
  // Each log says which rule counted it.
  const std::string counted = "node 3 is reset by its watchdog by now (lease.h ";
  EXPECT_TRUE(logged(net[1], Subsystem::Main, counted + "Rule 5: "));
  EXPECT_TRUE(logged(net[2], Subsystem::Main, counted + "Rule 3: "));
}

// A frozen node reads the old ring's token after the thaw: a receipt proves nothing, so it never
// feeds again, while the others counted it as reset meanwhile.
TEST(Node, AThawedNodeDoesNotFeedOnAStaleToken) {
  Net net(3, true, kWatchdog);
  const Millis last_feed = lose_node_3(net, [&] { net.pause(3); });
  ASSERT_EQ(net[1].seen_reset.count(3), 1u);
  EXPECT_GE(net[1].seen_reset[3], last_feed + kWatchdog + kResetLatency);
  const auto fed = net[3].feeds.size();
  net.resume(3);
  net.run_until(30000);
  EXPECT_EQ(net[3].feeds.size(), fed) << "node 3 fed its watchdog after the thaw";
  EXPECT_EQ(net[3].node->lease()->state(), LeaseState::Lost);
  // It rejoined the ring meanwhile: the others no longer count it as reset.
  EXPECT_EQ(net[1].node->view().members, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_TRUE(net[1].node->view().reset.empty());
}

TEST(Node, ANodeCutOffFromTheMajorityStopsFeeding) {
  Net net(3, true, kWatchdog);
  net.start_all();
  net.run_until(3000);
  net.cut(3, 1);
  net.cut(3, 2);
  net.run_until(20000);
  ASSERT_TRUE(net[3].lease_lost);
  EXPECT_TRUE(logged(net[3], Subsystem::Main, "watchdog lease lost: "));
  EXPECT_FALSE(net[3].node->view().leased);
  ASSERT_FALSE(net[3].feeds.empty());
  EXPECT_LE(net[3].feeds.back(), *net[3].lease_lost);
  ASSERT_EQ(net[1].seen_reset.count(3), 1u);
  EXPECT_GE(net[1].seen_reset[3], net[3].feeds.back() + kWatchdog + kResetLatency);
  for (NodeId id = 1; id <= 2; ++id)
    EXPECT_LE(longest_hunger(net[id], 0, 20000), kWatchdog / 4) << "node " << id;
}

}  // namespace
}  // namespace vigil::node
