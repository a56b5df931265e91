// ascii: case folding in ASCII only, whatever the locale — Pacemaker and crmsh compare option
// values, keywords and units case-blind this way ("Stopped", "INFINITY", "10S").
#pragma once

#include <string>
#include <string_view>

namespace vigil {

char ascii_lower(char c);
std::string ascii_lower(std::string_view s);
bool ascii_iequals(std::string_view a, std::string_view b);

}  // namespace vigil
