// votequorum's messages from peers, as the ring delivers them: the input is a sequence of records,
// each a sender byte, a length byte and that many message bytes. Decoding never crashes (wrong
// magic, version, kind, truncation and trailing bytes are refused) and bounds expected votes; every
// decoded report encodes back to its bytes; a three-node votequorum fed them keeps its figures
// consistent (quorum is a majority of the highest expectation it heard, which no report can raise
// beyond kMaxExpectedVotes).
#include <algorithm>
#include <cstdint>
#include <span>

#include "quorum/quorum.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::quorum;
  Settings settings;
  for (NodeId id = 1; id <= 3; ++id) settings.nodelist.push_back({id, 1});
  auto vq = Votequorum::create(settings);
  VIGIL_ASSERT(vq.ok());
  vq->membership(0, {1, 2, 3});
  std::span<const std::uint8_t> in(data, size);
  while (in.size() >= 2 && in.size() - 2 >= in[1]) {
    const NodeId sender = 1 + in[0] % 4;  // 4: a node outside the membership
    const auto body = in.subspan(2, in[1]);
    in = in.subspan(2 + body.size());
    auto report = decode_report(body);
    if (!report) continue;
    VIGIL_ASSERT(report->expected_votes >= 1 && report->expected_votes <= kMaxExpectedVotes);
    const auto again = encode_report(*report);
    VIGIL_ASSERT(std::equal(again.begin(), again.end(), body.begin(), body.end()));
    vq->peer(sender, *report);
    const auto& s = vq->status();
    VIGIL_ASSERT(s.highest_expected <= kMaxExpectedVotes && s.highest_expected >= s.expected_votes);
    VIGIL_ASSERT(s.quorum == s.highest_expected / 2 + 1 || s.flags.two_node);
    VIGIL_ASSERT(s.quorate == (s.total_votes >= s.quorum));
  }
  // The partition shrinks: reports of nodes gone are dropped.
  vq->membership(1, {1});
  VIGIL_ASSERT(vq->status().total_votes == 1);
  return 0;
}
