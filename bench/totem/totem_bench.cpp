// totem figures measured in the simulator (one process, simulated network and clock):
//  1. ordered messages per CPU-second: N nodes, each keeping a window of its own messages in
//     flight (closed loop), no faults; CPU is the whole simulated cluster's, network included.
//  2. time (simulated) from a crash to the last survivor's regular configuration change: the
//     host dies (only the token timeout tells), or only the process is killed (its host refuses
//     the next datagram to it: PeerUnreachable).
// Build in release: cmake --preset release -B build/totem-rel && cmake --build build/totem-rel
//   --target bench_totem && build/totem-rel/bench/totem/bench_totem
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "checker.h"
#include "cluster.h"

using namespace vigil;
using namespace vigil::sim;

namespace {

double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

struct Throughput {
  std::uint64_t ordered = 0;  // messages delivered at node 1
  double cpu = 0;
  Millis simulated = 0;
};

Throughput throughput(int nodes, std::size_t payload, Millis simulated) {
  Options o;
  o.nodes = nodes;
  o.seed = 1;
  o.check = false;
  Cluster c(o);
  std::map<NodeId, std::uint32_t> next;
  auto send_one = [&c, &next, payload](NodeId n) {
    totem::Bytes p(payload, 0);
    const std::uint64_t uid = (static_cast<std::uint64_t>(n) << 32) | ++next[n];
    for (int i = 0; i < 8; ++i)
      p[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(uid >> (8 * i));
    c.send(n, std::move(p));
  };
  Throughput t;
  c.add_hook([&](NodeId n, Millis now, const totem::Event& e) {
    const auto* d = std::get_if<totem::Delivery>(&e);
    if (d == nullptr) return;
    if (n == 1) ++t.ordered;
    if (d->sender == n) c.at(now, [&send_one, n] { send_one(n); });  // keep the window full
  });
  c.start_all();
  c.run_until(2000);
  constexpr int kWindow = 20;
  for (NodeId n = 1; n <= static_cast<NodeId>(nodes); ++n) {
    for (int i = 0; i < kWindow; ++i) send_one(n);
  }
  t.ordered = 0;
  const double start = cpu_seconds();
  c.run_until(2000 + simulated);
  t.cpu = cpu_seconds() - start;
  t.simulated = simulated;
  return t;
}

Millis crash_to_config(int nodes, Millis token, bool host_up) {
  Options o;
  o.nodes = nodes;
  o.seed = 5;
  o.settings.token = token;
  o.settings.consensus = 0;  // 1.2 × token
  o.latency_min = 0;         // a LAN: 0..1 ms one way
  o.latency_jitter = 1;
  o.check = false;
  Cluster c(o);
  Millis last = 0;
  c.add_hook([&](NodeId, Millis now, const totem::Event& e) {
    if (const auto* cc = std::get_if<totem::ConfigChange>(&e);
        cc && cc->kind == totem::ConfigChange::Kind::Regular) {
      last = std::max(last, now);
    }
  });
  c.start_all();
  c.run_until(3 * token);
  if (!c.converged()) return -1;
  const Millis crash = c.now() + 137;  // not aligned with any timer
  c.run_until(crash);
  if (host_up)
    c.kill(static_cast<NodeId>(nodes));
  else
    c.crash(static_cast<NodeId>(nodes));
  c.run_until(crash + 4 * token + 4000);
  if (!c.converged()) return -1;
  return last - crash;
}

}  // namespace

int main() {
  std::printf(
      "ordered messages per CPU-second (simulated cluster, all nodes + network on one core)\n");
  std::printf("%6s %8s %12s %14s %14s %12s\n", "nodes", "payload", "ordered", "msgs/CPU-s",
              "per node", "msgs/sim-s");
  for (int nodes : {3, 8, 32}) {
    for (std::size_t payload : {std::size_t{64}, std::size_t{1024}}) {
      const Throughput t = throughput(nodes, payload, nodes == 32 ? 10000 : 20000);
      const double rate = static_cast<double>(t.ordered) / std::max(t.cpu, 1e-9);
      std::printf("%6d %7zuB %12llu %14.0f %14.0f %12.0f\n", nodes, payload,
                  static_cast<unsigned long long>(t.ordered), rate, rate * nodes,
                  static_cast<double>(t.ordered) * 1000.0 / static_cast<double>(t.simulated));
    }
  }
  std::printf(
      "\n'per node': ordered messages per CPU-second of one node's share (cluster CPU / "
      "nodes)\n\n");
  std::printf(
      "crash -> survivors' regular configuration (simulated ms, LAN latency 0..1 ms, idle ring;\n"
      "host dies: bound = token + consensus + join; kill -9, host up: its host refuses)\n");
  std::printf("%6s", "nodes");
  for (Millis token : {1000, 3000})
    std::printf("  token=%-5lld bound  kill -9", static_cast<long long>(token));
  std::printf("\n");
  for (int nodes : {2, 3, 4, 8, 16, 32}) {
    std::printf("%6d", nodes);
    for (Millis token : {1000, 3000}) {
      const Millis bound = token + token * 12 / 10 + 50;
      std::printf("  %11lld %5lld %8lld",
                  static_cast<long long>(crash_to_config(nodes, token, false)),
                  static_cast<long long>(bound),
                  static_cast<long long>(crash_to_config(nodes, token, true)));
    }
    std::printf("\n");
  }
  return 0;
}
