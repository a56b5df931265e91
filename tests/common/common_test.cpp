#include "common/common.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return fail("value must be positive");
  return v;
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "value must be positive");
}

TEST(Rng, SameSeedSameSequence) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, UniformStaysInBounds) {
  Rng r(7);
  int hits[5] = {};
  for (int i = 0; i < 5000; ++i) {
    auto v = r.uniform(5);
    ASSERT_LT(v, 5u);
    ++hits[v];
  }
  for (int h : hits) EXPECT_GT(h, 800);
  for (int i = 0; i < 1000; ++i) {
    auto v = r.between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
  }
}

TEST(Assert, AbortsLoudly) {
  EXPECT_DEATH(VIGIL_ASSERT(1 + 1 == 3), "assertion failed: 1 \\+ 1 == 3");
}

}  // namespace
}  // namespace vigil
