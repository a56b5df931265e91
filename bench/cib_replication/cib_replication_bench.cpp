// CIB commits per second. Run: build/<dir>/bench/cib_replication/bench_cib_replication [commits]
//   in-process: three Replicas over a perfect total order (every commit applied on all three);
//   cluster:    three vigild on 127.0.0.1-3 (started and ended here, by pid), one client
//               committing a new primitive at a time on node 1 through the control socket; each
//               commit is answered once applied and persisted.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "cib/op_json.h"
#include "cib/replica.h"
#include "control/control.h"
#include "loopback_cluster.h"

namespace {

using namespace vigil;
using Clock = std::chrono::steady_clock;

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

double through_cluster(int commits) {
  bench::LoopbackCluster c("cib", 31000 + ::getpid() % 2000, 600);
  if (!c.form(std::chrono::seconds(30))) return 0;
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
