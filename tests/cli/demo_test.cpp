// `vigil demo` interrupted by Ctrl-C at a few points (before the ring forms, while it configures,
// while the active node is down): it exits promptly with 130, prints no failure that did not
// happen, and leaves no process and no temporary directory behind. The test process is a child
// subreaper, so whatever the demo started and left running becomes its child: only those
// processes are looked at.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/demo.h"

#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// This process's children that still run (zombies are reaped first), by pid.
std::vector<pid_t> live_children() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  std::vector<pid_t> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::istringstream stat(slurp(e.path() / "stat"));
    std::string pid, comm, state;
    pid_t parent = 0;
    // comm is in parentheses and may hold blanks: skip to the last ')'.
    std::string text = stat.str();
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    rest >> state >> parent;
    if (parent == ::getpid() && state != "Z") found.push_back(std::stoi(name));
  }
  return found;
}

class DemoInterrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char pattern[] = "/tmp/vigil-demo-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    out_ = fs::path(pattern) / "out";
  }
  void TearDown() override {
    // Whatever is still ours is a leftover the test reported: end it.
    for (pid_t pid : live_children()) ::kill(pid, SIGKILL);
    for (int i = 0; i < 50 && !live_children().empty(); ++i) std::this_thread::sleep_for(100ms);
    fs::remove_all(out_.parent_path());
  }

  // Starts `vigil demo` in its own process group, as a shell runs it in the foreground, waits
  // (bounded) for `when` in its output and sends SIGINT to the group, as Ctrl-C does.
  void interrupt_when(const std::string& when) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      std::FILE* f = std::fopen(out_.c_str(), "w");
      if (f == nullptr) ::_exit(127);
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
      ::execl(VIGIL_PATH, VIGIL_PATH, "demo", "--token", "1000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    const auto give_up = Clock::now() + 90s;
    while (slurp(out_).find(when) == std::string::npos && Clock::now() < give_up &&
           ::waitpid(pid, nullptr, WNOHANG) == 0) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_NE(slurp(out_).find(when), std::string::npos) << slurp(out_);
    const auto sent = Clock::now();
    ::kill(-pid, SIGINT);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0 && Clock::now() < sent + 20s)
      std::this_thread::sleep_for(20ms);
    took_ = Clock::now() - sent;
    if (::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << "vigil demo still ran 20 s after Ctrl-C:\n" << slurp(out_);
    }
    status_ = status;
    output_ = slurp(out_);
    after_ = output_.substr(output_.find(when));
  }

  void expect_clean_exit() {
    EXPECT_TRUE(WIFEXITED(status_) && WEXITSTATUS(status_) == 130) << status_ << "\n" << output_;
    EXPECT_LT(took_, 15s) << output_;
    // What it printed after Ctrl-C: nothing claims a failure.
    for (const char* lie : {"failed", "did not", "rror", "kept ", "log of n"})
      EXPECT_EQ(after_.find(lie), std::string::npos) << lie << " in:\n" << output_;
    const std::string marker = "a 3-node cluster in ";
    const auto at = output_.find(marker);
    ASSERT_NE(at, std::string::npos) << output_;
    const auto start = at + marker.size();
    const fs::path dir = output_.substr(start, output_.find(' ', start) - start);
    EXPECT_FALSE(fs::exists(dir)) << dir;
    // Bounded: a process the demo ended may take a moment to be gone.
    std::vector<pid_t> left = live_children();
    for (int i = 0; i < 30 && !left.empty(); ++i) {
      std::this_thread::sleep_for(100ms);
      left = live_children();
    }
    for (pid_t pid : left) {
      ADD_FAILURE() << "left running: " << pid << " "
                    << slurp(fs::path("/proc") / std::to_string(pid) / "cmdline");
    }
  }

  fs::path out_;
  int status_ = 0;
  std::string output_, after_;
  Clock::duration took_{};
};

