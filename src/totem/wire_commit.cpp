// Commit token body: ring, u8 rotation (1 or 2), u16 count, then per member: u32 node,
// u64 incarnation, old ring, u64 aru, u64 high, u8 filled.
#include "totem/wire.h"

namespace vigil::totem::wire {

void encode_body(Writer& w, const CommitFrame& f) {
  w.ring(f.ring);
  w.u8(f.rotation);
  VIGIL_ASSERT(f.members.size() <= kMaxList);
  w.u16(static_cast<std::uint16_t>(f.members.size()));
  for (const auto& m : f.members) {
    w.u32(m.node);
    w.u64(m.incarnation);
    w.ring(m.old_ring);
    w.u64(m.aru);
    w.u64(m.high);
    w.u8(m.filled ? 1 : 0);
  }
}

CommitFrame decode_commit(Reader& r) {
  CommitFrame f;
  f.ring = r.ring("commit ring");
  f.rotation = r.u8("commit rotation");
  if (r.ok() && f.rotation != 1 && f.rotation != 2) r.reject("commit rotation not 1 or 2");
  const std::size_t n = r.count("commit members", kMaxList);
  if (r.ok() && n == 0) r.reject("commit token without members");
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    CommitMember m;
    m.node = r.u32("commit member node");
    m.incarnation = r.u64("commit member incarnation");
    m.old_ring = r.ring("commit member old ring");
    m.aru = r.u64("commit member aru");
    m.high = r.u64("commit member high");
    m.filled = r.flag("commit member filled");
    if (r.ok() && m.aru > m.high) r.reject("commit member aru above high");
    if (r.ok() && !f.members.empty() && f.members.back().node >= m.node) {
      r.reject("commit members not in ascending order");
    }
    f.members.push_back(m);
  }
  if (r.ok() && f.members.front().node != f.ring.rep)
    r.reject("commit ring rep is not the first member");
  return f;
}

}  // namespace vigil::totem::wire
