// Live migration decided as Pacemaker 2.1.5 decides it: a resource with allow-migrate=true that
// moves migrates unless something forces a plain stop and start (an ordering with a resource that
// restarts, a stop elsewhere). The corpus cases 4-am-then-bm-b-not-migratable,
// 5-am-then-bm-a-not-migratable and group-dependents show the same on larger CIBs.
#include <gtest/gtest.h>

#include <string>

#include "cib/cib.h"
#include "scheduler/digest.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {
namespace {

constexpr Millis kNow = 1700000200000;

std::string started(const std::string& rsc) {
  const std::string key = "3:2:0:aaaa";
  return "<lrm_resource id=\"" + rsc +
         "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"><lrm_rsc_op id=\"" + rsc +
         "_last_0\" operation_key=\"" + rsc +
         "_start_0\" operation=\"start\" transition-key=\"" + key + "\" transition-magic=\"0:0;" +
         key +
         "\" call-id=\"2\" rc-code=\"0\" op-status=\"0\" interval=\"0\" "
         "last-rc-change=\"1700000100\" exec-time=\"1\" queue-time=\"0\"/></lrm_resource>";
}

std::string primitive(const std::string& id, bool migrates) {
  return "<primitive id=\"" + id +
         "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"><meta_attributes id=\"" + id +
         "-m\"><nvpair id=\"" + id + "-m1\" name=\"allow-migrate\" value=\"" +
         (migrates ? "true" : "false") + "\"/></meta_attributes></primitive>";
}

// Two nodes without fencing; a and b run on node1 and must move to node2 (node1 is in standby).
std::string cluster(const std::string& resources, const std::string& constraints) {
  return R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1" dc-uuid="2">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"><instance_attributes id="n1">
      <nvpair id="n1-s" name="standby" value="on"/></instance_attributes></node>
      <node id="2" uname="node2"/></nodes>
    <resources>)" +
         resources + "</resources><constraints>" + constraints + R"(</constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>)" +
         started("a") + started("b") + R"(</lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="2"><lrm_resources/></lrm></node_state>
  </status></cib>)";
}

const std::string kAThenB = R"(<rsc_order id="a-then-b" first="a" then="b"/>)";

std::vector<SummaryLine> summary_of(const std::string& xml) {
  auto cib = cib::Cib::parse(xml, "test.xml");
  EXPECT_TRUE(cib.ok()) << (cib.ok() ? "" : cib.error().message);
  return cib.ok() ? schedule(*cib, kNow).summary : std::vector<SummaryLine>{};
}

TEST(SchedulerMigration, AMigratingResourceOrderedBeforeARestartStillMigrates) {
  const auto lines = summary_of(cluster(primitive("a", true) + primitive("b", false), kAThenB));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].verb + " " + lines[0].subject, "Migrate a");
  EXPECT_EQ(lines[1].verb + " " + lines[1].subject, "Move b");
}

// "a then b" stops b before a; a cannot migrate, so b's stop must be a plain one: b moves, and
// the summary names why (Pacemaker's "due to unrunnable a stop").
TEST(SchedulerMigration, AResourceOrderedAfterARestartMovesInstead) {
  const auto lines = summary_of(cluster(primitive("a", false) + primitive("b", true), kAThenB));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].verb + " " + lines[0].subject, "Move a");
  EXPECT_EQ(lines[1].verb + " " + lines[1].subject, "Move b");
  EXPECT_EQ(lines[1].reason, "due to unrunnable a stop");
}

TEST(SchedulerMigration, BothMigrateWhenBothMay) {
  const auto lines = summary_of(cluster(primitive("a", true) + primitive("b", true), kAThenB));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].verb, "Migrate");
  EXPECT_EQ(lines[1].verb, "Migrate");
}

