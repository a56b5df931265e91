// The journal's events derived from two CIBs or two views, as a standby move, a failed monitor, a
// lost node and a ban show them; the journal's lines and their decoding; and `vigil why`'s words
// for each cause, from such a journal.
#include <gtest/gtest.h>

#include "history/history.h"

namespace vigil::history {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

// A 3-node CIB: vip configured, `standby` on n1 (a node attribute) when asked, and vip's lrm
// history on each node given as "<lrm_rsc_op …/>" records.
struct Doc {
  std::string constraints;
  bool standby_n1 = false;
  std::map<int, std::string> ops;  // by node number
  std::string user = "root";
  int epoch = 1;
};

std::string op(const std::string& id, const std::string& task, int call, int rc, int interval = 0,
               int target = 0, std::int64_t changed = 1'700'000'000, const std::string& reason = "") {
  return "<lrm_rsc_op id=\"" + id + "\" operation=\"" + task + "\" call-id=\"" +
         std::to_string(call) + "\" rc-code=\"" + std::to_string(rc) +
         "\" op-status=\"0\" interval=\"" + std::to_string(interval) +
         "\" transition-key=\"1:2:" + std::to_string(target) +
         ":uuid\" last-rc-change=\"" + std::to_string(changed) + "\" exit-reason=\"" + reason +
         "\"/>";
}

cib::Cib build(const Doc& d) {
  std::string xml = "<cib admin_epoch=\"0\" epoch=\"" + std::to_string(d.epoch) +
                    "\" num_updates=\"0\" update-user=\"" + d.user +
                    "\" update-client=\"vigil\" update-origin=\"n2\"><configuration>"
                    "<crm_config/><nodes>";
  for (int n = 1; n <= 3; ++n) {
    const std::string id = std::to_string(n);
    xml += "<node id=\"" + id + "\" uname=\"n" + id + "\">";
    if (n == 1 && d.standby_n1)
      xml += "<instance_attributes id=\"n1-ia\"><nvpair id=\"n1-sb\" name=\"standby\" "
             "value=\"on\"/></instance_attributes>";
    xml += "</node>";
  }
  xml += "</nodes><resources><primitive id=\"vip\" class=\"ocf\" provider=\"vigil\" "
         "type=\"vip\"/></resources><constraints>" +
         d.constraints + "</constraints></configuration><status>";
  for (int n = 1; n <= 3; ++n) {
    const std::string id = std::to_string(n);
    xml += "<node_state id=\"" + id + "\" uname=\"n" + id +
           "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"><lrm id=\"" +
           id + "\"><lrm_resources>";
    if (d.ops.count(n))
      xml += "<lrm_resource id=\"vip\" class=\"ocf\" provider=\"vigil\" type=\"vip\">" +
             d.ops.at(n) + "</lrm_resource>";
    xml += "</lrm_resources></lrm></node_state>";
  }
  xml += "</status></cib>";
  auto cib = cib::Cib::parse(xml);
  EXPECT_TRUE(cib.ok()) << (cib ? "" : cib.error().message);
  return cib ? std::move(*cib) : cib::Cib();
}

std::string at(std::int64_t ms) { return "t" + std::to_string(ms / 1000 - kNow / 1000); }

std::vector<std::string> details(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.what + " " + e.node + ": " + e.detail);
  return out;
}

