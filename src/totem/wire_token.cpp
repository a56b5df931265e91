// Token body: ring, u64 token_seq, u64 seq, u64 aru, u32 aru_id, u32 fcc, u32 backlog,
// u32 clean_hops, u16 count + u64 retransmission requests.
#include "totem/wire.h"

namespace vigil::totem::wire {

void encode_body(Writer& w, const TokenFrame& f) {
  w.ring(f.ring);
  w.u64(f.token_seq);
  w.u64(f.seq);
  w.u64(f.aru);
  w.u32(f.aru_id);
  w.u32(f.fcc);
  w.u32(f.backlog);
  w.u32(f.clean_hops);
  VIGIL_ASSERT(f.rtr.size() <= kMaxList);
  w.u16(static_cast<std::uint16_t>(f.rtr.size()));
  for (Seq s : f.rtr) w.u64(s);
}

TokenFrame decode_token(Reader& r) {
  TokenFrame f;
  f.ring = r.ring("token ring");
  f.token_seq = r.u64("token_seq");
  f.seq = r.u64("token seq");
  f.aru = r.u64("token aru");
  f.aru_id = r.u32("token aru_id");
  f.fcc = r.u32("token fcc");
  f.backlog = r.u32("token backlog");
  f.clean_hops = r.u32("token clean_hops");
  const std::size_t n = r.count("token rtr", kMaxList);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const Seq s = r.u64("token rtr entry");
    if (r.ok() && (s == 0 || s > f.seq)) r.reject("token rtr entry outside 1..seq");
    f.rtr.push_back(s);
  }
  if (r.ok() && f.aru > f.seq) r.reject("token aru above seq");
  return f;
}

}  // namespace vigil::totem::wire
