// verify: what `vigil configure` checks in every change before it is committed, and what
// `configure verify` checks in the whole configuration, beyond the schema (cib::problems):
// primitives against their agent's meta-data (crmsh's checks: the agent exists, every parameter
// is one it declares, every required one is given), durations, and cluster options against
// Pacemaker's own list of them (crm_verify's checks).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "executor/executor.h"

namespace vigil::cli {

struct Finding {
  // Forceable is what crmsh's --force lets through: an agent's meta-data speaking against a
  // primitive (then a warning), crm_verify's errors about the cluster as a whole at a commit. An
  // error never passes.
  enum class Severity { Error, Forceable, Warning };
  Severity severity;
  std::string text;  // names the object and the word: "primitive d: parameter 'nonsense' …"
  auto operator<=>(const Finding&) const = default;
};

// Where the CLI finds agents for their meta-data: the directories vigild uses
// ($VIGIL_OCF_ROOT, else $OCF_ROOT, else /usr/lib/ocf; $VIGIL_FENCE_DIR).
executor::Settings agent_settings();
// [class:[provider:]]type, as crmsh reads it: no class means ocf, and an ocf agent without a
// provider is looked up among the providers (heartbeat preferred, as crmsh does).
Result<executor::AgentSpec> resolve_agent(const executor::Settings& settings,
                                          const std::string& text);

// The findings about the objects of `cib` (cluster options, resources, defaults), in document
// order: what a change is checked with.
std::vector<Finding> check_objects(const cib::Cib& cib, executor::MetadataCache& agents);
// check_objects and crm_verify's checks of the cluster as a whole (resources cannot start when
// stonith-enabled has no fence device): what `configure verify` reports.
std::vector<Finding> verify(const cib::Cib& cib, executor::MetadataCache& agents);
// crm_verify's checks of the cluster as a whole as a commit makes them, forceable: none while the
// configuration has no primitive (crmsh verifies a commit only once there are primitives).
std::vector<Finding> check_cluster(const cib::Cib& cib);

// The findings of `after` that `before` did not have: what one change brings with it (a problem
// the configuration already had does not block an unrelated change).
std::vector<Finding> new_findings(const std::vector<Finding>& before,
                                  const std::vector<Finding>& after);

// One cluster option (crm_config) against Pacemaker's list: an error for a value its type does not
// allow, a warning for a name Pacemaker does not know; nothing when it is fine.
std::optional<Finding> check_cluster_option(const std::string& name, const std::string& value);

}  // namespace vigil::cli
