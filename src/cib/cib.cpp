#include "cib/cib.h"

#include <sstream>

namespace vigil::cib {

Cib::Cib() {
  auto cib = doc_.append_child("cib");
  cib.append_attribute("admin_epoch") = 0;
  cib.append_attribute("epoch") = 0;
  cib.append_attribute("num_updates") = 0;
  cib.append_attribute("validate-with") = "pacemaker-3.0";
  auto config = cib.append_child("configuration");
  for (const char* section : {"crm_config", "nodes", "resources", "constraints"}) {
    config.append_child(section);
  }
  cib.append_child("status");
}

Cib::Cib(const Cib& other) { doc_.reset(other.doc_); }

Cib& Cib::operator=(const Cib& other) {
  if (this != &other) doc_.reset(other.doc_);
  return *this;
}

Result<Cib> Cib::parse(std::string_view xml, std::string_view origin) {
  Cib cib;
  auto parsed = cib.doc_.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!parsed) {
    // pugixml reports a byte offset; turn it into line:column for the user.
    std::size_t line = 1, col = 1;
    for (std::ptrdiff_t i = 0; i < parsed.offset && static_cast<std::size_t>(i) < xml.size(); ++i) {
      if (xml[static_cast<std::size_t>(i)] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return fail(std::string(origin) + ":" + std::to_string(line) + ":" + std::to_string(col) +
                ": " + parsed.description());
  }
  if (!cib.root()) return fail(std::string(origin) + ": the document element is not <cib>");
  return cib;
}

std::string Cib::to_xml() const {
  std::ostringstream out;
  doc_.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace vigil::cib
