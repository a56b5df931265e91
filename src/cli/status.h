// status: `vigil status` (crm_mon's layout: the cluster summary, nodes, resources, failed
// actions, fail counts; text, XML or JSON) and `vigil cluster start|stop|status` for the local
// vigild. Rendering is split from gathering so tests can render a known CIB and daemon answer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::cli {

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
// The same facts as JSON: summary, nodes, resources, failures, fail_counts.
nlohmann::json status_json(const StatusInput& in);

// Pacemaker's "Tue Nov 24 21:09:49 2026" (local time) for seconds since the epoch.
std::string crm_time(std::int64_t seconds);

// `vigil quorum status`: corosync-quorumtool -s's layout. `date` as it prints it.
std::string render_quorum(const nlohmann::json& status, const std::string& date);
// `vigil cluster status`: the local daemon, its ring, quorum, links and frame counters.
std::string render_local(const nlohmann::json& status);

}  // namespace vigil::cli
