// bench_cpg_socket: ordered messaging client to client, through vigild's control socket, as a
// Corosync user meets it through libcpg. Three vigild processes on 127.0.0.1–3 (udpu, frames
// sealed with aes256 + sha256, token 1000), one client process on each, each joined to one group:
//   throughput  every client sends PER messages (at most 500 not yet delivered back to it, as
//               cpg_bench.c does) in bursts of cpg_send, and sleeps in cpg_read {wait} for the
//               deliveries; ordered msg/s = all clients' messages / the time until the last one is
//               delivered to this client; the slowest client's figure is printed;
//   latency     one client alone sends one message and waits in cpg_read for its own delivery,
//               COUNT times; p50 and p99 in microseconds.
// 64 B and 1 KiB payloads, raw after each frame's JSON (the socket's version-2 frames); --hex sends
// and reads them as hex in JSON (version 1, as clients before version 2 did).
// bench/net/like_for_like.sh runs it beside Corosync's cpg_bench.c.
//   bench_cpg_socket [--quick] [--hex]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "control/control.h"
#include "loopback_cluster.h"

namespace {

using vigil::control::Json;
using Clock = std::chrono::steady_clock;

constexpr long kWindow = 500;  // messages sent and not yet delivered back, as cpg_bench.c
constexpr Json::number_integer_t kWait = 5000;
std::uint8_t frames = vigil::control::kPayloadVersion;

double seconds(Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

struct Member {
  vigil::control::Client client;
  long delivered = 0, own = 0, members = 0;
  Clock::time_point last_delivery{};

  // One cpg_read; `wait` ms at most for an event when none is queued.
  bool read(Json::number_integer_t wait) {
    auto r = client.call(Json{{"command", "cpg_read"}, {"wait", wait}}, wait + 5000);
    if (!r.ok() || (*r)["ok"] != true) {
      std::fprintf(stderr, "cpg_read: %s\n", r.ok() ? r->dump().c_str() : r.error().message.c_str());
      return false;
    }
    // Events dropped from a full queue never come: counted as delivered so the run ends, and
    // told, since the figure then counts messages this client did not see.
    if (const long dropped = (*r)["dropped"].get<long>(); dropped > 0) {
      std::fprintf(stderr, "cpg_read: %ld events dropped (this client fell behind)\n", dropped);
      delivered += dropped;
    }
    for (const auto& e : (*r)["events"]) {
      if (e["type"] == "change") {
        members = static_cast<long>(e["members"].size());
        continue;
      }
      ++delivered;
      last_delivery = Clock::now();
      if (e["node"] == own_node && e["pid"] == ::getpid()) ++own;
    }
    return true;
  }
  int own_node = 0;
};

std::optional<Member> joined(const std::string& socket, int node, long nodes) {
  auto client = vigil::control::Client::connect(socket, frames);
  if (!client.ok()) return std::nullopt;
  Member m{std::move(*client)};
  m.own_node = node;
  auto j = m.client.call(Json{{"command", "cpg_join"}, {"group", "bench"}});
  if (!j.ok() || (*j)["ok"] != true) return std::nullopt;
  for (int i = 0; i < 600 && m.members < nodes; ++i)
    if (!m.read(100)) return std::nullopt;
  if (m.members < nodes) return std::nullopt;
  return m;
}

Json send_request(std::size_t size) {
  return Json{{"command", "cpg_send"},
              {"group", "bench"},
              {"data", Json::binary(std::vector<std::uint8_t>(size))}};
}

// One client of the throughput run; its figure, 0 when it failed.
double throughput(const std::string& socket, int node, long per, std::size_t size) {
  auto m = joined(socket, node, 3);
  if (!m) return 0;
  const Json request = send_request(size);
  const auto start = Clock::now();
  long sent = 0;
  while (m->delivered < per * 3) {
    const long room = std::min(kWindow - (sent - m->own), per - sent);
    if (room > 0) {
      const std::vector<Json> burst(static_cast<std::size_t>(room), request);
      auto answers = m->client.call_all(burst);
      if (!answers.ok()) return 0;
      for (const auto& a : *answers) {
        if (a["ok"] == true) ++sent;
        else if (a.value("code", "") != "try_again") return 0;
      }
    }
    // Sleeps in the read when it may send no more now; else takes what is there and goes on.
    const bool blocked = sent == per || sent - m->own >= kWindow;
    if (!m->read(blocked ? kWait : 0)) return 0;
  }
  return static_cast<double>(per * 3) / (seconds(m->last_delivery) - seconds(start));
}

struct Latency {
  double p50 = 0, p99 = 0;
};

Latency latency(const std::string& socket, long count, std::size_t size) {
  auto m = joined(socket, 1, 1);
  if (!m) return {};
  const Json request = send_request(size);
  std::vector<double> us;
  for (long i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    auto sent = m->client.call(request);
    if (!sent.ok() || (*sent)["ok"] != true) return {};
    while (m->own <= i)
      if (!m->read(kWait)) return {};
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

// Runs `work` in a child process (one client each, as libcpg's clients are) and reads back
// what it wrote.
template <class Work>
pid_t child(int pipe_out[2], Work work) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_out[0]);
    const std::string line = work();
    (void)!::write(pipe_out[1], line.data(), line.size());
    ::_exit(0);
  }
  return pid;
}

std::string collect(int fd) {
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--hex") == 0) frames = vigil::control::kVersion;
  }
  vigil::bench::LoopbackCluster c("cpg-socket", 36000 + ::getpid() % 2000, 1000);
  if (!c.form(std::chrono::seconds(60))) return 1;
  std::printf("vigild x3 on 127.0.0.1-3 (udpu, aes256 + sha256), a client process on each through "
              "the control socket, %s\n\n%-8s %-6s %14s %16s %14s\n",
              frames == vigil::control::kVersion ? "payloads as hex in JSON (version-1 frames)"
                                                 : "payloads raw (version-2 frames)",
              "crypto", "size", "ordered msg/s", "latency p50 us", "latency p99 us");
  for (const std::size_t size : {std::size_t{64}, std::size_t{1024}}) {
    const long per = quick ? 5000 : (size == 64 ? 100000 : 40000);
    std::vector<pid_t> pids;
    std::vector<int> reads;
    for (int n = 1; n <= 3; ++n) {
      int p[2];
      if (::pipe(p) != 0) return 1;
      pids.push_back(child(p, [&] {
        return std::to_string(throughput(c.socket(n), n, per, size));
      }));
      ::close(p[1]);
      reads.push_back(p[0]);
    }
    double slowest = 0;
    for (std::size_t i = 0; i < pids.size(); ++i) {
      const double figure = std::stod("0" + collect(reads[i]));
      ::close(reads[i]);
      ::waitpid(pids[i], nullptr, 0);
      slowest = i == 0 ? figure : std::min(slowest, figure);
    }
    int p[2];
    if (::pipe(p) != 0) return 1;
    const pid_t pid = child(p, [&] {
      const auto l = latency(c.socket(1), quick ? 200 : 2000, size);
      return std::to_string(l.p50) + " " + std::to_string(l.p99);
    });
    ::close(p[1]);
    double p50 = 0, p99 = 0;
    std::sscanf(collect(p[0]).c_str(), "%lf %lf", &p50, &p99);
    ::close(p[0]);
    ::waitpid(pid, nullptr, 0);
    std::printf("%-8s %-6zu %14.0f %16.0f %14.0f\n", "on", size, slowest, p50, p99);
    std::fflush(stdout);
  }
  return 0;
}
