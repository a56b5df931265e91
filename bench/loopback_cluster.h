// A cluster of three vigild on 127.0.0.1-3 for the benchmarks that need real processes: its own
// temporary directory (corosync.conf, authkey, a state, run dir and log per node), the daemons
// started with fork/exec and ended by pid (SIGTERM, then waited for) when it goes away.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "control/control.h"

namespace vigil::bench {

namespace fs = std::filesystem;

struct LoopbackCluster {
  fs::path dir;
  std::vector<pid_t> pids;
  std::string vigild = VIGILD_PATH;  // the binary started

  // `logging` goes inside corosync.conf's logging section.
  LoopbackCluster(const std::string& name, int port, int token_ms,
                  const std::string& logging = "") {
    dir = fs::temp_directory_path() / ("vigil-bench-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    {
      std::ofstream key(dir / "authkey", std::ios::binary);
      for (int i = 0; i < 256; ++i) key.put(static_cast<char>(i * 7 + 3));
    }
    fs::permissions(dir / "authkey", fs::perms::owner_read);
    std::ofstream c(dir / "corosync.conf");
    c << "totem {\n version: 2\n cluster_name: bench\n transport: udpu\n crypto_cipher: aes256\n"
      << " crypto_hash: sha256\n token: " << token_ms
      << "\n token_coefficient: 0\n keyfile: " << (dir / "authkey").string()
      << "\n interface {\n  linknumber: 0\n  mcastport: " << port << "\n }\n}\nnodelist {\n";
    for (int n = 1; n <= 3; ++n)
      c << " node {\n  ring0_addr: 127.0.0." << n << "\n  name: n" << n << "\n  nodeid: " << n
        << "\n }\n";
    c << "}\nquorum {\n provider: corosync_votequorum\n}\nlogging {\n to_stderr: yes\n"
      << logging << "}\n";
    for (int n = 1; n <= 3; ++n) fs::create_directories(state(n));
  }
  fs::path state(int n) const { return dir / ("state" + std::to_string(n)); }
  fs::path log(int n) const { return dir / ("n" + std::to_string(n) + ".log"); }
  std::string socket(int n) const {
    return control::socket_in((dir / ("run" + std::to_string(n))).string());
  }
  void start() {
    for (int n = 1; n <= 3; ++n) {
      const auto run = dir / ("run" + std::to_string(n));
      fs::create_directories(run);
      const std::string config = (dir / "corosync.conf").string(), name = "n" + std::to_string(n),
                        log_file = log(n).string(), state_dir = state(n).string();
      const pid_t pid = ::fork();
      if (pid == 0) {
        std::FILE* out = std::fopen(log_file.c_str(), "a");
        if (out) {
          ::dup2(::fileno(out), 1);
          ::dup2(::fileno(out), 2);
        }
        ::execl(vigild.c_str(), vigild.c_str(), "--config", config.c_str(), "--node", name.c_str(),
                "--state-dir", state_dir.c_str(), "--run-dir", run.c_str(), "--foreground",
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
      pids.push_back(pid);
    }
  }
  // Starts the daemons and waits, at most `limit`, until every node holds the agreed CIB; false
  // (and the logs named on stderr) when they did not get there.
  bool form(std::chrono::milliseconds limit) {
    start();
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!synced() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (synced()) return true;
    std::fprintf(stderr, "the cluster did not form; logs in %s\n", dir.c_str());
    return false;
  }
  bool synced() const {
    for (int n = 1; n <= 3; ++n) {
      auto s = control::request(socket(n), {{"command", "status"}}, 1000);
      if (!s || !s->contains("cib") || !(*s)["cib"]["synced"].get<bool>() ||
          (*s)["cib"]["members"].get<int>() != 3)
        return false;
    }
    return true;
  }
  ~LoopbackCluster() {
    for (auto pid : pids) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    fs::remove_all(dir);
  }
};

}  // namespace vigil::bench
