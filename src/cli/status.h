// status: `vigil status` (crm_mon's layout, rendered by status/status.h from what this gathers)
// and `vigil cluster start|stop|status` for the local vigild.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "status/status.h"

namespace vigil::cli {

using status::crm_time;
using status::effective_cib;
using status::render_status;
using status::status_json;
using status::status_xml;
using status::StatusInput;
using status::StatusOptions;

// `vigil quorum status`: corosync-quorumtool -s's layout. `date` as it prints it.
std::string render_quorum(const nlohmann::json& status, const std::string& date);
// `vigil cluster status`: the local daemon, its ring, quorum, links and frame counters.
std::string render_local(const nlohmann::json& status);

}  // namespace vigil::cli
