// Alerts as Pacemaker runs them: the alerts section unpacked per recipient, the select filter, the
// CRM_alert_* environment of each kind of event, the timestamp formats, and the events the
// controller core reports (membership, operations on this node).
#include "controller/alerts.h"

#include <gtest/gtest.h>

#include "cib/cib.h"
#include "cib/op.h"
#include "controller/controller.h"

namespace vigil::controller {
namespace {

// 2026-12-05 18:49:02.123456 UTC, a Saturday.
constexpr std::int64_t kUsec = 1796496542123456;

pugi::xml_document alerts_xml(const char* text) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(text));
  return doc;
}

Alerts unpack(const char* text) {
  auto doc = alerts_xml(text);
  return unpack_alerts(doc.child("alerts"));
}

std::map<std::string, std::string> env_of(const AlertRun& run) {
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : run.env) {
    EXPECT_TRUE(env.emplace(k, v).second) << k << " set twice";
  }
  return env;
}

const char* kTwoRecipients = R"(<alerts>
  <alert id="file" path="/opt/alert_file.sh">
    <instance_attributes id="file-ia">
      <nvpair id="file-ia-1" name="debug_exec_order" value="false"/>
      <nvpair id="file-ia-2" name="colour" value="blue"/>
    </instance_attributes>
    <meta_attributes id="file-meta">
      <nvpair id="file-meta-1" name="timeout" value="10s"/>
    </meta_attributes>
    <recipient id="file-to-1" value="/var/log/one.log"/>
    <recipient id="file-to-2" value="/var/log/two.log">
      <instance_attributes id="file-to-2-ia">
        <nvpair id="file-to-2-ia-1" name="colour" value="red"/>
      </instance_attributes>
      <meta_attributes id="file-to-2-meta">
        <nvpair id="file-to-2-meta-1" name="timeout" value="500ms"/>
        <nvpair id="file-to-2-meta-2" name="timestamp-format" value="%Y-%m-%d,%H:%M:%S.%01N"/>
      </meta_attributes>
    </recipient>
    <recipient id="file-to-3" value="/var/log/three.log">
      <meta_attributes id="file-to-3-meta">
        <nvpair id="file-to-3-meta-1" name="enabled" value="false"/>
      </meta_attributes>
    </recipient>
  </alert>
  <alert id="off" path="/opt/off.sh">
    <meta_attributes id="off-meta"><nvpair id="off-meta-1" name="enabled" value="false"/></meta_attributes>
    <recipient id="off-to" value="x"/>
  </alert>
  <alert id="snmp" path="/opt/alert_snmp.sh">
    <select><select_nodes/><select_attributes><attribute id="a1" name="standby"/></select_attributes></select>
    <meta_attributes id="snmp-meta"><nvpair id="snmp-meta-1" name="timeout" value="soon"/></meta_attributes>
  </alert>
</alerts>)";

TEST(AlertsUnpack, EachRecipientIsAnAlertWithItsOwnAttributesOverTheAlerts) {
  const auto a = unpack(kTwoRecipients);
  ASSERT_EQ(a.alerts.size(), 3u);  // two enabled recipients of `file`, and `snmp`
  const Alert& one = a.alerts[0];
  EXPECT_EQ(one.id, "file");
  EXPECT_EQ(one.path, "/opt/alert_file.sh");
  EXPECT_EQ(one.recipient, "/var/log/one.log");
  EXPECT_EQ(one.timeout, 10000);
  EXPECT_EQ(one.timestamp_format, "%H:%M:%S.%06N");
  EXPECT_EQ(one.select, unsigned{kAlertNode | kAlertFencing | kAlertResource});
  EXPECT_EQ(one.env, (std::map<std::string, std::string>{{"debug_exec_order", "false"},
                                                         {"colour", "blue"}}));
  const Alert& two = a.alerts[1];
  EXPECT_EQ(two.recipient, "/var/log/two.log");
  EXPECT_EQ(two.timeout, 500);
  EXPECT_EQ(two.timestamp_format, "%Y-%m-%d,%H:%M:%S.%01N");
  EXPECT_EQ(two.env.at("colour"), "red");
  EXPECT_EQ(two.env.at("debug_exec_order"), "false");
}

TEST(AlertsUnpack, SelectNarrowsTheKindsAndANonsenseTimeoutIsTheDefaultWithAWarning) {
  const auto a = unpack(kTwoRecipients);
  ASSERT_EQ(a.alerts.size(), 3u);
  const Alert& snmp = a.alerts[2];
  EXPECT_EQ(snmp.recipient, "");
  EXPECT_EQ(snmp.select, unsigned{kAlertNode | kAlertAttribute});
  EXPECT_EQ(snmp.attributes, std::vector<std::string>{"standby"});
  EXPECT_EQ(snmp.timeout, 30000);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("alert snmp"), std::string::npos) << a.warnings[0];
  EXPECT_NE(a.warnings[0].find("soon"), std::string::npos) << a.warnings[0];
}

