// Pacemaker's own RelaxNG schema (Debian's pacemaker-common installs it in /usr/share/pacemaker),
// for tests: every CIB vigil writes must be one Pacemaker's tools read. Checked against the newest
// pacemaker-3.x schema there, whatever the document's validate-with says.
#pragma once

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace vigil::pacemaker_schema {

// /usr/share/pacemaker/pacemaker-3.N.rng with the highest N, or "" when none is installed.
inline std::string newest_pacemaker3_schema() {
  const std::filesystem::path dir = "/usr/share/pacemaker";
  const std::string_view prefix = "pacemaker-3.", suffix = ".rng";
  std::string best;
  int best_minor = -1;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = e.path().filename().string();
    if (file.size() <= prefix.size() + suffix.size() || file.rfind(prefix, 0) != 0 ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string minor = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    if (minor.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::stoi(minor) > best_minor) {
      best_minor = std::stoi(minor);
      best = e.path().string();
    }
  }
  return best;
}

// libxml2's messages, collected instead of printed.
inline void collect(void* sink, const xmlError* error) {
  auto* out = static_cast<std::string*>(sink);
  if (!out->empty()) *out += "; ";
  *out += "line " + std::to_string(error->line) + ": " + (error->message ? error->message : "?");
}

// "" when `xml` is valid against the newest pacemaker-3.x schema, else what libxml2 says is wrong
// (or that the schema is missing: the check never passes for want of a schema).
inline std::string errors(std::string_view xml) {
  static const std::string path = newest_pacemaker3_schema();
  if (path.empty()) return "no pacemaker-3.x schema in /usr/share/pacemaker (pacemaker-common)";
  static xmlRelaxNGPtr schema = [] {
    auto* parser = xmlRelaxNGNewParserCtxt(path.c_str());
    auto* parsed = xmlRelaxNGParse(parser);
    xmlRelaxNGFreeParserCtxt(parser);
    return parsed;
  }();
  if (!schema) return "cannot read " + path;
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "cib.xml", nullptr,
                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      xmlFreeDoc);
  if (!doc) return "not well-formed XML";
  std::unique_ptr<xmlRelaxNGValidCtxt, decltype(&xmlRelaxNGFreeValidCtxt)> check(
      xmlRelaxNGNewValidCtxt(schema), xmlRelaxNGFreeValidCtxt);
  std::string errors;
  auto sink = [](void* out, xmlErrorPtr e) { collect(out, e); };
  xmlRelaxNGSetValidStructuredErrors(check.get(), sink, &errors);
  // Some reasons (an IDREF naming no ID) come through libxml2's global handler.
  xmlSetStructuredErrorFunc(&errors, sink);
  const int result = xmlRelaxNGValidateDoc(check.get(), doc.get());
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  if (result != 0 && errors.empty()) errors = "invalid (libxml2 gave no reason)";
  return errors.empty() ? "" : path + ": " + errors;
}

}  // namespace vigil::pacemaker_schema
