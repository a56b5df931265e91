#include "common/xml_text.h"

#include <algorithm>
#include <cstdint>

namespace vigil {

namespace {

// The length of the character XML allows at `at`, or 0 when the bytes there are not one.
std::size_t xml_char_length(std::string_view s, std::size_t at) {
  static constexpr std::uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
  const auto lead = static_cast<unsigned char>(s[at]);
  std::size_t length = 1;
  std::uint32_t cp = lead;
  if (lead >= 0x80) {
    length = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0 || at + length > s.size()) return 0;
    cp = lead & (0x7Fu >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[at + k]);
      if ((next & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (next & 0x3Fu);
    }
    if (cp < kShortest[length]) return 0;  // an overlong form
  }
  // XML 1.0's Char production.
  const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
  return allowed ? length : 0;
}

// Whether the 32 bytes at `p` are all printable ASCII, tab, newline or carriage return: a whole
// CIB's text (127 MB at 32 nodes and 10 000 resources) is checked before it is parsed, and a loop
// without branches (& where && would branch) is one the compiler turns into vector instructions.
bool plain_block(const unsigned char* p) {
  unsigned char bad = 0;
  for (int k = 0; k < 32; ++k) {
    const unsigned char c = p[k];
    bad |= static_cast<unsigned char>((c >= 0x80) |
                                      ((c < 0x20) & (c != '\t') & (c != '\n') & (c != '\r')));
  }
  return bad == 0;
}

}  // namespace

bool valid_xml_text(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i < text.size();) {
    if (text.size() - i >= 32 && plain_block(bytes + i)) {
      i += 32;
      continue;
    }
    // Character by character to the end of the block that is not plain.
    for (const std::size_t stop = std::min(text.size(), i + 32); i < stop;) {
      // Printable ASCII, nearly every byte of a CIB, is allowed as it stands, without decoding.
      const auto c = bytes[i];
      if (c >= 0x20 && c < 0x80) {
        ++i;
        continue;
      }
      const auto n = xml_char_length(text, i);
      if (n == 0) return false;
      i += n;
    }
  }
  return true;
}

std::string xml_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto n = xml_char_length(text, i);
    out.append(n == 0 ? std::string_view("?") : text.substr(i, n));
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace vigil
