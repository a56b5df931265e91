// clock: the wall clock, for the shells only (daemon, CLI). The CIB records wall-clock seconds
// (last-rc-change, last-failure), so the time a shell passes into a core is this clock in
// milliseconds. Cores never include this header (scripts/check-purity.sh checks).
#pragma once

#include "common/common.h"

namespace vigil {

// Milliseconds since the Unix epoch, now.
Millis wall_clock_ms();

}  // namespace vigil
