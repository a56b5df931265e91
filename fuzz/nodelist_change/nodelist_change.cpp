// Nodelist changes as the ring delivers them (node/nodelist.h): the input is a sequence of
// records, each a ring byte (which of nodes 1..4 are in the ring), a length byte and that many
// message bytes. Decoding never crashes and refuses what is not a whole change; every decoded
// change encodes back to its bytes; applying it to a three-node list either fails whole or gives
// a list with unique ids, names and addresses, never empty, without a removed ring member.
#include <algorithm>
#include <cstdint>
#include <set>
#include <span>

#include "node/nodelist.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::node;
  std::vector<ListedNode> list{
      {1, "n1", {"127.0.0.1"}, 1}, {2, "n2", {"127.0.0.2"}, 1}, {3, "n3", {"127.0.0.3"}, 1}};
  std::span<const std::uint8_t> in(data, size);
  while (in.size() >= 2 && in.size() - 2 >= in[1]) {
    std::vector<std::uint32_t> ring;
    for (std::uint32_t id = 1; id <= 4; ++id) {
      if ((in[0] >> (id - 1) & 1) != 0) ring.push_back(id);
    }
    const auto body = in.subspan(2, in[1]);
    in = in.subspan(2 + body.size());
    auto change = decode_change(body);
    if (!change) continue;
    const auto again = encode_change(*change);
    VIGIL_ASSERT(std::equal(again.begin(), again.end(), body.begin(), body.end()));
    auto after = apply_change(list, *change, ring);
    if (!after) continue;
    VIGIL_ASSERT(!after->empty());
    std::set<std::uint32_t> ids;
    std::set<std::string> names, addresses;
    for (const auto& n : *after) {
      VIGIL_ASSERT(n.id != 0 && ids.insert(n.id).second);
      VIGIL_ASSERT(n.name.empty() || names.insert(n.name).second);
      for (const auto& a : n.addresses) VIGIL_ASSERT(addresses.insert(a).second);
    }
    if (change->kind == NodelistChange::Kind::Remove)
      VIGIL_ASSERT(std::find(ring.begin(), ring.end(), change->node.id) == ring.end());
    list = std::move(*after);
  }
  return 0;
}
