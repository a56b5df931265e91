// What reaches the witness and the node once a sealed frame opened: the input's first byte picks
// the decoder (ask or answer), the rest is the message. Decoding never crashes and refuses short,
// long and malformed messages; every decoded message encodes back to its bytes; a witness fed the
// asks keeps one holder per cluster, grants only to it with a keeper among its members, and
// refuses the same ask sent twice.
#include <algorithm>
#include <cstdint>
#include <span>

#include "quorum/witness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::quorum;
  if (size < 1) return 0;
  const std::span<const std::uint8_t> body(data + 1, size - 1);
  if (data[0] % 2 == 1) {
    auto answer = decode_answer(body);
    if (!answer) return 0;
    const auto again = encode_answer(*answer);
    VIGIL_ASSERT(std::equal(again.begin(), again.end(), body.begin(), body.end()));
    return 0;
  }
  auto ask = decode_ask(body);
  if (!ask) return 0;
  VIGIL_ASSERT(std::is_sorted(ask->members.begin(), ask->members.end()));
  VIGIL_ASSERT(std::binary_search(ask->members.begin(), ask->members.end(), ask->node));
  const auto again = encode_ask(*ask);
  VIGIL_ASSERT(std::equal(again.begin(), again.end(), body.begin(), body.end()));
  Witness witness(0);
  const auto answer = witness.ask(0, *ask, ask->validity);
  VIGIL_ASSERT(answer.ok());
  VIGIL_ASSERT(answer->serial == ask->serial && answer->session == ask->session);
  VIGIL_ASSERT(answer->vote);  // alone after the grace: its ring is the only one reported
  VIGIL_ASSERT(std::binary_search(ask->members.begin(), ask->members.end(), answer->keeper));
  VIGIL_ASSERT(witness.clusters().at({0, ask->cluster}).holder == ask->members);
  VIGIL_ASSERT(!witness.ask(0, *ask, ask->validity + 1).ok());  // the same ask again: a replay
  return 0;
}
