// scheduler: Pacemaker's placement decisions as a pure function of the CIB and the time —
// schedule(cib, now) reads the configuration and the status section and returns the transition
// graph: the actions that bring the cluster to where it should be, each with the ordering edges it
// waits for and the reason it exists. No I/O, no clocks: `now` is passed in.
//
// The work runs as a pipeline of stages (see stages.h): unpack the status into the current state,
// score the nodes for every resource, place the resources, create the actions, order them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::scheduler {

enum class Role { Unknown, Stopped, Started, Unpromoted, Promoted };

struct GraphAction {
  int id = 0;
  std::string key;       // Pacemaker's key: rsc_start_0, rsc_monitor_10000, grp_running_0, ...
  std::string resource;  // empty for node actions (fencing, shutdown)
  // The id the resource's history is recorded under: the resource id, except for instances of
  // anonymous clones, which the cluster knows by their configured (or last recorded) id.
  std::string history_id;
  // The name crm_simulate prints for the resource: the graph's id for an anonymous instance is
  // the configured one, which it prints while some resource or history goes by it, else the
  // instance's own (or the one its history was found under).
  std::string shown_as;
  std::string task;  // start, stop, monitor, promote, demote, migrate_to, stonith, ...
  std::string node;  // empty for pseudo actions that belong to no node
  std::int64_t interval_ms = 0;
  bool pseudo = false;
  bool probe = false;      // a one-shot monitor that finds out whether rsc runs on node
  bool promoted = false;   // a monitor of the promoted role: success is OCF_RUNNING_PROMOTED (8)
  std::string fence_type;  // "reboot", "off" for fencing
  std::string why;         // what caused this action (constraint, failure, score)
  std::vector<int> after;  // ids of the actions this one waits for
  // CRM_meta_* attributes the agent gets beyond the executor's own, without the prefix: for
  // notifying clones, notify_type, notify_operation, notify_start_resource, ...
  std::map<std::string, std::string> meta;
};

// A resource's change as crm_simulate's Transition Summary shows it.
struct SummaryLine {
  std::string verb;     // Start, Stop, Move, Recover, Restart, Promote, Demote, Migrate, Fence
  std::string subject;  // resource id, or "(reboot) node" for fencing
  std::string details;  // "node1", "node1 -> node2", ...
  std::string reason;   // "due to node availability", "blocked", ... or empty
  std::string why;      // what caused it, as --explain says of its action
};

struct Score {
  std::string resource, node;
  int value = 0;
};

struct TransitionGraph {
  std::vector<GraphAction> actions;  // runnable, non-optional actions only
  std::vector<SummaryLine> summary;
  std::vector<Score> scores;  // allocation scores per resource and node, when asked for
  std::vector<std::string> warnings;
  // What Pacemaker's scheduler logs as an error: a resource active on several nodes, a failed
  // stop nothing can recover, a shutdown held back by a stop that cannot run.
  std::vector<std::string> errors;
  bool empty() const { return actions.empty(); }
};

// The allocation scores (crm_simulate --show-scores) are kept only when asked for: 320 000 of them
// at 32 nodes and 10 000 resources, which nothing else reads.
enum class Scores { Skip, Keep };
TransitionGraph schedule(const cib::Cib& cib, Millis now, Scores scores = Scores::Skip);

// Whether the cluster fences without a device, given its cluster options (a name missing means
// its default): Pacemaker's have-watchdog=true (its word that SBD runs), or a nonzero
// stonith-watchdog-timeout or fencing-watchdog-timeout, which vigil's CIB service accepts only
// with a watchdog (daemon/lease_settings.h). With it, stonith-enabled needs no fence device.
bool watchdog_fencing(const std::map<std::string, std::string>& cluster_options);

// crm_simulate's clock: the CIB's execution-date (seconds) when present, else `fallback`.
Millis effective_now(const cib::Cib& cib, Millis fallback);

