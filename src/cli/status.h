// status: `vigil status` (crm_mon's layout for what the membership layer knows) and
// `vigil cluster start|stop|status` for the local vigild. Rendering is split from asking the
// daemon so tests can render a known status.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vigil::cli {

// The crm_mon -1 header and node list for a `status` answer from vigild. `now` is the
// "Last updated" time, as crm_mon prints it (e.g. "Tue Nov 24 21:09:49 2026").
std::string render_status(const nlohmann::json& status, const std::string& now);
// The same facts as JSON: cluster (stack, current_dc, quorate, ring_id, nodes_configured), nodes.
nlohmann::json status_json(const nlohmann::json& status);
// `vigil quorum status`: corosync-quorumtool -s's layout. `date` as it prints it.
std::string render_quorum(const nlohmann::json& status, const std::string& date);
// `vigil cluster status`: the local daemon, its ring, quorum, links and frame counters.
std::string render_local(const nlohmann::json& status);

}  // namespace vigil::cli
