// report: crm_simulate -S on a CIB the caller gives up. A steady CIB of 32 nodes and 10 000
// resources holds 320 000 histories, some 400 MB parsed: the transition is carried out on that
// document itself rather than on a copy, and the schedule behind the report comes back with it.
#pragma once

#include <string>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {

// Whether carrying out `a` writes into the CIB's status: pseudo-actions and notifications do not.
bool recorded_in_status(const GraphAction& a);
// Carries out every action of the graph on `cib` itself, as execute() does on its copy; returns
// the action ids in firing order.
std::vector<int> carry_out(cib::Cib& cib, const TransitionGraph& graph);

struct SimulateReport {
  std::vector<std::string> lines;  // as simulate_report()
  TransitionGraph graph;           // the schedule the lines show
};
SimulateReport simulate_transition(cib::Cib&& cib, Millis fallback_now,
                                   Scores scores = Scores::Skip);

}  // namespace vigil::scheduler
