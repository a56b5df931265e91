// Shared pieces of the executor tests: a scratch directory, settings pointing at the agents
// shipped in tests/executor/data, and a look at /proc for processes the test left behind.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace vigil::executor::testing {

inline const std::string kData = VIGIL_SOURCE_DIR "/tests/executor/data";

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-exec-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Agents of the tests themselves (ocf:vigiltest:*, lsb:vigil-test-service,
// stonith:fence_vigiltest).
inline Settings test_settings(const ScratchDir& dir) {
  Settings s;
  s.ocf_root = kData + "/ocf";
  s.lsb_dir = kData + "/init.d";
  s.fence_dir = kData + "/fence";
  s.run_dir = dir.path() + "/run";
  s.kill_grace = 300;
  return s;
}

// Debian's resource-agents, with this node's state kept in the scratch directory.
inline Settings system_settings(const ScratchDir& dir) {
  Settings s;
  s.run_dir = dir.path() + "/run";
  return s;
}

inline ResourceAction action(std::string resource, const std::string& agent, std::string name,
                             Millis timeout = 20000) {
  ResourceAction a;
  a.resource = std::move(resource);
  auto spec = AgentSpec::parse(agent);
  if (spec) a.agent = *spec;
  a.name = std::move(name);
  a.timeout = timeout;
  return a;
}

struct ProcStat {
  int pid = 0;
  char state = '?';
  int ppid = 0;
  int pgrp = 0;
};

// Every process /proc shows; the command name may hold spaces and parentheses, so the fields
// are read after the last ')'.
inline std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    ProcStat p;
    p.pid = pid;
    rest >> p.state >> p.ppid >> p.pgrp;
    out.push_back(p);
  }
  ::closedir(d);
  return out;
}

inline std::vector<ProcStat> children_of_this_process() {
  std::vector<ProcStat> out;
  for (const auto& p : all_processes()) {
    if (p.ppid == ::getpid()) out.push_back(p);
  }
  return out;
}

// Live (not zombie) members of a process group.
inline std::vector<ProcStat> group_members(int pgrp) {
  std::vector<ProcStat> out;
  for (const auto& p : all_processes()) {
    if (p.pgrp == pgrp && p.state != 'Z') out.push_back(p);
  }
  return out;
}

inline bool process_alive(int pid) {
  for (const auto& p : all_processes()) {
    if (p.pid == pid) return p.state != 'Z';
  }
  return false;
}

// Polls `pred` every 10 ms for at most two seconds: for effects of signals, which the kernel
// delivers asynchronously.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    ::usleep(10000);
  }
  return pred();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vigil::executor::testing
