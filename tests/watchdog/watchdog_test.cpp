// The watchdog backends (src/daemon/watchdog.h): the unix: backend against the emulator
// (tests/watchdog/emulator), and the Linux backend's refusals. No test opens a real
// /dev/watchdog: it would reset the machine.
#include "daemon/watchdog.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace vigil::daemon {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::Not;

// One emulator run (with --once unless told), its stdout in a file; `reset_marker` exists once
// its reset action has run.
class Emulator {
 public:
  explicit Emulator(bool once = true) {
    char dir_template[] = "/tmp/vigil-wd-XXXXXX";
    VIGIL_ASSERT(::mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    socket_ = dir_ / "wd.sock";
    reset_marker_ = dir_ / "reset";
    const std::string out = dir_ / "out";
    const std::string action = "touch " + reset_marker_.string();
    pid_ = ::fork();
    VIGIL_ASSERT(pid_ >= 0);
    if (pid_ == 0) {
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::execl(WATCHDOG_EMULATOR, WATCHDOG_EMULATOR, "--socket", socket_.c_str(), "--on-reset",
              action.c_str(), once ? "--once" : static_cast<char*>(nullptr),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Bounded: the emulator says it listens right after listen(2).
    for (int i = 0; i < 500 && output().find("listening:") == std::string::npos; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  ~Emulator() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  std::string spec() const { return "unix:" + socket_.string(); }
  const fs::path& socket() const { return socket_; }
  bool reset_ran() const { return fs::exists(reset_marker_); }
  std::string output() const {
    std::ifstream in(dir_ / "out");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The exit code, or nullopt while it still runs after `within`.
  std::optional<int> wait(milliseconds within) {
    const auto until = steady_clock::now() + within;
    while (!exit_code_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      } else if (steady_clock::now() >= until) {
        return std::nullopt;
      } else {
        std::this_thread::sleep_for(milliseconds(5));
      }
    }
    return exit_code_;
  }
  void kill() {
    ::kill(pid_, SIGKILL);
    wait(milliseconds(5000));
  }

 private:
  fs::path dir_, socket_, reset_marker_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

Watchdog open_or_fail(const std::string& spec, Millis timeout) {
  auto watchdog = Watchdog::open(spec, timeout);
  VIGIL_ASSERT(watchdog.ok());
  return std::move(*watchdog);
}

TEST(WatchdogUnix, KeepalivesKeepTheEmulatorQuietAndVClosesInOrder) {
  Emulator emulator;
  auto watchdog = open_or_fail(emulator.spec(), 300);
  EXPECT_EQ(watchdog.timeout(), 300);
  // 8 × 40 ms: longer than the timeout in all, never a gap near it.
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(milliseconds(40));
    ASSERT_TRUE(watchdog.keepalive().ok());
  }
  EXPECT_EQ(emulator.wait(milliseconds(0)), std::nullopt) << emulator.output();
  ASSERT_TRUE(watchdog.close().ok());
  EXPECT_EQ(emulator.wait(milliseconds(5000)), 0);
  EXPECT_THAT(emulator.output(), HasSubstr("armed: 300 ms\nclosed: orderly\n"));
  EXPECT_THAT(emulator.output(), Not(HasSubstr("reset")));
  EXPECT_FALSE(emulator.reset_ran());
}

TEST(WatchdogUnix, SilencePastTheTimeoutResets) {
  Emulator emulator;
  const auto opened = steady_clock::now();
  auto watchdog = open_or_fail(emulator.spec(), 150);
  EXPECT_EQ(emulator.wait(milliseconds(5000)), 1);
  EXPECT_GE(steady_clock::now() - opened, milliseconds(150));
  EXPECT_THAT(emulator.output(), HasSubstr("reset: no keepalive within 150 ms\n"));
  EXPECT_TRUE(emulator.reset_ran());
}

TEST(WatchdogUnix, CloseWithoutVResetsOneTimeoutAfterTheClose) {
  Emulator emulator;
  steady_clock::time_point closed;
  {
    auto watchdog = open_or_fail(emulator.spec(), 400);
    ASSERT_TRUE(watchdog.keepalive().ok());
    closed = steady_clock::now();
  }
  // A device stays armed after a close without 'V': no reset before its timer runs out.
  EXPECT_EQ(emulator.wait(milliseconds(5000)), 1);
  EXPECT_GE(steady_clock::now() - closed, milliseconds(400));
  EXPECT_THAT(emulator.output(),
              HasSubstr("reset: closed without V, then no keepalive within 400 ms\n"));
  EXPECT_TRUE(emulator.reset_ran());
}

TEST(WatchdogUnix, CloseWithVDoesNotReset) {
  Emulator emulator;
  auto watchdog = open_or_fail(emulator.spec(), 200);
  ASSERT_TRUE(watchdog.close().ok());
  EXPECT_EQ(emulator.wait(milliseconds(5000)), 0);
  EXPECT_THAT(emulator.output(), HasSubstr("closed: orderly\n"));
  EXPECT_FALSE(emulator.reset_ran());
}

TEST(WatchdogUnix, KeepaliveToAVanishedEmulatorFailsNamingTheSocket) {
  Emulator emulator;
  auto watchdog = open_or_fail(emulator.spec(), 60'000);
  emulator.kill();
  const auto fed = watchdog.keepalive();
  ASSERT_FALSE(fed.ok());
  EXPECT_THAT(fed.error().message, HasSubstr(emulator.spec() + ": keepalive: "));
}

TEST(WatchdogUnix, NoListenerFailsNamingTheSocket) {
  Emulator emulator;
  emulator.kill();
  const auto opened = Watchdog::open(emulator.spec(), 150);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr(emulator.spec() + ": cannot connect: "));
}

// A client speaking raw bytes, for what Watchdog never sends.
int connect_raw(const fs::path& socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
  VIGIL_ASSERT(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

TEST(WatchdogEmulator, RefusesAMalformedFirstLineWithoutReset) {
  Emulator emulator;
  const int fd = connect_raw(emulator.socket());
  ASSERT_EQ(::send(fd, "T12x\nk", 6, MSG_NOSIGNAL), 6);
  EXPECT_EQ(emulator.wait(milliseconds(5000)), 3);
  ::close(fd);
  EXPECT_THAT(emulator.output(), HasSubstr("refused: first line 'T12x' is not T<milliseconds>"));
  EXPECT_FALSE(emulator.reset_ran());
}

TEST(WatchdogEmulator, AnUnknownByteResets) {
  Emulator emulator;
  const int fd = connect_raw(emulator.socket());
  ASSERT_EQ(::send(fd, "T60000\nkx", 9, MSG_NOSIGNAL), 9);
  EXPECT_EQ(emulator.wait(milliseconds(5000)), 1);
  ::close(fd);
  EXPECT_THAT(emulator.output(), HasSubstr("armed: 60000 ms\nreset: unexpected byte 0x78\n"));
  EXPECT_TRUE(emulator.reset_ran());
}

// Without --once it serves one client after another, as the harness needs across vigild restarts.
TEST(WatchdogEmulator, ServesTheNextClientAfterAnOrderlyClose) {
  Emulator emulator(/*once=*/false);
  ASSERT_TRUE(open_or_fail(emulator.spec(), 60'000).close().ok());
  auto second = open_or_fail(emulator.spec(), 100);
  // Bounded: the second client's silence resets within its 100 ms.
  for (int i = 0; i < 500 && !emulator.reset_ran(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(emulator.reset_ran());
  EXPECT_EQ(emulator.wait(milliseconds(0)), std::nullopt);
  EXPECT_THAT(emulator.output(), HasSubstr("armed: 60000 ms\nclosed: orderly\narmed: 100 ms\n"
                                           "reset: no keepalive within 100 ms\n"));
}

TEST(WatchdogDevice, AFileThatIsNoWatchdogIsRefusedNamingIt) {
  char path[] = "/tmp/vigil-wd-file-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  for (const std::string& device : {std::string{path}, std::string{"/dev/null"}}) {
    const auto opened = Watchdog::open(device, 1000);
    ASSERT_FALSE(opened.ok()) << device;
    EXPECT_THAT(opened.error().message,
                HasSubstr("watchdog " + device + ": not a watchdog device (WDIOC_GETSUPPORT: "));
  }
  EXPECT_EQ(fs::file_size(path), 0U);  // nothing written to what is not a watchdog
  ::unlink(path);
  const auto missing = Watchdog::open("/nonexistent/watchdog", 1000);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("watchdog /nonexistent/watchdog: cannot open: "));
}

TEST(WatchdogDevice, SpecsParseIntoTheirBackend) {
  const auto device = parse_watchdog_device("/dev/watchdog0");
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->kind, WatchdogDevice::Kind::linux_device);
  EXPECT_EQ(device->path, "/dev/watchdog0");
  const auto socket = parse_watchdog_device("unix:/run/x.sock");
  ASSERT_TRUE(socket.ok());
  EXPECT_EQ(socket->kind, WatchdogDevice::Kind::unix_socket);
  EXPECT_EQ(socket->path, "/run/x.sock");

  EXPECT_THAT(parse_watchdog_device("watchdog").error().message,
              HasSubstr("'watchdog': expected an absolute device path"));
  EXPECT_THAT(parse_watchdog_device("").error().message,
              HasSubstr("'': expected an absolute device path"));
  EXPECT_THAT(parse_watchdog_device("unix:").error().message, HasSubstr("'unix:': no socket path"));
  EXPECT_THAT(parse_watchdog_device("unix:/" + std::string(200, 'x')).error().message,
              HasSubstr("the socket path is longer than 107 bytes"));
  EXPECT_THAT(Watchdog::open("unix:/run/x.sock", 0).error().message,
              HasSubstr("unix:/run/x.sock: the timeout must be positive, not 0 ms"));
}

}  // namespace
}  // namespace vigil::daemon
