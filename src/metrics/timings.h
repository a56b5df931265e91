// timings: how long the cluster took, as Prometheus histograms — failure detection, scheduler
// runs, transitions, and failovers (a fault until the resource runs again). Pure: the daemon
// tells it what happened and when, on its monotonic clock, and shows to_json() in its status
// answer, from which the exposition writes the _bucket/_sum/_count series.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::metrics {

// Counts of observations at or below each upper bound (seconds), their sum and their number.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);  // ascending; +Inf is implied
  void observe(double seconds);
  // {"le": [bounds], "buckets": [cumulative counts, one per bound], "sum": s, "count": n}
  nlohmann::json to_json() const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bound, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// The histogram families vigild keeps, by metric name; each with its HELP text.
struct TimingFamily {
  const char* name;
  const char* help;
};
inline constexpr TimingFamily kFailureDetection{
    "vigil_failure_detection_seconds",
    "From the last frame heard from a peer to the membership change that removed it"};
inline constexpr TimingFamily kSchedulerRun{
    "vigil_scheduler_run_seconds",
    "The node core's step that ran the scheduler and started a transition, on the DC"};
inline constexpr TimingFamily kTransition{
    "vigil_transition_duration_seconds", "From a transition's start to its end, on the DC"};
inline constexpr TimingFamily kFailover{
    "vigil_failover_seconds",
    "From a fault (a peer last heard, a failed action recorded) to the resource started again"};
inline constexpr TimingFamily kTokenRotation{
    "vigil_token_rotation_seconds",
    "Between two receipts of the token here: a rotation of the ring, an idle ring's hold included "
    "(Corosync's stats.srp.mtt_rx_token is its mean)"};

// The resources the CIB shows running on `node` (by name): what a loss of it takes down.
std::vector<std::string> running_on(const cib::Cib& cib, const std::string& node, Millis now);

class Timings {
 public:
  Timings();
  // A peer left the ring at `now`, last heard at `last_heard`; `resources` ran on it.
  void peer_lost(Millis last_heard, Millis now, const std::vector<std::string>& resources);
  // A failed action of `resource` was recorded at `now`.
  void resource_failed(const std::string& resource, Millis now);
  // A start (or promote) of `resource` succeeded, recorded at `now`: a pending fault of it is
  // over.
  void resource_running(const std::string& resource, Millis now);
  // After a step of the node core that took `took` seconds (the shell's clock, finer than
  // Millis): whether it started a transition, whether it ended one.
  void step(bool transition_started, bool transition_ended, double took, Millis now);
  // The token came round again here after `took` (totem::RingStats::last_token_rotation).
  void token_rotated(Millis took);
  // {family name: Histogram::to_json()}
  nlohmann::json to_json() const;

 private:
  std::map<std::string, Millis> faults_;  // resource → when its fault happened
  std::optional<Millis> transition_since_;
  Histogram detection_, scheduler_, transition_, failover_, token_rotation_;
};

}  // namespace vigil::metrics
