// scheduler: Pacemaker's placement decisions as a pure function of the CIB and the time —
// schedule(cib, now) reads the configuration and the status section and returns the transition
// graph: the actions that bring the cluster to where it should be, each with the ordering edges it
// waits for and the reason it exists. No I/O, no clocks: `now` is passed in.
//
// The work runs as a pipeline of stages (see stages.h): unpack the status into the current state,
// score the nodes for every resource, place the resources, create the actions, order them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::scheduler {

enum class Role { Unknown, Stopped, Started, Unpromoted, Promoted };

struct GraphAction {
  int id = 0;
  std::string key;       // Pacemaker's key: rsc_start_0, rsc_monitor_10000, grp_running_0, ...
  std::string resource;  // empty for node actions (fencing, shutdown)
  std::string task;      // start, stop, monitor, promote, demote, migrate_to, stonith, ...
  std::string node;      // empty for pseudo actions that belong to no node
  std::int64_t interval_ms = 0;
  bool pseudo = false;
  bool probe = false;      // a one-shot monitor that finds out whether rsc runs on node
  std::string fence_type;  // "reboot", "off" for fencing
  std::string why;         // what caused this action (constraint, failure, score)
  std::vector<int> after;  // ids of the actions this one waits for
};

// A resource's change as crm_simulate's Transition Summary shows it.
struct SummaryLine {
  std::string verb;     // Start, Stop, Move, Recover, Restart, Promote, Demote, Migrate, Fence
  std::string subject;  // resource id, or "(reboot) node" for fencing
  std::string details;  // "node1", "node1 -> node2", ...
  std::string reason;   // "due to node availability", "blocked", ... or empty
};

struct Score {
  std::string resource, node;
  int value = 0;
};

struct TransitionGraph {
  std::vector<GraphAction> actions;  // runnable, non-optional actions only
  std::vector<SummaryLine> summary;
  std::vector<Score> scores;  // allocation scores per resource and node
  std::vector<std::string> warnings;
  bool empty() const { return actions.empty(); }
};

TransitionGraph schedule(const cib::Cib& cib, Millis now);

// crm_simulate's clock: the CIB's execution-date (seconds) when present, else `fallback`.
Millis effective_now(const cib::Cib& cib, Millis fallback);

// The cluster status as crm_mon prints it ("Node List", "Full List of Resources"), for the CIB
// as it stands. Lines are indented the way crm_simulate indents its sections.
std::vector<std::string> cluster_status(const cib::Cib& cib, Millis now);
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

// One summary line formatted as crm_simulate prints it (without the leading "  * ").
std::string format_summary_line(const SummaryLine& line, std::size_t rsc_width,
                                std::size_t detail_width);
std::vector<std::string> format_summary(const std::vector<SummaryLine>& lines);

}  // namespace vigil::scheduler
