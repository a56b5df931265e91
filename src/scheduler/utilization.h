// utilization: placement-strategy — nodes offer capacities (their <utilization> sets), resources
// use some of them, and under "utilization", "minimal" or "balanced" a resource may only go where
// enough capacity remains (Pacemaker's pcmk_sched_utilization.c rules).
#pragma once

#include "scheduler/model.h"

namespace vigil::scheduler {

// Reads the nodes' capacities and the primitives' utilization from the configuration.
void read_utilization(Working& w);

// Bans r from available nodes without room for it and the unassigned resources that must run
// with it (or, when no node has room for them all, for r alone). Returns the node with the
// most free capacity in that second case, else -1.
int ban_insufficient_capacity(Working& w, Resource& r);

// Negative when node a has more free capacity than node b, positive when less.
int compare_capacities(const Node& a, const Node& b);

// A resource placed on, or taken off, a node uses or frees its capacity.
void consume_capacity(Node& node, const Resource& r);
void release_capacity(Node& node, const Resource& r);

// Pacemaker's utilization constraints: under a placement strategy other than default, each node
// that a resource using capacity runs on or may run on gets a load_stopped pseudo-action, made
// before any other action (create), which waits for those resources' stops there and which their
// starts and migrations there wait for (order, once those actions exist).
void create_load_stopped(Working& w);
void order_load_stopped(Working& w);

}  // namespace vigil::scheduler
