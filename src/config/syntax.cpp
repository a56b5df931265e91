#include "config/syntax.h"

#include <algorithm>
#include <cstdint>

namespace vigil::config {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Columns count characters, so a message points at the right place on a line with CJK comments
// before it: every byte that is not a UTF-8 continuation byte starts one.
int column_of(std::string_view line, std::size_t offset) {
  const auto head = line.substr(0, offset);
  return 1 + static_cast<int>(std::count_if(head.begin(), head.end(), [](char c) {
           return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
         }));
}

// Offset of the first byte that is not part of well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = 2, cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3, cp = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4, cp = b & 0x07u;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (overlong || surrogate || cp > 0x10FFFF) return i;
    i += len;
  }
  return std::string_view::npos;
}

// Blank is space, tab, or U+00A0 (no-break space), which text copied from a web page often
// carries invisibly; Corosync trims it too. These return the blank's length in bytes, or 0.
constexpr std::string_view kNbsp = "\xC2\xA0";
std::size_t blank_before(std::string_view line, std::size_t end) {
  if (end >= 1 && is_blank(line[end - 1])) return 1;
  return end >= 2 && line.substr(end - 2, 2) == kNbsp ? 2 : 0;
}
std::size_t blank_after(std::string_view line, std::size_t begin) {
  if (begin < line.size() && is_blank(line[begin])) return 1;
  return line.substr(begin, 2) == kNbsp ? 2 : 0;
}


struct Span {
  std::size_t begin = 0, end = 0;  // byte offsets into the line
  bool empty() const { return begin == end; }
};

Span trim(std::string_view line, Span s) {
  while (true) {
    const std::string_view inside = line.substr(s.begin, s.end - s.begin);
    if (const auto n = blank_after(inside, 0); n > 0) {
      s.begin += n;
    } else if (const auto m = blank_before(inside, inside.size()); m > 0) {
      s.end -= m;
    } else {
      return s;
    }
  }
}

bool is_word(std::string_view w) {
  return !w.empty() && std::none_of(w.begin(), w.end(), [](char c) {
    return is_blank(c) || c == ':' || c == '{' || c == '}' || c == '#';
  });
}

class Parser {
 public:
  explicit Parser(std::string_view origin) : origin_(origin) { stack_.push_back(&root_); }

  Result<void> line(std::string_view raw, int number);
  Result<Section> finish();

 private:
  Error error(int line, int column, const std::string& what) const {
    return fail(std::string(origin_) + ":" + std::to_string(line) + ":" + std::to_string(column) +
                ": " + what);
  }
  Result<void> open_section(std::string_view line, Span name, std::size_t brace, int number);
  Result<void> entry(std::string_view line, Span key, std::size_t colon, Span content, int number);

  std::string_view origin_;
  Section root_;
  std::vector<Section*> stack_;
};

Result<void> Parser::line(std::string_view raw, int number) {
  if (auto nul = raw.find('\0'); nul != std::string_view::npos) {
    return error(number, column_of(raw, nul), "unexpected NUL byte (is this a text file?)");
  }
  const Span content = trim(raw, {0, comment_start(raw)});
  if (content.empty()) return {};
  const std::string_view text = raw.substr(content.begin, content.end - content.begin);
  if (auto bad = invalid_utf8_at(text); bad != std::string_view::npos) {
    return error(number, column_of(raw, content.begin + bad), "invalid UTF-8 byte");
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
      return error(number, column_of(raw, content.begin + i), "unexpected control character");
    }
  }
  if (text == "}") {
    if (stack_.size() == 1)
      return error(number, column_of(raw, content.begin), "'}' closes no open section");
    stack_.pop_back();
    return {};
  }
  const std::size_t brace = text.find('{');
  const std::size_t colon = text.find(':');
  if (brace != std::string_view::npos && (colon == std::string_view::npos || brace < colon)) {
    return open_section(raw, trim(raw, {content.begin, content.begin + brace}),
                        content.begin + brace, number);
  }
  if (colon != std::string_view::npos) {
    return entry(raw, trim(raw, {content.begin, content.begin + colon}), content.begin + colon,
                 content, number);
  }
  if (auto close = text.find('}'); close != std::string_view::npos) {
    return error(number, column_of(raw, content.begin + close), "expected '}' alone on its line");
  }
  return error(number, column_of(raw, content.begin),
               "expected 'key: value', 'name {' or '}', got '" + std::string(text) + "'");
}

Result<void> Parser::open_section(std::string_view line, Span name, std::size_t brace, int number) {
  const std::string_view word = line.substr(name.begin, name.end - name.begin);
  if (word.empty())
    return error(number, column_of(line, brace), "expected a section name before '{'");
  if (!is_word(word)) {
    return error(number, column_of(line, name.begin),
                 "expected a section name (one word) before '{', got '" + std::string(word) + "'");
  }
  const Span rest = trim(line, {brace + 1, comment_start(line)});
  if (!rest.empty())
    return error(number, column_of(line, rest.begin), "expected end of line after '{'");
  if (static_cast<int>(stack_.size()) > kMaxSectionDepth) {
    return error(number, column_of(line, name.begin),
                 "sections nested deeper than " + std::to_string(kMaxSectionDepth) + " levels");
  }
  Section& parent = *stack_.back();
  parent.sections.push_back(
      Section{std::string(word), number, column_of(line, name.begin), {}, {}});
  stack_.push_back(&parent.sections.back());
  return {};
}

Result<void> Parser::entry(std::string_view line, Span key, std::size_t colon, Span content,
                           int number) {
  const std::string_view word = line.substr(key.begin, key.end - key.begin);
  if (word.empty()) return error(number, column_of(line, colon), "expected a key name before ':'");
  if (!is_word(word)) {
    return error(number, column_of(line, key.begin),
                 "expected a key name (one word) before ':', got '" + std::string(word) + "'");
  }
  const Span value = trim(line, {colon + 1, content.end});
  const std::string_view text = line.substr(value.begin, value.end - value.begin);
  if (auto close = text.find_first_of("{}"); close != std::string_view::npos) {
    return error(number, column_of(line, value.begin + close),
                 std::string("unexpected '") + text[close] + "' in the value of '" +
                     std::string(word) +
                     "' (sections open with 'name {' and close with '}' on their own lines)");
  }
  stack_.back()->entries.push_back(Entry{std::string(word), std::string(text), number,
                                         column_of(line, key.begin), column_of(line, value.begin)});
  return {};
}

Result<Section> Parser::finish() {
  if (stack_.size() > 1) {
    const Section& open = *stack_.back();
    return error(
        open.line, open.column,
        "section '" + open.name + "' is never closed (expected '}' before the end of the file)");
  }
  return std::move(root_);
}

}  // namespace

Result<Section> parse_syntax(std::string_view text, std::string_view origin) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  Parser parser(origin);
  int number = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (auto r = parser.line(raw, ++number); !r) return r.error();
  }
  return parser.finish();
}

// A `#` starts a comment at the start of a line or after white space, so `secauth: off  # …`
// carries the value "off", while a `#` inside a word stays part of the value.
std::size_t comment_start(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || blank_before(line, i) > 0)) return i;
  }
  return line.size();
}

}  // namespace vigil::config
