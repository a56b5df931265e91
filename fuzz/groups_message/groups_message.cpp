// Arbitrary ring payloads into process groups that have a local member: no crash, no leak.
#include <cstdint>
#include <span>

#include "groups/groups.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vigil::groups::ProcessGroups groups(1);
  (void)groups.delivered(1, groups.join("g", 7).value());
  const std::span<const std::uint8_t> payload(data, size);
  (void)groups.delivered(2, payload);
  (void)groups.delivered(1, payload);
  (void)groups.transitional({1}, {});
  (void)groups.regular({1}, {1, 4});
  return 0;
}