TEST_F(DemoInterrupt, BeforeTheRingForms) {
  interrupt_when("a 3-node cluster in ");
  expect_clean_exit();
}

TEST_F(DemoInterrupt, WhileConfiguring) {
  interrupt_when("$ vigil configure primitive vip");
  expect_clean_exit();
}

TEST_F(DemoInterrupt, WhileTheActiveNodeIsDown) {
  interrupt_when("loses power");
  expect_clean_exit();
}

// What `vigil demo` checks of each vigild it reaped (child_trouble): a child that writes a line
// to its log the way vigild's stderr goes there, then exits as `exit` says or is ended by `signal`.
class ChildTrouble : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-child-trouble-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    log_ = fs::path(pattern) / "n1.log";
  }
  void TearDown() override { fs::remove_all(log_.parent_path()); }

  // Runs `sh -c script` with stdout and stderr into the log; sends `signal` once it wrote its
  // line (0: none); returns its wait status.
  int run(const std::string& script, int signal = 0) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::FILE* f = std::fopen(log_.c_str(), "a");
      if (f == nullptr) ::_exit(127);
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (signal != 0) {
      for (int i = 0; i < 500 && slurp(log_).empty(); ++i) std::this_thread::sleep_for(10ms);
      ::kill(pid, signal);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }
  fs::path log_;
};

TEST_F(ChildTrouble, AUbsanReportIsFoundThoughTheChildExitedZero) {
  const int status = run(
      "echo 'info: ring formed'; echo 'src/x.cpp:12:5: runtime error: signed integer overflow: "
      "2147483647 + 1' >&2; echo 'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior' >&2");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto trouble = child_trouble(status, SIGTERM, log_.string());
  ASSERT_TRUE(trouble);
  EXPECT_NE(trouble->find(log_.string()), std::string::npos) << *trouble;
  EXPECT_NE(trouble->find("src/x.cpp:12:5: runtime error: signed integer overflow"),
            std::string::npos)
      << *trouble;
}

TEST_F(ChildTrouble, AnAsanOrLsanReportNamesItsFirstLine) {
  for (const char* kind : {"AddressSanitizer: heap-use-after-free on address 0x1",
                           "LeakSanitizer: detected memory leaks"}) {
    std::ofstream(log_, std::ios::trunc) << "";
    const int status = run("echo 'info: up'; echo '==42==ERROR: " + std::string(kind) +
                           "' >&2; echo 'more of the report' >&2; exit 1");
    auto trouble = child_trouble(status, SIGTERM, log_.string());
    ASSERT_TRUE(trouble) << kind;
    EXPECT_NE(trouble->find(std::string("==42==ERROR: ") + kind), std::string::npos) << *trouble;
    EXPECT_EQ(trouble->find("more of the report"), std::string::npos) << *trouble;
  }
}

TEST_F(ChildTrouble, AnExitOrSignalNobodySentIsTrouble) {
  auto exited = child_trouble(run("echo 'info: up'; exit 3"), SIGTERM, log_.string());
  ASSERT_TRUE(exited);
  EXPECT_NE(exited->find("exited with status 3; see " + log_.string()), std::string::npos);
  auto aborted = child_trouble(run("echo 'info: up'; kill -ABRT $$"), SIGTERM, log_.string());
  ASSERT_TRUE(aborted);
  EXPECT_NE(aborted->find("died of signal 6"), std::string::npos) << *aborted;
}

TEST_F(ChildTrouble, AChildEndedAsAskedWithACleanLogIsFine) {
  EXPECT_FALSE(child_trouble(run("echo 'info: up'; exit 0"), SIGTERM, log_.string()));
  EXPECT_FALSE(
      child_trouble(run("echo 'info: up'; exec sleep 30", SIGKILL), SIGKILL, log_.string()));
  EXPECT_FALSE(
      child_trouble(run("echo 'info: up'; exec sleep 30", SIGTERM), SIGTERM, log_.string()));
}

}  // namespace
}  // namespace vigil::cli
