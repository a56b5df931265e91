// Each rule of votequorum(5), stepped through membership changes and time.
#include "quorum/quorum.h"

#include <gtest/gtest.h>

namespace vigil::quorum {
namespace {

Settings nodes(std::uint32_t n) {
  Settings s;
  for (NodeId id = 1; id <= n; ++id) s.nodelist.push_back(NodeVotes{id, 1});
  return s;
}

Votequorum make(Settings s) {
  auto vq = Votequorum::create(std::move(s));
  EXPECT_TRUE(vq.ok()) << (vq.ok() ? "" : vq.error().message);
  return std::move(vq).value();
}

std::vector<NodeId> range(NodeId from, NodeId to) {
  std::vector<NodeId> ids;
  for (NodeId id = from; id <= to; ++id) ids.push_back(id);
  return ids;
}

TEST(Votequorum, NeedsSomethingToCount) {
  auto vq = Votequorum::create(Settings{});
  ASSERT_FALSE(vq.ok());
  EXPECT_NE(vq.error().message.find("expected_votes"), std::string::npos);
  Settings zero;
  zero.expected_votes = 0;
  EXPECT_FALSE(Votequorum::create(zero).ok());
  Settings list = nodes(2);
  list.auto_tie_breaker = true;
  list.tie_breaker = TieBreaker::List;
  EXPECT_FALSE(Votequorum::create(list).ok());
}

TEST(Votequorum, ExpectedVotesFromTheNodelistAndSimpleMajority) {
  auto vq = make(nodes(3));
  EXPECT_EQ(vq.status().expected_votes, 3u);
  EXPECT_EQ(vq.status().quorum, 2u);
  vq.membership(0, {1});
  EXPECT_FALSE(vq.quorate());
  vq.membership(0, {1, 2});
  EXPECT_TRUE(vq.quorate());
  EXPECT_EQ(vq.status().total_votes, 2u);
  vq.membership(0, {2});
  EXPECT_FALSE(vq.quorate());
}

TEST(Votequorum, ConfiguredExpectedVotesOverrideTheNodelist) {
  Settings s = nodes(3);
  s.expected_votes = 8;
  auto vq = make(s);
  vq.membership(0, {1, 2, 3});
  EXPECT_EQ(vq.status().quorum, 5u);
  EXPECT_FALSE(vq.quorate());
}

// A node added and later removed through the ring (node/nodelist.h): expected votes follow the
// list both ways, the peers' reported expectations with them, as a reload does in corosync.
TEST(Votequorum, ExpectedVotesFollowANodelistChangeUpAndDown) {
  auto vq = make(nodes(3));
  vq.membership(0, {1, 2, 3});
  for (NodeId peer : {2, 3}) vq.peer(peer, PeerReport{3, true, false});
  vq.nodelist({{1, 1}, {2, 1}, {3, 1}, {4, 1}});
  EXPECT_EQ(vq.status().expected_votes, 4u);
  EXPECT_EQ(vq.status().quorum, 3u);
  EXPECT_TRUE(vq.quorate());
  vq.membership(0, {1, 2, 3, 4});
  EXPECT_EQ(vq.status().total_votes, 4u);
  vq.membership(0, {1, 2, 3});  // node 4 stopped: its vote is still expected
  EXPECT_EQ(vq.status().highest_expected, 4u);
  for (NodeId peer : {2, 3}) vq.peer(peer, PeerReport{4, true, false});
  vq.nodelist({{1, 1}, {2, 1}, {3, 1}});
  EXPECT_EQ(vq.status().expected_votes, 3u);
  EXPECT_EQ(vq.status().highest_expected, 3u);
  EXPECT_EQ(vq.status().quorum, 2u);
  Settings fixed = nodes(3);
  fixed.expected_votes = 5;  // written in quorum {}: it stays
  auto kept = make(fixed);
  kept.nodelist({{1, 1}, {2, 1}});
  EXPECT_EQ(kept.status().expected_votes, 5u);
}

TEST(Votequorum, NodelistVotesWeighTheMajority) {
  Settings s = nodes(3);
  s.nodelist[0].votes = 3;  // 5 votes in all, quorum 3
  auto vq = make(s);
  EXPECT_EQ(vq.status().quorum, 3u);
  vq.membership(0, {1});
  EXPECT_TRUE(vq.quorate());
  vq.membership(0, {2, 3});
  EXPECT_FALSE(vq.quorate());
}

TEST(Votequorum, MoreVotesThanExpectedRaiseExpectationAndItNeverComesDown) {
  Settings s;
  s.expected_votes = 3;  // no nodelist: members found on the wire, one vote each
  auto vq = make(s);
  vq.membership(0, range(1, 5));
  EXPECT_EQ(vq.status().expected_votes, 5u);
  EXPECT_EQ(vq.status().quorum, 3u);
  vq.membership(0, {1, 2});
  EXPECT_EQ(vq.status().expected_votes, 5u);
  EXPECT_FALSE(vq.quorate());
}

TEST(Votequorum, TwoNodeIsQuorateWithOneOfTwoAfterBothWereSeen) {
  Settings s = nodes(2);
  s.two_node = true;
  auto vq = make(s);
  EXPECT_EQ(vq.status().quorum, 1u);
  EXPECT_TRUE(vq.status().flags.wait_for_all);  // implied
  vq.membership(0, {1});
  EXPECT_FALSE(vq.quorate()) << "wait_for_all: the other node was never seen";
  vq.membership(0, {1, 2});
  EXPECT_TRUE(vq.quorate());
  EXPECT_EQ(flags_text(vq.status().flags), "2Node Quorate WaitForAll ");
  vq.membership(0, {1});
  EXPECT_TRUE(vq.quorate()) << "the survivor keeps quorum";
  EXPECT_EQ(vq.status().quorum, 1u);
}

TEST(Votequorum, TwoNodeWithoutWaitForAllIsQuorateAlone) {
  Settings s = nodes(2);
  s.two_node = true;
  s.wait_for_all = false;
  auto vq = make(s);
  vq.membership(0, {2});
  EXPECT_TRUE(vq.quorate());
  EXPECT_EQ(flags_text(vq.status().flags), "2Node Quorate ");
}

TEST(Votequorum, TwoNodeIsDisabledWhenMoreNodesJoin) {
  Settings s;
  s.expected_votes = 2;
  s.two_node = true;
  s.wait_for_all = false;
  auto vq = make(s);
  vq.membership(0, {1, 2, 3});
  EXPECT_FALSE(vq.status().flags.two_node);
  EXPECT_EQ(vq.status().quorum, 2u);
  vq.membership(0, {1});
  EXPECT_FALSE(vq.quorate());
}

TEST(Votequorum, WaitForAllHoldsQuorumBackUntilAllWereSeenOnce) {
  Settings s = nodes(8);
  s.wait_for_all = true;
  auto vq = make(s);
  vq.membership(0, range(1, 5));
  EXPECT_FALSE(vq.quorate());
  EXPECT_TRUE(vq.status().waiting_for_all);
  vq.membership(0, range(1, 8));
  EXPECT_TRUE(vq.quorate());
  vq.membership(0, range(1, 5));
  EXPECT_TRUE(vq.quorate()) << "once all were seen, a simple majority is enough again";
  vq.membership(0, range(1, 4));
  EXPECT_FALSE(vq.quorate());
}

TEST(Votequorum, WaitForAllTakesTheWordOfAQuoratePeer) {
  Settings s = nodes(3);
  s.wait_for_all = true;
  auto vq = make(s);
  vq.membership(0, {2, 3});
  EXPECT_FALSE(vq.quorate());
  vq.peer(1, PeerReport{3, true, false});  // not a member: ignored
  EXPECT_FALSE(vq.quorate());
  vq.peer(2, PeerReport{3, true, true});  // quorate but itself still waiting: no
  EXPECT_FALSE(vq.quorate());
  vq.peer(2, PeerReport{3, true, false});
  EXPECT_TRUE(vq.quorate());
  EXPECT_FALSE(vq.report().waiting_for_all);
}

TEST(Votequorum, LastManStandingFollowsTheManPageChainOfEvents) {
  Settings s = nodes(8);
  s.last_man_standing = true;
  s.last_man_standing_window = 10000;
  auto vq = make(s);
  vq.membership(0, range(1, 8));
  EXPECT_EQ(vq.status().quorum, 5u);
  EXPECT_FALSE(vq.wake_at());
  vq.membership(1000, range(1, 5));  // 3 die
  EXPECT_TRUE(vq.quorate());
  ASSERT_TRUE(vq.wake_at());
  EXPECT_EQ(*vq.wake_at(), 11000);
  vq.tick(10999);
  EXPECT_EQ(vq.status().expected_votes, 8u);
  vq.tick(11000);
  EXPECT_EQ(vq.status().expected_votes, 5u);
  EXPECT_EQ(vq.status().quorum, 3u);
  vq.membership(12000, range(1, 3));  // 2 more die
  EXPECT_TRUE(vq.quorate());
  vq.tick(22000);
  EXPECT_EQ(vq.status().expected_votes, 3u);
  EXPECT_EQ(vq.status().quorum, 2u);
  vq.membership(23000, {1, 2});
  EXPECT_TRUE(vq.quorate());
  vq.tick(33000);
  EXPECT_EQ(vq.status().expected_votes, 2u);
  EXPECT_EQ(vq.status().quorum, 2u);
  vq.membership(34000, {1});
  EXPECT_FALSE(vq.quorate()) << "down to one node needs auto_tie_breaker";
  EXPECT_FALSE(vq.wake_at());
}

TEST(Votequorum, LastManStandingWindowRestartsOnEachChange) {
  Settings s = nodes(5);
  s.last_man_standing = true;
  s.last_man_standing_window = 1000;
  auto vq = make(s);
  vq.membership(0, range(1, 5));
  vq.membership(100, range(1, 4));
  vq.membership(600, range(1, 3));
  vq.tick(1100);
  EXPECT_EQ(vq.status().expected_votes, 5u) << "window restarted at 600";
  vq.tick(1600);
  EXPECT_EQ(vq.status().expected_votes, 3u);
}

TEST(Votequorum, LastManStandingDoesNothingWhenInquorate) {
  Settings s = nodes(4);
  s.last_man_standing = true;
  auto vq = make(s);
  vq.membership(0, range(1, 4));
  vq.membership(0, {1});
  EXPECT_FALSE(vq.wake_at());
  vq.tick(100000);
  EXPECT_EQ(vq.status().expected_votes, 4u);
}

TEST(Votequorum, LastManStandingWithTieBreakerGoesDownToOneNode) {
  Settings s = nodes(3);
  s.last_man_standing = true;
  s.auto_tie_breaker = true;
  s.last_man_standing_window = 10;
  auto vq = make(s);
  vq.membership(0, {1, 2, 3});
  vq.membership(0, {1, 2});
  vq.tick(10);
  EXPECT_EQ(vq.status().expected_votes, 2u);
  vq.membership(20, {1});
  EXPECT_TRUE(vq.quorate()) << "node 1 holds the lowest id of the even split";
  vq.tick(30);
  EXPECT_EQ(vq.status().expected_votes, 1u);
  EXPECT_EQ(vq.status().quorum, 1u);
}

TEST(Votequorum, TieBreakerLowestKeepsTheSideWithTheLowestNode) {
  Settings s = nodes(4);
  s.auto_tie_breaker = true;
  auto low = make(s);
  auto high = make(s);
  low.membership(0, {1, 2});
  high.membership(0, {3, 4});
  EXPECT_TRUE(low.quorate());
  EXPECT_FALSE(high.quorate());
  EXPECT_EQ(flags_text(low.status().flags), "Quorate AutoTieBreaker ");
  low.membership(0, {1});  // not an even split
  EXPECT_FALSE(low.quorate());
}

TEST(Votequorum, TieBreakerHighest) {
  Settings s = nodes(4);
  s.auto_tie_breaker = true;
  s.tie_breaker = TieBreaker::Highest;
  auto low = make(s);
  auto high = make(s);
  low.membership(0, {1, 2});
  high.membership(0, {3, 4});
  EXPECT_FALSE(low.quorate());
  EXPECT_TRUE(high.quorate());
}

TEST(Votequorum, TieBreakerListSkipsNodesThatWereNeverInTheCluster) {
  Settings s;
  s.expected_votes = 4;
  s.auto_tie_breaker = true;
  s.tie_breaker = TieBreaker::List;
  s.tie_breaker_nodes = {9, 3, 1};
  auto a = make(s);
  auto b = make(s);
  a.membership(0, {1, 2, 3, 4});
  b.membership(0, {1, 2, 3, 4});
  a.membership(0, {1, 2});
  b.membership(0, {3, 4});
  EXPECT_FALSE(a.quorate()) << "node 9 was never seen; node 3 decides";
  EXPECT_TRUE(b.quorate());
}

TEST(Votequorum, WithoutTieBreakerAnEvenSplitLosesOnBothSides) {
  auto a = make(nodes(4));
  a.membership(0, {1, 2});
  EXPECT_FALSE(a.quorate());
}

TEST(Votequorum, StatusListsMembersWithVotes) {
  Settings s = nodes(3);
  s.nodelist[1].votes = 2;
  auto vq = make(s);
  vq.membership(0, {3, 2});
  ASSERT_EQ(vq.status().members.size(), 2u);
  EXPECT_EQ(vq.status().members[0].id, 2u);
  EXPECT_EQ(vq.status().members[0].votes, 2u);
  EXPECT_EQ(vq.status().total_votes, 3u);
  EXPECT_EQ(vq.status().highest_expected, 4u);
  EXPECT_EQ(vq.status().quorum, 3u);
  EXPECT_TRUE(vq.quorate());
}

TEST(Votequorum, HighestExpectedIncludesWhatPeersExpect) {
  auto vq = make(nodes(3));
  vq.membership(0, {1, 2});
  vq.peer(2, PeerReport{5, false, false});
  EXPECT_EQ(vq.status().expected_votes, 3u);
  EXPECT_EQ(vq.status().highest_expected, 5u);
  EXPECT_EQ(vq.status().quorum, 3u);
  EXPECT_FALSE(vq.quorate());
  vq.membership(0, {1, 2, 3});  // node 2's report is kept while it stays a member
  EXPECT_EQ(vq.status().highest_expected, 5u);
  vq.membership(0, {1, 3});
  EXPECT_EQ(vq.status().highest_expected, 3u);
}

// The report a peer sends through the ring: what encode_report writes, decode_report reads back;
// anything else, and an expectation no cluster could have (it would be kept as the highest and
// take quorum away for good), is refused.
TEST(QuorumReport, RoundTripsAndRefusesMalformedOrAbsurdReports) {
  const PeerReport r{5, true, false};
  const auto bytes = encode_report(r);
  auto back = decode_report(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->expected_votes, 5u);
  EXPECT_TRUE(back->quorate);
  EXPECT_FALSE(back->waiting_for_all);
  auto with = [&](std::size_t at, std::uint8_t v) {
    auto b = bytes;
    b[at] = v;
    return decode_report(b);
  };
  for (std::size_t at = 0; at < 4; ++at) {
    auto wrong = with(at, bytes[at] ^ 0x20);
    ASSERT_FALSE(wrong.ok()) << "magic byte " << at;
    EXPECT_NE(wrong.error().message.find("magic"), std::string::npos) << wrong.error().message;
  }
  auto version = with(4, kWireVersion + 1);
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.error().message.find("version 2"), std::string::npos);
  auto kind = with(5, 2);
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.error().message.find("kind 2"), std::string::npos);
  EXPECT_FALSE(with(10, 4).ok());    // unknown flag
  EXPECT_FALSE(with(9, 0xff).ok());  // expected votes beyond any cluster
  EXPECT_FALSE(decode_report(encode_report({0, false, false})).ok());
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_report(std::span(bytes).first(n)).ok()) << "truncated to " << n;
  auto longer = bytes;
  longer.push_back(0);
  auto trailing = decode_report(longer);
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().message.find("body of 6 bytes"), std::string::npos);
  EXPECT_TRUE(decode_report(encode_report({kMaxExpectedVotes, false, true})).ok());
  Settings huge;
  huge.expected_votes = kMaxExpectedVotes + 1;
  EXPECT_FALSE(Votequorum::create(huge).ok());
}

}  // namespace
}  // namespace vigil::quorum
