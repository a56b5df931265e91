#include "metrics/timings.h"

#include <algorithm>

namespace vigil::metrics {

namespace {

// Buckets by what each measures: a token timeout is 1 s by default (3 s and up over a WAN);
// a scheduler run is milliseconds at a few resources and a second at thousands, a token rotation
// milliseconds on a busy ring and the hold (most of a token timeout) on an idle one; a transition
// and a failover are a start's and a stop's time, seconds to minutes.
const std::vector<double> kDetectionBuckets{0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30};
const std::vector<double> kMillisecondBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2.5,   5};
const std::vector<double> kActionBuckets{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};

double seconds(Millis ms) {
  return static_cast<double>(std::max<Millis>(ms, 0)) / 1000.0;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {
  VIGIL_ASSERT(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (at != bounds_.end()) ++counts_[static_cast<std::size_t>(at - bounds_.begin())];
  sum_ += value;
  ++count_;
}

nlohmann::json Histogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  std::uint64_t below = 0;
  for (auto c : counts_) buckets.push_back(below += c);
  return {{"le", bounds_}, {"buckets", buckets}, {"sum", sum_}, {"count", count_}};
}

Timings::Timings()
    : detection_(kDetectionBuckets),
      scheduler_(kMillisecondBuckets),
      transition_(kActionBuckets),
      failover_(kActionBuckets),
      token_rotation_(kMillisecondBuckets) {}

void Timings::peer_lost(Millis last_heard, Millis now, const std::vector<std::string>& resources) {
  detection_.observe(seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_emplace(r, last_heard);
}

// A second failure before the resource ran again is part of the same outage: the first counts.
void Timings::resource_failed(const std::string& resource, Millis now) {
  faults_.try_emplace(resource, now);
}

void Timings::resource_running(const std::string& resource, Millis now) {
  auto it = faults_.find(resource);
  if (it == faults_.end()) return;
  failover_.observe(seconds(now - it->second));
  faults_.erase(it);
}

void Timings::step(bool transition_started, bool transition_ended, double took, Millis now) {
  if (transition_ended && transition_since_) {
    transition_.observe(seconds(now - *transition_since_));
    transition_since_.reset();
  }
  if (!transition_started) return;
  scheduler_.observe(took);
  transition_since_ = now;
}

void Timings::token_rotated(Millis took) {
  token_rotation_.observe(seconds(took));
}

nlohmann::json Timings::to_json() const {
  return {{kFailureDetection.name, detection_.to_json()},
          {kSchedulerRun.name, scheduler_.to_json()},
          {kTransition.name, transition_.to_json()},
          {kFailover.name, failover_.to_json()},
          {kTokenRotation.name, token_rotation_.to_json()}};
}

}  // namespace vigil::metrics
