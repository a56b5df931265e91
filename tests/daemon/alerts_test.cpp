// Alerts on three real vigild: Debian's sample agent alert_file.sh.sample from Pacemaker, copied
// unchanged, records a failover in its recipient file as it does under Pacemaker (the stop and
// start of a standby move, the lost node, the start on a survivor); an agent that fails and one
// that hangs are logged with their alert, recipient and exit code, and hold nothing back.
#include <gtest/gtest.h>

#include <cctype>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSample = "/usr/share/pacemaker/alerts/alert_file.sh.sample";

class AlertCluster {
 public:
  explicit AlertCluster(const std::string& name)
      : cluster_(ClusterSpec{}, name), ocf_(cluster_.dir() / "ocf") {
    agent("broken.sh", "#!/bin/sh\necho \"no route to $CRM_alert_recipient\" >&2\nexit 3\n");
    agent("hangs.sh", "#!/bin/sh\nsleep 60\n");
  }
  ~AlertCluster() {
    for (int n = 1; n <= 3; ++n) cluster_.kill_now(n);
  }

  TestCluster& nodes() { return cluster_; }
  fs::path sample() const { return cluster_.dir() / "alert_file.sh"; }
  fs::path recipient() const { return cluster_.dir() / "alerts.log"; }

  void agent(const std::string& name, const std::string& text) {
    std::ofstream(cluster_.dir() / name) << text;
    fs::permissions(cluster_.dir() / name, fs::perms::owner_all);
  }

  bool start_all() {
    for (int n = 1; n <= 3; ++n) cluster_.start(n);
    return cluster_ready(cluster_, 3);
  }

  // `vigil ARGS` against node n, retried while a status update races its commit.
  int vigil(int n, const std::string& args, const std::string& input = "") {
    const std::string feed = input.empty() ? "" : "printf '%s' '" + input + "' | ";
    const std::string command = feed + "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH +
                                " " + args + " 2>&1; echo \"rc=$?\"";
    for (int i = 0; i < 10; ++i) {
      last_ = capture(command);
      const auto at = last_.rfind("rc=");
      const int rc = at == std::string::npos ? -1 : std::atoi(last_.c_str() + at + 3);
      if (rc == 0 || last_.find("made against version") == std::string::npos) return rc;
    }
    return -1;
  }
  const std::string& output() const { return last_; }

  // The node whose agent state says the vip runs there (0: none, -1: several).
  int vip_node() const {
    int found = 0;
    for (int n = 1; n <= 3; ++n) {
      if (fs::exists(cluster_.dir() / ("run" + std::to_string(n)) / "rsctmp" /
                     "vigil-vip-vip.state"))
        found = found == 0 ? n : -1;
    }
    return found;
  }

  std::string recorded() const {
    std::ifstream in(recipient());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool recorded(const std::string& line) const {
    return recorded().find(line) != std::string::npos;
  }
  std::string logs() const {
    std::string all = "---- " + recipient().string() + "\n" + recorded();
    for (int n = 1; n <= 3; ++n) all += "---- n" + std::to_string(n) + "\n" + cluster_.log_text(n);
    return all;
  }

 private:
  TestCluster cluster_;
  VigilOcfRoot ocf_;
  std::string last_;
};

// "HH:MM:SS.uuuuuu: Node …" or "…: Resource …".
bool stamped(const std::string& line) {
  const std::string shape = "dd:dd:dd.dddddd: ";
  if (line.size() < shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(line[i])) != 0;
    if (shape[i] == 'd' ? !digit : line[i] != shape[i]) return false;
  }
  const std::string rest = line.substr(shape.size());
  return rest.starts_with("Node ") || rest.starts_with("Resource ");
}

std::string op_line(const std::string& task, int node) {
  return "Resource operation '" + task + "' for 'vip' on 'n" + std::to_string(node) + "': OK";
}

TEST(Alerts, TheSampleFileAgentRecordsAFailoverAndFailingAgentsAreLogged) {
  if (!fs::exists(kSample)) GTEST_FAIL() << kSample << " is missing: scripts/setup.sh installs it";
  AlertCluster c("alerts");
  fs::copy_file(kSample, c.sample());
  fs::permissions(c.sample(), fs::perms::owner_all);
  ASSERT_TRUE(c.start_all()) << c.logs();
  const std::string dir = c.nodes().dir().string();
  const std::string config =
      "property stonith-enabled=false no-quorum-policy=stop\n"
      "primitive vip ocf:vigil:vip params ip=127.0.0.10 op monitor interval=10s timeout=20s\n"
      "alert file " +
      c.sample().string() + " to " + c.recipient().string() + "\n" + "alert broken " + dir +
      "/broken.sh select resources to nowhere\n" + "alert hangs " + dir +
      "/hangs.sh meta timeout=1s select resources\n";
  ASSERT_EQ(c.vigil(1, "configure", config), 0) << c.output();

  int first = 0;
  ASSERT_TRUE(eventually(
      [&] {
        first = c.vip_node();
        return first > 0 && c.recorded(op_line("start", first));
      },
      40s))
      << c.logs();
  // The first result of the recurring monitor is news too (in milliseconds, as Pacemaker).
  EXPECT_TRUE(eventually(
      [&] {
        return c.recorded("Resource operation 'monitor (10000)' for 'vip' on 'n" +
                          std::to_string(first) + "': OK");
      },
      20s))
      << c.logs();

  // Standby moves it: the stop on its node and the start on another are recorded.
  ASSERT_EQ(c.vigil(1, "node standby n" + std::to_string(first)), 0) << c.output();
  int second = 0;
  ASSERT_TRUE(eventually(
      [&] {
        second = c.vip_node();
        return second > 0 && second != first && c.recorded(op_line("stop", first)) &&
               c.recorded(op_line("start", second));
      },
      40s))
      << c.logs();

  // Power loss of its node: the survivors record it lost, and the vip starts on the third.
  c.nodes().signal(second, SIGKILL);
  c.nodes().reap(second);
  const int third = 6 - first - second;
  const std::string lost = "Node 'n" + std::to_string(second) + "' is now 'lost'";
  ASSERT_TRUE(
      eventually([&] { return c.recorded(lost) && c.recorded(op_line("start", third)); }, 40s))
      << c.logs();
  // Each line as the sample writes it, after the default timestamp-format.
  std::istringstream lines(c.recorded());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) EXPECT_TRUE(stamped(line)) << line;
  EXPECT_GE(count, 6);
  // Both survivors saw the loss.
  const std::string all = c.recorded();
  EXPECT_NE(all.find(lost), all.rfind(lost)) << all;

  // The failing and the hanging agent are in the logs of the node that ran the operation, with
  // alert, recipient and what happened, and held no operation back.
  // The hanging one ends at its 1 s timeout, which a fast failover may not have waited for.
  const auto logged = [&](const std::string& line) {
    return eventually([&] { return c.nodes().log_text(first).find(line) != std::string::npos; },
                      10s);
  };
  EXPECT_TRUE(logged("alert broken to nowhere exited with code 3: no route to nowhere"))
      << c.nodes().log_text(first);
  EXPECT_TRUE(logged("alert hangs to (no recipient) timed out after 1000 ms"))
      << c.nodes().log_text(first);
}

}  // namespace
}  // namespace vigil::test
