// clock: the wall clock, for the shells only (daemon, CLI). The CIB records wall-clock seconds
// (last-rc-change, last-failure), so the time a shell passes into a core is this clock in
// milliseconds. Cores never include this header (scripts/check-purity.sh checks).
#pragma once

#include <cstdint>
#include <string>

#include "common/common.h"

namespace vigil {

// Milliseconds since the Unix epoch, now.
Millis wall_clock_ms();
// Microseconds since the Unix epoch, now (alert timestamps carry the fraction of the second).
std::int64_t wall_clock_us();

// The local time zone at a moment: its offset east of UTC and its abbreviation ("CET").
struct LocalZone {
  int utc_offset = 0;
  std::string name = "UTC";
};
LocalZone local_zone_at(std::int64_t epoch_seconds);

}  // namespace vigil
