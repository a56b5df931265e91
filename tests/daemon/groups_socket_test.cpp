// Process groups through the control socket: a client on each of two nodes joins a group, one
// sends, the other receives in order after the configuration change; a client that disconnects
// leaves its groups (procdown).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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

// Two nodes in one ring and a client connected to each.
struct TwoNodes {
  explicit TwoNodes(const std::string& name) : cluster(spec(), name) {}
  static ClusterSpec spec() {
    ClusterSpec s;
    s.nodes = 2;
    return s;
  }
  // `version`: the frames node 1's client speaks (control/frame.h); node 2's speaks version 1.
  bool start(std::uint8_t version = control::kVersion) {
    cluster.start(1);
    cluster.start(2);
    if (!ring_formed(cluster, {1, 2}, 20s)) return false;
    auto a = control::Client::connect(cluster.socket(1), version);
    auto b = control::Client::connect(cluster.socket(2));
    if (!a.ok() || !b.ok()) return false;
    one.emplace(std::move(*a));
    two.emplace(std::move(*b));
    return true;
  }
  // Both clients join group "g"; true once node 2's client has seen the two members.
  bool both_in_group() {
    auto joined = [](Result<Json> r) { return r.ok() && (*r)["ok"] == true; };
    if (!joined(two->call(Json{{"command", "cpg_join"}, {"group", "g"}})) ||
        !joined(one->call(Json{{"command", "cpg_join"}, {"group", "g"}})))
      return false;
    return read_until(*two, at_two, [](const Json& e) {
      return e["type"] == "change" && e["members"].size() == 2;
    });
  }
  TestCluster cluster;
  std::optional<control::Client> one, two;
  std::vector<Json> at_two;  // the events node 2's client read
};

TEST(GroupsOverSocket, JoinSendReceiveAndProcDown) {
  TwoNodes n("cpg");
  ASSERT_TRUE(n.start());
  auto& one = n.one;
  auto& two = n.two;
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

// A read that finds nothing waits and is answered by the delivery: the client sleeps in cpg_read
// instead of polling it. Before, the read came back at once, empty.
TEST(GroupsOverSocket, AWaitingReadIsWokenByTheMessage) {
  TwoNodes n("cpgwait");
  ASSERT_TRUE(n.start());
  ASSERT_TRUE(n.both_in_group());
  auto& one = n.one;
  auto& two = n.two;
  // Node 1 sends only once node 2's read is on its way; the read waits up to 20 s for it.
  Result<Json> woken = fail("not read");
  std::atomic<bool> reading{false};
  std::thread reader([&] {
    reading = true;
    woken = two->call(Json{{"command", "cpg_read"}, {"wait", 20000}}, 30000);
  });
  while (!reading) std::this_thread::yield();
  std::this_thread::sleep_for(200ms);  // lets the read reach vigild first (only old code cares)
  const auto sent = one->call(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", "6869"}});
  reader.join();
  ASSERT_TRUE(sent.ok() && (*sent)["ok"] == true);
  ASSERT_TRUE(woken.ok()) << woken.error().message;
  ASSERT_EQ((*woken)["events"].size(), 1u) << woken->dump();
  EXPECT_EQ((*woken)["events"][0]["type"], "message");
  EXPECT_EQ((*woken)["events"][0]["data"], "6869");
  EXPECT_EQ((*woken)["events"][0]["node"], 1);
  // With nothing to deliver, the wait runs out and the read answers empty.
  auto empty = two->call(Json{{"command", "cpg_read"}, {"wait", 100}});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)["ok"], true);
  EXPECT_TRUE((*empty)["events"].empty());
}

// A client that goes away while its read waits leaves its groups then, not when the wait ends.
TEST(GroupsOverSocket, AClientGoneWhileWaitingLeavesAtOnce) {
  TwoNodes n("cpggone");
  ASSERT_TRUE(n.start());
  ASSERT_TRUE(n.both_in_group());
  // Node 1's client reads what it has (the group's changes), so that the next read waits.
  for (int i = 0; i < 10; ++i) {
    auto r = n.one->call(Json{{"command", "cpg_read"}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    if ((*r)["events"].empty()) break;
  }
  // An hour's wait, given up by this client after 300 ms: it closes its connection.
  EXPECT_FALSE(n.one->call(Json{{"command", "cpg_read"}, {"wait", 3600000}}, 300).ok());
  n.one.reset();
  ASSERT_TRUE(read_until(*n.two, n.at_two, [](const Json& e) {
    return e["type"] == "change" && e["reason"] == "procdown" && e["left"].size() == 1 &&
           e["left"][0]["node"] == 1;
  }));
}

// A client of version-2 frames sends its bytes raw and reads them raw; the version-1 client on the
// other node reads the same message as the hex it always read.
TEST(GroupsOverSocket, RawBytesReachAVersion2ReaderRawAndAVersion1ReaderAsHex) {
  TwoNodes n("cpgraw");
  ASSERT_TRUE(n.start(control::kPayloadVersion));
  auto ping = n.one->call(Json{{"command", "ping"}});
  ASSERT_TRUE(ping.ok()) << ping.error().message;
  EXPECT_EQ((*ping)["versions"], Json::array({1, 2}));
  ASSERT_TRUE(n.both_in_group());
  const std::vector<std::uint8_t> bytes{0x00, 0xff, 'h', '"'};
  const auto sent = n.one->call(
      Json{{"command", "cpg_send"}, {"group", "g"}, {"data", Json::binary(bytes)}});
  ASSERT_TRUE(sent.ok() && (*sent)["ok"] == true) << (sent.ok() ? sent->dump() : "no answer");
  const auto is_message = [](const Json& e) { return e["type"] == "message"; };
  ASSERT_TRUE(read_until(*n.two, n.at_two, is_message));
  EXPECT_EQ(std::find_if(n.at_two.begin(), n.at_two.end(), is_message)->at("data"), "00ff6822");
  std::vector<Json> at_one;
  ASSERT_TRUE(read_until(*n.one, at_one, is_message));
  const auto& own = std::find_if(at_one.begin(), at_one.end(), is_message)->at("data");
  ASSERT_TRUE(own.is_binary()) << own.dump();
  EXPECT_EQ(static_cast<const std::vector<std::uint8_t>&>(own.get_binary()), bytes);
}

}  // namespace
}  // namespace vigil::test
