// The controller across three real vigild on 127.0.0.1-3 with vigil's own agents (ocf:vigil:vip
// and ocf:vigil:webserver, which really serves HTTP): the guide's group starts on one node, a
// killed web server is restarted in place, past migration-threshold the group moves, standby
// moves it, kill -9 of its node moves it to a survivor, and a DC killed mid-transition leaves
// a finished transition without a second start.
#include <gtest/gtest.h>

#include <asio.hpp>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kVip = "127.0.0.10";

// An OCF root holding vigil's provider (and Debian's shell library), and the PATH that finds
// vigil-webserver; vigild inherits both.
class ControllerCluster {
 public:
  ControllerCluster(const std::string& name) : cluster_(spec(), name) {
    const auto ocf = cluster_.dir() / "ocf";
    fs::create_directories(ocf / "resource.d");
    std::error_code ec;
    fs::create_directory_symlink("/usr/lib/ocf/lib", ocf / "lib", ec);
    fs::create_directory_symlink(fs::path(VIGIL_SOURCE_DIR) / "agents" / "ocf" / "vigil",
                                 ocf / "resource.d" / "vigil", ec);
    ::setenv("VIGIL_OCF_ROOT", ocf.c_str(), 1);
    const std::string path = fs::path(VIGIL_WEBSERVER).parent_path().string() + ":" +
                             (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    ::setenv("PATH", path.c_str(), 1);
    port_ = cluster_.port() + 7;
  }
  ~ControllerCluster() {
    for (int n = 1; n <= 3; ++n) kill_webserver(n);
    ::unsetenv("VIGIL_OCF_ROOT");
  }

  static ClusterSpec spec() {
    ClusterSpec s;
    s.nodes = 3;
    return s;
  }

  TestCluster& nodes() { return cluster_; }
  int port() const { return port_; }

  // False when this vigild hosts no controller service (src/daemon/services.cpp decides).
  bool has_controller() {
    cluster_.start(1);
    bool found = false;
    eventually(
        [&] {
          auto s = cluster_.status(1);
          found = s.ok() && s->contains("controller");
          return s.ok();
        },
        10s);
    return found;
  }

  bool start_all() {
    for (int n = 2; n <= 3; ++n) cluster_.start(n);
    return eventually(
        [&] {
          for (int n = 1; n <= 3; ++n) {
            auto s = cluster_.status(n);
            if (!s.ok() || (*s)["ring"]["members"].size() != 3 ||
                !(*s)["cib"].value("synced", false) || (*s)["cib"].value("members", 0) != 3 ||
                (*s)["controller"]["dc"].is_null())
              return false;
          }
          return true;
        },
        30s);
  }

  // `vigil ARGS` against node n's daemon; the exit code, the output in `out`.
  // The CLI commits a diff against the version it read; a status update that lands in between
  // (the controller's results) makes it refuse, so it reads again and retries.
  int vigil(int n, const std::string& args, std::string* out = nullptr) {
    std::string text;
    int rc = vigil_once(n, args, &text);
    for (int i = 0; i < 10 && rc != 0 && text.find("made against version") != std::string::npos;
         ++i)
      rc = vigil_once(n, args, &text);
    if (out) *out = text;
    return rc;
  }
  int vigil_once(int n, const std::string& args, std::string* out) {
    const std::string command = "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH + " " +
                                args + " 2>&1; echo \"rc=$?\"";
    std::string text = capture(command);
    const auto at = text.rfind("rc=");
    const int rc = at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 3);
    if (out) *out = text.substr(0, at);
    return rc;
  }

  bool configure(int n, const std::string& extra_meta = "") {
    const std::string port = std::to_string(port_);
    for (const std::string& step :
         {std::string("configure property stonith-enabled=false"),
          std::string("configure property no-quorum-policy=stop"),
          "configure primitive vip ocf:vigil:vip params ip=" + std::string(kVip) +
              " op monitor interval=10s timeout=20s",
          "configure primitive httpd ocf:vigil:webserver params ip=" + std::string(kVip) +
              " port=" + port + " op monitor interval=1s timeout=20s",
          "configure group webservice vip httpd" + extra_meta}) {
      std::string out;
      if (vigil(n, step, &out) != 0) {
        ADD_FAILURE() << "vigil " << step << ": " << out;
        return false;
      }
    }
    return true;
  }

