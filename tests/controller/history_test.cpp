// The node part of the controller core on its own: what it writes into its node_state's lrm
// history, and that history's life when someone else edits it (a cleanup deletes it).
#include <gtest/gtest.h>

#include "cib/cib.h"
#include "cib/edit.h"
#include "cib/op.h"
#include "controller/controller.h"
#include "controller/status_ops.h"

namespace vigil::controller {
namespace {

constexpr Millis kNow = 1'700'000'000'000;

const char* kConfig = R"(<cib admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="web" class="ocf" provider="vigil" type="webserver">
        <operations><op id="web-mon" name="monitor" interval="10s" timeout="20s"/></operations>
      </primitive>
      <primitive id="db" class="ocf" provider="vigil" type="webserver"/>
      <primitive id="legacy" class="upstart" type="old-daemon"/>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>)";

// Node 2 of two; node 1 is the DC and gives the orders.
class Node2 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = cib::Cib::parse(kConfig, "test");
    ASSERT_TRUE(parsed.ok());
    cib_ = *parsed;
    ClusterView v{{{1, "n1"}, {2, "n2"}}, true, {1, 2}, false, {}};
    apply(core_.view_changed(v, kNow));
    apply(core_.cib_changed(cib_, kNow));
  }

  // Commits go into the CIB in order, and the core hears of each new version; what it asks to
  // run or cancel is kept for the test.
  void apply(const Output& out) {
    for (const auto& a : out.run) ran_.push_back(a);
    for (auto t : out.cancel) cancelled_.push_back(t);
    for (const auto& op : out.commits) {
      auto applied = cib::apply(cib_, op);
      ASSERT_TRUE(applied.ok()) << applied.error().message;
      cib_ = std::move(*applied);
      apply(core_.cib_changed(cib_, kNow));
    }
  }

  // The DC's request as the DC sends it: with the resource's definition from the DC's CIB (here
  // the node's own copy, unless the test gives one).
  Output deliver(ExecuteRequest r) {
    if (r.definition.cls.empty())
      r.definition = resource_definition(cib_, r.resource, "2", r.task, r.interval_ms);
    return core_.message(1, r, kNow);
  }

  // The DC's request, and the agent's success.
  LocalAction run(const std::string& rsc, const std::string& task, std::int64_t interval = 0) {
    ExecuteRequest r{"1-1",    1,   ++action_,
                     2,        rsc, task,
                     interval, 0,   rsc + "_" + task + "_" + std::to_string(interval), {}, {}};
    const auto before = ran_.size();
    apply(deliver(r));
    EXPECT_EQ(ran_.size(), before + 1) << task << " of " << rsc << " was not run";
    if (ran_.size() == before) return {};
    LocalAction a = ran_.back();
    apply(core_.action_done(a.token, ActionResult{0, 0, 5, ""}, kNow));
    return a;
  }

  // Another member's copy of the CIB, as a reconciliation may adopt it: this one's, but for node
  // 2's transient attributes.
  cib::Cib copy_with_attributes(const std::string& nvpairs) const {
    cib::CibOp op;
    op.changes.push_back(cib::CibChange::replace(
        "/cib/status/node_state[@id='2']/transient_attributes",
        R"(<transient_attributes id="2"><instance_attributes id="status-2">)" + nvpairs +
            "</instance_attributes></transient_attributes>"));
    auto copy = cib::apply(cib_, op);
    EXPECT_TRUE(copy.ok()) << copy.error().message;
    return copy.ok() ? *copy : cib_;
  }

  pugi::xml_node lrm_resource(const std::string& rsc) const {
    return cib_.status()
        .find_child_by_attribute("node_state", "id", "2")
        .child("lrm")
        .child("lrm_resources")
        .find_child_by_attribute("lrm_resource", "id", rsc.c_str());
  }

  Controller core_{Member{2, "n2"}, 7};
  cib::Cib cib_;
  std::vector<LocalAction> ran_;
  std::vector<std::uint64_t> cancelled_;
  int action_ = 0;
};

