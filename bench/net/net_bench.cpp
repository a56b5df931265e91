// bench_net: what the ring costs on this machine.
//   1. ordered messages per second and latency, 64 B and 1 KiB payloads, three daemons in this
//      process on 127.0.0.1–3 (each on its own thread and loop, real UDP), frames sealed or not;
//   2. time from kill -9 of one of three vigild processes to the survivors' configuration change,
//      at token 1000 and 3000, median of 5.
// Prints a table; `bench_net --quick` runs smaller counts.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/control.h"
#include "daemon/daemon.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using vigil::groups::GroupChange;
using vigil::groups::GroupEvent;
using vigil::groups::GroupMessage;

fs::path scratch(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("vigil-bench-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_config(const fs::path& dir, int port, bool sealed, int token, int coefficient = 650) {
  {
    std::ofstream key(dir / "authkey", std::ios::binary);
    for (int i = 0; i < 256; ++i) key.put(static_cast<char>(i * 13 + 5));
  }
  ::chmod((dir / "authkey").c_str(), 0400);
  std::ofstream c(dir / "corosync.conf");
  c << "totem {\n version: 2\n cluster_name: bench\n transport: udpu\n token: " << token
    << "\n token_coefficient: " << coefficient << "\n"
    << (sealed ? " crypto_cipher: aes256\n crypto_hash: sha256\n"
               : " crypto_cipher: none\n crypto_hash: none\n")
    << " keyfile: " << (dir / "authkey").string()
    << "\n interface {\n  linknumber: 0\n  mcastport: " << port << "\n }\n}\nnodelist {\n";
  for (int n = 1; n <= 3; ++n) {
    c << " node {\n  ring0_addr: 127.0.0." << n << "\n  name: n" << n << "\n  nodeid: " << n
      << "\n }\n";
  }
  c << "}\nquorum {\n provider: corosync_votequorum\n}\nlogging {\n to_stderr: no\n to_syslog: "
       "no\n}\n";
}

// One daemon on its own thread; its listener counts deliveries of the bench group.
struct Node {
  vigil::daemon::DaemonPtr daemon;
  std::uint32_t daemon_id = 0;
  std::thread loop;
  std::atomic<int> members{0};
  std::atomic<long> delivered{0};
  std::atomic<long> own_delivered{0};
  std::atomic<long> own_sent{0};
  long quota = 0;
  std::size_t size = 0;
  int window = 0;
  std::vector<Clock::time_point> sent_at;  // latency runs: one message at a time
  std::vector<double> latencies_us;
};

void pump(Node& n) {
  const std::vector<std::uint8_t> payload(n.size, 0x5a);
  auto& groups = vigil::daemon::groups_of(*n.daemon);
  while (n.own_sent < n.quota && n.own_sent - n.own_delivered < n.window) {
    if (!n.sent_at.empty()) n.sent_at[static_cast<std::size_t>(n.own_sent)] = Clock::now();
    (void)groups.send("bench", 1, payload);
    ++n.own_sent;
  }
}

struct Run {
  double messages_per_second = 0;
  double mib_per_second = 0;
  double latency_median_us = 0;
  double latency_p99_us = 0;
};

class Trio {
 public:
  Trio(const fs::path& dir, bool sealed, int port) {
    write_config(dir, port, sealed, 1000);
    for (int i = 0; i < 3; ++i) {
      vigil::daemon::Options o;
      o.config = (dir / "corosync.conf").string();
      o.node = "n" + std::to_string(i + 1);
      o.state_dir = (dir / ("state" + std::to_string(i))).string();
      o.run_dir = (dir / ("run" + std::to_string(i))).string();
      o.foreground = true;
      fs::create_directories(o.state_dir);
      fs::create_directories(o.run_dir);
      auto d = vigil::daemon::start(o);
      if (!d.ok()) {
        std::fprintf(stderr, "bench_net: %s\n", d.error().message.c_str());
        std::exit(1);
      }
      nodes_[i].daemon = std::move(*d);
    }
    for (int i = 0; i < 3; ++i) nodes_[i].daemon_id = static_cast<std::uint32_t>(i + 1);
    for (auto& n : nodes_) {
      Node* node = &n;
      vigil::daemon::post(*n.daemon, [node] {
        (void)vigil::daemon::groups_of(*node->daemon).join("bench", 1, [node](const GroupEvent& e) {
          if (const auto* c = std::get_if<GroupChange>(&e)) {
            node->members = static_cast<int>(c->members.size());
            return;
          }
          const auto& m = std::get<GroupMessage>(e);
          ++node->delivered;
          if (m.sender.node != node->daemon_id) return;
          if (!node->sent_at.empty()) {
            const auto i = static_cast<std::size_t>(node->own_delivered.load());
            node->latencies_us.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - node->sent_at[i]).count());
          }
          ++node->own_delivered;
          pump(*node);
        });
      });
      n.loop = std::thread([node] { vigil::daemon::run(*node->daemon); });
    }
    wait([&] {
      return std::all_of(std::begin(nodes_), std::end(nodes_),
                         [](const Node& n) { return n.members == 3; });
    });
  }
  ~Trio() {
    for (auto& n : nodes_) vigil::daemon::stop(*n.daemon);
    for (auto& n : nodes_) n.loop.join();
  }

  // Every node sends `per_node` messages of `size` bytes, at most `window` of its own in flight.
  Run throughput(long per_node, std::size_t size, int window) {
    const long before = nodes_[0].delivered;
    const auto start = Clock::now();
    for (int i = 0; i < 3; ++i) nodes_[i].daemon_id = static_cast<std::uint32_t>(i + 1);
    for (auto& n : nodes_) {
      Node* node = &n;
      vigil::daemon::post(*n.daemon, [node, per_node, size, window] {
        node->quota = node->own_sent + per_node;
        node->size = size;
        node->window = window;
        pump(*node);
      });
    }
    wait([&] {
      return std::all_of(std::begin(nodes_), std::end(nodes_),
                         [&](const Node& n) { return n.delivered >= before + 3 * per_node; });
    });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Run r;
    r.messages_per_second = 3.0 * static_cast<double>(per_node) / seconds;
    r.mib_per_second = r.messages_per_second * static_cast<double>(size) / (1 << 20);
    return r;
  }

  // Node 1 sends `count` messages one at a time; latency from send to its own ordered delivery.
  Run latency(long count, std::size_t size) {
    Node& n = nodes_[0];
    std::promise<long> started;
    vigil::daemon::post(*n.daemon, [&] {
      n.sent_at.assign(static_cast<std::size_t>(n.own_sent + count), Clock::time_point{});
      n.latencies_us.clear();
      n.quota = n.own_sent + count;
      n.size = size;
      n.window = 1;
      started.set_value(n.quota);
      pump(n);
    });
    const long quota = started.get_future().get();
    wait([&] { return n.own_delivered >= quota; });
    std::promise<void> ready;
    std::vector<double> l;
    vigil::daemon::post(*n.daemon, [&] {
      l = n.latencies_us;
      n.sent_at.clear();
      ready.set_value();
    });
    ready.get_future().wait();
    std::sort(l.begin(), l.end());
    Run r;
    r.latency_median_us = l[l.size() / 2];
    r.latency_p99_us = l[l.size() * 99 / 100];
    return r;
  }

 private:
  template <class Done>
  static void wait(Done done) {
    const auto until = Clock::now() + std::chrono::seconds(120);
    while (!done()) {
      if (Clock::now() > until) {
        std::fprintf(stderr, "bench_net: timed out\n");
        std::exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  Node nodes_[3];
};

// ---- kill -9 → configuration change, with real vigild processes
pid_t spawn(const fs::path& dir, int node) {
  const auto state = dir / ("state" + std::to_string(node));
  const auto run = dir / ("run" + std::to_string(node));
  fs::create_directories(state);
  fs::create_directories(run);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string config = (dir / "corosync.conf").string(), name = "n" + std::to_string(node);
    ::execl(VIGILD_PATH, VIGILD_PATH, "--config", config.c_str(), "--node", name.c_str(),
            "--state-dir", state.c_str(), "--run-dir", run.c_str(), "--foreground",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

std::size_t ring_size(const fs::path& dir, int node) {
  auto s = vigil::control::request(
      vigil::control::socket_in((dir / ("run" + std::to_string(node))).string()),
      vigil::control::Json{{"command", "status"}}, 1000);
  if (!s.ok() || (*s)["ring"]["state"] != "operational") return 0;
  return (*s)["ring"]["members"].size();
}

double kill_to_change_ms(int token, int coefficient, int port) {
  const auto dir = scratch("kill" + std::to_string(token));
  write_config(dir, port, true, token, coefficient);
  pid_t pids[4] = {0, spawn(dir, 1), spawn(dir, 2), spawn(dir, 3)};
  auto until = Clock::now() + std::chrono::seconds(60);
  while (ring_size(dir, 1) != 3 || ring_size(dir, 2) != 3) {
    if (Clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto killed = Clock::now();
  ::kill(pids[3], SIGKILL);
  ::waitpid(pids[3], nullptr, 0);
  until = Clock::now() + std::chrono::seconds(60);
  while (ring_size(dir, 1) != 2) {
    if (Clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - killed).count();
  for (int n : {1, 2}) {
    ::kill(pids[n], SIGTERM);
    ::waitpid(pids[n], nullptr, 0);
  }
  fs::remove_all(dir);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int port = 40000 + ::getpid() % 10000;
  std::printf("vigil ring on 3 loopback nodes (127.0.0.1-3, udpu, one machine)\n\n");
  std::printf("%-8s %-6s %14s %10s %16s %14s\n", "crypto", "size", "ordered msg/s", "MiB/s",
              "latency p50 us", "latency p99 us");
  for (bool sealed : {true, false}) {
    const auto dir = scratch(sealed ? "sealed" : "plain");
    {
      Trio trio(dir, sealed, port + (sealed ? 0 : 10));
      for (std::size_t size : {std::size_t{64}, std::size_t{1024}}) {
        const long per_node = quick ? 5000 : (size == 64 ? 100000 : 40000);
        const Run t = trio.throughput(per_node, size, 500);
        const Run l = trio.latency(quick ? 200 : 2000, size);
        std::printf("%-8s %-6zu %14.0f %10.1f %16.0f %14.0f\n", sealed ? "on" : "off", size,
                    t.messages_per_second, t.mib_per_second, l.latency_median_us, l.latency_p99_us);
      }
    }
    fs::remove_all(dir);
  }
  std::printf(
      "\nkill -9 of 1 of 3 vigild -> survivors' configuration change (3 nodes: runtime token =\n"
      "token + token_coefficient; consensus = 1.2 x runtime token)\n");
  std::printf("%-6s %-11s %9s %10s %s\n", "token", "coefficient", "bound ms", "median ms",
              "runs ms");
  for (const auto [token, coefficient] :
       {std::pair{1000, 650}, std::pair{3000, 650}, std::pair{1000, 0}}) {
    std::vector<double> runs;
    for (int i = 0; i < (quick ? 1 : 5); ++i)
      runs.push_back(kill_to_change_ms(token, coefficient, port + 20 + i));
    std::vector<double> sorted = runs;
    std::sort(sorted.begin(), sorted.end());
    // The goal: token + consensus + 200 ms.
    const double runtime = token + coefficient;
    std::printf("%-6d %-11d %9.0f %10.0f", token, coefficient, runtime * 2.2 + 200,
                sorted[sorted.size() / 2]);
    for (double r : runs) std::printf(" %.0f", r);
    std::printf("\n");
  }
  return 0;
}
