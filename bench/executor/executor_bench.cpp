// How many agent actions per second the executor runs, and what it costs per action beyond
// spawning a shell: a no-op OCF agent through Executor::execute, against `sh -c true` spawned
// by the same AgentProcess machinery and by a bare posix_spawn + waitpid.
//
//   bench_executor [ACTIONS]      (default 1000 per round, 3 rounds)
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "executor/process.h"

namespace ex = vigil::executor;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU time of this process alone (children excluded): what the executor itself costs, steadier
// than wall time on a busy machine where spawning dominates.
double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Row {
  std::string what;
  int actions = 0;
  double seconds = 0;  // wall
  double cpu = 0;      // this process's CPU
};

void print(const Row& r) {
  std::printf("%-44s %7d %9.3f %10.0f %10.1f %10.1f\n", r.what.c_str(), r.actions, r.seconds,
              r.actions / r.seconds, r.seconds * 1e6 / r.actions, r.cpu * 1e6 / r.actions);
}

// Runs `measure` `rounds` times and keeps the median wall and CPU time.
template <class F>
Row median_of(int rounds, F measure) {
  std::vector<Row> rows;
  for (int i = 0; i < rounds; ++i) {
    double cpu0 = own_cpu_seconds();
    Row r = measure();
    r.cpu = own_cpu_seconds() - cpu0;
    rows.push_back(r);
  }
  auto mid = [&rows](auto field) {
    std::vector<double> v;
    for (const auto& r : rows) v.push_back(r.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  Row out = rows.front();
  out.seconds = mid(&Row::seconds);
  out.cpu = mid(&Row::cpu);
  return out;
}

// `n` no-op agent actions over `resources` resources, up to `parallel` at once.
Row executor_noop(const ex::Settings& base, int n, int resources, std::size_t parallel) {
  ex::Settings settings = base;
  settings.concurrency = parallel;
  asio::io_context io;
  ex::Executor executor(io, settings);
  int done = 0, failed = 0;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    ex::ResourceAction a;
    a.resource = std::to_string(i % resources).insert(0, 1, 'r');
    a.agent = *ex::AgentSpec::parse("ocf:bench:noop");
    a.name = "monitor";
    executor.execute(a, [&](const ex::ActionResult& r) {
      ++done;
      if (r.rc != ex::OcfCode::Ok) ++failed;
    });
  }
  io.run();
  double s = seconds_since(start);
  if (done != n || failed != 0)
    std::fprintf(stderr, "executor: %d done, %d failed\n", done, failed);
  return {"executor, ocf no-op agent, " + std::to_string(parallel) + " at once", n, s};
}

// `sh -c true` through AgentProcess (pipes, pidfd, timers) with `parallel` in flight.
Row process_sh_true(int n, int parallel) {
  asio::io_context io;
  ex::Command c{"/bin/sh", {"/bin/sh", "-c", "true"}, {"PATH=/usr/bin:/bin"}, {}};
  ex::Limits limits;
  int started = 0, done = 0;
  std::function<void()> launch = [&] {
    ++started;
    auto p = ex::AgentProcess::spawn(io, c, limits, [&](ex::Outcome) {
      ++done;
      if (started < n) launch();
    });
    if (!p) std::fprintf(stderr, "%s\n", p.error().message.c_str());
  };
  auto start = Clock::now();
  for (int i = 0; i < parallel && started < n; ++i) launch();
  io.run();
  return {"sh -c true, AgentProcess, " + std::to_string(parallel) + " at once", done,
          seconds_since(start)};
}

// The floor: posix_spawn and a blocking waitpid, nothing captured.
Row bare_sh_true(int n) {
  char sh[] = "/bin/sh", dash_c[] = "-c", tru[] = "true";
  char* argv[] = {sh, dash_c, tru, nullptr};
  char path[] = "PATH=/usr/bin:/bin";
  char* envp[] = {path, nullptr};
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp) != 0) return {"failed", 1, 1};
    int status;
    waitpid(pid, &status, 0);
  }
  return {"sh -c true, posix_spawn + waitpid, serial", n, seconds_since(start)};
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: bench_executor [ACTIONS]\n");
    return 2;
  }
  // A private OCF_ROOT holding one agent that does nothing.
  std::string root =
      std::filesystem::temp_directory_path() / ("vigil-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(root + "/ocf/resource.d/bench");
  std::string agent = root + "/ocf/resource.d/bench/noop";
  std::ofstream(agent) << "#!/bin/sh\nexit 0\n";
  ::chmod(agent.c_str(), 0755);
  ex::Settings settings;
  settings.ocf_root = root + "/ocf";
  settings.run_dir = root + "/run";

  const int rounds = 3;
  std::printf("%-44s %7s %9s %10s %10s %10s\n", "what (median of 3 rounds)", "actions", "seconds",
              "actions/s", "wall us/a", "cpu us/a");
  Row serial = median_of(rounds, [&] { return executor_noop(settings, n, 1, 1); });
  print(serial);
  print(median_of(rounds, [&] { return executor_noop(settings, n, 64, 8); }));
  Row raw = median_of(rounds, [&] { return process_sh_true(n, 1); });
  print(raw);
  print(median_of(rounds, [&] { return process_sh_true(n, 8); }));
  Row bare = median_of(rounds, [&] { return bare_sh_true(n); });
  print(bare);
  std::printf(
      "\nexecutor overhead per action (serial, wall): %+.1f us vs AgentProcess sh -c true, "
      "%+.1f us vs bare posix_spawn\n",
      (serial.seconds - raw.seconds) * 1e6 / n, (serial.seconds - bare.seconds) * 1e6 / n);
  std::printf(
      "executor overhead per action (serial, own CPU): %+.1f us vs AgentProcess sh -c true, "
      "%+.1f us vs bare posix_spawn\n",
      (serial.cpu - raw.cpu) * 1e6 / n, (serial.cpu - bare.cpu) * 1e6 / n);
  std::filesystem::remove_all(root);
  return 0;
}
