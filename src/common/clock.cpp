#include "common/clock.h"

#include <chrono>
#include <ctime>

namespace vigil {

Millis wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LocalZone local_zone_at(std::int64_t epoch_seconds) {
  const auto t = static_cast<std::time_t>(epoch_seconds);
  std::tm local{};
  if (::localtime_r(&t, &local) == nullptr) return {};
  return {static_cast<int>(local.tm_gmtoff), local.tm_zone ? local.tm_zone : "UTC"};
}

}  // namespace vigil