// The CIB accepts classes vigil has no way to run (upstart, nagios): the node does not hand such an
// agent to its executor but records the action as Pacemaker's executor would, not installed.
TEST_F(Node2, AnAgentOfAClassVigilCannotRunIsNotInstalled) {
  ExecuteRequest r{"1-1", 1, 1, 2, "legacy", "start", 0, 0, "legacy_start_0", {}, {}};
  apply(deliver(r));
  EXPECT_TRUE(ran_.empty());
  auto last = lrm_resource("legacy").find_child_by_attribute("lrm_rsc_op", "id", "legacy_last_0");
  ASSERT_TRUE(last);
  EXPECT_STREQ(last.attribute("rc-code").value(), "5");
  EXPECT_STREQ(last.attribute("op-status").value(), "7");
  EXPECT_NE(std::string(last.attribute("exit-reason").value()).find("upstart:old-daemon"),
            std::string::npos);
}

// The DC may probe a resource just added before this node's copy of the CIB has it (the change
// is durable here only later). The node runs what the DC's request defines, as Pacemaker's
// graph action carries the primitive: a probe recorded "not installed" would ban the resource
// from this node for good.
TEST_F(Node2, AProbeOfAResourceTheNodesCibLacksRunsAsTheDcDefinedIt) {
  ExecuteRequest probe{"1-1", 1, 1, 2, "vip", "monitor", 0, 7, "vip_monitor_0", {}, {}};
  probe.definition = {"ocf", "heartbeat", "IPaddr2", 30000, {{"ip", "192.168.122.120"}}};
  ASSERT_FALSE(primitive_of(cib_, "vip"));
  apply(deliver(probe));
  ASSERT_EQ(ran_.size(), 1u) << "the probe was not run";
  EXPECT_EQ(ran_[0].agent.str(), "ocf:heartbeat:IPaddr2");
  EXPECT_EQ(ran_[0].timeout, 30000);
  EXPECT_EQ(ran_[0].params, probe.definition.params);
  apply(core_.action_done(ran_[0].token, ActionResult{7, 0, 3, ""}, kNow));
  auto vip = lrm_resource("vip");
  ASSERT_TRUE(vip);
  EXPECT_STREQ(vip.attribute("type").value(), "IPaddr2");
  EXPECT_STREQ(vip.find_child_by_attribute("lrm_rsc_op", "id", "vip_last_0")
                   .attribute("rc-code")
                   .value(),
               "7");
}

