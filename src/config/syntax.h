// The syntax layer of corosync.conf: text → a tree of sections and `key: value` entries, each
// with its line and column. Knows nothing of what the keys mean (that is model.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/common.h"

namespace vigil::config {

struct Entry {
  std::string key;
  std::string value;  // trimmed, without a trailing comment
  int line = 0;
  int key_column = 0;    // 1-based, counted in characters (UTF-8 code points)
  int value_column = 0;  // where the value starts (just after ':' when it is empty)
};

struct Section {
  std::string name;  // empty for the file itself
  int line = 0;
  int column = 0;
  std::vector<Entry> entries;
  std::vector<Section> sections;
};

// Nested deeper than this is refused: no real configuration comes close, and it bounds recursion.
inline constexpr int kMaxSectionDepth = 16;

// Where a line's comment starts (its length when it has none).
std::size_t comment_start(std::string_view line);

// Errors read "origin:line:column: what was expected".
Result<Section> parse_syntax(std::string_view text, std::string_view origin);

}  // namespace vigil::config
