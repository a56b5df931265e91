// bytes: the little-endian integers and length-prefixed strings the CIB's wire messages (op.h's
// CibOp, replica.h's messages) are built from, and a bounds-checked reader for them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::cib::wire {

inline void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_i64(std::string& out, std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}
inline void put_u64(std::string& out, std::uint64_t v) {
  put_i64(out, static_cast<std::int64_t>(v));
}
inline void put_version(std::string& out, const Version& v) {
  put_i64(out, v.admin_epoch);
  put_i64(out, v.epoch);
  put_i64(out, v.num_updates);
}
inline void put_bytes(std::string& out, const std::string& s) {
  VIGIL_ASSERT(s.size() <= UINT32_MAX);
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool take(std::size_t n, std::string_view& out) {
    if (in_.size() - pos_ < n) return false;
    out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool u8(std::uint8_t& v) {
    std::string_view b;
    if (!take(1, b)) return false;
    v = static_cast<std::uint8_t>(b[0]);
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::string_view b;
    if (!take(4, b)) return false;
    v = 0;
    for (int i = 3; i >= 0; --i)
      v = (v << 8) | static_cast<std::uint8_t>(b[static_cast<std::size_t>(i)]);
    return true;
  }
  bool u64(std::uint64_t& v) {
    std::int64_t s = 0;
    if (!i64(s)) return false;
    v = static_cast<std::uint64_t>(s);
    return true;
  }
  bool i64(std::int64_t& v) {
    std::string_view b;
    if (!take(8, b)) return false;
    std::uint64_t u = 0;
    for (int i = 7; i >= 0; --i)
      u = (u << 8) | static_cast<std::uint8_t>(b[static_cast<std::size_t>(i)]);
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool version(Version& v) { return i64(v.admin_epoch) && i64(v.epoch) && i64(v.num_updates); }
  bool bytes(std::string& s) {
    std::uint32_t n = 0;
    std::string_view b;
    if (!u32(n) || !take(n, b)) return false;
    s.assign(b);
    return true;
  }
  std::size_t left() const { return in_.size() - pos_; }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace vigil::cib::wire
