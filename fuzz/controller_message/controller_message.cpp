// Arbitrary bytes as a controller message: decoding never crashes, and whatever decodes encodes
// back to the same bytes (the format has one spelling per message).
#include <cstdint>
#include <string_view>

#include "controller/controller.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = vigil::controller::decode(bytes);
  if (m.ok()) VIGIL_ASSERT(vigil::controller::encode(*m) == bytes);
  return 0;
}
