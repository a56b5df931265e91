// frame: the control socket's frames as bytes, in two versions (no socket here: the codec is pure,
// so the fuzz targets and the tests drive it alone).
//   version 1: u8 1 | u8[3] zero | u32 LE body length | JSON body
//   version 2: u8 2 | u8[3] zero | u32 LE body length | u32 LE payload length | JSON body | payload
// A body is a JSON object. Its bytes values (Json::binary: cpg_send's data, a message event's data)
// travel as hex strings in version 1, and raw in version 2, where the text holds
// {"$bytes": [offset, length]} and the bytes are the payload's from offset: a 1 KiB message then
// costs 1 KiB on the socket, not 2 KiB of hex that each side's JSON code reads a character at a
// time. Body and payload hold at most kMaxBody bytes together; a version-2 frame's ranges lie in
// its payload and their lengths add up to the payload's. An answer goes in its request's version,
// so a client chooses by the frames it sends (ping's "versions" lists the ones vigild reads), a
// client of version 1 sees what it always saw, and a vigild older than version 2 refuses such a
// frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "common/common.h"

namespace vigil::control {

using Json = nlohmann::json;

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint8_t kPayloadVersion = 2;
inline constexpr std::size_t kFrameHeader = 8;
inline constexpr std::size_t kPayloadHeader = 12;
inline constexpr std::size_t kMaxBody = 16u << 20;
inline constexpr std::size_t kMaxFrame = kPayloadHeader + kMaxBody;

// Any body is encodable: a string that is not valid UTF-8 (a CIB value read from a peer or a disk)
// is written with U+FFFD in place of the bad bytes. An error only for a body over kMaxBody, or a
// version this side does not write. The rvalue form moves the bytes values out instead of copying.
Result<std::vector<std::uint8_t>> encode_frame(const Json& body, std::uint8_t version = kVersion);
Result<std::vector<std::uint8_t>> encode_frame(Json&& body, std::uint8_t version);

// One decoded frame, how many bytes it took from the input, and its version (the answer's).
struct Decoded {
  Json body;
  std::size_t consumed = 0;
  std::uint8_t version = kVersion;
};
// Nothing when the input holds no whole frame yet; an error for a bad version, reserved bytes, an
// oversized length, a body that is not a JSON object, or a bytes range outside the payload.
Result<std::optional<Decoded>> decode_frame(std::span<const std::uint8_t> input);

}  // namespace vigil::control