TEST(SchedulerMigration, AGroupsMembersMigrate) {
  const auto lines = summary_of(
      cluster("<group id=\"g\">" + primitive("a", true) + primitive("b", true) + "</group>", ""));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].verb + " " + lines[0].subject, "Migrate a");
  EXPECT_EQ(lines[1].verb + " " + lines[1].subject, "Migrate b");
}

// One lrm_rsc_op of vm, with the digest of vm's (empty) parameters; `migration` adds
// migrate_source/target node1 -> node2.
std::string vm_op(const std::string& task, int call, bool migration) {
  const std::string key = std::to_string(call) + ":2:0:aaaa";
  return "<lrm_rsc_op id=\"vm_" + task + "_" + std::to_string(call) + "\" operation_key=\"vm_" + task +
         "_0\" operation=\"" + task + "\" transition-key=\"" + key + "\" transition-magic=\"0:0;" + key +
         "\" call-id=\"" + std::to_string(call) +
         "\" rc-code=\"0\" op-status=\"0\" interval=\"0\" last-rc-change=\"1700000100\" op-digest=\"" +
         parameters_digest({}) + "\"" +
         (migration ? " migrate_source=\"node1\" migrate_target=\"node2\"" : "") + "/>";
}

// vm (allow-migrate=true, preferring node2) with these histories on node1 and node2.
TransitionGraph schedule_vm(const std::string& on_node1, const std::string& on_node2) {
  auto state = [](const std::string& id, const std::string& ops) {
    return "<node_state id=\"" + id + "\" uname=\"node" + id +
           "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"><lrm id=\"" + id +
           "\"><lrm_resources><lrm_resource id=\"vm\" class=\"ocf\" provider=\"heartbeat\" "
           "type=\"Dummy\">" +
           ops + "</lrm_resource></lrm_resources></lrm></node_state>";
  };
  const std::string xml = R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>)" + primitive("vm", true) + R"(</resources>
    <constraints><rsc_location id="vm-on-2" rsc="vm" node="node2" score="100"/></constraints>
  </configuration>
  <status>)" + state("1", on_node1) + state("2", on_node2) + "</status></cib>";
  auto cib = cib::Cib::parse(xml, "test.xml");
  EXPECT_TRUE(cib.ok()) << (cib.ok() ? "" : cib.error().message);
  return cib.ok() ? schedule(*cib, kNow) : TransitionGraph{};
}

std::vector<std::string> tasks_of(const TransitionGraph& g) {
  std::vector<std::string> out;
  for (const auto& a : g.actions) {
    if (a.interval_ms == 0 && !a.probe) out.push_back(a.task + (a.node.empty() ? "" : " " + a.node));
  }
  return out;
}

// migrate_to ran, migrate_from has not: the migration goes on to the same target with only its
// migrate_from, and the source's stop (migrate-partial-2).
TEST(SchedulerMigration, APartialMigrationGoesOnWithItsMigrateFrom) {
  const auto g = schedule_vm(vm_op("start", 2, false) + vm_op("migrate_to", 3, true), "");
  ASSERT_EQ(g.summary.size(), 1u);
  EXPECT_EQ(g.summary[0].verb, "Migrate");
  // In the graph's order, Pacemaker's: a resource's newest action first.
  EXPECT_EQ(tasks_of(g), (std::vector<std::string>{"migrate_from node2", "start", "stop node1"}));
  EXPECT_TRUE(g.errors.empty());
}

// Both halves ran but not the source's stop: vm runs on node2, and node1 only has to stop it
// (migrate-partial-1).
TEST(SchedulerMigration, ACompletedMigrationOnlyStopsTheSource) {
  const auto g = schedule_vm(vm_op("start", 2, false) + vm_op("migrate_to", 3, true),
                             vm_op("migrate_from", 4, true));
  EXPECT_TRUE(g.summary.empty());
  EXPECT_EQ(tasks_of(g), (std::vector<std::string>{"stop node1"}));
}

}  // namespace
}  // namespace vigil::scheduler
