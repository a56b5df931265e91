// `vigil status` on CIB files (CIB_file, no daemon): the guide's cluster as crm status and
// crm_mon print it in the reference output — running, one node in standby, after a failed
// monitor — plus the by-node view, fail counts, XML and JSON, and the daemon's membership.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli_run.h"
#include "cli/status.h"
#include "scheduler/scheduler.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

// A reference file without its "$ command" line, crm_mon's pacemakerd line (vigil has no
// pacemakerd) and the "[exit N]" line.
std::string reference(const std::string& name) {
  std::istringstream in(slurp(fs::path(VIGIL_SHARED_DIR) / "reference-output" / name));
  std::string line, out;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.rfind("Status of pacemakerd", 0) == 0 || line.rfind("[exit", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

// The CIB of the reference cluster (cibadmin -Q).
cib::Cib reference_cib() {
  std::string xml = reference("cibadmin_Q.txt");
  auto cib = cib::Cib::parse(xml, "cibadmin_Q.txt");
  EXPECT_TRUE(cib.ok());
  return *cib;
}

// Seconds since the epoch for "Tue Nov 24 HH:MM:SS 2026" UTC (the reference's clock).
constexpr std::int64_t at(int h, int m, int s) {
  return 1795478400 + h * 3600 + m * 60 + s;
}

// The cluster after the transition the scheduler plans for `cib` has run.
cib::Cib settled(const cib::Cib& cib, std::int64_t now_s) {
  auto graph = scheduler::schedule(cib, now_s * 1000);
  return scheduler::execute(cib, graph).revised;
}

void set_node_attr(cib::Cib& cib, const char* node_id, const char* name, const char* value) {
  auto node = cib.section("nodes").find_child_by_attribute("node", "id", node_id);
  auto nv = node.child("instance_attributes").find_child_by_attribute("nvpair", "name", name);
  nv.attribute("value") = value;
}

// node2 in standby: the group moves to node1 (crm node standby node2 at 21:09:53).
cib::Cib standby_cib() {
  auto cib = reference_cib();
  set_node_attr(cib, "2", "standby", "on");
  cib.root().attribute("cib-last-written") = "Tue Nov 24 21:09:53 2026";
  return settled(cib, at(21, 9, 53));
}

void add_failure(cib::Cib& cib);

// node2 back online, then httpd's monitor on node1 found it not running at 21:10:06 and the
// cluster restarted it there.
cib::Cib failed_monitor_cib() {
  auto cib = standby_cib();
  set_node_attr(cib, "2", "standby", "off");
  cib.root().attribute("cib-last-written") = "Tue Nov 24 21:09:58 2026";
  cib = settled(cib, at(21, 9, 58));
  add_failure(cib);
  // The recovery (stop, start) rewrites httpd's history; the failure record stays, as the
  // controller keeps it.
  cib = settled(cib, at(21, 10, 6));
  add_failure(cib);
  return cib;
}

void add_failure(cib::Cib& cib) {
  auto node1 = cib.status().find_child_by_attribute("node_state", "id", "1");
  auto httpd = node1.child("lrm")
                   .child("lrm_resources")
                   .find_child_by_attribute("lrm_resource", "id", "httpd");
  auto op = httpd.append_child("lrm_rsc_op");
  for (auto [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
           {"id", "httpd_last_failure_0"},
           {"operation_key", "httpd_monitor_10000"},
           {"operation", "monitor"},
           {"transition-key", "8:12:0:bf4fa98e-7e58-4ad6-be4d-6b7588c76bbb"},
           {"on_node", "node1"},
           {"call-id", "900"},
           {"rc-code", "7"},
           {"op-status", "0"},
           {"interval", "10000"},
           {"last-rc-change", std::to_string(at(21, 10, 6))},
           {"exec-time", "0"},
           {"queue-time", "0"}}) {
    op.append_attribute(k) = v.c_str();
  }
  auto attrs = node1.child("transient_attributes").child("instance_attributes");
  auto add = [&](const char* id, const char* name, const std::string& value) {
    auto nv = attrs.append_child("nvpair");
    nv.append_attribute("id") = id;
    nv.append_attribute("name") = name;
    nv.append_attribute("value") = value.c_str();
  };
  if (attrs.find_child_by_attribute("nvpair", "name", "fail-count-httpd#monitor_10000")) return;
  add("status-1-fail-count-httpd.monitor_10000", "fail-count-httpd#monitor_10000", "1");
  add("status-1-last-failure-httpd.monitor_10000", "last-failure-httpd#monitor_10000",
      std::to_string(at(21, 10, 6)));
}

class StatusCli : public ::testing::Test {
 public:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    std::string tmpl = (fs::temp_directory_path() / "vigil-status-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ::setenv("CIB_file", (dir_ / "cib.xml").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("CIB_file");
    fs::remove_all(dir_);
  }

  void write(const cib::Cib& cib) {
    std::ofstream(dir_ / "cib.xml", std::ios::binary) << cib.to_xml();
  }

  static Outcome run(std::vector<std::string> args) {
    args.insert(args.begin(), {"status", "--socket", "/nonexistent/vigild.sock"});
    return cli::run(args);
  }

  fs::path dir_;
};

// The reference's "Last updated" line is the time crm_mon ran; ours is now.
std::string without_last_updated(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("  * Last updated: ", 0) != 0) out += line + "\n";
  }
  return out;
}

