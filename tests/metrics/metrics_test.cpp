// /metrics against ha_cluster_exporter: the exporter's series are derived here, by its documented
// rules, from what the real crm_mon printed as XML for the guide's cluster (reference-output), and
// vigil's exposition of the same cluster's CIB must hold exactly those samples. Then the Corosync
// series from vigild's status answer, the text format's escaping and infinities, and the HTTP
// request reader.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/ascii.h"
#include "metrics/metrics.h"
#include "metrics/timings.h"

namespace vigil::metrics {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string reference(const std::string& name) {
  std::ifstream in(fs::path(VIGIL_SHARED_DIR) / "reference-output" / name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  text.erase(0, text.find('\n') + 1);  // the "$ command" line
  auto exit_line = text.rfind("[exit");
  if (exit_line != std::string::npos) text.erase(exit_line);
  return text;
}

// The samples of the families named, as "name{labels} value" lines.
std::set<std::string> samples(const std::string& text, const std::set<std::string>& families) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (families.count(name)) out.insert(line);
  }
  return out;
}

std::string b(const pugi::xml_attribute& a) { return a.as_bool() ? "1" : "0"; }

// ha_cluster_exporter's pacemaker collector, as its doc/metrics.md describes it, applied to
// crm_mon's XML: a line per true node status, per resource instance and true status, per
// resource in a node's history (fail count, migration threshold), and stonith-enabled.
std::set<std::string> exporter_view(const std::string& crm_mon_xml) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(crm_mon_xml.c_str()));
  auto result = doc.child("pacemaker-result");
  std::set<std::string> out;
  out.insert("ha_cluster_pacemaker_stonith_enabled " +
             b(result.child("summary").child("cluster_options").attribute("stonith-enabled")));
  for (auto n : result.child("nodes").children("node")) {
    for (const char* s : {"online", "standby", "standby_onfail", "maintenance", "pending",
                          "unclean", "shutdown", "expected_up", "is_dc"}) {
      if (!n.attribute(s).as_bool()) continue;
      const std::string status = std::string(s) == "is_dc" ? "dc" : s;
      out.insert("ha_cluster_pacemaker_nodes{node=\"" + std::string(n.attribute("name").value()) +
                 "\",type=\"" + n.attribute("type").value() + "\",status=\"" + status + "\"} 1");
    }
  }
  for (auto r : result.select_nodes("//resources//resource")) {
    auto res = r.node();
    for (auto on : res.children("node")) {
      for (const char* s : {"active", "orphaned", "blocked", "failed", "failure_ignored"}) {
        if (!res.attribute(s).as_bool()) continue;
        out.insert("ha_cluster_pacemaker_resources{node=\"" + std::string(on.attribute("name").value()) +
                   "\",resource=\"" + res.attribute("id").value() + "\",role=\"" +
                   ascii_lower(res.attribute("role").value()) + "\",managed=\"" +
                   res.attribute("managed").value() + "\",status=\"" + s + "\"} 1");
      }
    }
  }
  for (auto n : result.child("node_history").children("node")) {
    for (auto h : n.children("resource_history")) {
      const std::string labels = "{node=\"" + std::string(n.attribute("name").value()) +
                                 "\",resource=\"" + h.attribute("id").value() + "\"} ";
      out.insert("ha_cluster_pacemaker_fail_count" + labels +
                 std::to_string(h.attribute("fail-count").as_int()));
      out.insert("ha_cluster_pacemaker_migration_threshold" + labels +
                 h.attribute("migration-threshold").value());
    }
  }
  return out;
}

// vigild's status answer for the reference cluster: both nodes in the ring, votequorum quorate.
Json daemon_answer() {
  return Json::parse(R"({
    "ok": true, "node": {"id": 1, "name": "node1"},
    "ring": {"id": "1.8", "state": "operational", "members": [1, 2]},
    "nodes": [{"id": 1, "name": "node1", "online": true}, {"id": 2, "name": "node2", "online": true}],
    "quorum": {"provider": "corosync_votequorum", "quorate": true, "expected_votes": 2,
               "highest_expected": 2, "total_votes": 2, "quorum": 1,
               "members": [{"id": 1, "votes": 1}, {"id": 2, "votes": 1}]},
    "links": [{"link": 0, "local": "192.168.1.10", "peers": [{"id": 2, "connected": true}]}],
    "totem": {"rings_installed": 3, "token_losses": 1},
    "transport": {"frames": 1200, "unauthenticated": 4}})");
}

cib::Cib reference_cib() {
  auto cib = cib::Cib::parse(reference("cibadmin_Q.txt"), "cibadmin_Q.txt");
  EXPECT_TRUE(cib.ok()) << cib.error().message;
  return *cib;
}

