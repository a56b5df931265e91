// Mcast body: one ordered message. Layout: ring(u32 rep, u64 seq) u64 seq u32 origin
// u8 flags(bit0 safe, bit1 recovered) u32 payload length, payload.
#include "totem/wire.h"

namespace vigil::totem::wire {

void encode_message(Writer& w, const Message& m) {
  w.ring(m.ring);
  w.u64(m.seq);
  w.u32(m.origin);
  w.u8(static_cast<std::uint8_t>((m.safe ? 1 : 0) | (m.recovered ? 2 : 0)));
  w.bytes(m.payload);
}

Message decode_message(Reader& r) {
  Message m;
  m.ring = r.ring("message ring");
  m.seq = r.u64("message seq");
  m.origin = r.u32("message origin");
  const std::uint8_t flags = r.u8("message flags");
  if (flags > 3) r.reject("unknown message flags");
  m.safe = (flags & 1) != 0;
  m.recovered = (flags & 2) != 0;
  // A recovered message wraps one older message, so it may be slightly larger than a payload.
  m.payload = r.bytes("message payload", kMaxPayload + 64);
  if (r.ok() && m.seq == 0) r.reject("message seq 0");
  if (r.ok() && !m.recovered && m.payload.size() > kMaxPayload) r.reject("oversized payload");
  return m;
}

Bytes encode_message(const Message& m) {
  Writer w;
  encode_message(w, m);
  return w.take();
}

Result<Message> decode_message(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  Message m = decode_message(r);
  if (r.ok() && m.recovered) r.reject("recovered message nested in a recovered message");
  if (r.ok() && r.remaining() != 0) r.reject("trailing bytes after message");
  if (!r.ok()) return fail("totem recovered message: " + r.error());
  return m;
}

void encode_body(Writer& w, const McastFrame& f) {
  encode_message(w, f.msg);
}

McastFrame decode_mcast(Reader& r) {
  McastFrame f;
  f.msg = decode_message(r);
  if (r.ok() && f.msg.recovered) {
    // Validate the wrapped message here, so the protocol only ever sees well-formed ones.
    auto inner = decode_message(f.msg.payload);
    if (!inner) r.reject(inner.error().message);
  }
  return f;
}

}  // namespace vigil::totem::wire
