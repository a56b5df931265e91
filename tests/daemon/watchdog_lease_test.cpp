// The watchdog lease with real processes: three vigild on loopback, each with a
// vigil-watchdog-emulator as its watchdog (resources { watchdog_device: unix:PATH }). kill -9 of a
// vigild is a close without 'V': its emulator resets; an orderly stop disarms it; a node left
// without quorum stops feeding, and its emulator resets. The settings' refusals at commit give
// the numbers.
#include <fcntl.h>

#include "cluster.h"

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

}  // namespace
}  // namespace vigil::test
