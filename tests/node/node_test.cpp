// The node core composed: several Node cores in-process over a tiny deterministic network (every
// frame takes 1 ms, links can be cut, hosts can vanish), stepped on a shared clock as the daemon
// steps one.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "node/node.h"

namespace vigil::node {
namespace {

totem::TotemSettings fast_totem() {
  totem::TotemSettings s;
  s.token = 1000;
  return s;
}

std::optional<quorum::Votequorum> votequorum(int nodes) {
  quorum::Settings s;
  for (int id = 1; id <= nodes; ++id) s.nodelist.push_back({static_cast<NodeId>(id), 1});
  auto vq = quorum::Votequorum::create(s);
  EXPECT_TRUE(vq.ok());
  return std::move(*vq);
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
  };

  Net(int nodes, bool with_quorum) {
    for (int i = 1; i <= nodes; ++i) {
      const auto id = static_cast<NodeId>(i);
      peers_[id].node = std::make_unique<Node>(
          Settings{id, fast_totem(), with_quorum ? votequorum(nodes) : std::nullopt, 0, std::nullopt},
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
  void cut(NodeId a, NodeId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void crash(NodeId id) { peers_.at(id).up = false; }

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
        if (peers_.at(f.to).up) step(f.to, FrameReceived{f.from, f.bytes, now_});
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
      if (!p.up) continue;
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
    p.logs.insert(p.logs.end(), out.logs.begin(), out.logs.end());
    for (const auto& n : out.notices) {
      if (const auto* g = std::get_if<GroupNotice>(&n)) {
        p.heard[g->pid].push_back(text_of(g->event));
      } else {
        const auto& v = std::get<ViewChange>(n);
        // A ring is named only after its sequence is persisted (by this output or an earlier one).
        EXPECT_LE(v.view.ring.seq, p.persisted) << "node " << id;
        p.views.push_back(v);
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
  Node alone(Settings{1, fast_totem(), std::nullopt, 40, std::nullopt}, Rng(1));
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

}  // namespace
}  // namespace vigil::node
