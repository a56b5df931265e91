#include <gtest/gtest.h>

#include "totem/wire.h"

namespace vigil::totem::wire {
namespace {

Packet roundtrip(const Packet& p) {
  const Bytes bytes = encode(p);
  auto back = decode(bytes);
  EXPECT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(encode(*back), bytes);
  return *back;
}

TEST(Wire, EveryFrameTypeRoundTrips) {
  const Header h{7, 0x1122334455667788ULL};
  Message m{RingId{1, 8}, 3, 7, true, false, Bytes{1, 2, 3}};
  EXPECT_EQ(std::get<McastFrame>(roundtrip({h, McastFrame{m}}).body).msg.payload, m.payload);
  Message wrapped{RingId{1, 12}, 1, 2, false, true, encode_message(m)};
  EXPECT_TRUE(std::get<McastFrame>(roundtrip({h, McastFrame{wrapped}}).body).msg.recovered);
  TokenFrame t{RingId{1, 8}, 9, 20, 18, 3, 4, 5, 1, {19, 20}};
  EXPECT_EQ(std::get<TokenFrame>(roundtrip({h, t}).body).rtr, (std::vector<Seq>{19, 20}));
  JoinFrame j{RingId{2, 4}, 16, {1, 2, 3}, {3}, {1, 2}};
  EXPECT_EQ(std::get<JoinFrame>(roundtrip({h, j}).body).fail, std::vector<NodeId>{3});
  CommitFrame c{
      RingId{1, 20}, 2, {{1, 5, RingId{1, 8}, 3, 4, true}, {2, 6, RingId{2, 4}, 0, 0, false}}};
  EXPECT_EQ(std::get<CommitFrame>(roundtrip({h, c}).body).members.size(), 2U);
  EXPECT_EQ(std::get<LeaveFrame>(roundtrip({h, LeaveFrame{RingId{1, 8}}}).body).ring,
            (RingId{1, 8}));
  roundtrip({h, HoldCancelFrame{RingId{1, 8}}});
  EXPECT_EQ(std::get<MergeDetectFrame>(roundtrip({h, MergeDetectFrame{RingId{1, 8}, {1, 2}}}).body)
                .members.size(),
            2U);
}

TEST(Wire, HeaderIsLittleEndianAndVersioned) {
  const Bytes b = encode({Header{0x01020304, 5}, LeaveFrame{RingId{1, 2}}});
  ASSERT_GE(b.size(), 8U);
  EXPECT_EQ(b[0], 0x56);  // "VT"
  EXPECT_EQ(b[1], 0x54);
  EXPECT_EQ(b[2], kVersion);
  EXPECT_EQ(b[3], static_cast<std::uint8_t>(Type::Leave));
  EXPECT_EQ(b[4], 0x04);
  EXPECT_EQ(b[7], 0x01);
}

TEST(Wire, RejectsShortLongAndMalformedFrames) {
  const Bytes good = encode({Header{3, 9}, TokenFrame{RingId{1, 8}, 1, 5, 5, 0, 0, 0, 0, {4}}});
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode(std::span(good.data(), n)).ok()) << "truncated to " << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_FALSE(decode(longer).ok());
  Bytes version = good;
  version[2] = 9;
  auto v = decode(version);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("version 9"), std::string::npos);
  Bytes type = good;
  type[3] = 99;
  EXPECT_FALSE(decode(type).ok());
  // aru above seq and an rtr entry beyond seq are nonsense.
  EXPECT_FALSE(
      decode(encode({Header{3, 9}, TokenFrame{RingId{1, 8}, 1, 5, 6, 0, 0, 0, 0, {}}})).ok());
  EXPECT_FALSE(
      decode(encode({Header{3, 9}, TokenFrame{RingId{1, 8}, 1, 5, 5, 0, 0, 0, 0, {6}}})).ok());
  // A commit token whose members are out of order or whose rep is not the first member.
  EXPECT_FALSE(
      decode(encode({Header{3, 9},
                     CommitFrame{
                         RingId{1, 8}, 1, {{2, 1, {}, 0, 0, false}, {1, 1, {}, 0, 0, false}}}}))
          .ok());
  EXPECT_FALSE(
      decode(encode({Header{3, 9}, CommitFrame{RingId{2, 8}, 1, {{1, 1, {}, 0, 0, false}}}})).ok());
  // A recovered message must wrap a well-formed, non-recovered message.
  Message bad{RingId{1, 8}, 1, 2, false, true, Bytes{1, 2, 3}};
  EXPECT_FALSE(decode(encode({Header{3, 9}, McastFrame{bad}})).ok());
}

}  // namespace
}  // namespace vigil::totem::wire
