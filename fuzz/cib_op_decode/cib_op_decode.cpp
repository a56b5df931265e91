// Fuzz the CibOp wire decoder: any bytes give an op or an error, never a crash; an op that decodes
// encodes back to the same bytes (the encoding is canonical).
#include <cstdint>
#include <string_view>

#include "cib/op.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto op = vigil::cib::decode(bytes);
  if (op) VIGIL_ASSERT(vigil::cib::encode(*op) == bytes);
  return 0;
}
