// The frame header, the field readers and writers, and dispatch by frame type.
#include <string>

#include "totem/wire.h"

namespace vigil::totem::wire {

void Writer::u16(std::uint16_t v) {
  for (int i = 0; i < 2; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void Writer::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void Writer::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void Writer::bytes(std::span<const std::uint8_t> b) {
  u32(static_cast<std::uint32_t>(b.size()));
  out_.insert(out_.end(), b.begin(), b.end());
}
void Writer::nodes(const std::vector<NodeId>& list) {
  VIGIL_ASSERT(list.size() <= kMaxList);
  u16(static_cast<std::uint16_t>(list.size()));
  for (NodeId n : list) u32(n);
}

bool Reader::need(std::size_t n, const char* field) {
  if (!error_.empty()) return false;
  if (remaining() < n) {
    reject(std::string("truncated at ") + field);
    return false;
  }
  return true;
}
void Reader::reject(std::string why) {
  if (error_.empty()) error_ = std::move(why) + " (offset " + std::to_string(pos_) + ")";
}
std::uint8_t Reader::u8(const char* field) {
  if (!need(1, field)) return 0;
  return in_[pos_++];
}
std::uint16_t Reader::u16(const char* field) {
  if (!need(2, field)) return 0;
  std::uint16_t v = 0;
  for (int i = 0; i < 2; ++i) v = static_cast<std::uint16_t>(v | (in_[pos_++] << (8 * i)));
  return v;
}
std::uint32_t Reader::u32(const char* field) {
  if (!need(4, field)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(in_[pos_++]) << (8 * i);
  return v;
}
std::uint64_t Reader::u64(const char* field) {
  if (!need(8, field)) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(in_[pos_++]) << (8 * i);
  return v;
}
bool Reader::flag(const char* field) {
  const std::uint8_t v = u8(field);
  if (v > 1) reject(std::string("bad flag ") + field);
  return v == 1;
}
RingId Reader::ring(const char* field) {
  RingId r;
  r.rep = u32(field);
  r.seq = u64(field);
  return r;
}
Bytes Reader::bytes(const char* field, std::size_t max) {
  const std::uint32_t n = u32(field);
  if (n > max) reject(std::string("oversized ") + field);
  if (!need(n, field)) return {};
  Bytes b(in_.begin() + static_cast<long>(pos_), in_.begin() + static_cast<long>(pos_ + n));
  pos_ += n;
  return b;
}
std::size_t Reader::count(const char* field, std::size_t max) {
  const std::uint16_t n = u16(field);
  if (n > max) reject(std::string("too many ") + field);
  return ok() ? n : 0;
}
std::vector<NodeId> Reader::nodes(const char* field) {
  const std::size_t n = count(field, kMaxList);
  if (!need(n * 4, field)) return {};
  std::vector<NodeId> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(u32(field));
  return out;
}

namespace {
template <class T>
constexpr Type type_of() {
  if constexpr (std::is_same_v<T, McastFrame>) return Type::Mcast;
  if constexpr (std::is_same_v<T, TokenFrame>) return Type::Token;
  if constexpr (std::is_same_v<T, JoinFrame>) return Type::Join;
  if constexpr (std::is_same_v<T, CommitFrame>) return Type::Commit;
  if constexpr (std::is_same_v<T, LeaveFrame>) return Type::Leave;
  if constexpr (std::is_same_v<T, HoldCancelFrame>) return Type::HoldCancel;
  if constexpr (std::is_same_v<T, MergeDetectFrame>) return Type::MergeDetect;
}
constexpr std::size_t kHeaderSize = 2 + 1 + 1 + 4 + 8 + 4;
}  // namespace

Bytes encode(const Packet& packet) {
  Writer w;
  w.u16(kMagic);
  w.u8(kVersion);
  std::visit(
      [&](const auto& body) {
        w.u8(static_cast<std::uint8_t>(type_of<std::decay_t<decltype(body)>>()));
      },
      packet.body);
  w.u32(packet.header.sender);
  w.u64(packet.header.incarnation);
  w.u32(0);  // body length, patched below
  std::visit([&](const auto& body) { encode_body(w, body); }, packet.body);
  const auto body_len = static_cast<std::uint32_t>(w.size() - kHeaderSize);
  for (int i = 0; i < 4; ++i)
    w.raw()[kHeaderSize - 4 + i] = static_cast<std::uint8_t>(body_len >> (8 * i));
  return w.take();
}

Result<Packet> decode(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  if (r.u16("magic") != kMagic && r.ok()) return fail("totem frame: bad magic");
  const std::uint8_t version = r.u8("version");
  if (r.ok() && version != kVersion) {
    return fail("totem frame: unsupported version " + std::to_string(version));
  }
  const std::uint8_t type = r.u8("type");
  Packet p;
  p.header.sender = r.u32("sender");
  p.header.incarnation = r.u64("incarnation");
  const std::uint32_t body_len = r.u32("body length");
  if (!r.ok()) return fail("totem frame: " + r.error());
  if (body_len != r.remaining()) {
    return fail("totem frame: body length " + std::to_string(body_len) + " but " +
                std::to_string(r.remaining()) + " bytes follow");
  }
  switch (static_cast<Type>(type)) {
    case Type::Mcast:
      p.body = decode_mcast(r);
      break;
    case Type::Token:
      p.body = decode_token(r);
      break;
    case Type::Join:
      p.body = decode_join(r);
      break;
    case Type::Commit:
      p.body = decode_commit(r);
      break;
    case Type::Leave:
      p.body = decode_leave(r);
      break;
    case Type::HoldCancel:
      p.body = decode_hold_cancel(r);
      break;
    case Type::MergeDetect:
      p.body = decode_merge_detect(r);
      break;
    default:
      return fail("totem frame: unknown type " + std::to_string(type));
  }
  if (r.ok() && r.remaining() != 0) r.reject(std::to_string(r.remaining()) + " trailing bytes");
  if (!r.ok()) return fail("totem frame type " + std::to_string(type) + ": " + r.error());
  return p;
}

}  // namespace vigil::totem::wire
