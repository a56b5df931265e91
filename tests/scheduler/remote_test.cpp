// Pacemaker Remote nodes as the scheduler decides them: an ocf:pacemaker:remote primitive makes a
// node of its name, up while the connection runs; actions there wait for the connection; a
// connection that fails fences its node. The expectations follow Pacemaker 2.1.5's crm_simulate
// on the same CIBs (its corpus cases remote-startup, remote-unclean2 and remote-recover).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cib/cib.h"
#include "scheduler/scheduler.h"
#include "status_xml.h"

namespace vigil::scheduler {
namespace {

using test::node_state;
using test::op;

constexpr Millis kNow = 1700000200000;

std::string history(const std::string& rsc, const std::string& cls, const std::string& type,
                    const std::string& ops) {
  return "<lrm_resource id=\"" + rsc + "\" class=\"" + cls + "\" provider=\"pacemaker\" type=\"" +
         type + "\">" + ops + "</lrm_resource>";
}

// node1 and node2 with fencing (shooter runs on node1), the connection remote1 and a Dummy d that
// prefers remote1. `node1_lrm` is node1's resource history besides shooter's; `remote_state`
// remote1's node_state (empty: never seen).
std::string cluster(const std::string& node1_lrm, const std::string& remote_state) {
  const std::string shooter =
      history("shooter", "stonith", "fence_xvm", op("shooter", "start", 0, 1, 0));
  return R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1" dc-uuid="node1">
  <configuration>
    <crm_config/>
    <nodes><node id="node1" uname="node1"/><node id="node2" uname="node2"/></nodes>
    <resources>
      <primitive id="shooter" class="stonith" type="fence_xvm"/>
      <primitive id="remote1" class="ocf" provider="pacemaker" type="remote">
        <operations><op id="remote1-mon" name="monitor" interval="60s"/></operations>
      </primitive>
      <primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="d-on-remote1" rsc="d" node="remote1" score="100"/>
      <rsc_location id="remote1-on-node2" rsc="remote1" node="node2" score="10"/>
    </constraints>
  </configuration>
  <status>)" +
         node_state("node1", shooter + node1_lrm) + node_state("node2", "") + remote_state +
         "</status></cib>";
}

std::vector<std::string> summary(const std::string& xml) {
  auto cib = cib::Cib::parse(xml, "remote.xml");
  EXPECT_TRUE(static_cast<bool>(cib));
  std::vector<std::string> out;
  for (const auto& line : schedule(*cib, kNow).summary)
    out.push_back(line.verb + " " + line.subject + " (" + line.details + ")" +
                  (line.reason.empty() ? "" : " " + line.reason));
  return out;
}

const GraphAction* find(const TransitionGraph& g, const std::string& rsc, const std::string& task,
                        const std::string& node) {
  for (const auto& a : g.actions) {
    if (a.resource == rsc && a.task == task && a.node == node && !a.probe) return &a;
  }
  return nullptr;
}

TEST(SchedulerRemote, AConnectionMakesANodeThatComesUpWhenTheConnectionStarts) {
  auto cib = cib::Cib::parse(cluster("", ""), "remote.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  const auto graph = schedule(*cib, kNow);
  const GraphAction* connect = find(graph, "remote1", "start", "node2");
  const GraphAction* start = find(graph, "d", "start", "remote1");
  ASSERT_NE(connect, nullptr);
  ASSERT_NE(start, nullptr);
  // d starts on the remote node only once the connection is up.
  EXPECT_NE(std::find(start->after.begin(), start->after.end(), connect->id), start->after.end());
}

// The scores (for --show-scores) are kept only when asked for; the graph is the same either way.
TEST(SchedulerRemote, ScoresAreKeptOnlyWhenAskedFor) {
  auto cib = cib::Cib::parse(cluster("", ""), "remote.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  const auto plain = schedule(*cib, kNow);
  const auto scored = schedule(*cib, kNow, Scores::Keep);
  EXPECT_TRUE(plain.scores.empty());
  EXPECT_EQ(scored.scores.size(), 3u * 3u);  // shooter, remote1, d on node1, node2, remote1
  ASSERT_EQ(plain.actions.size(), scored.actions.size());
  for (std::size_t i = 0; i < plain.actions.size(); ++i)
    EXPECT_EQ(plain.actions[i].key, scored.actions[i].key);
}

TEST(SchedulerRemote, FencingDevicesAndConnectionsNeverRunOnARemoteNode) {
  auto cib = cib::Cib::parse(cluster("", ""), "remote.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  const auto graph = schedule(*cib, kNow, Scores::Keep);
  int checked = 0;
  for (const auto& s : graph.scores) {
    if (s.node != "remote1" || (s.resource != "shooter" && s.resource != "remote1")) continue;
    EXPECT_EQ(s.value, -kInfinity) << s.resource;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  for (const auto& a : graph.actions) {
    if (a.node == "remote1") {
      EXPECT_EQ(a.resource, "d") << a.key;
    }
  }
}

TEST(SchedulerRemote, TheRemoteNodeIsOnlineWhileItsConnectionRuns) {
  const std::string connected =
      history("remote1", "ocf", "remote", op("remote1", "start", 0, 2, 0));
  const std::string remote_state =
      R"(<node_state id="remote1" uname="remote1" remote_node="true"/>)";
  auto cib = cib::Cib::parse(cluster(connected, remote_state), "remote.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  const auto status = cluster_status(*cib, kNow);
  EXPECT_NE(std::find(status.begin(), status.end(), "    * RemoteOnline: [ remote1 ]"),
            status.end());
  // d joins the running connection's node.
  const auto lines = summary(cluster(connected, remote_state));
  EXPECT_NE(std::find(lines.begin(), lines.end(), "Start d (remote1)"), lines.end())
      << ::testing::PrintToString(lines);
}

TEST(SchedulerRemote, AFailedConnectionFencesItsNodeAndIsRecovered) {
  const std::string failed = history(
      "remote1", "ocf", "remote",
      op("remote1", "start", 0, 2, 0) + op("remote1", "monitor", 60000, 3, 7));
  const std::string remote_state =
      R"(<node_state id="remote1" uname="remote1" remote_node="true"><lrm id="remote1"><lrm_resources>)" +
      history("d", "ocf", "Dummy", op("d", "start", 0, 1, 0)) +
      "</lrm_resources></lrm></node_state>";
  const auto lines = summary(cluster(failed, remote_state));
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "Fence (reboot) remote1 () remote connection is unrecoverable"),
            lines.end())
      << ::testing::PrintToString(lines);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.starts_with("Recover remote1 "); }),
            1)
      << ::testing::PrintToString(lines);
}

}  // namespace
}  // namespace vigil::scheduler