TEST(History, StandbyIsNamedWithWhoAskedAndTheMoveFollows) {
  Doc d;
  d.ops[1] = op("vip_last_0", "start", 3, 0) + op("vip_monitor_10000", "monitor", 4, 0, 10000);
  const auto running = build(d);
  d.standby_n1 = true;
  d.epoch = 2;
  const auto standby = build(d);
  const auto events = cib_events(running, standby, kNow);
  ASSERT_EQ(events.size(), 2u) << testing::PrintToString(details(events));
  EXPECT_EQ(events[0].what, kind::kConfiguration);
  EXPECT_EQ(events[0].detail, "configuration changed (0.2.0): changed node n1 by root via vigil on n2");
  EXPECT_EQ(events[1].what, kind::kStandby);
  EXPECT_EQ(events[1].node, "n1");
  EXPECT_EQ(events[1].detail, "n1 was put in standby by root via vigil on n2");

  d.ops[1] = op("vip_last_0", "stop", 5, 0, 0, 0, 1'700'000'010);
  d.ops[2] = op("vip_last_0", "start", 2, 0, 0, 0, 1'700'000'011);
  const auto moved = build(d);
  const auto actions = cib_events(standby, moved, kNow);
  ASSERT_EQ(actions.size(), 2u) << testing::PrintToString(details(actions));
  EXPECT_EQ(actions[0].detail, "stop of vip on n1: ok");
  EXPECT_EQ(actions[0].at_ms, 1'700'000'010'000);
  EXPECT_EQ(actions[1].detail, "start of vip on n2: ok");

  std::vector<Event> journal = cib_events(build(Doc{}), running, kNow - 60'000);
  for (const auto& e : events) journal.push_back(e);
  for (const auto& e : actions) journal.push_back(e);
  const auto lines = why("vip", {{"n2"}, "kept where it runs (score 0)"}, journal, at);
  ASSERT_GE(lines.size(), 3u) << testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "vip runs on n2: kept where it runs (score 0)");
  EXPECT_EQ(lines[1], "moved from n1 to n2 at t11 because n1 was put in standby by root via vigil "
                      "on n2 at t0");
  EXPECT_EQ(lines[2], "timeline:");
}

TEST(History, AFailedMonitorIsNamedWithItsCodeAndReasonAndExplainsTheRestart) {
  Doc d;
  d.ops[1] = op("vip_last_0", "start", 3, 0) + op("vip_monitor_10000", "monitor", 4, 0, 10000);
  const auto running = build(d);
  d.ops[1] = op("vip_last_0", "start", 3, 0) +
             op("vip_monitor_10000", "monitor", 4, 7, 10000, 0, 1'700'000'020, "gone") +
             op("vip_last_failure_0", "monitor", 4, 7, 10000, 0, 1'700'000'020, "gone");
  const auto failed = build(d);
  const auto events = cib_events(running, failed, kNow);
  ASSERT_EQ(events.size(), 1u) << testing::PrintToString(details(events));
  EXPECT_EQ(events[0].what, kind::kFailed);
  EXPECT_EQ(events[0].detail, "monitor (every 10s) of vip on n1 failed: not running (rc=7): gone");
  EXPECT_EQ(events[0].rc, 7);

  // The same result again is no news; a probe that finds vip stopped neither.
  EXPECT_TRUE(cib_events(failed, failed, kNow).empty());
  d.ops[3] = op("vip_last_0", "monitor", 1, 7, 0, 7);
  EXPECT_TRUE(cib_events(failed, build(d), kNow).empty());

  std::vector<Event> journal = cib_events(build(Doc{}), running, kNow);
  journal.insert(journal.end(), events.begin(), events.end());
  d.ops[1] = op("vip_last_0", "stop", 5, 0, 0, 0, 1'700'000'021);
  d.ops[2] = op("vip_last_0", "start", 2, 0, 0, 0, 1'700'000'022);
  const auto moved = cib_events(failed, build(d), kNow);
  journal.insert(journal.end(), moved.begin(), moved.end());
  const auto lines = why("vip", {{"n2"}, ""}, journal, at);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1], "stopped on n1 after monitor failed on n1 (rc=7 not running: gone) at t20, "
                      "restarted on n2 at t22");
}

TEST(History, ALostNodeAndQuorumComeFromTheViewAndExplainTheMove) {
  const auto first = view_events(std::nullopt, {{"n1", "n2", "n3"}, true}, kNow);
  ASSERT_EQ(first.size(), 4u) << testing::PrintToString(details(first));
  EXPECT_EQ(first[3].what, kind::kQuorumGained);
  const auto lost = view_events(View{{"n1", "n2", "n3"}, true}, {{"n2", "n3"}, true}, kNow + 5000);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].detail, "n1 was lost from the membership");
  const auto alone = view_events(View{{"n2", "n3"}, true}, {{"n3"}, false}, kNow + 6000);
  ASSERT_EQ(alone.size(), 2u);
  EXPECT_EQ(alone[1].what, kind::kQuorumLost);

  Doc d;
  d.ops[1] = op("vip_last_0", "start", 3, 0);
  std::vector<Event> journal = cib_events(build(Doc{}), build(d), kNow);
  journal.insert(journal.end(), lost.begin(), lost.end());
  d.ops[3] = op("vip_last_0", "start", 2, 0, 0, 0, 1'700'000'009);
  const auto started = cib_events(build(Doc{}), build(d), kNow);
  journal.push_back(started.back());
  const auto lines = why("vip", {{"n3"}, ""}, journal, at);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1], "n1 was lost at t5; vip started on n3 at t9");
}

TEST(History, ABanIsAConfigurationChangeOfItsResourceAndFencingIsSeen) {
  Doc d;
  const auto before = build(d);
  d.constraints = "<rsc_location id=\"cli-ban-vip-on-n1\" rsc=\"vip\" node=\"n1\" score=\"-INFINITY\"/>";
  d.epoch = 2;
  d.user = "alice";
  const auto events = cib_events(before, build(d), kNow);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].resource, "vip");
  EXPECT_EQ(events[0].by, "alice via vigil on n2");
  EXPECT_NE(events[0].detail.find("added rsc_location cli-ban-vip-on-n1"), std::string::npos);

  Doc running;
  running.ops[1] = op("vip_last_0", "start", 3, 0);
  auto fenced = build(Doc{});
  auto state = fenced.status().find_child_by_attribute("node_state", "id", "1");
  state.attribute("in_ccm").set_value("false");
  state.attribute("expected").set_value("down");
  const auto f = cib_events(build(running), fenced, kNow);
  ASSERT_EQ(f.size(), 1u) << testing::PrintToString(details(f));
  EXPECT_EQ(f[0].what, kind::kFenced);
  EXPECT_EQ(f[0].node, "n1");
}

