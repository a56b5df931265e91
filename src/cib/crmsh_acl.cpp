// crmsh's ACL xpath shortcuts: `read cib`, `write meta:web:target-role` stand for xpaths, and
// `configure show` writes an xpath that one of them describes in that short form.
#include <array>
#include <cctype>

#include "cib/crmsh.h"

namespace vigil::cib::crmsh {

namespace {

using std::string;
using std::string_view;

struct Shortcut {
  string_view key;
  std::array<string_view, 2> parts;  // each holds @@ where an argument goes; unused parts empty
};

// In crmsh's order: show takes the first that matches.
constexpr std::array<Shortcut, 10> kShortcuts = {{
    {"meta", {"//primitive[@id='@@']/meta_attributes", "/nvpair[@name='@@']"}},
    {"params", {"//primitive[@id='@@']/instance_attributes", "/nvpair[@name='@@']"}},
    {"utilization", {"//primitive[@id='@@']/utilization", ""}},
    {"location", {"//rsc_location[@id='cli-prefer-@@' and @rsc='@@']", ""}},
    {"property", {"//crm_config/cluster_property_set", "/nvpair[@name='@@']"}},
    {"nodeattr", {"//nodes/node/instance_attributes", "/nvpair[@name='@@']"}},
    {"nodeutil", {"//nodes/node/utilization", "[@uname='@@']"}},
    {"node", {"//nodes/node", "[@uname='@@']"}},
    {"status", {"/cib/status", ""}},
    {"cib", {"/cib", ""}},
}};

bool id_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (!first && (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-'));
}

// Matches `pattern` (with @@ standing for an id) against all of `text`; the ids go to `args`.
bool match(string_view pattern, string_view text, std::vector<string>& args) {
  std::size_t t = 0;
  for (std::size_t p = 0; p < pattern.size();) {
    if (pattern.substr(p, 2) == "@@") {
      const std::size_t start = t;
      while (t < text.size() && id_char(text[t], t == start)) ++t;
      if (t == start) return false;
      args.emplace_back(text.substr(start, t - start));
      p += 2;
    } else if (t < text.size() && text[t] == pattern[p]) {
      ++t;
      ++p;
    } else {
      return false;
    }
  }
  return t == text.size();
}

}  // namespace

bool is_acl_shortcut(string_view key) {
  for (const auto& s : kShortcuts) {
    if (s.key == key) return true;
  }
  return false;
}

Result<string> acl_shortcut_xpath(string_view key, const std::vector<string>& args) {
  for (const auto& s : kShortcuts) {
    if (s.key != key) continue;
    if (args.empty()) {
      if (s.parts[0].find("@@") != string_view::npos)
        return fail("the shortcut " + string(key) + " needs an argument");
      return string(s.parts[0]);
    }
    string xpath;
    std::size_t part = 0;
    for (const auto& arg : args) {
      // A part without @@ takes no argument: it goes in as it is.
      if (part < s.parts.size() && !s.parts[part].empty() &&
          s.parts[part].find("@@") == string_view::npos)
        xpath += s.parts[part++];
      if (part >= s.parts.size() || s.parts[part].empty())
        return fail("too many arguments for the shortcut " + string(key));
      string piece(s.parts[part++]);
      for (auto at = piece.find("@@"); at != string::npos; at = piece.find("@@", at + arg.size()))
        piece.replace(at, 2, arg);
      xpath += piece;
    }
    return xpath;
  }
  return fail("no shortcut " + string(key));
}

std::optional<string> acl_shortcut(string_view xpath) {
  for (const auto& s : kShortcuts) {
    string pattern;
    for (std::size_t parts = 1; parts <= s.parts.size() && !s.parts[parts - 1].empty(); ++parts) {
      pattern += s.parts[parts - 1];
      std::vector<string> args;
      if (!match(pattern, xpath, args)) continue;
      // crmsh shows one argument per part (the location shortcut repeats its one).
      string out(s.key);
      for (std::size_t i = 0; i < args.size() && i < parts; ++i) out += ":" + args[i];
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace vigil::cib::crmsh
