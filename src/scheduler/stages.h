// stages: the scheduler pipeline. Each stage takes the previous stage's result and returns its
// own; the working set moves along so that nothing is copied.
//
//   unpack_status   CIB → Unpacked       current state: nodes, resources, history, failures
//   score_nodes     Unpacked → Scored    allowed nodes and scores (location, stickiness, failures)
//   place           Scored → Placed      a node (or none) for every resource, colocations applied
//   create_actions  Placed → Planned     start/stop/monitor/promote/demote/fence/... actions
//   order_actions   Planned → Ordered    ordering edges, with optional/runnable settled
//   build_graph     Ordered → TransitionGraph
#pragma once

#include "scheduler/model.h"

namespace vigil::scheduler {

struct Unpacked {
  Working w;
};
struct Scored {
  Working w;
};
struct Placed {
  Working w;
};
struct Planned {
  Working w;
};
struct Ordered {
  Working w;
};

Unpacked unpack_status(const cib::Cib& cib, Millis now);
Scored score_nodes(Unpacked in);
Placed place(Scored in);
Planned create_actions(Placed in);
Ordered order_actions(Planned in);
TransitionGraph build_graph(Ordered in);
// The whole pipeline from an unpacked CIB: a caller that also shows the status unpacks once.
TransitionGraph schedule(Unpacked in);
// Clone notifications (notify.cpp), added once the ordering has settled the actions' flags.
void create_notifications(Working& w);

// Where a resource was placed and what decided it, as --explain and `vigil why` say it.
std::string placement_why(const Working& w, const Resource& r);
// Why a node cannot take resources, in the cluster's words ("n1 is in standby"); "" when it can.
std::string unavailable_why(const Node& node);

std::vector<std::string> render_status(const Working& w);
std::string disabled_line(const Working& w);

// Failure count of rsc on node (sum over its operations), honouring failure-timeout when
// `effective`; `last_failure` receives the newest last-failure time (seconds) if any.
int fail_count(const Working& w, const Resource& rsc, const Node& node, bool effective,
               std::int64_t* last_failure = nullptr);

}  // namespace vigil::scheduler
