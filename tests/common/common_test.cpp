#include "common/ascii.h"
#include "common/common.h"
#include "common/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

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

// `vigil simulate -x /dev/stdin` reads a pipe: it has no size and cannot seek.
TEST(ReadFile, ReadsAPipeWhole) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string text = "<cib>\n</cib>\n";
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  auto read = read_file("/dev/fd/" + std::to_string(fds[0]));
  ::close(fds[0]);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, text);
}

TEST(ReadFile, AMissingFileIsNamed) {
  auto read = read_file("/nonexistent/vigil-cib.xml");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("/nonexistent/vigil-cib.xml: cannot open"), std::string::npos);
}

TEST(Ascii, LowerFoldsOnlyAsciiLetters) {
  EXPECT_EQ(ascii_lower("Stopped INFINITY Ms"), "stopped infinity ms");
  EXPECT_EQ(ascii_lower(""), "");
  EXPECT_EQ(ascii_lower("az09_-@[`{"), "az09_-@[`{");  // the neighbours of A-Z stay
  EXPECT_EQ(ascii_lower("\xC3\x84X"), "\xC3\x84x");    // UTF-8 bytes pass through
  EXPECT_EQ(ascii_lower('Q'), 'q');
  EXPECT_EQ(ascii_lower('\xC4'), '\xC4');  // Latin-1 Ä: not ASCII, whatever the locale
}

TEST(Ascii, EqualsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(ascii_iequals("-INFINITY", "-infinity"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("yes", "yes "));
  EXPECT_FALSE(ascii_iequals("[", "{"));  // 0x5B and 0x7B differ by 0x20 but are not letters
  EXPECT_FALSE(ascii_iequals("\xC4", "\xE4"));
}

TEST(Assert, AbortsLoudly) {
  EXPECT_DEATH(VIGIL_ASSERT(1 + 1 == 3), "assertion failed: 1 \\+ 1 == 3");
}

}  // namespace
}  // namespace vigil
