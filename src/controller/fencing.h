// fencing: which stonith devices fence a node, and in what order, as Pacemaker's fencer chooses
// them. A plan is a list of levels tried in turn; a level succeeds when every device in it does.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "common/agent_spec.h"

namespace vigil::controller {

struct FenceDevice {
  std::string id;                             // the stonith primitive
  AgentSpec agent;                            // stonith:fence_ipmilan
  std::map<std::string, std::string> params;  // its parameters, with the target's port set
};

using FenceLevel = std::vector<FenceDevice>;

// The levels for `target`. With a fencing-topology naming the target (by name, pattern or node
// attribute): its levels by index. Without one: each device that may fence the target on its own
// (pcmk_host_list / pcmk_host_map when pcmk_host_check is static-list or they are set), highest
// priority first, then in configuration order. A device whose agent no executor could run (a
// name that is no file) counts as absent. Empty: nothing can fence it.
std::vector<FenceLevel> fence_plan(const cib::Cib& cib, const std::string& target);

}  // namespace vigil::controller
