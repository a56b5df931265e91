// `vigild --http`: three real vigild on 127.0.0.1-3 serve /metrics, and every series a dashboard
// reads matches what `vigil status --output-as json` says of the same cluster at the same moment
// (nodes, DC, quorum, the resource and where it runs). The listener answers nonsense with 400,
// unknown paths with 404, and vigild keeps running through both.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "cluster.h"
#include "http_client.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

class MetricsCluster {
 public:
  explicit MetricsCluster(const std::string& name)
      : cluster_(spec(), name), ocf_(cluster_.dir() / "ocf") {}
  ~MetricsCluster() {
    for (int n = 1; n <= 3; ++n) cluster_.kill_now(n);
  }
  TestCluster& nodes() { return cluster_; }

  // The HTTP port: TCP, so the totem port's number is free for it on each node's address.
  ClusterSpec spec() {
    ClusterSpec s;
    s.vigild_args = [this](int n) {
      return std::vector<std::string>{
          "--http", "127.0.0." + std::to_string(n) + ":" + std::to_string(port())};
    };
    return s;
  }
  int port() const { return cluster_.port(); }

  bool start_all() {
    for (int n = 1; n <= 3; ++n) cluster_.start(n);
    return cluster_ready(cluster_, 3);
  }

  std::string vigil(int n, const std::string& args, const std::string& input = "") {
    const std::string feed = input.empty() ? "" : "printf '%s' '" + input + "' | ";
    return capture(feed + "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH + " " + args +
                   " 2>&1");
  }

  // One request over a fresh connection; the whole response.
  std::string http(int n, const std::string& request) {
    return http_exchange("127.0.0." + std::to_string(n), port(), request);
  }
  std::string scrape(int n) { return http(n, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); }

