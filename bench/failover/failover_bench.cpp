// Failover time of the guide's web service: from the failure of the node holding the group to the
// page answering again from a survivor, i.e. the group's last start completed. Each run is one
// `vigil demo --token T --fault F` (three vigild on 127.0.0.1-3, ocf:vigil:vip +
// ocf:vigil:webserver); five runs per token and fault, the median reported beside the bound for a
// silent failure: runtime token + consensus (1.2 × runtime token, Corosync's default) + 500 ms.
// The runtime token is Corosync's: token + (nodes - 2) × token_coefficient (650 ms) for the
// demo's three nodes. The faults:
//   kill   kill -9 of its vigild and its agents' processes, the host up: the host refuses the next
//          datagram to the dead vigild (ICMP port unreachable), the survivors act on that at once;
//   power  its agents' processes killed and its vigild frozen (SIGSTOP), as a power cut: nothing
//          answers for it, only the token timeout tells.
//
//   bench_failover [runs] [kill|power ...]     (default: 5 kill power)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

// One demo run; the failover time it printed, or nothing when the run failed.
std::optional<long> failover_ms(int token, const std::string& fault) {
  const std::string command = std::string(VIGIL_PATH) + " demo --token " + std::to_string(token) +
                              " --fault " + fault + " 2>&1";
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  const std::string tag = "failover: ";
  const auto at = out.find(tag);
  if (at == std::string::npos) {
    std::fprintf(stderr, "a run at token %d (%s) failed:\n%s\n", token, fault.c_str(), out.c_str());
    return std::nullopt;
  }
  return std::atol(out.c_str() + at + tag.size());
}

// Corosync's runtime token for a nodelist of kDemoNodes (token_coefficient 650 ms), then
// token + consensus (1.2 × token) + 500 ms for the starts.
constexpr long kDemoNodes = 3;
long silent_failure_bound(long token) {
  const long runtime_token = token + (kDemoNodes - 2) * 650;
  return runtime_token + runtime_token * 12 / 10 + 500;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::vector<std::string> faults;
  for (int i = 2; i < argc; ++i) faults.emplace_back(argv[i]);
  if (faults.empty()) faults = {"kill", "power"};
  std::printf("%-6s %-8s %-6s %-10s %-10s %-10s %-12s %s\n", "fault", "token", "runs", "median",
              "min", "max", "bound", "all (ms)");
  int status = 0;
  for (const auto& fault : faults) {
    for (int token : {1000, 3000}) {
      std::vector<long> times;
      for (int i = 0; i < runs; ++i) {
        if (auto t = failover_ms(token, fault)) times.push_back(*t);
      }
      if (times.empty()) {
        std::printf("%-6s %-8d %-6d no successful run\n", fault.c_str(), token, runs);
        status = 1;
        continue;
      }
      std::string all;
      for (long t : times) {
        if (!all.empty()) all += ' ';  // (not "" + string: g++ 12 warns -Wrestrict on it)
        all += std::to_string(t);
      }
      std::sort(times.begin(), times.end());
      const long bound = silent_failure_bound(token);
      std::printf("%-6s %-8d %-6zu %-10ld %-10ld %-10ld %-12ld %s\n", fault.c_str(), token,
                  times.size(), times[times.size() / 2], times.front(), times.back(), bound,
                  all.c_str());
    }
  }
  std::printf("(bound = runtime token + consensus + 500 ms for 3 nodes: the wait for a silent "
              "failure; kill -9 is refused at once and has no token wait)\n");
  return status;
}
