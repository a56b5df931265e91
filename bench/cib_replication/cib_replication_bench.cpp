// CIB commits per second. Run: build/<dir>/bench/cib_replication/bench_cib_replication [commits]
//   in-process: three Replicas over a perfect total order (every commit applied on all three);
//   cluster:    three vigild on 127.0.0.1-3 (started and ended here, by pid), one client
//               committing a new primitive at a time on node 1 through the control socket; each
//               commit is answered once applied and persisted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cib/op_json.h"
#include "cib/replica.h"
#include "control/control.h"

namespace {

using namespace vigil;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

cib::CibOp create(int i) {
  const std::string id = "r" + std::to_string(i);
  return {{cib::CibChange::create(
      "/cib/configuration/resources",
      "<primitive id=\"" + id + "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>")}};
}

double in_process(int commits) {
  std::vector<cib::Replica> replicas;
  std::vector<groups::Member> members;
  for (std::uint32_t n = 1; n <= 3; ++n) members.push_back({n, 100 + n});
  for (const auto& m : members) replicas.emplace_back(m, cib::Cib());
  std::deque<std::pair<groups::Member, std::string>> order;
  auto take = [&](std::size_t i, cib::ReplicaOutput out) {
    for (auto& b : out.send) order.emplace_back(members[i], std::move(b));
  };
  auto drain = [&] {
    while (!order.empty()) {
      auto [from, bytes] = std::move(order.front());
      order.pop_front();
      const groups::GroupMessage m{"vigil.cib", from, groups::Bytes(bytes.begin(), bytes.end())};
      for (std::size_t i = 0; i < replicas.size(); ++i) take(i, replicas[i].message(m));
    }
  };
  const groups::GroupChange change{"vigil.cib", members, members, {}, groups::Reason::Join};
  for (std::size_t i = 0; i < replicas.size(); ++i) take(i, replicas[i].change(change));
  drain();
  const auto t0 = Clock::now();
  for (int i = 0; i < commits; ++i) {
    take(0, replicas[0].commit(static_cast<std::uint64_t>(i + 1), create(i)));
    drain();
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return commits / s;
}

struct Cluster {
  fs::path dir;
  std::vector<pid_t> pids;

  explicit Cluster(int port) {
    dir = fs::temp_directory_path() / ("vigil-bench-cib-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    {
      std::ofstream key(dir / "authkey", std::ios::binary);
      for (int i = 0; i < 256; ++i) key.put(static_cast<char>(i * 7 + 3));
    }
    fs::permissions(dir / "authkey", fs::perms::owner_read);
    std::ofstream c(dir / "corosync.conf");
    c << "totem {\n version: 2\n cluster_name: bench\n transport: udpu\n crypto_cipher: aes256\n"
      << " crypto_hash: sha256\n token: 600\n token_coefficient: 0\n keyfile: "
      << (dir / "authkey").string() << "\n interface {\n  linknumber: 0\n  mcastport: " << port
      << "\n }\n}\nnodelist {\n";
    for (int n = 1; n <= 3; ++n)
      c << " node {\n  ring0_addr: 127.0.0." << n << "\n  name: n" << n << "\n  nodeid: " << n
        << "\n }\n";
    c << "}\nquorum {\n provider: corosync_votequorum\n}\nlogging {\n to_stderr: yes\n}\n";
  }
  std::string socket(int n) const {
    return control::socket_in((dir / ("run" + std::to_string(n))).string());
  }
  void start() {
    for (int n = 1; n <= 3; ++n) {
      const auto run = dir / ("run" + std::to_string(n));
      const auto state = dir / ("state" + std::to_string(n));
      fs::create_directories(run);
      fs::create_directories(state);
      const std::string config = (dir / "corosync.conf").string(), name = "n" + std::to_string(n),
                        log = (dir / (name + ".log")).string();
      const pid_t pid = ::fork();
      if (pid == 0) {
        std::FILE* out = std::fopen(log.c_str(), "a");
        if (out) {
          ::dup2(::fileno(out), 1);
          ::dup2(::fileno(out), 2);
        }
        ::execl(VIGILD_PATH, VIGILD_PATH, "--config", config.c_str(), "--node", name.c_str(),
                "--state-dir", state.c_str(), "--run-dir", run.c_str(), "--foreground",
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
      pids.push_back(pid);
    }
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
  ~Cluster() {
    for (auto pid : pids) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    fs::remove_all(dir);
  }
};

double through_cluster(int commits) {
  Cluster c(31000 + ::getpid() % 2000);
  c.start();
  for (int i = 0; i < 300 && !c.synced(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!c.synced()) {
    std::fprintf(stderr, "the cluster did not form; logs in %s\n", c.dir.c_str());
    return 0;
  }
  auto client = control::Client::connect(c.socket(1));
  if (!client) return 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < commits; ++i) {
    auto answer =
        client->call({{"command", "cib_commit"}, {"op", cib::op_to_json(create(i))}}, 30000);
    if (!answer || !(*answer)["ok"].get<bool>()) {
      std::fprintf(stderr, "commit %d failed\n", i);
      return 0;
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return commits / s;
}

}  // namespace

int main(int argc, char** argv) {
  const int commits = argc > 1 ? std::atoi(argv[1]) : 200;
  const double sim = in_process(commits);
  const double cluster = through_cluster(commits);
  std::printf("%-52s %10s\n", "CIB commits (new primitive each), sequential", "commits/s");
  std::printf("%-52s %10.0f\n", "in-process, 3 Replicas, perfect total order", sim);
  std::printf("%-52s %10.0f\n", "3 vigild on loopback, client on node 1 (persisted)", cluster);
  return cluster > 0 ? 0 : 1;
}