TEST(AlertsUnpack, NoSectionIsNoAlerts) {
  EXPECT_TRUE(unpack_alerts(pugi::xml_node()).alerts.empty());
}

Moment utc() {
  return Moment{kUsec, 0, "UTC"};
}

TEST(AlertTimestamp, PercentNTakesItsWidthInDigitsTruncated) {
  EXPECT_EQ(format_timestamp("%H:%M:%S.%06N", utc()), "18:49:02.123456");
  EXPECT_EQ(format_timestamp("%Y-%m-%d,%H:%M:%S.%01N", utc()), "2026-12-05,18:49:02.1");
  EXPECT_EQ(format_timestamp("%3N|%9N|%N|%%N", utc()), "123|123456||%N");
  EXPECT_EQ(format_timestamp("%a %s", utc()), "Sat 1796496542");
}

TEST(AlertTimestamp, LocalTimeIsTheOffsetTheDaemonRead) {
  const Moment cet{kUsec, 3600, "CET"};
  EXPECT_EQ(format_timestamp("%H:%M %z %Z", cet), "19:49 +0100 CET");
  const Moment before_midnight{kUsec, -19 * 3600, "X"};
  EXPECT_EQ(format_timestamp("%d %H", before_midnight), "04 23");
}

std::vector<Alert> all_alerts() {
  return unpack(kTwoRecipients).alerts;
}

TEST(AlertPlan, AResourceOperationCarriesPacemakersVariables) {
  std::uint64_t seq = 41;
  const ResourceEvent start{"n2", "vip", "start", 0, 0, 0, 0, 120, 20000};
  const auto runs = plan_alerts(all_alerts(), start, utc(), seq);
  ASSERT_EQ(runs.size(), 2u);  // both recipients of `file`; snmp selects no resources
  EXPECT_EQ(seq, 43u);
  EXPECT_EQ(runs[0].alert, "file");
  EXPECT_EQ(runs[0].path, "/opt/alert_file.sh");
  EXPECT_EQ(runs[0].timeout, 10000);
  EXPECT_EQ(runs[0].kind, "resource");
  const std::map<std::string, std::string> expected{{"CRM_alert_node", "n2"},
                                                    {"CRM_alert_rsc", "vip"},
                                                    {"CRM_alert_task", "start"},
                                                    {"CRM_alert_interval", "0"},
                                                    {"CRM_alert_target_rc", "0"},
                                                    {"CRM_alert_status", "0"},
                                                    {"CRM_alert_rc", "0"},
                                                    {"CRM_alert_exec_time", "120"},
                                                    {"CRM_alert_desc", "OK"},
                                                    {"CRM_alert_kind", "resource"},
                                                    {"CRM_alert_version", kAlertVersion},
                                                    {"CRM_alert_recipient", "/var/log/one.log"},
                                                    {"CRM_alert_timestamp", "18:49:02.123456"},
                                                    {"CRM_alert_timestamp_epoch", "1796496542"},
                                                    {"CRM_alert_timestamp_usec", "123456"},
                                                    {"CRM_alert_node_sequence", "42"},
                                                    {"debug_exec_order", "false"},
                                                    {"colour", "blue"}};
  EXPECT_EQ(env_of(runs[0]), expected);
  const auto second = env_of(runs[1]);
  EXPECT_EQ(second.at("CRM_alert_recipient"), "/var/log/two.log");
  EXPECT_EQ(second.at("CRM_alert_timestamp"), "2026-12-05,18:49:02.1");
  EXPECT_EQ(second.at("CRM_alert_node_sequence"), "43");
  EXPECT_EQ(second.at("colour"), "red");
}

TEST(AlertPlan, TheDescriptionIsTheResultOrHowTheOperationEnded) {
  std::uint64_t seq = 0;
  auto desc = [&](const ResourceEvent& e) {
    const auto runs = plan_alerts(all_alerts(), e, utc(), seq);
    return runs.empty() ? std::string("(none)") : env_of(runs[0]).at("CRM_alert_desc");
  };
  EXPECT_EQ(desc({"n1", "vip", "monitor", 10000, 0, 0, 7, 5, 20000}), "Not running");
  EXPECT_EQ(desc({"n1", "vip", "monitor", 10000, 0, 1, 0, 0, 20000}), "Cancelled");
  EXPECT_EQ(desc({"n1", "vip", "start", 0, 0, 4, 5, 0, 20000}), "Error");
  // A timed-out operation without a run time of its own reports its timeout.
  const auto late = plan_alerts(
      all_alerts(), ResourceEvent{"n1", "vip", "stop", 0, 0, 2, 1, 0, 20000}, utc(), seq);
  ASSERT_FALSE(late.empty());
  EXPECT_EQ(env_of(late[0]).at("CRM_alert_desc"), "Timed out");
  EXPECT_EQ(env_of(late[0]).at("CRM_alert_exec_time"), "20000");
}

