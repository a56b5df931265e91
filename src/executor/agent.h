// How one action of one agent standard is carried out: which program with which arguments,
// environment and input, and how its exit status maps onto OCF codes. Internal to the executor.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <string>

#include "executor/executor.h"
#include "executor/process.h"

namespace vigil::executor {

struct Plan {
  // The process to run; empty when the answer needs none (`immediate` is the result then).
  std::optional<Command> command;
  std::function<OcfCode(int exit_status, const std::string& out)> interpret;
  ActionResult immediate;
};

// Never fails: an action that cannot run becomes an immediate NotExecuted result.
Plan plan_action(const Settings& settings, const ResourceAction& action);

// An alert agent's run: its rc is Ok when it exits 0, Error otherwise.
Plan plan_alert(const AlertAction& alert);

// Pacemaker's mapping of an LSB init script's exit status for `action`.
OcfCode lsb_to_ocf(std::string_view action, int exit_status);

// The LSB comment block of an init script ("### BEGIN INIT INFO" … "### END INIT INFO", read in
// its first 200 lines), which describes the script in its synthesized meta-data.
struct InitInfo {
  std::string short_description;
  std::string description;
};
InitInfo parse_init_info(std::istream& script);

// The value of NAME in `systemctl show` output ("NAME=value" lines), empty when absent.
std::string show_value(const std::string& out, std::string_view name);
// A systemd unit's state from `systemctl show --property=LoadState --property=ActiveState`.
OcfCode systemd_state_to_ocf(int exit_status, const std::string& out);

// The `meta-data` action of an agent, and its outcome read as meta-data.
ResourceAction metadata_action(const AgentSpec& agent);
Result<AgentMetadata> metadata_from(const AgentSpec& agent, const ActionResult& result);

// <run_dir>/rsctmp, the HA_RSCTMP the agents of this node share; created when missing.
std::string rsctmp_dir(const Settings& settings);
// Whether systemd manages this host (its run directory exists): then systemd: agents are offered.
bool systemd_running(const Settings& s);

}  // namespace vigil::executor
