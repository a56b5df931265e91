// Three vigild processes on 127.0.0.1–3 form one ring; failures, restarts, clean leaves, a wrong
// authkey, hostile datagrams and two_node quorum, observed through the control socket and
// `vigil status`, the way an operator would.
#include <gtest/gtest.h>

#include <asio.hpp>

#include "cluster.h"
#include "transport/frame.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;
const std::vector<int> kAll{1, 2, 3};

ClusterSpec two_nodes(const std::string& quorum = "provider: corosync_votequorum") {
  ClusterSpec spec;
  spec.nodes = 2;
  spec.quorum = quorum;
  return spec;
}

// `vigil status` on node n once it shows `needle`: the DC is elected and writes the CIB a moment
// after the ring forms. Bounded; returns the last text either way.
std::string status_showing(const TestCluster& c, int n, const std::string& needle) {
  std::string text;
  eventually(
      [&] {
        text = capture(std::string(VIGIL_PATH) + " status --socket " + c.socket(n));
        return text.find(needle) != std::string::npos;
      },
      10s);
  return text;
}

// Node `id` has joined the controllers as the CIB on node n records it (the DC wrote its
// node_state): from then on a kill makes it unclean rather than merely offline.
bool joined(const TestCluster& c, int n, int id) {
  return eventually(
      [&] {
        const auto text = capture(std::string(VIGIL_PATH) + " cib query --socket " + c.socket(n) +
                                  " --xpath \"//node_state[@id='" + std::to_string(id) +
                                  "'][@join='member'][@crmd='online']\" 2>&1");
        return text.find("node_state") != std::string::npos;
      },
      10s);
}

TEST(Ring, ThreeNodesFormOneRingAndStatusShowsThemOnline) {
  TestCluster c(ClusterSpec{}, "form");
  for (int n : kAll) c.start(n);
  for (int n : kAll) {
    ASSERT_TRUE(eventually([&] { return c.members(n) == kAll; }, 20s)) << c.log_text(n);
  }
  // The DC records its stack and version (dc-version) as Pacemaker's DC does.
  const auto text = status_showing(c, 2, "  * Stack: corosync\n");
  EXPECT_NE(text.find("  * Current DC: n1 (version "), std::string::npos) << text;
  EXPECT_EQ(text.find("(version unknown)"), std::string::npos) << text;
  EXPECT_NE(text.find(") - partition with quorum\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  * 3 nodes configured\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  * Online: [ n1 n2 n3 ]\n"), std::string::npos) << text;
  // A configuration change through n2 is dated and signed, as crm_mon's "Last change" shows it.
  capture(std::string(VIGIL_PATH) + " configure --socket " + c.socket(2) + " property" +
          " maintenance-mode=false");
  const auto changed = status_showing(c, 3, "via vigil on n2\n");
  EXPECT_NE(changed.find("  * Last change:  "), std::string::npos) << changed;
  const auto json = Json::parse(
      capture(std::string(VIGIL_PATH) + " status --output-as json --socket " + c.socket(3)));
  EXPECT_EQ(json["summary"]["quorate"], true);
  EXPECT_EQ(json["nodes"].size(), 3u);
  EXPECT_EQ(json["summary"]["ring_id"], (*c.status(1))["ring"]["id"]);
}

