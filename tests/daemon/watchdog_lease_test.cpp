// The watchdog lease with real processes: three vigild on loopback, each with a
// vigil-watchdog-emulator as its watchdog (resources { watchdog_device: unix:PATH }). kill -9 of a
// vigild is a close without 'V': its emulator resets; an orderly stop disarms it; a node left
// without quorum stops feeding, and its emulator resets. The settings' refusals at commit give
// the numbers. The DC counts a killed node as fenced by its watchdog, on /metrics and in its
// journal.
#include <fcntl.h>

#include "cluster.h"
#include "http_client.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

// One emulator per node, started by path and ended by its pid; its output goes to a file.
class Emulators {
 public:
  Emulators(const TestCluster& c, int nodes) : cluster_(c) {
    for (int n = 1; n <= nodes; ++n) {
      const std::string out = output(n);
      const std::string socket = c.watchdog_socket(n);
      const pid_t pid = ::fork();
      if (pid == 0) {
        const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) ::dup2(fd, 1);
        ::execl(WATCHDOG_EMULATOR, WATCHDOG_EMULATOR, "--socket", socket.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
      pids_.push_back(pid);
    }
    for (int n = 1; n <= nodes; ++n)
      EXPECT_TRUE(eventually([&] { return said(n, "listening: "); }, 5s)) << text(n);
  }
  ~Emulators() {
    for (auto pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  std::string text(int n) const {
    std::ifstream in(output(n));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool said(int n, const std::string& words) const {
    return text(n).find(words) != std::string::npos;
  }

 private:
  std::string output(int n) const {
    return (cluster_.dir() / ("emulator" + std::to_string(n) + ".out")).string();
  }
  const TestCluster& cluster_;
  std::vector<pid_t> pids_;
};

std::string lease_of(const TestCluster& c, int node) {
  auto s = c.status(node);
  if (!s.ok() || !(*s)["watchdog"].is_object()) return "";
  return (*s)["watchdog"]["lease"].get<std::string>();
}

Json set_option(const std::string& name, const std::string& value) {
  const std::string xml = "<cluster_property_set id=\"wd\"><nvpair id=\"wd-" + name + "\" name=\"" +
                          name + "\" value=\"" + value + "\"/></cluster_property_set>";
  Json change{{"kind", "create"}, {"address", "/cib/configuration/crm_config"}, {"xml", xml}};
  return Json{{"command", "cib_commit"}, {"op", Json{{"changes", Json::array({change})}}}};
}

bool cib_synced(const TestCluster& c, int node) {
  auto s = c.status(node);
  return s.ok() && s->contains("cib") && (*s)["cib"]["synced"] == true;
}

TEST(WatchdogLease, KillResetsOrderlyStopDisarmsAndQuorumLossStopsFeeding) {
  ClusterSpec spec;
  spec.watchdog_seconds = 1;
  TestCluster c(spec, "wdlease");
  Emulators wd(c, 3);
  for (int n = 1; n <= 3; ++n) c.start(n);
  ASSERT_TRUE(eventually(
      [&] {
        for (int n = 1; n <= 3; ++n)
          if (c.members(n).size() != 3 || lease_of(c, n) != "held") return false;
        return true;
      },
      20s))
      << c.log_text(1);
  for (int n = 1; n <= 3; ++n) EXPECT_TRUE(wd.said(n, "armed: 1000 ms")) << wd.text(n);
  auto s = c.status(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["watchdog"]["timeout_ms"], 1000);

  // The settings' check at commit, with this node's watchdog (token 600, consensus 720).
  ASSERT_TRUE(eventually([&] { return cib_synced(c, 1); }, 20s)) << c.log_text(1);
  auto short_wait = control::request(c.socket(1), set_option("stonith-watchdog-timeout", "1s"),
                                     10000);
  ASSERT_TRUE(short_wait.ok());
  EXPECT_EQ((*short_wait)["error"],
            "cib_commit: stonith-watchdog-timeout=1s (1000 ms) is shorter than "
            "resources.watchdog_timeout (1000 ms) + the lease's margin (312 ms) = 1312 ms: a lost "
            "node could still run its resources when the survivors start them");
  auto ignore = control::request(c.socket(1), set_option("no-quorum-policy", "ignore"), 10000);
  ASSERT_TRUE(ignore.ok());
  EXPECT_NE((*ignore)["error"].get<std::string>().find(
                "no-quorum-policy=ignore cannot hold with a watchdog"),
            std::string::npos)
      << ignore->dump();

  auto accepted =
      control::request(c.socket(1), set_option("stonith-watchdog-timeout", "2s"), 10000);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ((*accepted)["ok"], true) << accepted->dump();

  // kill -9: the socket closes without 'V'.
  c.signal(3, SIGKILL);
  EXPECT_EQ(c.reap(3), 128 + SIGKILL);
  EXPECT_TRUE(eventually([&] { return wd.said(3, "reset: "); }, 5s)) << wd.text(3);
  // The survivors keep quorum, their leases and their watchdogs through the change.
  ASSERT_TRUE(eventually([&] { return c.members(1).size() == 2; }, 20s)) << c.log_text(1);
  std::this_thread::sleep_for(2s);
  for (int n = 1; n <= 2; ++n) {
    EXPECT_EQ(lease_of(c, n), "held") << c.log_text(n);
    EXPECT_FALSE(wd.said(n, "reset: ")) << wd.text(n);
  }
  // They count node 3 as reset once its lease provably ran out.
  EXPECT_TRUE(eventually(
      [&] {
        auto st = c.status(1);
        return st.ok() && (*st)["watchdog"]["reset"] == Json::array({3});
      },
      20s))
      << c.log_text(1);
  // An orderly stop disarms: 'V', then close.
  c.signal(2, SIGTERM);
  EXPECT_EQ(c.reap(2, 30s), 0) << c.log_text(2);
  EXPECT_TRUE(wd.said(2, "closed: orderly")) << wd.text(2);
  EXPECT_FALSE(wd.said(2, "reset: ")) << wd.text(2);

  // Node 1 is alone now, without quorum: it stops feeding, and its watchdog resets it.
  EXPECT_TRUE(eventually([&] { return wd.said(1, "reset: "); }, 20s)) << wd.text(1);
  EXPECT_EQ(lease_of(c, 1), "lost");
  EXPECT_NE(c.log_text(1).find("watchdog lease lost: quorum lost"), std::string::npos)
      << c.log_text(1);
}

// Watchdog fencing reaches the shell as data: the DC counts the killed node's fencing in
// vigil_fencing_total under Pacemaker's name for the device, and its journal names the watchdog,
// in `vigil history` and in the timeline `vigil why` gives of the resource that moved.
TEST(WatchdogLease, TheDcCountsAndJournalsAWatchdogFencing) {
  ClusterSpec spec;
  spec.watchdog_seconds = 1;
  const TestCluster* cluster = nullptr;
  spec.vigild_args = [&cluster](int n) {
    return std::vector<std::string>{
        "--http", "127.0.0." + std::to_string(n) + ":" + std::to_string(cluster->port())};
  };
  TestCluster c(spec, "wdfence");
  cluster = &c;
  VigilOcfRoot ocf(c.dir() / "ocf");
  Emulators wd(c, 3);
  for (int n = 1; n <= 3; ++n) c.start(n);
  ASSERT_TRUE(cluster_ready(c, 3)) << c.log_text(1);
  const auto vigil = [&](int n, const std::string& args, const std::string& input = "") {
    const std::string feed = input.empty() ? "" : "printf '%s' '" + input + "' | ";
    return capture(feed + "VIGIL_SOCKET=" + c.socket(n) + " " + VIGIL_PATH + " " + args + " 2>&1");
  };
  const auto runs_vip = [&](int n) {
    return fs::exists(c.dir() / ("run" + std::to_string(n)) / "rsctmp" / "vigil-vip-vip.state");
  };
  const std::string configured =
      vigil(1, "configure",
            "property stonith-watchdog-timeout=2s\n"
            "primitive vip ocf:vigil:vip params ip=127.0.0.10 op monitor interval=10s\n"
            "location vip-on-n3 vip 100: n3\n");
  // Started there, and the start recorded (the DC's journal has it from the CIB).
  ASSERT_TRUE(eventually(
      [&] {
        return runs_vip(3) &&
               vigil(1, "history --node n3").find("start of vip on n3: ok") != std::string::npos;
      },
      30s))
      << configured << c.log_text(1);

  c.signal(3, SIGKILL);
  EXPECT_EQ(c.reap(3), 128 + SIGKILL);
  ASSERT_TRUE(eventually([&] { return runs_vip(1) || runs_vip(2); }, 30s)) << c.log_text(1);
  auto status = c.status(1);
  ASSERT_TRUE(status.ok());
  const int dc = (*status)["controller"]["dc"]["id"].get<int>();
  ASSERT_NE(dc, 3);

  const std::string metrics =
      http_exchange(c.address(dc), c.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(metrics.find(
                "\nvigil_fencing_total{action=\"reboot\",result=\"ok\",device=\"watchdog\"} 1\n"),
            std::string::npos)
      << metrics;
  const std::string fenced = "n3 was fenced by its watchdog (reboot), counted by the DC n" +
                             std::to_string(dc) + " once its lease had run out";
  const std::string history = vigil(dc, "history --node n3");
  EXPECT_NE(history.find(fenced), std::string::npos) << history << c.log_text(dc);
  const std::string why = vigil(dc, "why vip");
  EXPECT_NE(why.find("n3 was lost at "), std::string::npos) << why;
  EXPECT_NE(why.find(fenced), std::string::npos) << why;
}

}  // namespace
}  // namespace vigil::test
