// A node started with another authkey is loud: every node's log names the addresses whose frames
// fail authentication and the likely cause, once per address for a while however many frames
// come, and `vigil status` on a good node carries the warning.
#include <gtest/gtest.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Authkey, AWrongAuthkeyIsNamedInTheLogsAndInTheStatus) {
  TestCluster c(ClusterSpec{}, "wrongkey");
  c.start(1);
  c.start(2);
  c.start(3, /*other_key=*/true);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  ASSERT_TRUE(eventually([&] { return c.members(3) == std::vector<int>{3}; }, 20s))
      << c.log_text(3);
  const auto from = [&](int node) {
    return "frames from " + c.address(node) + ":" + std::to_string(c.port()) + " (claiming node " +
           std::to_string(node) + ") fail authentication and are dropped: ";
  };
  const std::string cause = "sealed with a different authkey? (this node's is ";
  for (int good : {1, 2}) {
    ASSERT_TRUE(eventually(
        [&] { return c.log_text(good).find(from(3) + cause) != std::string::npos; }, 10s))
        << c.log_text(good);
    EXPECT_EQ(c.log_text(good).find(from(good == 1 ? 2 : 1)), std::string::npos)
        << "the good peer is not named";
  }
  for (int good : {1, 2}) {
    ASSERT_TRUE(eventually(
        [&] { return c.log_text(3).find(from(good) + cause) != std::string::npos; }, 10s))
        << c.log_text(3);
  }
  // Many frames later (tokens, join attempts), still one line per address.
  ASSERT_TRUE(eventually([&] { return (*c.status(1))["transport"]["unauthenticated"] > 20; }, 10s));
  EXPECT_EQ(count(c.log_text(1), from(3)), 1u) << c.log_text(1);

  std::string status;
  const std::string file = (c.dir() / "status.out").string();
  const int rc = std::system(
      ("VIGIL_SOCKET=" + c.socket(1) + " " + VIGIL_PATH + " status >" + file + " 2>&1 </dev/null")
          .c_str());
  {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    status = s.str();
  }
  EXPECT_EQ(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, 0) << status;
  const std::string warning = "  * WARNING: ";
  const auto at = status.find(warning);
  ASSERT_NE(at, std::string::npos) << status;
  const std::string line = status.substr(at, status.find('\n', at) - at);
  EXPECT_NE(line.find(" frames from " + c.address(3) + ":" + std::to_string(c.port()) +
                      " (claiming node 3) failed authentication, the last "),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(" s ago: " + cause + c.key_path().string() + ")"), std::string::npos) << line;
  EXPECT_LT(status.find(warning), status.find("Node List:")) << "in the summary, above the nodes";
}

}  // namespace
}  // namespace vigil::test