  // The node whose run directory holds the pid of a live web server (0: none, -1: several).
  int serving() const {
    int found = 0;
    for (int n = 1; n <= 3; ++n) {
      if (webserver_pid(n) > 0) found = found == 0 ? n : -1;
    }
    return found;
  }
  bool vip_on(int n) const { return fs::exists(run(n) / "rsctmp" / "vigil-vip-vip.state"); }
  long webserver_pid(int n) const {
    std::ifstream in(run(n) / "rsctmp" / "vigil-webserver-httpd.pid");
    long pid = 0;
    if (in >> pid && pid > 1 && ::kill(static_cast<pid_t>(pid), 0) == 0) return pid;
    return 0;
  }
  // Kills node n's web server (a process its agent started and recorded in n's run directory).
  void kill_webserver(int n) {
    if (long pid = webserver_pid(n); pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  bool page_answers() const {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    asio::error_code ec;
    socket.connect({asio::ip::make_address(kVip), static_cast<unsigned short>(port_)}, ec);
    return !ec;
  }
  // Waits until the group runs on exactly one node with both members; that node or 0.
  int settled(std::chrono::milliseconds limit = 40s) {
    int node = 0;
    eventually(
        [&] {
          node = serving();
          return node > 0 && vip_on(node) && page_answers();
        },
        limit);
    return node > 0 && vip_on(node) ? node : 0;
  }
  // Kills node n as a power cut does: its vigild and the server its agent started.
  void power_off(int n) {
    kill_webserver(n);
    cluster_.signal(n, SIGKILL);
    cluster_.reap(n);
  }
  std::string logs() const {
    std::string all;
    for (int n = 1; n <= 3; ++n) {
      auto s = cluster_.status(n);
      if (s.ok()) all += "status of n" + std::to_string(n) + ": " + s->dump() + "\n";
    }
    for (int n = 1; n <= 3; ++n) all += "---- n" + std::to_string(n) + "\n" + cluster_.log_text(n);
    return all;
  }
  int starts_logged(int n, const std::string& rsc) const {
    const std::string text = cluster_.log_text(n);
    const std::string needle = "webserver start of " + rsc;
    int count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++count;
    return count;
  }

 private:
  fs::path run(int n) const { return cluster_.dir() / ("run" + std::to_string(n)); }

  TestCluster cluster_;
  int port_ = 0;
};

// Disabled until two open bugs are found (issue 8's note): after its web server is killed the node's
// recurring monitor reports no change, and the first start on a node sometimes fails with
// "vigil-webserver exited at start". `vigil demo` (tests/demo) covers start and power loss in CI.
TEST(Controller, DISABLED_GroupStartsRestartsInPlaceMovesOnThresholdStandbyAndPowerLoss) {
  ControllerCluster c("ctl-life");
  if (!c.has_controller()) GTEST_SKIP() << "this vigild runs no controller service";
  ASSERT_TRUE(c.start_all()) << c.logs();
  ASSERT_TRUE(c.configure(1));
  const int first = c.settled();
  ASSERT_GT(first, 0) << c.logs();

  // The web server dies: the 1 s monitor notices and the agent restarts it on the same node.
  const long old_pid = c.webserver_pid(first);
  c.kill_webserver(first);
  ASSERT_TRUE(eventually(
      [&] {
        const long pid = c.webserver_pid(first);
        return pid > 0 && pid != old_pid && c.page_answers();
      },
      30s))
      << c.logs();
  EXPECT_EQ(c.serving(), first);

  // With migration-threshold=1 the next failure moves the group away.
  std::string out;
  ASSERT_EQ(c.vigil(1, "configure rsc_defaults migration-threshold=1", &out), 0) << out;
  c.kill_webserver(first);
  ASSERT_TRUE(eventually([&] { return c.serving() > 0 && c.serving() != first; }, 40s)) << c.logs();
  const int second = c.settled();
  ASSERT_GT(second, 0);
  EXPECT_NE(second, first);

  // Standby moves it off its node.
  ASSERT_EQ(c.vigil(1, "node standby n" + std::to_string(second), &out), 0) << out;
  ASSERT_TRUE(eventually([&] { return c.serving() > 0 && c.serving() != second; }, 40s))
      << c.logs();
  const int third = c.settled();
  ASSERT_GT(third, 0);
  EXPECT_NE(third, second);

  // Back online, and the fail counts cleaned up: every node may hold the group again.
  ASSERT_EQ(c.vigil(1, "node online n" + std::to_string(second), &out), 0) << out;
  ASSERT_EQ(c.vigil(1, "resource cleanup httpd", &out), 0) << out;
  const int holder = c.settled();
  ASSERT_GT(holder, 0);

  // Power loss of the node holding it: a survivor takes over.
  c.power_off(holder);
  ASSERT_TRUE(eventually([&] { return c.serving() > 0 && c.serving() != holder; }, 40s))
      << c.logs();
  EXPECT_GT(c.settled(), 0);
}

// Disabled: configured step by step, the group first starts half-way and n2 logs two starts
// before the DC dies, so the count it checks is not yet the one it means (issue 8's note).
TEST(Controller, DISABLED_DcKilledMidTransitionFinishesWithoutASecondStart) {
  ControllerCluster c("ctl-dc");
  if (!c.has_controller()) GTEST_SKIP() << "this vigild runs no controller service";
  ASSERT_TRUE(c.start_all()) << c.logs();
  std::string out;
  // n1 is the DC (lowest node id); the group prefers n2, so n1 dies while n2 starts it.
  ASSERT_TRUE(c.configure(1));
  ASSERT_EQ(c.vigil(1, "configure location prefer-n2 webservice 100: n2", &out), 0) << out;
  ASSERT_TRUE(eventually([&] { return c.vip_on(2); }, 30s)) << c.logs();
  c.power_off(1);
  EXPECT_EQ(c.settled(), 2) << c.logs();
  EXPECT_EQ(c.starts_logged(2, "httpd"), 1) << c.logs();
  EXPECT_EQ(c.starts_logged(3, "httpd"), 0) << c.logs();
}

}  // namespace
}  // namespace vigil::test
