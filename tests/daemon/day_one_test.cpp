// What a Pacemaker user meets in the first hour, on three real vigild (127.0.0.1-3) with Debian's
// ocf:heartbeat:Dummy: `op monitor interval=…` without a timeout just works, a monitor failure
// stays listed under "Failed Resource Actions" after the recovery until a cleanup, the log says
// why the cluster acted, and a node whose agent has gone still leaves when asked.
#include <gtest/gtest.h>

#include <sstream>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

const fs::path kDummy = "/usr/lib/ocf/resource.d/heartbeat/Dummy";

// Each node has its own OCF root (agents there can be removed on one node only) holding Debian's
// shell library and its Dummy agent.
class DayOneCluster {
 public:
  explicit DayOneCluster(const std::string& name) : cluster_(ClusterSpec{}, name) {}
  ~DayOneCluster() { ::unsetenv("VIGIL_OCF_ROOT"); }

  TestCluster& nodes() { return cluster_; }

  void start(int n) {
    const auto root = cluster_.dir() / ("ocf" + std::to_string(n));
    fs::create_directories(root / "resource.d" / "heartbeat");
    std::error_code ec;
    fs::create_directory_symlink("/usr/lib/ocf/lib", root / "lib", ec);
    fs::create_symlink(kDummy, agent(n), ec);
    ::setenv("VIGIL_OCF_ROOT", root.c_str(), 1);  // vigild inherits it at its start
    cluster_.start(n);
  }
  fs::path agent(int n) const {
    return cluster_.dir() / ("ocf" + std::to_string(n)) / "resource.d" / "heartbeat" / "Dummy";
  }

  // Starts all three; false when this vigild runs no controller or the cluster did not form.
  bool start_all() {
    for (int n = 1; n <= 3; ++n) start(n);
    return eventually(
        [&] {
          for (int n = 1; n <= 3; ++n) {
            auto s = cluster_.status(n);
            if (!s.ok() || !s->contains("controller") || (*s)["ring"]["members"].size() != 3 ||
                !(*s)["cib"].value("synced", false) || (*s)["controller"]["dc"].is_null())
              return false;
          }
          return true;
        },
        30s);
  }

  // `vigil ARGS` against node n, with `input` on its standard input; the output, and the exit
  // code in `rc`. A commit that met a newer CIB (a status update in between) is tried again.
  std::string vigil(int n, const std::string& args, int* rc = nullptr,
                    const std::string& input = "") {
    std::string text;
    int code = -1;
    for (int i = 0; i < 10; ++i) {
      const std::string command = (input.empty() ? "" : "printf '%s' '" + input + "' | ") +
                                  "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH + " " +
                                  args + " 2>&1; echo \"rc=$?\"";
      text = capture(command);
      const auto at = text.rfind("rc=");
      code = at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 3);
      text = text.substr(0, at);
      if (code == 0 || text.find("made against version") == std::string::npos) break;
    }
    if (rc) *rc = code;
    return text;
  }

  // The node where Dummy's state file says d runs (0 when none, -1 when several).
  int running_on() const {
    int found = 0;
    for (int n = 1; n <= 3; ++n) {
      const auto state = cluster_.dir() / ("run" + std::to_string(n)) / "rsctmp" / "Dummy-d.state";
      if (fs::exists(state)) found = found == 0 ? n : -1;
    }
    return found;
  }
  fs::path state_file(int n) const {
    return cluster_.dir() / ("run" + std::to_string(n)) / "rsctmp" / "Dummy-d.state";
  }

  // d started on one node and its monitor recorded: `vigil status` says so.
  int started() {
    int node = 0;
    eventually(
        [&] {
          node = running_on();
          return node > 0 &&
                 vigil(1, "status").find("Started n" + std::to_string(node)) != std::string::npos;
        },
        30s);
    return node;
  }

  std::string logs() const {
    std::string all;
    for (int n = 1; n <= 3; ++n) all += "---- n" + std::to_string(n) + "\n" + cluster_.log_text(n);
    return all;
  }
  int count_in_logs(const std::string& needle) const {
    int count = 0;
    for (int n = 1; n <= 3; ++n) {
      const std::string text = cluster_.log_text(n);
      for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    }
    return count;
  }

 private:
  TestCluster cluster_;
};