TEST_F(StatusCli, CrmStatusOfTheGuidesCluster) {
  write(reference_cib());
  auto r = run({});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(without_last_updated(r.out), without_last_updated(reference("crm_status.txt")));
  // crm_mon -1 (active resources only) and -1 -rnf (by node, inactive, fail counts).
  StatusInput in{reference_cib(), nullptr, at(21, 9, 49) * 1000};
  EXPECT_EQ(render_status(in, {false, false, false, false}), reference("crm_mon_1.txt"));
  EXPECT_EQ(render_status(in, {true, true, true, false}), reference("crm_mon_1_rnf.txt"));
}

TEST_F(StatusCli, StandbyNodeIsListedOnItsOwn) {
  StatusInput in{standby_cib(), nullptr, at(21, 9, 58) * 1000};
  EXPECT_EQ(render_status(in, {}), reference("crm_status_standby.txt"));
  EXPECT_EQ(render_status(in, {false, false, false, false}), reference("crm_mon_1_standby.txt"));
}

TEST_F(StatusCli, FailedMonitorShowsInFailedActionsAndMigrationSummary) {
  StatusInput in{failed_monitor_cib(), nullptr, at(21, 10, 9) * 1000};
  EXPECT_EQ(render_status(in, {}), reference("crm_status_failed_action.txt"));
  EXPECT_EQ(render_status(in, {false, false, false, false}),
            reference("crm_mon_1_failed_action.txt"));
  EXPECT_EQ(render_status(in, {true, true, true, false}),
            reference("crm_mon_1_rnf_failed_action.txt"));
  // crmsh's words on the command line: `crm status failcounts`.
  write(failed_monitor_cib());
  auto r = run({"failcounts"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Active Resources:\n"), std::string::npos);
  EXPECT_NE(r.out.find("Migration Summary:\n  * Node: node1:\n    * httpd: migration-threshold="
                       "1000000 fail-count=1 last-failure='Tue Nov 24 21:10:06 2026'\n"),
            std::string::npos);
}

TEST_F(StatusCli, ExitReasonAndExecutionStatusInFailedActions) {
  auto cib = failed_monitor_cib();
  auto op = cib.status().find_node([](const pugi::xml_node& n) {
    return std::string_view(n.attribute("id").value()) == "httpd_last_failure_0" &&
           std::string_view(n.attribute("on_node").value()) == "node1";
  });
  ASSERT_TRUE(op);
  op.append_attribute("exit-reason") = "Apache is not listening on port 80";
  StatusInput in{cib, nullptr, at(21, 10, 9) * 1000};
  EXPECT_NE(render_status(in, {}).find(
                "  * httpd 10s-interval monitor on node1 returned 'not running' (Apache is not "
                "listening on port 80) at Tue Nov 24 21:10:06 2026\n"),
            std::string::npos);
  op.attribute("op-status") = "2";
  StatusInput timed_out{cib, nullptr, at(21, 10, 9) * 1000};
  EXPECT_NE(render_status(timed_out, {})
                .find("  * httpd 10s-interval monitor on node1 could not be executed (Timed Out: "
                      "Apache is not listening on port 80) at Tue Nov 24 21:10:06 2026\n"),
            std::string::npos);
}

TEST_F(StatusCli, XmlFollowsCrmMonsShape) {
  StatusInput in{reference_cib(), nullptr, at(21, 9, 49) * 1000};
  const std::string xml = status_xml(in, "crm_mon -1 --output-as=xml");
  const std::string ref = reference("crm_mon_1_xml.txt");
  // Line by line, the elements crm_mon prints that vigil knows the same way.
  for (const char* line :
       {"<pacemaker-result api-version=\"2.25\" request=\"crm_mon -1 --output-as=xml\">",
        "    <stack type=\"corosync\"/>", "    <last_update time=\"Tue Nov 24 21:09:49 2026\"/>",
        "    <last_change time=\"Tue Nov 24 21:06:45 2026\" user=\"root\" client=\"cibadmin\" "
        "origin=\"node1\"/>",
        "    <nodes_configured number=\"2\"/>",
        "    <resources_configured number=\"2\" disabled=\"0\" blocked=\"0\"/>",
        "    <cluster_options stonith-enabled=\"false\" symmetric-cluster=\"true\" "
        "no-quorum-policy=\"ignore\" maintenance-mode=\"false\" stop-all-resources=\"false\" "
        "stonith-timeout-ms=\"60000\" priority-fencing-delay-ms=\"0\"/>",
        "    <node name=\"node1\" id=\"1\" online=\"true\" standby=\"false\" "
        "standby_onfail=\"false\" maintenance=\"false\" pending=\"false\" unclean=\"false\" "
        "health=\"green\" feature_set=\"3.16.1\" shutdown=\"false\" expected_up=\"true\" "
        "is_dc=\"true\" resources_running=\"0\" type=\"member\"/>",
        "    <group id=\"webservice\" number_resources=\"2\" managed=\"true\" disabled=\"false\">",
        "      <resource id=\"vip\" resource_agent=\"ocf:heartbeat:IPaddr2\" role=\"Started\" "
        "active=\"true\" orphaned=\"false\" blocked=\"false\" managed=\"true\" failed=\"false\" "
        "failure_ignored=\"false\" nodes_running_on=\"1\">",
        "        <node name=\"node2\" id=\"2\" cached=\"true\"/>",
        "  <status code=\"0\" message=\"OK\"/>"}) {
    EXPECT_NE(ref.find(line), std::string::npos) << "reference lacks: " << line;
    EXPECT_NE(xml.find(line), std::string::npos) << "vigil lacks: " << line << "\n" << xml;
  }
  EXPECT_NE(xml.find("<current_dc present=\"true\" version=\"2.1.5-a3f44794f94\" name=\"node1\" "
                     "id=\"1\" with_quorum=\"true\""),
            std::string::npos);
  EXPECT_NE(xml.find("<node name=\"node2\" id=\"2\" online=\"true\" standby=\"false\""),
            std::string::npos);
  EXPECT_NE(xml.find("resources_running=\"2\""), std::string::npos);
  EXPECT_NE(xml.find("<operation_history call=\"26\" task=\"start\" rc=\"0\" rc_text=\"ok\" "
                     "last-rc-change=\"Tue Nov 24 21:05:01 2026\" exec-time=\"97ms\" "
                     "queue-time=\"0ms\"/>"),
            std::string::npos);
  pugi::xml_document parsed;
  EXPECT_TRUE(parsed.load_string(xml.c_str()));
  // Through the command, with a failure listed.
  write(failed_monitor_cib());
  auto r = run({"--output-as", "xml"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("<failure op_key=\"httpd_monitor_10000\" node=\"node1\" exitstatus=\"not "
                       "running\" exitreason=\"none\" exitcode=\"7\" call=\"900\""),
            std::string::npos)
      << r.out;
}

TEST_F(StatusCli, JsonCarriesTheSameFacts) {
  write(failed_monitor_cib());
  auto r = run({"--output-as", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["summary"]["current_dc"]["name"], "node1");
  EXPECT_EQ(j["summary"]["quorate"], true);
  EXPECT_EQ(j["nodes"].size(), 2u);
  EXPECT_EQ(j["resources"][0]["id"], "webservice");
  EXPECT_EQ(j["resources"][0]["children"][1]["nodes"][0], "node1");
  EXPECT_EQ(j["fail_counts"][0]["fail_count"], 1);
  EXPECT_EQ(j["failures"][0]["text"],
            "httpd 10s-interval monitor on node1 returned 'not running' at Tue Nov 24 21:10:06 "
            "2026");
}

// What the status page shows besides: the cluster's name (corosync.conf's, from vigild, else the
// CIB's cluster-name) and the tickets, those with a state first, then those only constraints name.
TEST_F(StatusCli, JsonNamesTheClusterAndItsTickets) {
  std::string xml = reference("cibadmin_Q.txt");
  xml.replace(xml.find("<constraints/>"), 14,
              "<constraints><rsc_ticket id=\"web-needs-b\" rsc=\"webservice\" ticket=\"ticketB\"/>"
              "</constraints>");
  xml.replace(xml.find("<status>"), 8,
              "<status><tickets><ticket_state id=\"ticketA\" granted=\"true\" "
              "last-granted=\"1795000000\"/></tickets>");
  auto cib = cib::Cib::parse(xml, "tickets");
  ASSERT_TRUE(cib.ok()) << cib.error().message;
  const auto j = status_json({*cib, nullptr, at(21, 9, 49) * 1000});
  EXPECT_EQ(j["summary"]["cluster_name"], "anchors");
  ASSERT_EQ(j["tickets"].size(), 2u) << j["tickets"];
  EXPECT_EQ(j["tickets"][0], (nlohmann::json{{"id", "ticketA"}, {"granted", true},
                                             {"standby", false}, {"last_granted", 1795000000}}));
  EXPECT_EQ(j["tickets"][1]["id"], "ticketB");
  EXPECT_EQ(j["tickets"][1]["granted"], false);
  const auto named = status_json({*cib, {{"ok", true}, {"cluster_name", "web"}}, 0});
  EXPECT_EQ(named["summary"]["cluster_name"], "web");
}

TEST_F(StatusCli, DaemonMembershipAndQuorumWinOverTheCib) {
  auto daemon = nlohmann::json::parse(R"({"ok": true, "ring": {"id": "1.8"},
    "nodes": [{"id": 1, "name": "node1", "online": true}, {"id": 2, "name": "node2", "online": false},
              {"id": 3, "name": "node3", "online": true}],
    "quorum": {"quorate": false}})");
  auto cib = reference_cib();
  StatusInput in{cib, daemon, at(21, 9, 49) * 1000};
  const auto text = render_status(in, {});
  EXPECT_NE(text.find("  * Current DC: node1 (version 2.1.5-a3f44794f94) - partition WITHOUT "
                      "quorum\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  * 3 nodes configured\n"), std::string::npos);
  // node2 dropped out while it was expected up; stonith is off, so it is just offline.
  EXPECT_NE(text.find("  * Online: [ node1 node3 ]\n  * OFFLINE: [ node2 ]\n"), std::string::npos)
      << text;
  // Without a CIB at all: the daemon's nodes, no DC.
  StatusInput bare{std::nullopt, daemon, at(21, 9, 49) * 1000};
  const auto only = render_status(bare, {});
  EXPECT_NE(only.find("  * Stack: vigil\n  * Current DC: NONE\n"), std::string::npos) << only;
  EXPECT_NE(only.find("  * Online: [ node1 node3 ]\n"), std::string::npos) << only;
  EXPECT_NE(only.find("Full List of Resources:\n  * No resources\n"), std::string::npos) << only;
}

TEST_F(StatusCli, WatchRedrawsInPlaceAndBadWordsAreRefused) {
  write(reference_cib());
  auto r = run({"--watch", "--interval", "0.1", "--refreshes", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::size_t clears = 0;
  for (auto at = r.out.find("\033[H\033[2J"); at != std::string::npos;
       at = r.out.find("\033[H\033[2J", at + 1))
    ++clears;
  EXPECT_EQ(clears, 2u);
  EXPECT_NE(r.out.rfind("Full List of Resources:"), r.out.find("Full List of Resources:"));
  auto bad = run({"inactive", "sideways"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("word 2 ('sideways')"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.out, "");
}

}  // namespace
}  // namespace vigil::cli
