// Failures as the scheduler reports them: why a recovery happens, what Pacemaker's scheduler
// logs as an error, and a shutdown held back by a stop that cannot run. Each CIB was also given to
// Pacemaker 2.1.5's crm_simulate, whose decisions the expectations follow.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cib/cib.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {
namespace {

constexpr Millis kNow = 1700000200000;

// Two nodes without fencing; `node1_attrs` are node1's transient attributes, `d_on_node1` and
// `d_on_node2` the lrm_rsc_op records of d there.
std::string cluster(const std::string& node1_attrs, const std::string& d_on_node1,
                    const std::string& d_on_node2, const std::string& d_meta = "") {
  auto state = [](const std::string& id, const std::string& attrs, const std::string& ops) {
    return "<node_state id=\"" + id + "\" uname=\"node" + id +
           "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\">"
           "<transient_attributes id=\"" +
           id + "\"><instance_attributes id=\"s" + id + "\">" + attrs +
           "</instance_attributes></transient_attributes><lrm id=\"" + id +
           "\"><lrm_resources><lrm_resource id=\"d\" class=\"ocf\" provider=\"heartbeat\" "
           "type=\"Dummy\">" +
           ops + "</lrm_resource></lrm_resources></lrm></node_state>";
  };
  return R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1" dc-uuid="2">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="d" class="ocf" provider="heartbeat" type="Dummy">)" +
         d_meta + R"(
        <operations><op id="d-mon" name="monitor" interval="10s"/></operations>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status>)" +
         state("1", node1_attrs, d_on_node1) + state("2", "", d_on_node2) + "</status></cib>";
}

// One lrm_rsc_op; `target` is the rc the DC expected (7 for probes).
std::string op(const std::string& id, const std::string& task, int interval, int call, int rc,
               int status = 0, int target = 0) {
  const std::string key = "3:2:" + std::to_string(target) + ":aaaa";
  return "<lrm_rsc_op id=\"" + id + "\" operation_key=\"d_" + task + "_" +
         std::to_string(interval) + "\" operation=\"" + task + "\" transition-key=\"" + key +
         "\" transition-magic=\"" + std::to_string(status) + ":" + std::to_string(rc) + ";" + key +
         "\" call-id=\"" + std::to_string(call) + "\" rc-code=\"" + std::to_string(rc) +
         "\" op-status=\"" + std::to_string(status) + "\" interval=\"" + std::to_string(interval) +
         "\" last-rc-change=\"1700000100\" exec-time=\"1\" queue-time=\"0\"/>";
}

const std::string kStoppedOnNode2 = op("d_last_0", "monitor", 0, 1, 7, 0, 7);
const std::string kShutdownRequested = R"(<nvpair id="s1-sd" name="shutdown" value="1700000150"/>)";

TransitionGraph schedule_xml(const std::string& xml) {
  auto cib = cib::Cib::parse(xml, "test.xml");
  EXPECT_TRUE(cib.ok()) << (cib.ok() ? "" : cib.error().message);
  return cib.ok() ? schedule(*cib, kNow) : TransitionGraph{};
}

bool has_error(const TransitionGraph& g, const std::string& part) {
  return std::any_of(g.errors.begin(), g.errors.end(),
                     [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

// The agent went missing after d started: its stop ends "not installed" (op-status 7). Without
// fencing d is blocked, and node1's shutdown waits for it (Pacemaker: "Cannot shut down node1
// because of d", no do_shutdown in the graph) — it had been scheduled at every run, and the
// node, still holding d, never left.
TEST(SchedulerShutdown, AStopThatCannotRunHoldsTheShutdownBack) {
  const std::string failed_stop =
      op("d_last_0", "stop", 0, 4, 5, 7) + op("d_last_failure_0", "stop", 0, 4, 5, 7);
  const auto graph = schedule_xml(cluster(kShutdownRequested, failed_stop, kStoppedOnNode2));
  EXPECT_TRUE(graph.empty()) << graph.actions.front().key;
  EXPECT_TRUE(has_error(graph, "node1 cannot shut down: the stop of d cannot run"));
  EXPECT_TRUE(
      has_error(graph, "no further recovery of d on node1: its stop failed (not installed)"));
}

// is-managed=false: the resource is left alone and does not keep its node from leaving.
TEST(SchedulerShutdown, AnUnmanagedResourceLetsTheNodeGo) {
  const auto graph =
      schedule_xml(cluster(kShutdownRequested, op("d_last_0", "start", 0, 2, 0), kStoppedOnNode2,
                           R"(<meta_attributes id="d-meta">
                                <nvpair id="d-managed" name="is-managed" value="false"/>
                              </meta_attributes>)"));
  EXPECT_TRUE(std::any_of(graph.actions.begin(), graph.actions.end(),
                          [](const GraphAction& a) { return a.key == "do_shutdown-node1"; }));
  EXPECT_TRUE(graph.errors.empty());
}

// The Transition Summary line of a recovery says what failed.
TEST(SchedulerReasons, ARecoveryNamesTheFailure) {
  const std::string failed_monitor = op("d_last_0", "start", 0, 2, 0) +
                                     op("d_monitor_10000", "monitor", 10000, 3, 7) +
                                     op("d_last_failure_0", "monitor", 10000, 3, 7);
  const auto graph =
      schedule_xml(cluster(R"(<nvpair id="s1-fc" name="fail-count-d#monitor_10000" value="1"/>)",
                           failed_monitor, kStoppedOnNode2));
  ASSERT_EQ(graph.summary.size(), 1u);
  EXPECT_EQ(graph.summary[0].verb, "Recover");
  EXPECT_EQ(graph.summary[0].why, "its monitor failed (not running)");
}

TEST(SchedulerReasons, AResourceActiveOnTwoNodesIsAnError) {
  const auto graph = schedule_xml(
      cluster("", op("d_last_0", "start", 0, 2, 0), op("d_last_0", "monitor", 0, 1, 0, 0, 7)));
  EXPECT_TRUE(has_error(graph, "d is active on 2 nodes (node1 node2)"));
  ASSERT_FALSE(graph.summary.empty());
  EXPECT_EQ(graph.summary[0].why, "d is active on 2 nodes");
}

// A live migration whose migrate_to failed may have got d running on its target already: unless
// the target's history says otherwise since, d counts as active on both nodes, as Pacemaker's
// unpack_migrate_to_failure reads it (not-reschedule-unneeded-monitor: "FAILED [ kimball
// castor ]"). The target comes first: it is found while the source's history is read.
TEST(SchedulerReasons, AFailedMigrateToLeavesTheResourceActiveOnBothNodes) {
  std::string migrate_to = op("d_last_failure_0", "migrate_to", 0, 3, 1);
  migrate_to.replace(migrate_to.size() - 2, 2,
                     R"( migrate_source="node1" migrate_target="node2"/>)");
  const std::string xml =
      cluster("", op("d_last_0", "start", 0, 2, 0) + migrate_to, kStoppedOnNode2,
              R"(<meta_attributes id="d-m"><nvpair id="d-m1" name="allow-migrate" value="true"/>
                 </meta_attributes>)");
  auto cib = cib::Cib::parse(xml, "test.xml");
  ASSERT_TRUE(cib.ok());
  const auto lines = cluster_status(*cib, kNow);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "    * d\t(ocf:heartbeat:Dummy):\t FAILED [ node2 node1 ]"),
            lines.end());
  EXPECT_TRUE(has_error(schedule(*cib, kNow), "d is active on 2 nodes"));
}

}  // namespace
}  // namespace vigil::scheduler
