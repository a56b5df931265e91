// A small cluster of real vigild processes for tests: a temporary directory with a
// corosync.conf, authkeys, one state and run directory per node; processes started by path and
// ended by their own pid only; every wait bounded.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "control/control.h"

namespace vigil::test {

namespace fs = std::filesystem;
using control::Json;

// An OCF root in `dir` holding Debian's shell library and vigil's own provider (ocf:vigil:vip,
// ocf:vigil:webserver); every vigild started while it lives inherits it as VIGIL_OCF_ROOT.
class VigilOcfRoot {
 public:
  explicit VigilOcfRoot(const fs::path& dir) {
    fs::create_directories(dir / "resource.d");
    std::error_code ec;
    fs::create_directory_symlink("/usr/lib/ocf/lib", dir / "lib", ec);
    fs::create_directory_symlink(fs::path(VIGIL_SOURCE_DIR) / "agents" / "ocf" / "vigil",
                                 dir / "resource.d" / "vigil", ec);
    ::setenv("VIGIL_OCF_ROOT", dir.c_str(), 1);
  }
  ~VigilOcfRoot() { ::unsetenv("VIGIL_OCF_ROOT"); }
  VigilOcfRoot(const VigilOcfRoot&) = delete;
  VigilOcfRoot& operator=(const VigilOcfRoot&) = delete;
};

// Polls `done` every 50 ms for at most `limit`.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

inline void write_key(const fs::path& path, unsigned char seed) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 256; ++i) out.put(static_cast<char>(seed * 31 + i * 7));
  out.close();
  ::chmod(path.c_str(), 0400);
}

struct ClusterSpec {
  int nodes = 3;
  std::string quorum = "provider: corosync_votequorum";
  std::string totem_extra;
  std::string logging_extra;
  // More vigild options for node n (1-based), e.g. {"--http", "127.0.0.1:PORT"}.
  std::function<std::vector<std::string>(int node)> vigild_args;
  // When set: each node gets resources { watchdog_device: unix:<dir>/wd<n>.sock; watchdog_timeout }
  // in a file of its own (watchdog_socket(n) is where its emulator listens).
  int watchdog_seconds = 0;
  // Each node reads a copy of its own, n<n>.conf (what vigild rewrites on a nodelist change).
  bool own_configs = false;
};

