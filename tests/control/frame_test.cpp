// The socket's version-2 frames: bytes values travel raw after the JSON, each named by its range;
// version 1 writes the same values as hex, as clients before version 2 read them.
#include "control/frame.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::control {
namespace {

using Bytes = std::vector<std::uint8_t>;

const Bytes& bytes_of(const Json& value) {
  return static_cast<const Bytes&>(value.get_binary());
}

// A version-2 frame written by hand: any client may order its text and payload as it likes.
Bytes frame_v2(const std::string& text, const Bytes& payload) {
  Bytes out{kPayloadVersion, 0, 0, 0};
  for (const std::size_t n : {text.size(), payload.size()})
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::string error_of(const Bytes& frame) {
  auto decoded = decode_frame(frame);
  return decoded.ok() ? "decoded" : decoded.error().message;
}

TEST(PayloadFrame, BytesTravelRawAfterTheJsonAndComeBackAsBytes) {
  const Bytes one{0x00, 0x22, 0xff}, two(1024, 0x5c);
  const Json body{{"command", "cpg_send"},
                  {"data", Json::binary(one)},
                  {"more", Json::array({Json::binary(two), Json::binary(Bytes{})})}};
  const auto frame = encode_frame(body, kPayloadVersion);
  ASSERT_TRUE(frame.ok()) << frame.error().message;
  EXPECT_EQ((*frame)[0], kPayloadVersion);
  // The payload is the bytes themselves, after the text: no hex, no escapes.
  const std::size_t payload = (*frame)[8] | ((*frame)[9] << 8);
  EXPECT_EQ(payload, one.size() + two.size());
  const std::string text(frame->begin() + kPayloadHeader, frame->end() - payload);
  EXPECT_EQ(text.find("5c5c"), std::string::npos) << text;
  EXPECT_NE(text.find("\"$bytes\""), std::string::npos) << text;
  for (std::size_t cut = 0; cut < frame->size(); ++cut) {
    auto partial = decode_frame(std::span(*frame).first(cut));
    ASSERT_TRUE(partial.ok()) << cut << ": " << partial.error().message;
    EXPECT_FALSE(*partial) << cut;
  }
  auto back = decode_frame(*frame);
  ASSERT_TRUE(back.ok() && *back) << (back.ok() ? "partial" : back.error().message);
  EXPECT_EQ((*back)->version, kPayloadVersion);
  EXPECT_EQ((*back)->consumed, frame->size());
  EXPECT_EQ((*back)->body, body);
  EXPECT_EQ(bytes_of((*back)->body["data"]), one);
}

TEST(PayloadFrame, VersionOneWritesTheSameBytesAsHex) {
  const Json body{{"ok", true}, {"data", Json::binary(Bytes{0x0f, 0xa0})}};
  auto back = decode_frame(*encode_frame(body));
  ASSERT_TRUE(back.ok() && *back);
  EXPECT_EQ((*back)->version, kVersion);
  EXPECT_EQ((*back)->body, (Json{{"ok", true}, {"data", "0fa0"}}));
  // A moved body gives the same frame as a copied one.
  EXPECT_EQ(*encode_frame(Json(body), kVersion), *encode_frame(body));
  EXPECT_EQ(*encode_frame(Json(body), kPayloadVersion), *encode_frame(body, kPayloadVersion));
  EXPECT_FALSE(encode_frame(body, 3).ok());
}

// Ranges name their bytes, so a value's place in the text does not matter; "$bytes" means
// nothing in a version-1 frame.
TEST(PayloadFrame, RangesMayComeInAnyOrder) {
  auto back = decode_frame(
      frame_v2(R"({"a":{"$bytes":[3,2]},"b":{"$bytes":[0,3]},"c":[1]})", Bytes{1, 2, 3, 4, 5}));
  ASSERT_TRUE(back.ok() && *back) << (back.ok() ? "partial" : back.error().message);
  EXPECT_EQ(bytes_of((*back)->body["a"]), (Bytes{4, 5}));
  EXPECT_EQ(bytes_of((*back)->body["b"]), (Bytes{1, 2, 3}));
  EXPECT_EQ((*back)->body["c"], Json::array({1}));
  auto plain = decode_frame(*encode_frame(Json{{"a", {{"$bytes", {0, 0}}}}}));
  ASSERT_TRUE(plain.ok() && *plain);
  EXPECT_TRUE((*plain)->body["a"].is_object());
}

TEST(PayloadFrame, RefusesRangesOutsideThePayloadAndUnusedBytes) {
  EXPECT_EQ(error_of(frame_v2(R"({"a":{"$bytes":[2,2]}})", Bytes{1, 2, 3})),
            "control: bytes [2, 2] lie outside the payload of 3");
  EXPECT_EQ(error_of(frame_v2(R"({"a":{"$bytes":[18446744073709551615,2]}})", Bytes{1, 2})),
            "control: bytes [18446744073709551615, 2] lie outside the payload of 2");
  EXPECT_EQ(error_of(frame_v2(R"({"a":{"$bytes":[0,1]}})", Bytes{1, 2})),
            "control: the payload holds 2 bytes and the body's ranges 1");
  EXPECT_EQ(error_of(frame_v2(R"({"a":1})", Bytes{9})),
            "control: the payload holds 1 bytes and the body's ranges 0");
  for (const char* odd : {R"({"a":{"$bytes":[0]}})", R"({"a":{"$bytes":[-1,1]}})",
                          R"({"a":{"$bytes":[0,1.5]}})", R"({"a":{"$bytes":"0,1"}})"})
    EXPECT_EQ(error_of(frame_v2(odd, Bytes{7})),
              "control: a \"$bytes\" value must be [offset, length]")
        << odd;
  EXPECT_EQ(error_of(frame_v2(R"({"$bytes":[0,1]})", Bytes{7})),
            "control: the body is not a JSON object");
  auto frame = frame_v2("{}", {});
  frame[2] = 1;
  EXPECT_EQ(error_of(frame), "control: reserved header bytes are set");
  frame = frame_v2("{}", {});
  frame[11] = 0x01;  // a payload of 16 MiB and more, with a body of 2
  EXPECT_NE(error_of(frame).find("too large"), std::string::npos);
}

}  // namespace
}  // namespace vigil::control
