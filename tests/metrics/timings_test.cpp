// The histograms vigild keeps: a Histogram counts each observation in the first bucket whose
// bound holds it (cumulative in the text, as Prometheus reads them); Timings turns what happened
// into observations — a failover from the fault to the start, a scheduler run, a transition —
// and the exposition writes each as _bucket{le=…}, _sum and _count under one TYPE histogram.
#include <gtest/gtest.h>

#include "metrics/metrics.h"
#include "metrics/timings.h"

namespace vigil::metrics {
namespace {

using Json = nlohmann::json;

TEST(Histogram, BucketsAreCumulativeAndABoundHoldsItsOwnValue) {
  Histogram h({0.5, 1, 5});
  for (double v : {0.1, 0.5, 0.7, 3.0, 42.0}) h.observe(v);
  const Json j = h.to_json();
  EXPECT_EQ(j["le"], Json({0.5, 1, 5}));
  EXPECT_EQ(j["buckets"], Json({2, 3, 4}));  // 0.5 is in le="0.5"; 42 only in +Inf
  EXPECT_DOUBLE_EQ(j["sum"].get<double>(), 46.3);
  EXPECT_EQ(j["count"], 5);
}

std::string text_of(const Timings& t) {
  return exposition(Scrape{nullptr, Json{{"timings", t.to_json()}}, std::nullopt, 0});
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(Timings, AFailoverRunsFromTheFaultToTheStartAndIsCountedOnce) {
  Timings t;
  // A peer last heard at 10 000 ms is dropped from the ring at 11 200; vip ran on it.
  t.peer_lost(10000, 11200, {"vip"});
  t.resource_running("web", 12000);  // no fault of web: nothing
  t.resource_failed("vip", 12500);   // the same outage: it still counts from 10 000
  t.resource_running("vip", 13500);
  t.resource_running("vip", 20000);  // a later start after no fault: nothing
  const std::string text = exposition(Scrape{nullptr, Json{{"timings", t.to_json()}}, {}, 0});
  EXPECT_TRUE(has(text, "# TYPE vigil_failover_seconds histogram")) << text;
  EXPECT_TRUE(has(text, "vigil_failover_seconds_bucket{le=\"2\"} 0")) << text;
  EXPECT_TRUE(has(text, "vigil_failover_seconds_bucket{le=\"5\"} 1")) << text;
  EXPECT_TRUE(has(text, "vigil_failover_seconds_bucket{le=\"+Inf\"} 1")) << text;
  EXPECT_TRUE(has(text, "vigil_failover_seconds_sum 3.5")) << text;
  EXPECT_TRUE(has(text, "vigil_failover_seconds_count 1")) << text;
  EXPECT_TRUE(has(text, "vigil_failure_detection_seconds_bucket{le=\"1\"} 0")) << text;
  EXPECT_TRUE(has(text, "vigil_failure_detection_seconds_bucket{le=\"2\"} 1")) << text;
  EXPECT_TRUE(has(text, "vigil_failure_detection_seconds_sum 1.2")) << text;
  // A failed monitor starts its own fault.
  t.resource_failed("web", 30000);
  t.resource_running("web", 30400);
  EXPECT_TRUE(has(text_of(t), "vigil_failover_seconds_count 2"));
  EXPECT_TRUE(has(text_of(t), "vigil_failover_seconds_bucket{le=\"0.5\"} 1"));
}

TEST(Timings, ATransitionLastsFromTheStepThatStartedItToTheOneThatEndedIt) {
  Timings t;
  t.step(false, false, 0.2, 1000);  // an ordinary step: nothing
  t.step(true, false, 0.003, 2000);
  t.step(false, false, 0.0001, 2500);
  t.step(false, true, 0.0001, 4500);
  // One that ends a transition and starts the next (an abort and a new graph).
  t.step(true, false, 0.02, 5000);
  t.step(true, true, 0.0004, 5100);
  const std::string text = text_of(t);
  EXPECT_TRUE(has(text, "vigil_scheduler_run_seconds_count 3")) << text;
  EXPECT_TRUE(has(text, "vigil_scheduler_run_seconds_bucket{le=\"0.001\"} 1")) << text;
  EXPECT_TRUE(has(text, "vigil_scheduler_run_seconds_bucket{le=\"0.005\"} 2")) << text;
  EXPECT_TRUE(has(text, "vigil_scheduler_run_seconds_bucket{le=\"0.025\"} 3")) << text;
  EXPECT_TRUE(has(text, "vigil_transition_duration_seconds_count 2")) << text;
  EXPECT_TRUE(has(text, "vigil_transition_duration_seconds_sum 2.6")) << text;
  EXPECT_TRUE(has(text, "vigil_transition_duration_seconds_bucket{le=\"0.1\"} 1")) << text;
}

TEST(Timings, ADaemonThatKeepsNoneHasNoHistograms) {
  const std::string text = exposition(Scrape{nullptr, Json::object(), std::nullopt, 0});
  EXPECT_EQ(text.find("histogram"), std::string::npos) << text;
}

}  // namespace
}  // namespace vigil::metrics
