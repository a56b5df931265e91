// A control connection's queue of group events: what a cpg_read answers, in delivery order; the
// bounds that keep a slow reader from growing vigild (the oldest go, counted); the congestion that
// answers the connection's own sends try_again.
#include "control/group_events.h"

#include <gtest/gtest.h>

namespace vigil::control {
namespace {

groups::GroupEvent message(std::size_t size, std::uint8_t first = 0) {
  groups::Bytes data(size, 0xab);
  if (size > 0) data[0] = first;
  return groups::GroupMessage{"g", {2, 77}, std::move(data)};
}

TEST(GroupEvents, AReadTakesEveryEventInOrder) {
  GroupEvents q;
  q.push(groups::GroupChange{"g", {{1, 5}, {2, 77}}, {{2, 77}}, {}, groups::Reason::Join});
  q.push(groups::GroupMessage{"g", {2, 77}, {0x0f, 0xa0}});
  EXPECT_FALSE(q.empty());
  const Json read = q.take();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(read["ok"], true);
  EXPECT_EQ(read["dropped"], 0);
  ASSERT_EQ(read["events"].size(), 2u);
  EXPECT_EQ(read["events"][0],
            (Json{{"type", "change"},
                  {"group", "g"},
                  {"members", {{{"node", 1}, {"pid", 5}}, {{"node", 2}, {"pid", 77}}}},
                  {"joined", {{{"node", 2}, {"pid", 77}}}},
                  {"left", Json::array()},
                  {"reason", "join"}}));
  EXPECT_EQ(read["events"][1], (Json{{"type", "message"},
                                     {"group", "g"},
                                     {"node", 2},
                                     {"pid", 77},
                                     {"data", Json::binary({0x0f, 0xa0})}}));
  EXPECT_EQ(q.take()["events"].size(), 0u);
}

// The queue keeps a message's bytes; the reader's frames decide how they travel: a client of
// version 1 reads the hex it always read, one of version 2 the bytes.
TEST(GroupEvents, AReadGoesAsHexOrRawAsTheReaderAsks) {
  GroupEvents q;
  q.push(groups::GroupMessage{"g", {2, 77}, {0x0f, 0xa0}});
  q.push(groups::GroupMessage{"g", {1, 5}, {0x01}});
  const Json read = q.take();
  auto hex = decode_frame(*encode_frame(read));
  ASSERT_TRUE(hex.ok() && *hex);
  EXPECT_EQ((*hex)->body["events"][0]["data"], "0fa0");
  EXPECT_EQ((*hex)->body["events"][1]["data"], "01");
  auto raw = decode_frame(*encode_frame(read, kPayloadVersion));
  ASSERT_TRUE(raw.ok() && *raw);
  EXPECT_EQ((*raw)->body, read);
}

TEST(GroupEvents, AFullQueueDropsTheOldestAndCountsThem) {
  GroupEvents q({.events = 100});
  for (std::size_t i = 0; i < 103; ++i) q.push(message(1, static_cast<std::uint8_t>(i)));
  const Json read = q.take();
  EXPECT_EQ(read["dropped"], 3);
  ASSERT_EQ(read["events"].size(), 100u);
  EXPECT_EQ(read["events"][0]["data"], Json::binary({3}));  // events 0, 1 and 2 went
  EXPECT_EQ(q.take()["dropped"], 0) << "a read reports a drop once";
}

TEST(GroupEvents, TheQueueIsBoundedInBytesToo) {
  GroupEvents q;  // the daemon's bounds
  // Just under 2 MiB of hex each: 4 fit in 8 MiB.
  for (int i = 0; i < 5; ++i) q.push(message(groups::kMaxMessage, static_cast<std::uint8_t>(i)));
  const Json read = q.take();
  EXPECT_EQ(read["dropped"], 1);
  ASSERT_EQ(read["events"].size(), 4u);
  EXPECT_EQ(read["events"][0]["data"].get_binary().at(0), 1);
  EXPECT_TRUE(encode_frame(read).ok()) << "a whole queue fits one answer";
  EXPECT_TRUE(encode_frame(read, kPayloadVersion).ok()) << "in either version";
}

TEST(GroupEvents, PastHalfEitherBoundTheConnectionIsCongested) {
  GroupEvents by_count({.events = 100});
  for (int i = 0; i < 50; ++i) by_count.push(message(1));
  EXPECT_FALSE(by_count.congested());
  by_count.push(message(1));
  EXPECT_TRUE(by_count.congested());
  by_count.take();
  EXPECT_FALSE(by_count.congested()) << "reading ends it";

  GroupEvents by_bytes;
  for (int i = 0; i < 2; ++i) by_bytes.push(message(groups::kMaxMessage));
  EXPECT_FALSE(by_bytes.congested());
  by_bytes.push(message(groups::kMaxMessage));
  EXPECT_TRUE(by_bytes.congested());
}

}  // namespace
}  // namespace vigil::control
