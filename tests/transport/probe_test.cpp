// One link's round trip and loss from its pings and pongs, with the times passed in.
#include "transport/probe.h"

#include <gtest/gtest.h>

namespace vigil::transport {
namespace {

TEST(PingLog, RoundTripsAreTheAnsweredPingsAndTheLatestIsLast) {
  PingLog log;
  const auto first = log.sent(1000);
  const auto second = log.sent(2000);
  log.answered(second, 2300);
  log.answered(first, 1100);
  const auto q = log.quality(2400, 500);
  EXPECT_EQ(q.pings, 2u);
  EXPECT_EQ(q.lost, 0u);
  EXPECT_EQ(q.mean_round_trip, 200u);
  EXPECT_EQ(q.last_round_trip, 300u) << "the latest ping sent that was answered";
}

TEST(PingLog, APingIsLostOnlyOnceItsTimeoutHasPassed) {
  PingLog log;
  log.sent(0);
  EXPECT_EQ(log.quality(499, 500).pings, 0u) << "still pending";
  const auto q = log.quality(500, 500);
  EXPECT_EQ(q.pings, 1u);
  EXPECT_EQ(q.lost, 1u);
  EXPECT_DOUBLE_EQ(q.loss(), 1.0);
  EXPECT_FALSE(q.mean_round_trip);
}

TEST(PingLog, ALatePongGivesARoundTripButStaysALoss) {
  PingLog log;
  const auto n = log.sent(0);
  log.answered(n, 900);
  const auto q = log.quality(1000, 500);
  EXPECT_EQ(q.lost, 1u);
  EXPECT_EQ(q.mean_round_trip, 900u);
}

TEST(PingLog, UnknownDuplicateAndForgottenPongsChangeNothing) {
  PingLog log;
  const auto n = log.sent(0);
  log.answered(n + 7, 10);  // never sent
  log.answered(n, 100);
  log.answered(n, 400);  // a duplicate
  EXPECT_EQ(log.quality(1000, 500).mean_round_trip, 100u);
  for (std::size_t i = 0; i < PingLog::kKept; ++i) log.sent(1000 + i);
  log.answered(n, 2000);  // no longer kept
  const auto q = log.quality(5000, 500);
  EXPECT_EQ(q.pings, PingLog::kKept) << "only the last kKept count";
  EXPECT_EQ(q.lost, PingLog::kKept);
  EXPECT_FALSE(q.mean_round_trip);
}

}  // namespace
}  // namespace vigil::transport
