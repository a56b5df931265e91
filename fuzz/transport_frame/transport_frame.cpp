// Arbitrary datagrams into a FrameReceiver, sealed and plain (messages and link probes): no crash,
// no leak, counters add up.
#include <cstdint>
#include <span>

#include "transport/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::transport;
  static const FrameKey key = FrameKey::derive(Bytes(256, 0x5a)).value();
  static FrameReceiver sealed(9, key);
  static FrameReceiver plain(9, std::nullopt);
  const std::span<const std::uint8_t> datagram(data, size);
  (void)decode_header(datagram);
  (void)sealed.accept(datagram, 0);
  (void)plain.accept(datagram, static_cast<vigil::Millis>(size));
  plain.expire(static_cast<vigil::Millis>(size));
  VIGIL_ASSERT(plain.counters().messages + plain.counters().probes <= plain.counters().frames);
  return 0;
}