// `vigil resource cleanup web` deletes web's lrm_resource from the CIB. The node forgets that
// history and ends web's recurring monitor, as Pacemaker's controller does when it deletes a
// resource's history: its next report must not bring the deleted records back, and the
// scheduler's probe decides afresh.
TEST_F(Node2, ACleanedUpHistoryIsForgottenAndItsMonitorEnds) {
  run("web", "start");
  const LocalAction monitor = run("web", "monitor", 10000);
  ASSERT_TRUE(lrm_resource("web"));
  ASSERT_TRUE(lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_monitor_10000"));

  cib::CibOp cleanup;
  cleanup.changes.push_back(cib::CibChange::remove(
      "/cib/status/node_state[@id='2']/lrm/lrm_resources/lrm_resource[@id='web']"));
  Output by_cli;
  by_cli.commits.push_back(cleanup);
  apply(by_cli);
  ASSERT_FALSE(lrm_resource("web"));
  EXPECT_EQ(cancelled_, std::vector<std::uint64_t>{monitor.token});

  run("db", "start");  // the node's next report
  EXPECT_TRUE(lrm_resource("db"));
  EXPECT_FALSE(lrm_resource("web")) << "the cleaned-up history came back";

  // A probe afterwards is recorded as the resource's only history.
  run("web", "monitor");
  ASSERT_TRUE(lrm_resource("web"));
  EXPECT_EQ(std::distance(lrm_resource("web").children("lrm_rsc_op").begin(),
                          lrm_resource("web").children("lrm_rsc_op").end()),
            1);
}

// A cleanup lands while the node's report of web's stop is on its way: the report, built on the
// history the cleanup deleted, must not write it back (the monitor's failure came back, and the
// cluster held it against web for good). It is refused, and once the node sees the deletion it
// reports again with only what the cleanup never saw: the stop, whose result the DC waits for.
TEST_F(Node2, AReportBuiltBeforeACleanupDoesNotWriteTheDeletedHistoryBack) {
  run("web", "start");
  const LocalAction monitor = run("web", "monitor", 10000);
  apply(core_.action_done(monitor.token, ActionResult{7, 0, 5, ""}, kNow));
  ASSERT_TRUE(
      lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_failure_0"));
  ExecuteRequest stop{"1-1", 1, ++action_, 2, "web", "stop", 0, 0, "web_stop_0", {}, {}};
  apply(deliver(stop));
  const Output report = core_.action_done(ran_.back().token, ActionResult{0, 0, 5, ""}, kNow);
  ASSERT_EQ(report.commits.size(), 1u);

  cib::CibOp cleanup;
  cleanup.changes.push_back(cib::CibChange::remove(
      "/cib/status/node_state[@id='2']/lrm/lrm_resources/lrm_resource[@id='web']"));
  auto cleaned = cib::apply(cib_, cleanup);
  ASSERT_TRUE(cleaned.ok());
  cib_ = *cleaned;
  auto late = cib::apply(cib_, report.commits.front());
  if (late.ok()) cib_ = *late;  // a refused commit changes nothing, as the replica drops it
  apply(core_.cib_changed(cib_, kNow));

  ASSERT_TRUE(lrm_resource("web")) << "the stop's result was lost";
  EXPECT_FALSE(
      lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_failure_0"))
      << "the report wrote the cleaned-up failure back";
  EXPECT_FALSE(lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_monitor_10000"));
  auto last = lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_0");
  EXPECT_STREQ(last.attribute("operation").value(), "stop");
  EXPECT_STREQ(last.attribute("rc-code").value(), "0");
}

// The node's own first report of a resource may reach the CIB after other changes: a version
// that does not show it yet is no cleanup.
TEST_F(Node2, AHistoryNotYetInTheCibIsKept) {
  ExecuteRequest r{"1-1", 1, 1, 2, "web", "start", 0, 0, "web_start_0", {}, {}};
  const auto before = ran_.size();
  // The pending record's commit is held back; an unrelated change arrives first.
  Output out = deliver(r);
  ASSERT_EQ(out.run.size(), 1u);
  cib::CibOp other;
  other.changes.push_back(cib::CibChange::modify("/cib", "<cib dc-uuid=\"1\"/>"));
  auto applied = cib::apply(cib_, other);
  ASSERT_TRUE(applied.ok());
  cib_ = *applied;
  apply(core_.cib_changed(cib_, kNow));
  apply(out);
  EXPECT_EQ(ran_.size(), before + 1);
  apply(core_.action_done(ran_.back().token, ActionResult{0, 0, 5, ""}, kNow));
  ASSERT_TRUE(lrm_resource("web"));
  EXPECT_TRUE(lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_0"));
  EXPECT_TRUE(cancelled_.empty());
}

// A monitor failure stays in the history (web_last_failure_0, Pacemaker's record) through the
// recovery's stop and start, so that `vigil status` lists it under "Failed Resource Actions" until
// a cleanup or failure-timeout's clear_failcount: the stop used to erase it with the monitor.
TEST_F(Node2, AFailureOutlivesTheRecoveryUntilItsCountIsCleared) {
  run("web", "start");
  const LocalAction monitor = run("web", "monitor", 10000);
  EXPECT_EQ(monitor.timeout, 20000);
  apply(core_.action_done(monitor.token, ActionResult{7, 0, 5, ""}, kNow));
  run("web", "stop");
  run("web", "start");
  run("web", "monitor", 10000);
  auto failure =
      lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_failure_0");
  ASSERT_TRUE(failure) << "the recovery erased the failure";
  EXPECT_STREQ(failure.attribute("operation_key").value(), "web_monitor_10000");
  EXPECT_STREQ(failure.attribute("rc-code").value(), "7");
  auto last = lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_0");
  EXPECT_STREQ(last.attribute("operation").value(), "start");

  ExecuteRequest clear{
      "1-1", 1, ++action_, 2, "web", "clear_failcount", 0, 0, "web_clear_failcount_0", {}, {}};
  apply(deliver(clear));
  EXPECT_FALSE(
      lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_failure_0"));
  EXPECT_TRUE(lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_0"));
}

}  // namespace
}  // namespace vigil::controller

namespace vigil::controller {
namespace {

// A notification runs with the lists the DC sent as CRM_meta_notify_*, leaves no history and no
// fail count even when the agent fails it, and its result goes straight to the DC (Pacemaker's
// controller does not record notifications either).
TEST_F(Node2, ANotificationIsRunWithItsListsAndAnsweredNotRecorded) {
  run("web", "start");
  const std::string before = cib::element_xml(lrm_resource("web"));
  ExecuteRequest r{"1-1", 1, 9, 2, "web", "notify", 0, 0, "web_post_notify_start_0",
                   {{"notify_type", "post"}, {"notify_operation", "start"},
                    {"notify_start_uname", "n2"}}, {}};
  Output out = deliver(r);
  ASSERT_EQ(out.run.size(), 1u);
  const LocalAction a = out.run.front();
  EXPECT_EQ(a.name, "notify");
  EXPECT_EQ(a.meta.at("notify_type"), "post");
  EXPECT_EQ(a.meta.at("notify_start_uname"), "n2");
  EXPECT_EQ(a.meta.at("on_node"), "n2");
  EXPECT_TRUE(out.commits.empty()) << "a notification is not recorded as pending";
  apply(out);
  out = core_.action_done(a.token, ActionResult{1, 0, 5, "refused"}, kNow);
  EXPECT_TRUE(out.commits.empty()) << "a failed notification left a record or a fail count";
  ASSERT_EQ(out.send.size(), 1u);
  const auto* note = std::get_if<ActionResultNote>(&out.send.front());
  ASSERT_NE(note, nullptr);
  EXPECT_EQ(note->action, 9);
  EXPECT_EQ(note->rc, 1);
  EXPECT_EQ(note->te_uuid, "1-1");
  apply(out);
  EXPECT_EQ(cib::element_xml(lrm_resource("web")), before);
}

}  // namespace
}  // namespace vigil::controller

namespace vigil::controller {
namespace {

// A migration's halves run with the DC's migrate_source/migrate_target as CRM_meta_* and are
// recorded as Pacemaker records them: as the resource's last operation, with both nodes on the
// record (the scheduler reads a completed or partial migration from them).
TEST_F(Node2, AMigrationIsRunWithItsNodesAndRecordedWithThem) {
  const std::map<std::string, std::string> nodes{{"migrate_source", "n1"},
                                                 {"migrate_target", "n2"}};
  ExecuteRequest r{"1-1", 1, 4, 2, "web", "migrate_from", 0, 0, "web_migrate_from_0", nodes, {}};
  Output out = deliver(r);
  ASSERT_EQ(out.run.size(), 1u);
  EXPECT_EQ(out.run.front().name, "migrate_from");
  EXPECT_EQ(out.run.front().meta.at("migrate_source"), "n1");
  EXPECT_EQ(out.run.front().meta.at("migrate_target"), "n2");
  apply(out);
  auto pending = lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_0");
  ASSERT_TRUE(pending) << "migrate_from is recorded pending first";
  EXPECT_STREQ(pending.attribute("op-status").value(), "-1");
  apply(core_.action_done(ran_.back().token, ActionResult{0, 0, 5, ""}, kNow));
  auto last = lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_0");
  ASSERT_TRUE(last);
  EXPECT_STREQ(last.attribute("operation").value(), "migrate_from");
  EXPECT_STREQ(last.attribute("operation_key").value(), "web_migrate_from_0");
  EXPECT_STREQ(last.attribute("rc-code").value(), "0");
  EXPECT_STREQ(last.attribute("migrate_source").value(), "n1");
  EXPECT_STREQ(last.attribute("migrate_target").value(), "n2");
  EXPECT_FALSE(last.attribute("op-digest").empty());
}

// A failed migrate_to on the source is a failure like any other: its record stays as the last
// failure, with the migration's nodes, and counts against the resource there.
TEST_F(Node2, AFailedMigrateToIsCountedAsAFailure) {
  run("web", "start");
  ExecuteRequest r{"1-1", 1, 5, 2, "web", "migrate_to", 0, 0, "web_migrate_to_0",
                   {{"migrate_source", "n2"}, {"migrate_target", "n1"}, {"record_pending", "true"}}, {}};
  apply(deliver(r));
  apply(core_.action_done(ran_.back().token, ActionResult{1, 0, 5, "cannot reach n1"}, kNow));
  auto failure =
      lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_failure_0");
  ASSERT_TRUE(failure);
  EXPECT_STREQ(failure.attribute("operation").value(), "migrate_to");
  EXPECT_STREQ(failure.attribute("migrate_target").value(), "n1");
  auto attrs = cib_.status()
                   .find_child_by_attribute("node_state", "id", "2")
                   .child("transient_attributes")
                   .child("instance_attributes");
  EXPECT_STREQ(
      attrs.find_child_by_attribute("nvpair", "name", "fail-count-web#migrate_to_0")
          .attribute("value")
          .value(),
      "1");
}

}  // namespace
}  // namespace vigil::controller

namespace vigil::controller {
namespace {

// What a failure adds to the resource's fail count on the node, as Pacemaker's DC sets it from
// the graph's failed-stop-offset and failed-start-offset.
class Node2Failing : public Node2 {
 protected:
  // The DC's request, and the agent's failure.
  void fail(const std::string& rsc, const std::string& task) {
    ExecuteRequest r{"1-1", 1, ++action_, 2, rsc, task, 0, 0, rsc + "_" + task + "_0", {}, {}};
    apply(deliver(r));
    ASSERT_FALSE(ran_.empty());
    apply(core_.action_done(ran_.back().token, ActionResult{1, 0, 5, "broken"}, kNow));
  }

  std::string fail_count(const std::string& name) const {
    return cib_.status()
        .find_child_by_attribute("node_state", "id", "2")
        .child("transient_attributes")
        .child("instance_attributes")
        .find_child_by_attribute("nvpair", "name", name.c_str())
        .attribute("value")
        .value();
  }

  void start_failure_is_fatal(const char* value) {
    cib::CibOp op;
    op.changes.push_back(cib::CibChange::create(
        "/cib/configuration/crm_config",
        std::string(R"(<cluster_property_set id="opts"><nvpair id="opts-sfif" )") +
            R"(name="start-failure-is-fatal" value=")" + value + R"("/></cluster_property_set>)"));
    Output by_cli;
    by_cli.commits.push_back(op);
    apply(by_cli);
  }
};

// A stop that fails bans the resource from the node at once (failed-stop-offset is always
// INFINITY): it counted one, and the resource could have gone back there.
TEST_F(Node2Failing, AFailedStopSetsTheFailCountToInfinity) {
  run("web", "start");
  fail("web", "stop");
  EXPECT_EQ(fail_count("fail-count-web#stop_0"), "INFINITY");
}

// A stop fails while a cleanup of web is on its way: the report of the failure is refused (it
// would write the deleted history back) and made again once the node sees the deletion, with the
// stop's failure, which the cleanup never saw. Its fail count comes with it: the count went with
// the refused report, and web could have started on node 2 again as if the stop had not failed.
TEST_F(Node2Failing, AFailureTheCleanupNeverSawKeepsItsCount) {
  run("web", "start");
  ExecuteRequest stop{"1-1", 1, ++action_, 2, "web", "stop", 0, 0, "web_stop_0", {}, {}};
  apply(deliver(stop));
  const Output report = core_.action_done(ran_.back().token, ActionResult{1, 0, 5, "x"}, kNow);
  cib::CibOp cleanup;
  cleanup.changes.push_back(cib::CibChange::remove(
      "/cib/status/node_state[@id='2']/lrm/lrm_resources/lrm_resource[@id='web']"));
  cib_ = *cib::apply(cib_, cleanup);
  ASSERT_FALSE(cib::apply(cib_, report.commits.front()).ok()) << "the report was not refused";
  apply(core_.cib_changed(cib_, kNow));
  ASSERT_TRUE(
      lrm_resource("web").find_child_by_attribute("lrm_rsc_op", "id", "web_last_failure_0"));
  EXPECT_EQ(fail_count("fail-count-web#stop_0"), "INFINITY");
}

// A failed start: INFINITY while start-failure-is-fatal is on (its default), one more each time
// when it is off.
TEST_F(Node2Failing, AFailedStartCountsAsStartFailureIsFatalSays) {
  fail("web", "start");
  EXPECT_EQ(fail_count("fail-count-web#start_0"), "INFINITY");
  start_failure_is_fatal("false");
  fail("db", "start");
  EXPECT_EQ(fail_count("fail-count-db#start_0"), "1");
  fail("db", "start");
  EXPECT_EQ(fail_count("fail-count-db#start_0"), "2");
}

}  // namespace
}  // namespace vigil::controller

namespace vigil::controller {
namespace {

// The node's shutdown request, and how its node_state reads, through join rounds.
class Node2Leaving : public Node2 {
 protected:
  // The DC's join offer: the node answers with its report.
  void offer() { apply(core_.message(1, JoinOffer{"1-1", ++round_}, kNow)); }

  // Another member's copy of the CIB wins a reconciliation: node 2's transient attributes are
  // that copy's.
  void adopt_attributes(const std::string& nvpairs) {
    cib_ = copy_with_attributes(nvpairs);
    apply(core_.cib_changed(cib_, kNow));
  }

  std::string shutdown_attribute() const {
    auto set = cib_.status()
                   .find_child_by_attribute("node_state", "id", "2")
                   .child("transient_attributes")
                   .child("instance_attributes");
    return set.find_child_by_attribute("nvpair", "name", "shutdown").attribute("value").value();
  }
  std::string expected() const {
    return cib_.status()
        .find_child_by_attribute("node_state", "id", "2")
        .attribute("expected")
        .value();
  }

  std::uint64_t round_ = 0;
};

// Seed 763 of the stack simulator (2 nodes, witness): n1 asked to leave, then a reconciliation
// adopted n2's older CIB, without n1's shutdown attribute; n1's next report said expected="down"
// anyway. The scheduler then took n1 for pending (expected down, no shutdown asked: Pacemaker
// does the same), its stops unrunnable, the leave never ordered: ping stopped nowhere and started
// nowhere for the rest of the run. The report states the request again, and says down only once
// the DC ordered the leave.
TEST_F(Node2Leaving, AShutdownRequestLostToAnotherCibCopyIsStatedAgain) {
  offer();
  apply(core_.request_shutdown(kNow));
  ASSERT_EQ(shutdown_attribute(), std::to_string(kNow / 1000));
  adopt_attributes("");
  offer();
  EXPECT_EQ(shutdown_attribute(), std::to_string(kNow / 1000));
  EXPECT_EQ(expected(), "member") << "expected down before the DC ordered the leave";

  ExecuteRequest leave{"1-1", 1, ++action_, 2, "", "do_shutdown", 0, 0, "do_shutdown-n2", {}, {}};
  apply(deliver(leave));
  EXPECT_EQ(expected(), "down");
  offer();
  EXPECT_EQ(expected(), "down");
  EXPECT_TRUE(core_.ready_to_leave());
}

// Seed 1835: n2 asked to leave, its watchdog reset it first, and its next life adopted a CIB copy
// that still held the old shutdown attribute. The DC moved everything off n2 and ordered a
// do_shutdown n2 took: expected down for good, with no request of its own to end it. The report
// withdraws the stale request; an order that comes first withdraws it too and is not taken.
TEST_F(Node2Leaving, AnEarlierLifesShutdownRequestIsWithdrawn) {
  offer();
  adopt_attributes(R"(<nvpair id="status-2-shutdown" name="shutdown" value="1699999990"/>
                      <nvpair id="status-2-pingd" name="pingd" value="100"/>)");
  offer();
  EXPECT_EQ(shutdown_attribute(), "");
  EXPECT_EQ(node_attributes(cib_, "2").count("pingd"), 1u) << "other attributes stay";

  adopt_attributes(R"(<nvpair id="status-2-shutdown" name="shutdown" value="1699999990"/>)");
  ExecuteRequest leave{"1-1", 1, ++action_, 2, "", "do_shutdown", 0, 0, "do_shutdown-n2", {}, {}};
  apply(deliver(leave));
  EXPECT_EQ(shutdown_attribute(), "");
  EXPECT_EQ(expected(), "member");
  offer();
  EXPECT_EQ(expected(), "member");
  EXPECT_FALSE(core_.ready_to_leave());
}

}  // namespace
}  // namespace vigil::controller

namespace vigil::controller {
namespace {

// The node's transient attributes across reconciliations: the node is their authority, as
// Pacemaker's attrd holds its own node's values and writes them all again after the CIB was
// replaced.
class Node2Reconciled : public Node2Failing {
 protected:
  void SetUp() override {
    Node2Failing::SetUp();
    apply(core_.message(1, JoinOffer{"1-1", 1}, kNow));  // the node's first report
  }

  // Another member's copy wins a reconciliation: node 2's transient attributes are that copy's,
  // and the core hears that the CIB is agreed again.
  void reconcile(const std::string& nvpairs) {
    cib_ = copy_with_attributes(nvpairs);
    apply(core_.cib_agreed(cib_, kNow));
  }

  // A commit of someone else (the CLI, an agent's crm_attribute): the core sees its result.
  void commit_by_others(std::vector<cib::CibChange> changes) {
    Output by_cli;
    by_cli.commits.push_back(cib::CibOp{std::move(changes)});
    apply(by_cli);
  }

  std::map<std::string, std::string> attributes() const { return node_attributes(cib_, "2"); }
};

// Partitions merged and the agreed copy was written before node 2's failure and before a
// promotion score was set for it: the scheduler would start web there again (no fail count) and
// not promote db there. Node 2 states both again.
TEST_F(Node2Reconciled, ValuesTheAgreedCopyLacksAreStatedAgain) {
  fail("web", "start");
  commit_by_others({attribute_change("2", "n2", {{"master-db", "10"}})});
  const auto before = attributes();
  ASSERT_EQ(before.at("fail-count-web#start_0"), "INFINITY");
  ASSERT_EQ(before.count("last-failure-web#start_0"), 1u);
  reconcile("");
  EXPECT_EQ(attributes(), before);

  // Values it states are known values: a later failure counts on from them.
  start_failure_is_fatal("false");
  fail("db", "start");
  reconcile(R"(<nvpair id="status-2-fail" name="fail-count-db#start_0" value="7"/>)");
  EXPECT_EQ(fail_count("fail-count-db#start_0"), "1");
  fail("db", "start");
  EXPECT_EQ(fail_count("fail-count-db#start_0"), "2");
}

// A fail count cleared on node 2's side (a cleanup, or the failure-timeout's clear_failcount)
// came back from the other side's older copy: web stayed banned from node 2. The cleared values
// stay cleared, and a value node 2 never knew of goes with them.
TEST_F(Node2Reconciled, ValuesClearedHereDoNotComeBackFromAnotherCopy) {
  fail("web", "start");
  fail("db", "start");
  const auto copy = cib::element_xml(cib_.status()
                                         .find_child_by_attribute("node_state", "id", "2")
                                         .child("transient_attributes")
                                         .child("instance_attributes"));
  commit_by_others(cib::forget_failures(
      cib_.status().find_child_by_attribute("node_state", "id", "2"), "web"));
  ExecuteRequest clear{"1-1", 1, ++action_, 2, "db", "clear_failcount", 0, 0, "db_clear_0", {}, {}};
  apply(deliver(clear));
  ASSERT_TRUE(attributes().empty());

  const auto inner = copy.substr(copy.find('>') + 1, copy.rfind("</") - copy.find('>') - 1);
  reconcile(inner + R"(<nvpair id="status-2-stale" name="master-web" value="5"/>)");
  EXPECT_TRUE(attributes().empty());
}

}  // namespace
}  // namespace vigil::controller
