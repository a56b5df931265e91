// rules: Pacemaker's <rule> elements — node attribute expressions and date expressions — and the
// nvpair sets (instance_attributes, meta_attributes, cluster_property_set) that rules can guard.
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/common.h"

namespace vigil::scheduler {

struct RuleContext {
  const std::map<std::string, std::string>* node_attrs = nullptr;  // null: no node in scope
  Millis now = 0;
};

// True when the rule matches. An empty rule (no expressions) matches.
bool rule_matches(pugi::xml_node rule, const RuleContext& ctx);

// Adds every nvpair of the sets named `set_name` under `parent` to `out`, without overwriting a
// name already present (earlier sets and higher scores win, as in Pacemaker). Sets guarded by a
// rule that does not match are skipped.
void unpack_nvpairs(pugi::xml_node parent, const char* set_name, const RuleContext& ctx,
                    std::map<std::string, std::string>& out);

// Follows id-ref: returns the element the reference names, or the node itself.
pugi::xml_node resolve_ref(pugi::xml_node node);

// Seconds since the epoch for an ISO 8601 date ("2019-03-01 10:00:00", "2019-03-01T10:00:00Z").
std::optional<std::int64_t> parse_iso_date(std::string_view text);

}  // namespace vigil::scheduler
