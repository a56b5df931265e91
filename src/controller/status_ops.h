// status_ops: how a controller reads a resource's definition from the CIB and writes the status
// section (node_state, lrm history, transient attributes) as Pacemaker's controller and attrd do.
// Every op built here applies to any CIB: it first merges the elements it needs into existence.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"
#include "common/common.h"

namespace vigil::controller {

// One lrm_rsc_op: the attributes in Pacemaker's order.
struct OpRecord {
  std::string id, operation_key, operation, transition_key, transition_magic, exit_reason;
  std::string on_node, op_digest;
  // A migration's two nodes, on migrate_to and migrate_from records: the scheduler reads a
  // completed or partial migration from them.
  std::string migrate_source, migrate_target;
  int call_id = 0, rc = 0, op_status = 0;
  std::int64_t interval_ms = 0, last_rc_change = 0, exec_time = 0;
};

struct ResourceHistory {
  std::string cls, provider, type;
  // shutdown-lock: when the lock on this node began (epoch seconds), as the DC passed it with the
  // last action recorded; 0 when that action carried none.
  std::int64_t shutdown_lock = 0;
  std::map<std::string, OpRecord> ops;  // by record id
};

using LrmHistory = std::map<std::string, ResourceHistory>;  // by history id

// A resource as the DC's configuration defines it for one action: Pacemaker's graph action
// carries the primitive and its parameters the same way, so a node runs what the DC decided on
// even before its own copy of the CIB has the resource (a probe of a resource just added would
// otherwise find none there and be recorded "not installed", a hard failure on that node).
// An orphan's comes from its history (no parameters): the agent it ran with.
struct ResourceDefinition {
  std::string cls, provider, type;  // cls empty: none (not a resource action)
  Millis timeout = 0;
  std::map<std::string, std::string> params;
  bool operator==(const ResourceDefinition&) const = default;
};

std::string lrm_xml(const std::string& node_id, const LrmHistory& history);

// Sets node_state attributes (creating the element), e.g. in_ccm, crmd, join, expected.
cib::CibChange node_state_change(const std::string& node_id,
                                 const std::map<std::string, std::string>& attrs);
// Replaces the node's lrm section by `history`.
std::vector<cib::CibChange> lrm_changes(const std::string& node_id, const std::string& uname,
                                        const LrmHistory& history);
// Sets transient attributes of a node (attrd's store).
cib::CibChange attribute_change(const std::string& node_id, const std::string& uname,
                                const std::map<std::string, std::string>& values);
// Replaces the node's transient attributes by those of `keep` (a filter over name and value).
std::vector<cib::CibChange> attributes_replaced(const cib::Cib& cib, const std::string& node_id,
                                                const std::string& uname,
                                                const std::map<std::string, std::string>& keep);
// The node's transient attributes as the CIB holds them.
std::map<std::string, std::string> node_attributes(const cib::Cib& cib, const std::string& node_id);

// A configured primitive by id (clone instances "rsc:N" find "rsc"), or an empty node.
pugi::xml_node primitive_of(const cib::Cib& cib, const std::string& resource);
// The parameters an action runs with: the op's own, the primitive's, its template's, its parents'.
std::map<std::string, std::string> resource_params(const cib::Cib& cib, pugi::xml_node primitive,
                                                   const std::string& task,
                                                   std::int64_t interval_ms);
// The action's timeout as Pacemaker resolves it: the op's own, a probe's from the most frequent
// recurring monitor, then op_defaults, then 20 s.
Millis op_timeout(const cib::Cib& cib, pugi::xml_node primitive, const std::string& task,
                  std::int64_t interval_ms);
// The definition `resource`'s action runs with on the node with id `node_id`: the configured
// primitive's, else (an orphan) the agent that node's history shows, with no parameters, as
// Pacemaker builds an orphan from its lrm_resource. Empty `cls` when the CIB has neither.
ResourceDefinition resource_definition(const cib::Cib& cib, const std::string& resource,
                                       const std::string& node_id, const std::string& task,
                                       std::int64_t interval_ms);
// A cluster property from crm_config, or Pacemaker's default for it (the scheduler's table).
std::string cluster_option(const cib::Cib& cib, std::string_view name);

}  // namespace vigil::controller
