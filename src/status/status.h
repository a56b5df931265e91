// status: the cluster as crm_mon shows it — the summary, nodes, resources, failed actions, fail
// counts and tickets — in crm_mon's text layout, its XML and a JSON form, from the CIB and vigild's
// `status` answer. Pure rendering: `vigil status` gathers the inputs over the control socket,
// vigild's status page (daemon/http_service) passes its own, and tests pass known ones.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::status {

// What `vigil status` shows: the CIB (configuration and status) and, when vigild answered, its
// `status` (membership, quorum, node names), which wins over the CIB for who is online.
struct StatusInput {
  std::optional<cib::Cib> cib;
  nlohmann::json daemon;  // null without a daemon
  Millis now = 0;         // "Last updated", and the clock for failure timeouts
};

// crm_mon's display options, named as crmsh's `status` words: inactive (-r), failcounts (-f),
// bynode (-n). `crm_status`: the layout of `crm status` (crm_mon -1 -r when no option is given,
// and a blank line after).
struct StatusOptions {
  bool inactive = false, failcounts = false, by_node = false;
  bool crm_status = true;
};

// The CIB with the daemon's facts applied: nodes it knows that the CIB lacks, each node's
// membership, and quorum.
cib::Cib effective_cib(const StatusInput& in);

std::string render_status(const StatusInput& in, const StatusOptions& options);
// crm_mon --output-as=xml: <pacemaker-result> with summary, nodes, resources, node_history,
// failures, status. `request` is echoed in its request attribute.
std::string status_xml(const StatusInput& in, const std::string& request);
// The same facts as JSON: summary (with the cluster name), nodes, resources, failures,
// fail_counts, tickets.
nlohmann::json status_json(const StatusInput& in);

// Pacemaker's "Tue Nov 24 21:09:49 2026" (local time) for seconds since the epoch.
std::string crm_time(std::int64_t seconds);

// Pacemaker's words for an operation's execution status (op-status): "complete", "Timed Out"…
const char* exec_status_text(int status);

}  // namespace vigil::status
