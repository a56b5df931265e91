// cib: the Cluster Information Base — one XML document in Pacemaker's schema
// (cib/configuration/{crm_config,nodes,resources,constraints,rsc_defaults,op_defaults},
// cib/status), held in memory with pugixml. Pure: no files or sockets here (persistence lives in
// cib_io.h).
//
// The module's parts, each with its own header:
//   cib.h       the document, its version (admin_epoch, epoch, num_updates) and content digest
//   validate.h  schema rules: unique ids, references that exist, known values
//   op.h        CibOp: an atomic batch of changes (create/modify/delete/replace at an address),
//               diffs between versions, the versioned wire encoding, and which version wins a merge
//   crmsh.h     crmsh's `configure` grammar: text → CibOp, and CIB → `configure show` text
//   store.h     CibStore: where the CLI reads and commits the CIB (a file today, the daemon later)
//   cib_io.h    the on-disk copy: cib.xml + digest, atomic writes, the last 10 versions kept
#pragma once

#include <compare>
#include <cstdint>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "common/common.h"

namespace vigil::cib {

// Pacemaker's version triple. Configuration changes bump epoch (and reset num_updates), status
// changes bump num_updates; admin_epoch is only ever raised by an administrator. Ordered
// lexicographically: the highest version is the newest document.
struct Version {
  std::int64_t admin_epoch = 0;
  std::int64_t epoch = 0;
  std::int64_t num_updates = 0;

  auto operator<=>(const Version&) const = default;
  // "admin_epoch.epoch.num_updates", as crm_mon and the logs print it.
  std::string str() const;
};

class Cib {
 public:
  // An empty cluster: <cib> with empty configuration sections and an empty status.
  Cib();
  Cib(const Cib& other);
  Cib& operator=(const Cib& other);
  Cib(Cib&&) = default;
  Cib& operator=(Cib&&) = default;

  // Parses CIB XML; `origin` names the source in errors (a file name, "stdin", a peer).
  // Comments and the XML declaration are kept so that an accepted document is written back
  // unchanged. A missing <status> is added, as Pacemaker's tools do. Beyond well-formedness only
  // check_document()'s rules are checked here; validate() checks the schema's finer rules.
  static Result<Cib> parse(std::string_view xml, std::string_view origin = "cib");

  const pugi::xml_document& doc() const { return doc_; }
  pugi::xml_document& doc() { return doc_; }
  pugi::xml_node root() const { return doc_.child("cib"); }
  pugi::xml_node configuration() const { return root().child("configuration"); }
  pugi::xml_node status() const { return root().child("status"); }
  // The configuration section `name` (crm_config, nodes, resources, constraints, rsc_defaults,
  // op_defaults), created empty where Pacemaker's schema puts it when it is missing.
  pugi::xml_node section(std::string_view name);
  // The element of the configuration whose id attribute is `id`, or an empty node.
  pugi::xml_node find_id(std::string_view id) const;

  Version version() const;
  void set_version(const Version& v);

  // The document as XML, 2-space indented (the layout of cibadmin -Q and of cib.xml).
  std::string to_xml() const;
  // SHA-256 (hex) of the document without its version attributes: two nodes that hold the same
  // content have the same digest whatever their version counters say.
  std::string content_digest() const;

 private:
  pugi::xml_document doc_;
};

// The rules every CIB that vigil holds, stores or sends obeys, whatever its validate-with: one
// <cib> holding one <configuration> (with crm_config, nodes, resources and constraints once each,
// rsc_defaults and op_defaults at most once) and one <status>; only characters XML 1.0 allows
// (common/xml_text.h) in names, values and text; nesting at most kMaxDepth deep. parse()
// checks them on every document read, apply() on every document an op produces, so nothing that
// breaks them is persisted, replicated or answered.
inline constexpr int kMaxDepth = 256;  // libxml2's default limit: Pacemaker reads nothing deeper
Result<void> check_document(const Cib& cib);
// The nesting limit alone: false when an element under `node` lies deeper than `limit` below it.
bool depth_within(const pugi::xml_node& node, int limit);

// Calls f on every element under `root`, in document order (a plain walk: cheaper than XPath).
template <class F>
void for_each_element(const pugi::xml_node& root, F&& f) {
  for (auto c = root.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    f(c);
    for_each_element(c, f);
  }
}

// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// The XML of one element and its subtree, without indentation (used in ops and diffs).
std::string element_xml(const pugi::xml_node& node);

}  // namespace vigil::cib
