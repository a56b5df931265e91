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

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

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

}  // namespace
}  // namespace vigil::cli