TEST(AlertPlan, AProbeThatFoundWhatItExpectedAlertsNobody) {
  std::uint64_t seq = 0;
  EXPECT_TRUE(plan_alerts(all_alerts(), ResourceEvent{"n1", "vip", "monitor", 0, 7, 0, 7, 3, 20000},
                          utc(), seq)
                  .empty());
  EXPECT_EQ(seq, 0u);
  // Found running where it should not be: that is news.
  const auto found = plan_alerts(
      all_alerts(), ResourceEvent{"n1", "vip", "monitor", 0, 7, 0, 0, 3, 20000}, utc(), seq);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(env_of(found[0]).at("CRM_alert_target_rc"), "7");
}

TEST(AlertPlan, NodeAndFencingEventsGoToTheAlertsThatSelectThem) {
  std::uint64_t seq = 0;
  const auto lost = plan_alerts(all_alerts(), NodeEvent{"n3", 3, "lost"}, utc(), seq);
  ASSERT_EQ(lost.size(), 3u);  // file's two recipients and snmp (select nodes)
  const auto env = env_of(lost[2]);
  EXPECT_EQ(env.at("CRM_alert_kind"), "node");
  EXPECT_EQ(env.at("CRM_alert_node"), "n3");
  EXPECT_EQ(env.at("CRM_alert_nodeid"), "3");
  EXPECT_EQ(env.at("CRM_alert_desc"), "lost");
  EXPECT_EQ(env.at("CRM_alert_recipient"), "");
  EXPECT_EQ(env.count("CRM_alert_rsc"), 0u);

  const FencingEvent fenced{"n3", "reboot", "Operation reboot of n3 by n1 for x@n1: OK (ref=1)", 0};
  const auto fencing = plan_alerts(all_alerts(), fenced, utc(), seq);
  ASSERT_EQ(fencing.size(), 2u);  // not snmp
  const auto fenv = env_of(fencing[0]);
  EXPECT_EQ(fenv.at("CRM_alert_kind"), "fencing");
  EXPECT_EQ(fenv.at("CRM_alert_node"), "n3");
  EXPECT_EQ(fenv.at("CRM_alert_task"), "reboot");
  EXPECT_EQ(fenv.at("CRM_alert_rc"), "0");
  EXPECT_EQ(fenv.at("CRM_alert_desc"), fenced.desc);
}

TEST(AlertPlan, AttributeAlertsOnlyForSelectedNamesAndNeverByDefault) {
  std::uint64_t seq = 0;
  const auto standby =
      plan_alerts(all_alerts(), AttributeEvent{"n1", 1, "standby", "on"}, utc(), seq);
  ASSERT_EQ(standby.size(), 1u);
  EXPECT_EQ(standby[0].alert, "snmp");
  const auto env = env_of(standby[0]);
  EXPECT_EQ(env.at("CRM_alert_kind"), "attribute");
  EXPECT_EQ(env.at("CRM_alert_attribute_name"), "standby");
  EXPECT_EQ(env.at("CRM_alert_attribute_value"), "on");
  EXPECT_EQ(env.at("CRM_alert_nodeid"), "1");
  EXPECT_TRUE(
      plan_alerts(all_alerts(), AttributeEvent{"n1", 1, "pingd", "100"}, utc(), seq).empty());
  // select_attributes without names takes every attribute.
  const auto any = unpack(R"(<alerts><alert id="a" path="/a">
      <select><select_attributes/></select></alert></alerts>)");
  EXPECT_EQ(plan_alerts(any.alerts, AttributeEvent{"n1", 1, "pingd", "100"}, utc(), seq).size(),
            1u);
  EXPECT_TRUE(plan_alerts(any.alerts, NodeEvent{"n1", 1, "member"}, utc(), seq).empty());
}

// ---- the events the controller core reports

const char* kCib = R"(<cib admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="web" class="ocf" provider="vigil" type="webserver">
        <operations><op id="web-mon" name="monitor" interval="10s" timeout="20s"/></operations>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>)";

constexpr Millis kNow = 1'700'000'000'000;

