// vigild's life as an operator and systemd see it: `vigil cluster start|status|stop`, the pid
// file, readiness on $NOTIFY_SOCKET, and SIGHUP reopening a rotated logfile.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

ClusterSpec one_node(const std::string& logging = "") {
  ClusterSpec spec;
  spec.nodes = 1;
  spec.logging_extra = logging;
  return spec;
}

TEST(Lifecycle, ClusterStartStatusStop) {
  TestCluster c(one_node(), "cli");
  const std::string run = (c.dir() / "run1").string(), state = (c.dir() / "state1").string();
  const std::string vigil = std::string(VIGIL_PATH);
  const auto started =
      capture(vigil + " cluster start --config " + (c.dir() / "corosync.conf").string() +
              " --node n1 --state-dir " + state + " --run-dir " + run + " --vigild " + VIGILD_PATH);
  EXPECT_EQ(started, "vigild started\n");
  std::ifstream pid_file(run + "/vigild.pid");
  pid_t pid = 0;
  ASSERT_TRUE(pid_file >> pid) << "pid file";
  const auto status = capture(vigil + " cluster status --run-dir " + run);
  EXPECT_NE(status.find("vigild: running (pid " + std::to_string(pid) + ") as node n1 (id 1)"),
            std::string::npos)
      << status;
  EXPECT_EQ(capture(vigil + " cluster start --run-dir " + run), "vigild is already running\n");
  EXPECT_EQ(capture(vigil + " cluster stop --run-dir " + run), "vigild stopped\n");
  EXPECT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }, 10s));
  EXPECT_FALSE(fs::exists(run + "/vigild.pid"));
  EXPECT_NE(capture(vigil + " cluster status --run-dir " + run).find("vigild: not running"),
            std::string::npos);
  if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);  // only the daemon this test started
}

TEST(Lifecycle, ABadConfigurationFailsTheStart) {
  TestCluster c(one_node(), "badcfg");
  { std::ofstream(c.dir() / "broken.conf") << "totem {\n  token: soon\n"; }
  const auto code =
      std::system((std::string(VIGIL_PATH) + " cluster start --config " +
                   (c.dir() / "broken.conf").string() + " --run-dir " +
                   (c.dir() / "run1").string() + " --vigild " + VIGILD_PATH + " >/dev/null 2>&1")
                      .c_str());
  EXPECT_NE(code, 0);
}

TEST(Lifecycle, ReadinessGoesToNotifySocket) {
  TestCluster c(one_node(), "notify");
  const std::string path = (c.dir() / "notify.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  c.start(1);
  ::unsetenv("NOTIFY_SOCKET");
  std::string got;
  EXPECT_TRUE(eventually(
      [&] {
        char buf[512];
        const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) got.append(buf, static_cast<std::size_t>(n)).append("\n");
        return got.find("READY=1") != std::string::npos;
      },
      10s))
      << got;
  c.signal(1, SIGTERM);
  EXPECT_EQ(c.reap(1), 0);
  got.clear();
  EXPECT_TRUE(eventually(
      [&] {
        char buf[512];
        const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) got.append(buf, static_cast<std::size_t>(n)).append("\n");
        return got.find("STOPPING=1") != std::string::npos;
      },
      5s))
      << got;
  ::close(fd);
}

TEST(Lifecycle, SighupReopensTheLogfile) {
  const fs::path log =
      fs::temp_directory_path() / ("vigil-hup-" + std::to_string(::getpid()) + ".log");
  TestCluster c(one_node("  to_logfile: yes\n  logfile: " + log.string() + "\n"), "hup");
  c.start(1);
  ASSERT_TRUE(eventually([&] { return c.members(1) == std::vector<int>{1}; }, 10s))
      << c.log_text(1);
  ASSERT_TRUE(fs::exists(log));
  fs::rename(log, log.string() + ".1");  // what logrotate does
  c.signal(1, SIGHUP);
  EXPECT_TRUE(eventually([&] { return fs::exists(log); }, 10s));
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("logs reopened on SIGHUP"), std::string::npos) << text.str();
  fs::remove(log);
  fs::remove(log.string() + ".1");
}

}  // namespace
}  // namespace vigil::test
