// The loop-stall benchmark. Run: build/release/bench/cib_stall/bench_cib_stall [resources]
// [updates] [token_ms] [vigild] (10000, 1000, 1000, the vigild built beside it; another build's
// vigild compares two versions). Three vigild on 127.0.0.1-3 (started and ended here, by pid) start
// from the same CIB, of the size `resources` primitives make (5 MB for 10 000), then a client on
// node 1 commits `updates` status updates one after the other (a node attribute in n1's
// transient_attributes, as attrd writes them), each answered once applied and durable. Per node it
// prints the longest time one piece of work held the loop while the updates ran (vigild's loop
// watch logs each one over 20 ms at debug level), how many were over 100 and 250 ms (its
// `status`), and the memberships formed meanwhile; then the client's latency per update.
// The entries are <template>s, which the scheduler leaves alone: with as many primitives every
// controller first probes each of them on each node, which takes hours, and its scheduler runs
// on the same loop for seconds at a time — that cost is not the CIB's and is not measured here.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cib/cib_io.h"
#include "cib/op_json.h"
#include "control/control.h"
#include "loopback_cluster.h"

namespace {

using namespace vigil;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

std::string large_cib(int resources) {
  std::string r;
  for (int i = 0; i < resources; ++i) {
    const std::string id = "rsc" + std::to_string(i);
    r +=
        "<template id=\"" + id +
        "\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\"><instance_attributes id=\"" + id +
        "-ia\"><nvpair id=\"" + id + "-ia-ip\" name=\"ip\" value=\"10.0." +
        std::to_string(i / 250) + "." + std::to_string(i % 250) +
        "\"/></instance_attributes><meta_attributes id=\"" + id + "-ma\"><nvpair id=\"" + id +
        "-ma-tr\" name=\"target-role\" value=\"Stopped\"/></meta_attributes><operations><op id=\"" +
        id + "-mon\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/></operations></template>";
  }
  std::string nodes;
  for (int n = 1; n <= 3; ++n)
    nodes += "<node id=\"" + std::to_string(n) + "\" uname=\"n" + std::to_string(n) + "\"/>";
  return "<cib admin_epoch=\"0\" epoch=\"1\" num_updates=\"0\" validate-with=\"pacemaker-3.0\">"
         "<configuration><crm_config><cluster_property_set id=\"cib-bootstrap-options\">"
         "<nvpair id=\"o-stonith\" name=\"stonith-enabled\" value=\"false\"/>"
         "<nvpair id=\"o-maint\" name=\"maintenance-mode\" value=\"true\"/>"
         "</cluster_property_set></crm_config><nodes>" +
         nodes + "</nodes><resources>" + r +
         "</resources><constraints/></configuration><status/></cib>";
}

cib::CibOp status_update(int i) {
  return {{cib::CibChange::modify(
      "/cib/status",
      "<status><node_state id=\"1\" uname=\"n1\"><transient_attributes id=\"1\">"
      "<instance_attributes id=\"status-1\"><nvpair id=\"status-1-bench\" name=\"bench\" value=\"" +
          std::to_string(i) +
          "\"/></instance_attributes></transient_attributes></node_state>"
          "</status>")}};
}

Json status(const bench::LoopbackCluster& c, int n) {
  auto s = control::request(c.socket(n), {{"command", "status"}}, 5000);
  return s ? *s : Json(nullptr);
}

std::string cib_version(const bench::LoopbackCluster& c, int n) {
  auto s = status(c, n);
  return s.is_object() && s.contains("cib") ? s["cib"]["version"].get<std::string>() : "";
}

// The log of node `n` from byte `from` on.
std::string log_since(const bench::LoopbackCluster& c, int n, std::uintmax_t from) {
  std::ifstream in(c.log(n));
  in.seekg(static_cast<std::streamoff>(from));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

long longest_hold(const std::string& log) {
  long longest = 0;
  const std::string mark = "the loop was held ";
  for (auto at = log.find(mark); at != std::string::npos; at = log.find(mark, at + 1))
    longest = std::max(longest, std::atol(log.c_str() + at + mark.size()));
  return longest;
}

long count(const std::string& log, const std::string& what) {
  long n = 0;
  for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
  return n;
}

long over(const Json& s, const char* bound) {
  return s.is_object() && s.contains("loop") ? s["loop"]["stalls_over_ms"].value(bound, 0L) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const int resources = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int updates = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int token = argc > 3 ? std::atoi(argv[3]) : 1000;
  bench::LoopbackCluster c("stall", 33000 + ::getpid() % 2000, token,
                           " logger_subsys {\n  subsys: MAIN\n  debug: on\n }\n");
  if (argc > 4) c.vigild = argv[4];
  auto doc = cib::Cib::parse(large_cib(resources));
  if (!doc) return std::fprintf(stderr, "%s\n", doc.error().message.c_str()), 1;
  for (int n = 1; n <= 3; ++n) {
    if (auto saved = cib::CibFile(c.state(n) / "cib.xml").save(*doc); !saved)
      return std::fprintf(stderr, "%s\n", saved.error().message.c_str()), 1;
  }
  if (!c.form(std::chrono::seconds(120))) return 1;
  // Quiet: the CIB stayed at one version for 5 s (the nodes entered themselves, the DC settled).
  std::string seen = cib_version(c, 1);
  int still = 0;
  for (int i = 0; still < 25 && i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto now = cib_version(c, 1);
    still = now == seen ? still + 1 : 0;
    seen = now;
  }
  if (still < 25)
    std::printf("the CIB still changed 2 min after the start (at %s)\n", seen.c_str());
  std::vector<Json> before;
  std::vector<std::uintmax_t> offsets;
  for (int n = 1; n <= 3; ++n) {
    before.push_back(status(c, n));
    offsets.push_back(bench::fs::file_size(c.log(n)));
  }
  auto client = control::Client::connect(c.socket(1));
  if (!client) return std::fprintf(stderr, "cannot reach node 1\n"), 1;
  std::vector<double> ms;
  const auto t0 = Clock::now();
  for (int i = 0; i < updates; ++i) {
    const auto start = Clock::now();
    auto answer =
        client->call({{"command", "cib_commit"}, {"op", cib::op_to_json(status_update(i))}}, 60000);
    if (!answer || !(*answer)["ok"].get<bool>()) {
      std::fprintf(stderr, "update %d failed: %s\n", i,
                   answer ? answer->dump().c_str() : answer.error().message.c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%d resources, %d status updates from n1, token %d ms, %.1f s (%.0f updates/s)\n",
              resources, updates, token, seconds, updates / seconds);
  std::printf("%-5s %22s %12s %12s %12s\n", "node", "longest loop hold, ms", "holds>=100ms",
              "holds>=250ms", "memberships");
  for (int n = 1; n <= 3; ++n) {
    const auto log = log_since(c, n, offsets[n - 1]);
    const auto after = status(c, n);
    std::printf("n%-4d %22ld %12ld %12ld %12ld\n", n, longest_hold(log),
                over(after, "100") - over(before[n - 1], "100"),
                over(after, "250") - over(before[n - 1], "250"), count(log, "A new membership"));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("update answered after (ms): median %.1f, p99 %.1f, max %.1f\n", ms[ms.size() / 2],
              ms[ms.size() * 99 / 100], ms.back());
  return 0;
}
