// shutdown-lock (Pacemaker 2.1.5's apply_shutdown_locks and unpack_shutdown_lock): a resource
// running on a node that shuts down cleanly stops there and moves nowhere, a resource whose
// history on an offline node carries a lock waits for that node, until shutdown-lock-limit has
// passed. The corpus case shutdown-lock checks the same against crm_simulate.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "scheduled.h"

namespace vigil::scheduler {
namespace {

constexpr Millis kNow = 1700000200000;  // 200 s after node1 asked to shut down at 1700000000

// node1 shuts down running a; node2 is offline, b's history there ends with a stop under a lock
// taken at `b_lock`; node3 is up. Without fencing; `options` adds cluster options.
std::string cluster(const std::string& options, const std::string& b_lock) {
  auto op = [](const std::string& rsc, const std::string& task, int rc) {
    const std::string key = "3:2:0:aaaa";
    return "<lrm_rsc_op id=\"" + rsc + "_last_0\" operation_key=\"" + rsc + "_" + task +
           "_0\" operation=\"" + task + "\" transition-key=\"" + key +
           "\" transition-magic=\"0:" + std::to_string(rc) + ";" + key +
           "\" call-id=\"2\" rc-code=\"" + std::to_string(rc) +
           "\" op-status=\"0\" interval=\"0\" last-rc-change=\"1699999000\" exec-time=\"1\" "
           "queue-time=\"0\"/>";
  };
  auto history = [](const std::string& rsc, const std::string& lock, const std::string& ops) {
    return "<lrm_resource id=\"" + rsc + "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"" +
           (lock.empty() ? "" : " shutdown-lock=\"" + lock + "\"") + ">" + ops + "</lrm_resource>";
  };
  auto primitive = [](const std::string& id) {
    return "<primitive id=\"" + id + "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>";
  };
  return R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1" dc-uuid="3">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>)" +
         options + R"(
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/><node id="3" uname="node3"/></nodes>
    <resources>)" +
         primitive("a") + primitive("b") + R"(</resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="s1">
        <nvpair id="s1-sd" name="shutdown" value="1700000000"/>
      </instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources>)" +
         history("a", "", op("a", "start", 0)) + R"(</lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="false" crmd="offline" join="down" expected="down">
      <lrm id="2"><lrm_resources>)" +
         history("b", b_lock, op("b", "stop", 0)) + R"(</lrm_resources></lrm>
    </node_state>
    <node_state id="3" uname="node3" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>)";
}

const std::string kLocked = R"(<nvpair id="o2" name="shutdown-lock" value="true"/>)";

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(ShutdownLock, AResourceOnANodeShuttingDownStopsThereAndOneLockedToAnOfflineNodeWaits) {
  const auto g = test::scheduled(cluster(kLocked, "1699990000"), "locked.xml", kNow);
  const auto lines = test::summary(g);
  EXPECT_TRUE(has(lines, "Stop a (node1) due to node availability")) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines.size(), 1u) << "b waits for node2: " << ::testing::PrintToString(lines);
  // The stop carries the lock's start (node1's shutdown time), for node1 to record with it.
  const auto stop = std::find_if(g.actions.begin(), g.actions.end(), [](const GraphAction& a) {
    return a.resource == "a" && a.task == "stop";
  });
  ASSERT_NE(stop, g.actions.end());
  EXPECT_EQ(stop->meta.at("shutdown_lock"), "1700000000");
}

TEST(ShutdownLock, WithoutItOrPastItsLimitResourcesMoveAsUsual) {
  const auto unlocked = test::summary(test::scheduled(cluster("", "1699990000"), "off.xml", kNow));
  EXPECT_TRUE(has(unlocked, "Move a (node1 -> node3)")) << ::testing::PrintToString(unlocked);
  EXPECT_TRUE(has(unlocked, "Start b (node3)")) << ::testing::PrintToString(unlocked);
  // b's lock began 10 200 s before now; a limit of 1 h has passed, 5 h has not.
  const std::string hour = R"(<nvpair id="o3" name="shutdown-lock-limit" value="1h"/>)";
  const auto expired =
      test::summary(test::scheduled(cluster(kLocked + hour, "1699990000"), "hour.xml", kNow));
  EXPECT_TRUE(has(expired, "Start b (node3)")) << ::testing::PrintToString(expired);
  EXPECT_TRUE(has(expired, "Stop a (node1) due to node availability"));
  const std::string five = R"(<nvpair id="o3" name="shutdown-lock-limit" value="5h"/>)";
  const auto held =
      test::summary(test::scheduled(cluster(kLocked + five, "1699990000"), "five.xml", kNow));
  EXPECT_FALSE(has(held, "Start b (node3)")) << ::testing::PrintToString(held);
}

}  // namespace
}  // namespace vigil::scheduler
