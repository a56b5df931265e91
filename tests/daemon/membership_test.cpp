// Nodes added to and removed from the nodelist of a running cluster (vigil cluster add/remove):
// the change goes round the ring, every vigild takes it without a restart — its links, its
// votequorum, its own corosync.conf — and a node started afterwards with that file joins.
#include <gtest/gtest.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

std::string vigil(const std::string& args) {
  return capture(std::string(VIGIL_PATH) + " " + args + " 2>&1");
}

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Node n's votequorum figures once they are `expected` and `quorum`, within the limit.
bool votes_settle(const TestCluster& c, int n, int expected, int quorum) {
  return eventually(
      [&] {
        auto s = c.status(n);
        return s.ok() && (*s)["quorum"]["highest_expected"] == expected &&
               (*s)["quorum"]["expected_votes"] == expected && (*s)["quorum"]["quorum"] == quorum;
      },
      10s);
}

TEST(Membership, AFourthNodeIsAddedLiveCountsInQuorumThenLeavesAndIsRemoved) {
  ClusterSpec spec;
  spec.own_configs = true;
  TestCluster c(spec, "members");
  for (int n : {1, 2, 3}) c.start(n);
  ASSERT_TRUE(ring_formed(c, {1, 2, 3}, 20s));
  std::map<int, int> pids;
  for (int n : {1, 2, 3}) pids[n] = (*c.status(n))["pid"].get<int>();

  // Asked on node 2; a mistake is refused whole, naming the conflict.
  auto text = vigil("cluster add --nodeid 3 --name n4 127.0.0.4 --socket " + c.socket(2));
  EXPECT_NE(text.find("node id 3 is already node 3 (n3)'s"), std::string::npos) << text;
  text = vigil("cluster add --nodeid 4 --name n4 127.0.0.4 --socket " + c.socket(2));
  EXPECT_NE(text.find("node 127.0.0.4 added to the nodelist: 4 node(s), expected votes 4"),
            std::string::npos)
      << text;
  for (int n : {1, 2, 3}) {
    EXPECT_TRUE(votes_settle(c, n, 4, 3)) << c.log_text(n);
    const auto conf = file_text(c.config_of(n));
    EXPECT_NE(conf.find("ring0_addr: 127.0.0.4\n    name: n4\n    nodeid: 4\n"), std::string::npos)
        << conf;
    EXPECT_NE(c.log_text(n).find("nodelist: node 4 (n4) added (asked on node 2)"),
              std::string::npos);
  }
  // The new node starts with the file a member rewrote, and joins the ring.
  fs::copy_file(c.config_of(1), c.config_of(4));
  c.start(4);
  ASSERT_TRUE(ring_formed(c, {1, 2, 3, 4}, 20s));
  EXPECT_EQ((*c.status(1))["quorum"]["total_votes"], 4);
  EXPECT_TRUE(c.online(2, 4));
  text = vigil("cluster remove n4 --socket " + c.socket(1));
  EXPECT_NE(text.find("node 4 (n4) is still a member of the ring: stop it first"),
            std::string::npos)
      << text;

  // Stopped, it is still expected until it is removed; then expected votes come back to 3.
  c.signal(4, SIGTERM);
  EXPECT_EQ(c.reap(4), 0);
  ASSERT_TRUE(ring_formed(c, {1, 2, 3}, 20s));
  EXPECT_TRUE(votes_settle(c, 1, 4, 3));
  text = vigil("cluster remove n4 --socket " + c.socket(3));
  EXPECT_NE(text.find("node n4 removed from the nodelist: 3 node(s), expected votes 3"),
            std::string::npos)
      << text;
  for (int n : {1, 2, 3}) {
    EXPECT_TRUE(votes_settle(c, n, 3, 2)) << c.log_text(n);
    EXPECT_EQ(file_text(c.config_of(n)).find("n4"), std::string::npos);
    EXPECT_EQ((*c.status(n))["nodes"].size(), 3u);
    EXPECT_EQ((*c.status(n))["pid"].get<int>(), pids[n]);  // never restarted
  }
}

}  // namespace
}  // namespace vigil::test
