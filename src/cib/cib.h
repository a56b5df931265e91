// cib: the Cluster Information Base — one XML document in Pacemaker's schema
// (cib/configuration/{crm_config,nodes,resources,constraints,rsc_defaults,op_defaults}, cib/status),
// held in memory with pugixml. Pure: no files or sockets here (persistence lives in *_io files).
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "common/common.h"

namespace vigil::cib {

class Cib {
 public:
  // An empty cluster: <cib> with empty configuration sections and an empty status.
  Cib();
  Cib(const Cib& other);
  Cib& operator=(const Cib& other);
  Cib(Cib&&) = default;
  Cib& operator=(Cib&&) = default;

  // Parses CIB XML; `origin` names the source in errors (a file name, "stdin", a peer).
  static Result<Cib> parse(std::string_view xml, std::string_view origin = "cib");

  const pugi::xml_document& doc() const { return doc_; }
  pugi::xml_document& doc() { return doc_; }
  pugi::xml_node root() const { return doc_.child("cib"); }

  std::string to_xml() const;

 private:
  pugi::xml_document doc_;
};

}  // namespace vigil::cib
