// The witness channel's frames (daemon/witness_frame.h) as `vigil witness` and vigild's device
// service read them: a head checked for a sealed frame of a witness message's size, the frame
// opened with the witness keys of a fixed authkey, and the ask and answer decoders behind the
// seal — on the raw input and on the input sealed one way, so the decoders are reached. Nothing
// crashes; a sealed frame opens only with its own direction's key, to what was sealed.
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "daemon/witness_frame.h"
#include "quorum/witness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil;
  const std::span<const std::uint8_t> in(data, size);
  std::array<std::uint8_t, 64> authkey{};
  authkey[0] = 1;
  const auto keys = config::witness_keys(authkey);
  VIGIL_ASSERT(keys.ok());
  if (size >= config::kJoinHead) {
    if (auto body = daemon::witness_body(in.first(config::kJoinHead))) {
      VIGIL_ASSERT(*body <= daemon::kMaxWitnessBody);
      if (size == config::kJoinHead + *body) {
        if (auto text = config::open_frame(keys->to_witness, in)) (void)quorum::decode_ask(*text);
        if (auto text = config::open_frame(keys->to_node, in)) (void)quorum::decode_answer(*text);
      }
    }
  }
  if (size + 64 > config::kMaxJoinBody) return 0;  // sealed_frame's own limit
  const auto frame = config::sealed_frame(keys->to_witness, in);
  auto body = daemon::witness_body(std::span(frame).first(config::kJoinHead));
  VIGIL_ASSERT(body.ok() == (frame.size() - config::kJoinHead <= daemon::kMaxWitnessBody));
  auto opened = config::open_frame(keys->to_witness, frame);
  VIGIL_ASSERT(opened && std::equal(opened->begin(), opened->end(), in.begin(), in.end()));
  VIGIL_ASSERT(!config::open_frame(keys->to_node, frame));
  (void)quorum::decode_ask(*opened);
  return 0;
}
