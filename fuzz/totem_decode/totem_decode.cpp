// Fuzzes the totem frame decoder, and a Ring fed the decoded-or-not bytes: neither may crash,
// and whatever decodes must encode back to the same bytes.
#include <cstdint>
#include <cstdlib>

#include "totem/totem.h"
#include "totem/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::totem;
  const std::span<const std::uint8_t> bytes(data, size);
  auto packet = wire::decode(bytes);
  if (packet) {
    const Bytes again = wire::encode(*packet);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  }
  static Ring ring = [] {
    Ring r(1, TotemSettings{}, vigil::Rng(1));
    (void)r.step(Start{0});
    return r;
  }();
  static vigil::Millis now = 0;
  now += 1;
  const NodeId from = packet ? packet->header.sender : 2;
  (void)ring.step(FrameReceived{from, bytes, now});
  ring.check_invariants();
  return 0;
}
