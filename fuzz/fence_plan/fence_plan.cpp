// The fence plan the DC computes from the CIB: the input's first line is the node to fence, the
// rest a CIB (stonith devices with pcmk_host_map / pcmk_host_list, a fencing-topology with
// targets, patterns and attributes). Nothing crashes; every device in the plan is a configured
// stonith resource (in a CIB that validates), and every level holds one.
#include <cstdint>
#include <string>
#include <string_view>

#include "cib/cib.h"
#include "controller/fencing.h"

namespace {

// A primitive of class stonith with this id in the resources section. Looked up there, not by
// id in the whole document: a valid CIB may reuse a resource's id in a reference (an ACL role, a
// tag's obj_ref), which find_id could return first.
bool stonith_primitive(const vigil::cib::Cib& cib, const std::string& id) {
  bool found = false;
  vigil::cib::for_each_element(cib.configuration().child("resources"), [&](pugi::xml_node p) {
    found = found || (std::string_view(p.name()) == "primitive" && id == p.attribute("id").value() &&
                      std::string_view(p.attribute("class").value()) == "stonith");
  });
  return found;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto cib = cib::Cib::parse(text.substr(newline + 1), "fuzz");
  if (!cib) return 0;
  const std::string target(text.substr(0, newline));
  for (const auto& level : controller::fence_plan(*cib, target)) {
    VIGIL_ASSERT(!level.empty());
    for (const auto& device : level) VIGIL_ASSERT(stonith_primitive(*cib, device.id));
  }
  return 0;
}
