// Arbitrary bytes as a control-socket stream: decode frame after frame until the input ends.
#include <cstdint>
#include <span>

#include "control/control.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  for (int frames = 0; frames < 64; ++frames) {
    auto decoded = vigil::control::decode_frame(in);
    if (!decoded.ok() || !*decoded) break;
    VIGIL_ASSERT((*decoded)->consumed <= in.size());
    in = in.subspan((*decoded)->consumed);
  }
  return 0;
}
