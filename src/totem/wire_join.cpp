// Join body: ring, u64 max_ring_seq, proc, fail, heard (each u16 count + u32 ids).
#include "totem/wire.h"

namespace vigil::totem::wire {

void encode_body(Writer& w, const JoinFrame& f) {
  w.ring(f.ring);
  w.u64(f.max_ring_seq);
  w.nodes(f.proc);
  w.nodes(f.fail);
  w.nodes(f.heard);
}

JoinFrame decode_join(Reader& r) {
  JoinFrame f;
  f.ring = r.ring("join ring");
  f.max_ring_seq = r.u64("join max_ring_seq");
  f.proc = r.nodes("join proc");
  f.fail = r.nodes("join fail");
  f.heard = r.nodes("join heard");
  if (r.ok() && f.proc.empty()) r.reject("join with empty proc set");
  return f;
}

}  // namespace vigil::totem::wire