 private:
  TestCluster cluster_;
  VigilOcfRoot ocf_;
};

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, ScrapeMatchesStatusOnAThreeNodeCluster) {
  MetricsCluster c("metrics");
  ASSERT_TRUE(c.start_all()) << c.nodes().log_text(1);
  const std::string configured =
      c.vigil(1, "configure",
              "property stonith-enabled=false\n"
              "primitive vip ocf:vigil:vip params ip=127.0.0.10 op monitor interval=10s\n");
  // The resource runs somewhere, as status says.
  Json status;
  ASSERT_TRUE(eventually(
      [&] {
        auto parsed = Json::parse(c.vigil(2, "status --output-as json"), nullptr, false);
        if (parsed.is_discarded() || parsed["resources"].empty()) return false;
        status = parsed;
        return parsed["resources"][0].value("active", false);
      },
      30s))
      << configured << c.vigil(2, "status");
  const std::string where = status["resources"][0]["nodes"][0];

  for (int n = 1; n <= 3; ++n) {
    const std::string text = c.scrape(n);
    ASSERT_EQ(text.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << text;
    EXPECT_NE(text.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_TRUE(has(text, "ha_cluster_pacemaker_stonith_enabled 0")) << text;
    for (const auto& node : status["nodes"]) {
      const std::string name = node["name"];
      EXPECT_EQ(has(text, "ha_cluster_pacemaker_nodes{node=\"" + name +
                              "\",type=\"member\",status=\"online\"} 1"),
                node["online"].get<bool>())
          << name << "\n"
          << text;
      EXPECT_EQ(has(text, "ha_cluster_pacemaker_nodes{node=\"" + name +
                              "\",type=\"member\",status=\"dc\"} 1"),
                node["is_dc"].get<bool>())
          << name << "\n"
          << text;
    }
    EXPECT_TRUE(has(text, "ha_cluster_pacemaker_resources{node=\"" + where +
                              "\",resource=\"vip\",role=\"started\",managed=\"true\",status="
                              "\"active\"} 1"))
        << text;
    EXPECT_TRUE(
        has(text, "ha_cluster_pacemaker_fail_count{node=\"" + where + "\",resource=\"vip\"} 0"))
        << text;
    EXPECT_TRUE(has(text, "ha_cluster_corosync_quorate 1")) << text;
    EXPECT_TRUE(has(text, "ha_cluster_corosync_quorum_votes{type=\"expected_votes\"} 3")) << text;
    EXPECT_TRUE(has(text, "ha_cluster_corosync_member_votes{node_id=\"" + std::to_string(n) +
                              "\",node=\"n" + std::to_string(n) + "\",local=\"true\"} 1"))
        << text;
    EXPECT_TRUE(has(text, "ha_cluster_corosync_ring_errors 0")) << text;
    // The node running vip started it once; every node probed it (a monitor without interval).
    if (where == "n" + std::to_string(n)) {
      EXPECT_TRUE(has(text, "vigil_actions_total{operation=\"start\",result=\"ok\"} 1")) << text;
    }
    EXPECT_NE(text.find("\nvigil_actions_total{operation=\"monitor\",result=\"not running\"} "),
              std::string::npos)
        << text;
    // Each peer's link is pinged (every token / 4) and answered.
    for (int peer = 1; peer <= 3; ++peer) {
      if (peer == n) continue;
      const std::string labels = "{node_id=\"" + std::to_string(peer) + "\",node=\"n" +
                                 std::to_string(peer) + "\",link=\"0\"}";
      EXPECT_NE(text.find("\nvigil_link_round_trip_seconds" + labels + " "), std::string::npos)
          << text;
      // Pings sent before the peer started were lost; the peer answers now.
      const auto loss = text.find("\nvigil_link_loss_ratio" + labels + " ");
      ASSERT_NE(loss, std::string::npos) << text;
      EXPECT_LT(std::stod(text.substr(text.find(' ', loss + 1) + 1)), 1.0) << text;
    }
  }

  // Nonsense and unknown paths are answered, and vigild carries on.
  EXPECT_EQ(c.http(1, "BLAH\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(c.http(1, "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_EQ(c.http(1, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
  EXPECT_EQ(c.http(1, std::string(9000, 'G')).rfind("HTTP/1.1 431 ", 0), 0u);
  EXPECT_EQ(c.scrape(1).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_TRUE(c.nodes().status(1).ok());
}

// The value of one sample ("name value" at the start of a line), or -1 when the text has none.
double sample(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

// Where `vip` runs, as `vigil status` on node n says; "" while it runs nowhere.
std::string where_vip(MetricsCluster& c, int n) {
  auto parsed = Json::parse(c.vigil(n, "status --output-as json"), nullptr, false);
  if (parsed.is_discarded() || parsed["resources"].empty() ||
      !parsed["resources"][0].value("active", false))
    return "";
  return parsed["resources"][0]["nodes"][0];
}

// A node that runs the resource is killed: the survivors time how long they took to notice and
// how long the resource was down, and their /metrics show it as histograms.
TEST(Metrics, AFailoverIsTimedInTheSurvivorsHistograms) {
  MetricsCluster c("metrics-failover");
  ASSERT_TRUE(c.start_all()) << c.nodes().log_text(1);
  c.vigil(1, "configure",
          "property stonith-enabled=false\n"
          "primitive vip ocf:vigil:vip params ip=127.0.0.10 op monitor interval=10s\n");
  std::string before;
  ASSERT_TRUE(eventually([&] { return !(before = where_vip(c, 1)).empty(); }, 30s))
      << c.vigil(1, "status");
  const int victim = before.back() - '0';
  const int survivor = victim == 1 ? 2 : 1;
  const std::string ahead = c.scrape(survivor);
  EXPECT_EQ(sample(ahead, "vigil_failover_seconds_count"), 0) << ahead;
  EXPECT_EQ(sample(ahead, "vigil_failure_detection_seconds_count"), 0) << ahead;

  c.nodes().kill_now(victim);
  std::string after;
  ASSERT_TRUE(eventually(
      [&] {
        after = where_vip(c, survivor);
        return !after.empty() && after != before;
      },
      60s))
      << c.vigil(survivor, "status");
  std::string text;
  ASSERT_TRUE(eventually(
      [&] {
        text = c.scrape(survivor);
        return sample(text, "vigil_failover_seconds_count") == 1;
      },
      10s))
      << text;
  EXPECT_TRUE(has(text, "# TYPE vigil_failover_seconds histogram")) << text;
  EXPECT_EQ(sample(text, "vigil_failover_seconds_bucket{le=\"+Inf\"}"), 1) << text;
  EXPECT_GT(sample(text, "vigil_failover_seconds_sum"), 0) << text;
  EXPECT_EQ(sample(text, "vigil_failure_detection_seconds_count"), 1) << text;
  EXPECT_GT(sample(text, "vigil_failure_detection_seconds_sum"), 0) << text;
  // The failover took at least the detection (both run from when the victim was last heard).
  EXPECT_GE(sample(text, "vigil_failover_seconds_sum"),
            sample(text, "vigil_failure_detection_seconds_sum"))
      << text;
  // Some survivor is the DC now, and it scheduled and ran the recovery.
  double transitions = 0, runs = 0;
  for (int n = 1; n <= 3; ++n) {
    if (n == victim) continue;
    const std::string t = c.scrape(n);
    transitions += sample(t, "vigil_transition_duration_seconds_count");
    runs += sample(t, "vigil_scheduler_run_seconds_count");
  }
  EXPECT_GE(transitions, 1);
  EXPECT_GE(runs, 1);
}

// The listener's address is checked at start: vigild refuses to run rather than run without it,
// and says why — a port out of range, an address that is not one, a port another program holds.
TEST(Metrics, AnUnusableAddressStopsVigildWithTheReason) {
  TestCluster c(ClusterSpec{}, "metrics-bad");
  asio::io_context io;
  asio::ip::tcp::acceptor taken(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string busy = "127.0.0.1:" + std::to_string(taken.local_endpoint().port());
  for (const auto& [http, reason] :
       {std::pair<std::string, std::string>{"127.0.0.1:99999", "the port must be 1 to 65535"},
        {"localhost:9664", "'localhost' is not an IP address"},
        {busy, "--http " + busy + ": "}}) {
    fs::create_directories(c.dir() / "run1");
    const std::string out =
        capture("timeout -s KILL 10 " + std::string(VIGILD_PATH) + " --config " +
                (c.dir() / "corosync.conf").string() + " --node n1 --state-dir " +
                (c.dir() / "state1").string() + " --run-dir " + (c.dir() / "run1").string() +
                " --foreground --http " + http + " 2>&1; echo \"exit $?\"");
    EXPECT_NE(out.find("exit 1"), std::string::npos) << http << ": " << out;
    EXPECT_NE(out.find(reason), std::string::npos) << http << ": " << out;
  }
}

// The config file's http { } is the flags' default: listen opens the listener as --http does, an
// unusable address names the file and line, and a flag given on the command line wins.
TEST(Metrics, TheConfigFilesHttpSectionServesAsTheFlagDoes) {
  ClusterSpec spec;
  spec.own_configs = true;
  TestCluster c(spec, "metrics-conf");
  const std::string listen = "127.0.0.1:" + std::to_string(c.port());
  std::ofstream(c.config_of(1), std::ios::app) << "http {\n  listen: " << listen << "\n}\n";
  c.start(1);
  std::string scraped;
  EXPECT_TRUE(eventually(
      [&] {
        scraped = http_exchange("127.0.0.1", c.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        return scraped.find("\nha_cluster_corosync_quorate ") != std::string::npos;
      },
      10s))
      << scraped << c.log_text(1);

  // A copy of the cluster's file with an http section whose address has no port.
  std::stringstream text;
  text << std::ifstream(c.dir() / "corosync.conf").rdbuf();
  const std::string base = text.str();
  const int line = static_cast<int>(std::count(base.begin(), base.end(), '\n')) + 2;
  const fs::path bad = c.dir() / "bad.conf";
  std::ofstream(bad) << base << "http {\n  listen: 127.0.0.1\n}\n";
  const auto run = [&](const std::string& flags) {
    fs::create_directories(c.dir() / "run2");
    return capture("timeout -s KILL 10 " + std::string(VIGILD_PATH) + " --config " + bad.string() +
                   " --node n2 --state-dir " + (c.dir() / "state2").string() + " --run-dir " +
                   (c.dir() / "run2").string() + " --foreground " + flags +
                   " 2>&1; echo \"exit $?\"");
  };
  std::string out = run("");
  EXPECT_NE(out.find("exit 1"), std::string::npos) << out;
  EXPECT_NE(out.find(bad.string() + ":" + std::to_string(line) +
                     ": http.listen 127.0.0.1: expected ADDRESS:PORT"),
            std::string::npos)
      << out;
  out = run("--http localhost:9664");
  EXPECT_NE(out.find("--http localhost:9664: 'localhost' is not an IP address"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace vigil::test
