// The witness (quorum/witness.h): one vote to exactly one side of a split, stickiness, its loss
// while both nodes see each other, a restart, several clusters; the node's DeviceClient; the
// wire format; and votequorum counting the device's vote.
#include "quorum/witness.h"

#include <gtest/gtest.h>

#include "quorum/quorum.h"

namespace vigil::quorum {
namespace {

constexpr Millis kValidity = 1000;
constexpr Millis kAfterGrace = kValidity;  // a witness started at 0 grants from then on

Ask ask(NodeId node, std::vector<NodeId> members, std::string cluster = "hacluster",
        std::uint64_t session = 1) {
  Ask a;
  a.cluster = std::move(cluster);
  a.node = node;
  a.session = session;
  a.serial = 1;
  a.validity = kValidity;
  a.members = std::move(members);
  return a;
}

// The witness's answer to `a` sent now, with a serial past every earlier one (the witness refuses
// an ask whose serial does not grow).
Answer asked(Witness& w, std::uint32_t key, Ask a, Millis now) {
  static std::uint64_t serial = 0;
  a.serial = ++serial;
  auto answer = w.ask(key, a, now);
  EXPECT_TRUE(answer.ok()) << answer.error().message;
  return answer.ok() ? *answer : Answer{};
}

bool vote(Witness& w, NodeId node, std::vector<NodeId> members, Millis now,
          std::string cluster = "hacluster", std::uint32_t key = 0) {
  return asked(w, key, ask(node, std::move(members), std::move(cluster)), now).vote;
}

TEST(Witness, BothNodesTogetherShareTheVote) {
  Witness w(0);
  EXPECT_TRUE(vote(w, 1, {1, 2}, kAfterGrace));
  EXPECT_TRUE(vote(w, 2, {1, 2}, kAfterGrace + 10));
}

TEST(Witness, ASplitGivesTheVoteToExactlyOneSideTheLowestNodeByDefault) {
  // Whichever side notices the split first, the lowest node's side wins once both reported.
  for (bool two_first : {false, true}) {
    Witness w(0);
    Millis t = kAfterGrace;
    ASSERT_TRUE(vote(w, 1, {1, 2}, t));
    ASSERT_TRUE(vote(w, 2, {1, 2}, t));
    bool one = false, two = false;
    for (int round = 0; round < 4; ++round, t += 100) {
      if (two_first) {
        two = vote(w, 2, {2}, t);
        one = vote(w, 1, {1}, t);
      } else {
        one = vote(w, 1, {1}, t);
        two = vote(w, 2, {2}, t);
      }
      EXPECT_FALSE(one && two) << "round " << round;
    }
    EXPECT_TRUE(one) << "two_first " << two_first;
    EXPECT_FALSE(two);
  }
}

// Through a cut, the witness grants the side holding the keeper at once, whoever asks first, and
// the other side nothing until every grant of the chain ran out — and then still nothing while the
// keeper's side keeps asking.
TEST(Witness, ThroughACutTheKeepersSideIsGrantedAtOnceAndTheOtherNever) {
  for (bool two_first : {false, true}) {
    Witness w(0);
    Millis t = kAfterGrace;
    const auto whole = asked(w, 0, ask(1, {1, 2}), t);
    ASSERT_TRUE(whole.vote);
    EXPECT_EQ(whole.keeper, 1u) << "the lowest node id, the default tie-breaker";
    ASSERT_TRUE(vote(w, 2, {1, 2}, t));
    for (int round = 0; round < 12; ++round, t += kValidity / 4) {
      const bool two = two_first && vote(w, 2, {2}, t);
      const auto one = asked(w, 0, ask(1, {1}), t);
      EXPECT_TRUE(one.vote) << "round " << round << ", two_first " << two_first;
      EXPECT_EQ(one.keeper, 1u);
      EXPECT_FALSE(two || vote(w, 2, {2}, t)) << "round " << round;
    }
  }
}

TEST(Witness, AnOldRingStillHoldingTheKeeperMayCountButNotTheOtherSide) {
  Witness w(0);
  ASSERT_TRUE(vote(w, 1, {1, 2}, kAfterGrace));
  // Node 1 saw the split, node 2 has not yet: node 2's old ring still holds the keeper (it is
  // quorate on its two node votes anyway); once it moves to a ring of its own, it is refused.
  EXPECT_TRUE(vote(w, 1, {1}, kAfterGrace + 10));
  EXPECT_TRUE(vote(w, 2, {1, 2}, kAfterGrace + 20));
  EXPECT_FALSE(vote(w, 2, {2}, kAfterGrace + 30));
  EXPECT_TRUE(vote(w, 1, {1}, kAfterGrace + 40));
}

// Three nodes and a device (4 votes, quorum 3): the keeper alone is not half of the ring, so it
// does not inherit; the two others (the side ffsplit picks) get the vote once the grants ran out.
TEST(Witness, ASideWithTheKeeperButLessThanHalfInheritsNothing) {
  Witness w(0);
  Millis t = kAfterGrace;
  for (NodeId id : {1u, 2u, 3u}) ASSERT_TRUE(vote(w, id, {1, 2, 3}, t));
  t += 10;
  EXPECT_FALSE(vote(w, 1, {1}, t));
  EXPECT_FALSE(vote(w, 2, {2, 3}, t)) << "node 1 may still count the grant for {1, 2, 3}";
  EXPECT_FALSE(vote(w, 3, {2, 3}, kAfterGrace + kValidity - 1));
  t = kAfterGrace + kValidity;
  vote(w, 1, {1}, t);
  EXPECT_TRUE(vote(w, 2, {2, 3}, t));
  EXPECT_FALSE(vote(w, 1, {1}, t + 1));
}

TEST(Witness, TieBreakerHighestOrANamedNode) {
  for (auto [tie, node, winner] : {std::tuple{DeviceTieBreaker::Highest, NodeId{0}, NodeId{2}},
                                   std::tuple{DeviceTieBreaker::Node, NodeId{2}, NodeId{2}},
                                   std::tuple{DeviceTieBreaker::Node, NodeId{7}, NodeId{1}}}) {
    Witness w(0);
    auto a1 = ask(1, {1});
    auto a2 = ask(2, {2});
    a1.tie_breaker = a2.tie_breaker = tie;
    a1.tie_breaker_node = a2.tie_breaker_node = node;
    asked(w, 0, a1, 500);  // both halves report while the witness starts: no one asked first
    asked(w, 0, a2, 500);
    EXPECT_EQ(asked(w, 0, a1, kAfterGrace + 1).vote, winner == 1);
    EXPECT_EQ(asked(w, 0, a2, kAfterGrace + 1).vote, winner == 2);
  }
}

TEST(Witness, ABiggerPartitionWinsOverTheTieBreaker) {
  Witness w(0);
  vote(w, 1, {1}, 500);
  vote(w, 2, {2, 3}, 500);
  vote(w, 3, {2, 3}, 500);
  EXPECT_FALSE(vote(w, 1, {1}, kAfterGrace + 1));
  EXPECT_TRUE(vote(w, 2, {2, 3}, kAfterGrace + 1));
}

TEST(Witness, TheSideHoldingTheVoteKeepsItWhileConnected) {
  Witness w(0);
  // Node 1 is down; node 2 alone holds the vote. Node 1 comes back cut off from node 2: the
  // lowest node id does not take the vote from a holder that is still there.
  Millis t = kAfterGrace;
  ASSERT_TRUE(vote(w, 2, {2}, t));
  for (int round = 0; round < 5; ++round) {
    t += kValidity / 2;
    EXPECT_FALSE(vote(w, 1, {1}, t));
    EXPECT_TRUE(vote(w, 2, {2}, t));
  }
}

TEST(Witness, AHolderWhoseConnectionClosedKeepsTheVoteUntilItsGrantRunsOut) {
  Witness w(0);
  ASSERT_TRUE(vote(w, 2, {2}, kAfterGrace));
  w.disconnected({0, "hacluster"}, 2, 1);
  EXPECT_FALSE(vote(w, 1, {1}, kAfterGrace + kValidity - 1));
  EXPECT_TRUE(vote(w, 1, {1}, kAfterGrace + kValidity));
}

TEST(Witness, ANodeThatStoppedAskingDoesNotHoldTheVoteWithItsOpenConnection) {
  Witness w(0);
  ASSERT_TRUE(vote(w, 1, {1, 2}, kAfterGrace));
  ASSERT_TRUE(vote(w, 2, {1, 2}, kAfterGrace));
  // Node 1, the keeper, froze (SIGSTOP): its connection stays open, it asks no more. Node 2 is
  // alone, and gets the vote once node 1's grant ran out, not before.
  Millis t = kAfterGrace + 100;
  bool two = false;
  for (int round = 0; round < 10 && !two; ++round, t += kValidity / 4) two = vote(w, 2, {2}, t);
  EXPECT_TRUE(two);
  EXPECT_GE(t, kAfterGrace + kValidity) << "not before node 1's grant ran out";
}

TEST(Witness, ADisconnectOfAnOlderSessionLeavesTheNewOneSeated) {
  Witness w(0);
  asked(w, 0, ask(2, {2}, "hacluster", 1), kAfterGrace);
  EXPECT_TRUE(asked(w, 0, ask(2, {2}, "hacluster", 2), kAfterGrace + 1).vote);
  w.disconnected({0, "hacluster"}, 2, 1);
  EXPECT_TRUE(w.clusters().at({0, "hacluster"}).nodes.at(2).connected);
}

// A sealed ask recorded on the wire and sent again, on the same connection or a new one, is
// refused and changes nothing: the witness keeps the last serial of each node's session.
TEST(Witness, AReplayedAskIsRefusedAndChangesNothing) {
  Witness w(0);
  auto whole = ask(1, {1, 2});
  whole.serial = 5;
  ASSERT_TRUE(w.ask(0, whole, kAfterGrace).ok());
  auto replayed = w.ask(0, whole, kAfterGrace + 1);
  ASSERT_FALSE(replayed.ok());
  EXPECT_EQ(replayed.error().message,
            "witness: node 1, session 1: serial 5 is not past 5, the last heard (a replayed ask)");
  // Node 1 moved on to a ring of its own; the old ask about {1, 2} comes back on a new connection.
  auto alone = ask(1, {1});
  alone.serial = 6;
  ASSERT_TRUE(w.ask(0, alone, kAfterGrace + 10).ok());
  EXPECT_FALSE(w.ask(0, whole, kAfterGrace + 20).ok());
  const auto& seat = w.clusters().at({0, "hacluster"}).nodes.at(1);
  EXPECT_EQ(seat.members, std::vector<NodeId>{1});
  EXPECT_EQ(seat.asked_at, kAfterGrace + 10);
  // A restarted vigild on node 1 is another session: its serials start again.
  auto restarted = ask(1, {1}, "hacluster", 2);
  restarted.serial = 1;
  EXPECT_TRUE(w.ask(0, restarted, kAfterGrace + 30).ok());
  EXPECT_FALSE(w.ask(0, alone, kAfterGrace + 40).ok()) << "the earlier session is still known";
}

TEST(Witness, TheLastSerialsOfANodesLatestSessionsAreKept) {
  Witness w(0);
  for (std::uint64_t session = 1; session <= Witness::kSessionsKept + 1; ++session) {
    auto a = ask(1, {1}, "hacluster", session);
    a.serial = 3;
    ASSERT_TRUE(w.ask(0, a, static_cast<Millis>(session)).ok());
  }
  const auto& heard = w.clusters().at({0, "hacluster"}).heard.at(1);
  EXPECT_EQ(heard.size(), Witness::kSessionsKept);
  // Session 1, heard least recently, made room: its frames are heard as new (witness.h), and
  // make room in turn for themselves by dropping session 2; session 3's replay is still refused.
  EXPECT_TRUE(w.ask(0, ask(1, {1}, "hacluster", 1), 100).ok());
  auto third = ask(1, {1}, "hacluster", 3);
  third.serial = 3;
  EXPECT_FALSE(w.ask(0, third, 101).ok());
  EXPECT_EQ(heard.size(), Witness::kSessionsKept);
}

TEST(Witness, ARestartedWitnessGrantsNothingUntilItsPredecessorsGrantsRanOut) {
  Witness restarted(5000);
  EXPECT_FALSE(vote(restarted, 2, {2}, 5000));
  EXPECT_FALSE(vote(restarted, 1, {1}, 5000 + kValidity - 1));
  // Both halves reported during the grace: the tie-breaker decides, not who asked first.
  EXPECT_FALSE(vote(restarted, 2, {2}, 5000 + kValidity));
  EXPECT_TRUE(vote(restarted, 1, {1}, 5000 + kValidity));
}

TEST(Witness, SeveralClustersAreDecidedApartByNameAndKey) {
  Witness w(0);
  EXPECT_TRUE(vote(w, 2, {2}, kAfterGrace, "alpha", 0));
  EXPECT_TRUE(vote(w, 1, {1}, kAfterGrace, "beta", 0));
  // The same name under another authkey is another cluster.
  EXPECT_TRUE(vote(w, 1, {1}, kAfterGrace, "alpha", 1));
  EXPECT_FALSE(vote(w, 1, {1}, kAfterGrace, "alpha", 0));
  EXPECT_EQ(w.clusters().size(), 3u);
}

TEST(Witness, AfterTheSplitHealsTheWholeRingGetsTheVoteBack) {
  Witness w(0);
  ASSERT_TRUE(vote(w, 1, {1}, kAfterGrace));
  vote(w, 2, {2}, kAfterGrace);
  EXPECT_TRUE(vote(w, 1, {1, 2}, kAfterGrace + 100) || vote(w, 2, {1, 2}, kAfterGrace + 100));
  EXPECT_TRUE(vote(w, 2, {1, 2}, kAfterGrace + 101));
}

// ---- the node's client ----------------------------------------------------------------------

DeviceClient client(NodeId self) {
  return DeviceClient(DeviceSettings{"hacluster", self, kValidity}, 42);
}

TEST(DeviceClient, AsksOnANewRingAndEveryQuarterTimeoutAndCountsTheVoteUntilTheTimeout) {
  auto c = client(1);
  c.connected(true, 0);
  EXPECT_FALSE(c.due(0)) << "no ring yet";
  c.membership({2, 1}, 10);
  auto a = c.due(10);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->members, (std::vector<NodeId>{1, 2}));
  EXPECT_FALSE(c.due(11));
  c.answer({42, a->serial, true, 1}, 20);
  EXPECT_TRUE(c.cast(20));
  EXPECT_EQ(c.grant(20), (DeviceGrant{{1, 2}, 1, 10 + kValidity}));
  EXPECT_EQ(c.wake_at(20), 10 + kValidity / 4);
  EXPECT_TRUE(c.cast(10 + kValidity - 1));
  EXPECT_FALSE(c.cast(10 + kValidity)) << "counted from when it asked";
}

TEST(DeviceClient, ANewRingDropsTheVoteAndIgnoresAnswersAboutTheOldOne) {
  auto c = client(1);
  c.connected(true, 0);
  c.membership({1, 2}, 0);
  auto a = c.due(0);
  c.membership({1}, 5);
  c.answer({42, a->serial, true, 1}, 6);
  EXPECT_FALSE(c.cast(6));
  auto b = c.due(6);
  ASSERT_TRUE(b);
  c.answer({41, b->serial, true, 1}, 7);  // another session's
  EXPECT_FALSE(c.cast(7));
  c.answer({42, b->serial, true, 2}, 7);  // a keeper outside the ring
  EXPECT_FALSE(c.cast(7));
  c.answer({42, b->serial, true, 1}, 7);
  EXPECT_TRUE(c.cast(7));
  c.answer({42, b->serial, false, 0}, 8);
  EXPECT_FALSE(c.cast(8)) << "a refusal withdraws the vote";
}

// quorum.h's inherits(): a new ring keeps the vote until the grant's end when it holds the keeper
// and half the granted ring; any other ring drops it at once.
TEST(DeviceClient, ANewRingThatInheritsTheGrantKeepsCountingItUntilItsEnd) {
  for (auto [self, keeper, keeps] : {std::tuple{NodeId{1}, NodeId{1}, true},
                                     std::tuple{NodeId{2}, NodeId{1}, false},
                                     std::tuple{NodeId{2}, NodeId{2}, true}}) {
    auto c = client(self);
    c.connected(true, 0);
    c.membership({1, 2}, 0);
    auto a = c.due(0);
    c.answer({42, a->serial, true, keeper}, 1);
    c.membership({self}, 100);
    EXPECT_EQ(c.cast(100), keeps) << "node " << self << ", keeper " << keeper;
    EXPECT_EQ(c.cast(kValidity - 1), keeps);
    EXPECT_FALSE(c.cast(kValidity)) << "not past the grant's end";
    ASSERT_TRUE(c.due(100)) << "a new ring is asked about at once";
    // The answer to the ask about {1, 2}, delivered again, counts for nothing now.
    c.answer({42, a->serial, true, keeper}, 101);
    EXPECT_EQ(c.cast(101), keeps);
  }
  auto c = client(1);
  c.connected(true, 0);
  c.membership({1, 2, 3}, 0);
  c.answer({42, c.due(0)->serial, true, 1}, 1);
  c.membership({1}, 10);
  EXPECT_FALSE(c.cast(10)) << "the keeper alone is less than half of {1, 2, 3}";
  c.membership({1, 2, 3}, 20);
  EXPECT_FALSE(c.cast(20)) << "a dropped grant does not come back";
}

TEST(DeviceClient, AsksOnlyWhileConnectedAndKeepsAVoteUntilItRunsOut) {
  auto c = client(1);
  c.membership({1}, 0);
  EXPECT_FALSE(c.due(0));
  c.connected(true, 1);
  auto a = c.due(1);
  ASSERT_TRUE(a);
  c.answer({42, a->serial, true, 1}, 2);
  c.connected(false, 3);
  EXPECT_FALSE(c.due(1 + kValidity / 4));
  EXPECT_TRUE(c.cast(500));
  EXPECT_EQ(c.wake_at(500), 1 + kValidity);
  EXPECT_FALSE(c.cast(1 + kValidity));
}

// ---- the two cores together, and votequorum ------------------------------------------------

Votequorum two_nodes_and_a_device() {
  Settings s;
  s.nodelist = {{1, 1}, {2, 1}};
  s.device_votes = 1;
  return *Votequorum::create(s);
}

TEST(WitnessVotequorum, TwoNodesAndADeviceExpectThreeVotes) {
  auto vq = two_nodes_and_a_device();
  vq.membership(0, {1, 2});
  EXPECT_EQ(vq.status().expected_votes, 3u);
  EXPECT_EQ(vq.status().quorum, 2u);
  EXPECT_TRUE(vq.quorate()) << "the device lost changes nothing while both nodes see each other";
  EXPECT_EQ(vq.status().total_votes, 2u);
  vq.device(DeviceGrant{{1, 2}, 1, 1000}, 0);
  EXPECT_EQ(vq.status().total_votes, 3u);
  EXPECT_EQ(flags_text(vq.status().flags), "Quorate Qdevice ");
  vq.device(std::nullopt, 10);
  EXPECT_TRUE(vq.quorate());
}

// Both halves of a split install their new ring before their shells hear from the witness: the
// grant made for the whole cluster counts on for the keeper's half, until its end, and never for
// the other half — whatever the shell says late, or replays.
TEST(WitnessVotequorum, ANewMembershipKeepsTheDeviceVoteOnlyOnTheKeepersSide) {
  const DeviceGrant whole{{1, 2}, 1, 1000};
  for (NodeId self : {1u, 2u}) {
    auto vq = two_nodes_and_a_device();
    vq.membership(0, {1, 2});
    vq.device(whole, 0);
    vq.membership(10, {1, 2});  // the same members in a new ring: the grant still fits
    EXPECT_EQ(vq.status().total_votes, 3u);
    vq.membership(20, {self});
    EXPECT_EQ(vq.quorate(), self == 1) << "node " << self;
    EXPECT_EQ(vq.status().device->cast, self == 1);
    vq.device(whole, 30);  // the old grant again
    EXPECT_EQ(vq.quorate(), self == 1) << "node " << self;
    EXPECT_EQ(vq.wake_at(), self == 1 ? std::optional<Millis>(1000) : std::nullopt);
    vq.tick(999);
    EXPECT_EQ(vq.quorate(), self == 1);
    vq.tick(1000);
    EXPECT_FALSE(vq.quorate()) << "the grant ran out";
    EXPECT_EQ(vq.status().total_votes, 1u);
    vq.device(DeviceGrant{{self}, self, 2000}, 1010);
    EXPECT_TRUE(vq.quorate()) << "a grant for its own ring";
  }
}

TEST(WitnessVotequorum, AfterASplitExactlyOneNodeIsQuorate) {
  Witness w(0);
  std::array<Votequorum, 2> vq{two_nodes_and_a_device(), two_nodes_and_a_device()};
  std::array<DeviceClient, 2> dc{client(1), client(2)};
  for (int i = 0; i < 2; ++i) {
    vq[i].membership(0, {1, 2});
    dc[i].connected(true, 0);
    dc[i].membership({1, 2}, 0);
  }
  Millis t = kAfterGrace;
  for (; t < kAfterGrace + 500; t += 50)
    for (int i = 0; i < 2; ++i) {
      if (auto a = dc[i].due(t)) dc[i].answer(*w.ask(0, *a, t), t);
      vq[i].device(dc[i].grant(t), t);
    }
  // The split: each node installs a ring of its own.
  for (int i = 0; i < 2; ++i) {
    const NodeId self = static_cast<NodeId>(i + 1);
    vq[i].membership(t, {self});
    dc[i].membership({self}, t);
  }
  for (const Millis end = t + 3 * kValidity; t < end; t += 50) {
    for (int i = 1; i >= 0; --i) {
      if (auto a = dc[i].due(t)) dc[i].answer(*w.ask(0, *a, t), t);
      vq[i].device(dc[i].grant(t), t);
      vq[i].tick(t);
    }
    EXPECT_FALSE(vq[0].quorate() && vq[1].quorate()) << "at " << t;
    EXPECT_TRUE(vq[0].quorate()) << "the keeper's side keeps quorum throughout, at " << t;
  }
  EXPECT_TRUE(vq[0].quorate());
  EXPECT_FALSE(vq[1].quorate());
}

TEST(WitnessVotequorum, TwoNodeWithADeviceIsRefused) {
  Settings s;
  s.nodelist = {{1, 1}, {2, 1}};
  s.device_votes = 1;
  s.two_node = true;
  EXPECT_FALSE(Votequorum::create(s).ok());
}

// ---- wire -----------------------------------------------------------------------------------

TEST(WitnessWire, AsksAndAnswersRoundTrip) {
  auto a = ask(2, {1, 2, 9});
  a.tie_breaker = DeviceTieBreaker::Node;
  a.tie_breaker_node = 9;
  a.serial = 0x1122334455667788ull;
  auto back = decode_ask(encode_ask(a));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->cluster, "hacluster");
  EXPECT_EQ(back->serial, a.serial);
  EXPECT_EQ(back->members, a.members);
  EXPECT_EQ(back->tie_breaker_node, 9u);
  auto answer = decode_answer(encode_answer({7, 8, true, 9}));
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE(answer->vote);
  EXPECT_EQ(answer->serial, 8u);
  EXPECT_EQ(answer->keeper, 9u);
}

