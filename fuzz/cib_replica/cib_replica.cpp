// The CIB replica fed what its peers send, as the CIB service feeds it. The input is a sequence of
// events: a sender byte (which of three members; 0xff: a configuration change, whose next byte is
// the member mask), a 16-bit little-endian length and that many message bytes. Nothing crashes;
// whatever the replica holds after each event is a document check_document() accepts (so it can be
// persisted, answered and read back), and the digest it offers is that document's.
#include <cstdint>
#include <span>

#include "cib/replica.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::cib;
  const std::vector<vigil::groups::Member> all = {{1, 1}, {2, 1}, {3, 1}};
  Replica replica(all[0], Cib());
  auto check = [&](const ReplicaOutput& out) {
    VIGIL_ASSERT(check_document(replica.current()).ok());
    VIGIL_ASSERT(replica.digest() == replica.current().content_digest());
    for (const auto& bytes : out.send) VIGIL_ASSERT(decode_message(bytes).ok());
  };
  check(replica.change({"vigil.cib", all, all, {}, vigil::groups::Reason::Join}));
  std::span<const std::uint8_t> in(data, size);
  for (int events = 0; events < 64 && in.size() >= 3; ++events) {
    if (in[0] == 0xff) {
      std::vector<vigil::groups::Member> members;
      for (std::size_t i = 0; i < all.size(); ++i) {
        if ((in[1] >> i) & 1) members.push_back(all[i]);
      }
      in = in.subspan(2);
      check(replica.change({"vigil.cib", members, {}, {}, vigil::groups::Reason::Join}));
      continue;
    }
    const auto& sender = all[in[0] % all.size()];
    const std::size_t length = std::min<std::size_t>(in[1] | in[2] << 8, in.size() - 3);
    const auto body = in.subspan(3, length);
    in = in.subspan(3 + length);
    check(replica.message({"vigil.cib", sender, {body.begin(), body.end()}}));
  }
  return 0;
}