class TestCluster {
 public:
  explicit TestCluster(const ClusterSpec& spec, const std::string& name) : spec_(spec) {
    dir_ = fs::temp_directory_path() / ("vigil-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A port range per test process and test, away from 5405 and other runs.
    port_ =
        static_cast<int>(30000 + (::getpid() % 1500) * 20 + std::hash<std::string>{}(name) % 20);
    write_key(dir_ / "authkey", 1);
    write_key(dir_ / "otherkey", 2);
    write_config("corosync.conf", "authkey");
    write_config("other.conf", "otherkey");
    for (int n = 1; spec.own_configs && n <= spec.nodes; ++n)
      fs::copy_file(dir_ / "corosync.conf", config_of(n));
    for (int n = 1; spec.watchdog_seconds > 0 && n <= spec.nodes; ++n) {
      write_config("n" + std::to_string(n) + ".conf", "authkey");
      std::ofstream(dir_ / ("n" + std::to_string(n) + ".conf"), std::ios::app)
          << "resources {\n  watchdog_device: unix:" << watchdog_socket(n)
          << "\n  watchdog_timeout: " << spec.watchdog_seconds << "\n}\n";
    }
  }
  ~TestCluster() {
    for (auto& [node, pid] : pids_) kill_now(node);
    for (const auto& [node, pid] : pids_) expect_no_sanitizer_report(node);
    if (!::testing::Test::HasFailure()) fs::remove_all(dir_);
  }

  // SIGKILL to node n's vigild, if it runs, and its exit reaped. One that already exited though
  // the test did not end it fails the test: a daemon must not die on its own.
  void kill_now(int node) {
    pid_t& pid = pids_[node];
    if (pid <= 0) return;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (!ended_.count(node))
        ADD_FAILURE() << "n" << node << "'s vigild exited unasked ("
                      << (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                            : "signal " + std::to_string(WTERMSIG(status)))
                      << "):\n"
                      << log_text(node);
    } else {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    pid = 0;
  }

  // A vigild built with ASan/UBSan writes its reports to stderr, its log here: any report fails
  // the test, even when the cluster carried on without that node.
  // ("==1==ERROR: AddressSanitizer: …", "SUMMARY: UndefinedBehaviorSanitizer: …", and UBSan's
  // "file:line:col: runtime error: …" when it recovers).
  void expect_no_sanitizer_report(int node) const {
    const std::string text = log_text(node);
    const bool report = text.find("Sanitizer: ") != std::string::npos ||
                        text.find(": runtime error: ") != std::string::npos;
    EXPECT_FALSE(report) << "sanitizer report in n" << node << "'s log " << log(node) << ":\n"
                         << text;
  }

  int port() const { return port_; }
  std::string socket(int node) const { return control::socket_in(run_dir(node)); }
  std::string address(int node) const { return "127.0.0." + std::to_string(node); }
  fs::path log(int node) const { return dir_ / ("n" + std::to_string(node) + ".log"); }
  fs::path key_path() const { return dir_ / "authkey"; }
  fs::path config_of(int node) const { return dir_ / ("n" + std::to_string(node) + ".conf"); }
  fs::path dir() const { return dir_; }
  std::string watchdog_socket(int node) const {
    return (dir_ / ("wd" + std::to_string(node) + ".sock")).string();
  }

  // Starts node n (1-based) with the cluster's key, or with another key.
  void start(int node, bool other_key = false) {
    fs::create_directories(run_dir(node));
    fs::create_directories(dir_ / ("state" + std::to_string(node)));
    const std::string config =
        other_key ? (dir_ / "other.conf").string()
        : spec_.watchdog_seconds > 0 || spec_.own_configs ? config_of(node).string()
                                                          : (dir_ / "corosync.conf").string();
    const std::string state = (dir_ / ("state" + std::to_string(node))).string();
    const std::string run = run_dir(node);
    const std::string name = "n" + std::to_string(node);
    const std::string logfile = log(node).string();
    // Built before the fork: the child of a threaded process only execs.
    std::vector<std::string> args{VIGILD_PATH,   "--config", config,      "--node", name,
                                  "--state-dir", state,      "--run-dir", run,      "--foreground"};
    if (spec_.vigild_args) {
      for (auto& a : spec_.vigild_args(node)) args.push_back(std::move(a));
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::FILE* out = std::fopen(logfile.c_str(), "a");
      if (out != nullptr) {
        ::dup2(::fileno(out), 1);
        ::dup2(::fileno(out), 2);
      }
      ::execv(VIGILD_PATH, argv.data());
      ::_exit(127);
    }
    pids_[node] = pid;
    ended_.erase(node);
  }

  // Sends a signal to node n's process (only ever a process this cluster started).
  void signal(int node, int sig) {
    if (pids_[node] <= 0) return;
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) ended_.insert(node);
    ::kill(pids_[node], sig);
  }
  // Waits (bounded) for node n's process to exit; its exit status, or -1.
  int reap(int node, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    int status = -1;
    const bool gone =
        eventually([&] { return ::waitpid(pids_[node], &status, WNOHANG) == pids_[node]; }, limit);
    if (!gone) return -1;
    pids_[node] = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  Result<Json> status(int node) const {
    return control::request(socket(node), Json{{"command", "status"}}, 2000);
  }
  // The members of node n's ring when it is operational, else empty.
  std::vector<int> members(int node) const {
    auto s = status(node);
    if (!s.ok() || (*s)["ring"]["state"] != "operational") return {};
    return (*s)["ring"]["members"].get<std::vector<int>>();
  }
  bool online(int node, int other) const {
    auto s = status(node);
    if (!s.ok()) return false;
    for (const auto& n : (*s)["nodes"]) {
      if (n["id"] == other) return n["online"].get<bool>();
    }
    return false;
  }
  std::string log_text(int node) const {
    std::ifstream in(log(node));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string run_dir(int node) const { return (dir_ / ("run" + std::to_string(node))).string(); }

  void write_config(const std::string& file, const std::string& key) {
    std::ofstream c(dir_ / file);
    c << "totem {\n  version: 2\n  cluster_name: test\n  transport: udpu\n"
      << "  crypto_cipher: aes256\n  crypto_hash: sha256\n  token: 600\n  token_coefficient: 0\n"
      << "  keyfile: " << (dir_ / key).string() << "\n"
      << spec_.totem_extra << "  interface {\n    linknumber: 0\n    mcastport: " << port_
      << "\n  }\n}\n"
      << "nodelist {\n";
    for (int n = 1; n <= spec_.nodes; ++n) {
      c << "  node {\n    ring0_addr: " << address(n) << "\n    name: n" << n
        << "\n    nodeid: " << n << "\n  }\n";
    }
    c << "}\nquorum {\n  " << spec_.quorum << "\n}\n"
      << "logging {\n  to_stderr: yes\n  to_syslog: no\n  timestamp: hires\n  debug: off\n"
      << spec_.logging_extra << "}\n";
  }

  ClusterSpec spec_;
  fs::path dir_;
  int port_ = 0;
  std::map<int, pid_t> pids_;
  std::set<int> ended_;  // nodes whose vigild the test signalled to end
};

// Runs a command and returns its standard output.
inline std::string capture(const std::string& command) {
  std::string out;
  if (std::FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// Nodes 1..`nodes` in one ring, each with the agreed CIB of all of them, and a DC elected.
inline bool cluster_ready(const TestCluster& c, int nodes,
                          std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  return eventually(
      [&] {
        for (int n = 1; n <= nodes; ++n) {
          auto s = c.status(n);
          if (!s.ok() || (*s)["ring"]["members"].size() != static_cast<std::size_t>(nodes) ||
              !(*s)["cib"].value("synced", false) || (*s)["cib"].value("members", 0) != nodes ||
              (*s)["controller"]["dc"].is_null())
            return false;
        }
        return true;
      },
      limit);
}

// Every node of `nodes` sees exactly `nodes` in its ring within `limit`; else the failure names
// the node and carries its log.
inline ::testing::AssertionResult ring_formed(const TestCluster& c, const std::vector<int>& nodes,
                                              std::chrono::milliseconds limit) {
  for (int n : nodes) {
    if (!eventually([&] { return c.members(n) == nodes; }, limit))
      return ::testing::AssertionFailure() << "n" << n << " never saw the ring\n" << c.log_text(n);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace vigil::test
