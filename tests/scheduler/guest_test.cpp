// Guest nodes as the scheduler decides them: a primitive with meta remote-node=NAME (a VM or
// container) holds a node of that name, reached through a connection the cluster makes for it;
// the guest is "fenced" by recovering its container, and what runs in it waits for both. The
// expectations follow Pacemaker 2.1.5's crm_simulate on the same shapes (corpus cases
// whitebox-fail1, whitebox-move and guest-node-host-dies).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cib/cib.h"
#include "scheduler/scheduler.h"
#include "scheduled.h"
#include "status_xml.h"

namespace vigil::scheduler {
namespace {

using test::node_state;
using test::op;
using test::summary;

constexpr Millis kNow = 1700000200000;

std::string history(const std::string& rsc, const std::string& provider, const std::string& type,
                    const std::string& ops) {
  return "<lrm_resource id=\"" + rsc + "\" class=\"ocf\" provider=\"" + provider + "\" type=\"" +
         type + "\">" + ops + "</lrm_resource>";
}

// node1 and node2 with fencing (shooter on node2); the VM vm1 holds the guest node guest1, and
// d prefers guest1. `node1_lrm` is node1's resource history, `guest_state` guest1's node_state.
std::string cluster(const std::string& node1_lrm, const std::string& guest_state) {
  const std::string shooter =
      "<lrm_resource id=\"shooter\" class=\"stonith\" type=\"fence_xvm\">" +
      op("shooter", "start", 0, 1, 0) + "</lrm_resource>";
  return R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1" dc-uuid="node1">
  <configuration>
    <crm_config/>
    <nodes><node id="node1" uname="node1"/><node id="node2" uname="node2"/></nodes>
    <resources>
      <primitive id="shooter" class="stonith" type="fence_xvm"/>
      <primitive id="vm1" class="ocf" provider="heartbeat" type="VirtualDomain">
        <meta_attributes id="vm1-meta"><nvpair id="vm1-rn" name="remote-node" value="guest1"/></meta_attributes>
        <operations><op id="vm1-mon" name="monitor" interval="10s"/></operations>
      </primitive>
      <primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="d-on-guest1" rsc="d" node="guest1" score="100"/>
      <rsc_location id="vm1-on-node1" rsc="vm1" node="node1" score="10"/>
    </constraints>
  </configuration>
  <status>)" +
         node_state("node1", node1_lrm) + node_state("node2", shooter) + guest_state + "</status></cib>";
}

// vm1 and guest1's connection run on node1, d runs in guest1; vm1's monitor reports `vm_rc`.
std::string running(int vm_rc) {
  const std::string node1 =
      history("vm1", "heartbeat", "VirtualDomain",
              op("vm1", "start", 0, 2, 0) + op("vm1", "monitor", 10000, 3, vm_rc)) +
      history("guest1", "pacemaker", "remote", op("guest1", "start", 0, 4, 0));
  const std::string guest =
      R"(<node_state id="guest1" uname="guest1" remote_node="true"><lrm id="guest1"><lrm_resources>)" +
      history("d", "pacemaker", "Dummy", op("d", "start", 0, 1, 0)) +
      "</lrm_resources></lrm></node_state>";
  return cluster(node1, guest);
}

TransitionGraph graph_of(const std::string& xml) {
  return test::scheduled(xml, "guest.xml", kNow);
}

const GraphAction* find(const TransitionGraph& g, const std::string& rsc, const std::string& task,
                        const std::string& node) {
  for (const auto& a : g.actions) {
    if (a.resource == rsc && a.task == task && a.node == node && !a.probe) return &a;
  }
  return nullptr;
}

bool waits_for(const GraphAction& then, const GraphAction& first) {
  return std::find(then.after.begin(), then.after.end(), first.id) != then.after.end();
}

TEST(SchedulerGuest, TheContainerStartsThenTheConnectionThenWhatRunsInTheGuest) {
  const auto g = graph_of(cluster("", ""));
  const GraphAction* vm = find(g, "vm1", "start", "node1");
  const GraphAction* connect = find(g, "guest1", "start", "node1");
  const GraphAction* d = find(g, "d", "start", "guest1");
  ASSERT_NE(vm, nullptr);
  ASSERT_NE(connect, nullptr);
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(waits_for(*connect, *vm));
  EXPECT_TRUE(waits_for(*d, *connect));
  EXPECT_TRUE(waits_for(*d, *vm));
}

TEST(SchedulerGuest, AGuestIsListedOnlineAndItsConnectionIsNotListed) {
  auto cib = cib::Cib::parse(running(0), "guest.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  const auto status = cluster_status(*cib, kNow);
  EXPECT_NE(std::find(status.begin(), status.end(), "    * GuestOnline: [ guest1 ]"), status.end())
      << ::testing::PrintToString(status);
  for (const auto& line : status) EXPECT_EQ(line.find("ocf:pacemaker:remote"), std::string::npos);
  // A healthy guest is not fenced (its test history has no digests: restarts are expected).
  for (const auto& line : summary(schedule(*cib, kNow))) EXPECT_FALSE(line.starts_with("Fence"));
}

TEST(SchedulerGuest, AFailedContainerFencesItsGuestByRecoveringTheContainer) {
  const auto g = graph_of(running(7));
  const auto lines = summary(g);
  for (const char* want : {"Fence (reboot) guest1 (resource: vm1) () guest is unclean",
                           "Recover vm1 (node1)", "Recover d (guest1)"}) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), want), lines.end())
        << want << " in " << ::testing::PrintToString(lines);
  }
  // d's stop is implied by the container's: a pseudo-action, after the guest's pseudo-fencing.
  const GraphAction* fence = nullptr;
  for (const auto& a : g.actions) {
    if (a.task == "stonith" && a.node == "guest1") fence = &a;
  }
  ASSERT_NE(fence, nullptr);
  EXPECT_TRUE(fence->pseudo);
  const GraphAction* vm_stop = find(g, "vm1", "stop", "node1");
  ASSERT_NE(vm_stop, nullptr);
  EXPECT_TRUE(waits_for(*fence, *vm_stop));
  const GraphAction* d_start = find(g, "d", "start", "guest1");
  const GraphAction* connect = find(g, "guest1", "start", "node1");
  ASSERT_NE(d_start, nullptr);
  ASSERT_NE(connect, nullptr);
  EXPECT_TRUE(waits_for(*d_start, *connect));
}

}  // namespace
}  // namespace vigil::scheduler
