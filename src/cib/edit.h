// edit: the CIB changes crmsh's node and resource commands make, as pure functions from the CIB
// to the changes. `vigil node …` and `vigil resource …` (the CLI) and the status page's actions
// (vigild) both take their changes from here, so a standby, a cleanup or a move from either
// writes the same ids and attributes.
#pragma once

#include <string>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"

namespace vigil::cib {

// A configured node by name (uname) or id: its <node> element, or an empty node.
pugi::xml_node find_node(const Cib& cib, const std::string& name);
// A resource (primitive, group, clone, master, bundle) by id, or an empty node.
pugi::xml_node find_resource(const Cib& cib, const std::string& id);
// The name a <node> goes by: its uname, else its id.
std::string node_name(const pugi::xml_node& node);

// The address of an element in a change: an XPath through the ids of its ancestors.
std::string address_of(const pugi::xml_node& n);

// The changes that give `owner` (a resource or a node) the attribute name=value in its first
// `set_tag` set (meta_attributes, instance_attributes), creating the set when it has none, with
// crmsh's ids (vip-meta_attributes-target-role, nodes-1-standby).
std::vector<CibChange> set_attribute(const pugi::xml_node& owner, const std::string& set_tag,
                                     const std::string& name, const std::string& value);
// The changes that delete every nvpair `name` from the `set_tag` sets of `owner`.
std::vector<CibChange> delete_attribute(const pugi::xml_node& owner, const std::string& set_tag,
                                        const std::string& name);

// `node standby|online NODE`: the node's permanent standby attribute (crmsh's default lifetime)
// set to on or off.
std::vector<CibChange> standby(const pugi::xml_node& node, bool on);

// crm_resource's move and ban constraint: cli-prefer-RSC with INFINITY on `node` (prefer), else
// cli-ban-RSC-on-NODE with -INFINITY; with an `end` date ("2026-12-06 10:00:00 +00:00") a rule on
// #uname that holds until then. It replaces a constraint of the same id.
struct Location {
  std::string id;
  CibChange change;
};
Location move_constraint(const Cib& cib, const std::string& rsc, const std::string& node,
                         bool prefer, const std::string& end);
// `resource clear RSC`: the removal of every constraint move and ban left for RSC.
std::vector<CibChange> clear_moves(const Cib& cib, const std::string& rsc);

// `resource cleanup [RSC] [NODE]`: the operation history and fail counts of RSC's primitives go,
// so the cluster probes them again; with `rsc` empty those of every resource that failed. Only on
// the node whose id is `node_id`, or on every node when it is empty. `resource refresh` (Forget::
// history) differs only without RSC: every resource's history goes and fail counts stay, as
// crm_resource --refresh has the controller re-probe everything.
enum class Forget { failures, history };
struct Cleanup {
  std::vector<CibChange> changes;
  std::vector<std::string> nodes;       // the nodes it looked at, by name
  std::vector<std::string> primitives;  // RSC's primitives (itself, or its members)
};
Cleanup cleanup(const Cib& cib, const std::string& rsc, const std::string& node_id,
                Forget what = Forget::failures);
// The removal of RSC's fail-count-* and last-failure-* attributes from one node_state (all of
// them when `rsc` is empty).
std::vector<CibChange> forget_failures(const pugi::xml_node& node_state, const std::string& rsc);
// Whether a transient attribute is a failure's record of `rsc` (fail-count-RSC#op_interval,
// last-failure-RSC#op_interval, and their older names without the operation), or of any
// resource when `rsc` is empty.
bool is_failure_attribute(const std::string& name, const std::string& rsc);

// Who asked for a change, as Pacemaker's CIB names the last writer on its root: update-user,
// update-client, update-origin. Appended to an op, the history says who made it.
CibChange signature(const std::string& user, const std::string& client, const std::string& origin);
// When a client's change was asked for (cib-last-written, "Mon Dec  7 02:32:05 2026", local time),
// which `crm_mon` shows as "Last change". apply() keeps it only from an op that changes the
// configuration, as Pacemaker's CIB manager sets it only then.
CibChange last_written(const std::string& when);

}  // namespace vigil::cib
