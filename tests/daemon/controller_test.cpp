// The controller across three real vigild on 127.0.0.1-3 with vigil's own agents (ocf:vigil:vip
// and ocf:vigil:webserver, which really serves HTTP): the guide's group starts on one node, a
// killed web server is restarted in place, past migration-threshold the group moves, standby
// moves it, kill -9 of its node moves it to a survivor, and a DC killed mid-transition leaves
// a finished transition without a second start.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <array>
#include <asio.hpp>
#include <iterator>
#include <sstream>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kVip = "127.0.0.10";

// vigil's OCF root (cluster.h), and the PATH that finds vigil-webserver; vigild inherits both.
class ControllerCluster {
 public:
  ControllerCluster(const std::string& name)
      : cluster_(spec(), name), ocf_(cluster_.dir() / "ocf") {
    const std::string path = fs::path(VIGIL_WEBSERVER).parent_path().string() + ":" +
                             (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    ::setenv("PATH", path.c_str(), 1);
    port_ = cluster_.port() + 7;
  }
  ~ControllerCluster() {
    // The daemons first: a monitor could otherwise start a server again after it was killed.
    for (int n = 1; n <= 3; ++n) {
      cluster_.kill_now(n);
      kill_webserver(n);
    }
  }

  static ClusterSpec spec() {
    ClusterSpec s;
    s.nodes = 3;
    return s;
  }

  TestCluster& nodes() { return cluster_; }
  int port() const { return port_; }

  // All three nodes up, in one ring, the CIB synced, and a DC elected.
  bool start_all() {
    for (int n = 1; n <= 3; ++n) cluster_.start(n);
    return cluster_ready(cluster_, 3);
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
  // `input`, when given, is the command's standard input (a configure session's lines).
  int vigil_once(int n, const std::string& args, std::string* out, const std::string& input = "") {
    const std::string feed = input.empty() ? "" : "printf '%s' '" + input + "' | ";
    const std::string command = feed + "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH +
                                " " + args + " 2>&1; echo \"rc=$?\"";
    std::string text = capture(command);
    const auto at = text.rfind("rc=");
    const int rc = at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 3);
    if (out) *out = text.substr(0, at);
    return rc;
  }

  // The guide's group, and `more` configure lines, in one configure session: one commit, so the
  // first transition already sees the whole configuration. `httpd_params` are added to httpd's.
  bool configure(int n, const std::string& more = "", const std::string& httpd_params = "") {
    const std::string lines =
        "property stonith-enabled=false no-quorum-policy=stop\n"
        "primitive vip ocf:vigil:vip params ip=" +
        std::string(kVip) +
        " op monitor interval=10s timeout=20s\n"
        "primitive httpd ocf:vigil:webserver params ip=" +
        std::string(kVip) + " port=" + std::to_string(port_) + httpd_params +
        " op monitor interval=1s timeout=20s\n"
        "group webservice vip httpd\n" +
        more;
    std::string out;
    int rc = vigil_once(n, "configure", &out, lines);
    for (int i = 0; i < 10 && rc != 0 && out.find("made against version") != std::string::npos; ++i)
      rc = vigil_once(n, "configure", &out, lines);
    if (rc != 0) ADD_FAILURE() << "vigil configure: " << out;
    return rc == 0;
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
    if (in >> pid && pid > 1 && running(static_cast<pid_t>(pid))) return pid;
    return 0;
  }
  // Exists and has not exited: an unreaped zombie still answers kill -0. Read with read(2): a
  // process that ends meanwhile fails the read with ESRCH, which std::filebuf throws on.
  static bool running(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    const int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY);
    if (fd < 0) return false;
    std::array<char, 512> buf{};
    const ssize_t got = ::read(fd, buf.data(), buf.size());
    ::close(fd);
    if (got <= 0) return false;
    const std::string text(buf.data(), static_cast<std::size_t>(got));
    const auto paren = text.rfind(") ");
    return paren == std::string::npos || paren + 2 >= text.size() ||
           (text[paren + 2] != 'Z' && text[paren + 2] != 'X');
  }
  // Kills node n's web server (a process its agent started and recorded in n's run directory).
  void kill_webserver(int n) {
    if (long pid = webserver_pid(n); pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  // The page the group's web server serves ("" when none answers).
  std::string page() const {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    asio::error_code ec;
    socket.connect({asio::ip::make_address(kVip), static_cast<unsigned short>(port_)}, ec);
    if (ec) return "";
    asio::write(socket, asio::buffer(std::string("GET / HTTP/1.0\r\n\r\n")), ec);
    std::string text;
    asio::read(socket, asio::dynamic_buffer(text, 4096), ec);  // to the server's close
    return text;
  }
  bool page_answers() const {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    asio::error_code ec;
    socket.connect({asio::ip::make_address(kVip), static_cast<unsigned short>(port_)}, ec);
    return !ec;
  }
  // Waits until the group runs on exactly one node with both members and the DC has had no
  // transition under way for a few polls (a server that answers before its start was recorded
  // is not settled: killed then, its start fails; a change just made may not be scheduled yet);
  // that node or 0.
  int settled(std::chrono::milliseconds limit = 40s) {
    int node = 0, calm = 0;
    eventually(
        [&] {
          const int now = serving();
          const bool up = now > 0 && vip_on(now) && page_answers() && dc_idle();
          calm = up && now == node ? calm + 1 : (up ? 1 : 0);
          node = now;
          return calm >= 4;
        },
        limit);
    return node > 0 && vip_on(node) ? node : 0;
  }
  // The DC (whichever live node says it is) runs no transition.
  bool dc_idle() const {
    for (int n = 1; n <= 3; ++n) {
      auto s = cluster_.status(n);
      if (s.ok() && (*s)["controller"].value("is_dc", false))
        return (*s)["controller"].value("state", "") == "idle";
    }
    return false;
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
  // How many starts of `rsc` node n's executor began ("running ocf:vigil:vip start of vip").
  int starts_logged(int n, const std::string& rsc) const {
    std::istringstream text(cluster_.log_text(n));
    const std::string ending = " start of " + rsc;
    int count = 0;
    for (std::string line; std::getline(text, line);) {
      count += line.find("running ocf:") != std::string::npos && line.size() >= ending.size() &&
               line.compare(line.size() - ending.size(), ending.size(), ending) == 0;
    }
    return count;
  }

 private:
  fs::path run(int n) const { return cluster_.dir() / ("run" + std::to_string(n)); }

  TestCluster cluster_;
  VigilOcfRoot ocf_;
  int port_ = 0;
};

TEST(Controller, GroupStartsRestartsInPlaceMovesOnThresholdStandbyAndPowerLoss) {
  ControllerCluster c("ctl-life");
  ASSERT_TRUE(c.start_all()) << c.logs();
  ASSERT_TRUE(c.configure(1, "rsc_defaults migration-threshold=2 resource-stickiness=100\n"));
  const int first = c.settled();
  ASSERT_GT(first, 0) << c.logs();
  // The agent learns its node's name from OCF_RESKEY_CRM_meta_on_node, as under Pacemaker.
  EXPECT_NE(c.page().find("vigil webserver " + std::string(kVip) + " on n" + std::to_string(first)),
            std::string::npos)
      << c.page();

  // The web server dies: the 1 s monitor notices and the agent restarts it on the same node.
  const long old_pid = c.webserver_pid(first);
  c.kill_webserver(first);
  ASSERT_TRUE(eventually(
      [&] {
        const long pid = c.webserver_pid(first);
        return pid > 0 && pid != old_pid;
      },
      30s))
      << c.logs();
  EXPECT_EQ(c.settled(), first) << c.logs();

  // The second failure reaches migration-threshold=2: the group moves away.
  c.kill_webserver(first);
  ASSERT_TRUE(eventually([&] { return c.serving() > 0 && c.serving() != first; }, 40s)) << c.logs();
  const int second = c.settled();
  ASSERT_GT(second, 0) << c.logs();
  EXPECT_NE(second, first);

  // Standby moves it off its node.
  std::string out;
  ASSERT_EQ(c.vigil(1, "node standby n" + std::to_string(second), &out), 0) << out;
  ASSERT_TRUE(eventually([&] { return c.serving() > 0 && c.serving() != second; }, 40s))
      << c.logs();
  const int third = c.settled();
  ASSERT_GT(third, 0) << c.logs();
  EXPECT_NE(third, second);

  // Back online, and the fail counts cleaned up: every node may hold the group again, and
  // stickiness keeps it where it runs (the cleanup's probes find it there).
  ASSERT_EQ(c.vigil(1, "node online n" + std::to_string(second), &out), 0) << out;
  ASSERT_EQ(c.vigil(1, "resource cleanup httpd", &out), 0) << out;
  const int holder = c.settled();
  ASSERT_EQ(holder, third) << c.logs();

  // Power loss of the node holding it: a survivor takes over.
  c.power_off(holder);
  ASSERT_TRUE(eventually([&] { return c.serving() > 0 && c.serving() != holder; }, 40s))
      << c.logs();
  EXPECT_GT(c.settled(), 0) << c.logs();
}

// n1 is the DC (lowest node id) and the group prefers n2. httpd's start there is slow (op_sleep),
// so n1 can be killed while that start is under way, the transition unfinished. n2, the new DC,
// rebuilds the picture from the CIB status, where the start is recorded as pending: it waits
// for that start's result instead of starting httpd again, anywhere.
TEST(Controller, DcKilledMidTransitionFinishesWithoutASecondStart) {
  ControllerCluster c("ctl-dc");
  ASSERT_TRUE(c.start_all()) << c.logs();
  ASSERT_TRUE(c.configure(1, "location prefer-n2 webservice 100: n2\n", " op_sleep=3"));
  // The start has begun on n2 and runs for 3 s more; the DC's transition waits for it.
  ASSERT_TRUE(eventually([&] { return c.starts_logged(2, "httpd") == 1; }, 30s)) << c.logs();
  auto dc = c.nodes().status(1);
  ASSERT_TRUE(dc.ok());
  EXPECT_EQ((*dc)["controller"]["state"], "running") << dc->dump();
  EXPECT_GT((*dc)["controller"]["actions_in_flight"].get<int>(), 0) << dc->dump();
  EXPECT_EQ(c.serving(), 0);
  c.power_off(1);

  EXPECT_EQ(c.settled(), 2) << c.logs();
  EXPECT_EQ(c.starts_logged(2, "vip"), 1) << c.logs();
  EXPECT_EQ(c.starts_logged(2, "httpd"), 1) << c.logs();
  EXPECT_EQ(c.starts_logged(3, "vip") + c.starts_logged(3, "httpd"), 0) << c.logs();
}

}  // namespace
}  // namespace vigil::test
