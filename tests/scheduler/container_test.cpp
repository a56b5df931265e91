// Placement rules beside the constraints themselves: a resource inside a container (meta
// container=ID) runs with it, and resource-discovery=exclusive keeps a resource to the nodes its
// constraint reaches. As Pacemaker 2.1.5's crm_simulate decides (corpus cases container-1 and
// resource-discovery).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cib/cib.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {
namespace {

constexpr Millis kNow = 1700000200000;

// Three nodes without fencing, nothing running yet; `node1_attrs` are node1's transient
// attributes and `options` more cluster options (nvpairs).
TransitionGraph schedule_of(const std::string& resources, const std::string& constraints,
                            const std::string& node1_attrs = "", const std::string& options = "") {
  const std::string xml = R"(<cib epoch="5" num_updates="1" admin_epoch="0" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>)" + options + R"(
    </cluster_property_set></crm_config>
    <nodes>
      <node id="1" uname="node1"/><node id="2" uname="node2"/>
      <node id="3" uname="node3"><instance_attributes id="n3"><nvpair id="n3a" name="web" value="yes"/></instance_attributes></node>
    </nodes>
    <resources>)" + resources + R"(</resources>
    <constraints>)" + constraints + R"(</constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="s1">)" + node1_attrs + R"(</instance_attributes></transient_attributes>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="3" uname="node3" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status></cib>)";
  auto cib = cib::Cib::parse(xml, "container.xml");
  EXPECT_TRUE(static_cast<bool>(cib));
  return schedule(*cib, kNow);
}

const GraphAction* start_of(const TransitionGraph& g, const std::string& rsc) {
  for (const auto& a : g.actions) {
    if (a.resource == rsc && a.task == "start") return &a;
  }
  return nullptr;
}

TEST(SchedulerContainer, AResourceRunsWithItsContainerAndStartsAfterIt) {
  // Without its container, rsc1 would take the emptiest node (node1 is taken by container1).
  const auto g = schedule_of(R"(
      <primitive id="container1" class="ocf" provider="pacemaker" type="Dummy"/>
      <primitive id="rsc1" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="rsc1-m"><nvpair id="rsc1-c" name="container" value="container1"/></meta_attributes>
      </primitive>)",
                             R"(<rsc_location id="c-on-2" rsc="container1" node="node2" score="10"/>)");
  const GraphAction* container = start_of(g, "container1");
  const GraphAction* filler = start_of(g, "rsc1");
  ASSERT_NE(container, nullptr);
  ASSERT_NE(filler, nullptr);
  EXPECT_EQ(container->node, "node2");
  EXPECT_EQ(filler->node, "node2");
  EXPECT_NE(std::find(filler->after.begin(), filler->after.end(), container->id),
            filler->after.end());
}

// Pacemaker's pcmk__threshold_reached counts the failures of what runs inside a container as the
// container's own (corpus container-4): 1 + 2 reaches the threshold of 3 on node1.
TEST(SchedulerContainer, FailuresInsideAContainerCountTowardsItsThreshold) {
  const auto g = schedule_of(R"(
      <primitive id="container1" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="c1-m"><nvpair id="c1-t" name="migration-threshold" value="3"/></meta_attributes>
      </primitive>
      <primitive id="rsc1" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="rsc1-m"><nvpair id="rsc1-c" name="container" value="container1"/></meta_attributes>
      </primitive>)",
                             R"(<rsc_location id="c-on-1" rsc="container1" node="node1" score="10"/>)",
                             R"(<nvpair id="f1" name="fail-count-container1" value="1"/>
                                <nvpair id="f2" name="fail-count-rsc1" value="2"/>)");
  const GraphAction* container = start_of(g, "container1");
  ASSERT_NE(container, nullptr);
  EXPECT_NE(container->node, "node1");
}

// Pacemaker's node health: with migrate-on-red, a red #health-* attribute bans the node (the
// location constraint would put d there), unless d has allow-unhealthy-nodes=true (corpus
// systemhealtho3, allow-unhealthy-nodes).
TEST(SchedulerContainer, ARedNodeTakesOnlyWhatAllowsUnhealthyNodes) {
  const std::string strategy =
      R"(<nvpair id="o2" name="node-health-strategy" value="migrate-on-red"/>)";
  const std::string red = R"(<nvpair id="h1" name="#health-disk" value="red"/>)";
  const std::string on_1 = R"(<rsc_location id="d-on-1" rsc="d" node="node1" score="10"/>)";
  auto node_of_d = [&](const std::string& meta) {
    const auto g = schedule_of(R"(<primitive id="d" class="ocf" provider="pacemaker" type="Dummy">)" +
                                   meta + "</primitive>",
                               on_1, red, strategy);
    const GraphAction* start = start_of(g, "d");
    return start ? start->node : std::string();
  };
  EXPECT_NE(node_of_d(""), "node1");
  EXPECT_EQ(node_of_d(R"(<meta_attributes id="d-m"><nvpair id="d-u" name="allow-unhealthy-nodes" value="true"/></meta_attributes>)"),
            "node1");
}

TEST(SchedulerContainer, ExclusiveDiscoveryKeepsAResourceToTheNodesItsConstraintReaches) {
  // The rule's score is 0: it adds no preference, only the limit.
  const auto g = schedule_of(R"(<primitive id="web" class="ocf" provider="pacemaker" type="Dummy"/>)",
                             R"(<rsc_location id="web-where" rsc="web" resource-discovery="exclusive">
        <rule id="web-rule" score="0"><expression id="web-e" attribute="web" operation="eq" value="yes"/></rule>
      </rsc_location>)");
  const GraphAction* start = start_of(g, "web");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->node, "node3");
}

}  // namespace
}  // namespace vigil::scheduler
