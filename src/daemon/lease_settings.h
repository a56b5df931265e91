// lease_settings: the watchdog lease's settings (node/lease.h, Rule 4) read from their two homes —
// this node's corosync.conf (the watchdog) and the replicated CIB (watchdog fencing). The check
// runs where both are at hand: in the CIB service before a client's change goes out (the
// replica's own validation runs on every node and must not depend on one node's local file, or
// the copies would diverge), and in the node's controller part (node/controller_part.h), which turns watchdog
// fencing on for the DC only while the CIB it holds passes the check against this node's file.
#pragma once

#include "cib/cib.h"
#include "config/config.h"
#include "node/lease.h"

namespace vigil::daemon {

node::WatchdogConfig watchdog_config(const config::ClusterConfig& cfg);
// Rule 4 for a change: an error when `next` is unsafe with this node's file and its lease
// settings differ from `current`'s (a change that leaves them alone is not held hostage).
Result<void> check_change(const config::ClusterConfig& cfg, const cib::Cib& current,
                          const cib::Cib& next);

}  // namespace vigil::daemon
