// The small control frames. Leave and HoldCancel: ring. MergeDetect: ring, members (u16 + u32s).
#include "totem/wire.h"

namespace vigil::totem::wire {

void encode_body(Writer& w, const LeaveFrame& f) {
  w.ring(f.ring);
}
void encode_body(Writer& w, const HoldCancelFrame& f) {
  w.ring(f.ring);
}
void encode_body(Writer& w, const MergeDetectFrame& f) {
  w.ring(f.ring);
  w.nodes(f.members);
}

LeaveFrame decode_leave(Reader& r) {
  return LeaveFrame{r.ring("leave ring")};
}
HoldCancelFrame decode_hold_cancel(Reader& r) {
  return HoldCancelFrame{r.ring("hold-cancel ring")};
}
MergeDetectFrame decode_merge_detect(Reader& r) {
  MergeDetectFrame f;
  f.ring = r.ring("merge-detect ring");
  f.members = r.nodes("merge-detect members");
  if (r.ok() && f.members.empty()) r.reject("merge-detect without members");
  return f;
}

}  // namespace vigil::totem::wire
