#include "control/frame.h"

#include <string>

namespace vigil::control {

namespace {

// Calls `visit` on `root` and every value inside it; `visit` says whether to look inside the value
// it was given. Iterative: a peer's body may nest deeper than the stack would allow.
template <class J, class Visit>
void each_value(J& root, Visit visit) {
  std::vector<J*> stack{&root};
  while (!stack.empty()) {
    J* value = stack.back();
    stack.pop_back();
    if (!visit(*value) || !value->is_structured()) continue;
    for (auto& inside : *value) stack.push_back(&inside);
  }
}

bool has_bytes(const Json& body) {
  bool found = false;
  each_value(body, [&](const Json& v) {
    found = found || v.is_binary();
    return !found;
  });
  return found;
}

std::string hex(const Json::binary_t& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::size_t value) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::size_t get32(std::span<const std::uint8_t> in, std::size_t at) {
  std::size_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | in[at + i];
  return value;
}

// Puts the payload's bytes in place of the {"$bytes": [offset, length]} values of a version-2 body.
Result<void> place_bytes(Json& body, std::span<const std::uint8_t> payload) {
  std::optional<Error> bad;
  std::size_t used = 0;  // at most 2^24 ranges of at most 2^24 bytes: no overflow
  each_value(body, [&](Json& v) {
    if (bad || !v.is_object() || v.size() != 1) return !bad;
    const auto range = v.find("$bytes");
    if (range == v.end()) return true;
    if (!range->is_array() || range->size() != 2 || !(*range)[0].is_number_unsigned() ||
        !(*range)[1].is_number_unsigned()) {
      bad = fail("control: a \"$bytes\" value must be [offset, length]");
      return false;
    }
    const auto offset = (*range)[0].get<std::uint64_t>();
    const auto length = (*range)[1].get<std::uint64_t>();
    if (offset > payload.size() || length > payload.size() - offset) {
      bad = fail("control: bytes [" + std::to_string(offset) + ", " + std::to_string(length) +
                 "] lie outside the payload of " + std::to_string(payload.size()));
      return false;
    }
    used += length;
    const auto from = payload.begin() + static_cast<long>(offset);
    v = Json::binary(Json::binary_t::container_type(from, from + static_cast<long>(length)));
    return false;
  });
  if (bad) return *bad;
  if (used != payload.size())
    return fail("control: the payload holds " + std::to_string(payload.size()) +
                " bytes and the body's ranges " + std::to_string(used));
  return {};
}

std::string text_of(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The frame around a body's text and, in version 2, the bytes taken out of it.
Result<std::vector<std::uint8_t>> framed(std::uint8_t version, const std::string& text,
                                         const std::vector<Json::binary_t>& pieces) {
  std::size_t length = 0;
  for (const auto& p : pieces) length += p.size();
  if (text.size() + length > kMaxBody)
    return fail("control: a body of " + std::to_string(text.size() + length) +
                " bytes is larger than the socket carries (" + std::to_string(kMaxBody) + ")");
  const std::size_t header = version == kVersion ? kFrameHeader : kPayloadHeader;
  std::vector<std::uint8_t> out(header);
  out.reserve(header + text.size() + length);
  out[0] = version;
  put32(out, 4, text.size());
  if (version == kPayloadVersion) put32(out, 8, length);
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& p : pieces) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Result<void> writable(std::uint8_t version) {
  if (version == kVersion || version == kPayloadVersion) return {};
  return fail("control: no frames of version " + std::to_string(version) + " are written");
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_frame(const Json& body, std::uint8_t version) {
  if (has_bytes(body)) return encode_frame(Json(body), version);
  if (auto ok = writable(version); !ok) return ok.error();
  return framed(version, text_of(body), {});
}

Result<std::vector<std::uint8_t>> encode_frame(Json&& body, std::uint8_t version) {
  if (auto ok = writable(version); !ok) return ok.error();
  std::vector<Json::binary_t> pieces;
  std::size_t offset = 0;
  each_value(body, [&](Json& v) {
    if (!v.is_binary()) return true;
    auto& bytes = v.get_binary();
    if (version == kVersion) {
      v = hex(bytes);
      return false;
    }
    Json range = Json::object({{"$bytes", Json::array({offset, bytes.size()})}});
    offset += bytes.size();
    pieces.push_back(std::move(bytes));
    v = std::move(range);
    return false;
  });
  return framed(version, text_of(body), pieces);
}

Result<std::optional<Decoded>> decode_frame(std::span<const std::uint8_t> in) {
  if (in.empty()) return std::optional<Decoded>{};
  const std::uint8_t version = in[0];
  if (version != kVersion && version != kPayloadVersion)
    return fail("control: unsupported protocol version " + std::to_string(version));
  const std::size_t header = version == kVersion ? kFrameHeader : kPayloadHeader;
  if (in.size() < header) return std::optional<Decoded>{};
  if (in[1] != 0 || in[2] != 0 || in[3] != 0) return fail("control: reserved header bytes are set");
  const std::size_t length = get32(in, 4);
  const std::size_t payload = version == kPayloadVersion ? get32(in, 8) : 0;
  if (length > kMaxBody || payload > kMaxBody - length)
    return fail("control: a body of " + std::to_string(length + payload) + " bytes is too large");
  if (in.size() < header + length + payload) return std::optional<Decoded>{};
  const auto* text = reinterpret_cast<const char*>(in.data() + header);
  Json body = Json::parse(text, text + length, nullptr, false);
  if (body.is_discarded()) return fail("control: the body is not valid JSON");
  if (version == kPayloadVersion) {
    if (auto placed = place_bytes(body, in.subspan(header + length, payload)); !placed)
      return placed.error();
  }
  if (!body.is_object()) return fail("control: the body is not a JSON object");
  return std::optional<Decoded>(Decoded{std::move(body), header + length + payload, version});
}

}  // namespace vigil::control