// The cluster status as crm_mon prints it ("Node List", "Full List of Resources"), for the CIB
// as it stands. Lines are indented the way crm_simulate indents its sections.
std::vector<std::string> cluster_status(const cib::Cib& cib, Millis now);
// The same status as data, for crm_mon's other views (by node, XML, JSON) and the operations
// CLI: every node with its state, every resource tree with its role and where it runs, and the
// fail counts recorded in the nodes' attributes.
struct NodeState {
  std::string id, name;
  bool online = false, standby = false, maintenance = false, pending = false, unclean = false;
  bool shutdown = false, expected_up = false, is_dc = false;
  int resources_running = 0;
  std::string status;  // crm_mon's words: "online", "standby", "OFFLINE (maintenance)", ...
  std::string health;  // green, yellow or red
};
struct ResourceState {
  std::string id, kind;  // kind: "primitive", "group", "clone"
  std::string agent;     // class[:provider]:type, primitives only
  std::string role;      // Started, Stopped, Promoted, ... (a group or clone: its highest)
  std::string target_role;  // its target-role meta attribute, inherited from its parents; or ""
  bool active = false, orphaned = false, blocked = false, managed = true, failed = false;
  bool failure_ignored = false, disabled = false, promotable = false, unique = false;
  int migration_threshold = 0;
  std::vector<std::string> nodes;  // the nodes it runs on, by name
  std::vector<ResourceState> children;
  std::string line;  // the primitive's crm_mon line as in cluster_status (without "* ")
};
struct FailCount {
  std::string node, resource;
  int count = 0;
  std::int64_t last_failure = 0;  // seconds since the epoch, 0 when unknown
  int migration_threshold = 0;
};
// A location constraint's negative score for a resource on a node, as crm_mon's ban list shows
// it (id: the constraint's, or its rule's when the rule placed it).
struct LocationBan {
  std::string id, resource, node;
  int weight = 0;
  bool promoted_only = false;
};
struct ClusterState {
  std::vector<NodeState> nodes;          // sorted by name as crm_mon sorts them
  std::vector<ResourceState> resources;  // top level, in crm_mon's order
  std::vector<FailCount> fail_counts;
  std::vector<LocationBan> bans;  // in crm_mon's order: the last constraint first, nodes by name descending
  int instances = 0, disabled = 0, blocked = 0;  // primitives configured
  bool have_quorum = false, stonith_enabled = true, symmetric = true, maintenance_mode = false;
  bool stop_all = false;
  std::string no_quorum_policy;
};
ClusterState cluster_state(const cib::Cib& cib, Millis now);

// Pacemaker's scores: INFINITY is 1000000, and every score is clamped to ±INFINITY.
inline constexpr int kInfinity = 1000000;
// "INFINITY", "+INFINITY", "-INFINITY", integers; anything else is 0.
int parse_score(std::string_view text);

// What vigild knows of a node now: newer than what the DC last wrote into the status section.
struct NodeFact {
  std::string id, name;
  bool online = false;
};
// The CIB with those facts applied, as status views show it: nodes the CIB lacks are added, each
// node's membership is the one given, and quorum too when known.
cib::Cib with_membership(const cib::Cib& cib, const std::vector<NodeFact>& nodes,
                         std::optional<bool> quorate);
// crm_simulate's "N of M resource instances DISABLED and K BLOCKED ..." line, or "" when none.
std::string disabled_line(const cib::Cib& cib, Millis now);

// Carries out every action of the graph as if it succeeded, the way crm_simulate's graph executor
// does: returns the order in which the actions fired and the CIB with its status section updated.
struct Execution {
  std::vector<int> fired;  // action ids in firing order
  cib::Cib revised;
};
Execution execute(const cib::Cib& cib, const TransitionGraph& graph);

// The whole of `crm_simulate -x FILE -S` as text lines: status before, Transition Summary,
// the actions in firing order, status after. `fallback_now` is used when the CIB has no
// execution-date.
std::vector<std::string> simulate_report(const cib::Cib& cib, Millis fallback_now);

// An OCF result code in crm_mon's words: "ok", "not running", "not installed", ...
const char* ocf_result_text(int rc);

// One summary line formatted as crm_simulate prints it (without the leading "  * ").
std::string format_summary_line(const SummaryLine& line, std::size_t rsc_width,
                                std::size_t detail_width);
std::vector<std::string> format_summary(const std::vector<SummaryLine>& lines);

}  // namespace vigil::scheduler