TEST(History, LinesRoundTripAndABrokenJournalLosesOnlyItsBrokenLines) {
  Event e;
  e.at_ms = kNow;
  e.what = std::string(kind::kFailed);
  e.node = "n1";
  e.resource = "vip";
  e.detail = "monitor of vip on n1 failed: \"quoted\"\nnewline";
  e.task = "monitor";
  e.rc = 7;
  e.exit_reason = "gone";
  const std::string line = encode(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = decode(line);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, e);
  const auto journal = decode_journal(line + "\nnot json\n{\"at\":\"x\"}\n\n" + line + "\n{\"at\":1");
  EXPECT_EQ(journal.events.size(), 2u);
  EXPECT_EQ(journal.skipped, 3u);
  EXPECT_FALSE(decode("{\"at\":1,\"what\":2,\"node\":\"\",\"detail\":\"\"}").ok());
  EXPECT_FALSE(decode("{\"at\":1,\"what\":\"x\",\"node\":\"\",\"detail\":\"\",\"rc\":1e9}").ok());
}

TEST(History, TheJournalKeepsTheNewestAndFiltersKeepPossibleCauses) {
  Journal j(3);
  for (int i = 0; i < 5; ++i) {
    Event e;
    e.at_ms = i;
    e.what = std::string(i % 2 ? kind::kAction : kind::kLost);
    e.node = "n" + std::to_string(i);
    if (i % 2) {
      e.resource = i == 1 ? "vip" : "web";
      e.task = "start";
    }
    j.add(e);
  }
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.select({}).front().at_ms, 2);
  EXPECT_EQ(j.select({3, "", ""}).size(), 2u);
  // web's start and the losses stay for --resource web; n3's event only for --node n3.
  EXPECT_EQ(j.select({0, "web", ""}).size(), 3u);
  EXPECT_EQ(j.select({0, "vip", ""}).size(), 2u);
  EXPECT_EQ(j.select({0, "", "n3"}).size(), 1u);
}

