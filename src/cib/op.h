// op: how the CIB changes. A CibOp is a batch of changes applied all-or-nothing and validated
// after applying; it is what a node sends to the others (through the message API) and what the CLI
// commits. A diff between two versions is a CibOp too: it carries the version it applies to and
// the version it produces, so a node that holds another version refuses it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cib/cib.h"

namespace vigil::cib {

// One change at an address. An address is either an XPath over the whole document
// ("/cib/configuration/resources", "//primitive[@id='vip']") or "id:X", the configuration element
// whose id is X. The address must select exactly one element.
struct CibChange {
  enum class Kind : std::uint8_t {
    create = 1,   // append `xml` as the last child of the addressed element; its id must be new
    modify = 2,   // merge `xml` (same tag) into the addressed element: its attributes are set,
                  // its children merged by tag and id (new ones appended), as cibadmin --modify
    remove = 3,   // delete the addressed element
    replace = 4,  // replace the addressed element by `xml`
  };
  Kind kind = Kind::create;
  std::string address;
  std::string xml;  // empty for remove

  static CibChange create(std::string parent, std::string xml);
  static CibChange modify(std::string address, std::string xml);
  static CibChange remove(std::string address);
  static CibChange replace(std::string address, std::string xml);

  bool operator==(const CibChange&) const = default;
};

struct CibOp {
  std::vector<CibChange> changes;
  // Set on diffs: the op applies only to a document of version `base`, and leaves it at `target`.
  // Without them the version is bumped by what the changes touch. A `base` without a `target`
  // guards an edit of the configuration: it applies while admin_epoch and epoch are still those of
  // `base`, whatever status updates came in since.
  std::optional<Version> base = std::nullopt;
  std::optional<Version> target = std::nullopt;

  bool operator==(const CibOp&) const = default;
};

// The elements `address` selects in `cib` (none is not an error), or an error naming the address.
Result<std::vector<pugi::xml_node>> select(const Cib& cib, const std::string& address);
// The one element `address` selects in `cib`, or an error naming the address.
Result<pugi::xml_node> resolve(const Cib& cib, const std::string& address);

// A one-line description of a change, for logs and `vigil cib diff`.
std::string describe(const CibChange& change);

// Applies `op` to a copy of `cib`: every change in order, then the version rule (a change under
// <configuration> bumps epoch and resets num_updates; status-only changes bump num_updates; a diff
// sets `target`), then check_document() and validate(). Returns the new document, or the first error (naming the change
// by its position and address) and leaves nothing changed.
Result<Cib> apply(const Cib& cib, const CibOp& op);

// The changes that turn `from` into `to`, as an op with base = from.version() and
// target = to.version(). apply(from, diff(from, to)) gives a document equal to `to`.
CibOp diff(const Cib& from, const Cib& to);

// The wire encoding, version 1, all integers little-endian:
//   "CIBO" u8:version=1 u8:flags (bit0 base present, bit1 target present)
//   [base: 3 × i64] [target: 3 × i64] u32:count
//   count × { u8:kind u32:address_len bytes u32:xml_len bytes }
// decode() rejects a wrong magic or version, unknown kinds or flags, short or long input.
std::string encode(const CibOp& op);
Result<CibOp> decode(std::string_view bytes);

// When nodes rejoin, every member offers its version and content digest; all of them pick the
// same winner: the highest version, and among equal versions with different content the highest
// digest (any deterministic rule would do; this one needs no extra round). A conflict (equal
// version, different content) is reported so that the daemon can log the loss.
struct Offer {
  std::string node;
  Version version;
  std::string digest;
};
struct Election {
  std::size_t winner = 0;              // index into the offers
  std::vector<std::string> conflicts;  // one line per losing offer whose content is lost
};
Election choose_cib(std::span<const Offer> offers);

}  // namespace vigil::cib
