// node/nodelist: the nodelist as the running cluster agrees on it, and a change to it ordered
// through the ring. Corosync changes its nodelist by an edited file on every node and a reload on
// each (corosync-cfgtool -R), and a node that reloads late sees another cluster meanwhile. Here a
// change is one ring message (Channel::Nodelist): every member checks and applies it at the same
// point of the total order, against the same list and the same ring, so all of them agree on
// whether it is taken and on the list after it. The shell then rewrites its corosync.conf.
//
// Why its own channel and not the CIB's replicated path: the nodelist is below the CIB — the
// transport's peers and votequorum's expected votes follow it, a node without a CIB has one, and
// votequorum's reports travel the same ring, so a change ordered among them leaves no moment where
// two members count votes by different lists.
//
// Wire format, version 1, integers little-endian:
//   "VNLC" u8:version=1 u8:kind u64:ticket u32:nodeid body
//   kind 1 add:    u8:name length, name | u8:address count (1..kMaxLinks), each u8:length, bytes
//   kind 2 remove: (no body)
// decode_change() refuses a wrong magic, version or kind, node id 0, an empty address, a count of
// addresses outside 1..kMaxLinks, truncation and trailing bytes. `ticket` is the proposer's own:
// only the node that sent the change reads it, to answer its client.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/common.h"

namespace vigil::node {

inline constexpr std::uint8_t kNodelistWireVersion = 1;
inline constexpr std::size_t kMaxRingAddresses = 8;  // ring0_addr … ring7_addr

struct ListedNode {
  std::uint32_t id = 0;
  std::string name;                    // may be empty (corosync.conf names it by ring0_addr)
  std::vector<std::string> addresses;  // by link: ring0_addr, ring1_addr …
  std::uint32_t votes = 1;             // quorum_votes
  bool operator==(const ListedNode&) const = default;
};

struct NodelistChange {
  enum class Kind : std::uint8_t { Add = 1, Remove = 2 };
  Kind kind = Kind::Add;
  ListedNode node;  // Remove: only `id` counts
  std::uint64_t ticket = 0;
  bool operator==(const NodelistChange&) const = default;
};

std::vector<std::uint8_t> encode_change(const NodelistChange& change);
Result<NodelistChange> decode_change(std::span<const std::uint8_t> bytes);

// The node `word` names in `list`: its node id, its name or its ring0_addr; an error naming it.
Result<ListedNode> find_listed(const std::vector<ListedNode>& list, const std::string& word);

// The lowest node id no listed node has, as pcs picks one for `cluster node add`.
std::uint32_t free_id(const std::vector<ListedNode>& list);

// `list` after `change`, or why the change cannot be taken, all-or-nothing: an added node's id,
// name and addresses must be new and it must have as many addresses as the listed nodes have
// links; a removed node must be listed, out of `ring` (stopped first) and not the last one.
Result<std::vector<ListedNode>> apply_change(const std::vector<ListedNode>& list,
                                             const NodelistChange& change,
                                             const std::vector<std::uint32_t>& ring);

// "node 4 (n4)": how messages name a node.
std::string describe(const ListedNode& node);

}  // namespace vigil::node
