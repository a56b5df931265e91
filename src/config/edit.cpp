// Edits of corosync.conf's nodelist that keep the rest of the text as the user wrote it.
#include <algorithm>

#include "config/config.h"
#include "config/syntax.h"

namespace vigil::config {

namespace {

// The lines of `text`, each with its line break.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto size = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(0, size));
    text.remove_prefix(size);
  }
  return lines;
}

// The 0-based index of the line holding the `}` that closes the section opened on line
// `open` (0-based); comments do not count.
Result<std::size_t> closing_line(const std::vector<std::string_view>& lines, std::size_t open,
                                 std::string_view origin) {
  int depth = 0;
  for (std::size_t i = open; i < lines.size(); ++i) {
    const auto code = lines[i].substr(0, comment_start(lines[i]));
    for (char c : code) {
      if (c == '{') ++depth;
      if (c == '}' && --depth == 0) return i;
    }
  }
  return fail(std::string(origin) + ":" + std::to_string(open + 1) + ": section never closed");
}

std::string joined(const std::vector<std::string_view>& lines) {
  std::string out;
  for (auto l : lines) out += l;
  return out;
}

// The white space a line starts with.
std::string indent_of(std::string_view line) {
  return std::string(line.substr(0, line.find_first_not_of(" \t")));
}

Result<std::string> parsed(std::string text, std::string_view origin) {
  if (auto again = parse_config(text, origin); !again) return again.error();
  return text;
}

Result<const Section*> nodelist_section(const Section& file, std::string_view origin) {
  for (const auto& s : file.sections) {
    if (s.name == "nodelist") return &s;
  }
  return fail(std::string(origin) + ": no nodelist section (the nodes are found by multicast)");
}

}  // namespace

Result<std::string> with_node_added(std::string_view text, std::string_view origin,
                                    const Node& node) {
  auto file = parse_syntax(text, origin);
  if (!file) return file.error();
  auto list = nodelist_section(*file, origin);
  if (!list) return list.error();
  auto lines = lines_of(text);
  auto close = closing_line(lines, static_cast<std::size_t>((*list)->line - 1), origin);
  if (!close) return close.error();
  // Indented as the nodes already there are, else one tab per level as corosync's example.
  const std::string outer =
      (*list)->sections.empty() ? "\t" : indent_of(lines[(*list)->sections.front().line - 1]);
  const std::string inner = outer + (outer.empty() ? "\t" : outer);
  std::string block = outer + "node {\n";
  for (unsigned l = 0; l < kMaxLinks; ++l) {
    if (!node.ring_addr[l].empty())
      block += inner + "ring" + std::to_string(l) + "_addr: " + node.ring_addr[l] + "\n";
  }
  if (!node.name.empty()) block += inner + "name: " + node.name + "\n";
  block += inner + "nodeid: " + std::to_string(node.nodeid) + "\n";
  if (node.quorum_votes != 1) block += inner + "quorum_votes: " + std::to_string(node.quorum_votes) + "\n";
  block += outer + "}\n";
  // The closing brace's line may hold more than the brace (`node { … } }`): the block goes
  // before that line, which stays whole.
  std::vector<std::string_view> out(lines.begin(), lines.begin() + static_cast<long>(*close));
  out.push_back(block);
  out.insert(out.end(), lines.begin() + static_cast<long>(*close), lines.end());
  return parsed(joined(out), origin);
}

Result<std::string> with_node_removed(std::string_view text, std::string_view origin,
                                      std::uint32_t nodeid) {
  auto cfg = parse_config(text, origin);
  if (!cfg) return cfg.error();
  const auto it = std::find_if(cfg->nodelist.begin(), cfg->nodelist.end(),
                               [&](const Node& n) { return n.nodeid == nodeid; });
  if (it == cfg->nodelist.end())
    return fail(std::string(origin) + ": no node with nodeid " + std::to_string(nodeid) +
                " in the nodelist");
  auto lines = lines_of(text);
  const auto open = static_cast<std::size_t>(it->line - 1);
  auto close = closing_line(lines, open, origin);
  if (!close) return close.error();
  if (*close == open)
    return fail(std::string(origin) + ":" + std::to_string(it->line) +
                ": the node's section is on one line with others; edit it by hand");
  lines.erase(lines.begin() + static_cast<long>(open), lines.begin() + static_cast<long>(*close) + 1);
  return parsed(joined(lines), origin);
}

}  // namespace vigil::config
