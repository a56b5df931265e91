// xml_text: XML 1.0's character rule, for text that comes from outside (a request, a peer, an
// agent's output) on its way into the CIB, which holds nothing a reply or a restart cannot read.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// Valid UTF-8 (no overlong forms, no surrogates) whose characters are all in XML 1.0's Char
// production (no control characters but tab, newline and carriage return, no U+FFFE or U+FFFF).
bool valid_xml_text(std::string_view text);
// `text` with each byte that breaks the rule replaced by '?'.
std::string xml_text(std::string_view text);

}  // namespace vigil