TEST(WitnessWire, MalformedMessagesAreRefusedWithTheReason) {
  const auto good = encode_ask(ask(2, {1, 2}));
  auto refused = [](Bytes b) {
    auto r = decode_ask(b);
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(refused(Bytes(good.begin(), good.end() - 1)), "witness ask: cut short");
  auto longer = good;
  longer.push_back(0);
  EXPECT_EQ(refused(longer), "witness ask: 1 bytes after its end");
  auto version = good;
  version[4] = 1;
  EXPECT_EQ(refused(version), "witness ask: unsupported version 1");
  EXPECT_EQ(refused(encode_ask(ask(3, {1, 2}))), "witness ask: node 3 is not in its own membership");
  EXPECT_EQ(refused(encode_ask(ask(2, {2, 1}))), "witness ask: members empty, unsorted or repeated");
  EXPECT_EQ(refused(encode_ask(ask(0, {0}))), "witness ask: node id 0");
  EXPECT_EQ(refused(encode_ask(ask(1, {1}, ""))), "witness ask: cluster name of 0 bytes");
  EXPECT_EQ(refused(encode_answer({1, 1, true, 1})), "witness ask: kind 2, not 1");
  auto vote = encode_answer({1, 1, true, 1});
  vote[vote.size() - 5] = 2;
  EXPECT_EQ(decode_answer(vote).error().message, "witness answer: vote byte 2");
  EXPECT_EQ(decode_answer(encode_answer({1, 1, true, 0})).error().message,
            "witness answer: a vote without a keeper");
  EXPECT_EQ(decode_answer(encode_answer({1, 1, false, 3})).error().message,
            "witness answer: a refusal naming keeper 3");
  auto v1 = encode_answer({1, 1, true, 1});
  v1[4] = 1;
  v1.resize(v1.size() - 4);  // a version-1 answer, without its keeper
  EXPECT_EQ(decode_answer(v1).error().message, "witness answer: unsupported version 1");
}

}  // namespace
}  // namespace vigil::quorum
