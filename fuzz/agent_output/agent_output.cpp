// What agents print, as the executor reads it: an init script's LSB header, `systemctl show`
// output, and an OCF agent's stderr with its ocf-exit-reason lines. Nothing crashes; the exit
// reason, which goes into the CIB, is always text the CIB accepts, and a reason the agent gave on
// a line of its own comes through unchanged when it is such text already.
#include <cstdint>
#include <sstream>
#include <string>

#include "common/xml_text.h"
#include "executor/agent.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ex = vigil::executor;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream script(text);
  const auto info = ex::parse_init_info(script);
  VIGIL_ASSERT(info.short_description.size() <= text.size());
  (void)ex::show_value(text, "ActiveState");
  const auto state = ex::systemd_state_to_ocf(0, text);
  VIGIL_ASSERT(state == ex::OcfCode::Ok || state == ex::OcfCode::NotRunning ||
               state == ex::OcfCode::NotInstalled);
  ex::ActionResult result;
  result.err = text;
  const auto reason = ex::exit_reason(result);
  VIGIL_ASSERT(vigil::valid_xml_text(reason));
  result.err = "noise\nocf-exit-reason:" + reason + "\n";
  VIGIL_ASSERT(ex::exit_reason(result) == reason.substr(0, reason.find('\n')));
  return 0;
}
