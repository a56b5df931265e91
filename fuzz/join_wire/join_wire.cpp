// The join wire format (config/join.h) as a member's vigild and a joiner read it: the token, a
// frame's head, a whole frame opened with a fixed key, and the request and answer decoders — on
// the raw input and on the input sealed with that key, so the decoders behind the seal are
// reached. Nothing crashes; a decoded request or answer encodes back to the same bytes; a sealed
// frame opens to what was sealed.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

#include "config/join.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::config;
  const std::span<const std::uint8_t> in(data, size);
  JoinSecret secret{};
  secret[0] = 1;
  const auto keys = join_keys(secret);
  (void)parse_token(std::string_view(reinterpret_cast<const char*>(data), size));
  if (size >= kJoinHead) (void)parse_join_head(in.first(kJoinHead));
  (void)open_frame(keys.to_member, in);
  if (auto r = decode_join_request(in)) {
    const auto again = encode_join_request(*r);
    VIGIL_ASSERT(std::equal(again.begin(), again.end(), in.begin(), in.end()));
  }
  if (auto a = decode_join_answer(in); a && a->refused != "refused") {
    const auto again = encode_join_answer(*a);
    VIGIL_ASSERT(std::equal(again.begin(), again.end(), in.begin(), in.end()));
  }
  if (size + 64 <= kMaxJoinBody) {
    const auto frame = sealed_frame(keys.to_joiner, in);
    auto opened = open_frame(keys.to_joiner, frame);
    VIGIL_ASSERT(opened && std::equal(opened->begin(), opened->end(), in.begin(), in.end()));
    VIGIL_ASSERT(!open_frame(keys.to_member, frame));  // the other direction's key never opens it
    (void)decode_join_answer(*opened);
  }
  return 0;
}
