// Test support: a CIB element as text that two semantically equal elements share — attributes
// sorted, children sorted where their order carries no meaning (the members of a group and of a
// resource set keep theirs).
#pragma once

#include <algorithm>
#include <map>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cib {

inline std::string canonical(const pugi::xml_node& n) {
  std::map<std::string, std::string> attrs;
  for (auto a : n.attributes()) attrs[a.name()] = a.value();
  std::string out = "<" + std::string(n.name());
  for (const auto& [k, v] : attrs) out += " " + k + "=" + v;
  out += ">";
  std::vector<std::string> children;
  for (auto c : n.children()) {
    if (c.type() == pugi::node_element) children.push_back(canonical(c));
  }
  const std::string_view tag = n.name();
  if (tag != "group" && tag != "resource_set") std::sort(children.begin(), children.end());
  for (const auto& c : children) out += c;
  return out + "</" + n.name() + ">";
}

}  // namespace vigil::cib
