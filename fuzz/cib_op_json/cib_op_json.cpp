// cib_commit's op as JSON (op_json.h): any JSON gives an op or an error naming the field, never a
// throw; an op that decodes encodes to JSON that decodes to the same op.
#include <cstdint>
#include <nlohmann/json.hpp>

#include "cib/op_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::cib;
  auto json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;
  auto op = op_from_json(json);
  if (!op) return 0;
  auto again = op_from_json(op_to_json(*op));
  VIGIL_ASSERT(again.ok() && *again == *op);
  // The wire form carries the same op.
  auto wire = decode(encode(*op));
  VIGIL_ASSERT(wire.ok() && *wire == *op);
  return 0;
}
