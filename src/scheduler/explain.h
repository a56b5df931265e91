// explain: where the scheduler places each primitive and what decided it — standby and other
// node states, bans (cli-ban, cli-prefer and other locations), stickiness, fail-count against
// migration-threshold, colocations — in the words `vigil simulate --explain` and `vigil why`
// print. Pure, as the scheduler: `now` is passed in.
#pragma once

#include <string>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::scheduler {

struct Placement {
  std::string resource;
  std::string node;  // "" when it is to stop
  std::string why;
};

// Every primitive, in configuration order.
std::vector<Placement> placements(const cib::Cib& cib, Millis now);

}  // namespace vigil::scheduler
