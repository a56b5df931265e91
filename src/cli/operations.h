// operations: what `vigil resource …` and `vigil node …` share — the CIB from the store (the same
// open_cib_store as `vigil configure`: --cib, CIB_file, else vigild), node and resource look-ups
// in crm's words, and the CibChanges that set or delete one attribute.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cib/store.h"
#include "cli/cli.h"

namespace vigil::cli {

// An open store and the CIB read from it; errors already reported on cli.err().
struct Session {
  std::unique_ptr<cib::CibStore> store;
  cib::Cib cib;
};
std::optional<Session> open_session(const std::string& cib_file, Cli& cli);

// Commits `changes` as one op; reports a refusal on cli.err(). True when committed.
bool commit(Session& s, std::vector<cib::CibChange> changes, Cli& cli);

// A configured node by name (uname) or id: its <node> element, or an empty node.
pugi::xml_node find_node(const cib::Cib& cib, const std::string& name);
// A resource (primitive, group, clone, master, bundle) by id, or an empty node.
pugi::xml_node find_resource(const cib::Cib& cib, const std::string& id);

// The changes that give `owner` (a resource or a node) the attribute name=value in its first
// `set_tag` set (meta_attributes, instance_attributes), creating the set when it has none.
std::vector<cib::CibChange> set_attribute(const pugi::xml_node& owner, const std::string& set_tag,
                                          const std::string& name, const std::string& value);
// The changes that delete every nvpair `name` from the `set_tag` sets of `owner`.
std::vector<cib::CibChange> delete_attribute(const pugi::xml_node& owner,
                                             const std::string& set_tag, const std::string& name);

// The address of an element in a change: id:X for configuration elements, else an XPath.
std::string address_of(const pugi::xml_node& n);

}  // namespace vigil::cli