TEST(AlertEvents, APeerThatJoinsIsAMemberAndOneThatLeavesIsLost) {
  Controller core{Member{2, "n2"}, 7};
  auto first =
      core.view_changed(ClusterView{{{1, "n1"}, {2, "n2"}}, true, {1, 2}, false, {}}, kNow);
  EXPECT_EQ(first.alerts,
            (std::vector<AlertEvent>{NodeEvent{"n1", 1, "member"}, NodeEvent{"n2", 2, "member"}}));
  auto same =
      core.view_changed(ClusterView{{{1, "n1"}, {2, "n2"}}, false, {1, 2}, false, {}}, kNow);
  EXPECT_TRUE(same.alerts.empty());
  auto lost = core.view_changed(ClusterView{{{2, "n2"}}, false, {2}, false, {}}, kNow);
  EXPECT_EQ(lost.alerts, (std::vector<AlertEvent>{NodeEvent{"n1", 1, "lost"}}));
}

TEST(AlertEvents, EachOperationThisNodeRunsIsReportedAndAStopCancelsTheMonitor) {
  Controller core{Member{2, "n2"}, 7};
  auto parsed = cib::Cib::parse(kCib, "test");
  ASSERT_TRUE(parsed.ok());
  (void)core.view_changed(ClusterView{{{1, "n1"}, {2, "n2"}}, true, {1, 2}, false, {}}, kNow);
  (void)core.cib_changed(*parsed, kNow);
  int action = 0;
  auto order = [&](const std::string& task, std::int64_t interval, int target_rc) {
    ExecuteRequest r{"1-1",    1,         ++action,
                     2,        "web",     task,
                     interval, target_rc, "web_" + task + "_" + std::to_string(interval),
                     {}, {}};
    r.definition = resource_definition(*parsed, "web", "2", task, interval);
    return core.message(1, r, kNow);
  };
  auto start = order("start", 0, 0);
  ASSERT_EQ(start.run.size(), 1u);
  auto done = core.action_done(start.run[0].token, ActionResult{0, 0, 42, ""}, kNow);
  EXPECT_EQ(done.alerts,
            (std::vector<AlertEvent>{ResourceEvent{"n2", "web", "start", 0, 0, 0, 0, 42, 20000}}));
  auto monitor = order("monitor", 10000, 0);
  ASSERT_EQ(monitor.run.size(), 1u);
  auto seen = core.action_done(monitor.run[0].token, ActionResult{0, 0, 3, ""}, kNow);
  EXPECT_EQ(
      seen.alerts,
      (std::vector<AlertEvent>{ResourceEvent{"n2", "web", "monitor", 10000, 0, 0, 0, 3, 20000}}));
  auto stop = order("stop", 0, 0);
  EXPECT_EQ(
      stop.alerts,
      (std::vector<AlertEvent>{ResourceEvent{"n2", "web", "monitor", 10000, 0, 1, 0, 0, 20000}}));
}

TEST(AlertEvents, TheDcReportsEachTransientAttributeThatChanges) {
  auto parsed = cib::Cib::parse(kCib, "test");
  ASSERT_TRUE(parsed.ok());
  auto with = [&](const char* attrs) {
    cib::CibOp op;
    op.changes.push_back(cib::CibChange::create(
        "/cib/status", std::string(R"(<node_state id="2" uname="n2"><transient_attributes id="2">)"
                                   R"(<instance_attributes id="status-2">)") +
                           attrs + "</instance_attributes></transient_attributes></node_state>"));
    auto applied = cib::apply(*parsed, op);
    EXPECT_TRUE(applied.ok()) << applied.error().message;
    return *applied;
  };
  const auto one = with(R"(<nvpair id="a" name="fail-count-web#start_0" value="1"/>)"
                        R"(<nvpair id="b" name="pingd" value="100"/>)");
  const auto two = with(R"(<nvpair id="a" name="fail-count-web#start_0" value="2"/>)");
  for (NodeId self : {1u, 2u}) {
    Controller core{Member{self, "n" + std::to_string(self)}, 7};
    (void)core.view_changed(ClusterView{{{1, "n1"}, {2, "n2"}}, true, {1, 2}, false, {}}, kNow);
    (void)core.cib_changed(*parsed, kNow);
    const auto first = core.cib_changed(one, kNow).alerts;
    const auto second = core.cib_changed(two, kNow).alerts;
    if (self == 2) {  // not the DC: the DC alone reports them, as Pacemaker's attribute writer
      EXPECT_TRUE(first.empty());
      EXPECT_TRUE(second.empty());
      continue;
    }
    EXPECT_EQ(first,
              (std::vector<AlertEvent>{AttributeEvent{"n2", 2, "fail-count-web#start_0", "1"},
                                       AttributeEvent{"n2", 2, "pingd", "100"}}));
    EXPECT_EQ(second,
              (std::vector<AlertEvent>{AttributeEvent{"n2", 2, "fail-count-web#start_0", "2"},
                                       AttributeEvent{"n2", 2, "pingd", ""}}));
  }
}

}  // namespace
}  // namespace vigil::controller