TEST(Ring, KillNineIsSeenOfflineAndARestartRejoins) {
  TestCluster c(ClusterSpec{}, "kill");
  for (int n : kAll) c.start(n);
  for (int n : kAll)
    ASSERT_TRUE(eventually([&] { return c.members(n) == kAll; }, 20s)) << c.log_text(n);
  ASSERT_TRUE(joined(c, 1, 3)) << c.log_text(1);
  c.signal(3, SIGKILL);
  c.reap(3);
  for (int n : {1, 2}) {
    ASSERT_TRUE(eventually(
        [&] {
          return c.members(n) == std::vector<int>{1, 2};
        },
        15s))
        << c.log_text(n);
    EXPECT_FALSE(c.online(n, 3));
  }
  const auto text = status_showing(c, 1, "partition with quorum");
  // stonith-enabled defaults to true and no fence device is configured: as in crm_mon, a node
  // lost without being fenced is unclean, not merely offline.
  EXPECT_NE(text.find("  * Node n3: UNCLEAN (offline)\n  * Online: [ n1 n2 ]\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("partition with quorum"), std::string::npos) << "2 of 3 votes";
  EXPECT_NE(c.log_text(1).find("failed"), std::string::npos);
  c.start(3);
  for (int n : kAll)
    ASSERT_TRUE(eventually([&] { return c.members(n) == kAll; }, 20s)) << c.log_text(n);
}

TEST(Ring, SigtermLeavesTheRingCleanly) {
  TestCluster c(ClusterSpec{}, "leave");
  for (int n : kAll) c.start(n);
  for (int n : kAll)
    ASSERT_TRUE(eventually([&] { return c.members(n) == kAll; }, 20s)) << c.log_text(n);
  c.signal(2, SIGTERM);
  EXPECT_EQ(c.reap(2), 0) << c.log_text(2);
  for (int n : {1, 3}) {
    ASSERT_TRUE(eventually(
        [&] {
          return c.members(n) == std::vector<int>{1, 3};
        },
        15s))
        << c.log_text(n);
  }
  EXPECT_NE(c.log_text(1).find("Node(s) 2 left the ring cleanly"), std::string::npos)
      << c.log_text(1);
  EXPECT_EQ(c.log_text(1).find("Node(s) 2 failed"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(c.socket(2))) << "the control socket is removed";
}

TEST(Ring, ANodeWithAnotherAuthkeyIsNeverAdmitted) {
  TestCluster c(ClusterSpec{}, "key");
  c.start(1);
  c.start(2);
  c.start(3, /*other_key=*/true);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  ASSERT_TRUE(eventually([&] { return c.members(3) == std::vector<int>{3}; }, 20s))
      << c.log_text(3);
  ASSERT_TRUE(eventually([&] { return (*c.status(1))["transport"]["unauthenticated"] > 0; }, 10s));
  std::this_thread::sleep_for(2s);  // several token rotations and join attempts later
  EXPECT_EQ(c.members(1), (std::vector<int>{1, 2}));
  EXPECT_EQ(c.members(3), std::vector<int>{3});
  EXPECT_GT((*c.status(3))["transport"]["unauthenticated"], 0);
}

TEST(Ring, GarbageAndReplayedFramesAreDroppedAndCounted) {
  TestCluster c(two_nodes(), "garbage");
  c.start(1);
  c.start(2);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  asio::io_context io;
  asio::ip::udp::socket raw(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.9"), 0));
  const asio::ip::udp::endpoint target(asio::ip::make_address("127.0.0.1"),
                                       static_cast<unsigned short>(c.port()));
  Rng rng(7);
  for (int i = 0; i < 50; ++i) {
    std::vector<std::uint8_t> junk(1 + rng.uniform(1400));
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng.uniform(256));
    raw.send_to(asio::buffer(junk), target);
  }
  // An authentic frame (the test holds the key), sent three times: the copies are replays.
  std::ifstream key_file(c.key_path(), std::ios::binary);
  const transport::Bytes key((std::istreambuf_iterator<char>(key_file)),
                             std::istreambuf_iterator<char>());
  transport::FrameSender forger(9, 1, transport::FrameKey::derive(key).value(), 1400);
  const auto frame = forger.frames(transport::Bytes{1, 2, 3}).value().front();
  for (int i = 0; i < 3; ++i) raw.send_to(asio::buffer(frame), target);
  ASSERT_TRUE(eventually(
      [&] {
        auto s = c.status(1);
        return s.ok() && (*s)["transport"]["garbage"] >= 50 && (*s)["transport"]["replayed"] >= 2;
      },
      10s))
      << c.status(1)->dump();
  EXPECT_EQ(c.members(1), (std::vector<int>{1, 2})) << "the ring is undisturbed";
}

TEST(Ring, WithTwoNodeTheSurvivorStaysQuorate) {
  TestCluster c(two_nodes("provider: corosync_votequorum\n  two_node: 1"), "twonode");
  c.start(1);
  c.start(2);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  EXPECT_EQ((*c.status(1))["quorum"]["flags"], "2Node Quorate WaitForAll ");
  ASSERT_TRUE(joined(c, 1, 2)) << c.log_text(1);
  c.signal(2, SIGKILL);
  c.reap(2);
  ASSERT_TRUE(eventually([&] { return c.members(1) == std::vector<int>{1}; }, 15s))
      << c.log_text(1);
  const auto s = *c.status(1);
  EXPECT_EQ(s["quorum"]["quorate"], true);
  EXPECT_EQ(s["quorum"]["quorum"], 1);
  const auto text = status_showing(c, 1, "partition with quorum");
  EXPECT_NE(text.find("partition with quorum"), std::string::npos) << text;
  EXPECT_NE(text.find("  * Node n2: UNCLEAN (offline)"), std::string::npos) << text;
}

TEST(Ring, WithoutTwoNodeALoneSurvivorOfTwoLosesQuorum) {
  TestCluster c(two_nodes(), "nottwo");
  c.start(1);
  c.start(2);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  c.signal(2, SIGKILL);
  c.reap(2);
  ASSERT_TRUE(eventually([&] { return c.members(1) == std::vector<int>{1}; }, 15s));
  EXPECT_EQ((*c.status(1))["quorum"]["quorate"], false);
  const auto text = status_showing(c, 1, "partition WITHOUT quorum");
  EXPECT_NE(text.find("partition WITHOUT quorum"), std::string::npos) << text;
}

}  // namespace
}  // namespace vigil::test
