// status: `vigil status` (crm_mon's layout, rendered by status/status.h from what this gathers)
// and `vigil cluster start|stop|status` for the local vigild.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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

// vigild: --vigild's value, else $VIGILD, else beside this vigil binary, else the PATH.
std::string vigild_path(const std::string& flag);
// Runs `args` (argv[0] looked up in the PATH) and waits; its exit code, or -1. vigild detaches
// and exits 0 only once it is up, or non-zero with the reason on stderr.
int spawn_and_wait(const std::vector<std::string>& args);

}  // namespace vigil::cli
