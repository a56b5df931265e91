// Clones, promotable clones and placement strategy on small hand-written CIBs: the decisions
// the corpus checks in bulk, each shown on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "cib/cib.h"
#include "scheduler/digest.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {
namespace {

constexpr Millis kNow = 1672531200000;

std::string cib_xml(const std::string& nodes, const std::string& resources,
                    const std::string& status, const std::string& options = "") {
  return "<cib have-quorum=\"1\" dc-uuid=\"n1\"><configuration><crm_config>"
         "<cluster_property_set id=\"o\"><nvpair id=\"o1\" name=\"stonith-enabled\" "
         "value=\"false\"/>" +
         options + "</cluster_property_set></crm_config><nodes>" + nodes + "</nodes><resources>" +
         resources + "</resources><constraints/></configuration><status>" + status +
         "</status></cib>";
}

std::string node(const std::string& name, const std::string& extra = "") {
  return "<node id=\"" + name + "\" uname=\"" + name + "\">" + extra + "</node>";
}

std::string online(const std::string& name, const std::string& inner = "") {
  return "<node_state id=\"" + name + "\" uname=\"" + name +
         "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\">" + inner +
         "</node_state>";
}

// History of a resource that was started (rc 0) or probed and found stopped (rc 7), with the
// digest of its (empty) parameters so that it counts as unchanged.
std::string history(const std::string& rsc, const std::string& op, int rc, int call) {
  return "<lrm_resource id=\"" + rsc +
         "\" class=\"ocf\" provider=\"pacemaker\" type=\"Stateful\"><lrm_rsc_op id=\"" + rsc +
         "_last_0\" operation=\"" + op + "\" interval=\"0\" rc-code=\"" + std::to_string(rc) +
         "\" op-status=\"0\" call-id=\"" + std::to_string(call) +
         "\" transition-key=\"1:1:" + std::to_string(op == "monitor" ? 7 : 0) +
         ":x\" op-digest=\"" + parameters_digest({}) + "\"/></lrm_resource>";
}

std::string lrm(const std::string& entries) {
  return "<lrm><lrm_resources>" + entries + "</lrm_resources></lrm>";
}

std::set<std::string> summary(const std::string& xml) {
  auto cib = cib::Cib::parse(xml, "test.xml");
  EXPECT_TRUE(cib) << (cib ? "" : cib.error().message);
  std::set<std::string> out;
  if (!cib) return out;
  for (auto line : format_summary(schedule(*cib, kNow).summary)) {
    line.erase(
        std::unique(line.begin(), line.end(), [](char a, char b) { return a == ' ' && b == ' '; }),
        line.end());
    out.insert(line);
  }
  return out;
}

// After `resource cleanup` a running resource's history holds only the probe that found it
// running and its recurring monitor: that probe stands for the start, so nothing is scheduled
// (the monitor was scheduled again at every run before).
TEST(SchedulerHistory, AProbeThatFoundItRunningStandsForTheStart) {
  const std::string rsc =
      "<primitive id=\"d\" class=\"ocf\" provider=\"pacemaker\" type=\"Stateful\">"
      "<operations><op id=\"d-mon\" name=\"monitor\" interval=\"10s\"/></operations>"
      "</primitive>";
  std::string ops = history("d", "monitor", 0, 3);
  const std::string monitor =
      "<lrm_rsc_op id=\"d_monitor_10000\" operation=\"monitor\" "
      "interval=\"10000\" rc-code=\"0\" op-status=\"0\" call-id=\"4\" "
      "transition-key=\"2:1:0:x\" op-digest=\"" +
      parameters_digest({}) + "\"/>";
  ops.insert(ops.find("</lrm_resource>"), monitor);
  auto cib = cib::Cib::parse(cib_xml(node("n1"), rsc, online("n1", lrm(ops))), "test.xml");
  ASSERT_TRUE(cib) << cib.error().message;
  const auto graph = schedule(*cib, kNow);
  EXPECT_TRUE(graph.empty()) << graph.actions.front().key;
}

const std::string kClone =
    "<clone id=\"dc\"><primitive id=\"d\" class=\"ocf\" provider=\"pacemaker\" "
    "type=\"Dummy\"/></clone>";

TEST(SchedulerClone, AnonymousInstancesStartOnePerNode) {
  auto lines = summary(cib_xml(node("n1") + node("n2") + node("n3"), kClone,
                               online("n1") + online("n2") + online("n3")));
  EXPECT_EQ(lines,
            (std::set<std::string>{"Start d:0 ( n1 )", "Start d:1 ( n2 )", "Start d:2 ( n3 )"}));
}

TEST(SchedulerClone, HistoryUnderTheBareIdKeepsInstancesWhereTheyRun) {
  // d runs on n1 and n2 (recorded as "d", as the cluster records anonymous clones); only the
  // new node gets a new instance, numbered after the two in use.
  auto lines = summary(cib_xml(node("n1") + node("n2") + node("n3"), kClone,
                               online("n1", lrm(history("d", "start", 0, 2))) +
                                   online("n2", lrm(history("d", "start", 0, 2))) + online("n3")));
  EXPECT_EQ(lines, (std::set<std::string>{"Start d:2 ( n3 )"}));
}

// Seed 763 of the stack simulator (issue 21), reduced: n1 runs an instance of an anonymous clone
// and its node_state says expected="down" with no shutdown asked. With fencing on, Pacemaker takes
// such a node for pending, online but not ready: nothing runs there, not even a stop, and the
// clone's start on n2 waits for the probe it owes n1. crm_simulate 2.1.5 prints the same two
// summaries for these CIBs (have-watchdog standing in for a fence device). What was wrong in that
// run was the node_state the controller wrote (history_test.cpp, Node2Leaving); here, the reason
// named standby, which sent the search into the clone's instance numbering.
TEST(SchedulerClone, APendingNodeHoldsItsInstanceAndTheStartThatWaitsForItsProbe) {
  auto fenced = [](const std::string& n1_history) {
    std::string xml = cib_xml(
        node("n1") + node("n2"), kClone,
        "<node_state id=\"n1\" uname=\"n1\" in_ccm=\"true\" crmd=\"online\" join=\"member\" "
        "expected=\"down\">" +
            n1_history + "</node_state>" + online("n2", lrm(history("d", "monitor", 7, 1))),
        "<nvpair id=\"o2\" name=\"have-watchdog\" value=\"true\"/>");
    xml.replace(xml.find("value=\"false\""), 13, "value=\"true\"");
    return xml;
  };
  const std::string running = fenced(lrm(history("d", "start", 0, 2)));
  EXPECT_EQ(summary(running), (std::set<std::string>{"Stop d:0 ( n1 ) blocked"}));
  auto cib = cib::Cib::parse(running, "pending.xml");
  ASSERT_TRUE(cib);
  const auto graph = schedule(*cib, kNow);
  ASSERT_EQ(graph.summary.size(), 1u);
  EXPECT_NE(graph.summary[0].why.find("n1 is pending"), std::string::npos) << graph.summary[0].why;

  EXPECT_EQ(summary(fenced("")), (std::set<std::string>{"Start d:0 ( n2 ) blocked"}));
}

TEST(SchedulerClone, CloneMaxLimitsTheInstances) {
  std::string clone =
      "<clone id=\"dc\"><meta_attributes id=\"m\"><nvpair id=\"m1\" name=\"clone-max\" "
      "value=\"1\"/></meta_attributes><primitive id=\"d\" class=\"ocf\" provider=\"pacemaker\" "
      "type=\"Dummy\"/></clone>";
  auto lines = summary(cib_xml(node("n1") + node("n2"), clone, online("n1") + online("n2")));
  EXPECT_EQ(lines, (std::set<std::string>{"Start d:0 ( n1 )"}));
}

TEST(SchedulerClone, HighestPromotionScoreIsPromoted) {
  std::string ms =
      "<clone id=\"ms\"><meta_attributes id=\"m\"><nvpair id=\"m1\" name=\"promotable\" "
      "value=\"true\"/></meta_attributes><primitive id=\"s\" class=\"ocf\" "
      "provider=\"pacemaker\" type=\"Stateful\"/></clone>";
  auto score = [](const std::string& n, int v) {
    return "<transient_attributes id=\"t" + n + "\"><instance_attributes id=\"i" + n +
           "\"><nvpair id=\"p" + n + "\" name=\"master-s\" value=\"" + std::to_string(v) +
           "\"/></instance_attributes></transient_attributes>";
  };
  auto lines =
      summary(cib_xml(node("n1") + node("n2"), ms,
                      online("n1", score("n1", 5) + lrm(history("s", "start", 0, 2))) +
                          online("n2", score("n2", 10) + lrm(history("s", "start", 0, 2)))));
  EXPECT_EQ(lines, (std::set<std::string>{"Promote s:1 ( Unpromoted -> Promoted n2 )"}));
}

// The promoted instance's monitor (role=Promoted) succeeds with 8, the others' with 0: the graph
// says which, so the DC expects the right code.
TEST(SchedulerClone, ThePromotedRolesMonitorIsMarked) {
  std::string ms =
      "<clone id=\"ms\"><meta_attributes id=\"m\"><nvpair id=\"m1\" name=\"promotable\" "
      "value=\"true\"/></meta_attributes><primitive id=\"s\" class=\"ocf\" "
      "provider=\"pacemaker\" type=\"Stateful\"><operations>"
      "<op id=\"s-mp\" name=\"monitor\" interval=\"10s\" role=\"Promoted\"/>"
      "<op id=\"s-mu\" name=\"monitor\" interval=\"11s\" role=\"Unpromoted\"/>"
      "</operations></primitive></clone>";
  const std::string promote_n2 =
      "<transient_attributes id=\"t\"><instance_attributes id=\"i\"><nvpair id=\"p\" "
      "name=\"master-s\" value=\"10\"/></instance_attributes></transient_attributes>";
  auto cib = cib::Cib::parse(
      cib_xml(node("n1") + node("n2"), ms, online("n1") + online("n2", promote_n2)));
  ASSERT_TRUE(cib) << cib.error().message;
  int promoted = 0, unpromoted = 0;
  for (const auto& a : schedule(*cib, kNow).actions) {
    if (a.task != "monitor" || a.probe) continue;
    if (a.interval_ms == 10000) promoted += a.promoted ? 1 : -100;
    if (a.interval_ms == 11000) unpromoted += a.promoted ? -100 : 1;
  }
  EXPECT_EQ(promoted, 1);
  EXPECT_EQ(unpromoted, 1);
}

TEST(SchedulerClone, UtilizationKeepsResourcesOffFullNodes) {
  auto capacity = [](const std::string& n) {
    return "<utilization id=\"u" + n + "\"><nvpair id=\"c" + n +
           "\" name=\"cpu\" value=\"1\"/></utilization>";
  };
  auto primitive = [](const std::string& id) {
    return "<primitive id=\"" + id +
           "\" class=\"ocf\" provider=\"pacemaker\" type=\"Dummy\"><utilization id=\"u" + id +
           "\"><nvpair id=\"c" + id + "\" name=\"cpu\" value=\"1\"/></utilization></primitive>";
  };
  auto lines =
      summary(cib_xml(node("n1", capacity("n1")), primitive("a") + primitive("b"), online("n1"),
                      "<nvpair id=\"o2\" name=\"placement-strategy\" value=\"utilization\"/>"));
  EXPECT_EQ(lines, (std::set<std::string>{"Start a ( n1 )"}));
}

}  // namespace
}  // namespace vigil::scheduler
