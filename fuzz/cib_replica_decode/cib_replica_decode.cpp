// Fuzz the replicated CIB's message decoder: any bytes give a message or an error, never a crash;
// a message that decodes encodes back to the same bytes (the encoding is canonical).
#include <cstdint>
#include <string_view>

#include "cib/replica.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = vigil::cib::decode_message(bytes);
  if (m) VIGIL_ASSERT(vigil::cib::encode_message(*m) == bytes);
  return 0;
}
