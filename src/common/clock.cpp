#include "common/clock.h"

#include <chrono>

namespace vigil {

Millis wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vigil
