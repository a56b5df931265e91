// Operation digests: Pacemaker records with every operation an MD5 of the parameters it ran
// with (op-digest); when the configuration's parameters no longer hash the same, the resource
// is restarted (or reloaded) "due to resource definition change".
#include "scheduler/digest.h"
#include "common/common.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace vigil::scheduler {

namespace {

// RFC 1321 MD5.
class Md5 {
 public:
  std::string hex(const std::string& data) {
    std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    std::string msg = data;
    msg.push_back(static_cast<char>(0x80));
    while (msg.size() % 64 != 56) msg.push_back('\0');
    for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    for (std::size_t off = 0; off < msg.size(); off += 64)
      block(reinterpret_cast<const unsigned char*>(msg.data() + off));
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::uint32_t v : h_) {
      for (int i = 0; i < 4; ++i) {
        unsigned byte = (v >> (8 * i)) & 0xff;
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 15]);
      }
    }
    return out;
  }

 private:
  static std::uint32_t rotl(std::uint32_t x, unsigned c) { return (x << c) | (x >> (32 - c)); }

  void block(const unsigned char* p) {
    static const std::uint32_t k[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391};
    static const unsigned r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
    std::uint32_t m[16];
    for (int i = 0; i < 16; ++i) {
      m[i] = static_cast<std::uint32_t>(p[i * 4]) |
             (static_cast<std::uint32_t>(p[i * 4 + 1]) << 8) |
             (static_cast<std::uint32_t>(p[i * 4 + 2]) << 16) |
             (static_cast<std::uint32_t>(p[i * 4 + 3]) << 24);
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    for (unsigned i = 0; i < 64; ++i) {
      std::uint32_t f = 0;
      unsigned g = 0;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      std::uint32_t tmp = d;
      d = c;
      c = b;
      b = b + rotl(a + f + k[i] + m[g], r[i]);
      a = tmp;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
  }

  std::array<std::uint32_t, 4> h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
};

bool filtered(const std::string& name) {
  return name.rfind("CRM_meta_", 0) == 0 || name == "id" || name == "crm_feature_set" ||
         name == "op-digest" || name == "CRM_meta_on_node" || name == "CRM_meta_on_node_uuid" ||
         name == "pcmk_external_ip";
}

}  // namespace

std::string md5_hex(const std::string& data) {
  return Md5().hex(data);
}

std::string parameters_digest(const std::map<std::string, std::string>& params) {
  // Pacemaker hashes the sorted <parameters/> element as its old XML writer printed it.
  std::string xml = " <parameters";
  for (const auto& [k, v] : params) {
    if (filtered(k)) continue;
    xml += " " + k + "=\"" + xml_escape(v) + "\"";
  }
  xml += "/>\n";
  return md5_hex(xml);
}

}  // namespace vigil::scheduler