// The incident's timeline, as the failover breakdown: the lost node's last word (detection), its
// loss (membership), the DC's transition for vip (schedule), the start; each with its time since
// the fault, and the whole from the fault to vip running again. Transitions of other resources
// stay out; a transition's resources keep it for `vigil history --resource`.
TEST(History, TheTimelineRunsFromTheLostNodesLastWordThroughTheTransitionToTheStart) {
  controller::TransitionNote note{4, controller::TransitionNote::Stage::started,
                                  {{"Move", "vip", "n1 -> n3", "", ""},
                                   {"Fence", "(reboot) n1", "", "", ""}},
                                  ""};
  const Event scheduled = transition_event(note, "n2", kNow + 5'200);
  EXPECT_EQ(scheduled.detail,
            "transition 4 started by n2: Move vip (n1 -> n3); Fence (reboot) n1");
  EXPECT_EQ(scheduled.resources, std::vector<std::string>{"vip"});
  note.stage = controller::TransitionNote::Stage::aborted;
  note.reason = "a node left";
  EXPECT_EQ(transition_event(note, "n2", kNow).detail, "transition 4 aborted: a node left");
  controller::TransitionNote other{5, controller::TransitionNote::Stage::started,
                                   {{"Start", "web", "n2", "", ""}}, ""};

  Doc d;
  d.ops[1] = op("vip_last_0", "start", 3, 0);
  std::vector<Event> journal = cib_events(build(Doc{}), build(d), kNow);
  auto lost = view_events(View{{"n1", "n2", "n3"}, true}, {{"n2", "n3"}, true}, kNow + 5'000);
  lost[0].last_heard_ms = kNow + 3'900;
  journal.insert(journal.end(), lost.begin(), lost.end());
  journal.push_back(scheduled);
  journal.push_back(transition_event(other, "n2", kNow + 5'300));
  // Recorded in second 6 and seen here 420 ms into it: the journal keeps the millisecond.
  d.ops[3] = op("vip_last_0", "start", 2, 0, 0, 0, 1'700'000'006);
  journal.push_back(cib_events(build(Doc{}), build(d), kNow + 6'420).back());
  EXPECT_EQ(journal.back().at_ms, kNow + 6'420);

  const auto lines = why("vip", {{"n3"}, ""}, journal, at);
  const std::vector<std::string> expected{
      "vip runs on n3",
      "n1 was lost at t5; vip started on n3 at t6",
      "timeline:",
      "  t3  +0.000 s  n1 last heard",
      "  t5  +1.100 s  n1 was lost from the membership",
      "  t5  +1.300 s  transition 4 started by n2: Move vip (n1 -> n3); Fence (reboot) n1",
      "  t6  +2.520 s  start of vip on n3: ok",
      "from the fault to vip running again: 2.520 s"};
  EXPECT_EQ(lines, expected);

  // The journal's line keeps both; `vigil history --resource vip` keeps vip's transition only.
  EXPECT_EQ(*decode(encode(lost[0])), lost[0]);
  EXPECT_EQ(*decode(encode(scheduled)), scheduled);
  EXPECT_TRUE(matches(scheduled, {0, "vip", ""}));
  EXPECT_FALSE(matches(transition_event(other, "n2", kNow), {0, "vip", ""}));
  EXPECT_FALSE(
      decode("{\"at\":1,\"what\":\"x\",\"node\":\"\",\"detail\":\"\",\"resources\":[1]}").ok());
}

// Watchdog fencing writes no more to the CIB than a device's fencing does: the DC's own event
// names the watchdog, kept for `vigil history --resource`, and in the lost node's timeline.
TEST(History, AWatchdogFencingIsAFencedEventNamingTheWatchdogInTheLostNodesTimeline) {
  const Event fenced = watchdog_fencing_event({"n1", "reboot"}, "n2", kNow + 6'000);
  EXPECT_EQ(fenced.what, kind::kFenced);
  EXPECT_EQ(fenced.node, "n1");
  EXPECT_EQ(fenced.detail,
            "n1 was fenced by its watchdog (reboot), counted by the DC n2 once its lease had run "
            "out");
  EXPECT_TRUE(matches(fenced, {0, "vip", ""}));
  EXPECT_TRUE(matches(fenced, {0, "", "n1"}));
  EXPECT_EQ(*decode(encode(fenced)), fenced);

  Doc d;
  d.ops[1] = op("vip_last_0", "start", 3, 0);
  std::vector<Event> journal = cib_events(build(Doc{}), build(d), kNow);
  auto lost = view_events(View{{"n1", "n2", "n3"}, true}, {{"n2", "n3"}, true}, kNow + 5'000);
  journal.insert(journal.end(), lost.begin(), lost.end());
  journal.push_back(fenced);
  d.ops[3] = op("vip_last_0", "start", 2, 0, 0, 0, 1'700'000'007);
  journal.push_back(cib_events(build(Doc{}), build(d), kNow + 7'000).back());
  const auto lines = why("vip", {{"n3"}, ""}, journal, at);
  const std::vector<std::string> expected{
      "vip runs on n3",
      "n1 was lost at t5; vip started on n3 at t7",
      "timeline:",
      "  t5  +0.000 s  n1 was lost from the membership",
      "  t6  +1.000 s  " + fenced.detail,
      "  t7  +2.000 s  start of vip on n3: ok",
      "from the fault to vip running again: 2.000 s"};
  EXPECT_EQ(lines, expected);
}

}  // namespace
}  // namespace vigil::history