TEST(Metrics, PacemakerSeriesAreWhatTheExporterReadsFromCrmMon) {
  const cib::Cib cib = reference_cib();
  Scrape scrape{&cib, daemon_answer(), 1795554589, 1795554589000};
  const std::string text = exposition(scrape);
  const std::set<std::string> families{
      "ha_cluster_pacemaker_stonith_enabled", "ha_cluster_pacemaker_nodes",
      "ha_cluster_pacemaker_resources", "ha_cluster_pacemaker_fail_count",
      "ha_cluster_pacemaker_migration_threshold"};
  const auto expected = exporter_view(reference("crm_mon_1_xml.txt"));
  ASSERT_GT(expected.size(), 10u);
  EXPECT_EQ(samples(text, families), expected) << text;
  EXPECT_NE(text.find("ha_cluster_pacemaker_config_last_change 1795554589\n"), std::string::npos);
}

TEST(Metrics, CorosyncSeriesComeFromTheDaemonsAnswer) {
  const std::string text = exposition(Scrape{nullptr, daemon_answer(), std::nullopt, 0});
  for (const char* line : {
           "ha_cluster_corosync_quorate 1",
           "ha_cluster_corosync_quorum_votes{type=\"expected_votes\"} 2",
           "ha_cluster_corosync_quorum_votes{type=\"quorum\"} 1",
           "ha_cluster_corosync_member_votes{node_id=\"1\",node=\"node1\",local=\"true\"} 1",
           "ha_cluster_corosync_member_votes{node_id=\"2\",node=\"node2\",local=\"false\"} 1",
           "ha_cluster_corosync_rings{ring_id=\"1.8\",node_id=\"1\",number=\"0\",address=\"192.168.1.10\"} 1",
           "ha_cluster_corosync_ring_errors 0",
           "vigil_membership_changes_total 3",
           "vigil_authentication_failures_total 4",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  // Without the CIB (before this node holds it) no pacemaker series is made up.
  EXPECT_EQ(text.find("ha_cluster_pacemaker"), std::string::npos);
  // A link on which no other member was heard lately is faulty; hearing one of them (an idle
  // ring's token comes from one) is enough.
  auto d = daemon_answer();
  d["links"][0]["peers"][0]["connected"] = false;
  const std::string faulty = exposition(Scrape{nullptr, d, std::nullopt, 0});
  EXPECT_NE(faulty.find("ha_cluster_corosync_ring_errors 1\n"), std::string::npos) << faulty;
  d["ring"]["members"] = Json::array({1, 2, 3});
  d["links"][0]["peers"].push_back(Json{{"id", 3}, {"connected", true}});
  const std::string one_heard = exposition(Scrape{nullptr, d, std::nullopt, 0});
  EXPECT_NE(one_heard.find("ha_cluster_corosync_ring_errors 0\n"), std::string::npos) << one_heard;
}

// Each link to each peer: the mean round trip of its pings and the share lost, labelled with the
// peer and the link; a peer never answered has a loss and no round trip.
TEST(Metrics, EachLinkToEachPeerHasItsRoundTripAndLoss) {
  auto d = daemon_answer();
  d["links"][0]["peers"][0].update(Json{{"pings", 40}, {"lost", 2}, {"round_trip_ms", 0.25}});
  d["links"][0]["peers"].push_back(Json{{"id", 3}, {"connected", false}, {"pings", 8}, {"lost", 8}});
  const std::string text = exposition(Scrape{nullptr, d, std::nullopt, 0});
  for (const char* line : {
           "vigil_link_round_trip_seconds{node_id=\"2\",node=\"node2\",link=\"0\"} 0.00025",
           "vigil_link_loss_ratio{node_id=\"2\",node=\"node2\",link=\"0\"} 0.05",
           "vigil_link_loss_ratio{node_id=\"3\",node=\"3\",link=\"0\"} 1",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find("vigil_link_round_trip_seconds{node_id=\"3\""), std::string::npos) << text;
}

// Agent runs by operation and result, and fence devices' actions apart; a node the DC counted as
// fenced by its watchdog under Pacemaker's name for that device, the devices' series unchanged.
TEST(Metrics, ActionsAndFencingAreCountedByResult) {
  auto d = daemon_answer();
  d["controller"] = Json{
      {"action_results",
       Json::array({Json{{"operation", "monitor"}, {"result", "ok"}, {"count", 12}},
                    Json{{"operation", "monitor"}, {"result", "not running"}, {"count", 1}},
                    Json{{"operation", "start"}, {"result", "timed out"}, {"count", 2}}})},
      {"fencing_results",
       Json::array({Json{{"operation", "reboot"}, {"result", "ok"}, {"count", 1}},
                    Json{{"operation", "reboot"},
                         {"result", "ok"},
                         {"device", "watchdog"},
                         {"count", 2}}})}};
  const std::string text = exposition(Scrape{nullptr, d, std::nullopt, 0});
  for (const char* line : {
           "# TYPE vigil_actions_total counter",
           "vigil_actions_total{operation=\"monitor\",result=\"ok\"} 12",
           "vigil_actions_total{operation=\"monitor\",result=\"not running\"} 1",
           "vigil_actions_total{operation=\"start\",result=\"timed out\"} 2",
           "vigil_fencing_total{action=\"reboot\",result=\"ok\"} 1",
           "vigil_fencing_total{action=\"reboot\",result=\"ok\",device=\"watchdog\"} 2",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
}

// What no scraper can know: the watchdog's last feed (only when vigild has one) and the ring's
// token rotations, as the daemon's Timings keep them.
TEST(Metrics, TheWatchdogsLastFeedAndTheTokenRotationsAreShown) {
  const std::string without = exposition(Scrape{nullptr, daemon_answer(), std::nullopt, 0});
  EXPECT_EQ(without.find("vigil_watchdog"), std::string::npos) << without;
  EXPECT_EQ(without.find("vigil_token_rotation"), std::string::npos) << without;

  auto d = daemon_answer();
  d["watchdog"] = Json{{"device", "/dev/watchdog"}, {"timeout_ms", 5000}, {"fed_ms_ago", 250}};
  Timings timings;
  for (Millis took : {0, 1, 1, 1, 20, 30, 40, 50, 92, 999}) timings.token_rotated(took);
  d["timings"][kTokenRotation.name] = timings.to_json()[kTokenRotation.name];
  const std::string text = exposition(Scrape{nullptr, d, std::nullopt, 0});
  for (const char* line : {
           "vigil_watchdog_last_feed_age_seconds{device=\"/dev/watchdog\"} 0.25",
           "vigil_watchdog_timeout_seconds{device=\"/dev/watchdog\"} 5",
           "# TYPE vigil_token_rotation_seconds histogram",
           "vigil_token_rotation_seconds_bucket{le=\"0.001\"} 4",
           "vigil_token_rotation_seconds_bucket{le=\"0.01\"} 4",
           "vigil_token_rotation_seconds_bucket{le=\"0.05\"} 8",
           "vigil_token_rotation_seconds_bucket{le=\"0.1\"} 9",
           "vigil_token_rotation_seconds_bucket{le=\"+Inf\"} 10",
           "vigil_token_rotation_seconds_sum 1.234",
           "vigil_token_rotation_seconds_count 10",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
}

TEST(Metrics, EveryFamilyIsDeclaredOnceAndScoresAndLabelsAreWritten) {
  cib::Cib cib = reference_cib();
  auto constraints = cib.section("constraints");
  auto ban = constraints.append_child("rsc_location");
  for (auto [k, v] : {std::pair{"id", "cli-ban-vip-on-node1"}, {"rsc", "vip"}, {"node", "node1"},
                      {"role", "Started"}, {"score", "-INFINITY"}})
    ban.append_attribute(k) = v;
  auto attrs = cib.status()
                   .find_child_by_attribute("node_state", "id", "1")
                   .child("transient_attributes")
                   .child("instance_attributes");
  auto nv = attrs.append_child("nvpair");
  nv.append_attribute("id") = "a1";
  nv.append_attribute("name") = "site";
  nv.append_attribute("value") = "rack \"A\"\\2";
  const std::string text = exposition(Scrape{&cib, daemon_answer(), std::nullopt, 0});
  EXPECT_NE(text.find("ha_cluster_pacemaker_location_constraints{constraint=\"cli-ban-vip-on-"
                      "node1\",node=\"node1\",resource=\"vip\",role=\"started\"} -Inf\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ha_cluster_pacemaker_node_attributes{node=\"node1\",name=\"site\","
                      "value=\"rack \\\"A\\\"\\\\2\"} 1\n"),
            std::string::npos)
      << text;
  std::map<std::string, int> declared;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) ++declared[line.substr(7, line.find(' ', 7) - 7)];
  }
  for (const auto& [name, count] : declared) EXPECT_EQ(count, 1) << name;
  EXPECT_GE(declared.size(), 15u);
}

// A daemon scraped again and again reads the CIB only when it changed, and says what a fresh
// exposition says every time.
TEST(Metrics, ARepeatedScrapeReusesTheCibPartUntilTheCibChanges) {
  cib::Cib cib = reference_cib();
  Exposition cached;
  Scrape scrape{&cib, daemon_answer(), std::nullopt, 0};
  const auto first = cached.render(scrape);
  EXPECT_EQ(first.text(), exposition(scrape));
  scrape.daemon["totem"]["rings_installed"] = 4;  // the daemon's part is always fresh
  const auto again = cached.render(scrape);
  EXPECT_EQ(again.text(), exposition(scrape));
  EXPECT_EQ(again.cib.get(), first.cib.get());  // kept and shared, not made or copied again
  EXPECT_EQ(again.size(), again.text().size());
  // A committed change has a new version: its series are read again.
  cib.root().attribute("epoch") = cib.root().attribute("epoch").as_int() + 1;
  cib.configuration()
      .child("crm_config")
      .child("cluster_property_set")
      .find_child_by_attribute("nvpair", "name", "stonith-enabled")
      .attribute("value") = "true";
  const auto changed = cached.render(scrape);
  EXPECT_NE(changed.cib.get(), first.cib.get());
  EXPECT_NE(changed.text().find("ha_cluster_pacemaker_stonith_enabled 1\n"), std::string::npos);
  // So is a node leaving the membership.
  scrape.daemon["nodes"][1]["online"] = false;
  EXPECT_EQ(cached.render(scrape).text(), exposition(scrape));
  EXPECT_EQ(cached.render(scrape).text().find("node=\"node2\",type=\"member\",status=\"online\""),
            std::string::npos);
}

TEST(Http, RequestHeadsAreReadWholeOrRefused) {
  using Outcome = ParsedRequest::Outcome;
  auto ok = parse_request("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(ok.outcome, Outcome::Complete);
  EXPECT_EQ(ok.request.method, "GET");
  EXPECT_EQ(ok.request.path, "/metrics");
  EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nHost: a\r\n").outcome, Outcome::Incomplete);
  for (const char* bad : {"GET  /metrics HTTP/1.1\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
                          "GET /metrics HTTP/2\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                          "GET /a\x01 HTTP/1.1\r\n\r\n", "\r\n\r\n"}) {
    EXPECT_EQ(parse_request(bad).outcome, Outcome::Malformed) << bad;
  }
  EXPECT_EQ(parse_request(std::string(kMaxRequestHead, 'a')).outcome, Outcome::TooLarge);
  const std::string response = http_response(200, "text/plain", "hello");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(response.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(response.substr(response.size() - 9), "\r\n\r\nhello");
}

// The status page's actions are POSTs with credentials and a JSON body.
TEST(Http, HeaderFieldsAndABodyOfContentLengthBytesAreRead) {
  using Outcome = ParsedRequest::Outcome;
  const std::string head =
      "POST /actions HTTP/1.1\r\nHost: a:1\r\nX-Vigil-Action:  1 \r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(parse_request(head).outcome, Outcome::Incomplete);
  EXPECT_EQ(parse_request(head + "{\"a\"").outcome, Outcome::Incomplete);
  auto ok = parse_request(head + "{\"a\"}");
  ASSERT_EQ(ok.outcome, Outcome::Complete) << ok.reason;
  EXPECT_EQ(ok.request.body, "{\"a\"}");
  ASSERT_NE(ok.request.header("x-vigil-action"), nullptr);
  EXPECT_EQ(*ok.request.header("x-vigil-action"), "1");
  EXPECT_EQ(*ok.request.header("host"), "a:1");
  EXPECT_EQ(ok.request.header("authorization"), nullptr);
  for (const char* bad : {"POST / HTTP/1.1\r\nNoColon\r\n\r\n", "POST / HTTP/1.1\r\n: x\r\n\r\n",
                          "POST / HTTP/1.1\r\nA b: x\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                          "POST / HTTP/1.1\r\nA: x\x01\r\n\r\n"}) {
    EXPECT_EQ(parse_request(bad).outcome, Outcome::Malformed) << bad;
  }
  EXPECT_EQ(parse_request("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n").outcome,
            Outcome::BodyTooLarge);
  const auto challenge = http_response(401, "text/plain", "log in\n", "WWW-Authenticate: Basic\r\n");
  EXPECT_EQ(challenge.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u);
  EXPECT_NE(challenge.find("\r\nWWW-Authenticate: Basic\r\n"), std::string::npos);
  EXPECT_NE(http_response(405, "text/plain", "", "Allow: POST\r\n").find("Allow: POST"),
            std::string::npos);
  EXPECT_EQ(http_response(405, "text/plain", "", "Allow: POST\r\n").find("Allow: GET"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::metrics
