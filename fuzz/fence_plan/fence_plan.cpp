// The fence plan the DC computes from the CIB: the input's first line is the node to fence, the
// rest a CIB (stonith devices with pcmk_host_map / pcmk_host_list, a fencing-topology with
// targets, patterns and attributes). Nothing crashes; every device in the plan is a configured
// stonith resource (in a CIB that validates), and every level holds one.
#include <cstdint>
#include <string_view>

#include "cib/validate.h"
#include "controller/fencing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto cib = cib::Cib::parse(text.substr(newline + 1), "fuzz");
  if (!cib) return 0;
  const std::string target(text.substr(0, newline));
  // Ids name one element each only in a valid CIB.
  const bool valid = cib::validate(*cib).ok();
  for (const auto& level : controller::fence_plan(*cib, target)) {
    VIGIL_ASSERT(!level.empty());
    for (const auto& device : level) {
      if (!valid) continue;
      const auto found = cib->find_id(device.id);
      VIGIL_ASSERT(found && std::string_view(found.attribute("class").value()) == "stonith");
    }
  }
  return 0;
}