constexpr const char* kDummyConfig =
    "property stonith-enabled=false\n"
    "primitive d ocf:heartbeat:Dummy op monitor interval=1s\n";

// `op monitor interval=1s` with no timeout: the probes and monitors run with 20 s (they ran with
// 0 ms, failed everywhere, and d was banned within seconds). A monitor failure then restarts d,
// and the failure stays listed with crm_mon's words until `vigil resource cleanup d`; the log
// says why d restarted.
TEST(DayOne, DummyWithoutTimeoutRunsAndAFailureStaysListedUntilCleanup) {
  DayOneCluster c("day-one");
  ASSERT_TRUE(c.start_all()) << c.logs();
  int rc = -1;
  std::string out = c.vigil(1, "configure", &rc, kDummyConfig);
  ASSERT_EQ(rc, 0) << out;
  const int node = c.started();
  ASSERT_GT(node, 0) << c.logs();
  std::this_thread::sleep_for(4s);  // a few monitors
  out = c.vigil(1, "status failcounts");
  EXPECT_EQ(out.find("Failed Resource Actions"), std::string::npos) << out << c.logs();
  EXPECT_EQ(out.find("fail-count"), std::string::npos) << out;
  EXPECT_EQ(c.count_in_logs("timed out"), 0) << c.logs();

  // The service dies behind the agent's back: the monitor finds it not running.
  fs::remove(c.state_file(node));
  // crm_mon 2.1.5 writes a 1 s interval as "1000ms" (it shows seconds only above one).
  const std::string failed =
      "d 1000ms-interval monitor on n" + std::to_string(node) + " returned 'not running'";
  ASSERT_TRUE(
      eventually([&] { return c.vigil(1, "status").find(failed) != std::string::npos; }, 20s))
      << c.logs();
  ASSERT_EQ(c.started(), node) << c.logs();
  std::this_thread::sleep_for(3s);  // monitors after the restart succeed; the failure stays
  out = c.vigil(2, "status");
  EXPECT_NE(out.find("Failed Resource Actions:\n  * " + failed), std::string::npos) << out;
  EXPECT_GE(c.count_in_logs("monitor of d on n" + std::to_string(node) + ": not running (7)"), 1)
      << c.logs();
  EXPECT_GE(c.count_in_logs("Recover d (n" + std::to_string(node) +
                            "): its monitor failed (not running)"),
            1)
      << c.logs();

  out = c.vigil(1, "resource cleanup d", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(eventually(
      [&] { return c.vigil(1, "status").find("Failed Resource Actions") == std::string::npos; },
      20s))
      << c.vigil(1, "status");
}

// d's agent is removed from its node, which is then asked to stop (SIGTERM): d cannot be stopped
// there and, without fencing, stays blocked. The DC holds the shutdown back without a transition
// loop (it sent do_shutdown some 20 times a second), and the node leaves at shutdown-escalation,
// logging at error what it left running.
TEST(DayOne, ANodeWhoseAgentIsGoneLeavesAtShutdownEscalation) {
  DayOneCluster c("day-one-gone");
  ASSERT_TRUE(c.start_all()) << c.logs();
  int rc = -1;
  std::string out = c.vigil(1, "configure", &rc,
                            "property stonith-enabled=false shutdown-escalation=10s\n"
                            "primitive d ocf:heartbeat:Dummy op monitor interval=1s timeout=20s\n");
  ASSERT_EQ(rc, 0) << out;
  const int node = c.started();
  ASSERT_GT(node, 0) << c.logs();
  fs::remove(c.agent(node));
  c.nodes().signal(node, SIGTERM);
  EXPECT_EQ(c.nodes().reap(node, 30s), 0) << c.logs();
  const std::string text = c.nodes().log_text(node);
  EXPECT_NE(text.find("shutdown-escalation passed without the DC's acknowledgement: n" +
                      std::to_string(node) + " leaves; d still active"),
            std::string::npos)
      << c.logs();
  EXPECT_LE(c.count_in_logs("acknowledged the shutdown"), 1) << c.logs();
  EXPECT_GE(c.count_in_logs("cannot shut down: the stop of d cannot run"), 1) << c.logs();
  EXPECT_LT(c.count_in_logs("] transition "), 40) << c.logs();
}

}  // namespace
}  // namespace vigil::test
