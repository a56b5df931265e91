// Process groups through the control socket: a client on each of two nodes joins a group, one
// sends, the other receives in order after the configuration change; a client that disconnects
// leaves its groups (procdown).
#include <gtest/gtest.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

// Reads events from a client until one satisfies `match`, within the bound.
bool read_until(control::Client& client, std::vector<Json>& seen,
                const std::function<bool(const Json&)>& match) {
  return eventually(
      [&] {
        auto r = client.call(Json{{"command", "cpg_read"}});
        if (!r.ok()) return false;
        for (const auto& e : (*r)["events"]) seen.push_back(e);
        return std::any_of(seen.begin(), seen.end(), match);
      },
      10s);
}

TEST(GroupsOverSocket, JoinSendReceiveAndProcDown) {
  ClusterSpec spec;
  spec.nodes = 2;
  TestCluster c(spec, "cpg");
  c.start(1);
  c.start(2);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  auto connected = control::Client::connect(c.socket(1));
  auto two = control::Client::connect(c.socket(2));
  ASSERT_TRUE(connected.ok() && two.ok());
  std::optional<control::Client> one;
  one.emplace(std::move(*connected));
  ASSERT_EQ((*two->call(Json{{"command", "cpg_join"}, {"group", "g"}}))["ok"], true);
  std::vector<Json> at_two;
  ASSERT_TRUE(read_until(*two, at_two, [](const Json& e) { return e["type"] == "change"; }));
  ASSERT_EQ((*one->call(Json{{"command", "cpg_join"}, {"group", "g"}}))["ok"], true);
  EXPECT_EQ((*one->call(Json{{"command", "cpg_join"}, {"group", "g"}}))["ok"], false)
      << "joined twice";
  EXPECT_EQ((*one->call(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", "zz"}}))["ok"],
            false);
  ASSERT_EQ(
      (*one->call(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", "68656c6c6f"}}))["ok"],
      true);
  ASSERT_TRUE(read_until(*two, at_two, [](const Json& e) { return e["type"] == "message"; }));
  // Total order: node 1's join precedes its message.
  const auto join = std::find_if(at_two.begin(), at_two.end(), [](const Json& e) {
    return e["type"] == "change" && e["members"].size() == 2 && e["reason"] == "join";
  });
  const auto message = std::find_if(at_two.begin(), at_two.end(),
                                    [](const Json& e) { return e["type"] == "message"; });
  ASSERT_NE(join, at_two.end());
  EXPECT_LT(join - at_two.begin(), message - at_two.begin());
  EXPECT_EQ((*message)["data"], "68656c6c6f");
  EXPECT_EQ((*message)["node"], 1);
  EXPECT_EQ((*message)["pid"], ::getpid());
  one.reset();  // the connection ends: its memberships go
  ASSERT_TRUE(read_until(*two, at_two, [](const Json& e) {
    return e["type"] == "change" && e["reason"] == "procdown" && e["left"].size() == 1 &&
           e["left"][0]["node"] == 1;
  }));
}

}  // namespace
}  // namespace vigil::test
